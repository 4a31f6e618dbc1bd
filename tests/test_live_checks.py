"""The live checks agree with `validate`: LibreOffice recalculates filled workbooks, and each
count of the Contrôles sheet equals the number of issues `validate` reports with that code on
that sheet of the same file. Every check is broken in one of a few workbooks; the clean one shows 0 everywhere.

Workbooks are the template filled with the territory of tests/factory.py (then one mistake),
written with no cached results: a count read back that is not 0, and the « prêt » sentence of the
clean workbook, can only come from LibreOffice computing the formulas. One soffice call for all.
"""

from __future__ import annotations

import copy
import subprocess
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import lo_profile
from engines import ENGINES, Probe, coloured, probe, recalculate
from factory import make_workbook
from python_calamine import CalamineWorkbook
from test_template_filled import sample

from pvd_reporting.check.live import FORM, LiveCheck, live_checks
from pvd_reporting.check.validate import validate_workbook
from pvd_reporting.format.schema import Schema
from pvd_reporting.outputs.workbook.template import filled_content, write_filled
from pvd_reporting.outputs.workbook.writer import (
    CONTROLS_FIRST_ROW,
    READY,
    Content,
    layout_of,
    write_workbook,
)
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
    "comites-future": (("comites", "date-in-future"), _set("comites", 5, date=date(2026, 1, 20))),
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
}


# Workbooks, each with several mistakes far from one another: one LibreOffice load for each
# group keeps the test quick, and a count must agree with validate whatever else the file holds.
GROUPS: dict[str, tuple[str, ...]] = {
    "a": ("territoire-required", "population", "jalons-order", "duplicate-action", "comites-required",
          "unknown-action", "email-no-at"),
    "b": ("etp-low", "communes-required", "jalons-future", "financing", "etat-absent", "negative-need",
          "annuaire-required"),
    "c": ("communes-none", "jalons-j1", "missing-cost", "comites-future", "ingenierie-required", "email-space",
          "total-engagements"),
    "d": ("jalons-code", "engagements-required", "dates-order", "missing-end", "no-lead", "total-comites"),
    "e": ("negative-engagement", "total-communes", "total-ingenierie", "total-annuaire"),
}


def _key(check: LiveCheck) -> tuple[str, str]:
    return check.sheet, check.code


def test_every_live_check_has_a_workbook_that_breaks_it(schema: Schema) -> None:
    broken = {target for target, _ in CASES.values()}
    assert {_key(c) for c in live_checks(schema)} == broken


def test_every_case_is_in_one_workbook() -> None:
    grouped = [name for names in GROUPS.values() for name in names]
    assert sorted(grouped) == sorted(CASES)


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
    return out


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory, schema: Schema, contents: dict[str, Content]) -> dict[str, Path]:
    """The clean workbook and one workbook per group, as written (no cached results), with a copy
    of each holding its conditional formats as probe cells (`name-probe`)."""
    src = tmp_path_factory.mktemp("live-src")
    files = {}
    for name, content in contents.items():
        files[name] = write_workbook(src / f"{name}.xlsx", schema, content)
    for name, content in contents.items():
        layout = layout_of(schema, content)
        rows = {k: range(2, len(v) + 5) for k, v in content.tables.items()}
        PROBES[name] = probe(files[name], src / f"{name}-probe.xlsx", schema, layout, rows)
        files[f"{name}-probe"] = src / f"{name}-probe.xlsx"
    return files


# name -> the probe cells of its probe copy (filled by `sources`)
PROBES: dict[str, list[Probe]] = {}


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(engine, its program): LibreOffice, and Gnumeric standing in for Excel's rules."""
    name = request.param
    return name, request.getfixturevalue("soffice" if name == "libreoffice" else "ssconvert")


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory: pytest.TempPathFactory, sources: dict[str, Path],
                 engine: tuple[str, str]) -> dict[str, Path]:
    """Each case's workbook as the engine saved it after recalculating, by case name."""
    name, tool = engine
    return recalculate(name, tool, list(sources.values()), tmp_path_factory.mktemp(f"live-{name}"))


