"""The national roll-up: each région's history (read by regional_histories.py) chosen and added up.

A file that is not a pvd-report history, or of a format this version cannot read, is left out
with a French reason; so is a file of part of a région (--departement). Two files
of one région are chosen by content: the latest quarter published, then the latest publication,
never the time a file was written. The nation's quarter is the latest one most régions published;
a région whose latest quarter is older is « en retard », named and not counted, and T-1 is taken
on the same régions. The figures are added up by national_figures.py. The territories expected
are those of the reference list shipped with the package. A territory found in two régions is an
anomaly, counted once for the nation where its identifier or the reference list places it, never
by alphabet.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pvd_reporting.consolidate.figures import ValueKind
from pvd_reporting.consolidate.history_model import (
    NationalTerritory,
    RegionalHistory,
    territories_of,
)
from pvd_reporting.consolidate.national_figures import FIGURES, Figures, figure_value, figures_of
from pvd_reporting.consolidate.regional_histories import NotAHistory, find_histories, read_history
from pvd_reporting.errors import UsageError
from pvd_reporting.format.config import known_region, region_key, shipped_regions
from pvd_reporting.format.history import NO_REFERENCE
from pvd_reporting.format.periods import parse_label, previous_quarters, quarter_label
from pvd_reporting.format.reference import (
    SHIPPED_REFERENCE,
    Reference,
    RefTerritory,
    load_reference,
    territory_key,
)
from pvd_reporting.format.schema import NOT_RECEIVED

NOT_REPORTING = "Non remontée"
REPORTING = "Remontée"
LATE = "En retard"
IN_POST = "en poste"


def late_status(latest: str) -> str:
    return f"{LATE} (dernier trimestre publié : {latest})"


@dataclass
class RegionRow:
    """A région at one period: its figures, or None when it did not report (« Non remontée »,
    « En retard (dernier trimestre publié : …) »)."""

    region: str
    period: str
    figures: Figures | None
    source: RegionalHistory | None = None
    late: str | None = None  # its latest quarter, when older than the period
    partial_only: bool = False  # its only file was of part of it (--departement)

    @property
    def status(self) -> str:
        if self.figures is not None:
            return REPORTING
        if self.late:
            return late_status(self.late)
        return f"{NOT_REPORTING} (fichier partiel écarté)" if self.partial_only else NOT_REPORTING


@dataclass
class Duplicate:
    """A territory found in two régions for the period; counted for the nation in `counted_in`,
    or in none when neither its identifier nor the reference list places it."""

    key: str
    name: str
    regions: list[str]
    counted_in: str | None


@dataclass
class NationalRollup:
    period: str
    previous: str | None
    histories: list[RegionalHistory]  # one per région, chosen
    refused: list[tuple[Path, str]]  # files left out, with the French reason
    set_aside: list[tuple[RegionalHistory, str]]  # histories read but not counted, with the reason
    regions: list[RegionRow]  # every région at the period, reporting or not
    nation: Figures
    nation_previous: Figures | None  # on the same régions
    by_quarter: list[RegionRow]  # each région at each quarter found
    territories: list[NationalTerritory]  # at the period, every région
    territories_by_period: dict[str, list[NationalTerritory]]
    duplicates: list[Duplicate]
    periods: list[str]  # every period found, oldest first
    contacts: bool = False
    # Now and at T-1 on the territories received at both, of the régions counted.
    constant: tuple[Figures, Figures] | None = None
    # A figure added up here that differs from what the région published for the period:
    # (région, label, published, added up).
    differences: list[tuple[str, str, float, float]] = field(default_factory=list)

    @property
    def missing_regions(self) -> list[str]:
        return [r.region for r in self.regions if r.figures is None and not r.late]

    @property
    def late_regions(self) -> list[RegionRow]:
        return [r for r in self.regions if r.late]

    @property
    def reporting(self) -> int:
        return sum(1 for r in self.regions if r.figures is not None)


# ---------------------------------------------------------------- the roll-up


def _order(period: str) -> tuple[int, int]:
    return parse_label(period) or (0, 0)


def _choose_period(histories: Sequence[RegionalHistory]) -> str:
    """The latest quarter most régions published (each région counts once, by its latest)."""
    counts: Counter[str] = Counter(h.latest for h in histories if h.latest)
    return max(counts, key=lambda p: (counts[p], _order(p)))


def _previous(period: str) -> str | None:
    parsed = parse_label(period)
    return quarter_label(previous_quarters(parsed, 2)[0]) if parsed else None


def _content_rank(h: RegionalHistory) -> tuple[Any, ...]:
    """How two files of one région compare, by what they hold: the latest quarter published, then
    its latest publication (version, then when it was published); the digest last, so that the
    choice never depends on the order files are given."""
    version, published = h.publication
    return (_order(h.latest), version, published, h.sha256)


def _choose_files(read: Sequence[RegionalHistory]) -> tuple[list[RegionalHistory], list[tuple[RegionalHistory, str]]]:
    """One file per région, chosen by content; the others with the French reason."""
    set_aside: list[tuple[RegionalHistory, str]] = []
    groups: dict[str, list[RegionalHistory]] = {}
    for h in read:
        partial = h.partial
        if partial:
            set_aside.append((h, f"{partial} : écarté des chiffres nationaux, qui ne comptent que des régions "
                                 "entières"))
            continue
        groups.setdefault(region_key(h.region), []).append(h)
    kept = []
    for group in groups.values():
        ranked = sorted(group, key=_content_rank, reverse=True)
        winner = ranked[0]
        kept.append(winner)
        for h in ranked[1:]:
            if h.sha256 == winner.sha256:
                why = f"copie identique de {winner.path}, qui est retenu"
            elif _order(h.latest) < _order(winner.latest):
                why = (f"même région ({h.region}), dernier trimestre publié {h.latest} : {winner.path}, qui "
                       f"publie {winner.latest}, est retenu")
            else:
                why = (f"même région ({h.region}) et même dernier trimestre ({h.latest}) : {winner.path}, "
                       f"publication plus récente ({winner.publication[1]}), est retenu")
            set_aside.append((h, why))
    return sorted(kept, key=lambda h: region_key(h.region)), set_aside


@lru_cache(maxsize=1)
def _reference() -> Reference:
    return load_reference(SHIPPED_REFERENCE)


@lru_cache(maxsize=1)
def _reference_by_region() -> dict[str, list[RefTerritory]]:
    """The shipped list's territories by région (its name compared as `region_key` does)."""
    out: dict[str, list[RefTerritory]] = {}
    for ref in _reference().territories:
        if ref.region:
            out.setdefault(region_key(known_region(ref.region) or ref.region), []).append(ref)
    return out


