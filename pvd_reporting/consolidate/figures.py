"""The registry: every figure of the region, computed once with its French label, kind and
perimeter. The `Synthèse` sheet (with T-1, N-1 and both on a constant perimeter), the
dashboard's cards, the note, « À retenir » (briefing.py), the console's summary, the published
figures a revision is compared on (published.py) and the national roll-up all read it.

A figure is read from the sums (`Totals`, regional.add_up) of what each territory adds
(`TerritoryFigures`): the region, a département, a constant perimeter and the nation are the
same sums over other territories, so a figure has one definition. A new figure is one line of
`registry`; a figure another output shows under a shorter name (a dashboard card) gives it as
`short`, in the same words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pvd_reporting.consolidate.regional import add_up, territory_figures
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
    TerritoryFigures,
    Totals,
)
from pvd_reporting.format.schema import ENGAGEMENTS, Schema
from pvd_reporting.format.vocabulary import ENGAGED_STATUSES, PLANNED_STATUSES


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
WITHOUT_POPULATION_LABEL = "Territoires reçus sans population connue"
PER_INHABITANT_LABEL = "Coût total par habitant des Villes PVD (€)"
ERROR_ROWS_NOTE = "dont lignes en erreur"
SHARE_PREFIX = "Part du financement"
STAGE_NOTES = {
    ENGAGED: f"engagé ({', '.join(ENGAGED_STATUSES)})",
    PLANNED: f"prévu ({', '.join(PLANNED_STATUSES)})",
    UNRECOGNISED: UNRECOGNISED.lower(),
}


@dataclass(frozen=True)
class Declared:
    """One figure as declared: how it is named and read from the sums of a set of territories."""

    key: str  # stable across periods: T-1 and N-1 are matched on it
    label: str
    kind: ValueKind
    value: Callable[[Totals], Any]
    perimeter: Perimeter = Perimeter.RECEIVED
    short: str = ""  # where room is short (a dashboard card); the label otherwise


def stage_money(region: RegionView, stage: str) -> Money:
    """The money of one stage (engagé, prévu, statut non reconnu); nothing when it has none."""
    return region.money_by_stage.get(stage) or Money()


def _financing(name: str) -> Callable[[Totals], float]:
    return lambda x: x.money.financing.get(name, 0.0)


def _stage_cost(stage: str) -> Callable[[Totals], float]:
    return lambda x: x.cost_by_stage.get(stage, 0.0)


def _share(name: str) -> Callable[[Totals], float | None]:
    """A financer's share of all the financing (None when nothing is financed)."""
    def share(x: Totals) -> float | None:
        total = x.money.financed
        return x.money.financing.get(name, 0.0) / total if total else None
    return share


def totals_of(c: Consolidation, schema: Schema) -> Totals:
    """The sums of a period's territories, as every figure reads them."""
    return add_up((territory_figures(t) for t in c.territories), financer_names(schema), c.region.expected)


def financer_names(schema: Schema) -> list[str]:
    return [f.financer or f.key for f in schema.financer_fields]


def error_rows_money(c: Consolidation, schema: Schema) -> tuple[float, float]:
    """(cost, financing) of the actions on rows flagged with an error: counted in the totals, and
    stated, so a reader knows how much of a total rests on a row still to correct."""
    totals = totals_of(c, schema)
    return totals.error_cost, totals.error_financed


def declarations(schema: Schema) -> list[Declared]:
    """Every figure of the region, in the order the `Synthèse` sheet lists them."""
    return registry([(f.financer or f.key, f.label) for f in schema.financer_fields],
                    at_risk_days=schema.config.at_risk_days,
                    cost_label=schema.table(ENGAGEMENTS).column("cost").label)


