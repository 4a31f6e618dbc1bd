"""The rules of `Comités`: each meeting, and the project committee's cadence."""

from __future__ import annotations

from collections.abc import Iterator

from pvd_reporting.check.checks.base import Check, Live, Words
from pvd_reporting.check.context import Context, is_no, same
from pvd_reporting.check.formulas import any_of, blank, num
from pvd_reporting.check.live import after_update
from pvd_reporting.format.french import fr_date
from pvd_reporting.format.issues import E_, W_, Issue, IssueCode, IssueType, make_issue, register
from pvd_reporting.format.periods import cadence_window, quarter_label, quarters_without
from pvd_reporting.format.schema import COMITES
from pvd_reporting.format.vocabulary import J3, PROJECT_COMMITTEE
from pvd_reporting.read.records import Record
from pvd_reporting.read.values import as_date, is_blank

MEETING_AFTER_UPDATE = register(IssueType(
    IssueCode.MEETING_AFTER_UPDATE, E_, "Réunion postérieure à la mise à jour",
    "Réunion datée du {date}, après la date de mise à jour ({updated_on}) : une réunion ne peut "
    "suivre la mise à jour du classeur ; vérifiez les deux dates."))
ETAT_ABSENT = register(IssueType(
    IssueCode.ETAT_ABSENT, W_, "État non représenté",
    "Comité de projet sans représentant de l'État : l'État doit y être représenté."))
COMITE_CADENCE = register(IssueType(
    IssueCode.COMITE_CADENCE, W_, "Trimestres sans comité de projet",
    "Trimestres sans comité de projet (sur les 4 derniers, ou depuis son installation) : "
    "{quarters}. Le comité de projet doit se réunir au moins une fois par trimestre."))


def meeting_after_update(ctx: Context, record: Record) -> Iterator[Issue]:
    # A meeting cannot have been held after the workbook was filled: an error, its own code.
    when = as_date(record.values.get("date"))
    if when is not None and ctx.updated_on is not None and when > ctx.updated_on:
        yield ctx.issue(MEETING_AFTER_UPDATE, record, COMITES, "date",
                        date=fr_date(when), updated_on=fr_date(ctx.updated_on))


def etat_absent(ctx: Context, record: Record) -> Iterator[Issue]:
    # Left empty, « État représenté » says no more than « Non »: the État was not recorded there.
    present = record.values.get("etat_present")
    if same(record.values.get("body"), PROJECT_COMMITTEE) and (is_no(present) or is_blank(record.raw.get("etat_present"))):
        yield ctx.issue(ETAT_ABSENT, record, COMITES, "etat_present")


def cadence(ctx: Context) -> Iterator[Issue]:
    """Spans two sheets: the quarters since J3 (Jalons) without a project committee."""
    if ctx.period is None:
        return
    meetings = [when for r in ctx.rows(COMITES)
                if same(r.values.get("body"), PROJECT_COMMITTEE) and (when := as_date(r.values.get("date")))]
    missing = quarters_without(cadence_window(ctx.period, ctx.realised_on(J3)), meetings)
    if missing:
        yield make_issue(COMITE_CADENCE, sheet=ctx.sheet(COMITES), quarters=", ".join(quarter_label(q) for q in missing))


def rules(w: Words) -> list[Check]:
    table = COMITES
    return [
        Check(MEETING_AFTER_UPDATE, table, ("date",), "", meeting_after_update,
              live=Live("Une réunion est datée après la date de mise à jour du classeur", after_update)),
        Check(ETAT_ABSENT, table, ("etat_present",),
              f"« {w.committee} » avec l'État non représenté (« {w.no} » ou laissé vide)", etat_absent,
              live=Live(f"Un {w.committee.lower()} sans l'État (« {w.no} » ou laissé vide)",
                        lambda r, k: (f"{any_of(r['body'], (w.committee,))}"
                                      f"*({num(any_of(r['etat_present'], (w.no,)))}"
                                      f"+{num(blank(r['etat_present']))})"))),
        Check(COMITE_CADENCE, table, (),
              f"un avertissement qui nomme les trimestres sans « {w.committee} », sur les 4 derniers "
              f"jusqu'à la période de suivi (ou depuis le trimestre de {J3} s'il est plus récent)",
              whole=cadence),
    ]
