"""« À retenir »: the sentence and the ranked alerts that open the dashboard and the `Synthèse`
sheet, computed once from the view so that both say the same thing.

Ranked by urgency: ORT deadline passed (most months late first), at risk (fewest days left
first), ORT signed late in this quarter, workbooks with errors, territories that stopped sending
(received in an earlier quarter, not in this one: one line each, with their last quarter), then
the workbooks not received or sent back unfilled (one line each, naming the territories).
Only what calls for action now: an ORT signed late in an earlier quarter is no longer an alert
(the count of late signatures stays among the figures).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pvd_reporting.consolidate.batch import RESENT, period_of
from pvd_reporting.consolidate.figures import RegionFigures
from pvd_reporting.consolidate.regional import AT_RISK, OVERDUE, SIGNED, months_between
from pvd_reporting.consolidate.view import Consolidation, TerritoryView
from pvd_reporting.format.french import fr_money
from pvd_reporting.format.matching import french_sort_key
from pvd_reporting.format.periods import parse_label, quarter_of
from pvd_reporting.format.schema import NOT_FILLED, NOT_RECEIVED

OVERDUE_ALERT = "Échéance ORT dépassée"
AT_RISK_ALERT = "Échéance ORT proche"
SIGNED_LATE_ALERT = "ORT signée en retard"
ERRORS_ALERT = "Classeur avec erreurs"
STOPPED_ALERT = "A cessé d'envoyer"
NOT_RECEIVED_ALERT = "Classeurs non reçus"
NOT_FILLED_ALERT = "Classeurs renvoyés non remplis"


@dataclass
class Alert:
    kind: str
    territories: list[TerritoryView]  # one, or the whole group for not received / not filled
    deadline: date | None = None
    months_late: float | None = None  # months after the deadline
    months_left: float | None = None  # months before the deadline
    last_milestone: str | None = None
    remaining: float | None = None  # remaining to finance
    detail: str = ""

    @property
    def who(self) -> str:
        return ", ".join(t.name for t in self.territories)


def _one(kind: str, t: TerritoryView, as_of: date, detail: str = "") -> Alert:
    late = left = None
    if t.ort_deadline is not None:
        end = t.j8_on if t.ort_status == SIGNED and t.j8_on else as_of
        if end > t.ort_deadline:
            late = months_between(t.ort_deadline, end)
        elif t.ort_status != SIGNED:
            left = months_between(end, t.ort_deadline)
    return Alert(kind, [t], t.ort_deadline, late, left, t.last_milestone or "Aucun jalon réalisé",
                 t.remaining, detail)


def alerts(cons: Consolidation) -> list[Alert]:
    as_of = cons.region.as_of
    received = [t for t in cons.territories if t.received]
    out: list[Alert] = []
    overdue = sorted((t for t in received if t.ort_status == OVERDUE), key=lambda t: t.days_left or 0)
    out += [_one(OVERDUE_ALERT, t, as_of) for t in overdue]
    at_risk = sorted((t for t in received if t.ort_status == AT_RISK), key=lambda t: t.days_left or 0)
    out += [_one(AT_RISK_ALERT, t, as_of) for t in at_risk]
    quarter = parse_label(cons.region.period)
    late = sorted((t for t in received if t.signed_in_time is False and t.j8_on is not None
                   and quarter_of(t.j8_on) == quarter), key=lambda t: -(t.months_late or 0))
    out += [_one(SIGNED_LATE_ALERT, t, as_of) for t in late]
    errors = sorted((t for t in received if t.errors), key=lambda t: (-t.errors, french_sort_key(t.name)))
    out += [_one(ERRORS_ALERT, t, as_of, f"{t.errors} erreur{'s' if t.errors > 1 else ''} à corriger")
            for t in errors]
    stopped = stopped_sending(cons)
    resent = _resent_by_id(cons)
    out += [_stopped(t, period, last, resent.get((t.id_pvd or "").lower())) for t, period, last in stopped]
    gone = {t.key for t, _, _ in stopped}
    for status, kind in ((NOT_RECEIVED, NOT_RECEIVED_ALERT), (NOT_FILLED, NOT_FILLED_ALERT)):
        group = sorted((t for t in cons.territories if t.ort_status == status and t.key not in gone),
                       key=lambda t: french_sort_key(t.name))
        if group:
            out.append(Alert(kind, group, detail=f"{len(group)} territoire{'s' if len(group) > 1 else ''}"))
    return out


def stopped_sending(cons: Consolidation) -> list[tuple[TerritoryView, str, TerritoryView]]:
    """Territories not received now that sent in an earlier quarter: their last quarter received
    and their view then, in French name order."""
    history = cons.history
    if history is None:
        return []
    out = []
    for t in sorted(cons.territories, key=lambda t: french_sort_key(t.name)):
        if t.ort_status == NOT_RECEIVED:
            last = history.last_received(t.key)
            if last is not None:
                out.append((t, *last))
    return out


def _resent_by_id(cons: Consolidation) -> dict[str, str]:
    """Identifiant PVD -> the period of last quarter's file it sent again (`resent-previous`)."""
    out = {}
    for report in cons.reports:
        if report.data is not None and any(i.code == RESENT for i in report.issues):
            id_pvd = str(report.data.territory.values.get("id_pvd") or "").lower()
            if id_pvd:
                out[id_pvd] = period_of(report) or "?"
    return out


def _stopped(t: TerritoryView, period: str, last: TerritoryView, resent: str | None = None) -> Alert:
    detail = (f"dernier classeur reçu : {period} ; statut ORT alors : {last.ort_status} ; "
              f"coût {fr_money(last.cost)}")
    if resent:
        detail += f" ; classeur de {resent} renvoyé tel quel"
    return Alert(STOPPED_ALERT, [t], last.ort_deadline, None, None, last.last_milestone or "Aucun jalon réalisé",
                 last.remaining, detail)


def headline(figures: RegionFigures, period: str) -> str:
    """One sentence: where the region stands, in the figures of the Synthèse sheet."""
    f = figures.value

    def n(count: int, one: str, many: str) -> str:
        return f"{count} {one if count < 2 else many}"

    signed, late, missing, not_filled = f("ort_signed"), f("ort_signed_late"), f("missing"), f("not_filled")
    parts = [f"{n(signed, 'ORT signée', 'ORT signées')}" + (f" (dont {late} après l'échéance)" if late else ""),
             f"{n(f('overdue'), 'territoire', 'territoires')} en échéance dépassée",
             f"{n(f('at_risk'), 'territoire', 'territoires')} à risque"]
    text = f"{period}, {f('perimeter')} : " + ", ".join(parts)
    errors = f("received") - f("valid")
    if errors:
        text += f" ; {n(errors, 'classeur', 'classeurs')} avec des erreurs"
    if missing:
        text += f" ; {n(missing, 'classeur', 'classeurs')} manquant{'s' if missing > 1 else ''}"
        if not_filled:
            text += f" (dont {not_filled} renvoyé{'s' if not_filled > 1 else ''} non rempli{'s' if not_filled > 1 else ''})"
    elif not_filled:
        text += f" ; {n(not_filled, 'classeur renvoyé', 'classeurs renvoyés')} non rempli{'s' if not_filled > 1 else ''}"
    return text + "."
