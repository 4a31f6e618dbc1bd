"""`synthese-nationale-<période>.xlsx`: Synthèse (the nation with T-1, one row per région),
Régions (each région at each quarter), Territoires (every territory with its région), Sources
(each history read), Anomalies (files left out, régions not reporting, territories in two régions).

Every figure comes from `consolidate.national_figures.FIGURES`, with its label: the sheets, the dashboard
and the national SQLite list the same figures in the same order.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from pvd_reporting.atomic import atomic_write
from pvd_reporting.consolidate.figures import ValueKind
from pvd_reporting.consolidate.history_model import NationalTerritory, RegionalHistory
from pvd_reporting.consolidate.national import IN_POST, NOT_REPORTING, NationalRollup
from pvd_reporting.consolidate.national_figures import (
    COST_LABEL,
    FIGURES,
    SIGNED,
    category_label,
    constant_change,
    figure_value,
)
from pvd_reporting.consolidate.view import (
    DAYS_LEFT_LABEL,
    DEADLINE_LABEL,
    LAST_MILESTONE_LABEL,
    REMAINING_LABEL,
    STATUS_LABEL,
)
from pvd_reporting.format.config import NATIONAL_CATEGORIES
from pvd_reporting.format.french import fr_decimal, fr_int, fr_money
from pvd_reporting.format.schema import build_schema
from pvd_reporting.outputs.report import plural
from pvd_reporting.outputs.summary.cells import DATE, INT, NUMBER, TEXT, Column, SummaryFormats
from pvd_reporting.outputs.summary.cells import MONEY as MONEY_CELL

SUMMARY_SHEET, REGIONS_SHEET, TERRITORIES_SHEET, SOURCES_SHEET, ANOMALIES_SHEET = (
    "Synthèse", "Régions", "Territoires", "Sources", "Anomalies")
NATION = "France"
CONSTANT_LABEL = "Évolution à périmètre constant"
TERRITORY_POPULATION = "Population des Villes PVD"
REGION_LABEL, PERIOD_LABEL, STATE_LABEL = "Région", "Période", "Remontée"
LEAD_LABEL = build_schema().form.field("project_lead").label


def summary_name(period: str) -> str:
    return f"synthese-nationale-{period}.xlsx"


def figure_columns() -> list[Column]:
    return [Column(f.label, f.kind, 14) for f in FIGURES]


def territory_columns() -> list[Column]:
    form = build_schema().form
    return [
        Column(REGION_LABEL, TEXT, 22), Column(form.field("id_pvd").label, TEXT, 16),
        Column("Territoire", TEXT, 28), Column(form.field("department").label, TEXT, 18),
        Column(form.field("epci").label, TEXT, 28), Column(form.field("siren").label, TEXT, 12),
        Column(STATUS_LABEL, TEXT, 18), Column(LAST_MILESTONE_LABEL, TEXT, 36), Column(DEADLINE_LABEL, DATE, 12),
        Column(DAYS_LEFT_LABEL, INT, 9), Column("ORT signée dans le délai", TEXT, 10), Column(LEAD_LABEL, TEXT, 16),
        Column("Cadence tenue", TEXT, 9), Column(COST_LABEL, MONEY_CELL, 15),
        *(Column(category_label(c), MONEY_CELL, 15) for c in NATIONAL_CATEGORIES),
        Column(REMAINING_LABEL, MONEY_CELL, 15), Column(TERRITORY_POPULATION, INT, 12),
        Column("Anomalie", TEXT, 40),
    ]


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("Oui" if value else "Non")


def lead_text(t: NationalTerritory, contacts: bool) -> str | None:
    """The chef de projet: « en poste » (or blank) unless contacts are asked for."""
    if contacts and t.lead_name:
        return t.lead_name
    return IN_POST if t.lead_in_post else None


def duplicate_note(t: NationalTerritory) -> str | None:
    if not t.duplicate:
        return None
    if t.counted_in is None:
        return ("Territoire présent dans une autre région aussi, sans identifiant ni liste de référence qui "
                "tranche : compté dans aucune des deux pour la France, à arbitrer.")
    if t.counted:
        return "Territoire présent dans une autre région aussi : compté ici pour la France."
    return f"Territoire présent aussi en {t.counted_in}, où il est compté pour la France."


def territory_row(t: NationalTerritory, contacts: bool) -> list[Any]:
    return [
        t.region, t.id_pvd, t.name, t.department, t.epci, t.siren, t.status, t.last_milestone,
        t.deadline, t.days_left, _yes_no(t.signed_in_time) if t.status == SIGNED else None,
        lead_text(t, contacts), _yes_no(t.cadence_held) if t.received else None,
        t.cost / 100 if t.received else None,
        *((t.by_category.get(c, 0) / 100 if t.received else None) for c in NATIONAL_CATEGORIES),
        t.remaining / 100 if t.received else None, t.population or None, duplicate_note(t),
    ]


def _kept(rollup: NationalRollup, h: RegionalHistory) -> str:
    row = next((r for r in rollup.regions if r.region == h.region), None)
    text = "Oui"
    if row is not None and row.late:
        text = (f"Non pour {rollup.period} : en retard (dernier trimestre publié : {row.late}), la région "
                "n'est pas comptée")
    return "; ".join([text, *h.notes])


def _published(h: RegionalHistory) -> str:
    """The latest quarter a file publishes and that publication, as the choice of files reads them."""
    version, when = h.publication
    return f"{h.latest} (version {version}, {when})" if version else f"{h.latest} ({when})"


def source_rows(rollup: NationalRollup) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for h in rollup.histories:
        rows.append([str(h.path), h.region, h.period_range, h.program_version, h.format_version, h.written_at,
                     h.sha256, _kept(rollup, h), _published(h)])
    for h, why in rollup.set_aside:
        rows.append([str(h.path), h.region, h.period_range, h.program_version, h.format_version, h.written_at,
                     h.sha256, "; ".join([f"Non : {why}", *h.notes]), _published(h)])
    for path, reason in rollup.refused:
        rows.append([str(path), None, None, None, None, None, None, f"Non : {reason}", None])
    return rows


SOURCE_COLUMNS = [Column("Fichier", TEXT, 50), Column(REGION_LABEL, TEXT, 22), Column("Périodes", TEXT, 20),
                  Column("Version de pvd-report", TEXT, 12), Column("Format", TEXT, 8),
                  Column("Écrit le", TEXT, 22), Column("SHA-256", TEXT, 66), Column("Pris en compte", TEXT, 60),
                  Column("Dernière publication", TEXT, 34)]
ANOMALY_COLUMNS = [Column("Type", TEXT, 26), Column("Objet", TEXT, 50), Column("Détail", TEXT, 90)]


def _french(value: float, kind: ValueKind) -> str:
    if kind == ValueKind.EUROS:
        return fr_money(value)
    return fr_int(value) if kind == ValueKind.COUNT else fr_decimal(value)


def anomaly_rows(rollup: NationalRollup) -> list[list[str]]:
    """What the nation should know about its inputs, in French, one row each."""
    rows = [["Fichier écarté", str(path), reason] for path, reason in rollup.refused]
    rows += [["Fichier non compté", str(h.path), why] for h, why in rollup.set_aside]
    rows += [["Région en retard", r.region, f"{r.status} : pas de chiffres pour {rollup.period}, la région "
              "n'est comptée ni pour la période ni à T-1"] for r in rollup.late_regions]
    rows += [["Région non remontée", name, f"aucun historique de la période {rollup.period} : comptée comme "
              "non remontée, jamais comme zéro"] for name in rollup.missing_regions]
    rows += [["Territoire dans deux régions", d.name,
              f"{d.key} trouvé en {', '.join(d.regions)} : "
              + (f"compté une fois pour la France, en {d.counted_in}" if d.counted_in else
                 "ni son identifiant ni la liste de référence ne le placent : compté dans aucune des deux pour "
                 "la France, à arbitrer")]
             for d in rollup.duplicates]
    kinds = {f.label: f.kind for f in FIGURES}
    rows += [["Chiffre différent de la région", f"{region} : {label}",
              f"publié par la région : {_french(published, kinds[label])} ; additionné ici : "
              f"{_french(ours, kinds[label])}"]
             for region, label, published, ours in rollup.differences]
    return rows


def _table(ws: Worksheet, first: int, columns: list[Column], rows: list[list[Any]], fmt: SummaryFormats,
           name: str, status_col: int | None = None) -> None:
    """An Excel table with filters, typed cells, the header frozen."""
    for c, col in enumerate(columns):
        ws.set_column(c, c, col.width)
    for r, row in enumerate(rows, start=first + 1):
        for c, (value, col) in enumerate(zip(row, columns, strict=True)):
            _cell(ws, r, c, value, col.kind, fmt)
    ws.add_table(first, 0, first + max(len(rows), 1), len(columns) - 1, {
        "name": name, "style": "Table Style Light 9",
        "columns": [{"header": col.header, "header_format": fmt.header} for col in columns],
    })
    if status_col is not None and rows:
        for status, style in fmt.status.items():
            ws.conditional_format(first + 1, status_col, first + len(rows), status_col, {
                "type": "cell", "criteria": "==", "value": f'"{status}"', "format": style})


def _cell(ws: Worksheet, r: int, c: int, value: Any, kind: ValueKind, fmt: SummaryFormats) -> None:
    style = fmt.cell[kind]
    if value is None or value == "":
        ws.write_blank(r, c, None, style)
    elif kind == DATE and isinstance(value, str):
        try:
            day = date.fromisoformat(value[:10])
            ws.write_datetime(r, c, datetime(day.year, day.month, day.day), style)
        except ValueError:
            ws.write_string(r, c, value, fmt.cell[TEXT])
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        ws.write_number(r, c, value, style if kind != TEXT else fmt.cell[NUMBER])
    else:
        ws.write_string(r, c, str(value), fmt.cell[TEXT])


def _figure_cells(figures: Any) -> list[Any]:
    return [figure_value(f, figures) for f in FIGURES]


def _print(ws: Worksheet, pages_high: int, repeat: tuple[int, int] | None, columns: int,
           pages_wide: int = 1) -> None:
    """A4 landscape, fit to `pages_wide` pages across (the first column repeated on each) and at
    most `pages_high` down, headers repeated."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(pages_wide, pages_high)
    if pages_wide > 1:
        ws.repeat_columns(0, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.center_horizontally()
    ws.set_footer("&L&A&RPage &P / &N")
    if repeat is not None:
        ws.repeat_rows(*repeat)
    ws.print_area(0, 0, ws.dim_rowmax or 0, columns - 1)


def _summary_sheet(wb: Workbook, rollup: NationalRollup, fmt: SummaryFormats) -> None:
    ws = wb.add_worksheet(SUMMARY_SHEET)
    ws.write_string(0, 0, f"Synthèse nationale Petites villes de demain — période {rollup.period}", fmt.title)
    missing = rollup.missing_regions
    late = [f"{r.region} ({r.late})" for r in rollup.late_regions]
    line = (f"{plural(rollup.reporting, 'région remontée', 'régions remontées')} sur {len(rollup.regions)}"
            + (f" · en retard, non comptées : {', '.join(late)}" if late else "")
            + (f" · non remontées : {', '.join(missing)}" if missing else ""))
    ws.write_string(1, 0, line, fmt.subtitle)
    ws.write_string(2, 0, "Une région non remontée ou en retard n'est comptée dans aucun chiffre : ni zéro, ni "
                    "estimation ; T-1 est pris sur les mêmes régions.", fmt.subtitle)
    previous = f"T-1 ({rollup.previous}, mêmes régions)" if rollup.previous else "T-1"
    head = 4
    for c, text in enumerate(("Indicateur", rollup.period, previous, CONSTANT_LABEL)):
        ws.write_string(head, c, text, fmt.header)
    for r, f in enumerate(FIGURES, start=head + 1):
        ws.write_string(r, 0, f.label, fmt.label)
        _cell(ws, r, 1, figure_value(f, rollup.nation), f.kind, fmt)
        _cell(ws, r, 2, figure_value(f, rollup.nation_previous), f.kind, fmt)
        _cell(ws, r, 3, constant_change(f, rollup.constant), f.kind, fmt)
    note = head + len(FIGURES) + 1
    without = rollup.nation.without_population
    if without:
        ws.write_string(note, 0, f"Coût par habitant : {plural(without, 'territoire reçu', 'territoires reçus')} "
                        "sans population de Villes PVD, hors du coût et de la population.", fmt.subtitle)
    first = note + 3
    ws.write_string(first - 1, 0, f"Par région — {rollup.period}", fmt.label)
    columns = [Column(REGION_LABEL, TEXT, 34), Column(STATE_LABEL, TEXT, 16), *figure_columns()]
    rows = [[r.region, r.status, *_figure_cells(r.figures)] for r in rollup.regions]
    rows.append([NATION, f"{rollup.reporting} sur {len(rollup.regions)}", *_figure_cells(rollup.nation)])
    _table(ws, first, columns, rows, fmt, "Synthese_regions")
    # Wide enough for the nation's figures above the table (a label, a billion euros to the cent).
    ws.set_column(0, 0, 46)
    ws.set_column(1, 3, 19)
    ws.freeze_panes(first + 1, 1)
    # Three pages across, one down: the région's row read at a size a manager can read, its name on each.
    _print(ws, 1, (first, first), len(columns), pages_wide=3)


def write_national_summary(rollup: NationalRollup, output_dir: Path) -> Path:
    """Write the national summary workbook; returns its path."""

    def write(tmp: Path) -> None:
        wb = Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False,
                                 "default_date_format": "dd/mm/yyyy"})
        fmt = SummaryFormats(wb)
        _summary_sheet(wb, rollup, fmt)
        ws = wb.add_worksheet(REGIONS_SHEET)
        columns = [Column(REGION_LABEL, TEXT, 28), Column(PERIOD_LABEL, TEXT, 10), Column(STATE_LABEL, TEXT, 14),
                   *figure_columns()]
        reporting = {(r.region, r.period): r for r in rollup.by_quarter}
        names = [r.region for r in rollup.regions]
        rows = []
        for period in rollup.periods:
            for name in names:
                row = reporting.get((name, period))
                rows.append([name, period, row.status if row else NOT_REPORTING,
                             *_figure_cells(row.figures if row else None)])
        _table(ws, 0, columns, rows, fmt, "Regions")
        ws.freeze_panes(1, 2)
        _print(ws, 2, (0, 0), len(columns))
        ws = wb.add_worksheet(TERRITORIES_SHEET)
        columns = territory_columns()
        rows = [territory_row(t, rollup.contacts) for t in rollup.territories]
        _table(ws, 0, columns, rows, fmt, "Territoires", status_col=6)
        ws.freeze_panes(1, 3)
        _print(ws, 0, (0, 0), len(columns))
        ws = wb.add_worksheet(SOURCES_SHEET)
        _table(ws, 0, SOURCE_COLUMNS, source_rows(rollup), fmt, "Sources")
        ws.freeze_panes(1, 0)
        _print(ws, 0, (0, 0), len(SOURCE_COLUMNS))
        ws = wb.add_worksheet(ANOMALIES_SHEET)
        _table(ws, 0, ANOMALY_COLUMNS, anomaly_rows(rollup), fmt, "Anomalies")
        ws.freeze_panes(1, 0)
        _print(ws, 0, (0, 0), len(ANOMALY_COLUMNS))
        wb.close()

    return atomic_write(Path(output_dir) / summary_name(rollup.period), write)

