"""The rules of `Engagements`: each action's number, amounts, status and dates."""

from __future__ import annotations

from collections.abc import Iterator

from pvd_reporting.check.checks.base import Check, Live, Words, quoted_list
from pvd_reporting.check.context import Context, number, same
from pvd_reporting.check.formulas import any_of, blank
from pvd_reporting.check.formulas import number as live_number
from pvd_reporting.check.live import before_update, duplicate
from pvd_reporting.format.french import fr_date, fr_money
from pvd_reporting.format.issues import E_, W_, Issue, IssueCode, IssueType, register
from pvd_reporting.format.matching import norm
from pvd_reporting.format.schema import ENGAGEMENTS, Schema
from pvd_reporting.format.vocabulary import DONE_STATUS, ENGAGED_STATUSES, ONGOING_STATUSES
from pvd_reporting.read.records import Record
from pvd_reporting.read.values import as_date, is_blank

# Financings may exceed the cost by rounding only (docs/format-1.md: 1 € tolerance).
COST_TOLERANCE = 1.0

DUPLICATE_ACTION = register(IssueType(
    IssueCode.DUPLICATE_ACTION, E_, "N° d'action en double",
    "Le N° d'action « {value} » est déjà utilisé ligne {first_row} : chaque action a son propre numéro."))
FINANCING_EXCEEDS_COST = register(IssueType(
    IssueCode.FINANCING_EXCEEDS_COST, E_, "Financements supérieurs au coût",
    "Les financements ({total}) dépassent le coût total HT ({cost}) de {excess}."))
MISSING_COST = register(IssueType(
    IssueCode.MISSING_COST, E_, "Coût manquant", "Action « {status} » sans coût total HT : indiquez le coût."))
DATES_OUT_OF_ORDER = register(IssueType(
    IssueCode.DATES_OUT_OF_ORDER, E_, "Dates inversées", "La date de fin ({end}) précède la date de début ({start})."))
MISSING_END_DATE = register(IssueType(
    IssueCode.MISSING_END_DATE, W_, "Date de fin manquante",
    "Action terminée sans date de fin : indiquez quand elle s'est terminée."))
NEGATIVE_AMOUNT = register(IssueType(IssueCode.NEGATIVE_AMOUNT, E_, "Montant négatif", "Montant négatif : « {value} »."))
ACTION_OVERDUE = register(IssueType(
    IssueCode.ACTION_OVERDUE, W_, "Action à mettre à jour",
    "Action {action} « {status} » dont la date de fin ({date}) est passée à la date de mise à jour "
    "({updated_on}) : mettez à jour son statut ou sa date de fin."))


def duplicate_action(ctx: Context) -> Iterator[Issue]:
    seen: dict[str, int | None] = {}
    for record in ctx.rows(ENGAGEMENTS):
        action = record.values.get("action_id")
        if action is not None and norm(action):
            first = seen.setdefault(norm(action), record.row)
            if first != record.row:
                yield ctx.issue(DUPLICATE_ACTION, record, ENGAGEMENTS, "action_id",
                                first_row=first if first is not None else "?")


def negative_amount(ctx: Context, record: Record) -> Iterator[Issue]:
    for key in ("cost", *ctx.money):
        amount = number(record.values.get(key))
        if amount is not None and amount < 0:
            yield ctx.issue(NEGATIVE_AMOUNT, record, ENGAGEMENTS, key)


def financing_exceeds_cost(ctx: Context, record: Record) -> Iterator[Issue]:
    values, money = record.values, ctx.money
    cost = number(values.get("cost"))
    if cost is None or any(values.get(k) is None and not is_blank(record.raw.get(k)) for k in money):
        return
    total = sum(number(values.get(k)) or 0.0 for k in money)
    if total > cost + COST_TOLERANCE:
        yield ctx.issue(FINANCING_EXCEEDS_COST, record, ENGAGEMENTS, "cost",
                        total=fr_money(total), cost=fr_money(cost), excess=fr_money(total - cost))


def missing_cost(ctx: Context, record: Record) -> Iterator[Issue]:
    status = record.values.get("status")
    if number(record.values.get("cost")) is None and is_blank(record.raw.get("cost")) \
            and any(same(status, s) for s in ENGAGED_STATUSES):
        yield ctx.issue(MISSING_COST, record, ENGAGEMENTS, "cost", status=status)


