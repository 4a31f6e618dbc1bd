"""The summary workbook's history (README, Historique): the sheets `Évolution` (one row per
territory per period) and `Changements` (what moved since T-1, one row per change). `T-1` and
`N-1` beside the figures of `Synthèse` come with the figures (consolidate/figures.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from xlsxwriter.workbook import Workbook

from pvd_reporting.consolidate.changes import COST, FINANCING
from pvd_reporting.consolidate.view import (
    DAYS_LEFT_LABEL,
    DEADLINE_LABEL,
    LAST_MILESTONE_LABEL,
    REMAINING_LABEL,
    STATUS_LABEL,
    Change,
    Consolidation,
    TerritoryView,
)
from pvd_reporting.format.french import fr_date, fr_money
from pvd_reporting.format.schema import Schema
from pvd_reporting.outputs.anomalies import Masker
from pvd_reporting.outputs.summary.cells import DATE, INT, MONEY, TEXT, Column, SummaryFormats
from pvd_reporting.outputs.summary.xmlrows import PendingRows

EVOLUTION = "Évolution"
CHANGES = "Changements"
RECEIVED_HEADER = "Reçu"


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
