"""The rules of the territory's form (`Territoire`)."""

from __future__ import annotations

from collections.abc import Iterator

from pvd_reporting.check.checks.base import Check, Live, Words, quoted_list, reading, typed
from pvd_reporting.check.context import Context, as_points, number, same
from pvd_reporting.check.formulas import FORM, any_of, blank
from pvd_reporting.check.live import (
    as_points as live_points,
)
from pvd_reporting.check.live import (
    bad_department,
    bad_period,
    bad_pvd_id,
    bad_siren,
    percent_points,
)
from pvd_reporting.format.french import fr_date, fr_number
from pvd_reporting.format.issues import E_, W_, Issue, IssueCode, IssueType, register
from pvd_reporting.format.periods import ends_long_before, last_day, quarter_label, quarter_of
from pvd_reporting.format.schema import DEPARTMENTS, Kind, Schema
from pvd_reporting.format.vocabulary import BDT_COFINANCING
from pvd_reporting.read import values as parsing
from pvd_reporting.read.records import Record

PERCENT_AS_POINTS = register(IssueType(
    IssueCode.PERCENT_AS_POINTS, W_, "Pourcentage lu en points",
    "« {value} » lu comme {percent} % (un nombre au-delà de 1 est lu en points de pourcentage) : "
    "vérifiez, ou saisissez « {percent} % »."))
ETP_BELOW_THRESHOLD = register(IssueType(
    IssueCode.ETP_BELOW_THRESHOLD, E_, "Temps dédié insuffisant",
    "Cofinancement Banque des Territoires avec {etp} % d'ETP : il faut au moins {threshold} %."))
PERIOD_AFTER_UPDATE = register(IssueType(
    IssueCode.PERIOD_AFTER_UPDATE, W_, "Période postérieure à la mise à jour",
    "Période de suivi {value} postérieure au trimestre de la date de mise à jour "
    "({updated_on}, trimestre {quarter}) : vérifiez la période ou la date."))
PERIOD_BEFORE_UPDATE = register(IssueType(
    IssueCode.PERIOD_BEFORE_UPDATE, W_, "Période antérieure à la mise à jour",
    "Période de suivi {value} terminée le {period_end}, plus de six mois avant la date de mise à "
    "jour ({updated_on}) : vérifiez la période ou la date. Le classeur n'est pas classé dans "
    "la période {value}."))


def percent_as_points(ctx: Context, record: Record) -> Iterator[Issue]:
    for f in ctx.schema.form.fields:
        if f.kind is Kind.PERCENT and (points := as_points(record.raw.get(f.key), record.values.get(f.key))):
            yield ctx.issue(PERCENT_AS_POINTS, record, None, f.key, percent=points)


def etp_below_threshold(ctx: Context, record: Record) -> Iterator[Issue]:
    etp = number(record.values.get("etp"))
    threshold = ctx.config.cofinancing_min_etp
    if etp is not None and etp < threshold and any(same(record.values.get("cofinancing"), v) for v in BDT_COFINANCING):
        yield ctx.issue(ETP_BELOW_THRESHOLD, record, None, "etp", etp=fr_number(etp), threshold=fr_number(threshold))


def period_after_update(ctx: Context, record: Record) -> Iterator[Issue]:
    # A workbook filled in 2025-T3 cannot report on 2025-T4: the period or the date is wrong.
    if ctx.period is not None and ctx.updated_on is not None and ctx.period > (filled_in := quarter_of(ctx.updated_on)):
        yield ctx.issue(PERIOD_AFTER_UPDATE, record, None, "period",
                        updated_on=fr_date(ctx.updated_on), quarter=quarter_label(filled_in))


def period_before_update(ctx: Context, record: Record) -> Iterator[Issue]:
    # A workbook updated long after its quarter: most likely the year or the quarter mistyped
    # (2025-T1 for 2026-T1); an ordinary late sending (2025-T4 updated in January) is not flagged.
    if (ctx.period is not None and ctx.updated_on is not None and not ctx.period > quarter_of(ctx.updated_on)
            and ends_long_before(ctx.period, ctx.updated_on)):
        yield ctx.issue(PERIOD_BEFORE_UPDATE, record, None, "period",
                        period_end=fr_date(last_day(ctx.period)), updated_on=fr_date(ctx.updated_on))


def rules(schema: Schema, w: Words) -> list[Check]:
    form = schema.form
    threshold = schema.config.cofinancing_min_etp

    def own(kind: Kind) -> str:
        return next(f.key for f in form.fields if f.kind == kind)

    percents = tuple(f.key for f in form.fields if f.kind == Kind.PERCENT)
    return [
        reading(IssueCode.REQUIRED_VALUE, FORM, tuple(f.key for f in form.fields if f.required), parsing.is_blank,
                Live("Une rubrique obligatoire est vide", lambda r, k: blank(r[k]))),
        *typed(schema, FORM, form.fields),
        reading(IssueCode.INVALID_PVD_ID, FORM, (own(Kind.PVD_ID),), parsing.parse_pvd_id,
                Live("L'identifiant PVD n'a pas la forme pvd-44-67-1 (région, département, numéro)",
                     lambda r, k: bad_pvd_id(r[k]))),
        reading(IssueCode.INVALID_DEPARTMENT, FORM, (own(Kind.DEPARTMENT),), parsing.parse_department,
                Live("Le département n'est pas un code (67, 2A, 971…)",
                     lambda r, k: bad_department(r[k], DEPARTMENTS))),
        reading(IssueCode.INVALID_PERIOD, FORM, (own(Kind.PERIOD),), parsing.parse_period,
                Live("La période de suivi n'a pas la forme 2026-T1 (année, T, trimestre)",
                     lambda r, k: bad_period(r[k]))),
        reading(IssueCode.INVALID_SIREN, FORM, (own(Kind.SIREN),), parsing.parse_siren,
                Live("Le SIREN n'a pas 9 chiffres, ou son dernier chiffre (la clé de contrôle) est faux",
                     lambda r, k: bad_siren(r[k]))),
        Check(PERCENT_AS_POINTS, FORM, percents, "", percent_as_points,
              live=Live("Un pourcentage tapé comme un nombre (80) est lu comme 80 % : vérifiez-le",
                        lambda r, k: live_points(r[k]))),
        Check(ETP_BELOW_THRESHOLD, FORM, ("etp",),
              f"cofinancement {quoted_list(w.bdt)} et moins de {threshold:g} % d'ETP", etp_below_threshold,
              live=Live(f"Poste cofinancé par la Banque des Territoires avec moins de {threshold:g} % d'ETP",
                        lambda r, k: (f"{any_of(r['cofinancing'], w.bdt)}*ISNUMBER({r['etp']})"
                                      f"*({percent_points(r['etp'])}>=0)*({percent_points(r['etp'])}<{threshold:g})"),
                        also=("cofinancing",)),
              rank=-1),
        Check(PERIOD_AFTER_UPDATE, FORM, ("period",),
              "période de suivi postérieure au trimestre de la date de mise à jour", period_after_update),
        Check(PERIOD_BEFORE_UPDATE, FORM, ("period",),
              "période de suivi terminée plus de six mois avant la date de mise à jour", period_before_update),
    ]
