"""The live checks agree with `validate`: LibreOffice recalculates filled workbooks, and each
count of the Contrôles sheet equals the number of issues `validate` reports with that code on
that sheet of the same file. Every check is broken in one of a few workbooks; the clean one shows 0 everywhere.

Workbooks are the template filled with the territory of tests/factory.py (then one mistake),
written with no cached results: a count read back that is not 0, and the « prêt » sentence of the
clean workbook, can only come from LibreOffice computing the formulas. One soffice call saves the
workbooks `validate` reads as .xlsx, another exports the probed copies' values as CSV.
"""

from __future__ import annotations

import copy
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import lo_profile
from engines import (
    ENGINES,
    Probe,
    Sheets,
    coloured,
    libreoffice,
    libreoffice_values,
    probe,
    recalculate,
)
from factory import make_workbook
from test_template_filled import sample

from pvd_reporting.check.checks import live_checks
from pvd_reporting.check.formulas import FORM, LiveCheck
from pvd_reporting.check.validate import validate_workbook
from pvd_reporting.format.issues import Severity
from pvd_reporting.format.schema import Kind, Schema
from pvd_reporting.outputs.workbook.carry import carried_content, next_period
from pvd_reporting.outputs.workbook.feedback import (
    ANOMALIES_NAME,
    CHANGED,
    RESTORED,
    STILL,
    write_feedback,
)
from pvd_reporting.outputs.workbook.template import filled_content, write_filled
from pvd_reporting.outputs.workbook.writer import (
    CONTROLS_ERRORS_ROW,
    CONTROLS_FIRST_ROW,
    CONTROLS_SENTENCE_ROW,
    CONTROLS_WARNINGS_ROW,
    READY,
    Content,
    layout_of,
    write_workbook,
)
from pvd_reporting.read.grid import unreadable_code
from pvd_reporting.read.workbook import read_workbook

Mutation = Callable[[Content, Schema], None]


def _set(table: str, i: int, **values: Any) -> Mutation:
    def mutate(content: Content, schema: Schema) -> None:
        content.tables[table][i].update(values)
    return mutate


def _form(**values: Any) -> Mutation:
    def mutate(content: Content, schema: Schema) -> None:
        content.form.update(values)
    return mutate


def _financing_over_cost(content: Content, schema: Schema) -> None:
    row = content.tables["engagements"][0]
    row["cost"] = sum(row.get(f.key) or 0 for f in schema.financer_fields) - 10


def _duplicate(content: Content, schema: Schema) -> None:
    rows = content.tables["engagements"]
    rows[2]["action_id"] = rows[0]["action_id"]
    rows[3]["action_id"] = rows[0]["action_id"]


def _no_lead(content: Content, schema: Schema) -> None:
    other = schema.lists["role_contact"][-1]
    for row in content.tables["annuaire"]:
        row["role"] = other


def _no_commune(content: Content, schema: Schema) -> None:
    content.tables["communes"] = []


def _terminated_without_end(content: Content, schema: Schema) -> None:
    row = content.tables["engagements"][2]
    row.update(status=schema.lists["statut_action"][4], end_on=None)


def _engaged_without_cost(content: Content, schema: Schema) -> None:
    content.tables["engagements"][1].update(status=schema.lists["statut_action"][2], cost=None)


def _drop_jalon(i: int) -> Mutation:
    def mutate(content: Content, schema: Schema) -> None:
        content.tables["jalons"][i] = {}
    return mutate


def _total(table: str, **values: Any) -> Mutation:
    def mutate(content: Content, schema: Schema) -> None:
        content.tables[table].append(values)
    return mutate


