"""Figures already published: what earlier runs wrote in the history file, the periods read back
from it unchanged, and the revisions of a period whose files changed since, with their cause.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pvd_reporting.consolidate.figures import Declared, ValueKind, declarations, totals_of
from pvd_reporting.consolidate.view import (
    Consolidation,
    History,
    Revision,
    TerritoryView,
    to_cent,
)
from pvd_reporting.format.schema import Schema

# The kinds of figure a publication records and a revision compares: every number of the registry.
RECORDED_KINDS = (ValueKind.COUNT, ValueKind.EUROS, ValueKind.SHARE, ValueKind.PERCENT, ValueKind.MONTHS)


@dataclass
class Published:
    """What earlier runs wrote in the output folder's history file, read before it is rewritten."""

    scope: str  # RegionView.scope of that run
    figures: dict[str, dict[str, float | None]]  # period -> figure label -> value, latest version
    by_key: dict[str, dict[str, float | None]] = field(default_factory=dict)  # the same by figure key
    versions: dict[str, tuple[int, str]] = field(default_factory=dict)  # period -> (version, files' digest)
    # period -> territory -> (file, SHA-256) of the workbooks counted for it, latest version
    counted: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    placed: dict[str, str] = field(default_factory=dict)  # SHA-256 -> period retained
    contacts: bool = True  # written with the contacts (not --no-contacts)
    path: Path | None = None  # the history file read: unchanged periods' rows are copied from it
    # The record's rows, every version, carried into the file this run writes.
    publication_rows: list[tuple[Any, ...]] = field(default_factory=list)
    figure_rows: list[tuple[Any, ...]] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)  # the file's `meta` table

    def unchanged(self, period: str, digest: str) -> bool:
        """Whether `period` was published from exactly these files."""
        found = self.versions.get(period)
        return found is not None and found[1] == digest


def recorded_declarations(schema: Schema) -> list[Declared]:
    """Every figure of the registry a publication records: all its numbers."""
    return [d for d in declarations(schema) if d.kind in RECORDED_KINDS]


def recorded_value(d: Declared, value: object) -> float | None:
    """A figure as the record keeps it: euros to the cent, a count, share or duration as it is."""
    if value is None or isinstance(value, str):
        return None
    number = float(value)  # type: ignore[arg-type]
    return to_cent(number) if d.kind == ValueKind.EUROS else number


def differs(d: Declared, old: float | None, new: float | None) -> bool:
    if old is None or new is None:
        return (old is None) != (new is None)
    return to_cent(old - new) != 0 if d.kind == ValueKind.EUROS else abs(old - new) > 1e-9


def published_figures(c: Consolidation, schema: Schema) -> dict[str, float | None]:
    """Every figure of the registry a revision is watched on, by its Synthèse label."""
    totals = totals_of(c, schema)
    return {d.label: recorded_value(d, d.value(totals)) for d in recorded_declarations(schema)}


def territory_label(t: TerritoryView) -> str:
    """How a territory is named in a cause and matched across runs: « Commercy (pvd-44-55-2) »."""
    return f"{t.name} ({t.id_pvd})" if t.id_pvd else t.name


def counted_sources(c: Consolidation) -> dict[str, tuple[str, str]]:
    """Territory -> (file, SHA-256) of the workbook behind each territory counted in a period."""
    return {territory_label(t): (t.report.path, t.report.sha256 or "") for t in c.territories
            if t.received and t.report is not None}


def read_back(history: History, published: Published) -> list[str]:
    """The earlier periods whose files did not change since they were published: their figures
    are the record's (`Consolidation.recorded`), not this run's recomputation."""
    kept = []
    for period, c in history.periods.items():
        if period != history.current and published.unchanged(period, history.digests.get(period, "")):
            c.recorded = dict(published.by_key.get(period, {})) or None
            kept.append(period)
    return kept


def revisions(history: History, published: Published, schema: Schema) -> list[Revision]:
    """Every figure of the registry that differs from what was published, for each period whose
    files changed since, with its cause territory by territory."""
    out: list[Revision] = []
    now_placed = {f.sha256: f.period for f in history.fates if f.sha256 and f.period}
    declared = recorded_declarations(schema)
    for period, c in history.periods.items():
        before = published.figures.get(period)
        # The quarter consolidated too: an earlier run of it may already have been given out,
        # and this run writes a new version of it.
        if before is None or published.unchanged(period, history.digests.get(period, "")):
            continue
        changed = []
        totals = totals_of(c, schema)
        for d in declared:
            if d.label not in before:
                continue
            old, new = before[d.label], recorded_value(d, d.value(totals))
            if differs(d, old, new):
                changed.append((d, old, new))
        if not changed:
            continue
        cause, summary = _cause(period, published.counted.get(period, {}), counted_sources(c),
                                published.placed, now_placed)
        out.extend(Revision(period, d.label, old, new, cause, summary, str(d.kind)) for d, old, new in changed)
    return out


def _cause(period: str, old: dict[str, tuple[str, str]], new: dict[str, tuple[str, str]],
           placed_before: dict[str, str], placed_now: dict[str, str]) -> tuple[str, str]:
    """(named, counted): territory by territory, the workbook that arrived, was replaced, was
    withdrawn or moved to another period between the publication and this run."""
    kinds = {"arrived": ("classeur arrivé depuis", "classeurs arrivés depuis"),
             "replaced": ("classeur remplacé depuis", "classeurs remplacés depuis"),
             "withdrawn": ("classeur retiré depuis", "classeurs retirés depuis"),
             "moved": ("classeur déplacé vers une autre période", "classeurs déplacés vers une autre période")}
    named: list[str] = []
    counts: Counter[str] = Counter()
    for territory in sorted(set(old) | set(new)):
        was, now = old.get(territory), new.get(territory)
        if was is not None and now is not None and was[1] == now[1]:
            continue
        if was is None and now is not None:
            came_from = placed_before.get(now[1])
            what = "arrived"
            text = (f"classeur déplacé depuis {came_from} ({now[0]})" if came_from and came_from != period
                    else f"classeur arrivé depuis ({now[0]})")
        elif was is not None and now is None:
            went_to = placed_now.get(was[1])
            if went_to and went_to != period:
                what, text = "moved", f"classeur déplacé vers {went_to} ({was[0]})"
            else:
                what, text = "withdrawn", f"classeur retiré depuis ({was[0]})"
        else:
            assert was is not None and now is not None
            what, text = "replaced", f"classeur remplacé depuis ({was[0]} → {now[0]})"
        counts[what] += 1
        named.append(f"{territory} : {text}")
    if not named:
        text = "aucun classeur changé : règles de calcul, liste de référence ou configuration différentes"
        return text, text
    summary = ", ".join(f"{n} {kinds[k][0] if n == 1 else kinds[k][1]}" for k in kinds if (n := counts[k]))
    return " ; ".join(named), summary
