"""The summary's bulk rows, written outside xlsxwriter, read back exactly by two other readers."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from pvd_reporting.outputs.summary.xmlrows import PendingRows, Styles, inject_rows

TRICKY = [
    "=HYPERLINK(\"http://x\")", "+33 3 88 00 00 00", "-", "@moi", "a & b < c > d", "  espaces  ",
    "tab\tet\nretour", "ctrl\x01\x1f", "_x0041_ littéral", "é" * 40_000, "«guillemets»", "",
]


def build(path: Path, rows: list[list[object]], kinds: list[str]) -> Path:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    fmt = {
        "text": wb.add_format({}), "date": wb.add_format({"num_format": "dd/mm/yyyy"}),
        "money": wb.add_format({"num_format": '#,##0.00 "€"'}), "number": wb.add_format({"num_format": "0.0"}),
    }
    for f in fmt.values():
        f._get_xf_index()
    ws = wb.add_worksheet("Données")
    headers = [f"C{j}" for j in range(len(kinds))]
    ws.add_table(0, 0, 1, len(kinds) - 1, {"name": "T_donnees", "columns": [{"header": h} for h in headers]})
    for j, h in enumerate(headers):
        ws.write_string(0, j, h)
    wb.close()
    styles = Styles(text=fmt["text"].xf_index, number=fmt["number"].xf_index)
    inject_rows(path, [PendingRows(1, 1, rows, [fmt[k].xf_index for k in kinds])], styles)
    return path


def test_text_stays_text_and_escapes_survive(tmp_path: Path) -> None:
    rows = [[text, 1.5, date(2025, 3, 15)] for text in TRICKY]
    path = build(tmp_path / "t.xlsx", rows, ["text", "money", "date"])
    ws = load_workbook(path)["Données"]
    # calamine reads `_xHHHH_` escapes as Excel does; openpyxl leaves them as typed.
    texts = [r[0] for r in CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Données").to_python()[1:]]
    assert ws.tables["T_donnees"].ref == f"A1:C{len(rows) + 1}"
    for i, text in enumerate(TRICKY, start=2):
        assert texts[i - 2] == text[:32_767], repr(text[:20])
        if text:
            assert ws.cell(i, 1).data_type == "s"  # never a formula
        assert ws.cell(i, 2).value == 1.5
        assert ws.cell(i, 3).value == datetime(2025, 3, 15)
        assert ws.cell(i, 3).number_format == "dd/mm/yyyy"


def test_values_of_each_type(tmp_path: Path) -> None:
    rows = [["x", True, 3, datetime(2025, 1, 2, 12, 0), None, float("nan"), 12_345_678.91]]
    path = build(tmp_path / "v.xlsx", rows, ["text", "text", "number", "date", "text", "money", "money"])
    values = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Données").to_python()[1]
    assert values[:4] == ["x", "Oui", 3.0, datetime(2025, 1, 2, 12, 0)]
    assert values[4] == ""
    assert values[5] == "nan"
    assert values[6] == 12_345_678.91


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.text(st.characters(exclude_categories=["Cs"]), max_size=30), st.integers(-10**9, 10**9),
                          st.floats(allow_nan=False, allow_infinity=False, width=64)), min_size=1, max_size=20))
def test_any_rows_round_trip(tmp_path_factory, rows) -> None:
    path = build(tmp_path_factory.mktemp("h") / "h.xlsx", [list(r) for r in rows], ["text", "number", "money"])
    ws = load_workbook(path)["Données"]
    texts = [r[0] for r in CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Données").to_python()[1:]]
    for i, (text, whole, real) in enumerate(rows, start=2):
        assert texts[i - 2] == text
        assert ws.cell(i, 2).value == whole
        assert ws.cell(i, 3).value == real
