"""Each output table's columns, declared once: header, kind, width and how a row's value is read.

The summary's `Territoires` and `Évolution` sheets, the dashboard's territory table and the
SQLite `territoires` table (the `Territoires` sheet's columns) are lists of these declarations.
A figure totalled per territory (as the cost) is one line of `territory_totals`: it then shows
in every table its `tables` name (all of them unless told). The `Sources` and `Anomalies` sheets
and their SQLite tables read their declarations here too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pvd_reporting.consolidate.batch import period_of, placement
from pvd_reporting.consolidate.figures import ACTIONS_LABEL, ValueKind
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
from pvd_reporting.format.issues import SEVERITY_LABELS, Issue, WorkbookReport, json_value
from pvd_reporting.format.schema import COMMUNES, ENGAGEMENTS, VERSION_LABEL, Schema
from pvd_reporting.read.discover import NOT_A_WORKBOOK

TEXT, COUNT, EUROS, MONTHS, PERCENT, DATE = (ValueKind.TEXT, ValueKind.COUNT, ValueKind.EUROS, ValueKind.MONTHS,
                                              ValueKind.PERCENT, ValueKind.DATE)

# The tables a territory's column can show in. SQLite's `territoires` follows `Territoires`.
TERRITORIES = "Territoires"
EVOLUTION = "Évolution"
DASHBOARD = "Tableau de bord"
ALL_TABLES = (TERRITORIES, EVOLUTION, DASHBOARD)


@dataclass(frozen=True)
class RowContext:
    """What a row needs beyond its item: the period of its consolidation, the contacts' choice."""

    period: str = ""
    no_contacts: bool = False
    consolidation: Consolidation | None = None


# Reads a row's value from its item: a territory, a workbook's report, an anomaly.
Getter = Callable[[Any, RowContext], Any]


@dataclass(frozen=True)
class Column:
    """One column of an output table. `get` reads the value from the row's item (a territory, a
    workbook's report, an anomaly); `missing` says it is filled for a territory not received too;
    `tables` lists the tables of territories it shows in; `short` is its header on the dashboard."""

    header: str
    kind: ValueKind = TEXT
    width: int = 16
    get: Getter | None = None
    tables: tuple[str, ...] = ALL_TABLES
    short: str = ""
    missing: bool = False


def territory_row(columns: Sequence[Column], t: TerritoryView, ctx: RowContext) -> list[Any]:
    """A territory's row: every column read, or for one not received only the columns marked `missing`."""
    return [c.get(t, ctx) if c.get is not None and (t.received or c.missing) else None for c in columns]


def table_row(columns: Sequence[Column], item: Any, ctx: RowContext) -> list[Any]:
    """A row of any table: each column's value read from `item`."""
    return [c.get(item, ctx) if c.get is not None else None for c in columns]


def yes_no(value: bool | None) -> str | None:
    return None if value is None else ("Oui" if value else "Non")


def identity(schema: Schema, id_pvd: Getter = lambda t, x: t.id_pvd,
             name: Getter = lambda t, x: t.name) -> list[Column]:
    """The territory's Identifiant PVD and name: every table of territories begins with them (they
    are repeated on print); `id_pvd` and `name` read them from another kind of row."""
    return [Column(schema.form.field("id_pvd").label, TEXT, 14, id_pvd, missing=True),
            Column(schema.form.name, TEXT, 26, name, missing=True)]


def _financer(name: str) -> Getter:
    return lambda t, x: t.financing.get(name, 0.0)


def _actions(status: str) -> Getter:
    return lambda t, x: t.actions_by_status.get(status, 0)


def territory_totals(schema: Schema, table: str) -> list[Column]:
    """The figures totalled per territory (actions, euros, needs), in the order every table shows
    them, keeping those `table` shows. A new total is one line here."""
    T, E = TERRITORIES, EVOLUTION
    totals = [
        Column(ACTIONS_LABEL, COUNT, 8, lambda t, x: t.actions, (T,)),
        *(Column(f"Actions : {s}", COUNT, 10, _actions(s), (T, E)) for s in schema.lists["statut_action"]),
        Column(schema.table(ENGAGEMENTS).column("cost").label, EUROS, 15, lambda t, x: t.cost, short="Coût"),
        *(Column(f.label, EUROS, 15, _financer(f.financer or f.key), (T, E)) for f in schema.financer_fields),
        Column(BEYOND_COST_LABEL, EUROS, 15, lambda t, x: t.beyond_cost, (T,)),
        Column(REMAINING_LABEL, EUROS, 15, lambda t, x: t.remaining, short="Reste à financer"),
        Column("Comités de projet du trimestre", COUNT, 11, lambda t, x: t.comites_by_quarter.get(x.period, 0), (E,)),
        Column("Besoins", COUNT, 8, lambda t, x: t.needs, (T, E)),
        Column("Montant des besoins (€)", EUROS, 15, lambda t, x: t.needs_amount, (T,)),
    ]
    return [c for c in totals if table in c.tables]


