"""The `Synthèse` sheet: the regional figures as a labelled block, the small tables behind the
charts, and three native Excel charts (so they stay live when a manager filters or copies)."""

from __future__ import annotations

from typing import Any

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from pvd_reporting.consolidate.briefing import alerts, headline
from pvd_reporting.consolidate.figures import (
    DEPARTMENT_COLUMNS,
    RegionFigures,
    ValueKind,
    department_figures,
    region_figures,
)
from pvd_reporting.consolidate.view import (
    DEADLINE_LABEL,
    LAST_MILESTONE_LABEL,
    REMAINING_LABEL,
    Consolidation,
)
from pvd_reporting.format.departements import department_label
from pvd_reporting.format.schema import INGENIERIE, NOT_FILLED, NOT_RECEIVED, ORT_STATUSES, Schema
from pvd_reporting.outputs.palette import MONEY_COLOR, NEEDS_COLOR
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


def _briefing(ws: Worksheet, c: Consolidation, figures: RegionFigures, fmt: SummaryFormats, row: int) -> int:
    """« À retenir »: the sentence, then the ranked alerts; returns the next free row."""
    ws.write_string(row, 0, "À retenir", fmt.title)
    ws.write_string(row + 1, 0, headline(figures, c.region.period), fmt.label)
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
    # The footnotes under the block (a blank row first: the block ends at the first blank row).
    notes = [f"{figure.label} : {figure.note}." for figure in figures if figure.note]
    for note in notes:
        row += 1
        ws.write_string(row + 1, 0, note, fmt.subtitle)
    return row + 1 if notes else row


# Columns of the sheet (characters): A the labels, B–D a figure with T-1 and N-1, E–F T-1 and the
# period on a constant perimeter, G a gap, H–I the tables behind the charts. About 1,250 pixels:
# fit to one A4 landscape page wide at about 85 %.
WIDTHS = (44, 15, 15, 15, 18, 18, 3, 34, 15)
SIDE = 7  # the column of the tables beside the figures
# The charts, on their own page under the tables: two side by side, one under them.
CHART_WIDTH, CHART_HEIGHT, CHART_ROWS = 600, 380, 20


