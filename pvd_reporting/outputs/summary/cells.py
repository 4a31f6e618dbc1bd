"""Cells of the summary workbook: the column kinds, the formats made once, a typed write, print setup."""

from __future__ import annotations

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
            MONEY: wb.add_format({**base, "num_format": '#,##0.00 "€";-#,##0.00 "€"'}),
            INT: wb.add_format({**base, "num_format": "0"}),
            PERCENT: wb.add_format({**base, "num_format": "0%"}),
            NUMBER: wb.add_format({**base, "num_format": "0.0"}),
        }
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.subtitle = wb.add_format({"italic": True, "font_color": "#444444"})
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


def print_setup(ws: Worksheet, *, repeat_columns: int = 0) -> None:
    """A4 landscape at full size, the sheet's name and page number at the foot: for the préfet's
    file. A wide sheet prints across pages, its first `repeat_columns` columns (the territory's
    identity) repeated on each, rather than shrunk to one page wide and unreadable."""
    ws.set_landscape()
    ws.set_paper(9)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.set_print_scale(100)
    if repeat_columns:
        ws.repeat_columns(0, repeat_columns - 1)
    ws.set_footer("&L&A&RPage &P / &N")