# Headers of the `Territoires` sheet that other parts of the summary refer to.
SIGNED_IN_TIME_HEADER = "ORT signée dans le délai"
MONTHS_LATE_HEADER = "Retard de signature (mois)"


def _communes(t: TerritoryView) -> str | None:
    if t.report is None:
        return None
    names = [f"{r.values.get('name') or r.raw.get('name') or '?'} ({r.values.get('insee') or r.raw.get('insee') or '?'})"
             for r in t.report.data.rows(COMMUNES)]
    return ", ".join(names) or None


def _lead(t: TerritoryView, ctx: RowContext) -> Any:
    # Without contacts, say whether a chef de projet is named, not who.
    return ("En poste" if t.project_lead else None) if ctx.no_contacts else t.project_lead


def where_read(sheet: str) -> list[Column]:
    """Where a row was read: its control, file, sheet and row (`sheet` for a territory's own row)."""
    def path(t: TerritoryView) -> str | None:
        return t.report.path if t.report is not None else None

    return [Column("Contrôle", TEXT, 14, lambda t, x: t.control),
            Column("Fichier", TEXT, 30, lambda t, x: path(t)),
            Column("Onglet", TEXT, 14, lambda t, x: sheet if path(t) else None),
            Column("Ligne", COUNT, 7, lambda t, x: None)]


def territory_columns(schema: Schema) -> list[Column]:
    """The `Territoires` sheet, and SQLite's `territoires` table."""
    form = schema.form
    return [
        *identity(schema),
        Column(form.field("department").label, TEXT, 16,
               lambda t, x: department_label(t.department) if t.department else None, missing=True),
        Column(form.field("epci").label, TEXT, 28, lambda t, x: t.epci, missing=True),
        Column(form.field("siren").label, TEXT, 12, lambda t, x: t.siren, missing=True),
        Column("Communes", TEXT, 30, lambda t, x: _communes(t), missing=True),
        Column(LAST_MILESTONE_LABEL, TEXT, 40, lambda t, x: t.last_milestone),
        Column("Jalons réalisés (sur 8)", COUNT, 10, lambda t, x: t.milestones_done),
        Column("Date J1", DATE, 12, lambda t, x: t.j1_on),
        Column("Date J8", DATE, 12, lambda t, x: t.j8_on),
        Column(DEADLINE_LABEL, DATE, 12, lambda t, x: t.ort_deadline),
        Column("Prolongée par avenant", TEXT, 10, lambda t, x: yes_no(t.deadline_extended)),
        Column(STATUS_LABEL, TEXT, 18, lambda t, x: t.ort_status, missing=True),
        Column(SIGNED_IN_TIME_HEADER, TEXT, 10, lambda t, x: yes_no(t.signed_in_time)),
        Column(MONTHS_LATE_HEADER, MONTHS, 10, lambda t, x: t.months_late),
        Column(DAYS_LEFT_LABEL, COUNT, 9, lambda t, x: t.days_left),
        Column(form.field("project_lead").label, TEXT, 22, _lead),
        Column("ETP (%)", PERCENT, 8, lambda t, x: t.etp / 100 if isinstance(t.etp, (int, float)) else t.etp),
        Column(form.field("cofinancing").label, TEXT, 20, lambda t, x: t.cofinancing),
        Column("Comités de projet (4 derniers trimestres)", COUNT, 12, lambda t, x: t.comites_last4),
        Column("Cadence tenue", TEXT, 9, lambda t, x: yes_no(t.cadence_held)),
        *territory_totals(schema, TERRITORIES),
        Column(ERRORS_HEADER, COUNT, 8, lambda t, x: t.errors),
        Column(WARNINGS_HEADER, COUNT, 8, lambda t, x: t.warnings),
        *where_read(form.name),
    ]


RECEIVED_HEADER = "Reçu"


