"""Format 1.1: the Contrôles sheet, the live colours, the entry checks and the percent cells, re-read
with openpyxl; Excel-safety with openxml-audit. (Agreement with validate: test_live_checks.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from factory import make_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet
from openxml_audit import OpenXmlValidator
from test_template_filled import sample

from pvd_reporting.check.checks import live_checks
from pvd_reporting.check.formulas import FORM
from pvd_reporting.check.validate import validate_workbook
from pvd_reporting.format.issues import Severity
from pvd_reporting.format.schema import CONTROLS_HEADERS, FIRST_DATA_ROW, SPACER_ROW, Kind, Schema
from pvd_reporting.outputs.palette import SEVERITY_FILLS
from pvd_reporting.outputs.workbook.feedback import write_feedback
from pvd_reporting.outputs.workbook.template import write_filled, write_template
from pvd_reporting.outputs.workbook.writer import CONTROLS_FIRST_ROW, VALIDATION_ROWS, layout_of
from pvd_reporting.read.workbook import read_workbook

# The table of live checks for users lives in docs/controles.md (the README links to it).
CONTROLS_DOC = (Path(__file__).resolve().parent.parent / "docs" / "controles.md").read_text(encoding="utf-8")
# What Excel and LibreOffice both compute, without macros and without anything volatile.
ALLOWED = {"SUM", "SUMPRODUCT", "ROUND", "IF", "IFERROR", "ISNUMBER", "ISERROR", "ISTEXT", "LEN", "TRIM",
           "COUNT", "COUNTA", "COUNTIF", "MAX", "MOD", "FIND", "MID", "LEFT", "RIGHT", "SUBSTITUTE", "UPPER", "LOWER",
           "AND", "ABS"}
# Excel refuses a formula longer than this.
EXCEL_FORMULA_MAX = 8192


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, schema: Schema) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("controls")
    filled = write_filled(tmp / "rempli.xlsx", schema, sample(schema))
    broken = sample(schema)
    broken.tables["annuaire"][0].values["email"] = "claire.muller.example.fr"
    report = validate_workbook(write_filled(tmp / "faux.xlsx", schema, broken), schema)
    assert report.issues
    return {
        "template": write_template(tmp / "modele.xlsx", schema, period="2025-T4"),
        "filled": filled,
        "feedback": write_feedback(tmp / "retour.xlsx", schema, report),
    }


@pytest.fixture(scope="module")
def blank(files: dict[str, Path]) -> openpyxl.Workbook:
    return openpyxl.load_workbook(files["template"])


def test_controls_sheet_right_after_lisez_moi(blank: openpyxl.Workbook, schema: Schema) -> None:
    assert blank.sheetnames[:2] == [schema.readme_name, schema.controls_name]
    ws = blank[schema.controls_name]
    assert ws.sheet_state == "visible" and ws.protection.sheet
    header = CONTROLS_FIRST_ROW
    assert [ws.cell(header, c).value for c in (1, 2, 3, 4)] == list(CONTROLS_HEADERS)
    checks = live_checks(schema)
    layout = layout_of(schema)
    for i, check in enumerate(checks):
        row = header + 1 + i
        # The rule in plain French; its validate code apart, in a small column of its own.
        assert ws.cell(row, 1).value == check.title and check.code not in check.title
        assert ws.cell(row, 4).value == check.code and ws.cell(row, 4).font.sz == 8
        assert ws.cell(row, 3).value == check.where(layout)
        count = ws.cell(row, 2).value
        assert isinstance(count, ArrayFormula) and count.text == "=" + check.count(layout)
    assert ws.cell(header + 1 + len(checks), 1).value is None
    # Errors and warnings counted apart: « prêt » depends on the errors only.
    for cell, level in (("B2", Severity.ERROR), ("B3", Severity.WARNING)):
        rows = [f"B{header + 1 + i}" for i, c in enumerate(checks) if c.level == level]
        assert ws[cell].value.text == "=SUM(" + ",".join(rows) + ")"
    assert (ws["A2"].value, ws["A3"].value) == ("Erreurs à corriger", "Points à vérifier")
    assert "Le classeur est prêt à être envoyé" in ws["A4"].value and "points à vérifier" in ws["A4"].value


def test_every_sheet_of_a_check_colours_its_cells(blank: openpyxl.Workbook, schema: Schema) -> None:
    layout = layout_of(schema)
    for check in live_checks(schema):
        ws = blank[layout.sheet(check.sheet)]
        rules = {str(cf.sqref): [r for r in cf.rules] for cf in ws.conditional_formatting}
        for cells, condition in check.highlights(layout):
            found = [r for r in rules.get(cells, []) if r.formula == [condition]]
            assert found, (check.title, cells)
            fill = found[0].dxf.fill.bgColor.rgb
            assert fill[-6:].upper() == SEVERITY_FILLS[check.level][1:].upper(), check.title


def test_formulas_use_only_functions_both_programs_compute(schema: Schema) -> None:
    layout = layout_of(schema)
    for check in live_checks(schema):
        for formula in [check.count(layout), *(c for _, c in check.highlights(layout))]:
            used = set(re.findall(r"([A-Z][A-Z.]*)\(", formula))
            assert used <= ALLOWED, (check.title, used - ALLOWED)
            assert "[" not in formula  # no external link
            assert len(formula) < EXCEL_FORMULA_MAX, (check.title, len(formula))


def test_checks_cover_the_prepared_rows_and_more(schema: Schema) -> None:
    layout = layout_of(schema)
    for table in schema.tables:
        last = layout.last_rows[table.key]
        # 1-based: the data rows begin under the spacer.
        assert last >= FIRST_DATA_ROW + table.blank_rows and last >= FIRST_DATA_ROW + len(table.fixed_rows)
    financing = next(c for c in live_checks(schema) if c.code == "financing-exceeds-cost")
    (cells, _), = financing.highlights(layout)
    # One rule colours the cost and every financer of the row, from the spacer over the 1,000 checked rows.
    last_money = layout.letter("engagements", schema.financer_fields[-1].key)
    assert cells == f"{layout.letter('engagements', 'cost')}{SPACER_ROW + 1}:{last_money}{FIRST_DATA_ROW + VALIDATION_ROWS}"


def _validation(ws: Worksheet, cell: str) -> DataValidation:
    found = [dv for dv in ws.data_validations.dataValidation if cell in dv.sqref]
    assert found, cell
    return found[0]


def test_entry_checks_by_kind(blank: openpyxl.Workbook, schema: Schema) -> None:
    form = blank[schema.form.name]
    rows = {f.key: i + 1 for i, f in enumerate(schema.form.fields)}
    etp = _validation(form, f"B{rows['etp']}")
    assert (etp.type, etp.formula1, etp.formula2) == ("decimal", "0", "1")
    assert etp.operator in (None, "between")  # between is the default of the format
    assert etp.errorStyle in (None, "stop")
    siren = _validation(form, f"B{rows['siren']}")
    assert siren.type == "custom" and siren.errorStyle == "warning" and "LEN(" in siren.formula1
    updated = _validation(form, f"B{rows['updated_on']}")
    assert updated.type == "date" and updated.errorStyle in (None, "stop")
    # Serials of 01/01/2000 and 31/12/2100.
    assert (updated.formula1, updated.formula2) == ("36526", "73415")
    communes = blank["Communes"]
    insee = _validation(communes, "A2")
    assert (insee.type, insee.operator, insee.formula1, insee.errorStyle) == ("textLength", "equal", "5", "warning")
    engagements = blank["Engagements"]
    table = schema.table("engagements")
    for c, fld in enumerate(table.columns, start=1):
        dv = _validation(engagements, f"{get_column_letter(c)}2")
        if fld.kind == Kind.AMOUNT:
            assert (dv.type, dv.operator, dv.formula1) == ("decimal", "greaterThanOrEqual", "0")
        elif fld.kind == Kind.YESNO:
            assert dv.type == "list"


def test_percent_cells_hold_a_fraction_and_show_a_percent(tmp_path: Path, schema: Schema) -> None:
    data = sample(schema)
    assert data.territory.values["etp"] == 80.0
    path = write_filled(tmp_path / "p.xlsx", schema, data)
    form = openpyxl.load_workbook(path)[schema.form.name]
    cell = form.cell([f.key for f in schema.form.fields].index("etp") + 1, 2)
    # "0\\ %" multiplies by 100: what Excel stores when 80 or 80 % is typed, shown as 80 %.
    assert cell.value == pytest.approx(0.8) and cell.number_format == "0\\ %"
    again, _ = read_workbook(path, schema)
    assert again is not None and again.territory.values["etp"] == pytest.approx(80.0)


def test_version_1_0_workbooks_still_read_without_warning(tmp_path: Path, schema: Schema) -> None:
    assert schema.version == "1.1"
    data, issues = read_workbook(make_workbook(tmp_path / "v10.xlsx", schema, version="1.0"), schema)
    assert data is not None and data.version == "1.0" and issues == []


def test_reader_ignores_the_controls_sheet(files: dict[str, Path], schema: Schema) -> None:
    data, issues = read_workbook(files["filled"], schema)
    assert data is not None and data.version == "1.1" and issues == []
    assert schema.controls_name not in data.sheet_titles.values()


def test_lisez_moi_points_to_controls_and_the_referent(blank: openpyxl.Workbook, schema: Schema) -> None:
    text = " ".join(str(v) for row in blank[schema.readme_name].iter_rows(values_only=True) for v in row if v)
    assert f"onglet {schema.controls_name}" in text and "référent" in text
    assert "prêt à être envoyé" in text
    assert "pvd-report" not in text  # the chef de projet has no command line


def test_feedback_workbooks_carry_the_live_checks(files: dict[str, Path], schema: Schema) -> None:
    wb = openpyxl.load_workbook(files["feedback"])
    assert wb.sheetnames[1] == schema.controls_name
    layout = layout_of(schema)
    mail = next(c for c in live_checks(schema) if c.code == "invalid-email")
    ws = wb[layout.sheet(mail.sheet)]
    assert any(str(cf.sqref) == mail.highlights(layout)[0][0] for cf in ws.conditional_formatting)


@pytest.mark.parametrize("name", ["template", "filled", "feedback"])
def test_excel_safe(files: dict[str, Path], name: str) -> None:
    result = OpenXmlValidator().validate(files[name])
    assert result.is_valid, [str(e) for e in result.errors[:10]]


def test_the_docs_list_every_live_check(schema: Schema) -> None:
    # docs/controles.md's table is generated from the rule objects (scripts/make_format_doc.py).
    block = CONTROLS_DOC.split("<!-- controles:debut -->\n")[1].split("<!-- controles:fin -->")[0]
    rows = [line for line in block.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == len(live_checks(schema))
    for row, check in zip(rows, live_checks(schema), strict=True):
        assert row.startswith(f"| {check.label} | `{check.code}` |"), (row, check.label)


def test_the_form_checks_name_the_form(schema: Schema) -> None:
    layout = layout_of(schema)
    form_checks = [c for c in live_checks(schema) if c.sheet == FORM]
    assert form_checks and all(c.where(layout).startswith(schema.form.name) for c in form_checks)


def test_table_rows_can_be_deleted_under_protection(blank: openpyxl.Workbook, schema: Schema) -> None:
    """Excel and LibreOffice delete a row only when none of its cells is locked: every column is
    unlocked to the last one by its column format, with no row format (it would override the
    columns' number formats); the header's cells locked; Jalons' eight rows stay fixed."""
    for table in schema.tables:
        ws = blank[table.name]
        assert ws.protection.sheet
        # In the file, a permission set to 0 is an action left allowed under protection.
        assert not ws.protection.deleteRows and not ws.protection.insertRows
        # The header's cells locked by their own format; no row format anywhere (see below).
        assert not ws.row_dimensions[1].has_style
        assert all(ws.cell(1, c + 1).protection.locked for c in range(len(table.columns)))
        if table.fixed_rows:
            for r in range(2, len(table.fixed_rows) + 2):
                assert ws.cell(r, table.keys.index("code") + 1).protection.locked
            continue
        for r in range(2, table.blank_rows + 2):
            assert not ws.row_dimensions[r].has_style, (table.name, r)
        covered = sorted((d.min, d.max) for d in ws.column_dimensions.values())
        assert covered[0][0] == 1 and covered[-1][1] == 16_384
        assert all(a[1] + 1 == b[0] for a, b in zip(covered, covered[1:], strict=False)), covered
        assert not any(d.protection.locked for d in ws.column_dimensions.values())