# name -> ((sheet key, code) the mistake breaks, how to make it)
CASES: dict[str, tuple[tuple[str, str], Mutation]] = {
    "territoire-required": ((FORM, "required-value"), _form(epci=None, name="  ")),
    "etp-low": ((FORM, "etp-below-threshold"), _form(etp=0.5)),
    "communes-required": (("communes", "required-value"), _set("communes", 1, role=None)),
    "communes-none": (("communes", "required-value"), _no_commune),
    "population": (("communes", "population-over-limit"), _set("communes", 0, population=25_000)),
    "jalons-code": (("jalons", "required-value"), _set("jalons", 3, code=None)),
    "jalons-j1": (("jalons", "required-value"), _set("jalons", 0, done_on=None)),
    "jalons-order": (("jalons", "milestones-out-of-order"), _set("jalons", 4, done_on=date(2024, 9, 1))),
    "jalons-future": (("jalons", "date-in-future"), _set("jalons", 5, done_on=date(2026, 1, 10))),
    "engagements-required": (("engagements", "required-value"), _set("engagements", 0, title=None, theme=None)),
    "duplicate-action": (("engagements", "duplicate-action"), _duplicate),
    "financing": (("engagements", "financing-exceeds-cost"), _financing_over_cost),
    "missing-cost": (("engagements", "missing-cost"), _engaged_without_cost),
    "dates-order": (("engagements", "dates-out-of-order"),
                    _set("engagements", 1, start_on=date(2025, 6, 1), end_on=date(2025, 1, 1))),
    "missing-end": (("engagements", "missing-end-date"), _terminated_without_end),
    "negative-engagement": (("engagements", "negative-amount"), _set("engagements", 3, fin_5=-100.0)),
    "comites-required": (("comites", "required-value"), _set("comites", 2, body=None)),
    "comites-future": (("comites", "meeting-after-update"), _set("comites", 5, date=date(2026, 1, 20))),
    "etat-absent": (("comites", "etat-absent"), _set("comites", 1, etat_present=False)),
    "ingenierie-required": (("ingenierie", "required-value"), _set("ingenierie", 1, need=None)),
    "unknown-action": (("ingenierie", "unknown-action"), _set("ingenierie", 0, action_id="Z99")),
    "negative-need": (("ingenierie", "negative-amount"), _set("ingenierie", 0, amount=-5.0)),
    "annuaire-required": (("annuaire", "required-value"), _set("annuaire", 1, name=None)),
    "email-no-at": (("annuaire", "invalid-email"), _set("annuaire", 0, email="claire.muller.hanau.fr")),
    "email-space": (("annuaire", "invalid-email"), _set("annuaire", 1, email="mairie @bouxwiller.eu")),
    "no-lead": (("annuaire", "no-project-lead"), _no_lead),
    # A total row is not data: no other check may count it (here its financing exceeds its cost).
    "total-engagements": (("engagements", "total-row"), _total("engagements", title="Total", cost=100.0,
                                                                fin_1=500.0)),
    "total-communes": (("communes", "total-row"), _total("communes", insee="Total", population=90_000)),
    "total-comites": (("comites", "total-row"), _total("comites", body="Total")),
    "total-ingenierie": (("ingenierie", "total-row"), _total("ingenierie", need="Sous-total", amount=-1.0)),
    "total-annuaire": (("annuaire", "total-row"), _total("annuaire", name="TOTAL général", email="x")),
    # What validate refuses and the workbook could not see before: text pasted where a number, a
    # date or a percent is expected, a value off the list, a SIREN key, an INSEE shape, a jalon row.
    "text-amount": (("engagements", "invalid-number"), _set("engagements", 1, cost="env. 200 k€")),
    "text-date": (("engagements", "invalid-date"), _set("engagements", 0, start_on="sept. 2025")),
    "text-form-date": ((FORM, "invalid-date"), _form(updated_on="fin décembre")),
    "text-percent": ((FORM, "invalid-percent"), _form(etp="quatre-vingts")),
    "percent-over": ((FORM, "invalid-percent"), _form(etp=150.0)),
    "text-population": (("communes", "invalid-number"), _set("communes", 1, population="environ 4000")),
    "text-need-amount": (("ingenierie", "invalid-number"), _set("ingenierie", 1, amount="à chiffrer")),
    "text-need-date": (("ingenierie", "invalid-date"), _set("ingenierie", 0, wanted_by="courant 2026")),
    "text-jalon-date": (("jalons", "invalid-date"), _set("jalons", 6, planned_on="2027 ?")),
    "text-comite-date": (("comites", "invalid-date"), _set("comites", 0, date="décembre")),
    "choice-off-list": (("engagements", "invalid-choice"), _set("engagements", 2, status="Lancée")),
    "siren-key": ((FORM, "invalid-siren"), _form(siren="200040492")),
    "siren-short": ((FORM, "invalid-siren"), _form(siren=20004049)),
    "insee-shape": (("communes", "invalid-insee"), _set("communes", 0, insee="67A61")),
    "insee-corse": (("communes", "invalid-insee"), _set("communes", 1, insee="20123")),
    "jalon-missing": (("jalons", "missing-milestone"), _drop_jalon(7)),
    "etat-empty": (("comites", "etat-absent"), _set("comites", 3, etat_present=None)),
    # « Prêt » while validate refused (issue 29): every cell a person fills on Territoire, one mail
    # rule, a percent pasted as 1.2 (120 %), an INSEE code typed with 4 digits.
    "department-name": ((FORM, "invalid-department"), _form(department="Meuse")),
    "period-text": ((FORM, "invalid-period"), _form(period="1er trim. 2026")),
    "pvd-id-space": ((FORM, "invalid-pvd-id"), _form(id_pvd="PVD 44-55-3")),
    "email-accent": (("annuaire", "invalid-email"), _set("annuaire", 2, email="andré.muller@mairie.fr")),
    "email-semicolon": (("annuaire", "invalid-email"), _set("annuaire", 2, email="mairie@bouxwiller.eu;")),
    "phone-short": (("annuaire", "invalid-phone"), _set("annuaire", 1, phone="03 88 12 34")),
    "percent-120": ((FORM, "invalid-percent"), _form(etp=1.2)),
    "insee-5518": (("communes", "insee-four-digits"), _set("communes", 1, insee=5518)),
    "percent-points": ((FORM, "percent-as-points"), _form(etp=80.0)),
    # Beyond a thousand billion euros the reader refuses an amount: a typo, never a PVD figure.
    "amount-huge": (("engagements", "invalid-number"), _set("engagements", 2, cost=2e12)),
}

