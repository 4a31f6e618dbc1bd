"""Quarters (README, Plusieurs trimestres) : every period found is settled the same way, the latest (or the
one asked for) is consolidated, the earlier ones are its history.

A period's view is taken at the last day of that period, the consolidated period's at `--as-of`.
Territories expected in a period are the reference list's plus every territory received in any
period: one without a workbook for a period is `Non reçu` for that period. A territory keeps one
identity across quarters: its Identifiant PVD, or its EPCI's SIREN and Ville PVD communes, so a
workbook that gained (or corrected) its identifiant is still the same territory.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from pvd_reporting.consolidate import changes as change_rules
from pvd_reporting.consolidate.batch import (
    OTHER_DEPARTMENT,
    PERIOD_TO_CHECK_CODES,
    RESENT,
    SAME_DAY_NOTE,
    SET_ASIDE_CODES,
    _pvd_insee,
    consolidate,
    identify,
    period_end,
    period_sort_key,
    placement,
    raise_nothing,
    retained_period,
)
from pvd_reporting.consolidate.regional import region_view
from pvd_reporting.consolidate.view import (
    Consolidation,
    ConstantPerimeter,
    Fate,
    History,
    TerritoryView,
)
from pvd_reporting.format.issues import WorkbookReport, make_issue
from pvd_reporting.format.matching import norm
from pvd_reporting.format.periods import first_day, parse_label, quarter_label
from pvd_reporting.format.reference import Reference, territory_key
from pvd_reporting.format.schema import ANNUAIRE, COMMUNES, NOT_FILLED, NOT_RECEIVED, Schema
from pvd_reporting.read.values import parse_period

# Issues this module adds; dropped first so that consolidating twice never doubles them.
HISTORY_CODES = change_rules.CROSS_QUARTER_CODES | {RESENT}


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
    period's anomalies; only reports of a later period are `period-mismatch`. Last quarter's
    file found again among a later quarter's is `resent-previous` and set aside (mark_resent). A
    workbook whose period does not fit its update date (`period-before-update`,
    `period-after-update`) counts for the quarter its update date reports on (batch.retained_period),
    whichever period is consolidated; it never chooses the period consolidated, and loses to a
    workbook of its territory that declares that quarter; the console names it either way.
    """
    for report in reports:
        report.issues = [i for i in report.issues if i.code not in HISTORY_CODES]
    # Each workbook's quarter, from its content alone: never the period asked for.
    own = {id(r): retained_period(r) if r.data is not None else None for r in reports}
    resent = mark_resent(reports, own)
    # A workbook whose period does not fit its update date never chooses the period consolidated.
    flagged = {id(r) for r in reports if r.data is not None and any(i.code in PERIOD_TO_CHECK_CODES for i in r.issues)}
    filed = {i: p for i, p in own.items() if p and i not in resent}
    found = sorted(set(filed.values()), key=period_sort_key)
    if period is None:
        trusted = sorted({p for i, p in filed.items() if i not in flagged}, key=period_sort_key)
        if not (trusted or found):
            raise_nothing(reports)
        period = (trusted or found)[-1]
    else:
        period = parse_period(period)
    current_key = period_sort_key(period)
    earlier = [p for p in found if period_sort_key(p) < current_key]
    by_period: dict[str, list[WorkbookReport]] = {p: [] for p in earlier}
    current_reports: list[WorkbookReport] = []
    for report in reports:
        if id(report) in resent:
            continue
        p = filed.get(id(report))
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
    # With --departement, a period's workbooks are those of the scope: the others are one line.
    workbooks = {p: sum(1 for r in by_period[p] if not has_code(r, OTHER_DEPARTMENT)) for p in earlier}
    workbooks[period] = sum(1 for r in current_reports if own[id(r)] == period and not has_code(r, OTHER_DEPARTMENT))

    _one_identity(periods)
    _expect_everyone(periods, schema, reference)
    history = History(current=period, periods=periods, workbooks=workbooks)
    considered = {**by_period, period: [r for r in current_reports if own[id(r)] == period]}
    history.digests = {p: files_digest(considered[p]) for p in periods}
    views = {id(t.report): t for c in periods.values() for t in c.territories if t.report is not None}
    history.fates = [fate(periods[p], r, p, views, reference) for p in periods for r in considered[p]]
    history.fates += [fate(result, r, own[id(r)], views, reference)
                      for r in current_reports if own[id(r)] != period]
    history.fates += [fate(result, r, own[id(r)], views, reference) for r in reports if id(r) in resent]
    previous, year_before = previous_quarter(period), same_quarter_last_year(period)
    history.previous = previous if previous in periods else None
    history.year_before = year_before if year_before in periods else None
    prior = history.at(history.previous)
    if prior is not None:
        history.changes = change_rules.apply_changes(prior, result, schema)
    result.history = history
    # Every workbook read stays listed with the consolidated period (Sources, anomalies files):
    # an earlier quarter's is used as history, a resent one is set aside.
    result.reports.extend(r for p in earlier for r in by_period[p])
    resends = [r for r in reports if id(r) in resent]
    result.reports.extend(resends)
    result.anomalies.extend((r, i) for r in resends for i in r.issues)
    history.constant = constant_perimeter(history, schema)
    return result


