"""Cells of the summary workbook: the column kinds, the formats made once, a typed write, print setup."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from pvd_reporting.consolidate.figures import ValueKind
from pvd_reporting.format.schema import Field, Kind
from pvd_reporting.outputs.columns import Column as Column  # the summary's tables are lists of them
from pvd_reporting.outputs.palette import ORT_STYLES
from pvd_reporting.outputs.summary.xmlrows import Styles

STATUS_STYLES = ORT_STYLES
TEXT, DATE, MONEY, INT, PERCENT, NUMBER = (ValueKind.TEXT, ValueKind.DATE, ValueKind.EUROS, ValueKind.COUNT,
                                          ValueKind.PERCENT, ValueKind.MONTHS)


class SummaryFormats:
    """The workbook's cell formats, made once."""

    def __init__(self, wb: Workbook) -> None:
        base = {"valign": "top"}
        self.header = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DCE6F1"})
        self.cell = {
            TEXT: wb.add_format({**base, "text_wrap": False}),
            DATE: wb.add_format({**base, "num_format": "dd/mm/yyyy"}),
            # French: an escaped space before € (kept by a French LibreOffice), a real minus sign (−).
            MONEY: wb.add_format({**base, "num_format": '#,##0.00\\ "€";"\u2212"#,##0.00\\ "€"'}),
            INT: wb.add_format({**base, "num_format": "0"}),
            PERCENT: wb.add_format({**base, "num_format": "0%"}),
            NUMBER: wb.add_format({**base, "num_format": "0.0"}),
        }
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.subtitle = wb.add_format({"italic": True, "font_color": "#444444"})
        self.note = wb.add_format({"italic": True, "font_color": "#444444", "text_wrap": True, "valign": "top"})
        self.label = wb.add_format({"bold": True})
        self.share = wb.add_format({"num_format": "0.0%"})
        self.status = {s: wb.add_format({"bg_color": f, "font_color": c}) for s, (f, c) in STATUS_STYLES.items()}
        # The bulk rows are written outside xlsxwriter (xmlrows.py) and refer to these styles
        # by index: fix their indexes now, so styles.xml holds them whether or not a cell uses them.
        for style in self.cell.values():
            style._get_xf_index()

    def xf(self, kind: ValueKind) -> int:
        index = self.cell[kind].xf_index
        assert index is not None
        return int(index)

    @property
    def row_styles(self) -> Styles:
        return Styles(text=self.xf(TEXT), number=self.xf(NUMBER))


def field_kind(f: Field) -> ValueKind:
    return {Kind.DATE: DATE, Kind.AMOUNT: MONEY, Kind.INTEGER: INT, Kind.PERCENT: NUMBER}.get(f.kind, TEXT)


def put(ws: Worksheet, row: int, col: int, value: Any, kind: ValueKind, fmt: SummaryFormats) -> None:
    """One cell of the Synthèse sheet, typed: text is always a string cell, never a formula."""
    style = fmt.cell[kind]
    if value is None or value == "":
        ws.write_blank(row, col, None, style)
    elif isinstance(value, bool):
        ws.write_string(row, col, "Oui" if value else "Non", fmt.cell[TEXT])
    elif isinstance(value, datetime):
        ws.write_datetime(row, col, value, style)
    elif isinstance(value, date):
        ws.write_datetime(row, col, datetime(value.year, value.month, value.day), style)
    elif isinstance(value, (int, float)):
        ws.write_number(row, col, value, style if kind != TEXT else fmt.cell[NUMBER])
    else:
        ws.write_string(row, col, str(value), fmt.cell[TEXT])


def put_figure(ws: Worksheet, row: int, col: int, value: Any, kind: ValueKind, fmt: SummaryFormats) -> None:
    """A figure of the region: « — » when it has no value (no reference list, no T-1)."""
    if value is None:
        ws.write_string(row, col, "—")
    elif kind == ValueKind.SHARE:
        ws.write_number(row, col, value, fmt.share)
    else:
        put(ws, row, col, value, kind, fmt)


# A4 landscape with these margins holds about 784 points across; a column of w characters is
# about (7 w + 5) pixels, 3/4 of a point each.
PAGE_WIDTH_PT = 784
SMALLEST_SCALE = 0.62  # below, an 11-point font prints under 7 points


def print_width(widths: list[float]) -> float:
    """The printed width of columns at full size, in points."""
    return sum((7 * w + 5) * 0.75 for w in widths)


def print_setup(ws: Worksheet, *, fit_width: bool = True, widths: list[float] | None = None,
                repeat_columns: int = 0) -> None:
    """A4 landscape, fitted to the page's width, the sheet's name and page number at the foot:
    for the préfet's file. A sheet too wide to fit one page at a readable size (`widths`, in
    characters) is fitted to as few pages across as keep it readable, its first
    `repeat_columns` columns (the territory's identity) repeated on each."""
    ws.set_landscape()
    ws.set_paper(9)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    across = 1
    if widths:
        total = print_width(widths)
        if total * SMALLEST_SCALE > PAGE_WIDTH_PT:
            repeated = print_width(widths[:repeat_columns])
            room = PAGE_WIDTH_PT / SMALLEST_SCALE - repeated
            across = max(1, math.ceil((total - repeated) / room))
    if fit_width:
        ws.fit_to_pages(across, 0)
    if repeat_columns and across > 1:
        ws.repeat_columns(0, repeat_columns - 1)
    ws.set_footer("&L&A&RPage &P / &N")