def dates_out_of_order(ctx: Context, record: Record) -> Iterator[Issue]:
    start, end = as_date(record.values.get("start_on")), as_date(record.values.get("end_on"))
    if start is not None and end is not None and end < start:
        yield ctx.issue(DATES_OUT_OF_ORDER, record, ENGAGEMENTS, "end_on", end=fr_date(end), start=fr_date(start))


def missing_end_date(ctx: Context, record: Record) -> Iterator[Issue]:
    if same(record.values.get("status"), DONE_STATUS) and as_date(record.values.get("end_on")) is None \
            and is_blank(record.raw.get("end_on")):
        yield ctx.issue(MISSING_END_DATE, record, ENGAGEMENTS, "end_on")


def action_overdue(ctx: Context, record: Record) -> Iterator[Issue]:
    # A workbook carried from last quarter: actions still under way whose end date has passed.
    status, end = record.values.get("status"), as_date(record.values.get("end_on"))
    if ctx.carried and ctx.overdue(end) and any(same(status, s) for s in ONGOING_STATUSES):
        yield ctx.issue(ACTION_OVERDUE, record, ENGAGEMENTS, "end_on", action=record.values.get("action_id") or "",
                        status=status, date=fr_date(end) if end else "", updated_on=ctx.updated_text)


def rules(schema: Schema, w: Words, carried: bool) -> list[Check]:
    table = ENGAGEMENTS
    money = tuple(f.key for f in schema.financer_fields)
    out = [
        Check(DUPLICATE_ACTION, table, ("action_id",), "", whole=duplicate_action,
              live=Live("Un N° d'action est déjà utilisé plus haut : chaque action a le sien", duplicate)),
        Check(FINANCING_EXCEEDS_COST, table, ("cost",),
              f"somme des financeurs supérieure au coût de plus de {fr_money(COST_TOLERANCE)}", financing_exceeds_cost,
              live=Live(f"Les financements dépassent le coût total HT de l'action (de plus de {COST_TOLERANCE:g} €)",
                        lambda r, k: (f"ISNUMBER({r['cost']})"
                                      f"*({r.sum(money)}>{live_number(r['cost'])}+{COST_TOLERANCE:g})"),
                        also=money)),
        Check(MISSING_COST, table, ("cost",), f"statut {' · '.join(w.costed)} sans coût", missing_cost,
              live=Live(f"Une action {quoted_list(w.costed)} n'a pas de coût total HT",
                        lambda r, k: f"{blank(r['cost'])}*{any_of(r['status'], w.costed)}", also=("status",))),
        Check(DATES_OUT_OF_ORDER, table, ("end_on",), "", dates_out_of_order,
              live=Live("Une date de fin est avant la date de début",
                        lambda r, k: (f"ISNUMBER({r['start_on']})*ISNUMBER({r['end_on']})"
                                      f"*({live_number(r['end_on'])}<{live_number(r['start_on'])})"),
                        also=("start_on",))),
        Check(MISSING_END_DATE, table, ("end_on",), f"statut « {w.done} » sans date de fin", missing_end_date,
              live=Live(f"Une action « {w.done} » n'a pas de date de fin",
                        lambda r, k: f"{blank(r['end_on'])}*{any_of(r['status'], (w.done,))}")),
        Check(NEGATIVE_AMOUNT, table, ("cost", *money), "coût ou montant d'un financeur négatif", negative_amount,
              live=Live("Un montant est négatif", lambda r, k: f"({live_number(r[k])}<0)"), rank=-1),
    ]
    if carried:
        out.append(Check(
            ACTION_OVERDUE, table, ("end_on",),
            "classeur reconduit du trimestre précédent : statut " + " ou ".join(f"« {s} »" for s in w.ongoing)
            + " et date de fin avant la date de mise à jour", action_overdue,
            live=Live(f"Une action {quoted_list(w.ongoing)} a sa date de fin passée : à mettre à jour",
                      lambda r, k: f"{before_update(r, k)}*{any_of(r['status'], w.ongoing)}", also=("status",))))
    return out