def constant_perimeter(history: History, schema: Schema) -> ConstantPerimeter | None:
    """T-1 and the period recomputed on the territories received in both (a territory new this
    quarter, or that did not send, is left out of both sides): a territory that did not send
    does not read as money lost. Every figure is read from these territories' own figures."""
    prior, current = history.at(history.previous), history.at(history.current)
    if prior is None or current is None:
        return None
    both = ({t.key for t in prior.territories if t.received}
            & {t.key for t in current.territories if t.received})

    def restricted(c: Consolidation) -> Consolidation:
        kept = [t for t in c.territories if t.key in both]
        region = region_view(kept, schema, c.region.period, c.region.as_of, None,
                             departments=c.region.departments)
        rows = {key: [(t, r) for t, r in pairs if t.key in both] for key, pairs in c.rows.items()}
        return Consolidation(region=region, territories=kept, reports=[], rows=rows, options=c.options)

    return ConstantPerimeter(len(both), restricted(prior), restricted(current))


def has_code(report: WorkbookReport, code: str) -> bool:
    return any(i.code == code for i in report.issues)


def _folder_periods(reports: list[WorkbookReport], own: dict[int, str | None]) -> dict[Path, str]:
    """The quarter a referent filed each folder's workbooks in: the folder's name when it is a
    period (`2026-T1`), else the period most of its workbooks declare."""
    counts: dict[Path, Counter[str]] = {}
    for report in reports:
        p = own[id(report)]
        if p:
            counts.setdefault(Path(report.path).parent, Counter())[p] += 1
    out = {}
    for folder, c in counts.items():
        try:
            out[folder] = parse_period(folder.name)
        except ValueError:
            out[folder] = max(c.items(), key=lambda kv: (kv[1], period_sort_key(kv[0])))[0]
    return out


def mark_resent(reports: list[WorkbookReport], own: dict[int, str | None]) -> set[int]:
    """Files byte-identical to one read for an earlier period, found among a later period's
    workbooks (`resent-previous`): last quarter's file sent again, not news of this quarter.

    The later period is the folder's (what most of its workbooks declare). Returns their ids.
    """
    folders = _folder_periods(reports, own)
    by_hash: dict[str, list[WorkbookReport]] = {}
    for report in reports:
        if report.data is not None and report.sha256 and own[id(report)]:
            by_hash.setdefault(report.sha256, []).append(report)
    marked: set[int] = set()
    for same in by_hash.values():
        if len(same) < 2:
            continue

        def later_folder(r: WorkbookReport) -> str | None:
            folder = folders.get(Path(r.path).parent)
            declared = own[id(r)]
            assert declared is not None
            return folder if folder and period_sort_key(folder) > period_sort_key(declared) else None

        originals = [r for r in same if later_folder(r) is None]
        if not originals:
            continue
        for report in same:
            folder = later_folder(report)
            if folder is None:
                continue
            report.issues.append(make_issue(RESENT, value=own[id(report)], other=originals[0].path,
                                            period=folder))
            marked.add(id(report))
    return marked


