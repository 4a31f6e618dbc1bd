"""The `Synthèse` sheet: the regional figures as a labelled block, the small tables behind the
charts, and three native Excel charts (so they stay live when a manager filters or copies)."""

from __future__ import annotations

from typing import Any

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from pvd_reporting.consolidate.briefing import alerts, headline
from pvd_reporting.consolidate.view import (
    BEYOND_COST_LABEL,
    DEADLINE_LABEL,
    ENGAGED,
    FINANCED_LABEL,
    LAST_MILESTONE_LABEL,
    PLANNED,
    RECEIVED_LABEL,
    REMAINING_LABEL,
    SIGNED_LABEL,
    STAGES,
    UNRECOGNISED,
    Consolidation,
)
from pvd_reporting.format.departements import department_label
from pvd_reporting.format.schema import NOT_FILLED, NOT_RECEIVED, ORT_STATUSES, Schema
from pvd_reporting.format.vocabulary import ENGAGED_STATUSES, PLANNED_STATUSES
from pvd_reporting.outputs.summary.cells import (
    DATE,
    INT,
    MONEY,
    NUMBER,
    STATUS_STYLES,
    TEXT,
    SummaryFormats,
    print_setup,
    put,
)

STAGE_NOTES = {
    ENGAGED: f"engagé ({', '.join(ENGAGED_STATUSES)})",
    PLANNED: f"prévu ({', '.join(PLANNED_STATUSES)})",
    UNRECOGNISED: UNRECOGNISED.lower(),
}


def sum_money(values: Any) -> float:
    return sum(round(v * 100) for v in values) / 100


NOTE = ("Coût total = total des financements − financements au-delà du coût (actions dont les "
        "financements dépassent le coût) + reste à financer. Les actions abandonnées sont comptées "
        "par statut, mais leur montant est exclu des coûts, des financements et du reste à financer. "
        "Un chef de projet est compté « en poste » quand le jalon J2 est réalisé ou qu'un chef de "
        "projet est nommé dans l'onglet Territoire.")


def _figures(c: Consolidation, schema: Schema) -> list[tuple[str, Any, str]]:
    r = c.region
    risk = schema.config.at_risk_days
    actions = sum(t.actions for t in c.territories)
    needs = sum(t.needs for t in c.territories)
    needs_amount = sum(round(t.needs_amount * 100) for t in c.territories) / 100
    cost_label = schema.table("engagements").column("cost").label
    rows: list[tuple[str, Any, str]] = [
        ("Périmètre des totaux", r.perimeter, "text"),
        ("Territoires attendus (liste de référence)", r.expected, "int"),
        (RECEIVED_LABEL, r.received, "int"),
        ("Classeurs sans erreur", r.valid, "int"),
        ("Territoires manquants", r.missing, "int"),
        ("dont classeurs renvoyés non remplis", r.not_filled, "int"),
        (SIGNED_LABEL, r.ort_signed, "int"),
        ("dont signées dans le délai", r.ort_signed_in_time, "int"),
        ("dont signées après l'échéance", r.ort_signed_late, "int"),
        ("Part des territoires reçus ayant signé leur ORT", r.ort_signed_share, "share"),
        ("Durée médiane de J1 à J8 (mois)", r.median_months_j1_j8, "number"),
        (f"Territoires à risque ({risk} jours ou moins)", r.at_risk, "int"),
        ("Territoires en échéance dépassée", r.overdue, "int"),
        ("Chefs de projet en poste", r.leads_in_post, "int"),
        ("Territoires ayant tenu la cadence des comités de projet", r.cadence_held, "int"),
        ("Actions", actions, "int"),
        *((f.label, r.financing.get(f.financer or f.key, 0.0), "money") for f in schema.financer_fields),
        (FINANCED_LABEL, sum_money(r.financing.values()), "money"),
        (BEYOND_COST_LABEL, r.beyond_cost, "money"),
        (REMAINING_LABEL, r.remaining, "money"),
        (cost_label, r.cost, "money"),
        *((f"{cost_label} : {STAGE_NOTES[stage]}", r.money_by_stage[stage].cost, "money")
          for stage in STAGES if stage in r.money_by_stage),
        ("Besoins en ingénierie", needs, "int"),
        ("Montant estimé des besoins (€)", needs_amount, "money"),
    ]
    return rows


