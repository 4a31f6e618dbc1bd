"""The summary workbook `synthese-pvd-<period>.xlsx` (README, Ce que contient chaque sortie), written with xlsxwriter.

xlsxwriter writes the structure and the Synthèse sheet; the tables' data rows are streamed in
afterwards by xmlrows.py, where every text is an inline string: a cell typed `=HYPERLINK(…)`
or `+33…` in a territory workbook stays text.
The Synthèse sheet (figures and native charts) is built in synthesis.py, the cells in cells.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from pvd_reporting.atomic import atomic_write
from pvd_reporting.consolidate.batch import period_of, placement
from pvd_reporting.consolidate.view import (
    BEYOND_COST_LABEL,
    DAYS_LEFT_LABEL,
    DEADLINE_LABEL,
    LAST_MILESTONE_LABEL,
    REMAINING_LABEL,
    STATUS_LABEL,
    Consolidation,
    TerritoryView,
)
from pvd_reporting.format.departements import department_label
from pvd_reporting.format.issues import SEVERITY_LABELS, json_value
from pvd_reporting.format.matching import slug
from pvd_reporting.format.schema import VERSION_LABEL, Field, Schema
from pvd_reporting.outputs.anomalies import CONTACT_KEYS, Masker, mask_issue
from pvd_reporting.outputs.summary.cells import (
    DATE,
    INT,
    MONEY,
    NUMBER,
    PERCENT,
    TEXT,
    Column,
    SummaryFormats,
    field_kind,
    print_setup,
)
from pvd_reporting.outputs.summary.evolution import write_history_sheets
from pvd_reporting.outputs.summary.synthesis import write_synthesis
from pvd_reporting.outputs.summary.xmlrows import PendingRows, inject_rows
from pvd_reporting.read.records import Record

SHEET_ORDER = ("jalons", "engagements", "comites", "ingenierie", "annuaire")
TERRITORIES = "Territoires"
ANOMALIES = "Anomalies"
SOURCES = "Sources"
SYNTHESIS = "Synthèse"
STATUS_HEADER = STATUS_LABEL
SIGNED_IN_TIME_HEADER = "ORT signée dans le délai"
MONTHS_LATE_HEADER = "Retard de signature (mois)"


def unique_headers(headers: list[str]) -> list[str]:
    """Excel tables need distinct headers."""
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        n = seen.get(h.casefold(), 0)
        seen[h.casefold()] = n + 1
        out.append(h if n == 0 else f"{h} ({n + 1})")
    return out


def table_sheet(wb: Workbook, name: str, columns: list[Column], rows: list[list[Any]], fmt: SummaryFormats,
                pending: list[PendingRows]) -> Worksheet:
    """A sheet holding one Excel table: headers, filters, frozen header row, widths.

    The data rows are streamed into the finished file by `sheetrows.inject_rows`; here they
    are only queued with their sheet's index and each column's style.
    """
    ws = wb.add_worksheet(name)
    headers = unique_headers([c.header for c in columns])
    # Declared over the header and one data row; sheetrows widens it to every row.
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

SUFFIX = (Column("Contrôle", TEXT, 14), Column("Fichier", TEXT, 30), Column("Onglet", TEXT, 14),
          Column("Ligne", INT, 7))


def _prefix(schema: Schema) -> list[Column]:
    return [Column(schema.form.field("id_pvd").label, TEXT, 14), Column(schema.form.name, TEXT, 26)]


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
    fields = list(schema.table(key).columns)
    if key == "annuaire" and no_contacts:
        fields = [f for f in fields if f.key not in CONTACT_KEYS]
    return fields


def data_rows(consolidation: Consolidation, schema: Schema, key: str, fields: list[Field],
              mask: Masker | None = None) -> list[list[Any]]:
    hide = mask or (lambda v: v)
    out = []
    for t, record in consolidation.rows.get(key, []):
        sheet = (t.report.data.sheet_titles.get(key) if t.report is not None else None) or record.sheet
        out.append([t.id_pvd, t.name, *(hide(record_value(record, f.key)) for f in fields),
                    *_source(t, record.control, sheet, record.row)])
    return out


def territory_columns(schema: Schema) -> list[Column]:
    form = schema.form
    statuses = schema.lists["statut_action"]
    return [
        *_prefix(schema),
        Column(form.field("department").label, TEXT, 16),
        Column(form.field("epci").label, TEXT, 28),
        Column(form.field("siren").label, TEXT, 12),
        Column("Communes", TEXT, 30),
        Column(LAST_MILESTONE_LABEL, TEXT, 40),
        Column("Jalons réalisés (sur 8)", INT, 10),
        Column("Date J1", DATE, 12),
        Column("Date J8", DATE, 12),
        Column(DEADLINE_LABEL, DATE, 12),
        Column("Prolongée par avenant", TEXT, 10),
        Column(STATUS_HEADER, TEXT, 18),
        Column(SIGNED_IN_TIME_HEADER, TEXT, 10),
        Column(MONTHS_LATE_HEADER, NUMBER, 10),
        Column(DAYS_LEFT_LABEL, INT, 9),
        Column(form.field("project_lead").label, TEXT, 22),
        Column("ETP (%)", PERCENT, 8),
        Column(form.field("cofinancing").label, TEXT, 20),
        Column("Comités de projet (4 derniers trimestres)", INT, 12),
        Column("Cadence tenue", TEXT, 9),
        Column("Actions", INT, 8),
        *(Column(f"Actions : {s}", INT, 10) for s in statuses),
        Column(schema.table("engagements").column("cost").label, MONEY, 15),
        *(Column(f.label, MONEY, 15) for f in schema.financer_fields),
        Column(BEYOND_COST_LABEL, MONEY, 15),
        Column(REMAINING_LABEL, MONEY, 15),
        Column("Besoins", INT, 8),
        Column("Montant des besoins (€)", MONEY, 15),
        Column("Erreurs", INT, 8),
        Column("Avertissements", INT, 8),
        *SUFFIX,
    ]


def _communes(t: TerritoryView) -> str | None:
    if t.report is None:
        return None
    names = [f"{r.values.get('name') or r.raw.get('name') or '?'} ({r.values.get('insee') or r.raw.get('insee') or '?'})"
             for r in t.report.data.rows("communes")]
    return ", ".join(names) or None


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("Oui" if value else "Non")


def territory_row(t: TerritoryView, schema: Schema, no_contacts: bool = False) -> list[Any]:
    statuses = schema.lists["statut_action"]
    head = [t.id_pvd, t.name, department_label(t.department) if t.department else None, t.epci, t.siren,
            _communes(t)]
    if not t.received:
        headers = [c.header for c in territory_columns(schema)]
        row = head + [None] * (len(headers) - len(head))
        row[headers.index(STATUS_HEADER)] = t.ort_status
        return row
    return [
        *head,
        t.last_milestone, t.milestones_done, t.j1_on, t.j8_on, t.ort_deadline,
        "Oui" if t.deadline_extended else "Non", t.ort_status, _yes_no(t.signed_in_time), t.months_late,
        t.days_left,
        _lead(t.project_lead, no_contacts), t.etp / 100 if isinstance(t.etp, (int, float)) else t.etp, t.cofinancing,
        t.comites_last4, _yes_no(t.cadence_held), t.actions,
        *(t.actions_by_status.get(s, 0) for s in statuses),
        t.cost, *(t.financing.get(f.financer or f.key, 0.0) for f in schema.financer_fields),
        t.beyond_cost, t.remaining, t.needs, t.needs_amount, t.errors, t.warnings,
        *_source(t, t.control, schema.form.name, None),
    ]


def _lead(name: Any, no_contacts: bool) -> Any:
    # Without contacts, say whether a chef de projet is named, not who.
    return ("En poste" if name else None) if no_contacts else name


def anomaly_rows(consolidation: Consolidation, schema: Schema, no_contacts: bool = False) -> list[list[Any]]:
    annuaire = schema.table("annuaire").name
    hide = Masker(consolidation, no_contacts)
    out = []
    for report, issue in consolidation.anomalies:
        if no_contacts:
            issue = mask_issue(issue, hide, annuaire)
        value = json_value(issue.value)
        out.append([report.id_pvd, report.territory, report.path, SEVERITY_LABELS.get(issue.severity, str(issue.severity)),
                    issue.code, issue.sheet, issue.cell, issue.column,
                    None if value is None else str(value), issue.message])
    return out


def anomaly_columns(schema: Schema) -> list[Column]:
    return [*_prefix(schema), Column("Fichier", TEXT, 30), *ANOMALY_DETAIL]


ANOMALY_DETAIL = [Column("Gravité", TEXT, 14), Column("Code", TEXT, 22), Column("Onglet", TEXT, 14),
                  Column("Cellule", TEXT, 8), Column("Colonne", TEXT, 22), Column("Valeur", TEXT, 20),
                  Column("Message", TEXT, 80)]


def source_rows(consolidation: Consolidation) -> list[list[Any]]:
    out = []
    for report in consolidation.reports:
        out.append([report.path, report.size, report.sha256, report.version,
                    period_of(report) if report.data is not None else report.period, report.verdict,
                    placement(consolidation, report), report.id_pvd, report.territory,
                    report.errors, report.warnings])
    return out


def source_columns(schema: Schema) -> list[Column]:
    return [Column("Fichier", TEXT, 34), Column("Taille (octets)", INT, 12), Column("SHA-256", TEXT, 66),
            Column(VERSION_LABEL, TEXT, 10), Column(schema.form.field("period").label, TEXT, 10),
            Column("Verdict", TEXT, 14), Column("Prise en compte", TEXT, 16),
            *_prefix(schema),
            Column("Erreurs", INT, 8), Column("Avertissements", INT, 8)]


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
    territory_rows = [territory_row(t, schema, no_contacts) for t in consolidation.territories]
    ws = table_sheet(wb, TERRITORIES, columns, territory_rows, fmt, pending)
    status_col = [c.header for c in columns].index(STATUS_HEADER)
    last = max(len(consolidation.territories), 1)
    for status, style in fmt.status.items():
        ws.conditional_format(1, status_col, last, status_col,
                              {"type": "cell", "criteria": "==", "value": f'"{status}"', "format": style})
    mask = Masker(consolidation, no_contacts)
    for key in SHEET_ORDER:
        fields = data_sheet_columns(schema, key, no_contacts)
        cols = [*_prefix(schema), *(Column(f.label, field_kind(f), f.width) for f in fields), *SUFFIX]
        table_sheet(wb, schema.table(key).name, cols, data_rows(consolidation, schema, key, fields, mask), fmt, pending)
    table_sheet(wb, ANOMALIES, anomaly_columns(schema), anomaly_rows(consolidation, schema, no_contacts), fmt, pending)
    table_sheet(wb, SOURCES, source_columns(schema), source_rows(consolidation), fmt, pending)
    write_history_sheets(wb, consolidation, schema, fmt, pending, table_sheet, no_contacts)
    wb.close()
    inject_rows(path, pending, fmt.row_styles)


# --- writing alongside the other outputs --------------------------------------------------------

_pending: tuple[Consolidation, Path, Schema, bool] | None = None


def _write_pending() -> Path:
    assert _pending is not None
    consolidation, path, schema, no_contacts = _pending
    return write_summary(consolidation, path, schema, no_contacts=no_contacts)


def start_summary(consolidation: Consolidation, path: Path, schema: Schema, *,
                  no_contacts: bool = False) -> Callable[[], Path]:
    """Start writing the summary workbook; the returned function waits for it and gives its path.

    The summary is the longest output (xlsxwriter, some 100,000 rows at national scale, README, Vitesse):
    on a machine with several cores it is written by a forked process while the caller writes
    the dashboard and the charts. The fork shares the consolidation without pickling it.
    Elsewhere (one core, no fork), it is simply written now.
    """
    import multiprocessing

    if (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        written = write_summary(consolidation, path, schema, no_contacts=no_contacts)
        return lambda: written
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    global _pending
    _pending = (consolidation, path, schema, no_contacts)
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
    try:
        future = pool.submit(_write_pending)
    finally:
        _pending = None  # the child has its copy; the parent must not keep the view alive

    def wait() -> Path:
        try:
            return future.result()
        except BrokenProcessPool:
            # The writer process died (killed, out of memory): write it here instead.
            return write_summary(consolidation, path, schema, no_contacts=no_contacts)
        finally:
            pool.shutdown()

    return wait
