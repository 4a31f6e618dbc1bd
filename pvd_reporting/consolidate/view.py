"""The regional view of README, pvd-report consolidate: what `consolidate` computes, and what the summary workbook, the
dashboard and the charts show. Plain data; settled by `batch.consolidate` with the figures of regional.py."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pvd_reporting.format.departements import department_label
from pvd_reporting.format.issues import Issue, Severity, WorkbookReport, control_of
from pvd_reporting.read.records import Record

# How the money of an action is shown, by its status: « Engagé » (Engagée, En cours, Terminée),
# « Prévu » (Envisagée, En préparation), or « Statut non reconnu » (blank or not understood).
ENGAGED, PLANNED, UNRECOGNISED = "Engagé", "Prévu", "Statut non reconnu"
STAGES = (ENGAGED, PLANNED, UNRECOGNISED)
BEYOND_COST_LABEL = "Financements au-delà du coût (€)"
REMAINING_LABEL = "Reste à financer (€)"
# What a territory's view is called wherever it is shown (summary sheets, alerts, changes).
STATUS_LABEL = "Statut ORT"
LAST_MILESTONE_LABEL = "Dernier jalon"
DEADLINE_LABEL = "Échéance ORT"
DAYS_LEFT_LABEL = "Jours restants"


def sum_euros(values: Iterable[float]) -> float:
    """Euros summed in whole cents, so that a total is the sum of the amounts shown to the cent."""
    return sum(round(v * 100) for v in values) / 100


def to_cent(value: float) -> float:
    """Euros rounded to the cent, as every output stores them."""
    return round(value, 2)


@dataclass
class Money:
    """Euros of a set of actions, summed in cents action by action, so that, to the cent:
    cost = financed − beyond_cost + remaining (an action is either over-financed or not)."""

    cost: float = 0.0
    financing: dict[str, float] = field(default_factory=dict)  # financer name -> euros
    beyond_cost: float = 0.0  # financing above the cost of over-financed actions
    remaining: float = 0.0  # cost not yet financed, action by action

    @property
    def financed(self) -> float:
        return sum_euros(self.financing.values())


@dataclass
class MilestoneView:
    code: str
    label: str
    planned_on: date | None
    done_on: date | None


@dataclass
class TerritoryView:
    key: str  # id_pvd, else "SIREN:insee+insee" (README, pvd-report consolidate)
    id_pvd: str | None
    name: str
    department: str | None
    region: str | None = None
    epci: str | None = None
    siren: str | None = None
    received: bool = True
    # « Non rempli » because it came back with the data pvd-report wrote into it (filled.py).
    untouched: bool = False
    # Other versions of the same update date its workbook was chosen over (batch.settle).
    same_day: list[str] = field(default_factory=list)
    report: WorkbookReport | None = None  # None for a territory of the reference not received
    # ORT path
    milestones: list[MilestoneView] = field(default_factory=list)
    last_milestone: str | None = None  # "J5 — Stratégie de revitalisation validée"
    last_milestone_code: str | None = None  # "J5"
    milestones_done: int = 0  # out of 8
    j1_on: date | None = None
    j8_on: date | None = None
    ort_deadline: date | None = None  # J1 + 18 months, or the avenant's date
    deadline_extended: bool = False
    ort_status: str = "Non renseigné"  # schema.ORT_STATUSES, or schema.NOT_RECEIVED
    days_left: int | None = None
    # For an ORT signée: J8 on or before the deadline; else how many months after it.
    signed_in_time: bool | None = None
    months_late: float | None = None
    # people and governance
    project_lead: str | None = None
    etp: float | None = None  # percent 0-100
    cofinancing: str | None = None
    comites_last4: int = 0  # comités de projet in the last 4 quarters up to the reference date
    comites_by_quarter: dict[str, int] = field(default_factory=dict)  # "2025-T3" -> count
    cadence_held: bool | None = None  # one comité de projet in each quarter of the cadence window
    cadence_missing: list[str] = field(default_factory=list)  # quarters of that window without one
    # actions and money
    actions: int = 0
    actions_by_status: dict[str, int] = field(default_factory=dict)
    actions_by_theme: dict[str, int] = field(default_factory=dict)
    # (theme, status) -> actions, abandoned ones included: the region's theme × status table.
    actions_by_theme_status: dict[tuple[str, str], int] = field(default_factory=dict)
    cost: float = 0.0
    financing: dict[str, float] = field(default_factory=dict)  # financer name -> euros
    beyond_cost: float = 0.0  # financing above the cost, over-financed actions only
    remaining: float = 0.0  # cost - sum(financing), never below 0 per action
    money_by_stage: dict[str, Money] = field(default_factory=dict)  # STAGES -> Money
    # engineering needs
    needs: int = 0
    needs_by_theme: dict[str, int] = field(default_factory=dict)
    needs_by_partner: dict[str, int] = field(default_factory=dict)
    needs_by_status: dict[str, int] = field(default_factory=dict)
    needs_amount: float = 0.0
    errors: int = 0
    warnings: int = 0
    contacts: list[Record] = field(default_factory=list)
    # Inhabitants of its Villes PVD (Communes sheet, else the reference list); None when one is unknown.
    population: int | None = None
    # Money of its actions on rows flagged with an error: counted in the totals, and stated.
    error_cost: float = 0.0
    error_financed: float = 0.0

    @property
    def control(self) -> str:
        if not self.received:
            return ""
        severities = [Severity.ERROR] * bool(self.errors) + [Severity.WARNING] * bool(self.warnings)
        return control_of(severities)


@dataclass
class RegionView:
    period: str
    as_of: date
    region: str
    expected: int | None  # with a reference list
    received: int
    valid: int
    missing: int | None
    ort_signed: int
    ort_signed_share: float | None  # over territories received
    median_months_j1_j8: float | None
    at_risk: int
    overdue: int
    leads_in_post: int
    cadence_held: int
    ort_signed_in_time: int = 0
    ort_signed_late: int = 0
    not_filled: int = 0  # workbooks sent back as received: « Non rempli », not counted as received
    departments: list[str] = field(default_factory=list)  # with --departement: the codes kept
    status_counts: dict[str, int] = field(default_factory=dict)
    status_by_department: dict[str, dict[str, int]] = field(default_factory=dict)
    cost: float = 0.0
    financing: dict[str, float] = field(default_factory=dict)
    beyond_cost: float = 0.0
    remaining: float = 0.0
    money_by_stage: dict[str, Money] = field(default_factory=dict)
    needs_by_theme: dict[str, int] = field(default_factory=dict)
    needs_by_partner: dict[str, int] = field(default_factory=dict)
    actions_by_theme_status: dict[str, dict[str, int]] = field(default_factory=dict)  # theme -> status -> n
    # The configuration's action statuses, in order, for every table and chart that lists them.
    action_statuses: list[str] = field(default_factory=list)

    @property
    def scope(self) -> str:
        """`Grand Est`, or `Grand Est — Meuse (55)` with --departement: every title says it."""
        if not self.departments:
            return self.region
        return f"{self.region} — {', '.join(department_label(d) for d in self.departments)}"

    @property
    def perimeter(self) -> str:
        return perimeter_text(self.received, self.expected)


def perimeter_text(received: int, expected: int | None) -> str:
    """What every regional total is taken over: « sur 11 territoires reçus sur 99 attendus »."""
    got = f"{received} territoire{'s' if received > 1 else ''} reçu{'s' if received > 1 else ''}"
    of = f" sur {expected} attendu{'s' if expected > 1 else ''}" if expected is not None else ""
    return f"sur {got}{of}"


@dataclass(frozen=True)
class TerritoryFigures:
    """What one territory adds to the figures of the registry (consolidate/figures.py): a
    région's territories, a département's, a constant perimeter's or a nation's figures are the
    sums of these, so that a figure has one definition whatever the set of territories."""

    received: bool = False
    not_filled: bool = False  # sent back as it was received: « Non rempli », not received
    valid: bool = False  # received without error
    ort_status: str | None = None
    signed_in_time: bool | None = None  # for an ORT signée
    months_j1_j8: float | None = None  # for an ORT signée with J1 and J8
    cadence_held: bool = False
    lead_in_post: bool = False
    actions: int = 0
    needs: int = 0
    needs_amount: float = 0.0
    money: Money = field(default_factory=Money)
    cost_by_stage: dict[str, float] = field(default_factory=dict)  # STAGES -> euros
    error_cost: float = 0.0
    error_financed: float = 0.0
    population: int | None = None  # its Villes PVD; None when unknown


@dataclass
class Totals:
    """The sums of a set of TerritoryFigures (regional.add_up): what every figure is read from."""

    territories: list[TerritoryFigures]
    expected: int | None  # with a reference list (or a history): the territories of the set
    received: int = 0
    valid: int = 0
    missing: int | None = None
    not_filled: int = 0
    ort_signed: int = 0
    ort_signed_in_time: int = 0
    ort_signed_late: int = 0
    ort_signed_share: float | None = None
    median_months_j1_j8: float | None = None
    at_risk: int = 0
    overdue: int = 0
    leads_in_post: int = 0
    cadence_held: int = 0
    actions: int = 0
    needs: int = 0
    needs_amount: float = 0.0
    money: Money = field(default_factory=Money)
    cost_by_stage: dict[str, float] = field(default_factory=dict)
    error_cost: float = 0.0
    error_financed: float = 0.0
    population: int | None = None  # of the territories received whose population is known
    population_cost: float = 0.0  # the cost of those same territories
    without_population: int = 0  # territories received whose population is not known

    @property
    def perimeter(self) -> str:
        return perimeter_text(self.received, self.expected)

    @property
    def per_inhabitant(self) -> float | None:
        """Cost ÷ population, both over the territories received whose population is known."""
        return round(self.population_cost / self.population, 2) if self.population else None


@dataclass
class Consolidation:
    """Everything `consolidate` produced for one period, before it is written."""

    region: RegionView
    territories: list[TerritoryView]
    reports: list[WorkbookReport]  # every workbook read, in or out of this period
    # Rows of the summary tables, by table key, each row: (territory, record).
    rows: dict[str, list[tuple[TerritoryView, Record]]] = field(default_factory=dict)
    anomalies: list[tuple[WorkbookReport, Issue]] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    # Every period found and what moved since T-1 (quarters.py); None when built for one period alone.
    history: History | None = None
    # A period whose files did not change since it was published: its figures as the output
    # folder's history file recorded them (figure key -> value), read back rather than recomputed.
    recorded: dict[str, Any] | None = None
    # Files of the input folders that are not workbooks (a PDF, a Word file): a `Sources` row each.
    not_workbooks: list[str] = field(default_factory=list)


@dataclass
class Change:
    """One row of `Changements`: what moved for a territory between T-1 and the period."""

    key: str  # the territory's identity across quarters
    id_pvd: str | None
    territory: str
    kind: str  # one of changes.CHANGE_TYPES
    element: str | None  # jalon code, action number, financer, comité date
    before: Any = None
    after: Any = None
    # (before, after) as shown with --no-contacts when a personal field is in them (the
    # schema's `personal` flag); None: shown as they are.
    private: tuple[Any, Any] | None = None


@dataclass
class History:
    """Every period found, each settled as its own consolidation, and what moved since T-1.

    `periods` is ordered oldest first and holds the consolidated period too; a territory has the
    same `key` in every period (matched by Identifiant PVD, or SIREN + Ville PVD communes).
    """

    current: str
    periods: dict[str, Consolidation] = field(default_factory=dict)
    previous: str | None = None  # T-1, when present
    year_before: str | None = None  # N-1, when present
    changes: list[Change] = field(default_factory=list)
    workbooks: dict[str, int] = field(default_factory=dict)  # period -> workbooks read for it

    # T-1 and the period on the territories received in both (quarters.py); None without T-1.
    constant: ConstantPerimeter | None = None
    # Figures already published in the output folder's history file that this run changes.
    revisions: list[Revision] = field(default_factory=list)
    # What became of every workbook read (quarters.fates): the `classeurs` table.
    fates: list[Fate] = field(default_factory=list)
    # The digest of the set of files retained for each period (quarters.files_digest).
    digests: dict[str, str] = field(default_factory=dict)

    def at(self, period: str | None) -> Consolidation | None:
        return self.periods.get(period) if period else None

    def last_received(self, key: str) -> tuple[str, TerritoryView] | None:
        """The latest period before the consolidated one in which the territory sent a
        workbook, with its view then; None when it never did."""
        for period, c in reversed(self.periods.items()):
            if period == self.current:
                continue
            for t in c.territories:
                if t.key == key and t.received:
                    return period, t
        return None


@dataclass
class ConstantPerimeter:
    """T-1 and the consolidated period, each on the territories received in both quarters."""

    territories: int
    previous: Consolidation
    current: Consolidation


@dataclass
class Fate:
    """What became of one workbook, decided from its content alone (batch.retained_period,
    batch.settle): the period it counts for, how it was used and why."""

    path: str
    sha256: str | None
    key: str | None  # its territory's identity across quarters, when it names one
    id_pvd: str | None
    territory: str | None
    period: str | None  # the period retained, None when unreadable
    outcome: str  # batch.placement's words: « Consolidé », « Non rempli », « Envoi en double »…
    reason: str = ""


@dataclass
class Revision:
    """A figure of an earlier period, as published by an earlier run and as this run finds it."""

    period: str
    figure: str  # its label, as in Synthèse
    published: float | None  # None: the figure had no value (a share of nothing)
    revised: float | None
    cause: str  # the workbooks that arrived or changed since, named, in French
    summary: str = ""  # the same, counted: « 1 classeur arrivé depuis »
    kind: str = "money"  # figures.ValueKind of the figure: a count or euros
