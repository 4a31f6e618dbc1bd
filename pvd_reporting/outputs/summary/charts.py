"""The `Synthèse` sheet: the regional figures as a labelled block, the small tables behind the
charts, and three native Excel charts (so they stay live when a manager filters or copies)."""

from __future__ import annotations

from typing import Any

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from pvd_reporting.consolidate.view import Consolidation
from pvd_reporting.format.schema import NOT_RECEIVED, ORT_STATUSES, Schema
from pvd_reporting.outputs.summary.cells import (
    DATE,
    INT,
    MONEY,
    NUMBER,
    STATUS_STYLES,
    Formats,
    print_setup,
    put,
)

NOTE = ("Les actions abandonnées sont comptées par statut, mais leur montant est exclu des coûts, "
        "des financements et du reste à financer. Un chef de projet est compté « en poste » quand "
        "le jalon J2 est réalisé ou qu'un chef de projet est nommé dans l'onglet Territoire.")


def _figures(c: Consolidation, schema: Schema) -> list[tuple[str, Any, str]]:
    r = c.region
    risk = schema.config.at_risk_days
    actions = sum(t.actions for t in c.territories)
    needs = sum(t.needs for t in c.territories)
    needs_amount = sum(round(t.needs_amount * 100) for t in c.territories) / 100
    rows: list[tuple[str, Any, str]] = [
        ("Territoires attendus (liste de référence)", r.expected, "int"),
        ("Territoires reçus", r.received, "int"),
        ("Classeurs sans erreur", r.valid, "int"),
        ("Territoires manquants", r.missing, "int"),
        ("ORT signées", r.ort_signed, "int"),
        ("Part des territoires reçus ayant signé leur ORT", r.ort_signed_share, "share"),
        ("Durée médiane de J1 à J8 (mois)", r.median_months_j1_j8, "number"),
        (f"Territoires à risque ({risk} jours ou moins)", r.at_risk, "int"),
        ("Territoires en échéance dépassée", r.overdue, "int"),
        ("Chefs de projet en poste", r.leads_in_post, "int"),
        ("Territoires ayant tenu la cadence des comités de projet", r.cadence_held, "int"),
        ("Actions", actions, "int"),
        (schema.table("engagements").column("cost").label, r.cost, "money"),
        *((f.label, r.financing.get(f.financer or "", 0.0), "money") for f in schema.financer_fields),
        ("Reste à financer (€)", r.remaining, "money"),
        ("Besoins en ingénierie", needs, "int"),
        ("Montant estimé des besoins (€)", needs_amount, "money"),
    ]
    return rows


def write_synthesis(wb: Workbook, name: str, c: Consolidation, schema: Schema, fmt: Formats) -> Worksheet:

    ws = wb.add_worksheet(name)
    print_setup(ws)
    r = c.region
    ws.write_string(0, 0, f"Petites villes de demain — synthèse {r.region}", fmt.title)
    ws.write_string(1, 0, f"Période {r.period} · situation au {r.as_of.strftime('%d/%m/%Y')}", fmt.subtitle)
    ws.write_string(2, 0, NOTE, fmt.subtitle)
    ws.set_column(0, 0, 52)
    ws.set_column(1, 1, 16)
    ws.set_column(2, 8, 13)
    kinds = {"int": INT, "money": MONEY, "number": NUMBER, "date": DATE}
    row = 4
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
    anchor = 4
    anchor = _status_chart(wb, ws, c, fmt, row, anchor)
    row += len(r.status_by_department) + 3
    money = [(f.financer or f.label, r.financing.get(f.financer or "", 0.0)) for f in schema.financer_fields]
    anchor, row = _bar_chart(wb, ws, fmt, row, anchor, "Montants engagés par financeur", "Financeur",
                             "Montant (€)", money, MONEY)
    needs: list[tuple[str, float]] = [(k, float(v)) for k, v in r.needs_by_theme.items()]
    anchor, row = _bar_chart(wb, ws, fmt, row, anchor, "Besoins en ingénierie par thématique",
                             "Thématique", "Besoins", needs, INT)
    # README, consolidate asks for the needs by partner too: a plain table, the three charts are enough.
    ws.write_string(row, 0, "Besoins en ingénierie par partenaire sollicité", fmt.label)
    ws.write_string(row + 1, 0, schema.table("ingenierie").column("partner").label, fmt.header)
    ws.write_string(row + 1, 1, "Besoins", fmt.header)
    for i, (partner, n) in enumerate(r.needs_by_partner.items(), start=row + 2):
        ws.write_string(i, 0, partner)
        put(ws, i, 1, n, INT, fmt)
    return ws


def _status_chart(wb: Workbook, ws: Worksheet, c: Consolidation, fmt: Formats, row: int, anchor: int) -> int:

    by_dep = c.region.status_by_department
    statuses = [s for s in (*ORT_STATUSES, NOT_RECEIVED) if any(s in d for d in by_dep.values())]
    ws.write_string(row, 0, "Statut ORT par département", fmt.label)
    ws.write_string(row + 1, 0, "Département", fmt.header)
    for j, status in enumerate(statuses, start=1):
        ws.write_string(row + 1, j, status, fmt.header)
    for i, (dep, counts) in enumerate(by_dep.items(), start=row + 2):
        ws.write_string(i, 0, dep)
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
    chart.set_title({"name": "Statut ORT par département"})
    chart.set_x_axis({"name": "Département"})
    chart.set_y_axis({"name": "Territoires", "major_gridlines": {"visible": True}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 720, "height": 360})
    ws.insert_chart(anchor, 10, chart)
    return anchor + 19


def _bar_chart(wb: Workbook, ws: Worksheet, fmt: Formats, row: int, anchor: int, title: str,
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
