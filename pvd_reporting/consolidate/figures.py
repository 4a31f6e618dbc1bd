"""The region's figures, computed once with their French labels, kind and perimeter: the
`Synthèse` sheet (with T-1 and N-1 from the history), the dashboard's cards, the sentence of
« À retenir » (briefing.py) and the console's summary all read `region_figures`, so a figure is
named and counted in one place.

A new figure is one line of `declarations`; a figure another output shows under a shorter
name (a dashboard card) gives it as `short`, in the same words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pvd_reporting.consolidate.regional import SIGNED
from pvd_reporting.consolidate.view import (
    BEYOND_COST_LABEL,
    ENGAGED,
    PLANNED,
    REMAINING_LABEL,
    STAGES,
    UNRECOGNISED,
    Consolidation,
    Money,
    RegionView,
    sum_euros,
)
from pvd_reporting.format.config import REQUIRED_VALUES
from pvd_reporting.format.schema import COMMUNES, ENGAGEMENTS, Schema
from pvd_reporting.format.vocabulary import ABANDONED_STATUS, ENGAGED_STATUSES, PLANNED_STATUSES


class ValueKind(StrEnum):
    """What a value is, hence how every output writes it (a cell format, a French text, an SQL type).
    The values are kept in the history file (the kind of a published figure): never rename one."""

    TEXT = "text"
    COUNT = "int"
    EUROS = "money"
    SHARE = "share"  # a fraction shown as a percentage to one decimal (0.25 -> 25,0 %)
    PERCENT = "percent"  # a fraction shown as a whole percentage (ETP)
    MONTHS = "number"  # a duration in months, to one decimal
    DATE = "date"
    BOOL = "bool"  # shown « Oui » / « Non »


class Perimeter(StrEnum):
    """Which territories a figure is taken over."""

    REGION = "region"  # every territory expected (the reference list) or found
    RECEIVED = "received"  # the territories received: every total (`RegionView.perimeter`)
    SIGNED = "signed"  # the territories received whose ORT is signed


FINANCED_LABEL = "Total des financements (€)"
ACTIONS_LABEL = "Actions"
NEEDS_LABEL = "Besoins en ingénierie"
NEEDS_AMOUNT_LABEL = "Montant estimé des besoins (€)"
PERIMETER_LABEL = "Périmètre des totaux"
POPULATION_LABEL = "Population des Villes PVD des territoires reçus"
PER_INHABITANT_LABEL = "Coût total par habitant des Villes PVD (€)"
ERROR_ROWS_NOTE = "dont lignes en erreur"
SHARE_PREFIX = "Part du financement"
VILLE_PVD = REQUIRED_VALUES["role_commune"][0]
STAGE_NOTES = {
    ENGAGED: f"engagé ({', '.join(ENGAGED_STATUSES)})",
    PLANNED: f"prévu ({', '.join(PLANNED_STATUSES)})",
    UNRECOGNISED: UNRECOGNISED.lower(),
}


@dataclass(frozen=True)
class Declared:
    """One figure as declared: how it is named and read from a period's consolidation."""

    key: str  # stable across periods: T-1 and N-1 are matched on it
    label: str
    kind: ValueKind
    value: Callable[[Consolidation], Any]
    perimeter: Perimeter = Perimeter.RECEIVED
    short: str = ""  # where room is short (a dashboard card); the label otherwise


def stage_money(region: RegionView, stage: str) -> Money:
    """The money of one stage (engagé, prévu, statut non reconnu); nothing when it has none."""
    return region.money_by_stage.get(stage) or Money()


def _financing(name: str) -> Callable[[Consolidation], float]:
    return lambda c: c.region.financing.get(name, 0.0)


def _stage_cost(stage: str) -> Callable[[Consolidation], float]:
    return lambda c: stage_money(c.region, stage).cost


def _share(name: str) -> Callable[[Consolidation], float | None]:
    """A financer's share of all the financing (None when nothing is financed)."""
    def share(c: Consolidation) -> float | None:
        total = sum_euros(c.region.financing.values())
        return c.region.financing.get(name, 0.0) / total if total else None
    return share


def population(c: Consolidation) -> int | None:
    """Inhabitants of the Villes PVD of the territories received (their Communes sheet); None
    when no workbook gives one."""
    values = [record.values.get("population") for t, record in c.rows.get(COMMUNES, [])
              if t.received and record.values.get("role") == VILLE_PVD]
    known = [int(v) for v in values if isinstance(v, int | float)]
    return sum(known) if known else None


def per_inhabitant(c: Consolidation) -> float | None:
    people = population(c)
    return round(c.region.cost / people, 2) if people else None


