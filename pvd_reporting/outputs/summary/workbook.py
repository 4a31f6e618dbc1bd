"""The summary workbook `synthese-pvd-<period>.xlsx` (README, Ce que contient chaque sortie), written with xlsxwriter.

xlsxwriter writes the structure and the Synthèse sheet; the tables' data rows are streamed in
afterwards by xmlrows.py, where every text is an inline string: a cell typed `=HYPERLINK(…)`
or `+33…` in a territory workbook stays text.
The Synthèse sheet (figures and native charts) is built in synthesis.py, the cells in cells.py;
every table's columns are declared once in outputs/columns.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from pvd_reporting.atomic import atomic_write
from pvd_reporting.consolidate.view import (
    STATUS_LABEL,
    Consolidation,
    TerritoryView,
)
from pvd_reporting.format.issues import Issue, WorkbookReport, json_value
from pvd_reporting.format.matching import slug
from pvd_reporting.format.schema import COMMUNES, TABLE_KEYS, Field, Schema
from pvd_reporting.outputs.columns import (
    TERRITORIES,
    Column,
    RowContext,
    anomaly_columns,
    identity,
    not_workbook_row,
    source_columns,
    table_row,
    territory_columns,
    territory_row,
    where_read,
)
from pvd_reporting.outputs.privacy import ContactMask
from pvd_reporting.outputs.summary.cells import (
    SummaryFormats,
    field_kind,
    print_setup,
)
from pvd_reporting.outputs.summary.evolution import write_history_sheets, write_revisions
from pvd_reporting.outputs.summary.synthesis import write_synthesis
from pvd_reporting.outputs.summary.xmlrows import PendingRows, Rows, inject_rows
from pvd_reporting.read.records import Record

# The data sheets, in the schema's order; the communes are the `Communes` column of `Territoires`.
SHEET_ORDER = tuple(key for key in TABLE_KEYS if key != COMMUNES)
ANOMALIES = "Anomalies"
SOURCES = "Sources"
SYNTHESIS = "Synthèse"


def unique_headers(headers: list[str]) -> list[str]:
    """Excel tables need distinct headers."""
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        n = seen.get(h.casefold(), 0)
        seen[h.casefold()] = n + 1
        out.append(h if n == 0 else f"{h} ({n + 1})")
    return out


def table_sheet(wb: Workbook, name: str, columns: list[Column], rows: Rows, fmt: SummaryFormats,
                pending: list[PendingRows]) -> Worksheet:
    """A sheet holding one Excel table: headers, filters, frozen header row, widths.

    The data rows are streamed into the finished file by `xmlrows.inject_rows`; here they
    are only queued with their sheet's index and each column's style.
    """
    ws = wb.add_worksheet(name)
    headers = unique_headers([c.header for c in columns])
    # Declared over the header and one data row; xmlrows widens it to every row.
    ws.add_table(0, 0, 1, len(columns) - 1, {
        "name": f"T_{slug(name).replace('-', '_')}",
        "columns": [{"header": h, "header_format": fmt.header} for h in headers],
        "style": "Table Style Light 9",
        "autofilter": True,
    })
    ws.set_row(0, 30)
    for j, header in enumerate(headers):
        ws.write_string(0, j, header, fmt.header)
    for j, column in enumerate(columns):
        # The column's format also serves rows a user adds later.
        ws.set_column(j, j, column.width, fmt.cell[column.kind])
    ws.freeze_panes(1, 2)
    # Every table sheet begins with the territory's Identifiant PVD and name.
    print_setup(ws, widths=[c.width for c in columns], repeat_columns=2)
    ws.repeat_rows(0)
    # The table's own columns: a long text spilling to the right would widen the printed area
    # (LibreOffice prints the spill), and shrink the whole sheet to fit it.
    ws.print_area(0, 0, max(len(rows), 1), len(columns) - 1)
    pending.append(PendingRows(len(wb.worksheets()), len(pending) + 1, rows,
                               [fmt.xf(column.kind) for column in columns]))
    return ws


# --- rows -------------------------------------------------------------------------------------

# Where a data row was read; the values are set by `_source`.
SUFFIX = tuple(where_read(""))


def _source(t: TerritoryView, control: str, sheet: str, row: int | None) -> list[Any]:
    path = t.report.path if t.report is not None else None
    return [control, path, sheet if path else None, row]


def record_value(record: Record, key: str) -> Any:
    """The parsed value, or what was typed when it could not be understood: nothing is lost."""
    value = record.values.get(key)
    if value is None:
        raw = record.raw.get(key)
        if raw is not None and str(raw).strip():
            return json_value(raw) if not isinstance(raw, (int, float, date)) else raw
    return value


def data_sheet_columns(schema: Schema, key: str, no_contacts: bool) -> list[Field]:
    """The table's fields a data sheet shows: with --no-contacts, none that can hold a person."""
    return ContactMask(schema, no_contacts).columns(key)