def _counts(path: Path, schema: Schema) -> tuple[Any, Any, list[Any]]:
    """The total, the sentence and each check's count, as LibreOffice computed and saved them."""
    workbook = CalamineWorkbook.from_path(str(path))
    grid = workbook.get_sheet_by_name(schema.controls_name).to_python(skip_empty_area=False)
    workbook.close()
    n = len(live_checks(schema))
    counts = [grid[CONTROLS_FIRST_ROW + i][1] for i in range(n)]
    return grid[1][1], grid[2][0], counts


def _by_key(schema: Schema, counts: list[Any]) -> Counter[tuple[str, str]]:
    total: Counter[tuple[str, str]] = Counter()
    for check, value in zip(live_checks(schema), counts, strict=True):
        total[_key(check)] += int(value)
    return total


def _issues_by_key(path: Path, schema: Schema) -> Counter[tuple[str, str]]:
    """What `validate` reports on the workbook as it was filled, by (sheet key, code)."""
    names = {schema.form.name: FORM, **{t.name: t.key for t in schema.tables}}
    report = validate_workbook(path, schema)
    return Counter((names.get(i.sheet or "", ""), i.code) for i in report.issues)


@pytest.mark.libreoffice
@pytest.mark.gnumeric
def test_clean_workbook_is_ready(recalculated: dict[str, Path], sources: dict[str, Path], schema: Schema) -> None:
    total, sentence, counts = _counts(recalculated["clean"], schema)
    assert counts == [0] * len(counts)
    assert total == 0 and sentence == READY
    assert not validate_workbook(sources["clean"], schema).issues
    assert not validate_workbook(recalculated["clean"], schema).issues


@pytest.mark.libreoffice
@pytest.mark.gnumeric
@pytest.mark.parametrize("group", list(GROUPS))
def test_counts_equal_validate(recalculated: dict[str, Path], sources: dict[str, Path], schema: Schema,
                               group: str) -> None:
    total, sentence, counts = _counts(recalculated[group], schema)
    assert all(isinstance(v, (int, float)) for v in counts), counts  # no #VALUE! anywhere
    live = _by_key(schema, counts)
    found = _issues_by_key(sources[group], schema)
    for name in GROUPS[group]:
        target = CASES[name][0]
        assert found[target] > 0, f"{name} ne provoque pas {target} dans validate"
    for key in {_key(c) for c in live_checks(schema)}:
        assert live[key] == found[key], f"{group} : {key} compte {live[key]}, validate {found[key]}"
    assert total == sum(counts) > 0
    assert sentence.startswith(f"{int(total)} point") and READY not in sentence


def _probed(path: Path, probes: list[Probe]) -> list[tuple[Probe, bool]]:
    workbook = CalamineWorkbook.from_path(str(path))
    grids = {}
    out = []
    for p in probes:
        if p.sheet not in grids:
            grids[p.sheet] = workbook.get_sheet_by_name(p.sheet).to_python(skip_empty_area=False)
        out.append((p, coloured(grids[p.sheet][p.row - 1][p.column - 1])))
    workbook.close()
    return out


@pytest.mark.libreoffice
@pytest.mark.gnumeric
def test_conditional_formats_colour_nothing_in_a_clean_workbook(recalculated: dict[str, Path]) -> None:
    """Empty rows, prepared rows and filled rows alike: no colour where validate finds nothing."""
    shown = _probed(recalculated["clean-probe"], PROBES["clean"])
    assert len(shown) > 100
    wrong = [(p.check.title, p.sheet, p.row) for p, on in shown if on]
    assert not wrong


@pytest.mark.libreoffice
@pytest.mark.gnumeric
@pytest.mark.parametrize("group", list(GROUPS))
def test_conditional_formats_colour_each_mistake(recalculated: dict[str, Path], group: str) -> None:
    shown = _probed(recalculated[f"{group}-probe"], PROBES[group])
    lit = {(p.check.sheet, p.check.code) for p, on in shown if on}
    for name in GROUPS[group]:
        assert CASES[name][0] in lit, name


@pytest.mark.libreoffice
@pytest.mark.gnumeric
def test_every_live_check_counts_in_some_workbook(recalculated: dict[str, Path], schema: Schema) -> None:
    seen = [0] * len(live_checks(schema))
    for group in GROUPS:
        for i, value in enumerate(_counts(recalculated[group], schema)[2]):
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