# Formula errors typed in input cells, written into the file once it is written (a content holds
# values only): (sheet key, field key, 0-based data row or None for a new row below the data) ->
# the formula. The check that counts each is the one of `validate`'s code for its kind.
FORMULAS: dict[str, tuple[str, str, int | None, str]] = {
    "error-pvd-id": (FORM, "id_pvd", None, "=NA()"),
    "error-department": (FORM, "department", None, "=1/0"),
    "error-period": (FORM, "period", None, '=0+"x"'),
    "error-siren": (FORM, "siren", None, "=1/0"),
    "error-etp": (FORM, "etp", None, "=1/0"),
    "error-cofinancing": (FORM, "cofinancing", None, "=NA()"),
    "error-updated": (FORM, "updated_on", None, "=1/0"),
    "error-insee": ("communes", "insee", None, "=1/0"),
    "error-population": ("communes", "population", 0, "=1/0"),
    "error-role": ("communes", "role", 1, "=NA()"),
    "error-jalon-date": ("jalons", "planned_on", 7, "=NA()"),
    "error-cost": ("engagements", "cost", 0, "=1/0"),
    "error-status": ("engagements", "status", None, "=NA()"),
    "error-end": ("engagements", "end_on", 3, "=1/0"),
    "error-comite-date": ("comites", "date", None, "=1/0"),
    "error-body": ("comites", "body", None, "=NA()"),
    "error-need-amount": ("ingenierie", "amount", 0, "=1/0"),
    "error-need-status": ("ingenierie", "status", 2, "=NA()"),
    "error-need-date": ("ingenierie", "wanted_by", 1, "=1/0"),
    "error-phone": ("annuaire", "phone", 1, "=NA()"),
    "error-email": ("annuaire", "email", 2, "=1/0"),
    "error-contact-role": ("annuaire", "role", None, "=NA()"),
}


def _formula_target(schema: Schema, sheet: str, key: str) -> tuple[str, str]:
    kind = (schema.form.field(key) if sheet == FORM else schema.table(sheet).column(key)).kind
    code = "invalid-email" if kind == Kind.EMAIL else unreadable_code(kind)
    return sheet, code


