"""The `Synthèse` sheet: the regional figures as a labelled block, the small tables behind the
charts, and three native Excel charts (so they stay live when a manager filters or copies)."""

from __future__ import annotations

from typing import Any

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from pvd_reporting.consolidate.briefing import alerts, headline
from pvd_reporting.consolidate.figures import RegionFigures, ValueKind, region_figures
from pvd_reporting.consolidate.view import (
    DEADLINE_LABEL,
    LAST_MILESTONE_LABEL,
    REMAINING_LABEL,
    Consolidation,
)
from pvd_reporting.format.departements import department_label
from pvd_reporting.format.schema import INGENIERIE, NOT_FILLED, NOT_RECEIVED, ORT_STATUSES, Schema
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
    put_figure,
)

PREVIOUS, YEAR_BEFORE = "T-1", "N-1"
CONSTANT = "à périmètre constant"

NOTE = ("Coût total = total des financements − financements au-delà du coût (actions dont les "
        "financements dépassent le coût) + reste à financer. Les actions abandonnées sont comptées "
        "par statut, mais leur montant est exclu des coûts, des financements et du reste à financer. "
        "Un chef de projet est compté « en poste » quand le jalon J2 est réalisé ou qu'un chef de "
        "projet est nommé dans l'onglet Territoire.")


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
        values: list[tuple[Any, ValueKind]] = [
            (alert.kind, TEXT), (alert.who, TEXT),
            (department_label(one.department) if one else None, TEXT),
            (alert.deadline, DATE), (alert.months_late, NUMBER), (alert.months_left, NUMBER),
            (alert.last_milestone, TEXT), (alert.remaining, MONEY), (alert.detail, TEXT),
        ]
        for j, (value, kind) in enumerate(values):
            put(ws, row, j, value, kind, fmt)
    return row + 2


def _write_figures(ws: Worksheet, figures: RegionFigures, fmt: SummaryFormats, row: int, current: str) -> int:
    """The figures under `Chiffre` and `Valeur`, and beside them `T-1` and `N-1` when there is a
    history; returns the row of the last figure."""
    ws.write_string(row, 0, "Chiffre", fmt.header)
    ws.write_string(row, 1, "Valeur", fmt.header)
    if figures.has_history:
        for col, (header, period) in enumerate(((PREVIOUS, figures.previous), (YEAR_BEFORE, figures.year_before)),
                                               start=2):
            ws.write_string(row, col, f"{header} ({period})" if period else header, fmt.header)
    constant = figures.constant
    if constant is not None:
        # Beside T-1: the same figures on the territories received in both quarters, so that a
        # territory that did not send does not read as money lost.
        on = f"{constant} territoire{'s' if constant > 1 else ''} reçu{'s' if constant > 1 else ''} aux deux trimestres"
        ws.write_string(row, 4, f"{PREVIOUS} {CONSTANT} ({figures.previous}, {on})", fmt.header)
        ws.write_string(row, 5, f"{current} {CONSTANT} ({on})", fmt.header)
        ws.set_column(4, 5, 18)
    for figure in figures:
        row += 1
        ws.write_string(row, 0, figure.label, fmt.label)
        put_figure(ws, row, 1, figure.value, figure.kind, fmt)
        if figures.has_history:
            put_figure(ws, row, 2, figure.previous, figure.kind, fmt)
            put_figure(ws, row, 3, figure.year_before, figure.kind, fmt)
        if constant is not None:
            put_figure(ws, row, 4, figure.constant_previous, figure.kind, fmt)
            put_figure(ws, row, 5, figure.constant_current, figure.kind, fmt)
    return row


def write_synthesis(wb: Workbook, name: str, c: Consolidation, schema: Schema, fmt: SummaryFormats) -> Worksheet:
    """The Synthèse sheet: « À retenir », the figures (with T-1 and N-1), the tables and charts."""
    ws = wb.add_worksheet(name)
    print_setup(ws, repeat_columns=1)
    r = c.region
    ws.write_string(0, 0, f"Petites villes de demain — synthèse {r.scope}", fmt.title)
    ws.write_string(1, 0, f"Période {r.period} · situation au {r.as_of.strftime('%d/%m/%Y')}", fmt.subtitle)
    ws.write_string(2, 0, NOTE, fmt.subtitle)
    ws.set_column(0, 0, 52)
    ws.set_column(1, 1, 30)
    ws.set_column(2, 8, 13)
    row = _briefing(ws, c, fmt, 4)
    figures_row = row
    row = _write_figures(ws, region_figures(c, schema), fmt, row, r.period)
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
    # The needs by partner too: a plain table, the three charts are enough.
    ws.write_string(row, 0, "Besoins en ingénierie par partenaire sollicité", fmt.label)
    ws.write_string(row + 1, 0, schema.table(INGENIERIE).column("partner").label, fmt.header)
    ws.write_string(row + 1, 1, "Besoins", fmt.header)
    for i, (partner, n) in enumerate(r.needs_by_partner.items(), start=row + 2):
        ws.write_string(i, 0, partner)
        put(ws, i, 1, n, INT, fmt)
    return ws


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
               category: str, measure: str, data: list[tuple[str, float]], kind: ValueKind) -> tuple[int, int]:

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
    return '#,##0 "€"' if kind == MONEY else "0"