def evolution_columns(schema: Schema) -> list[Column]:
    """The `Évolution` sheet: one row per territory per period."""
    return [
        *identity(schema),
        Column("Période", TEXT, 10, lambda t, x: x.period, missing=True),
        Column(RECEIVED_HEADER, TEXT, 7, lambda t, x: yes_no(t.received), missing=True),
        Column(STATUS_LABEL, TEXT, 18, lambda t, x: t.ort_status, missing=True),
        Column(LAST_MILESTONE_LABEL, TEXT, 40, lambda t, x: t.last_milestone),
        Column("Jalons réalisés", COUNT, 9, lambda t, x: t.milestones_done),
        Column(DEADLINE_LABEL, DATE, 12, lambda t, x: t.ort_deadline),
        Column(DAYS_LEFT_LABEL, COUNT, 9, lambda t, x: t.days_left),
        *territory_totals(schema, EVOLUTION),
    ]


def dashboard_totals(schema: Schema) -> list[Column]:
    """The totals of the dashboard's territory table, between the chef de projet and the errors."""
    return territory_totals(schema, DASHBOARD)


# --- Sources: one row per workbook read (a `WorkbookReport`) ------------------------------------

ERRORS_HEADER, WARNINGS_HEADER = "Erreurs", "Avertissements"


SOURCE_FILE_HEADER, PLACEMENT_HEADER = "Fichier", "Prise en compte"


def not_workbook_row(columns: Sequence[Column], path: str) -> list[Any]:
    """The `Sources` row of a file of the input folder that is not a workbook: its name and why
    it was not read, nothing else."""
    shown = {SOURCE_FILE_HEADER: path, PLACEMENT_HEADER: NOT_A_WORKBOOK}
    return [shown.get(c.header) for c in columns]


def report_identity(schema: Schema) -> list[Column]:
    return identity(schema, name=lambda r, x: r.territory)


def source_columns(schema: Schema) -> list[Column]:
    """The `Sources` sheet: every workbook read, how it was used. SQLite's `sources` puts the
    territory's identity first, as every other table."""
    def where(r: WorkbookReport, x: RowContext) -> str:
        assert x.consolidation is not None
        return placement(x.consolidation, r)

    return [Column(SOURCE_FILE_HEADER, TEXT, 34, lambda r, x: r.path),
            Column("Taille (octets)", COUNT, 12, lambda r, x: r.size),
            Column("SHA-256", TEXT, 66, lambda r, x: r.sha256), Column(VERSION_LABEL, TEXT, 10, lambda r, x: r.version),
            Column(schema.form.field("period").label, TEXT, 10,
                   lambda r, x: period_of(r) if r.data is not None else r.period),
            Column("Verdict", TEXT, 14, lambda r, x: r.verdict), Column(PLACEMENT_HEADER, TEXT, 16, where),
            *report_identity(schema),
            Column(ERRORS_HEADER, COUNT, 8, lambda r, x: r.errors),
            Column(WARNINGS_HEADER, COUNT, 8, lambda r, x: r.warnings)]


# --- Anomalies: one row per issue, (report, issue) ----------------------------------------------

def _shown_value(issue: Issue) -> str | None:
    value = json_value(issue.value)
    return None if value is None else str(value)


ANOMALY_FILE = Column("Fichier", TEXT, 30, lambda a, x: a[0].path)
ANOMALY_DETAIL = (
    Column("Gravité", TEXT, 14, lambda a, x: SEVERITY_LABELS.get(a[1].severity, str(a[1].severity))),
    Column("Code", TEXT, 22, lambda a, x: a[1].code), Column("Onglet", TEXT, 14, lambda a, x: a[1].sheet),
    Column("Cellule", TEXT, 8, lambda a, x: a[1].cell), Column("Colonne", TEXT, 22, lambda a, x: a[1].column),
    Column("Valeur", TEXT, 20, lambda a, x: _shown_value(a[1])), Column("Message", TEXT, 80, lambda a, x: a[1].message),
)
ANOMALY_ROW = Column("Ligne", COUNT, 7, lambda a, x: a[1].row)


def anomaly_identity(schema: Schema) -> list[Column]:
    return identity(schema, lambda a, x: a[0].id_pvd, lambda a, x: a[0].territory)


def anomaly_columns(schema: Schema) -> list[Column]:
    """The `Anomalies` sheet; SQLite's `anomalies` has the same columns, the file last, and the row."""
    return [*anomaly_identity(schema), ANOMALY_FILE, *ANOMALY_DETAIL]
