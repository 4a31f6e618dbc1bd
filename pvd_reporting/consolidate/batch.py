"""`consolidate`: pick the period, settle duplicates, and build the regional view of README,
pvd-report consolidate, from the workbooks read by reading.py (figures computed in regional.py).

Nothing is lost: every workbook read stays in `Consolidation.reports`; those left out of the
view carry the whole-file issue that says why (`duplicate-submission`, `period-mismatch`, or an
unreadable file), and every other data row is in `Consolidation.rows`.
"""

from __future__ import annotations

import weakref
from collections.abc import Collection
from datetime import date
from pathlib import Path

from pvd_reporting.consolidate.filled import left_as_received, returned_untouched
from pvd_reporting.consolidate.regional import missing_view, region_view, territory_view
from pvd_reporting.consolidate.view import Consolidation, TerritoryView
from pvd_reporting.errors import UsageError
from pvd_reporting.format.french import fr_date
from pvd_reporting.format.issues import Issue, IssueCode, WorkbookReport, make_issue
from pvd_reporting.format.matching import french_sort_key, norm
from pvd_reporting.format.periods import (
    ends_long_before,
    first_day,
    last_day,
    parse_label,
    quarter_label,
    quarter_of,
)
from pvd_reporting.format.reference import Reference, RefTerritory, insee_department, territory_key
from pvd_reporting.format.schema import COMMUNES, NOT_FILLED, TABLE_KEYS, Schema
from pvd_reporting.format.vocabulary import PVD_TOWN as VILLE_PVD
from pvd_reporting.read.values import as_date, parse_period

# Issues this module adds to a report; dropped first so consolidating twice never doubles them.
OTHER_DEPARTMENT = IssueCode.OTHER_DEPARTMENT
CONSOLIDATION_CODES = frozenset({IssueCode.DUPLICATE_SUBMISSION, IssueCode.PERIOD_MISMATCH, OTHER_DEPARTMENT})
# Last quarter's file sent again (quarters.py): set aside, never counted twice.
RESENT = IssueCode.RESENT_PREVIOUS
# Workbooks left out of the view, and why (a whole-file issue on each).
SET_ASIDE_CODES = CONSOLIDATION_CODES | {RESENT}
# A period that does not fit the workbook's own update date (check/checks/territory.py): named, never filed
# silently under a quarter of its own (quarters.py).
PERIOD_BEFORE, PERIOD_AFTER = IssueCode.PERIOD_BEFORE_UPDATE, IssueCode.PERIOD_AFTER_UPDATE
PERIOD_TO_CHECK_CODES = frozenset({PERIOD_BEFORE, PERIOD_AFTER})
# A workbook of an earlier quarter, used as history of the consolidated one (quarters.py).
HISTORY_PLACEMENT = "Historique"
RESENT_PLACEMENT = "Renvoi tel quel"
CONSOLIDATED_PLACEMENT = "Consolidé"
TO_CHECK_PLACEMENT = "Consolidé, période à vérifier"

# --- period and identity ----------------------------------------------------------------------


def period_of(report: WorkbookReport) -> str | None:
    """The report's period as `2025-T4`, or None when it cannot be read."""
    values = report.data.territory.values if report.data is not None else {}
    for candidate in (values.get("period"), report.period):
        if candidate is None:
            continue
        try:
            return parse_period(candidate)
        except (ValueError, TypeError):
            continue
    return None


def retained_period(report: WorkbookReport) -> str | None:
    """The quarter a workbook counts for, from its content alone (never the run's period).

    Its declared period, unless that does not fit its own update date (`period-after-update`,
    `period-before-update`): then the quarter its update date reports on. A period after the
    update is the update's own quarter (the data are as of that day); a period far before it is
    most often a year mistyped, so the same quarter number in the latest year started by the
    update date, else the last quarter ended before the update.
    """
    own = period_of(report)
    if own is None or report.data is None:
        return own
    codes = {i.code for i in report.issues}
    updated = as_date(report.data.territory.values.get("updated_on"))
    if updated is None or not codes & PERIOD_TO_CHECK_CODES:
        return own
    if PERIOD_AFTER in codes:
        return quarter_label(quarter_of(updated))
    declared = parse_label(own)
    if declared is None:
        return own
    year = updated.year if first_day((updated.year, declared[1])) <= updated else updated.year - 1
    if not ends_long_before((year, declared[1]), updated):
        return quarter_label((year, declared[1]))
    year, q = quarter_of(updated)
    return quarter_label((year - 1, 4) if q == 1 else (year, q - 1))