# Workbooks, each with several mistakes far from one another: one LibreOffice load for each
# group keeps the test quick, and a count must agree with validate whatever else the file holds.
GROUPS: dict[str, tuple[str, ...]] = {
    "a": ("territoire-required", "communes-required", "jalons-code", "duplicate-action", "comites-required",
          "ingenierie-required", "email-no-at", "department-name", "email-accent", "percent-120"),
    "b": ("etp-low", "communes-none", "jalons-j1", "financing", "comites-future", "negative-need",
          "annuaire-required", "siren-short", "period-text", "email-semicolon"),
    # No other case of c sets the ETP or breaks an amount of Engagements: percent-over and
    # amount-huge are each alone to raise their code there.
    "c": ("missing-cost", "dates-order", "negative-engagement", "email-space", "text-date", "insee-shape",
          "siren-key", "jalon-missing", "pvd-id-space", "phone-short", "percent-over", "amount-huge"),
    "d": ("text-form-date", "text-percent", "text-population", "text-need-amount", "text-need-date",
          "text-jalon-date", "text-comite-date", "choice-off-list", "insee-corse", "engagements-required",
          "text-amount"),
    # Warnings only: the workbook is ready, with points to check.
    "w": ("population", "jalons-order", "jalons-future", "missing-end", "etat-absent", "unknown-action",
          "no-lead", "total-engagements", "total-communes", "total-comites", "total-ingenierie",
          "total-annuaire"),
    "w1": ("etat-empty", "insee-5518", "percent-points"),
}
# Workbooks holding formula errors (written in after the content).
FORMULA_GROUPS: dict[str, tuple[str, ...]] = {"f": tuple(FORMULAS)}
WARNINGS_ONLY = ("w", "w1")


def _key(check: LiveCheck) -> tuple[str, str]:
    return check.sheet, check.code


def _targets(schema: Schema) -> dict[str, tuple[str, str]]:
    """Each case, formula errors included, by name: the (sheet key, code) it breaks."""
    out = {name: target for name, (target, _) in CASES.items()}
    out.update({name: _formula_target(schema, sheet, key) for name, (sheet, key, _, _) in FORMULAS.items()})
    return out


def test_every_live_check_has_a_workbook_that_breaks_it(schema: Schema) -> None:
    assert {_key(c) for c in live_checks(schema)} == set(_targets(schema).values())


def test_every_case_is_in_one_workbook() -> None:
    grouped = [name for names in (*GROUPS.values(), *FORMULA_GROUPS.values()) for name in names]
    assert sorted(grouped) == sorted([*CASES, *FORMULAS])


def test_live_checks_are_declared_once_per_rule(schema: Schema) -> None:
    titles = [(c.sheet, c.title) for c in live_checks(schema)]
    assert len(titles) == len(set(titles))


@pytest.fixture(scope="module")
def contents(tmp_path_factory: pytest.TempPathFactory, schema: Schema) -> dict[str, Content]:
    """The clean content and one per group (its mistakes made), by name."""
    src = tmp_path_factory.mktemp("live-base")
    data, issues = read_workbook(make_workbook(src / "base-openpyxl.xlsx", schema), schema)
    assert data is not None and not issues
    clean, _ = filled_content(schema, data)
    out = {"clean": clean}
    for group, names in GROUPS.items():
        content = copy.deepcopy(clean)
        for name in names:
            CASES[name][1](content, schema)
        out[group] = content
    for group in FORMULA_GROUPS:
        out[group] = copy.deepcopy(clean)
    return out


def _write_formulas(path: Path, schema: Schema, content: Content, names: tuple[str, ...]) -> None:
    """Type each formula of `names` in its cell (a new row below the data for a row of None)."""
    wb = openpyxl.load_workbook(path)
    added: dict[str, int] = {}
    for name in names:
        sheet, key, row, formula = FORMULAS[name]
        if sheet == FORM:
            ws = wb[schema.form.name]
            ws.cell([f.key for f in schema.form.fields].index(key) + 1, 2).value = formula
            continue
        table = schema.table(sheet)
        if row is None:
            row = len(content.tables[sheet]) + added.get(sheet, 0)
            added[sheet] = added.get(sheet, 0) + 1
        wb[table.name].cell(row + 2, table.keys.index(key) + 1).value = formula
    wb.save(path)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory, schema: Schema, contents: dict[str, Content],
            carried_source: Path) -> dict[str, Path]:
    """The clean workbook and one workbook per group, as written (no cached results), with a copy
    of each holding its conditional formats as probe cells (`name-probe`); and the carried-forward
    workbook (`reconduit`), recalculated in the same engine calls as the others."""
    src = tmp_path_factory.mktemp("live-src")
    files = {}
    for name, content in contents.items():
        files[name] = write_workbook(src / f"{name}.xlsx", schema, content)
        if name in FORMULA_GROUPS:
            _write_formulas(files[name], schema, content, FORMULA_GROUPS[name])
    for name, content in contents.items():
        layout = layout_of(schema, content)
        rows = {k: range(2, len(v) + 5) for k, v in content.tables.items()}
        PROBES[name] = probe(files[name], src / f"{name}-probe.xlsx", schema, layout, rows)
        files[f"{name}-probe"] = src / f"{name}-probe.xlsx"
    files[carried_source.stem] = carried_source
    return files


