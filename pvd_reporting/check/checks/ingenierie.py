"""The rules of `Ingénierie`: each line tied to an action of `Engagements`."""

from __future__ import annotations

from collections.abc import Iterator

from pvd_reporting.check.checks.base import Check, Live
from pvd_reporting.check.checks.engagements import NEGATIVE_AMOUNT
from pvd_reporting.check.context import Context, number
from pvd_reporting.check.formulas import number as live_number
from pvd_reporting.check.formulas import readable, shown
from pvd_reporting.format.issues import W_, Issue, IssueCode, IssueType, register
from pvd_reporting.format.matching import norm
from pvd_reporting.format.schema import ENGAGEMENTS, INGENIERIE
from pvd_reporting.read.records import Record

UNKNOWN_ACTION = register(IssueType(
    IssueCode.UNKNOWN_ACTION, W_, "Action inconnue",
    "Le N° d'action « {value} » ne figure pas dans l'onglet Engagements."))


def unknown_action(ctx: Context, record: Record) -> Iterator[Issue]:
    """Per row, against the numbers of Engagements (a sheet missing is said on its own)."""
    linked = record.values.get("action_id")
    if ctx.has(ENGAGEMENTS) and linked is not None and norm(linked) and norm(linked) not in ctx.action_ids:
        yield ctx.issue(UNKNOWN_ACTION, record, INGENIERIE, "action_id")


def negative_amount(ctx: Context, record: Record) -> Iterator[Issue]:
    amount = number(record.values.get("amount"))
    if amount is not None and amount < 0:
        yield ctx.issue(NEGATIVE_AMOUNT, record, INGENIERIE, "amount")


def rules() -> list[Check]:
    table = INGENIERIE
    return [
        Check(UNKNOWN_ACTION, table, ("action_id",), "", unknown_action,
              live=Live("Un N° d'action lié ne figure pas dans l'onglet Engagements",
                        lambda r, k: (f"{readable(r[k])}"
                                      f"*(COUNTIF({r.column(ENGAGEMENTS, 'action_id')},{shown(r[k])})=0)"))),
        Check(NEGATIVE_AMOUNT, table, ("amount",), "", negative_amount,
              live=Live("Un montant est négatif", lambda r, k: f"({live_number(r[k])}<0)")),
    ]