def period_sort_key(period: str) -> tuple[int, int]:
    return parse_label(period) or (0, 0)


def period_end(period: str) -> date:
    """Last day of the quarter: the default reference date."""
    return last_day(period_sort_key(period))


def _pvd_insee(report: WorkbookReport) -> list[str]:
    codes = []
    for record in report.data.rows(COMMUNES):
        if norm(record.values.get("role")) == norm(VILLE_PVD) and record.values.get("insee"):
            codes.append(str(record.values["insee"]))
    return codes


def identify(report: WorkbookReport, reference: Reference | None) -> tuple[str, RefTerritory | None]:
    """README, pvd-report consolidate: Identifiant PVD, else EPCI SIREN + Ville PVD codes; the reference's key when matched."""
    values = report.data.territory.values
    id_pvd, siren = values.get("id_pvd"), values.get("siren")
    codes = _pvd_insee(report)
    ref = reference.match(id_pvd, siren, codes) if reference is not None else None
    if ref is not None:
        return ref.key.lower(), ref
    if not id_pvd and not siren and not codes:
        # Nothing identifies it: it cannot be a duplicate of anything.
        return f"fichier:{report.path}", None
    return territory_key(id_pvd, siren, codes), None


# --- consolidation ----------------------------------------------------------------------------


def consolidate(
    reports: list[WorkbookReport],
    schema: Schema,
    *,
    period: str | None = None,
    as_of: date | None = None,
    reference: Reference | None = None,
    departments: list[str] | None = None,
) -> Consolidation:
    """The regional view of `period` (default: the latest found) at `as_of` (default: its end).

    Each workbook counts for its `retained_period` (its content alone says which); one whose
    declared period does not fit its update date keeps its `period-…-update` warning.

    Adds `period-mismatch` and `duplicate-submission` issues to the reports left out.
    A readable report whose period cannot be read is kept in the view (its own errors say so).
    With `departments` (codes), only those départements: the territories expected, the
    workbooks (the others get `other-department`) and the titles. A territory belongs to every
    département of its communes (a territory across two départements is in both scopes).
    A workbook sent back as received (filled.py) is « Non rempli »: not counted as received.
    """
    wanted = [code for code in map(normalise_department, departments or []) if code]
    for report in reports:
        report.issues = [i for i in report.issues if i.code not in CONSOLIDATION_CODES]
    readable = [r for r in reports if r.data is not None]
    periods = {id(r): retained_period(r) for r in readable}
    if period is None:
        found = [p for p in periods.values() if p]
        period = max(found, key=period_sort_key) if found else None
    else:
        period = parse_period(period)
    if period is None:
        raise_nothing(reports)
    assert period is not None
    as_of = as_of or period_end(period)

    in_period: list[WorkbookReport] = []
    for report in readable:
        own = periods[id(report)]
        if own is not None and own != period:
            report.issues.append(make_issue(IssueCode.PERIOD_MISMATCH, value=own, period=period))
        elif wanted and not in_scope(report, wanted, reference):
            department = normalise_department(report.data.territory.values.get("department"))
            report.issues.append(make_issue(IssueCode.OTHER_DEPARTMENT, value=department or "non renseigné",
                                            departments=", ".join(wanted)))
        else:
            in_period.append(report)

    groups: dict[str, list[WorkbookReport]] = {}
    refs: dict[str, RefTerritory | None] = {}
    identified = [(report, *identify(report, reference)) for report in in_period]
    aliases = _aliases(identified)
    for report, key, ref in identified:
        key = aliases.get(key, key)
        groups.setdefault(key, []).append(report)
        refs[key] = refs.get(key) or ref

    territories: list[TerritoryView] = []
    for key, group in groups.items():
        winner = settle(group)
        view = territory_view(winner, key, schema, as_of, refs[key])
        view.same_day = [r.path for r in group if r is not winner and same_day_versions(r)]
        if returned_untouched(winner.data, schema):
            # Last quarter's data, come back as pvd-report wrote them: none of it is this
            # quarter's report, so none of it is counted (money, actions, rows).
            view = TerritoryView(key=view.key, id_pvd=view.id_pvd, name=view.name, department=view.department,
                                 region=view.region, epci=view.epci, siren=view.siren, received=False,
                                 report=winner, ort_status=NOT_FILLED, untouched=True, same_day=view.same_day)
        elif left_as_received(winner.data, schema):
            view.received, view.ort_status, view.days_left = False, NOT_FILLED, None
        territories.append(view)

    expected: int | None = None
    if reference is not None:
        region_refs = [ref for ref in reference.in_region(schema.config.region_name)
                       if not wanted or reference_departments(ref) & set(wanted)]
        expected = len(region_refs)
        seen = set(groups)
        territories.extend(missing_view(ref) for ref in region_refs if ref.key.lower() not in seen)

    territories.sort(key=lambda t: (t.department or "~", french_sort_key(t.name), t.key))
    rows = {
        key: [(t, record) for t in territories if t.report is not None and not t.untouched
              for record in t.report.data.rows(key)]
        for key in TABLE_KEYS
    }
    # A workbook of another département is named with its reason only: its own anomalies are
    # for that département's referent, not in this scope's files.
    anomalies: list[tuple[WorkbookReport, Issue]] = [
        (r, i) for r in reports for i in r.issues
        if not wanted or i.code == OTHER_DEPARTMENT or not any(j.code == OTHER_DEPARTMENT for j in r.issues)]
    return Consolidation(
        region=region_view(territories, schema, period, as_of, expected, departments=wanted),
        territories=territories,
        reports=list(reports),
        rows=rows,
        anomalies=anomalies,
        options={"period": period, "as_of": as_of},
    )