def _keys(report: WorkbookReport, reference: Reference | None) -> set[str]:
    key, _ = identify(report, reference)
    keys = {key}
    values = report.data.territory.values
    if values.get("id_pvd"):
        keys.add(territory_key(str(values["id_pvd"]), None, []))
    codes = _pvd_insee(report)
    if values.get("siren") and codes:
        keys.add(territory_key(None, str(values["siren"]), codes))
    return keys


def period_start(period: str) -> date:
    return first_day(parse_label(period) or (1, 1))


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
        c.region = region_view(c.territories, schema, p, c.region.as_of, len(c.territories),
                               departments=c.region.departments)


# --- each workbook's fate, each period's files ---------------------------------------------------

# Why a workbook returned untouched is not counted (classeurs table, reminders).
UNTOUCHED_REASON = "classeur renvoyé sans modification : ses données sont celles que pvd-report y avait écrites"


def files_digest(reports: list[WorkbookReport]) -> str:
    """The digest of the set of files retained for a period: their content and their names (the
    last tie-break), never their place on disk or their time. Equal digests, equal figures."""
    lines = sorted(f"{r.sha256 or ''} {Path(r.path).name}" for r in reports)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def fate(c: Consolidation, report: WorkbookReport, period: str | None, views: dict[int, TerritoryView],
         reference: Reference | None) -> Fate:
    """What became of `report` in `c`, the consolidation of the period it was retained for
    (`views`: each counted workbook's territory, by the report's id)."""
    outcome = placement(c, report)
    view = views.get(id(report))
    values = report.data.territory.values if report.data is not None else {}
    key = view.key if view is not None else identify(report, reference)[0] if report.data is not None else None
    id_pvd = (view.id_pvd if view is not None else None) or _text(values.get("id_pvd"))
    name = (view.name if view is not None else None) or _text(values.get("name"))
    return Fate(report.path, report.sha256, key, id_pvd, name, period, outcome, _reason(report, view))


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _reason(report: WorkbookReport, view: TerritoryView | None) -> str:
    """Why a workbook was not counted, or what to check in the one counted; blank otherwise."""
    if view is not None and view.ort_status == NOT_FILLED:
        return (UNTOUCHED_REASON if view.untouched else
                "aucune donnée ajoutée au classeur pré-rempli, sans date de mise à jour")
    for issue in report.issues:
        if issue.code in SET_ASIDE_CODES or issue.code in PERIOD_TO_CHECK_CODES or report.data is None:
            return issue.message
    if view is not None and view.same_day:
        return f"{SAME_DAY_NOTE} : aussi reçu {', '.join(Path(p).name for p in view.same_day)}"
    return ""


# --- once the earlier quarters' rows are written -------------------------------------------------

# What an earlier quarter's workbook keeps: a territory's row names its communes, and the
# reminders look for a chef de projet back through the annuaires of its earlier workbooks.
KEPT_TABLES = frozenset({COMMUNES, ANNUAIRE})


def shed_earlier_rows(result: Consolidation, keep: Iterable[WorkbookReport] = ()) -> None:
    """Drop the table rows of the earlier quarters' workbooks once the history database holds
    them (outputs.history_db, `write_earlier`), but those of `keep` (the reminders' attachments
    are made from them) and of the quarter consolidated: the outputs written next read views.

    Freed before the writer process is forked, their memory serves what each process makes
    next, instead of pages of its own (docs/vitesse.md)."""
    history = result.history
    if history is None:
        return
    constant = history.constant
    now = [result, *((constant.current,) if constant is not None else ())]
    kept = {id(r) for r in keep} | {id(t.report) for c in now for t in c.territories if t.report is not None}
    earlier = [c for c in history.periods.values() if c is not result]
    if constant is not None and constant.previous not in now:
        earlier.append(constant.previous)
    for c in earlier:
        c.rows = {}
        for t in c.territories:
            data = t.report.data if t.report is not None else None
            if data is not None and id(t.report) not in kept:
                data.tables = {k: rows for k, rows in data.tables.items() if k in KEPT_TABLES}