# name -> the probe cells of its probe copy (filled by `sources`)
PROBES: dict[str, list[Probe]] = {}
ALL_GROUPS = [*GROUPS, *FORMULA_GROUPS]


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(engine, its program): LibreOffice, and Gnumeric standing in for Excel's rules."""
    name = request.param
    return name, request.getfixturevalue("soffice" if name == "libreoffice" else "ssconvert")


def _is_probe(stem: str) -> bool:
    return stem.endswith("-probe")


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory, sources: dict[str, Path], soffice: str) -> dict[str, Path]:
    """Each workbook but the probe copies as LibreOffice saved it after recalculating: what
    `validate` reads (formula errors have their cached value)."""
    files = [f for stem, f in sources.items() if not _is_probe(stem)]
    outs = libreoffice(soffice, files, tmp_path_factory.mktemp("live-saved"))
    return {f.stem: o for f, o in zip(files, outs, strict=True)}


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory: pytest.TempPathFactory, sources: dict[str, Path], saved: dict[str, Path],
                 engine: tuple[str, str]) -> dict[str, Sheets]:
    """Each case's workbook's values as the engine computed them, by case name. LibreOffice's
    probe copies are only read back: their values come as CSV, in a call of their own."""
    name, tool = engine
    if name == "libreoffice":
        probes = [f for stem, f in sources.items() if _is_probe(stem)]
        found = libreoffice_values(tool, probes, tmp_path_factory.mktemp("live-probes"))
        return {**found, **{stem: Sheets(path, sources[stem]) for stem, path in saved.items()}}
    return recalculate(name, tool, list(sources.values()), tmp_path_factory.mktemp(f"live-{name}"))


@dataclass(frozen=True)
class Shown:
    """What the Contrôles sheet shows once recalculated."""

    errors: Any
    warnings: Any
    sentence: Any
    counts: list[Any]
    cells: list[Any]  # every value of the sheet


def _shown(sheets: Sheets, schema: Schema, *, carried: bool = False) -> Shown:
    grid = sheets.grid(schema.controls_name)
    n = len(live_checks(schema, carried=carried))
    return Shown(grid[CONTROLS_ERRORS_ROW][1], grid[CONTROLS_WARNINGS_ROW][1], grid[CONTROLS_SENTENCE_ROW][0],
                 [grid[CONTROLS_FIRST_ROW + i][1] for i in range(n)], [v for row in grid for v in row])


def _by_key(schema: Schema, counts: list[Any]) -> Counter[tuple[str, str]]:
    total: Counter[tuple[str, str]] = Counter()
    for check, value in zip(live_checks(schema), counts, strict=True):
        total[_key(check)] += int(value)
    return total


def _report(path: Path, schema: Schema) -> tuple[Counter[tuple[str, str]], int]:
    """What `validate` reports on the recalculated workbook: issues by (sheet key, code), and
    the number of errors."""
    names = {schema.form.name: FORM, **{t.name: t.key for t in schema.tables}}
    report = validate_workbook(path, schema)
    found = Counter((names.get(i.sheet or "", ""), i.code) for i in report.issues)
    return found, sum(1 for i in report.issues if i.severity == Severity.ERROR)