def _aliases(identified: list[tuple[WorkbookReport, str, RefTerritory | None]]) -> dict[str, str]:
    """SIREN + Ville PVD key -> Identifiant PVD key, from the workbooks that give both.

    README, pvd-report consolidate: a workbook without Identifiant PVD is the territory of that EPCI and those communes, so
    it is a duplicate of a workbook that names the same ones with an identifiant.
    """
    aliases: dict[str, str] = {}
    for report, key, _ in identified:
        values = report.data.territory.values
        codes = _pvd_insee(report)
        if values.get("id_pvd") and values.get("siren") and codes:
            aliases.setdefault(territory_key(None, values.get("siren"), codes), key)
    return aliases


# Said in the console, in Sources and in the reminders CSV when two versions share a date.
SAME_DAY_NOTE = "deux versions du même jour : vérifier"


def settle_key(report: WorkbookReport) -> tuple[bool, date, int, str]:
    """How versions of one territory and quarter are ranked, from their content alone: a
    workbook whose period fits its update date first, then the later `Date de mise à jour`,
    then the fewer errors, then the later file name. Never the file's time on disk: a copy, a
    zip or a mail loses it."""
    fits = not any(i.code in PERIOD_TO_CHECK_CODES for i in report.issues)
    updated = as_date(report.data.territory.values.get("updated_on")) or date.min
    return fits, updated, -report.errors, Path(report.path).name


def settle(group: list[WorkbookReport]) -> WorkbookReport:
    """The winner of `settle_key`; the others get `duplicate-submission`, whose message says how
    the choice was made and names both files."""
    ordered = sorted(group, key=settle_key)
    winner = ordered[-1]
    won = settle_key(winner)
    shown = fr_date(won[1]) if won[1] != date.min else "date inconnue"
    for loser in ordered[:-1]:
        rows = sum(len(loser.data.rows(k)) for k in TABLE_KEYS)
        lost = settle_key(loser)
        if lost[:2] == won[:2] and loser.sha256 and loser.sha256 == winner.sha256:
            how = "les deux fichiers sont identiques (même empreinte SHA-256) : un seul est compté"
        elif lost[:2] == won[:2]:
            how = (f"{SAME_DAY_NOTE} ; les deux portent la même date de mise à jour ({shown}) : "
                   + (f"celui qui compte le moins d'erreurs ({-won[2]} contre {-lost[2]}) est retenu"
                      if lost[2] != won[2] else "à erreurs égales, le dernier nom dans l'ordre alphabétique est retenu"))
        elif lost[0] == won[0]:
            how = f"le classeur à la date de mise à jour la plus récente ({shown}) est retenu"
        else:
            how = "le classeur dont la période correspond à sa date de mise à jour est retenu"
        loser.issues.append(make_issue(
            IssueCode.DUPLICATE_SUBMISSION, value=Path(loser.path).name, other=Path(winner.path).name,
            reason=f"{how} ; les {rows} lignes de celui-ci ne sont pas consolidées.",
        ))
    return winner


