"""The summary workbook's history (README, Historique): `T-1` and `N-1` beside each figure of
`Synthèse`, and the sheets `Évolution` (one row per territory per period) and `Changements`
(what moved since T-1, one row per change)."""

from __future__ import annotations

from datetime import date
from typing import Any

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from pvd_reporting.consolidate.changes import COST, FINANCING
from pvd_reporting.consolidate.view import (
    DAYS_LEFT_LABEL,
    DEADLINE_LABEL,
    LAST_MILESTONE_LABEL,
    RECEIVED_LABEL,
    REMAINING_LABEL,
    SIGNED_LABEL,
    STATUS_LABEL,
    Change,
    Consolidation,
    TerritoryView,
)
from pvd_reporting.format.french import fr_date, fr_money
from pvd_reporting.format.schema import Schema
from pvd_reporting.outputs.anomalies import Masker
from pvd_reporting.outputs.summary.cells import DATE, INT, MONEY, TEXT, Column, SummaryFormats, put
from pvd_reporting.outputs.summary.synthesis import FIGURE_KINDS, _figures
from pvd_reporting.outputs.summary.xmlrows import PendingRows

EVOLUTION = "Évolution"
CHANGES = "Changements"
REVISIONS = "Révisions"
REVISION_HEADERS = ("Période", "Chiffre", "Publié", "Révisé", "Écart", "Cause")
PREVIOUS, YEAR_BEFORE = "T-1", "N-1"
RECEIVED_HEADER = "Reçu"


def write_comparisons(ws: Worksheet, c: Consolidation, schema: Schema, fmt: SummaryFormats, header_row: int) -> None:
    """Columns `T-1` and `N-1` beside the figures of Synthèse (row `header_row` holds `Valeur`)."""
    history = c.history
    if history is None:
        return
    kinds = FIGURE_KINDS
    for col, (header, period) in enumerate(((PREVIOUS, history.previous), (YEAR_BEFORE, history.year_before)),
                                           start=2):
        ws.write_string(header_row, col, f"{header} ({period})" if period else header, fmt.header)
        other = history.at(period)
        values = {label: (value, kind) for label, value, kind in _figures(other, schema)} if other else {}
        for i, (label, _value, _kind) in enumerate(_figures(c, schema), start=header_row + 1):
            value, kind = values.get(label, (None, "int"))
            if value is None:
                ws.write_string(i, col, "—")
            elif kind == "share":
                ws.write_number(i, col, value, fmt.share)
            else:
                put(ws, i, col, value, kinds[kind], fmt)


CONSTANT = "à périmètre constant"
# Recomputed on a constant perimeter: the counts and the money, not the shares, medians or the
# figures of the reference list (expected, missing).
CONSTANT_KINDS = ("int", "money")


def write_constant_perimeter(ws: Worksheet, c: Consolidation, schema: Schema, fmt: SummaryFormats,
                             header_row: int, col: int = 4) -> None:
    """« T-1 à périmètre constant » and the period on the same territories: each count and money
    figure recomputed on the territories received in both quarters."""
    constant = c.history.constant if c.history is not None else None
    if constant is None:
        return
    n = constant.territories
    on = f"{n} territoire{'s' if n > 1 else ''} reçu{'s' if n > 1 else ''} aux deux trimestres"
    sides = ((f"{PREVIOUS} {CONSTANT} ({constant.previous.region.period}, {on})", constant.previous),
             (f"{c.region.period} {CONSTANT} ({on})", constant.current))
    for j, (header, side) in enumerate(sides, start=col):
        ws.write_string(header_row, j, header, fmt.header)
        ws.set_column(j, j, 18)
        values = _figures(side, schema)
        for i, (_label, value, kind) in enumerate(values, start=header_row + 1):
            if kind in CONSTANT_KINDS and value is not None:
                put(ws, i, j, value, FIGURE_KINDS[kind], fmt)
            else:
                ws.write_string(i, j, "—")


def evolution_columns(schema: Schema) -> list[Column]:
    form = schema.form
    return [
        Column(form.field("id_pvd").label, TEXT, 14), Column(form.name, TEXT, 26),
        Column("Période", TEXT, 10), Column(RECEIVED_HEADER, TEXT, 7),
        Column(STATUS_LABEL, TEXT, 18), Column(LAST_MILESTONE_LABEL, TEXT, 40), Column("Jalons réalisés", INT, 9),
        Column(DEADLINE_LABEL, DATE, 12), Column(DAYS_LEFT_LABEL, INT, 9),
        *(Column(f"Actions : {s}", INT, 10) for s in schema.lists["statut_action"]),
        Column(schema.table("engagements").column("cost").label, MONEY, 15),
        *(Column(f.label, MONEY, 15) for f in schema.financer_fields),
        Column(REMAINING_LABEL, MONEY, 15),
        Column("Comités de projet du trimestre", INT, 11),
        Column("Besoins", INT, 8),
    ]