ALERT_COLUMNS = ("Alerte", "Territoire(s)", "Département", DEADLINE_LABEL, "Retard (mois)",
                 "Délai restant (mois)", LAST_MILESTONE_LABEL, REMAINING_LABEL, "Précision")


def _briefing(ws: Worksheet, c: Consolidation, fmt: SummaryFormats, row: int) -> int:
    """« À retenir »: the sentence, then the ranked alerts; returns the next free row."""
    ws.write_string(row, 0, "À retenir", fmt.title)
    ws.write_string(row + 1, 0, headline(c.region), fmt.label)
    row += 2
    found = alerts(c)
    if not found:
        ws.write_string(row, 0, "Aucune alerte.")
        return row + 2
    for j, header in enumerate(ALERT_COLUMNS):
        ws.write_string(row, j, header, fmt.header)
    for alert in found:
        row += 1
        one = alert.territories[0] if len(alert.territories) == 1 else None
        values: list[tuple[Any, str]] = [
            (alert.kind, TEXT), (alert.who, TEXT),
            (department_label(one.department) if one else None, TEXT),
            (alert.deadline, DATE), (alert.months_late, NUMBER), (alert.months_left, NUMBER),
            (alert.last_milestone, TEXT), (alert.remaining, MONEY), (alert.detail, TEXT),
        ]
        for j, (value, kind) in enumerate(values):
            put(ws, row, j, value, kind, fmt)
    return row + 2


# The kind of each figure of `_figures`, as a cell format (a share has its own format).
FIGURE_KINDS = {"int": INT, "money": MONEY, "number": NUMBER, "date": DATE, "text": TEXT}


def write_synthesis(wb: Workbook, name: str, c: Consolidation, schema: Schema,
                    fmt: SummaryFormats) -> tuple[Worksheet, int]:
    """The Synthèse sheet; returns it with the row of its figures' header (`Chiffre`, `Valeur`)."""
    ws = wb.add_worksheet(name)
    print_setup(ws, repeat_columns=1)
    r = c.region
    ws.write_string(0, 0, f"Petites villes de demain — synthèse {r.scope}", fmt.title)
    ws.write_string(1, 0, f"Période {r.period} · situation au {r.as_of.strftime('%d/%m/%Y')}", fmt.subtitle)
    ws.write_string(2, 0, NOTE, fmt.subtitle)
    ws.set_column(0, 0, 52)
    ws.set_column(1, 1, 30)
    ws.set_column(2, 8, 13)
    kinds = FIGURE_KINDS
    row = _briefing(ws, c, fmt, 4)
    figures_row = row
    ws.write_string(row, 0, "Chiffre", fmt.header)
    ws.write_string(row, 1, "Valeur", fmt.header)
    for label, value, kind in _figures(c, schema):
        row += 1
        ws.write_string(row, 0, label, fmt.label)
        if value is None:
            ws.write_string(row, 1, "—")
        elif kind == "share":
            ws.write_number(row, 1, value, fmt.share)
        else:
            put(ws, row, 1, value, kinds[kind], fmt)
    row += 2
    anchor = figures_row
    anchor = _status_chart(wb, ws, c, fmt, row, anchor)
    row += len(r.status_by_department) + 3
    money = [(f.financer or f.label, r.financing.get(f.financer or f.key, 0.0)) for f in schema.financer_fields]
    anchor, row = _bar_chart(wb, ws, fmt, row, anchor, f"Financements par financeur (€), {r.period}",
                             "Financeur", "Montant (€)", money, MONEY)
    needs: list[tuple[str, float]] = [(k, float(v)) for k, v in r.needs_by_theme.items()]
    anchor, row = _bar_chart(wb, ws, fmt, row, anchor, f"Besoins en ingénierie par thématique, {r.period}",
                             "Thématique", "Besoins", needs, INT)
    # README, consolidate asks for the needs by partner too: a plain table, the three charts are enough.
    ws.write_string(row, 0, "Besoins en ingénierie par partenaire sollicité", fmt.label)
    ws.write_string(row + 1, 0, schema.table("ingenierie").column("partner").label, fmt.header)
    ws.write_string(row + 1, 1, "Besoins", fmt.header)
    for i, (partner, n) in enumerate(r.needs_by_partner.items(), start=row + 2):
        ws.write_string(i, 0, partner)
        put(ws, i, 1, n, INT, fmt)
    return ws, figures_row


