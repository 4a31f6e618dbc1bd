"""Quarters (README, Plusieurs trimestres) : every period found is settled the same way, the latest (or the
one asked for) is consolidated, the earlier ones are its history.

A period's view is taken at the last day of that period, the consolidated period's at `--as-of`.
Territories expected in a period are the reference list's plus every territory received in any
period: one without a workbook for a period is `Non reçu` for that period. A territory keeps one
identity across quarters: its Identifiant PVD, or its EPCI's SIREN and Ville PVD communes, so a
workbook that gained (or corrected) its identifiant is still the same territory.
"""

from __future__ import annotations

from datetime import date

from pvd_reporting.consolidate import changes as change_rules
from pvd_reporting.consolidate.batch import (
    _pvd_insee,
    consolidate,
    period_end,
    period_of,
    period_sort_key,
    raise_nothing,
)
from pvd_reporting.consolidate.regional import region_view
from pvd_reporting.consolidate.view import Consolidation, History, TerritoryView
from pvd_reporting.format.issues import WorkbookReport
from pvd_reporting.format.matching import norm
from pvd_reporting.format.periods import parse_label, quarter_label
from pvd_reporting.format.reference import Reference, territory_key
from pvd_reporting.format.schema import NOT_RECEIVED, Schema
from pvd_reporting.read.values import parse_period

# Issues this module adds; dropped first so that consolidating twice never doubles them.
HISTORY_CODES = change_rules.CROSS_QUARTER_CODES


def previous_quarter(period: str) -> str | None:
    quarter = parse_label(period)
    if quarter is None:
        return None
    year, q = quarter
    return quarter_label((year - 1, 4) if q == 1 else (year, q - 1))


def same_quarter_last_year(period: str) -> str | None:
    quarter = parse_label(period)
    return quarter_label((quarter[0] - 1, quarter[1])) if quarter else None


def consolidate_history(
    reports: list[WorkbookReport],
    schema: Schema,
    *,
    period: str | None = None,
    as_of: date | None = None,
    reference: Reference | None = None,
    departments: list[str] | None = None,
) -> Consolidation:
    """The consolidation of `period` (default: the latest found), with `history` filled in.

    Reports of earlier periods are settled in their own period and are not the consolidated
    period's anomalies; only reports of a later period are `period-mismatch`.
    """
    for report in reports:
        report.issues = [i for i in report.issues if i.code not in HISTORY_CODES]
    own = {id(r): period_of(r) if r.data is not None else None for r in reports}
    found = sorted({p for p in own.values() if p}, key=period_sort_key)
    if period is None:
        if not found:
            raise_nothing(reports)
        period = found[-1]
    else:
        period = parse_period(period)
    current_key = period_sort_key(period)
    earlier = [p for p in found if period_sort_key(p) < current_key]
    by_period: dict[str, list[WorkbookReport]] = {p: [] for p in earlier}
    current_reports: list[WorkbookReport] = []
    for report in reports:
        p = own[id(report)]
        if p is not None and p in by_period:
            by_period[p].append(report)
        else:
            current_reports.append(report)

    periods: dict[str, Consolidation] = {}
    for p in earlier:
        periods[p] = consolidate(by_period[p], schema, period=p, as_of=period_end(p), reference=reference,
                                 departments=departments)
    result = consolidate(current_reports, schema, period=period, as_of=as_of, reference=reference,
                         departments=departments)
    periods[period] = result
    workbooks = {p: len(by_period[p]) for p in earlier}
    workbooks[period] = sum(1 for r in current_reports if own[id(r)] == period)

    _one_identity(periods)
    _expect_everyone(periods, schema, reference)
    history = History(current=period, periods=periods, workbooks=workbooks)
    previous, year_before = previous_quarter(period), same_quarter_last_year(period)
    history.previous = previous if previous in periods else None
    history.year_before = year_before if year_before in periods else None
    prior = history.at(history.previous)
    if prior is not None:
        history.changes = change_rules.apply_changes(prior, result, schema)
    result.history = history
    # Every workbook read stays listed with the consolidated period (Sources, anomalies files):
    # an earlier quarter's is used as history.
    result.reports.extend(r for p in earlier for r in by_period[p])
    return result


def _alternate_keys(t: TerritoryView) -> list[str]:
    keys = [t.key]
    if t.id_pvd:
        keys.append(territory_key(t.id_pvd, None, []))
    if t.report is not None and t.siren:
        codes = _pvd_insee(t.report)
        if codes:
            keys.append(territory_key(None, str(t.siren), codes))
    return keys


def _one_identity(periods: dict[str, Consolidation]) -> None:
    """Give a territory the same key in every period: union of its identifiant and its SIREN +
    Ville PVD key, named after its latest period's key."""
    parent: dict[str, str] = {}

    def find(k: str) -> str:
        parent.setdefault(k, k)
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    views = [t for c in periods.values() for t in c.territories]
    for t in views:
        keys = _alternate_keys(t)
        for other in keys[1:]:
            parent[find(other)] = find(keys[0])
    # The name of a group: the key of its latest received view (periods are oldest first).
    names: dict[str, str] = {}
    for c in periods.values():
        for t in c.territories:
            if t.received or find(t.key) not in names:
                names[find(t.key)] = t.key
    for c in periods.values():
        for t in c.territories:
            t.key = names[find(t.key)]


def _expect_everyone(periods: dict[str, Consolidation], schema: Schema, reference: Reference | None) -> None:
    """Add, to each period, the territories received in another period as `Non reçu`."""
    latest: dict[str, TerritoryView] = {}
    for c in periods.values():
        for t in c.territories:
            if t.received:
                latest[t.key] = t
    if len(periods) < 2:
        return
    for p, c in periods.items():
        present = {t.key for t in c.territories}
        absent = [t for key, t in latest.items() if key not in present]
        if not absent and reference is None:
            continue
        c.territories.extend(
            TerritoryView(key=t.key, id_pvd=t.id_pvd, name=t.name, department=t.department, region=t.region,
                          epci=t.epci, siren=t.siren, received=False, ort_status=NOT_RECEIVED)
            for t in absent)
        c.territories.sort(key=lambda t: (t.department or "~", norm(t.name), t.key))
        c.region = region_view(c.territories, schema, p, c.region.as_of, len(c.territories))