def _ref_key(ref: RefTerritory) -> str:
    return territory_key(ref.id_pvd, ref.siren, [c.insee for c in ref.communes])


def _expected_placeholders(region: str, period: str, found: Iterable[NationalTerritory]) -> list[NationalTerritory]:
    """The territories of the shipped reference list in the région that the file does not have
    for the period: expected, not received."""
    have = {t.key for t in found}
    have |= {f"epci:{t.siren}" for t in found if t.siren and not t.id_pvd}
    out = []
    for ref in _reference_by_region().get(region_key(known_region(region) or region), ()):
        if _ref_key(ref) in have or (not ref.id_pvd and f"epci:{ref.siren}" in have):
            continue
        out.append(NationalTerritory(
            region=region, period=period, id_pvd=ref.id_pvd, name=ref.name, department=ref.department,
            epci=ref.epci, siren=ref.siren, status=NOT_RECEIVED,
            communes=", ".join(f"{c.name} ({c.insee})" for c in ref.communes)))
    return out


@lru_cache(maxsize=1)
def _reference_regions() -> dict[str, str | None]:
    """The région the shipped list places each territory in, by its identity."""
    out = {_ref_key(ref): ref.region for ref in _reference().territories}
    # Without an Identifiant PVD, the reference list groups a territory by its EPCI.
    out |= {f"epci:{ref.siren}": ref.region for ref in _reference().territories if not ref.id_pvd}
    return out


def _mark_duplicates(territories: list[NationalTerritory], code_of: dict[str, str | None]) -> list[Duplicate]:
    """A territory in two régions: counted once for the nation, in the région its identifier's
    code names, else the one the reference list places it in; else in none (to settle)."""
    by_key: dict[str, list[NationalTerritory]] = {}
    for t in territories:
        by_key.setdefault(t.key, []).append(t)
    ref_region = _reference_regions()
    found = []
    for key, group in by_key.items():
        regions = sorted({t.region for t in group}, key=region_key)
        if len(regions) < 2:
            continue
        owner = None
        parts = (group[0].id_pvd or "").split("-")
        if len(parts) >= 3:
            owner = next((r for r in regions if code_of.get(r) == parts[1].zfill(2)), None)
        if owner is None:
            listed = ref_region.get(key) or ref_region.get(f"epci:{group[0].siren}")
            owner = next((r for r in regions if listed and region_key(r) == region_key(listed)), None)
        for t in group:
            t.duplicate = True
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


def _constant(now: list[NationalTerritory], before: list[NationalTerritory]) -> tuple[Figures, Figures]:
    """Now and at T-1 on the territories received at both (by région and identity)."""
    received_before = {(t.region, t.key) for t in before if t.received and t.counted}
    both = {(t.region, t.key) for t in now if t.received and t.counted} & received_before
    return (figures_of(t for t in now if (t.region, t.key) in both),
            figures_of(t for t in before if (t.region, t.key) in both))