def same_day_versions(report: WorkbookReport) -> bool:
    """Whether this workbook was settled against another version of the same update date."""
    return any(i.code == IssueCode.DUPLICATE_SUBMISSION and SAME_DAY_NOTE in i.message for i in report.issues)


def raise_nothing(reports: list[WorkbookReport]) -> None:
    if not reports:
        raise UsageError("Aucun classeur à consolider.")
    raise UsageError("Aucun classeur lisible avec une période de suivi : rien à consolider.")


def left_out(consolidation: Consolidation) -> list[WorkbookReport]:
    """Reports read but not in the view (duplicate, other period, unreadable)."""
    kept = {id(t.report) for t in consolidation.territories if t.report is not None}
    return [r for r in consolidation.reports if id(r) not in kept]


# The reports a territory sent back unfilled, and those chosen over a version of the same date,
# of the last consolidation asked about: `placement` runs for every workbook of every quarter
# (Sources sheet, history database, dashboard), and looking through every territory each time
# made it quadratic at national scale.
_UNFILLED: tuple[weakref.ref[Consolidation], frozenset[int], frozenset[int]] | None = None


def _marked(consolidation: Consolidation) -> tuple[frozenset[int], frozenset[int]]:
    global _UNFILLED
    found = _UNFILLED
    if found is not None and found[0]() is consolidation:
        return found[1], found[2]
    ids = frozenset(id(t.report) for t in consolidation.territories
                    if t.report is not None and t.ort_status == NOT_FILLED)
    same_day = frozenset(id(t.report) for t in consolidation.territories if t.report is not None and t.same_day)
    _UNFILLED = (weakref.ref(consolidation), ids, same_day)
    return ids, same_day


def placement(consolidation: Consolidation, report: WorkbookReport) -> str:
    """How a workbook was used, in French, for the Sources sheet; both versions of one update
    date say « deux versions du même jour : vérifier »."""
    used = fate_outcome(consolidation, report)
    if same_day_versions(report) or id(report) in _marked(consolidation)[1]:
        return f"{used} — {SAME_DAY_NOTE}"
    return used


def fate_outcome(consolidation: Consolidation, report: WorkbookReport) -> str:
    """`placement` without the same-day note: how the workbook was used in `consolidation`."""
    codes = {i.code for i in report.issues}
    if report.data is None:
        return "Illisible"
    if RESENT in codes:
        return RESENT_PLACEMENT
    if IssueCode.PERIOD_MISMATCH in codes:
        return "Autre période"
    if IssueCode.DUPLICATE_SUBMISSION in codes:
        return "Envoi en double"
    if IssueCode.OTHER_DEPARTMENT in codes:
        return "Autre département"
    if id(report) in _marked(consolidation)[0]:
        return NOT_FILLED
    # Counted for an earlier quarter (its own, or the one its update date designates).
    own = retained_period(report)
    if own is not None and period_sort_key(own) < period_sort_key(consolidation.region.period):
        return HISTORY_PLACEMENT
    return TO_CHECK_PLACEMENT if codes & PERIOD_TO_CHECK_CODES else CONSOLIDATED_PLACEMENT


def reference_departments(ref: RefTerritory) -> set[str]:
    """Every département of a reference territory: its own and those of its communes."""
    return {d for d in (normalise_department(code) for code in ref.departments) if d}


def workbook_departments(report: WorkbookReport, reference: Reference | None = None) -> set[str]:
    """The départements a workbook belongs to: its Territoire form's, its communes', and those
    of its territory in the reference list."""
    values = report.data.territory.values
    found = {normalise_department(values.get("department"))}
    found.update(insee_department(r.values.get("insee")) for r in report.data.rows("communes"))
    if reference is not None:
        _, ref = identify(report, reference)
        if ref is not None:
            found.update(reference_departments(ref))
    return {d for d in found if d}


def in_scope(report: WorkbookReport, wanted: Collection[str], reference: Reference | None = None) -> bool:
    """A readable workbook of one of the `wanted` départements (always, without any)."""
    return not wanted or bool(workbook_departments(report, reference) & set(wanted))


def normalise_department(code: object) -> str | None:
    """`8`, `08`, ` 08 ` -> `08`; `2a` -> `2A`; None when blank."""
    text = str(code).strip().upper() if code is not None else ""
    if not text:
        return None
    if isinstance(code, float) and code.is_integer():
        text = str(int(code))
    return text.zfill(2) if text.isdigit() and len(text) < 2 else text
