"""The summary workbook's history (README, Plusieurs trimestres): the sheets `Évolution` (one row per
territory per period) and `Changements` (what moved since T-1, one row per change). `T-1` and
`N-1` beside the figures of `Synthèse` come with the figures (consolidate/figures.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from pvd_reporting.consolidate.changes import COST, FINANCING
from pvd_reporting.consolidate.figures import ValueKind
from pvd_reporting.consolidate.view import (
    Change,
    Consolidation,
    to_cent,
)
from pvd_reporting.format.french import fr_date, fr_money
from pvd_reporting.format.schema import Schema
from pvd_reporting.outputs.columns import (
    EVOLUTION,
    TEXT,
    Column,
    RowContext,
    evolution_columns,
    identity,
    territory_row,
)
from pvd_reporting.outputs.privacy import ContactMask
from pvd_reporting.outputs.summary.cells import SummaryFormats, print_setup, put_figure
from pvd_reporting.outputs.summary.xmlrows import PendingRows

CHANGES = "Changements"
REVISIONS = "Révisions"
REVISION_HEADERS = ("Période", "Chiffre", "Publié", "Révisé", "Écart", "Cause")


def evolution_rows(c: Consolidation, schema: Schema) -> list[list[Any]]:
    """Every territory of every period, territory by territory, oldest period first."""
    history = c.history
    periods = history.periods if history is not None else {c.region.period: c}
    order = {t.key: i for i, t in enumerate(c.territories)}
    columns = evolution_columns(schema)
    rows: list[tuple[int, int, list[Any]]] = []
    for n, (period, cons) in enumerate(periods.items()):
        ctx = RowContext(period)
        for t in cons.territories:
            rows.append((order.get(t.key, len(order)), n, territory_row(columns, t, ctx)))
    rows.sort(key=lambda r: (r[0], str(r[2][1]), r[1]))
    return [r[2] for r in rows]


CHANGE_HEADERS = ("Type", "Élément", "Avant", "Après")


def change_columns(schema: Schema) -> list[Column]:
    return [*identity(schema), Column(CHANGE_HEADERS[0], TEXT, 22), Column(CHANGE_HEADERS[1], TEXT, 28),
            Column(CHANGE_HEADERS[2], TEXT, 50), Column(CHANGE_HEADERS[3], TEXT, 50)]


def shown(value: Any, money: bool) -> str | None:
    """A value of `Avant` / `Après` as a French reader reads it."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return fr_date(value)
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, (int, float)):
        return fr_money(value) if money else str(value)
    return str(value)


def change_rows(changes: list[Change], mask: ContactMask) -> list[list[Any]]:
    out = []
    for ch in changes:
        money = ch.kind in (COST, FINANCING)
        before, after = mask.change(ch)
        out.append([ch.id_pvd, ch.territory, ch.kind, ch.element, shown(before, money), shown(after, money)])
    return out


def write_history_sheets(wb: Workbook, c: Consolidation, schema: Schema, fmt: SummaryFormats, pending: list[PendingRows],
                         table_sheet: Any, no_contacts: bool) -> None:
    """`Évolution` and `Changements`, as Excel tables like the other sheets (`table_sheet` of workbook.py)."""
    table_sheet(wb, EVOLUTION, evolution_columns(schema), evolution_rows(c, schema), fmt, pending)
    changes = c.history.changes if c.history is not None else []
    table_sheet(wb, CHANGES, change_columns(schema), change_rows(changes, ContactMask(schema, no_contacts)), fmt, pending)


def write_revisions(wb: Workbook, c: Consolidation, fmt: SummaryFormats) -> Worksheet:
    """`Révisions`: each figure of a period already published (the output folder's
    history file) that this run changes, with the workbooks that arrived or changed since."""
    ws = wb.add_worksheet(REVISIONS)
    revisions = c.history.revisions if c.history is not None else []
    for j, width in enumerate((10, 30, 16, 16, 16, 90)):
        ws.set_column(j, j, width)
    ws.add_table(0, 0, max(len(revisions), 1), len(REVISION_HEADERS) - 1, {
        "name": "T_revisions", "style": "Table Style Light 9", "autofilter": True,
        "columns": [{"header": h, "header_format": fmt.header} for h in REVISION_HEADERS]})
    ws.set_row(0, 30)
    ws.freeze_panes(1, 2)
    print_setup(ws)
    ws.repeat_rows(0)
    for i, r in enumerate(revisions, start=1):
        kind = ValueKind(r.kind)
        gap = None if r.revised is None or r.published is None else r.revised - r.published
        if gap is not None and kind == ValueKind.EUROS:
            gap = to_cent(gap)
        ws.write_string(i, 0, r.period, fmt.cell[TEXT])
        ws.write_string(i, 1, r.figure, fmt.cell[TEXT])
        # A share, a percentage or a duration as Synthèse shows it; « — » where one side has none.
        for j, value in ((2, r.published), (3, r.revised), (4, gap)):
            put_figure(ws, i, j, value, kind, fmt)
        ws.write_string(i, 5, r.cause, fmt.cell[TEXT])
    if not revisions:
        ws.write_string(1, 1, "Aucun chiffre déjà publié n'a changé.")
    return ws
