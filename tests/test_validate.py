"""`validate_workbook` / `validate_paths` on generated workbooks: one fixture per rule (docs/format-1.md)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from factory import baseline_rows, cell_of, make_workbook

from pvd_reporting.check.validate import sort_issues, validate_paths, validate_workbook
from pvd_reporting.format.issues import Issue, IssueCode, make_issue
from pvd_reporting.format.schema import Schema, build_schema


def _rows(schema: Schema, table: str, index: int, **changes: Any) -> dict[str, list[dict[str, Any]]]:
    rows = [dict(r) for r in baseline_rows(schema)[table]]
    rows[index].update(changes)
    return {table: rows}


def _without(schema: Schema, table: str, **match: Any) -> dict[str, list[dict[str, Any]]]:
    rows = [r for r in baseline_rows(schema)[table] if not all(r.get(k) == v for k, v in match.items())]
    return {table: rows}


# name -> (territory, rows, expected (code, severity, sheet, table key or None, row index, field))
def _cases(schema: Schema) -> dict[str, tuple[Any, Any, list[tuple[Any, ...]]]]:
    L = schema.lists
    fin = [f.key for f in schema.financer_fields]
    return {
        "etp": ({"etp": 0.5}, None,
                [("etp-below-threshold", "error", "Territoire", "territoire", 0, "etp")]),
        "no-commune": (None, {"communes": []}, [("required-value", "error", "Communes", None, 0, None)]),
        "population": (None, _rows(schema, "communes", 1, population=25000),
                       [("population-over-limit", "warning", "Communes", "communes", 1, "population")]),
        "j1": (None, _rows(schema, "jalons", 0, done_on=None),
               [("required-value", "error", "Jalons", "jalons", 0, "done_on")]),
        "jalon-future": (None, _rows(schema, "jalons", 5, done_on=date(2026, 1, 10)),
                         [("date-in-future", "warning", "Jalons", "jalons", 5, "done_on")]),
        "jalon-order": (None, _rows(schema, "jalons", 3, done_on=date(2024, 11, 20)),
                        [("milestones-out-of-order", "warning", "Jalons", "jalons", 3, "done_on")]),
        "financing": (None, _rows(schema, "engagements", 1, cost=40_000.0),
                      [("financing-exceeds-cost", "error", "Engagements", "engagements", 1, "cost")]),
        "missing-cost": (None, _rows(schema, "engagements", 0, cost=None),
                         [("missing-cost", "error", "Engagements", "engagements", 0, "cost")]),
        "dates": (None, _rows(schema, "engagements", 0, end_on=date(2025, 1, 1)),
                  [("dates-out-of-order", "error", "Engagements", "engagements", 0, "end_on")]),
        "end-date": (None, _rows(schema, "engagements", 1, end_on=None),
                     [("missing-end-date", "warning", "Engagements", "engagements", 1, "end_on")]),
        "duplicate": (None, _rows(schema, "engagements", 2, action_id="A1"),
                      [("duplicate-action", "error", "Engagements", "engagements", 2, "action_id")]),
        "negative": (None, _rows(schema, "engagements", 2, **{fin[1]: -150_000}),
                     [("negative-amount", "error", "Engagements", "engagements", 2, fin[1])]),
        "comite-future": (None, _rows(schema, "comites", 5, date=date(2025, 12, 20)),
                          [("meeting-after-update", "error", "Comités", "comites", 5, "date")]),
        "etat": (None, _rows(schema, "comites", 1, etat_present=L["oui_non"][1]),
                 [("etat-absent", "warning", "Comités", "comites", 1, "etat_present")]),
        "cadence": (None, _without(schema, "comites", date=date(2025, 6, 24)),
                    [("comite-cadence", "warning", "Comités", None, 0, None)]),
        "unknown-action": (None, _rows(schema, "ingenierie", 1, action_id="A9"),
                           [("unknown-action", "warning", "Ingénierie", "ingenierie", 1, "action_id")]),
        "negative-need": (None, _rows(schema, "ingenierie", 0, amount=-5.0),
                          [("negative-amount", "error", "Ingénierie", "ingenierie", 0, "amount")]),
        "lead": (None, _rows(schema, "annuaire", 0, role=L["role_contact"][4]),
                 [("no-project-lead", "warning", "Annuaire", None, 0, None)]),
        # What a chef de projet types, said back (issue 29): never a silent 0 or a silent scale.
        "insee-5518": (None, _rows(schema, "communes", 1, insee=5518),
                       [("insee-four-digits", "warning", "Communes", "communes", 1, "insee")]),
        "percent-120": ({"etp": 1.2}, None, [("invalid-percent", "error", "Territoire", "territoire", 0, "etp")]),
        "percent-points": ({"etp": 80}, None,
                           [("percent-as-points", "warning", "Territoire", "territoire", 0, "etp")]),
        "department-name": ({"department": "Meuse"}, None,
                            [("invalid-department", "error", "Territoire", "territoire", 0, "department")]),
        "mail-semicolon": (None, _rows(schema, "annuaire", 0, email="claire.muller@hanau.fr;"),
                           [("invalid-email", "error", "Annuaire", "annuaire", 0, "email")]),
        "mail-accent": (None, _rows(schema, "annuaire", 0, email="andré@hanau.fr"),
                        [("invalid-email", "error", "Annuaire", "annuaire", 0, "email")]),
    }


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, schema: Schema) -> Path:
    root = tmp_path_factory.mktemp("rules")
    make_workbook(root / "baseline.xlsx", schema)
    for name, (territory, rows, _expected) in _cases(schema).items():
        make_workbook(root / f"{name}.xlsx", schema, territory=territory, rows=rows)
    return root


def test_baseline_workbook_is_valid_without_any_issue(folder: Path, schema: Schema) -> None:
    report = validate_workbook(folder / "baseline.xlsx", schema)
    assert [i.to_dict() for i in report.issues] == []
    assert report.valid and report.verdict == "OK"
    assert (report.territory, report.id_pvd, report.period) == ("Bouxwiller - Ingwiller", "pvd-44-67-3", "2025-T4")
    assert report.version == schema.version
    assert report.size == (folder / "baseline.xlsx").stat().st_size
    assert report.sha256 is not None and len(report.sha256) == 64
    assert report.data is not None
    assert {r.control for rows in report.data.tables.values() for r in rows} == {"OK"}


@pytest.mark.parametrize("name", list(_cases(build_schema())))
def test_one_workbook_per_rule(folder: Path, schema: Schema, name: str) -> None:
    path = folder / f"{name}.xlsx"
    report = validate_workbook(path, schema)
    expected = []
    for code, severity, sheet, table, index, key in _cases(schema)[name][2]:
        cell = cell_of(path, schema, table, index, key) if table else None
        expected.append((code, severity, sheet, cell))
    assert [(i.code, str(i.severity), i.sheet, i.cell) for i in report.issues] == expected
    issue = report.issues[0]
    if issue.cell:
        assert issue.row == int("".join(ch for ch in issue.cell if ch.isdigit()))


def test_what_is_read_is_said(folder: Path, schema: Schema) -> None:
    """A number read as points, an INSEE code given its 0 back: the message says what was read."""
    (points,) = validate_workbook(folder / "percent-points.xlsx", schema).issues
    assert points.message.startswith("« 80 » lu comme 80 %")
    (insee,) = validate_workbook(folder / "insee-5518.xlsx", schema).issues
    assert "« 5518 » à 4 chiffres" in insee.message and "lu 05518" in insee.message
    (percent,) = validate_workbook(folder / "percent-120.xlsx", schema).issues
    assert percent.value == 1.2 and "1.2" in percent.message


def test_controls_follow_the_issues(folder: Path, schema: Schema) -> None:
    report = validate_workbook(folder / "financing.xlsx", schema)
    assert report.data is not None
    assert [r.control for r in report.data.tables["engagements"]] == ["OK", "Erreur", "OK", "OK"]


def test_unreadable_text_date_gives_the_cell(tmp_path: Path, schema: Schema) -> None:
    path = make_workbook(tmp_path / "d.xlsx", schema, rows=_rows(schema, "engagements", 0, start_on="32/13/2024"))
    report = validate_workbook(path, schema)
    found = [(i.code, i.cell, i.value) for i in report.issues]
    assert ("invalid-date", cell_of(path, schema, "engagements", 0, "start_on"), "32/13/2024") in found
    assert not report.valid


def test_not_a_workbook_is_reported_never_raised(tmp_path: Path, schema: Schema) -> None:
    path = tmp_path / "faux.xlsx"
    path.write_text("ceci n'est pas un classeur", encoding="utf-8")
    report = validate_workbook(path, schema)
    assert [i.code for i in report.issues] == ["unreadable-file"]
    assert report.data is None and not report.valid
    assert report.sha256 is not None


def test_relative_path_stays_relative(folder: Path, schema: Schema, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(folder.parent)
    report, notices = validate_paths([Path(folder.name) / "etp.xlsx"], schema)
    assert notices == []
    assert report.workbooks[0].path == str(Path(folder.name) / "etp.xlsx")


def test_folder_with_lock_and_hidden_files(tmp_path: Path, schema: Schema) -> None:
    make_workbook(tmp_path / "a.xlsx", schema)
    (tmp_path / "~$a.xlsx").write_bytes(b"lock")
    (tmp_path / ".hidden.xlsx").write_bytes(b"hidden")
    ticks: list[int] = []
    started: list[int] = []
    report, notices = validate_paths([tmp_path], schema, on_progress=ticks.append, on_start=started.append)
    assert [Path(w.path).name for w in report.workbooks] == ["a.xlsx"]
    assert report.valid
    assert len(notices) == 2 and any("~$a.xlsx" in n for n in notices) and any(".hidden" in n for n in notices)
    assert (started, ticks) == ([1], [1])


def test_issues_sorted_by_sheet_row_column(schema: Schema) -> None:
    issues = [
        make_issue(IssueCode.NO_PROJECT_LEAD, sheet="Annuaire"),
        make_issue(IssueCode.MISSING_COST, sheet="Engagements", cell="J3", row=3, status="En cours"),
        make_issue(IssueCode.INVALID_DATE, sheet="Engagements", cell="H3", row=3),
        make_issue(IssueCode.INVALID_DATE, sheet="Engagements", cell="AA2", row=2),
        make_issue(IssueCode.ETP_BELOW_THRESHOLD, sheet="Territoire", cell="B12", row=12, etp=40, threshold=50),
        make_issue(IssueCode.UNREADABLE_FILE, reason="x"),
    ]
    ordered: list[Issue] = sort_issues(issues, schema)
    assert [(i.sheet, i.cell) for i in ordered] == [
        (None, None), ("Territoire", "B12"), ("Engagements", "AA2"), ("Engagements", "H3"),
        ("Engagements", "J3"), ("Annuaire", None),
    ]


def test_total_row_is_only_a_warning(tmp_path: Path, schema: Schema) -> None:
    rows = [dict(r) for r in baseline_rows(schema)["engagements"]]
    first_money = schema.financer_fields[0].key
    rows.append({"action_id": "Total", "cost": 10.0, first_money: 5_000_000.0})
    path = make_workbook(tmp_path / "t.xlsx", schema, rows={"engagements": rows})
    report = validate_workbook(path, schema)
    assert [(i.code, i.row) for i in report.issues] == [("total-row", len(rows) + 1)]
    assert report.valid
