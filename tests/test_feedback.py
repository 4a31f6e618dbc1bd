"""Feedback workbooks: flagged cells coloured and commented where the data lands, Anomalies sheet."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from openpyxl.cell.cell import Cell
from test_template_filled import sample

from pvd_reporting.check.validate import validate_workbook
from pvd_reporting.format.issues import IssueCode, Severity, WorkbookReport, make_issue
from pvd_reporting.format.schema import FIRST_DATA_ROW, Schema
from pvd_reporting.outputs.workbook.feedback import (
    ANOMALIES_HEADERS,
    ANOMALIES_NAME,
    write_annotated,
    write_feedback,
)
from pvd_reporting.outputs.workbook.formats import MARK_BG
from pvd_reporting.outputs.workbook.template import write_filled

RED, ORANGE = MARK_BG[Severity.ERROR][1:].upper(), MARK_BG[Severity.WARNING][1:].upper()
Feedback = tuple[openpyxl.Workbook, WorkbookReport]
# The 1-based row of a table's first data row, in a workbook pvd-report writes.
FIRST = FIRST_DATA_ROW + 1


def flag_colour(cell: Cell) -> str:
    """The colour a flagged cell shows while it holds the flagged value: a conditional format of
    its own (a corrected cell loses it), never a painted fill."""
    assert not (cell.fill and cell.fill.fill_type), cell.coordinate
    m = re.match(r"([A-Z]+)(\d+)", cell.coordinate)
    assert m, cell.coordinate
    ref = "$" + "$".join(m.groups())
    for cf in cell.parent.conditional_formatting:
        if str(cf.sqref) != cell.coordinate:
            continue
        for rule in cf.rules:
            if rule.formula and rule.formula[0].startswith((f"IF(ISERROR({ref})", f"IF(ISNUMBER({ref})")):
                return (rule.dxf.fill.bgColor.rgb or "")[-6:].upper()
    return ""


@pytest.fixture(scope="module")
def feedback(tmp_path_factory: pytest.TempPathFactory, schema: Schema) -> Feedback:
    tmp = tmp_path_factory.mktemp("fb")
    data = sample(schema)
    eng = data.tables["engagements"][0]
    eng.values["start_on"], eng.raw["start_on"] = None, "32/13/2024"
    eng.values["fin_2"] = 2_000_000.0  # financing above cost
    data.tables["annuaire"][0].values["email"] = "claire.muller.example.fr"
    data.territory.values["siren"] = "200040492"  # wrong Luhn key
    source = write_filled(tmp / "source.xlsx", schema, data)
    # Shift the Engagements data one row down: feedback must follow the record, not the row.
    wb = openpyxl.load_workbook(source)
    wb["Engagements"].insert_rows(FIRST)
    wb.save(source)
    report = validate_workbook(source, schema)
    out = write_feedback(tmp / "retour.xlsx", schema, report)
    return openpyxl.load_workbook(out), report


def test_issues_found(feedback: Feedback) -> None:
    _, report = feedback
    codes = {i.code for i in report.issues}
    assert {"invalid-date", "financing-exceeds-cost", "invalid-email", "invalid-siren", "etat-absent"} <= codes
    assert any(i.code == "invalid-date" and i.cell == f"H{FIRST + 1}" for i in report.issues)


def test_error_cells_red_with_comment(feedback: Feedback) -> None:
    wb, _ = feedback
    cell = wb["Engagements"][f"H{FIRST}"]  # the bad date, back on the first data row in the fresh template
    assert cell.value == "32/13/2024"
    assert flag_colour(cell) == RED
    assert cell.comment is not None and "32/13/2024" in cell.comment.text
    assert flag_colour(wb["Engagements"][f"J{FIRST}"]) == RED
    assert "dépassent" in wb["Engagements"][f"J{FIRST}"].comment.text
    assert flag_colour(wb["Annuaire"][f"D{FIRST}"]) == RED
    form = wb["Territoire"]
    assert flag_colour(form["B6"]) == RED and "SIREN" in form["B6"].comment.text
    assert flag_colour(form["B2"]) == "" and form["B2"].comment is None


def test_warning_cells_orange(feedback: Feedback) -> None:
    wb, _ = feedback
    cell = wb["Comités"][f"D{FIRST}"]
    assert flag_colour(cell) == ORANGE and "État" in cell.comment.text


def test_anomalies_sheet_lists_every_issue(feedback: Feedback, schema: Schema) -> None:
    wb, report = feedback
    assert wb.sheetnames == [*schema.sheet_names, ANOMALIES_NAME]
    ws = wb[ANOMALIES_NAME]
    assert tuple(c.value for c in ws[1]) == ANOMALIES_HEADERS
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert len(rows) == len(report.issues)
    assert {r[5] for r in rows} == {i.code for i in report.issues}
    date_row = next(r for r in rows if r[5] == "invalid-date")
    assert date_row[:5] == ["Erreur", "Engagements", f"H{FIRST + 1}", "Date de début", "32/13/2024"]
    assert {r[0] for r in rows} <= {"Erreur", "Avertissement"}


def test_several_messages_on_one_cell_and_cell_less_issues(tmp_path: Path, schema: Schema) -> None:
    data = sample(schema)
    issues = [
        make_issue(IssueCode.INVALID_DATE, sheet="Engagements", cell="H2", row=2, column="Date de début", value="x"),
        make_issue(IssueCode.DATE_IN_FUTURE, sheet="Engagements", cell="H2", row=2, column="Date de début",
                   date="01/01/2030", updated_on="10/12/2025"),
        make_issue(IssueCode.COMITE_CADENCE, sheet="Comités", quarters="2025-T2"),
        make_issue(IssueCode.MISSING_SHEET, sheet="Ingénierie", sheet_name="Ingénierie"),
    ]
    wb = openpyxl.load_workbook(write_annotated(tmp_path / "f.xlsx", schema, data, issues))
    cell = wb["Engagements"][f"H{FIRST}"]
    assert flag_colour(cell) == RED  # the worst severity wins
    assert "illisible" in cell.comment.text and "postérieure" in cell.comment.text
    assert wb[ANOMALIES_NAME].max_row == 5


def test_unreadable_workbook_gives_blank_template_and_anomalies(tmp_path: Path, schema: Schema) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    report = validate_workbook(bad, schema)
    assert report.data is None
    wb = openpyxl.load_workbook(write_feedback(tmp_path / "retour.xlsx", schema, report))
    assert wb.sheetnames[-1] == ANOMALIES_NAME
    assert wb[ANOMALIES_NAME]["F2"].value == report.issues[0].code