def error_rows_money(c: Consolidation, schema: Schema) -> tuple[float, float]:
    """(cost, financing) of the actions on rows flagged with an error: counted in the totals, and
    stated, so a reader knows how much of a total rests on a row still to correct."""
    financers = [f.key for f in schema.financer_fields]
    cost: list[float] = []
    financed: list[float] = []
    for t, record in c.rows.get(ENGAGEMENTS, []):
        if not t.received or record.is_total or record.control != "Erreur":
            continue
        if record.values.get("status") == ABANDONED_STATUS:
            continue
        cost.append(float(record.values.get("cost") or 0.0))
        financed.extend(float(record.values.get(k) or 0.0) for k in financers)
    return sum_euros(cost), sum_euros(financed)


def declarations(schema: Schema) -> list[Declared]:
    """Every figure of the region, in the order the `Synthèse` sheet lists them."""
    D, K, P = Declared, ValueKind, Perimeter
    risk = schema.config.at_risk_days
    cost_label = schema.table(ENGAGEMENTS).column("cost").label
    return [
        D("perimeter", PERIMETER_LABEL, K.TEXT, lambda c: c.region.perimeter),
        D("expected", "Territoires attendus (liste de référence)", K.COUNT, lambda c: c.region.expected,
          P.REGION, short="Territoires attendus"),
        D("received", "Territoires reçus", K.COUNT, lambda c: c.region.received, P.REGION),
        D("valid", "Classeurs sans erreur", K.COUNT, lambda c: c.region.valid),
        D("missing", "Territoires manquants", K.COUNT, lambda c: c.region.missing, P.REGION),
        D("not_filled", "dont classeurs renvoyés non remplis", K.COUNT, lambda c: c.region.not_filled, P.REGION),
        D("ort_signed", "ORT signées", K.COUNT, lambda c: c.region.ort_signed),
        D("ort_signed_in_time", "dont signées dans le délai", K.COUNT, lambda c: c.region.ort_signed_in_time),
        D("ort_signed_late", "dont signées après l'échéance", K.COUNT, lambda c: c.region.ort_signed_late),
        D("ort_signed_share", "Part des territoires reçus ayant signé leur ORT", K.SHARE,
          lambda c: c.region.ort_signed_share),
        D("median_months_j1_j8", "Durée médiane de J1 à J8 (mois)", K.MONTHS,
          lambda c: c.region.median_months_j1_j8, P.SIGNED, short="Médiane J1 → J8"),
        D("at_risk", f"Territoires à risque ({risk} jours ou moins)", K.COUNT, lambda c: c.region.at_risk,
          short="À risque"),
        D("overdue", "Territoires en échéance dépassée", K.COUNT, lambda c: c.region.overdue,
          short="Échéance dépassée"),
        D("leads_in_post", "Chefs de projet en poste", K.COUNT, lambda c: c.region.leads_in_post),
        D("cadence_held", "Territoires ayant tenu la cadence des comités de projet", K.COUNT,
          lambda c: c.region.cadence_held, short="Cadence des comités tenue"),
        D("actions", ACTIONS_LABEL, K.COUNT, lambda c: sum(t.actions for t in c.territories)),
        *(D(f"financing:{f.financer or f.key}", f.label, K.EUROS, _financing(f.financer or f.key))
          for f in schema.financer_fields),
        *(D(f"share:{f.financer or f.key}", f"{SHARE_PREFIX} : {f.financer or f.label}", K.SHARE,
            _share(f.financer or f.key)) for f in schema.financer_fields),
        D("financed", FINANCED_LABEL, K.EUROS, lambda c: sum_euros(c.region.financing.values())),
        D("financed_error_rows", f"{ERROR_ROWS_NOTE} (financements)", K.EUROS,
          lambda c: error_rows_money(c, schema)[1]),
        D("beyond_cost", BEYOND_COST_LABEL, K.EUROS, lambda c: c.region.beyond_cost),
        D("remaining", REMAINING_LABEL, K.EUROS, lambda c: c.region.remaining, short="Reste à financer"),
        D("cost", cost_label, K.EUROS, lambda c: c.region.cost, short="Coût total des actions"),
        D("cost_error_rows", f"{ERROR_ROWS_NOTE} (coût)", K.EUROS, lambda c: error_rows_money(c, schema)[0]),
        D("population", POPULATION_LABEL, K.COUNT, population),
        D("per_inhabitant", PER_INHABITANT_LABEL, K.EUROS, per_inhabitant, short="Coût par habitant"),
        *(D(f"cost:{stage}", f"{cost_label} : {STAGE_NOTES[stage]}", K.EUROS, _stage_cost(stage),
            short=f"dont {stage.lower()}") for stage in STAGES),
        D("needs", NEEDS_LABEL, K.COUNT, lambda c: sum(t.needs for t in c.territories)),
        D("needs_amount", NEEDS_AMOUNT_LABEL, K.EUROS,
          lambda c: sum_euros(t.needs_amount for t in c.territories)),
    ]