def evolution_row(t: TerritoryView, period: str, schema: Schema) -> list[Any]:
    statuses = schema.lists["statut_action"]
    if not t.received:
        width = len(evolution_columns(schema))
        return [t.id_pvd, t.name, period, "Non", t.ort_status, *([None] * (width - 5))]
    return [
        t.id_pvd, t.name, period, "Oui", t.ort_status, t.last_milestone, t.milestones_done, t.ort_deadline,
        t.days_left, *(t.actions_by_status.get(s, 0) for s in statuses), t.cost,
        *(t.financing.get(f.financer or "", 0.0) for f in schema.financer_fields), t.remaining,
        t.comites_by_quarter.get(period, 0), t.needs,
    ]


def evolution_rows(c: Consolidation, schema: Schema) -> list[list[Any]]:
    """Every territory of every period, territory by territory, oldest period first."""
    history = c.history
    periods = history.periods if history is not None else {c.region.period: c}
    order = {t.key: i for i, t in enumerate(c.territories)}
    rows: list[tuple[int, int, list[Any]]] = []
    for n, (period, cons) in enumerate(periods.items()):
        for t in cons.territories:
            rows.append((order.get(t.key, len(order)), n, evolution_row(t, period, schema)))
    rows.sort(key=lambda r: (r[0], str(r[2][1]), r[1]))
    return [r[2] for r in rows]


CHANGE_HEADERS = ("Type", "Élément", "Avant", "Après")


def change_columns(schema: Schema) -> list[Column]:
    return [Column(schema.form.field("id_pvd").label, TEXT, 14), Column(schema.form.name, TEXT, 26),
            Column(CHANGE_HEADERS[0], TEXT, 22), Column(CHANGE_HEADERS[1], TEXT, 28),
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


def change_rows(changes: list[Change], hide: Masker) -> list[list[Any]]:
    out = []
    for ch in changes:
        money = ch.kind in (COST, FINANCING)
        out.append([ch.id_pvd, ch.territory, ch.kind, ch.element,
                    hide(shown(ch.before, money)), hide(shown(ch.after, money))])
    return out


def write_history_sheets(wb: Workbook, c: Consolidation, schema: Schema, fmt: SummaryFormats, pending: list[PendingRows],
                         table_sheet: Any, no_contacts: bool) -> None:
    """`Évolution` and `Changements`, as Excel tables like the other sheets (`table_sheet` of workbook.py)."""
    table_sheet(wb, EVOLUTION, evolution_columns(schema), evolution_rows(c, schema), fmt, pending)
    changes = c.history.changes if c.history is not None else []
    table_sheet(wb, CHANGES, change_columns(schema), change_rows(changes, Masker(c, no_contacts)), fmt, pending)


def write_revisions(wb: Workbook, c: Consolidation, fmt: SummaryFormats) -> Worksheet:
    """`Révisions`: each figure of an earlier period already published (the output folder's
    history file) that this run changes, with the workbooks that arrived or changed since."""
    ws = wb.add_worksheet(REVISIONS)
    revisions = c.history.revisions if c.history is not None else []
    widths = (10, 30, 16, 16, 16, 90)
    for j, width in enumerate(widths):
        ws.set_column(j, j, width)
    ws.add_table(0, 0, max(len(revisions), 1), len(REVISION_HEADERS) - 1, {
        "name": "T_revisions", "style": "Table Style Light 9", "autofilter": True,
        "columns": [{"header": h, "header_format": fmt.header} for h in REVISION_HEADERS]})
    ws.set_row(0, 30)
    ws.freeze_panes(1, 2)
    counts = (RECEIVED_LABEL, SIGNED_LABEL)
    for i, r in enumerate(revisions, start=1):
        kind = INT if r.figure in counts else MONEY
        for j, (value, k) in enumerate(((r.period, TEXT), (r.figure, TEXT), (r.published, kind),
                                        (r.revised, kind), (round(r.revised - r.published, 2), kind),
                                        (r.cause, TEXT))):
            put(ws, i, j, value, k, fmt)
    if not revisions:
        ws.write_string(1, 1, "Aucun chiffre déjà publié n'a changé.")
    return ws
