"""The nation's figures: the regional registry's (consolidate/figures.py) added up over territories.

Each territory of a région's history (NationalTerritory) adds what a région's own territory adds
(TerritoryFigures); money in whole cents by national category, so that the nation's euros equal
the sum of the régions' to the cent. `FIGURES` lists every figure the outputs show, in order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pvd_reporting.consolidate.figures import ValueKind, figures_from_territories, registry
from pvd_reporting.consolidate.history_model import NationalTerritory
from pvd_reporting.consolidate.regional import cents
from pvd_reporting.consolidate.view import ENGAGED, PLANNED, Money, TerritoryFigures
from pvd_reporting.format.config import NATIONAL_CATEGORIES
from pvd_reporting.format.schema import ENGAGEMENTS, NOT_FILLED, ORT_STATUSES, build_schema

SIGNED, OVERDUE, AT_RISK, _ON_TIME, _UNKNOWN = ORT_STATUSES


def category_label(category: str) -> str:
    return f"Financements : {category} (€)"


# The registry of the régions (consolidate/figures.py) with the nation's financers: one column per
# national category, so that « Région Grand Est » and « Collectivité de Corse » add up.
DECLARED = registry([(c, category_label(c)) for c in NATIONAL_CATEGORIES],
                    at_risk_days=build_schema().config.at_risk_days,
                    cost_label=build_schema().table(ENGAGEMENTS).column("cost").label)
# The registry's figures the nation adds up from the régions' per-territory rows, in its order
# (a workbook's validity, the actions' error rows and the shares stay regional).
NATIONAL_KEYS = (
    "expected", "received", "missing", "not_filled", "ort_signed", "ort_signed_in_time", "ort_signed_late",
    "median_months_j1_j8", "at_risk", "overdue", "leads_in_post", "cadence_held", "actions",
    *(f"financing:{c}" for c in NATIONAL_CATEGORIES), "financed", "beyond_cost", "remaining", "cost",
    "population", "without_population", "per_inhabitant", f"cost:{ENGAGED}", f"cost:{PLANNED}", "needs",
    "needs_amount",
)


def as_territory_figures(t: NationalTerritory) -> TerritoryFigures:
    """What a territory of a région's history adds to the figures, as the région's own
    territories do (regional.territory_figures): money back in euros from exact cents."""
    signed = t.received and t.status == SIGNED
    return TerritoryFigures(
        received=t.received, not_filled=t.status == NOT_FILLED, ort_status=t.status,
        signed_in_time=t.signed_in_time if signed else None, months_j1_j8=t.months_j1_j8 if signed else None,
        cadence_held=t.cadence_held, lead_in_post=t.lead_in_post, actions=t.actions, needs=t.needs,
        needs_amount=t.needs_amount / 100,
        money=Money(t.cost / 100, {c: v / 100 for c, v in t.by_category.items()}, t.beyond_cost / 100,
                    t.remaining / 100),
        cost_by_stage={ENGAGED: t.engaged / 100, PLANNED: t.planned / 100}, population=t.population)


class Figures:
    """The registry's figures over a set of territories (a région or the nation at one period),
    by key, in euros; the attributes a reader most often wants, money in cents."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Figures) and other.values == self.values

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Figures({self.values!r})"

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def _cents(self, key: str) -> int:
        return cents(self.values.get(key) or 0.0)

    expected = property(lambda self: self.values["expected"])
    received = property(lambda self: self.values["received"])
    missing = property(lambda self: self.values["missing"])
    signed = property(lambda self: self.values["ort_signed"])
    signed_in_time = property(lambda self: self.values["ort_signed_in_time"])
    signed_late = property(lambda self: self.values["ort_signed_late"])
    at_risk = property(lambda self: self.values["at_risk"])
    overdue = property(lambda self: self.values["overdue"])
    median_months = property(lambda self: self.values["median_months_j1_j8"])
    cadence_held = property(lambda self: self.values["cadence_held"])
    leads_in_post = property(lambda self: self.values["leads_in_post"])
    population = property(lambda self: self.values["population"])
    without_population = property(lambda self: self.values["without_population"])
    per_inhabitant = property(lambda self: self.values["per_inhabitant"])
    cost = property(lambda self: self._cents("cost"))
    engaged = property(lambda self: self._cents(f"cost:{ENGAGED}"))
    planned = property(lambda self: self._cents(f"cost:{PLANNED}"))
    beyond_cost = property(lambda self: self._cents("beyond_cost"))
    remaining = property(lambda self: self._cents("remaining"))

    @property
    def by_category(self) -> dict[str, int]:
        return {c: self._cents(f"financing:{c}") for c in NATIONAL_CATEGORIES}


_NATIONAL_DECLARED = [d for d in DECLARED if d.key in NATIONAL_KEYS]


def figures_of(territories: Iterable[NationalTerritory]) -> Figures:
    """The figures of a set of territories through the registry: every territory is expected
    (the file's and the shipped list's), the totals over those received."""
    every = [as_territory_figures(t) for t in territories]
    return Figures(figures_from_territories(every, _NATIONAL_DECLARED, list(NATIONAL_CATEGORIES), len(every)))


@dataclass(frozen=True)
class Figure:
    """One national figure: the registry's key, label and kind (consolidate/figures.py)."""

    key: str
    label: str
    kind: ValueKind
    short: str = ""  # where room is short (the dashboard's table)


COUNT, MONTHS = ValueKind.COUNT, ValueKind.MONTHS
# Every output of the roll-up (Synthèse, Régions, the dashboard's table, the national SQLite)
# lists these, in this order.
FIGURES: tuple[Figure, ...] = tuple(Figure(d.key, d.label, d.kind, d.short or d.label) for d in _NATIONAL_DECLARED)
BY_KEY = {f.key: f for f in FIGURES}
COST_LABEL = BY_KEY["cost"].label
# Compared at a constant perimeter (the territories received at T-1 and now): counts and euros,
# not the expected and missing of the reference list, nor a ratio.
CONSTANT_KINDS = (ValueKind.COUNT, ValueKind.EUROS)
NOT_CONSTANT = ("expected", "missing", "not_filled", "per_inhabitant")


def figure_value(figure: Figure, figures: Figures | None) -> Any:
    """The figure as shown (euros for money), None when the région did not report."""
    return None if figures is None else figures.values.get(figure.key)


def constant_change(figure: Figure, pair: tuple[Figures, Figures] | None) -> Any:
    """The change since T-1 on the territories received at both (None where it means nothing)."""
    if pair is None or figure.kind not in CONSTANT_KINDS or figure.key in NOT_CONSTANT:
        return None
    now, before = figure_value(figure, pair[0]), figure_value(figure, pair[1])
    if now is None or before is None:
        return None
    if figure.kind == ValueKind.EUROS:
        return (cents(now) - cents(before)) / 100
    return now - before