@pytest.mark.libreoffice
@pytest.mark.gnumeric
def test_clean_workbook_is_ready(recalculated: dict[str, Sheets], sources: dict[str, Path],
                                 saved: dict[str, Path], schema: Schema) -> None:
    shown = _shown(recalculated["clean"], schema)
    assert shown.counts == [0] * len(shown.counts)
    assert shown.errors == 0 and shown.warnings == 0 and shown.sentence == READY
    assert not validate_workbook(sources["clean"], schema).issues
    assert not validate_workbook(saved["clean"], schema).issues


@pytest.mark.libreoffice
@pytest.mark.gnumeric
@pytest.mark.parametrize("group", ALL_GROUPS)
def test_counts_equal_validate(recalculated: dict[str, Sheets], saved: dict[str, Path], schema: Schema,
                               group: str) -> None:
    shown = _shown(recalculated[group], schema)
    # No formula error anywhere in Contrôles, whatever the tables hold.
    assert not [v for v in shown.cells if isinstance(v, str) and v.startswith("#")]
    assert all(isinstance(v, (int, float)) for v in shown.counts), shown.counts
    live = _by_key(schema, shown.counts)
    found, _ = _report(saved[group], schema)
    targets = _targets(schema)
    for name in (*GROUPS.get(group, ()), *FORMULA_GROUPS.get(group, ())):
        assert found[targets[name]] > 0, f"{name} ne provoque pas {targets[name]} dans validate"
    for key in {_key(c) for c in live_checks(schema)}:
        assert live[key] == found[key], f"{group} : {key} compte {live[key]}, validate {found[key]}"


@pytest.mark.libreoffice
@pytest.mark.gnumeric
@pytest.mark.parametrize("group", ["clean", *ALL_GROUPS])
def test_ready_exactly_when_validate_finds_no_error(recalculated: dict[str, Sheets], saved: dict[str, Path],
                                                   schema: Schema, group: str) -> None:
    """« Prêt » ⇔ no error from validate; warnings are points à vérifier, shown apart."""
    shown = _shown(recalculated[group], schema)
    _, errors = _report(saved[group], schema)
    levels = [c.level for c in live_checks(schema)]
    assert shown.errors == sum(n for n, lv in zip(shown.counts, levels, strict=True) if lv == Severity.ERROR)
    assert shown.warnings == sum(n for n, lv in zip(shown.counts, levels, strict=True) if lv == Severity.WARNING)
    assert (shown.errors == 0) == (errors == 0) == shown.sentence.startswith(READY[:-1])
    if group in WARNINGS_ONLY:
        n = int(shown.warnings)
        assert errors == 0 and n > 0
        points = "1 point à vérifier" if n == 1 else f"{n} points à vérifier"
        assert shown.sentence == f"{READY[:-1]} ({points})."
    elif errors:
        assert shown.sentence.startswith(f"{int(shown.errors)} erreur")


def _probed(sheets: Sheets, probes: list[Probe]) -> list[tuple[Probe, bool]]:
    return [(p, coloured(sheets.value(p.sheet, p.row - 1, p.column - 1))) for p in probes]


@pytest.mark.libreoffice
@pytest.mark.gnumeric
def test_conditional_formats_colour_nothing_in_a_clean_workbook(recalculated: dict[str, Sheets]) -> None:
    """Empty rows, prepared rows and filled rows alike: no colour where validate finds nothing."""
    shown = _probed(recalculated["clean-probe"], PROBES["clean"])
    assert len(shown) > 100
    wrong = [(p.check.title, p.sheet, p.row) for p, on in shown if on]
    assert not wrong


@pytest.mark.libreoffice
@pytest.mark.gnumeric
@pytest.mark.parametrize("group", list(GROUPS))
def test_conditional_formats_colour_each_mistake(recalculated: dict[str, Sheets], group: str) -> None:
    shown = _probed(recalculated[f"{group}-probe"], PROBES[group])
    lit = {(p.check.sheet, p.check.code) for p, on in shown if on}
    for name in GROUPS[group]:
        assert CASES[name][0] in lit, name


@pytest.mark.libreoffice
@pytest.mark.gnumeric
def test_every_live_check_counts_in_some_workbook(recalculated: dict[str, Sheets], schema: Schema) -> None:
    seen = [0] * len(live_checks(schema))
    for group in ALL_GROUPS:
        for i, value in enumerate(_shown(recalculated[group], schema).counts):
            seen[i] += int(value)
    silent = [c.title for c, n in zip(live_checks(schema), seen, strict=True) if n == 0]
    assert not silent