def registry(financers: Sequence[tuple[str, str]], *, at_risk_days: int, cost_label: str) -> list[Declared]:
    """Every figure, in the order the `Synthèse` sheet lists them, for financers given as
    (name, label): a région's financer columns, or the nation's categories."""
    D, K, P = Declared, ValueKind, Perimeter
    return [
        D("perimeter", PERIMETER_LABEL, K.TEXT, lambda x: x.perimeter),
        D("expected", "Territoires attendus (liste de référence)", K.COUNT, lambda x: x.expected,
          P.REGION, short="Territoires attendus"),
        D("received", "Territoires reçus", K.COUNT, lambda x: x.received, P.REGION),
        D("valid", "Classeurs sans erreur", K.COUNT, lambda x: x.valid),
        D("missing", "Territoires manquants", K.COUNT, lambda x: x.missing, P.REGION),
        D("not_filled", "dont classeurs renvoyés non remplis", K.COUNT, lambda x: x.not_filled, P.REGION),
        D("ort_signed", "ORT signées", K.COUNT, lambda x: x.ort_signed),
        D("ort_signed_in_time", "dont signées dans le délai", K.COUNT, lambda x: x.ort_signed_in_time),
        D("ort_signed_late", "dont signées après l'échéance", K.COUNT, lambda x: x.ort_signed_late),
        D("ort_signed_share", "Part des territoires reçus ayant signé leur ORT", K.SHARE,
          lambda x: x.ort_signed_share),
        D("median_months_j1_j8", "Durée médiane de J1 à J8 (mois)", K.MONTHS,
          lambda x: x.median_months_j1_j8, P.SIGNED, short="Médiane J1 → J8"),
        D("at_risk", f"Territoires à risque ({at_risk_days} jours ou moins)", K.COUNT, lambda x: x.at_risk,
          short="À risque"),
        D("overdue", "Territoires en échéance dépassée", K.COUNT, lambda x: x.overdue,
          short="Échéance dépassée"),
        D("leads_in_post", "Chefs de projet en poste", K.COUNT, lambda x: x.leads_in_post),
        D("cadence_held", "Territoires ayant tenu la cadence des comités de projet", K.COUNT,
          lambda x: x.cadence_held, short="Cadence des comités tenue"),
        D("actions", ACTIONS_LABEL, K.COUNT, lambda x: x.actions),
        *(D(f"financing:{name}", label, K.EUROS, _financing(name)) for name, label in financers),
        *(D(f"share:{name}", f"{SHARE_PREFIX} : {name}", K.SHARE, _share(name)) for name, _ in financers),
        D("financed", FINANCED_LABEL, K.EUROS, lambda x: x.money.financed),
        D("financed_error_rows", f"{ERROR_ROWS_NOTE} (financements)", K.EUROS, lambda x: x.error_financed),
        D("beyond_cost", BEYOND_COST_LABEL, K.EUROS, lambda x: x.money.beyond_cost),
        D("remaining", REMAINING_LABEL, K.EUROS, lambda x: x.money.remaining, short="Reste à financer"),
        D("cost", cost_label, K.EUROS, lambda x: x.money.cost, short="Coût total des actions"),
        D("cost_error_rows", f"{ERROR_ROWS_NOTE} (coût)", K.EUROS, lambda x: x.error_cost),
        D("population", POPULATION_LABEL, K.COUNT, lambda x: x.population),
        D("without_population", WITHOUT_POPULATION_LABEL, K.COUNT, lambda x: x.without_population),
        D("per_inhabitant", PER_INHABITANT_LABEL, K.EUROS, lambda x: x.per_inhabitant, short="Coût par habitant"),
        *(D(f"cost:{stage}", f"{cost_label} : {STAGE_NOTES[stage]}", K.EUROS, _stage_cost(stage),
            short=f"dont {stage.lower()}") for stage in STAGES),
        D("needs", NEEDS_LABEL, K.COUNT, lambda x: x.needs),
        D("needs_amount", NEEDS_AMOUNT_LABEL, K.EUROS, lambda x: x.needs_amount),
    ]


def figures_from_territories(territories: Iterable[TerritoryFigures], declared: Sequence[Declared],
                             financers: list[str], expected: int | None = None) -> dict[str, Any]:
    """Every figure of `declared` (key -> value) over a set of territories, each given by what it
    adds (TerritoryFigures): a région's, a département's, or a nation's read back from the
    régions' published per-territory figures. `expected` is the number of territories expected
    (with a reference list), None when not known."""
    totals = add_up(territories, financers, expected)
    return {d.key: d.value(totals) for d in declared}


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
    # T-1 and the period on the territories received in both (None without T-1).
    constant_previous: Any = None
    constant_current: Any = None
    note: str = ""  # a footnote: « hors 2 territoires sans population connue »

    def compared(self) -> tuple[Any, Any, bool] | None:
        """(T-1, now, on a constant perimeter?): both on the same perimeter — the territories
        received in both quarters when the history gives it, else each quarter's own — so that
        a T-1 is never shown beside a change taken on another perimeter; None without T-1."""
        if self.constant_previous is not None and self.constant_current is not None:
            return self.constant_previous, self.constant_current, True
        if self.previous is not None and self.value is not None:
            return self.previous, self.value, False
        return None


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


def _values(c: Consolidation | None, declared: Iterable[Declared], schema: Schema) -> dict[str, Any]:
    if c is None:
        return {}
    # A period read back from the published record (quarters.read_back) shows what was published.
    recorded = c.recorded or {}
    totals = totals_of(c, schema)
    return {d.key: recorded[d.key] if d.key in recorded else d.value(totals) for d in declared}


def population_note(without: int | None) -> str:
    """The footnote of € per inhabitant: the territories left out of its cost and population."""
    if not without:
        return ""
    return f"hors {without} territoire{'s' if without > 1 else ''} sans population connue"


def region_figures(c: Consolidation, schema: Schema) -> RegionFigures:
    """The region's figures for the period of `c`, with T-1 and N-1 from its history, and T-1
    and the period on a constant perimeter (every figure but the text of the perimeter)."""
    declared = declarations(schema)
    history = c.history
    current = _values(c, declared, schema)
    previous = _values(history.at(history.previous), declared, schema) if history is not None else {}
    year_before = _values(history.at(history.year_before), declared, schema) if history is not None else {}
    constant = history.constant if history is not None else None
    recount = [d for d in declared if d.kind != ValueKind.TEXT]
    on_previous = _values(constant.previous if constant else None, recount, schema)
    on_current = _values(constant.current if constant else None, recount, schema)
    notes = {"per_inhabitant": population_note(current.get("without_population"))}
    figures = tuple(Figure(d.key, d.label, d.kind, d.perimeter, current[d.key], d.short or d.label,
                           previous.get(d.key), year_before.get(d.key), on_previous.get(d.key),
                           on_current.get(d.key), notes.get(d.key, "")) for d in declared)
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


def department_figures(c: Consolidation, schema: Schema | None = None) -> list[DepartmentFigures]:
    """The region by département, in the order of their codes: the registry's figures on each
    département's territories (totals over those received)."""
    groups: dict[str, list[Any]] = {}
    for t in c.territories:
        groups.setdefault(t.department or "?", []).append(t)
    names = financer_names(schema) if schema is not None else list(c.region.financing)
    rows = []
    for code in sorted(groups, key=_department_order):
        x = add_up((territory_figures(t) for t in groups[code]), names, len(groups[code]))
        rows.append(DepartmentFigures(code, len(groups[code]), x.received, x.missing or 0, x.ort_signed,
                                      x.money.cost, x.money.financed, x.money.remaining))
    return rows
