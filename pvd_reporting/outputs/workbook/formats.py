"""How a territory workbook's cells look: xlsxwriter formats by field kind, marks' fills,
sheet protection and printing, row heights, and the formulas that colour a flagged cell.

writer.py lays the sheets out with these; the feedback and carried-forward sheets use them too.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from pvd_reporting.format.issues import Severity
from pvd_reporting.format.schema import Kind
from pvd_reporting.outputs.palette import SEVERITY_FILLS
from pvd_reporting.read.formula_errors import CellError

# Height in points of one line of text.
LINE_HEIGHT = 15.0
HEADER_BG, FIXED_BG = "#1F4E79", "#E7E6E6"
MARK_BG = SEVERITY_FILLS
NUM_FORMATS = {
    "text": "@",
    "date": "dd/mm/yyyy",
    # The spaces escaped: LibreOffice set to French reads a bare space after a digit placeholder as
    # its thousands separator (850 000 € would show « 850€ », 80 % « 0% », and be saved so).
    "amount": '#,##0\\ "€"',
    # A real percent: 0.8 shows 80 %, and Excel turns 80 typed in such a cell into 0.8.
    "percent": "0\\ %",
    "integer": "#,##0",
    "general": "General",
}
_KIND_GROUP = {Kind.DATE: "date", Kind.AMOUNT: "amount", Kind.PERCENT: "percent", Kind.INTEGER: "integer"}
PROTECT_OPTIONS = {
    "insert_rows": True, "delete_rows": True, "sort": True, "autofilter": True,
    "format_cells": True, "format_columns": True, "format_rows": True,
    "select_locked_cells": True, "select_unlocked_cells": True,
}


def group_of(kind: Kind) -> str:
    if kind in _KIND_GROUP:
        return _KIND_GROUP[kind]
    return "general" if kind in (Kind.CHOICE, Kind.YESNO) else "text"


class TemplateFormats:
    """xlsxwriter formats, created once per (number group, locked, mark, bold)."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self.wb = wb
        self.cache: dict[tuple[str, bool, Severity | None, bool], Any] = {}
        self.header = wb.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": HEADER_BG,
                                     "text_wrap": True, "valign": "vcenter", "border": 1})
        self.fixed = wb.add_format({"bg_color": FIXED_BG, "border": 1, "text_wrap": True})
        self.label = wb.add_format({"bg_color": FIXED_BG, "border": 1})
        self.label_required = wb.add_format({"bg_color": FIXED_BG, "border": 1, "bold": True})
        self.help = wb.add_format({"italic": True, "font_color": "#595959", "text_wrap": True})
        self.title = wb.add_format({"bold": True, "font_size": 16, "font_color": HEADER_BG})
        self.heading = wb.add_format({"bold": True, "font_size": 12, "font_color": HEADER_BG})
        self.bold = wb.add_format({"bold": True, "valign": "top"})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        self.version = wb.add_format({"bold": True, "num_format": "@", "align": "left"})
        self.unlocked = wb.add_format({"locked": False})
        self.locked = wb.add_format({"locked": True})
        # Conditional formats carry only what they change: the fill of a cell that breaks a rule.
        self.live = {severity: wb.add_format({"bg_color": fill}) for severity, fill in MARK_BG.items()}
        self.count = wb.add_format({"bold": True, "align": "center", "valign": "top", "border": 1})
        # The validate code of a check: secondary, small and grey.
        self.code = wb.add_format({"font_size": 8, "font_color": "#595959", "valign": "top"})
        self.total = wb.add_format({"bold": True, "font_size": 14, "align": "center", "border": 1})

    def get(self, group: str, *, locked: bool = False, mark: Severity | None = None, bold: bool = False) -> Any:
        key = (group, locked, mark, bold)
        fmt = self.cache.get(key)
        if fmt is None:
            props: dict[str, Any] = {"num_format": NUM_FORMATS[group], "locked": locked}
            if mark is not None:
                props["bg_color"] = MARK_BG[mark]
            if locked:
                props.update({"bg_color": props.get("bg_color", FIXED_BG), "border": 1})
            if bold:
                props["bold"] = True
            fmt = self.cache[key] = self.wb.add_format(props)
        return fmt


# A formula giving each error value, in Excel and LibreOffice alike.
ERROR_FORMULAS = {"#DIV/0!": "=1/0", "#N/A": "=NA()", "#VALUE!": '=0+"x"', "#NUM!": "=SQRT(-1)",
                  "#REF!": "=#REF!", "#NAME?": "=#NAME?", "#NULL!": "=#NULL!"}
# Excel refuses a text constant longer than this in a formula.
_FORMULA_TEXT_MAX = 255
_EXCEL_EPOCH = datetime(1899, 12, 30)


def still_holds(ref: str, value: Any) -> str:
    """A formula true while the cell `ref` (A1) holds the value written in it."""
    cell = "$" + "$".join(re.match(r"([A-Z]+)(\d+)", ref).groups())  # type: ignore[union-attr]
    if value is None or value == "":
        return f"IF(ISERROR({cell}),0,LEN(TRIM({cell}))=0)"
    if isinstance(value, CellError) and str(value) in ERROR_FORMULAS:
        return f"IF(ISERROR({cell}),1,0)"
    if isinstance(value, (date, datetime)):
        moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
        value = (moment - _EXCEL_EPOCH).total_seconds() / 86400
    if isinstance(value, (int, float)):
        return f"IF(ISNUMBER({cell}),{cell}={value!r},0)"
    text = str(value)
    if len(text) > _FORMULA_TEXT_MAX - 10:
        n = _FORMULA_TEXT_MAX - 10
        return f'IF(ISERROR({cell}),0,LEFT({cell},{n})="{text[:n].replace(chr(34), chr(34) * 2)}")'
    return f'IF(ISERROR({cell}),0,{cell}&""="{text.replace(chr(34), chr(34) * 2)}")'


def wrapped_height(text: str, width: int) -> float:
    """Height in points of a row whose wrapped text fits a column `width` characters wide."""
    lines = sum(max(1, -(-len(part) // max(width - 8, 10))) for part in text.split("\n"))
    return LINE_HEIGHT * lines


def print_setup(ws: Worksheet) -> None:
    # A4 landscape, one page wide: a sheet never prints its columns on separate pages.
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)


def cell_ref(row0: int, col0: int) -> str:
    return xl_rowcol_to_cell(row0, col0)