def _status_chart(wb: Workbook, ws: Worksheet, c: Consolidation, fmt: SummaryFormats, row: int, anchor: int) -> int:

    by_dep = c.region.status_by_department
    statuses = [s for s in (*ORT_STATUSES, NOT_RECEIVED, NOT_FILLED) if any(s in d for d in by_dep.values())]
    ws.write_string(row, 0, "Statut ORT par département", fmt.label)
    ws.write_string(row + 1, 0, "Département", fmt.header)
    for j, status in enumerate(statuses, start=1):
        ws.write_string(row + 1, j, status, fmt.header)
    for i, (dep, counts) in enumerate(by_dep.items(), start=row + 2):
        ws.write_string(i, 0, department_label(dep))
        for j, status in enumerate(statuses, start=1):
            ws.write_number(i, j, counts.get(status, 0))
    if not by_dep or not statuses:
        return anchor
    first, last = row + 2, row + 1 + len(by_dep)
    chart = wb.add_chart({"type": "column", "subtype": "stacked"})
    for j, status in enumerate(statuses, start=1):
        chart.add_series({
            "name": [ws.name, row + 1, j],
            "categories": [ws.name, first, 0, last, 0],
            "values": [ws.name, first, j, last, j],
            "fill": {"color": STATUS_STYLES[status][0]},
            "border": {"color": "#FFFFFF"},
        })
    chart.set_title({"name": f"Statut ORT par département, {c.region.period}"})
    chart.set_x_axis({"name": "Département"})
    chart.set_y_axis({"name": "Territoires", "major_gridlines": {"visible": True}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 720, "height": 360})
    ws.insert_chart(anchor, 10, chart)
    return anchor + 19


def _bar_chart(wb: Workbook, ws: Worksheet, fmt: SummaryFormats, row: int, anchor: int, title: str,
               category: str, measure: str, data: list[tuple[str, float]], kind: str) -> tuple[int, int]:

    ws.write_string(row, 0, title, fmt.label)
    ws.write_string(row + 1, 0, category, fmt.header)
    ws.write_string(row + 1, 1, measure, fmt.header)
    for i, (name, value) in enumerate(data, start=row + 2):
        ws.write_string(i, 0, name)
        put(ws, i, 1, value, kind, fmt)
    next_row = row + len(data) + 3
    if not data:
        return anchor, next_row
    first, last = row + 2, row + 1 + len(data)
    chart = wb.add_chart({"type": "bar"})
    chart.add_series({
        "name": title,
        "categories": [ws.name, first, 0, last, 0],
        "values": [ws.name, first, 1, last, 1],
        "fill": {"color": "#0072B2"},
        "data_labels": {"value": True, "num_format": fmt_code(kind)},
    })
    chart.set_title({"name": title})
    chart.set_legend({"none": True})
    chart.set_y_axis({"reverse": True})
    chart.set_size({"width": 720, "height": max(300, 26 * len(data) + 90)})
    ws.insert_chart(anchor, 10, chart)
    return anchor + max(16, (26 * len(data) + 90) // 20 + 2), next_row


def fmt_code(kind: str) -> str:
    return '#,##0 "€"' if kind == "money" else "0"