@dataclass(frozen=True)
class Figure:
    """One figure of the region: its value, and its value at T-1 and N-1 when the history has them."""

    key: str
    label: str
    kind: ValueKind
    perimeter: Perimeter
    value: Any
    short: str
    previous: Any = None  # T-1
    year_before: Any = None  # N-1
    # T-1 and the period on the territories received in both (counts and euros only; None else).
    constant_previous: Any = None
    constant_current: Any = None


@dataclass(frozen=True)
class RegionFigures:
    """The figures in order, readable by key; the periods their T-1 and N-1 values come from."""

    figures: tuple[Figure, ...]
    previous: str | None = None
    year_before: str | None = None
    has_history: bool = False
    constant: int | None = None  # territories received at T-1 and now, when there is a T-1

    def __iter__(self) -> Iterator[Figure]:
        return iter(self.figures)

    def __getitem__(self, key: str) -> Figure:
        for f in self.figures:
            if f.key == key:
                return f
        raise KeyError(key)

    def value(self, key: str) -> Any:
        return self[key].value


def _values(c: Consolidation | None, declared: Iterable[Declared]) -> dict[str, Any]:
    if c is None:
        return {}
    # A period read back from the published record (quarters.read_back) shows what was published.
    recorded = c.recorded or {}
    return {d.key: recorded[d.key] if d.key in recorded else d.value(c) for d in declared}


def region_figures(c: Consolidation, schema: Schema) -> RegionFigures:
    """The region's figures for the period of `c`, with T-1 and N-1 from its history."""
    declared = declarations(schema)
    history = c.history
    previous = _values(history.at(history.previous), declared) if history is not None else {}
    year_before = _values(history.at(history.year_before), declared) if history is not None else {}
    constant = history.constant if history is not None else None
    # On a constant perimeter, the counts and euros only: a share, a median or the reference
    # list's figures (expected, missing) are not recomputed on part of the territories.
    recount = [d for d in declared if d.kind in (ValueKind.COUNT, ValueKind.EUROS)]
    on_previous = _values(constant.previous if constant else None, recount)
    on_current = _values(constant.current if constant else None, recount)
    figures = tuple(Figure(d.key, d.label, d.kind, d.perimeter, d.value(c), d.short or d.label,
                           previous.get(d.key), year_before.get(d.key), on_previous.get(d.key),
                           on_current.get(d.key)) for d in declared)
    return RegionFigures(figures, history.previous if history is not None else None,
                         history.year_before if history is not None else None, history is not None,
                         constant.territories if constant else None)


@dataclass(frozen=True)
class DepartmentFigures:
    """One row of the table by département: money and progress a manager compares."""

    department: str  # the code; outputs name it with `department_label`
    expected: int  # territories of the département (received or not)
    received: int
    missing: int
    ort_signed: int
    cost: float
    financed: float
    remaining: float


# The table by département, as every output heads it (the label of each DepartmentFigures field).
DEPARTMENT_COLUMNS: tuple[tuple[str, str, ValueKind], ...] = (
    ("department", "Département", ValueKind.TEXT),
    ("received", "Territoires reçus", ValueKind.COUNT),
    ("missing", "Territoires manquants", ValueKind.COUNT),
    ("ort_signed", "ORT signées", ValueKind.COUNT),
    ("cost", "Coût total (€)", ValueKind.EUROS),
    ("financed", FINANCED_LABEL, ValueKind.EUROS),
    ("remaining", REMAINING_LABEL, ValueKind.EUROS),
)


def _department_order(code: str) -> tuple[int, str]:
    digits = "".join(ch for ch in code if ch.isdigit())
    return (int(digits) if digits else 999, code)


def department_figures(c: Consolidation) -> list[DepartmentFigures]:
    """The region by département, in the order of their codes; totals over the territories received."""
    groups: dict[str, list[Any]] = {}
    for t in c.territories:
        groups.setdefault(t.department or "?", []).append(t)
    rows = []
    for code in sorted(groups, key=_department_order):
        ts = groups[code]
        got = [t for t in ts if t.received]
        rows.append(DepartmentFigures(
            code, len(ts), len(got), len(ts) - len(got), sum(1 for t in got if t.ort_status == SIGNED),
            sum_euros(t.cost for t in got), sum_euros(v for t in got for v in t.financing.values()),
            sum_euros(t.remaining for t in got)))
    return rows