def data_columns(schema: Schema, fields: list[Field]) -> list[Column]:
    """A data sheet's columns (and its SQLite table's): the territory, the schema's fields, where read."""
    return [*identity(schema), *(Column(f.label, field_kind(f), f.width) for f in fields), *SUFFIX]


def data_rows(consolidation: Consolidation, schema: Schema, key: str, fields: list[Field],
              mask: ContactMask | None = None) -> list[list[Any]]:
    return list(iter_data_rows(consolidation, schema, key, fields, mask))


def iter_data_rows(consolidation: Consolidation, schema: Schema, key: str, fields: list[Field],
                   mask: ContactMask | None = None) -> Iterator[list[Any]]:
    """`data_rows` one at a time: the history database streams them into SQLite."""
    shown = mask or ContactMask(schema, False)
    for t, record in consolidation.rows.get(key, []):
        sheet = (t.report.data.sheet_titles.get(key) if t.report is not None else None) or record.sheet
        yield [t.id_pvd, t.name, *(shown.value(f, record_value(record, f.key)) for f in fields),
               *_source(t, record.control, sheet, record.row)]


class _LaterRows:
    """A data sheet's rows, made as they are written into the file (xmlrows): the rows of a
    quarter at national scale are not all held at once (docs/vitesse.md)."""

    def __init__(self, consolidation: Consolidation, schema: Schema, key: str, fields: list[Field],
                 mask: ContactMask) -> None:
        self._args = (consolidation, schema, key, fields, mask)

    def __len__(self) -> int:
        return len(self._args[0].rows.get(self._args[2], []))

    def __iter__(self) -> Iterator[list[Any]]:
        return iter_data_rows(*self._args)


def anomaly_items(consolidation: Consolidation, schema: Schema, no_contacts: bool) -> list[tuple[WorkbookReport, Issue]]:
    """Each anomaly as (report, issue), the issue masked with --no-contacts."""
    if not no_contacts:
        return list(consolidation.anomalies)
    mask = ContactMask(schema, True)
    return [(report, mask.issue(issue)) for report, issue in consolidation.anomalies]


# --- the workbook -----------------------------------------------------------------------------


def write_summary(consolidation: Consolidation, path: Path, schema: Schema, *, no_contacts: bool = False) -> Path:
    """Write the summary workbook atomically; returns its path."""
    return atomic_write(Path(path), lambda tmp: _write(consolidation, tmp, schema, no_contacts))


def _write(consolidation: Consolidation, path: Path, schema: Schema, no_contacts: bool) -> None:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False, "default_date_format": "dd/mm/yyyy"})
    wb.set_properties({"title": f"Synthèse PVD {consolidation.region.period}", "subject": "Petites villes de demain",
                       "created": datetime(2000, 1, 1)})
    fmt = SummaryFormats(wb)
    pending: list[PendingRows] = []
    write_synthesis(wb, SYNTHESIS, consolidation, schema, fmt)
    columns = territory_columns(schema)
    ctx = RowContext(consolidation.region.period, no_contacts, consolidation)
    territory_rows = [territory_row(columns, t, ctx) for t in consolidation.territories]
    ws = table_sheet(wb, TERRITORIES, columns, territory_rows, fmt, pending)
    status_col = [c.header for c in columns].index(STATUS_LABEL)
    last = max(len(consolidation.territories), 1)
    for status, style in fmt.status.items():
        ws.conditional_format(1, status_col, last, status_col,
                              {"type": "cell", "criteria": "==", "value": f'"{status}"', "format": style})
    mask = ContactMask(schema, no_contacts)
    for key in SHEET_ORDER:
        fields = data_sheet_columns(schema, key, no_contacts)
        table_sheet(wb, schema.table(key).name, data_columns(schema, fields),
                    _LaterRows(consolidation, schema, key, fields, mask), fmt, pending)
    cols = anomaly_columns(schema)
    rows = [table_row(cols, a, ctx) for a in anomaly_items(consolidation, schema, no_contacts)]
    table_sheet(wb, ANOMALIES, cols, rows, fmt, pending)
    cols = source_columns(schema)
    rows = [table_row(cols, r, ctx) for r in consolidation.reports]
    rows += [not_workbook_row(cols, path) for path in consolidation.not_workbooks]
    table_sheet(wb, SOURCES, cols, rows, fmt, pending)
    write_history_sheets(wb, consolidation, schema, fmt, pending, table_sheet, no_contacts)
    write_revisions(wb, consolidation, fmt)
    wb.close()
    inject_rows(path, pending, fmt.row_styles)


# --- writing alongside the other outputs --------------------------------------------------------


def summary_work(consolidation: Consolidation, path: Path, schema: Schema, *,
                 no_contacts: bool = False) -> Callable[[], Path]:
    """The summary's writing, to run alongside the other outputs (`outputs/background.py`): it
    is the longest output (xlsxwriter, some 100,000 rows at national scale, docs/vitesse.md)."""
    return lambda: write_summary(consolidation, path, schema, no_contacts=no_contacts)
