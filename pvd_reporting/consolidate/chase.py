"""Who the reminders chase (README, Le cycle trimestriel): the territories expected and not
received, or received with errors, and their contacts.

Who to chase is one small function (`to_chase`) over the consolidation. Contacts come from the
territory's latest annuaire in any period read.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from pvd_reporting.consolidate.batch import (
    OTHER_DEPARTMENT,
    PERIOD_TO_CHECK_CODES,
    RESENT,
    SAME_DAY_NOTE,
    identify,
    period_of,
    period_sort_key,
    retained_period,
    same_day_versions,
)
from pvd_reporting.consolidate.view import Consolidation, TerritoryView
from pvd_reporting.format.french import fr_date
from pvd_reporting.format.issues import IssueCode, WorkbookReport
from pvd_reporting.format.matching import norm
from pvd_reporting.format.reference import Reference, RefTerritory
from pvd_reporting.format.schema import ANNUAIRE, NOT_FILLED, NOT_RECEIVED
from pvd_reporting.format.vocabulary import ELECTED_REFERENT_ROLE, PROJECT_LEAD_ROLE
from pvd_reporting.read.records import Record
from pvd_reporting.read.values import as_date

TO_FIX = "À corriger"
# A workbook came, but its period does not fit its update date, or it is last quarter's file.
PERIOD_TO_CHECK = "Période à vérifier"
RESENT_AS_IS = "Renvoyé tel quel"
# What pvd-report sent out (template, carried forward, attachment), come back with its data unchanged.
UNTOUCHED = "Classeur renvoyé sans modification"
# Two versions of one update date: the referent checks the one kept (batch.settle); no mail.
SAME_DAY_CHECK = SAME_DAY_NOTE[0].upper() + SAME_DAY_NOTE[1:]
PERIOD_MISMATCH = IssueCode.PERIOD_MISMATCH


@dataclass
class Contact:
    name: str
    email: str | None = None
    phone: str | None = None


@dataclass
class Chase:
    """One territory to chase, and what is known of it."""

    key: str
    id_pvd: str | None
    name: str
    department: str | None
    # NOT_RECEIVED, NOT_FILLED, TO_FIX, PERIOD_TO_CHECK or RESENT_AS_IS (`motif_text` as the CSV says it)
    motif: str
    received: WorkbookReport | None = None  # the workbook of the period, with its errors (À corriger)
    odd: WorkbookReport | None = None  # the workbook whose period is to check, or resent as it was
    blank: WorkbookReport | None = None  # the workbook of the period, received empty (Non rempli)
    history: list[WorkbookReport] = field(default_factory=list)  # every workbook of it, latest first
    ref: RefTerritory | None = None
    lead: Contact | None = None
    elected: Contact | None = None
    same_day: bool = False  # two versions of one update date were settled for this period

    @property
    def latest(self) -> WorkbookReport | None:
        return self.history[0] if self.history else None

    @property
    def motif_text(self) -> str:
        """« Non reçu », « À corriger », « Période à vérifier (2025-T1 déclarée, mise à jour le
        03/04/2026) » or « Classeur de 2025-T4 renvoyé tel quel »; with « ; deux versions du même
        jour : vérifier » when two versions of one date were sent."""
        text = self._motif_text()
        return f"{text} ; {SAME_DAY_NOTE}" if self.same_day and self.motif != SAME_DAY_CHECK else text

    def _motif_text(self) -> str:
        odd = self.odd
        if self.motif == PERIOD_TO_CHECK and odd is not None:
            updated = as_date(odd.data.territory.values.get("updated_on"))
            text = (f"{PERIOD_TO_CHECK} ({period_of(odd) or 'période illisible'} déclarée, mise à jour le "
                    f"{fr_date(updated) if updated else 'non renseignée'})")
            return text + (f" ; {TO_FIX.lower()}" if odd.errors else "")
        if self.motif == RESENT_AS_IS and odd is not None:
            return f"Classeur de {period_of(odd)} renvoyé tel quel"
        if self.motif == NOT_FILLED:
            return f"{NOT_FILLED} (classeur reçu vide)"
        return self.motif



# --- who to chase --------------------------------------------------------------------------------


def counts_as_not_received(territory: TerritoryView) -> bool:
    """Expected and not received; where a workbook sent back untouched will join."""
    return not territory.received


def needs_fixing(territory: TerritoryView) -> bool:
    return territory.received and territory.errors > 0


def to_chase(consolidation: Consolidation, reference: Reference | None = None) -> list[Chase]:
    """The territories to chase for the consolidated period, sorted by département and name.

    Besides the view's territories, a territory received in an earlier period and absent from
    this one is expected too (README, Plusieurs trimestres).
    """
    period = consolidation.region.period
    by_key = _history(consolidation.reports, reference)
    odd = _odd_workbooks(consolidation.reports, reference)
    same_day = {identify(r, reference)[0] for r in _of_period(consolidation) if same_day_versions(r)}
    refs = {r.key.lower(): r for r in reference.territories} if reference is not None else {}
    chased: list[Chase] = []
    seen: set[str] = set()
    for t in consolidation.territories:
        # A reference territory's key keeps the list's spelling; identify() lowers it.
        key = t.key.lower()
        seen.add(key)
        motif = NOT_RECEIVED if counts_as_not_received(t) else TO_FIX if needs_fixing(t) else None
        odd_one = t.report if t.received and _period_to_check(t.report) else None
        if not t.received and t.untouched and t.report is not None:
            motif, odd_one = UNTOUCHED, t.report
        elif odd_one is not None:
            motif = PERIOD_TO_CHECK
        elif motif == NOT_RECEIVED and key in odd:
            odd_one = odd[key]
            motif = RESENT_AS_IS if _has(odd_one, RESENT) else PERIOD_TO_CHECK
        if motif is None and key in same_day:
            motif = SAME_DAY_CHECK
        if motif is None:
            continue
        blank = t.report if motif == NOT_RECEIVED and t.ort_status == NOT_FILLED else None
        if blank is not None:
            motif = NOT_FILLED
        history = by_key.get(key, [])
        if motif in (NOT_RECEIVED, NOT_FILLED, RESENT_AS_IS, UNTOUCHED):
            history = [r for r in history if _is_before(r, period)]
        ref = refs.get(key) if not t.received else None
        chased.append(Chase(t.key, t.id_pvd, t.name, t.department, motif, received=t.report if t.received else None,
                            history=history, ref=ref, odd=odd_one, blank=blank, same_day=key in same_day))
    for key, history in by_key.items():
        earlier = [r for r in history if _is_before(r, period)]
        if key in seen or not earlier:
            continue
        values = earlier[0].data.territory.values
        odd_one = odd.get(key)
        motif = NOT_RECEIVED if odd_one is None else RESENT_AS_IS if _has(odd_one, RESENT) else PERIOD_TO_CHECK
        chased.append(Chase(key, _text(values.get("id_pvd")), _text(values.get("name")) or key,
                            _text(values.get("department")), motif, history=earlier, odd=odd_one))
    for chase in chased:
        chase.lead, chase.elected = contacts(chase.history)
    chased.sort(key=lambda c: (c.department or "~", norm(c.name), c.key))
    return chased


def attached_workbooks(chased: Iterable[Chase]) -> list[WorkbookReport]:
    """Every workbook a reminder's attachment may be made from (outputs/mail.py, `attachment`):
    annotated, carried forward, or the one whose period is to check."""
    return [r for c in chased for r in (c.latest, c.received, c.odd, c.blank) if r is not None]


def _of_period(consolidation: Consolidation) -> list[WorkbookReport]:
    """The workbooks settled for the consolidated period (an earlier quarter's are its history)."""
    period = consolidation.region.period
    return [r for r in consolidation.reports if r.data is not None and retained_period(r) == period]


def _has(report: WorkbookReport | None, code: str) -> bool:
    return report is not None and any(i.code == code for i in report.issues)


def _period_to_check(report: WorkbookReport | None) -> bool:
    return report is not None and any(i.code in PERIOD_TO_CHECK_CODES for i in report.issues)


def _odd_workbooks(reports: Iterable[WorkbookReport], reference: Reference | None) -> dict[str, WorkbookReport]:
    """Set-aside workbooks that say a territory did send something: last quarter's file again
    (`resent-previous`), or a workbook whose period is to check; by territory key, latest first."""
    out: dict[str, WorkbookReport] = {}
    for report in sorted((r for r in reports if r.data is not None), key=_recency):
        if _has(report, OTHER_DEPARTMENT):
            continue
        if _has(report, RESENT) or (_period_to_check(report) and _has(report, PERIOD_MISMATCH)):
            out[identify(report, reference)[0]] = report
    return out


def _history(reports: Iterable[WorkbookReport], reference: Reference | None) -> dict[str, list[WorkbookReport]]:
    """Readable workbooks of the scope by territory key, latest (period, then update) first;
    last quarter's file sent again is that quarter's, already there."""
    out: dict[str, list[WorkbookReport]] = {}
    for report in reports:
        if report.data is not None and not _has(report, OTHER_DEPARTMENT) and not _has(report, RESENT):
            key, _ = identify(report, reference)
            out.setdefault(key, []).append(report)
    for group in out.values():
        group.sort(key=_recency, reverse=True)
    return out


def _recency(report: WorkbookReport) -> tuple[tuple[int, int], date]:
    period = period_of(report)
    updated = as_date(report.data.territory.values.get("updated_on")) or date.min
    return (period_sort_key(period) if period else (0, 0)), updated


def _is_before(report: WorkbookReport, period: str) -> bool:
    own = period_of(report)
    return own is not None and period_sort_key(own) < period_sort_key(period)


def contacts(history: list[WorkbookReport]) -> tuple[Contact | None, Contact | None]:
    """(chef de projet, élu référent) from the latest annuaire that names a chef de projet; the
    Territoire form's chef de projet, without mail, when no annuaire does."""
    for report in history:
        rows = report.data.rows(ANNUAIRE)
        lead = _first_with_role(rows, PROJECT_LEAD_ROLE)
        if lead is not None:
            return lead, _first_with_role(rows, ELECTED_REFERENT_ROLE)
    for report in history:
        name = _text(report.data.territory.values.get("project_lead"))
        if name:
            return Contact(name), None
    return None, None


def _first_with_role(rows: list[Record], role: str) -> Contact | None:
    found = [r for r in rows if norm(r.values.get("role")) == norm(role)]
    # Several rows with the role: the first with a readable mail.
    found.sort(key=lambda r: r.values.get("email") is None)
    for record in found:
        name = _text(record.values.get("name")) or _text(record.raw.get("name"))
        if name or record.values.get("email"):
            phone = _text(record.values.get("phone")) or _text(record.raw.get("phone"))
            return Contact(name or "", _text(record.values.get("email")), phone)
    return None


def sent_on(report: WorkbookReport) -> date | None:
    """The date a workbook says it was filled, else the date of its file (a blank workbook)."""
    updated = as_date(report.data.territory.values.get("updated_on")) if report.data is not None else None
    if updated is not None:
        return updated
    try:
        return date.fromtimestamp(os.stat(report.path).st_mtime)
    except (OSError, ValueError, OverflowError):
        return None


def last_sent_words(chase: Chase) -> str:
    """« pour 2025-T4, daté du 14/01/2026 »: its latest earlier workbook, as a draft says it."""
    latest = chase.latest
    if latest is None:
        return ""
    updated = as_date(latest.data.territory.values.get("updated_on"))
    words = f"pour {period_of(latest) or 'une période illisible'}"
    return f"{words}, daté du {fr_date(updated)}" if updated else words


def last_sent(chase: Chase) -> str:
    """`2025-T3 (15/10/2025)`: period and update date of its latest workbook; blank if none."""
    latest = chase.received or chase.latest
    if latest is None:
        return ""
    period = period_of(latest) or "période illisible"
    updated = as_date(latest.data.territory.values.get("updated_on"))
    return f"{period} ({fr_date(updated)})" if updated else period

def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
