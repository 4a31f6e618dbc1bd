"""The rules of `Jalons`: eight fixed rows, J1 to J8, realised in that order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from pvd_reporting.check.checks.base import Check, Live
from pvd_reporting.check.context import Context
from pvd_reporting.check.formulas import blank
from pvd_reporting.check.formulas import number as live_number
from pvd_reporting.check.live import after_update, before_update, missing_milestones
from pvd_reporting.format.french import fr_date
from pvd_reporting.format.issues import (
    E_,
    ISSUE_TYPES,
    W_,
    Issue,
    IssueCode,
    IssueType,
    make_issue,
    register,
)
from pvd_reporting.format.schema import JALONS, MILESTONES, TableSheet
from pvd_reporting.format.vocabulary import J1, milestone_code
from pvd_reporting.read.records import Record
from pvd_reporting.read.values import as_date, is_blank

UNKNOWN_MILESTONE = register(IssueType(
    IssueCode.UNKNOWN_MILESTONE, E_, "Jalon inconnu",
    "Code de jalon « {value} » inconnu : l'onglet Jalons compte huit lignes, {codes}."))
DUPLICATE_MILESTONE = register(IssueType(
    IssueCode.DUPLICATE_MILESTONE, E_, "Jalon en double",
    "Le jalon {value} figure déjà ligne {first_row} : chaque jalon n'a qu'une ligne."))
MISSING_MILESTONE = register(IssueType(
    IssueCode.MISSING_MILESTONE, E_, "Jalon manquant",
    "Jalon {code} introuvable : l'onglet Jalons doit garder ses huit lignes J1 à J8."))
MILESTONES_OUT_OF_ORDER = register(IssueType(
    IssueCode.MILESTONES_OUT_OF_ORDER, W_, "Jalons dans le désordre",
    "{code} réalisé le {date}, avant {previous} réalisé le {previous_date} : vérifiez les dates."))
DATE_IN_FUTURE = register(IssueType(
    IssueCode.DATE_IN_FUTURE, W_, "Date postérieure à la mise à jour",
    "Date {date} postérieure à la date de mise à jour ({updated_on})."))
MILESTONE_OVERDUE = register(IssueType(
    IssueCode.MILESTONE_OVERDUE, W_, "Jalon à mettre à jour",
    "Jalon {code} prévu le {date}, non réalisé à la date de mise à jour ({updated_on}) : "
    "renseignez sa date de réalisation ou reportez sa date prévue."))
_CODES = ", ".join(c for c, _ in MILESTONES)


def unknown_milestone(ctx: Context, record: Record) -> Iterator[Issue]:
    # A J9 or a renamed code would otherwise be read and never checked (docs/format-1.md: eight fixed rows).
    code = milestone_code(record.values.get("code"), record.values.get("label"))
    if code and code not in {c for c, _ in MILESTONES}:  # blank: the reader has said the code is required
        yield ctx.issue(UNKNOWN_MILESTONE, record, JALONS, "code", codes=_CODES)


def duplicate_milestone(ctx: Context) -> Iterator[Issue]:
    for record in ctx.rows(JALONS):
        code = milestone_code(record.values.get("code"), record.values.get("label"))
        first = ctx.milestones.get(code)
        if first is not None and first is not record:
            yield ctx.issue(DUPLICATE_MILESTONE, record, JALONS, "code",
                            first_row=first.row if first.row is not None else "?")


def missing_milestone(ctx: Context) -> Iterator[Issue]:
    for code, _label in MILESTONES:
        if code not in ctx.milestones:
            yield make_issue(MISSING_MILESTONE, sheet=ctx.sheet(JALONS), code=code)


def j1_not_done(ctx: Context, record: Record) -> Iterator[Issue]:
    if ctx.milestone_of(record) == J1 and as_date(record.values.get("done_on")) is None \
            and is_blank(record.raw.get("done_on")):
        yield ctx.issue(ISSUE_TYPES[IssueCode.REQUIRED_VALUE], record, JALONS, "done_on")


def out_of_order(ctx: Context) -> Iterator[Issue]:
    latest: tuple[date, str] | None = None  # the latest realised date among earlier jalons
    for code, _label in MILESTONES:
        record = ctx.milestones.get(code)
        done = as_date(record.values.get("done_on")) if record is not None else None
        if record is None or done is None:
            continue
        if latest is not None and done < latest[0]:
            yield ctx.issue(MILESTONES_OUT_OF_ORDER, record, JALONS, "done_on", code=code, date=fr_date(done),
                            previous=latest[1], previous_date=fr_date(latest[0]))
        if latest is None or done > latest[0]:
            latest = (done, code)


def done_after_update(ctx: Context, record: Record) -> Iterator[Issue]:
    done = as_date(record.values.get("done_on"))
    if ctx.milestone_of(record) and done is not None and ctx.updated_on is not None and done > ctx.updated_on:
        yield ctx.issue(DATE_IN_FUTURE, record, JALONS, "done_on", date=fr_date(done), updated_on=fr_date(ctx.updated_on))


def milestone_overdue(ctx: Context, record: Record) -> Iterator[Issue]:
    # A workbook carried from last quarter: jalons planned before the update, not realised.
    planned = as_date(record.values.get("planned_on"))
    code = ctx.milestone_of(record)
    if ctx.carried and code and ctx.overdue(planned) and is_blank(record.raw.get("done_on")):
        yield ctx.issue(MILESTONE_OVERDUE, record, JALONS, "planned_on", code=code,
                        date=fr_date(planned) if planned else "", updated_on=ctx.updated_text)


def rules(table: TableSheet, carried: bool) -> list[Check]:
    out = [
        Check(UNKNOWN_MILESTONE, table.key, ("code",), "code autre que " + _CODES, unknown_milestone),
        Check(DUPLICATE_MILESTONE, table.key, ("code",), "", whole=duplicate_milestone),
        Check(MISSING_MILESTONE, table.key, (), "", whole=missing_milestone,
              live=Live(f"Une ligne de jalon ({MILESTONES[0][0]} à {MILESTONES[-1][0]}) a été supprimée",
                        lambda r, k: missing_milestones(r), rows="first", also=("code",), skip_totals=False)),
        Check(ISSUE_TYPES[IssueCode.REQUIRED_VALUE], table.key, ("done_on",), f"date de réalisation de {J1} vide",
              j1_not_done,
              live=Live(f"La date de réalisation du jalon {J1} (« {MILESTONES[0][1]} ») est vide",
                        lambda r, k: blank(r[k]), rows="first")),
        Check(MILESTONES_OUT_OF_ORDER, table.key, ("done_on",), "", whole=out_of_order,
              live=Live("Un jalon est daté avant le jalon qui le précède : vérifiez les dates",
                        # COUNTIF skips a formula error where MAX would return it.
                        lambda r, k: (f"ISNUMBER({r[k]})*(COUNTIF({r.upto(k, this_row=False)},"
                                      f"\">\"&{live_number(r[k])})>0)"),
                        rows="rest", per_row=True)),
        Check(DATE_IN_FUTURE, table.key, ("done_on",), "", done_after_update,
              live=Live("Un jalon est daté après la date de mise à jour : vérifiez la date", after_update)),
    ]
    if carried:
        out.append(Check(
            MILESTONE_OVERDUE, table.key, ("planned_on",),
            "classeur reconduit du trimestre précédent : date prévue avant la date de mise à jour, "
            "sans date de réalisation", milestone_overdue,
            live=Live("Un jalon prévu avant la date de mise à jour n'a pas de date de réalisation : à mettre à jour",
                      lambda r, k: f"{before_update(r, k)}*{blank(r['done_on'])}", also=("done_on",))))
    return out