@pytest.mark.libreoffice
def test_percent_shows_what_is_read(tmp_path: Path, schema: Schema, soffice: str) -> None:
    """80 % as Excel stores it once 80 or 0,8 is typed in the cell: LibreOffice shows « 80 % »."""
    data = sample(schema)
    assert data.territory.values["etp"] == 80.0
    path = write_filled(tmp_path / "pourcent.xlsx", schema, data)
    sheet = schema.sheet_names.index(schema.form.name) + 1
    # Tokens: separator ;, quote ", UTF-8, …, 9th « as shown », 12th the sheet to export.
    options = f"csv:Text - txt - csv (StarCalc):59,34,76,1,,0,false,true,true,false,false,{sheet}"
    subprocess.run([soffice, f"-env:UserInstallation={lo_profile()}", "--headless",
                    "--convert-to", options, "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=180)
    rows = (tmp_path / f"pourcent-{schema.form.name}.csv").read_text(encoding="utf-8").splitlines()
    label = schema.form.field("etp").label
    shown = next(r.split(";")[1] for r in rows if r.startswith(label))
    assert shown.replace("\u00a0", " ") == "80 %"
    again, _ = read_workbook(path, schema)
    assert again is not None and again.territory.values["etp"] == pytest.approx(80.0)


@pytest.fixture(scope="module")
def carried_source(tmp_path_factory: pytest.TempPathFactory, schema: Schema) -> Path:
    """Last quarter's workbook carried to 2026-T1, its update date typed: one action still « En
    cours » past its end date, two jalons planned before that date and not realised."""
    src = tmp_path_factory.mktemp("carried")
    data, _ = read_workbook(make_workbook(src / "base.xlsx", schema), schema)
    assert data is not None
    content = carried_content(schema, data, next_period(data.territory.values["period"]))
    assert content.carried_from == data.territory.values["period"]
    content.form["updated_on"] = date(2026, 3, 20)
    content.tables["engagements"][0]["end_on"] = date(2026, 2, 28)
    return write_workbook(src / "reconduit.xlsx", schema, content)


@pytest.mark.libreoffice
@pytest.mark.gnumeric
def test_carried_workbook_points_at_what_to_update(recalculated: dict[str, Sheets], saved: dict[str, Path],
                                                   carried_source: Path, schema: Schema) -> None:
    sheets = recalculated[carried_source.stem]
    path = saved[carried_source.stem]  # as LibreOffice saved it, what validate reads
    checks = live_checks(schema, carried=True)
    grid = sheets.grid(schema.controls_name)
    readme = sheets.grid(schema.readme_name)
    counts = [grid[CONTROLS_FIRST_ROW + i][1] for i in range(len(checks))]
    live: Counter[tuple[str, str]] = Counter()
    for check, value in zip(checks, counts, strict=True):
        live[_key(check)] += int(value)
    found, errors = _report(path, schema)
    assert found[("engagements", "action-overdue")] == 1 and found[("jalons", "milestone-overdue")] == 2
    for key in {_key(c) for c in checks}:
        assert live[key] == found[key], f"{key} compte {live[key]}, validate {found[key]}"
    warnings = int(grid[CONTROLS_WARNINGS_ROW][1])
    assert errors == 0 and grid[CONTROLS_ERRORS_ROW][1] == 0 and warnings >= 3
    assert grid[CONTROLS_SENTENCE_ROW][0] == f"{READY[:-1]} ({warnings} points à vérifier)."
    assert ["Reconduit du trimestre", "2025-T4"] in [[c for c in r if c != ""][:2] for r in readme]


FEEDBACK_GROUPS = ("a", "c", "d", "w", "f")
# Far right of every sheet, beyond the live checks' probes.
MARK_PROBE_COLUMN = 160


def _mark_probes(src: Path, dst: Path, *, corrected: bool) -> list[tuple[str, int, int]]:
    """Copy a feedback workbook with each flagged cell's own conditional format as a probe cell
    on its row; `corrected`: each flagged cell holds something else. (sheet, row, probe column)."""
    wb = openpyxl.load_workbook(src)
    out = []
    for ws in wb.worksheets:
        used: dict[int, int] = {}
        for cf in ws.conditional_formatting:
            for rule in cf.rules:
                formula = rule.formula[0] if rule.formula else ""
                if not formula.startswith(("IF(ISERROR($", "IF(ISNUMBER($")):
                    continue
                cell = ws[str(cf.sqref)]
                column = used[cell.row] = used.get(cell.row, MARK_PROBE_COLUMN) + 1
                ws.cell(cell.row, column).value = "=" + formula
                out.append((ws.title, cell.row, column))
                if corrected:
                    cell.value = 12345 if cell.value in (None, "") else None
    wb.save(dst)
    return out


@pytest.fixture(scope="module")
def feedbacks(tmp_path_factory: pytest.TempPathFactory, saved: dict[str, Path], schema: Schema,
              soffice: str) -> dict[str, tuple[Sheets, Any]]:
    """Feedback workbooks of the saved groups, as LibreOffice recalculated them (with the report),
    and each one's flagged cells probed, as sent and once corrected. None is validated again: their
    values come as CSV, in one soffice call."""
    src = tmp_path_factory.mktemp("fb-src")
    files, reports, probes = [], {}, {}
    for group in FEEDBACK_GROUPS:
        reports[group] = validate_workbook(saved[group], schema)
        path = write_feedback(src / f"retour-{group}.xlsx", schema, reports[group])
        files.append(path)
        for corrected in (False, True):
            name = f"sonde-{group}-{int(corrected)}"
            probes[name] = _mark_probes(path, src / f"{name}.xlsx", corrected=corrected)
            files.append(src / f"{name}.xlsx")
    done = libreoffice_values(soffice, files, tmp_path_factory.mktemp("fb-out"))
    FEEDBACK_PROBES.update(probes)
    return {stem: (sheets, reports.get(stem.removeprefix("retour-"))) for stem, sheets in done.items()}


FEEDBACK_PROBES: dict[str, list[tuple[str, int, int]]] = {}


@pytest.mark.libreoffice
@pytest.mark.parametrize("group", FEEDBACK_GROUPS)
def test_feedback_controls_agree_with_its_anomalies(feedbacks: dict[str, tuple[Sheets, Any]], schema: Schema,
                                                    group: str) -> None:
    sheets, report = feedbacks[f"retour-{group}"]
    shown = _shown(sheets, schema)
    live = _by_key(schema, shown.counts)
    names = {schema.form.name: FORM, **{t.name: t.key for t in schema.tables}}
    anomalies = sheets.grid(ANOMALIES_NAME)[1:]
    # What the fresh template repaired by itself (a jalon row put back) is listed, not counted.
    listed = Counter((names.get(row[1], ""), row[5]) for row in anomalies if row and row[5] and row[7] != RESTORED)
    assert len(anomalies) == len(report.issues)
    for key in {_key(c) for c in live_checks(schema)}:
        assert live[key] == listed[key], f"{group} : {key} compte {live[key]}, Anomalies {listed[key]}"
    readme = " ".join(str(v) for row in sheets.grid(schema.readme_name) for v in row)
    assert f"l'onglet {ANOMALIES_NAME} les liste toutes" in readme


@pytest.mark.libreoffice
@pytest.mark.parametrize("group", FEEDBACK_GROUPS)
def test_feedback_cells_lose_their_colour_once_corrected(feedbacks: dict[str, tuple[Sheets, Any]], group: str) -> None:
    for corrected in (False, True):
        name = f"sonde-{group}-{int(corrected)}"
        sheets = feedbacks[name][0]
        probes = FEEDBACK_PROBES[name]
        assert probes
        lit = [coloured(sheets.value(sheet, row - 1, column - 1)) for sheet, row, column in probes]
        assert lit == [not corrected] * len(probes), (name, lit)
        # Each Anomalies row says, recalculated, whether its cell still holds what was flagged.
        rows = [row for row in sheets.grid(ANOMALIES_NAME)[1:] if row and row[7] not in ("", RESTORED)]
        assert rows and {row[8] for row in rows} == {CHANGED if corrected else STILL}, name