# Not compared with what a région published: the reference list's figures (the nation takes them
# from the shipped list, a région from its own), and a ratio whose parts are compared.
_NOT_COMPARED = ("expected", "missing", "per_inhabitant")


def _differences(rows: Sequence[RegionRow]) -> list[tuple[str, str, float, float]]:
    """Each figure of a région's row that is not what the région published for the period (its
    `chiffres`), to the cent: the nation must state the régions' own figures."""
    out = []
    for row in rows:
        published = row.source.figures.get(row.period, {}) if row.source is not None else {}
        if row.figures is None or not published:
            continue
        for f in FIGURES:
            if f.key in _NOT_COMPARED or f.label not in published:
                continue
            ours = figure_value(f, row.figures)
            # To the cent; a duration to the tenth of a month it is shown with.
            unit = 10 if f.kind == ValueKind.MONTHS else 100
            if ours is not None and round(float(ours) * unit) != round(published[f.label] * unit):
                out.append((row.region, f.label, published[f.label], float(ours)))
    return out


def roll_up(paths: Sequence[Path], *, period: str | None = None, contacts: bool = False,
            on_progress: Callable[[int], None] | None = None,
            on_start: Callable[[int], None] | None = None) -> NationalRollup:
    """Read every history found under `paths` and add the régions up for `period` (default: the
    latest quarter most régions published)."""
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
    histories, set_aside = _choose_files(read)
    for h in histories:
        if h.reference == NO_REFERENCE:
            h.notes.append("consolidé sans liste de référence (--no-reference) : territoires attendus pris dans "
                           "la liste livrée avec pvd-report")
        elif h.reference_digest and h.reference_digest != _reference().digest:
            h.notes.append(f"consolidé avec une autre liste de référence ({Path(h.reference or '?').name}) : "
                           "territoires attendus pris dans la liste livrée avec pvd-report")
    if not histories:
        raise NothingToRollUp(refused + [(h.path, why) for h, why in set_aside])
    periods = sorted({p for h in histories for p in h.periods}, key=_order)
    if period is not None and period not in periods:
        raise UsageError(f"Aucune région n'a de données pour la période {period} (périodes trouvées : "
                         f"{', '.join(periods) or 'aucune'}).")
    target = period or _choose_period(histories)
    previous = _previous(target)
    by_period: dict[str, list[NationalTerritory]] = {}
    by_region: dict[str, dict[str, list[NationalTerritory]]] = {}
    for h in histories:
        own = territories_of(h, contacts=contacts)
        for p, ts in own.items():
            ts.extend(_expected_placeholders(h.region, p, ts))
            by_period.setdefault(p, []).extend(ts)
        by_region[h.region] = own
    code_of = {h.region: h.region_code for h in histories}
    duplicates: list[Duplicate] = []
    for p, ts in by_period.items():
        found = _mark_duplicates(ts, code_of)
        if p == target:
            duplicates = found
    source_of = {h.region: h for h in histories}
    names = _all_regions(histories)
    partial_regions = {h.region for h, _ in set_aside if h.partial}
    # The régions counted at the period; T-1 is taken on these alone (a constant perimeter).
    counted = {h.region for h in histories if target in by_region[h.region]}

    def row(name: str, p: str) -> RegionRow:
        ts = by_region.get(name, {}).get(p)
        h = source_of.get(name)
        late = h.latest if h is not None and ts is None and _order(h.latest) < _order(p) else None
        return RegionRow(name, p, figures_of(ts) if ts is not None else None, h, late,
                         partial_only=h is None and name in partial_regions)

    now = [t for t in by_period.get(target, []) if t.region in counted]
    before = [t for t in by_period.get(previous or "", []) if t.region in counted]
    by_quarter = [RegionRow(h.region, p, figures_of(ts), h)
                  for h in histories for p, ts in sorted(by_region[h.region].items(), key=lambda kv: _order(kv[0]))]
    regions = [row(name, target) for name in names]
    return NationalRollup(
        period=target, previous=previous if before else None, histories=histories, refused=refused,
        set_aside=set_aside, regions=regions, differences=_differences(regions),
        nation=figures_of(t for t in now if t.counted),
        nation_previous=figures_of(t for t in before if t.counted) if before else None,
        by_quarter=by_quarter, territories=now, territories_by_period=by_period,
        duplicates=duplicates, periods=periods, contacts=contacts,
        constant=_constant(now, before) if before else None,
    )


class NothingToRollUp(UsageError):
    """No file could be read as a regional history: each is named with its reason."""

    def __init__(self, refused: list[tuple[Path, str]]) -> None:
        super().__init__("Aucun historique régional lisible : rien à consolider au niveau national.")
        self.refused = refused