def write_synthesis(wb: Workbook, name: str, c: Consolidation, schema: Schema, fmt: SummaryFormats) -> Worksheet:
    """The Synthèse sheet: « À retenir », the figures (with T-1 and N-1), the tables, then the
    charts on a page of their own (never cut across two pages)."""
    ws = wb.add_worksheet(name)
    r = c.region
    ws.write_string(0, 0, f"Petites villes de demain — synthèse {r.scope}", fmt.title)
    ws.write_string(1, 0, f"Période {r.period} · situation au {r.as_of.strftime('%d/%m/%Y')}", fmt.subtitle)
    ws.merge_range(2, 0, 2, len(WIDTHS) - 1, NOTE, fmt.note)
    ws.set_row(2, 45)
    for j, width in enumerate(WIDTHS):
        ws.set_column(j, j, width)
    figures = region_figures(c, schema)
    row = _briefing(ws, c, figures, fmt, 4)
    figures_row = row
    last = _write_figures(ws, figures, fmt, row, r.period)
    # Beside the figures: the two small tables the bar charts read, sorted by value.
    money = sorted(((f.financer or f.label, r.financing.get(f.financer or f.key, 0.0))
                    for f in schema.financer_fields), key=lambda kv: -kv[1])
    side = figures_row
    money_chart, side = _bar_chart(wb, ws, fmt, side, f"Financements par financeur (€), {r.period}",
                                   "Financeur", "Montant (€)", money, MONEY)
    needs = sorted(((k, float(v)) for k, v in r.needs_by_theme.items()), key=lambda kv: -kv[1])
    needs_chart, side = _bar_chart(wb, ws, fmt, side, f"Besoins en ingénierie par thématique, {r.period}",
                                   "Thématique", "Besoins", needs, INT)
    row = max(last, side) + 2
    status_chart, row = _status_table(wb, ws, c, fmt, row)
    row = _department_table(ws, c, schema, fmt, row)
    ws.write_string(row, 0, "Besoins en ingénierie par partenaire sollicité", fmt.label)
    ws.write_string(row + 1, 0, schema.table(INGENIERIE).column("partner").label, fmt.header)
    ws.write_string(row + 1, 1, "Besoins", fmt.header)
    partners = sorted(r.needs_by_partner.items(), key=lambda kv: -kv[1])
    for i, (partner, n) in enumerate(partners, start=row + 2):
        ws.write_string(i, 0, partner)
        put(ws, i, 1, n, INT, fmt)
    row += len(partners) + 3
    # The charts begin a page: each is drawn whole on it.
    charts = [ch for ch in (status_chart, money_chart, needs_chart) if ch is not None]
    if charts:
        ws.set_h_pagebreaks([row])
    for k, chart in enumerate(charts):
        chart.set_size({"width": CHART_WIDTH, "height": CHART_HEIGHT})
        ws.insert_chart(row + (k // 2) * CHART_ROWS, 0 if k % 2 == 0 else 3, chart,
                        {"x_offset": 0 if k % 2 == 0 else 40, "object_position": 1})
    end = row + ((len(charts) + 1) // 2) * CHART_ROWS
    fit_columns(ws, fmt)
    ws.print_area(0, 0, end, len(WIDTHS) - 1)
    print_setup(ws, fit_width=True)
    ws.repeat_rows(0, 1)
    return ws


def shown_length(value: float, num_format: str) -> int:
    """How many characters a number takes once formatted as Excel shows it (French separators)."""
    if "yy" in num_format:
        return 10
    if "€" in num_format:
        return len(f"{abs(value):,.2f}") + 2 + (value < 0)
    if num_format.endswith("%"):
        decimals = 1 if "0.0%" in num_format else 0
        return len(f"{abs(value) * 100:.{decimals}f}") + 2 + (value < 0)
    if num_format == "0.0":
        return len(f"{abs(value):.1f}") + (value < 0)
    if num_format == "0":
        return len(str(round(abs(value)))) + (value < 0)
    return len(f"{value:g}")


# Characters added to the longest content: bold headers and Excel's cell padding.
COLUMN_PADDING = 1


def fit_columns(ws: Worksheet, fmt: SummaryFormats) -> None:
    """Every column at least as wide as its longest number or date (never `####`) and the longest
    word of its table headers (which wrap); wider than declared only when its content asks for it."""
    strings = {index: text for text, index in ws.str_table.string_table.items()}
    needed = dict(enumerate(WIDTHS))
    for cells in ws.table.values():
        for col, cell in cells.items():
            kind = type(cell).__name__
            number_format = getattr(cell.format, "num_format", "") if cell.format is not None else ""
            if kind in ("Number", "Datetime"):
                length = shown_length(float(cell.number), str(number_format or ""))
            elif kind == "String" and cell.format is fmt.header:
                # A header wraps (its format says so): its longest word must fit, not the whole line.
                length = max((len(word) for word in strings.get(cell.string, "").split()), default=0)
            else:
                continue
            needed[col] = max(needed.get(col, 0), length + COLUMN_PADDING)
    for col, width in needed.items():
        ws.set_column(col, col, width)


def _status_table(wb: Workbook, ws: Worksheet, c: Consolidation, fmt: SummaryFormats, row: int) -> tuple[Any, int]:
    """The ORT statuses by département, and the stacked chart that reads it; (chart, next row)."""
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
    next_row = row + len(by_dep) + 3
    if not by_dep or not any(s in ORT_STATUSES for s in statuses):
        return None, next_row  # no workbook received: nothing to chart
    first, last = row + 2, row + 1 + len(by_dep)
    chart = wb.add_chart({"type": "column", "subtype": "stacked"})
    # The territories received only: a grey stack of those not received would drown the statuses.
    for j, status in enumerate(statuses, start=1):
        if status in (NOT_RECEIVED, NOT_FILLED):
            continue
        chart.add_series({
            "name": [ws.name, row + 1, j],
            "categories": [ws.name, first, 0, last, 0],
            "values": [ws.name, first, j, last, j],
            "fill": {"color": STATUS_STYLES[status][0]},
            "border": {"color": "#FFFFFF"},
        })
    chart.set_title({"name": f"Statut ORT par département (classeurs reçus), {c.region.period}"})
    chart.set_x_axis({"name": "Département", "num_font": {"rotation": -35}})
    # Whole territories only: no « 0,5 » tick.
    chart.set_y_axis({"name": "Territoires", "major_gridlines": {"visible": True}, "major_unit": _count_step(
        max((sum(n for s, n in d.items() if s in ORT_STATUSES) for d in by_dep.values()), default=1)),
        "num_format": "0", "min": 0})
    # Beside the plot, top to bottom as the stack.
    chart.set_legend({"position": "right"})
    return chart, next_row


def _count_step(largest: int) -> int:
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500):
        if largest / step <= 8:
            return step
    return 1000


def _department_table(ws: Worksheet, c: Consolidation, schema: Schema, fmt: SummaryFormats, row: int) -> int:
    """The region by département: money and progress a manager compares; returns the next row."""
    ws.write_string(row, 0, f"Par département ({c.region.perimeter})", fmt.label)
    for j, (_key, header, _kind) in enumerate(DEPARTMENT_COLUMNS):
        ws.write_string(row + 1, j, header, fmt.header)
    rows = department_figures(c, schema)
    for i, d in enumerate(rows, start=row + 2):
        for j, (key, _header, kind) in enumerate(DEPARTMENT_COLUMNS):
            value = getattr(d, key)
            put(ws, i, j, department_label(value) if key == "department" else value, kind, fmt)
    return row + len(rows) + 3


def _bar_chart(wb: Workbook, ws: Worksheet, fmt: SummaryFormats, row: int, title: str,
               category: str, measure: str, data: list[tuple[str, float]], kind: ValueKind) -> tuple[Any, int]:
    """A small table in columns H–I and the bar chart that reads it; (chart or None, next row)."""
    col = SIDE
    ws.write_string(row, col, title, fmt.label)
    ws.write_string(row + 1, col, category, fmt.header)
    ws.write_string(row + 1, col + 1, measure, fmt.header)
    for i, (name, value) in enumerate(data, start=row + 2):
        ws.write_string(i, col, name)
        put(ws, i, col + 1, value, kind, fmt)
    next_row = row + len(data) + 3
    if not data:
        return None, next_row
    first, last = row + 2, row + 1 + len(data)
    chart = wb.add_chart({"type": "bar"})
    chart.add_series({
        "name": title,
        "categories": [ws.name, first, col, last, col],
        "values": [ws.name, first, col + 1, last, col + 1],
        "fill": {"color": MONEY_COLOR if kind == MONEY else NEEDS_COLOR},
        # The value only: no series name, no category in the label (« série ; catégorie ; valeur »).
        "data_labels": {"value": True, "series_name": False, "category": False, "num_format": fmt_code(kind)},
    })
    chart.set_title({"name": title})
    chart.set_legend({"none": True})
    chart.set_y_axis({"reverse": True})
    if kind == INT:
        chart.set_x_axis({"major_unit": _count_step(int(max(v for _, v in data))), "num_format": "0", "min": 0})
    return chart, next_row


def fmt_code(kind: str) -> str:
    return '#,##0\\ "€"' if kind == MONEY else "0"
