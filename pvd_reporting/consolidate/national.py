"""The national roll-up: each région's history (read by regional_histories.py) checked and added up.

A file that is not a pvd-report history, or of a format this version cannot read, is left out
with a French reason; two files of one région: the latest `written_at` wins. Money is summed in
whole cents by national category (each région declares the category of its financer columns), so
that the nation's euros equal the sum of the régions' to the cent. A région absent for the period
is « Non remontée », never zero; a territory found in two régions is an anomaly and is counted
once in the nation's figures (in the région its identifier names, else the first).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pvd_reporting.consolidate.figures import ValueKind
from pvd_reporting.consolidate.regional_histories import (
    NationalTerritory,
    NotAHistory,
    RegionalHistory,
    find_histories,
    read_history,
    territories_of,
)
from pvd_reporting.consolidate.view import REMAINING_LABEL
from pvd_reporting.errors import UsageError
from pvd_reporting.format.config import (
    NATIONAL_CATEGORIES,
    region_key,
    shipped_regions,
)
from pvd_reporting.format.periods import parse_label, previous_quarters, quarter_label
from pvd_reporting.format.schema import (
    ORT_STATUSES,
)

SIGNED, OVERDUE, AT_RISK, _ON_TIME, _UNKNOWN = ORT_STATUSES
NOT_REPORTING = "Non remontée"
REPORTING = "Remontée"
IN_POST = "en poste"


@dataclass
class Figures:
    """The figures of a set of territories (a région or the nation at one period); money in cents."""

    expected: int = 0
    received: int = 0
    missing: int = 0
    signed: int = 0
    signed_in_time: int = 0
    signed_late: int = 0
    at_risk: int = 0
    overdue: int = 0
    median_months: float | None = None
    cadence_held: int = 0
    leads_in_post: int = 0
    cost: int = 0
    engaged: int = 0
    planned: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    remaining: int = 0
    population: int = 0

    @property
    def per_inhabitant(self) -> float | None:
        return round(self.cost / 100 / self.population, 2) if self.population else None


def figures_of(territories: Iterable[NationalTerritory]) -> Figures:
    f = Figures(by_category=dict.fromkeys(NATIONAL_CATEGORIES, 0))
    months: list[float] = []
    for t in territories:
        f.expected += 1
        if not t.received:
            continue
        f.received += 1
        if t.status == SIGNED:
            f.signed += 1
            f.signed_in_time += t.signed_in_time is True
            f.signed_late += t.signed_in_time is False
            if t.months_j1_j8 is not None:
                months.append(t.months_j1_j8)
        f.at_risk += t.status == AT_RISK
        f.overdue += t.status == OVERDUE
        f.cadence_held += t.cadence_held
        f.leads_in_post += t.lead_in_post
        f.cost += t.cost
        f.engaged += t.engaged
        f.planned += t.planned
        f.remaining += t.remaining
        f.population += t.population
        for category, amount in t.by_category.items():
            f.by_category[category] = f.by_category.get(category, 0) + amount
    f.missing = f.expected - f.received
    f.median_months = round(statistics.median(months), 1) if months else None
    return f


@dataclass(frozen=True)
class Figure:
    """One national figure: its label, its kind, its getter; money is held in cents (`cents`)."""

    label: str
    kind: ValueKind
    get: Callable[[Figures], Any]
    cents: bool = False


def category_label(category: str) -> str:
    return f"Financements : {category} (€)"


def _money(label: str, get: Callable[[Figures], Any]) -> Figure:
    return Figure(label, ValueKind.EUROS, get, cents=True)


def _category_figure(category: str) -> Figure:
    return _money(category_label(category), lambda f: f.by_category.get(category, 0))


COUNT, MONTHS = ValueKind.COUNT, ValueKind.MONTHS
COST_LABEL, POPULATION_LABEL = "Coût total HT (€)", "Population des communes"
# Every output of the roll-up (Synthèse, Régions, the dashboard's table, the national SQLite)
# lists these, in this order.
FIGURES: tuple[Figure, ...] = (
    Figure("Territoires attendus", COUNT, lambda f: f.expected),
    Figure("Territoires reçus", COUNT, lambda f: f.received),
    Figure("Territoires manquants", COUNT, lambda f: f.missing),
    Figure("ORT signées dans le délai", COUNT, lambda f: f.signed_in_time),
    Figure("ORT signées après l'échéance", COUNT, lambda f: f.signed_late),
    Figure("À risque", COUNT, lambda f: f.at_risk),
    Figure("Échéance dépassée", COUNT, lambda f: f.overdue),
    Figure("Durée médiane J1 → J8 (mois)", MONTHS, lambda f: f.median_months),
    Figure("Cadence des comités tenue", COUNT, lambda f: f.cadence_held),
    Figure("Chefs de projet en poste", COUNT, lambda f: f.leads_in_post),
    _money("Coût engagé (€)", lambda f: f.engaged),
    _money("Coût prévu (€)", lambda f: f.planned),
    _money(COST_LABEL, lambda f: f.cost),
    *(_category_figure(c) for c in NATIONAL_CATEGORIES),
    _money(REMAINING_LABEL, lambda f: f.remaining),
    Figure(POPULATION_LABEL, COUNT, lambda f: f.population),
    Figure("Coût par habitant (€)", ValueKind.EUROS, lambda f: f.per_inhabitant),
)


def figure_value(figure: Figure, figures: Figures | None) -> Any:
    """The figure as shown: euros for money, None when the région did not report."""
    if figures is None:
        return None
    value = figure.get(figures)
    return value / 100 if figure.cents and value is not None else value


@dataclass
class RegionRow:
    """A région at one period: its figures, or None when it did not report (« Non remontée »)."""

    region: str
    period: str
    figures: Figures | None
    source: RegionalHistory | None = None

    @property
    def status(self) -> str:
        return REPORTING if self.figures is not None else NOT_REPORTING


@dataclass
class Duplicate:
    """A territory found in two régions for the period."""

    key: str
    name: str
    regions: list[str]
    counted_in: str


@dataclass
class NationalRollup:
    period: str
    previous: str | None
    histories: list[RegionalHistory]
    refused: list[tuple[Path, str]]  # files left out, with the French reason
    superseded: list[tuple[RegionalHistory, RegionalHistory]]  # (left out, kept) for one région
    regions: list[RegionRow]  # every région at the period, reporting or not
    nation: Figures
    nation_previous: Figures | None
    by_quarter: list[RegionRow]  # each région at each quarter found
    territories: list[NationalTerritory]  # at the period, every région
    territories_by_period: dict[str, list[NationalTerritory]]
    duplicates: list[Duplicate]
    periods: list[str]  # every period found, oldest first
    contacts: bool = False

    @property
    def missing_regions(self) -> list[str]:
        return [r.region for r in self.regions if r.figures is None]

    @property
    def reporting(self) -> int:
        return sum(1 for r in self.regions if r.figures is not None)


# ---------------------------------------------------------------- the roll-up


def _choose_period(histories: Sequence[RegionalHistory]) -> str:
    """The latest period common to most régions."""
    counts: Counter[str] = Counter(p for h in histories for p in set(h.periods))
    return max(counts, key=lambda p: (counts[p], parse_label(p) or (0, 0)))


def _previous(period: str) -> str | None:
    parsed = parse_label(period)
    return quarter_label(previous_quarters(parsed, 2)[0]) if parsed else None


def _mark_duplicates(territories: list[NationalTerritory], code_of: dict[str, str | None]) -> list[Duplicate]:
    """A territory in two régions: counted once, where its identifier's région code points, else
    in the first région (by name)."""
    by_key: dict[str, list[NationalTerritory]] = {}
    for t in territories:
        by_key.setdefault(t.key, []).append(t)
    found = []
    for key, group in by_key.items():
        regions = sorted({t.region for t in group}, key=region_key)
        if len(regions) < 2:
            continue
        owner = regions[0]
        parts = (group[0].id_pvd or "").split("-")
        if len(parts) >= 3:
            named = next((r for r in regions if code_of.get(r) == parts[1].zfill(2)), None)
            owner = named or owner
        for t in group:
            t.counted_in = owner
        found.append(Duplicate(key, group[0].name, regions, owner))
    return found


def _all_regions(histories: Sequence[RegionalHistory]) -> list[str]:
    """The shipped régions, then any other région a history names."""
    names = list(shipped_regions())
    for h in histories:
        if h.region not in names:
            names.append(h.region)
    return sorted(names, key=region_key)


def roll_up(paths: Sequence[Path], *, period: str | None = None, contacts: bool = False,
            on_progress: Callable[[int], None] | None = None,
            on_start: Callable[[int], None] | None = None) -> NationalRollup:
    """Read every history found under `paths` and add the régions up for `period` (default: the
    latest period common to most régions)."""
    files, refused = find_histories(paths)
    if on_start is not None:
        on_start(len(files))
    read: list[RegionalHistory] = []
    for path in files:
        try:
            read.append(read_history(path))
        except NotAHistory as exc:
            refused.append((path, str(exc)))
        if on_progress is not None:
            on_progress(1)
    kept: dict[str, RegionalHistory] = {}
    superseded: list[tuple[RegionalHistory, RegionalHistory]] = []
    for h in sorted(read, key=lambda h: h.written_at, reverse=True):
        winner = kept.get(region_key(h.region))
        if winner is None:
            kept[region_key(h.region)] = h
        else:
            superseded.append((h, winner))
    histories = sorted(kept.values(), key=lambda h: region_key(h.region))
    if not histories:
        raise NothingToRollUp(refused)
    periods = sorted({p for h in histories for p in h.periods}, key=lambda p: parse_label(p) or (0, 0))
    if period is not None and period not in periods:
        raise UsageError(f"Aucune région n'a de données pour la période {period} (périodes trouvées : "
                         f"{', '.join(periods) or 'aucune'}).")
    target = period or _choose_period(histories)
    previous = _previous(target)
    by_period: dict[str, list[NationalTerritory]] = {}
    by_region: dict[str, dict[str, list[NationalTerritory]]] = {}
    for h in histories:
        own = territories_of(h, contacts=contacts)
        by_region[h.region] = own
        for p, ts in own.items():
            by_period.setdefault(p, []).extend(ts)
    code_of = {h.region: h.region_code for h in histories}
    duplicates: list[Duplicate] = []
    for p, ts in by_period.items():
        found = _mark_duplicates(ts, code_of)
        if p == target:
            duplicates = found
    source_of = {h.region: h for h in histories}
    names = _all_regions(histories)

    def rows_at(p: str) -> list[RegionRow]:
        rows = []
        for name in names:
            ts = by_region.get(name, {}).get(p)
            rows.append(RegionRow(name, p, figures_of(ts) if ts is not None else None, source_of.get(name)))
        return rows

    at_previous = by_period.get(previous or "")
    by_quarter = [RegionRow(h.region, p, figures_of(ts), h)
                  for h in histories for p, ts in sorted(by_region[h.region].items(),
                                                         key=lambda kv: parse_label(kv[0]) or (0, 0))]
    territories = by_period.get(target, [])
    return NationalRollup(
        period=target, previous=previous if at_previous else None, histories=histories, refused=refused,
        superseded=superseded, regions=rows_at(target),
        nation=figures_of(t for t in territories if t.counted),
        nation_previous=figures_of(t for t in at_previous if t.counted) if at_previous else None,
        by_quarter=by_quarter, territories=territories, territories_by_period=by_period,
        duplicates=duplicates, periods=periods, contacts=contacts,
    )


class NothingToRollUp(UsageError):
    """No file could be read as a regional history: each is named with its reason."""

    def __init__(self, refused: list[tuple[Path, str]]) -> None:
        super().__init__("Aucun historique régional lisible : rien à consolider au niveau national.")
        self.refused = refused
