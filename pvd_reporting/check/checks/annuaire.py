"""The rules of `Annuaire`: each contact's mail and phone, and a project lead to write to."""

from __future__ import annotations

from collections.abc import Iterator

from pvd_reporting.check.checks.base import Check, Live, Words, reading
from pvd_reporting.check.context import Context, same
from pvd_reporting.check.formulas import text
from pvd_reporting.check.live import bad_mail, bad_phone
from pvd_reporting.format.issues import W_, Issue, IssueCode, IssueType, make_issue, register
from pvd_reporting.format.schema import ANNUAIRE, Kind, TableSheet
from pvd_reporting.format.vocabulary import PROJECT_LEAD_ROLE
from pvd_reporting.read import values as parsing

NO_PROJECT_LEAD = register(IssueType(
    IssueCode.NO_PROJECT_LEAD, W_, "Pas de chef de projet dans l'annuaire",
    "Aucun contact avec le rôle « Chef de projet PVD » dans l'annuaire."))


def no_project_lead(ctx: Context) -> Iterator[Issue]:
    if not any(same(r.values.get("role"), PROJECT_LEAD_ROLE) for r in ctx.rows(ANNUAIRE)):
        yield make_issue(NO_PROJECT_LEAD, sheet=ctx.sheet(ANNUAIRE))


def rules(table: TableSheet, w: Words) -> list[Check]:
    email = next(c.key for c in table.columns if c.kind == Kind.EMAIL)
    phone = next(c.key for c in table.columns if c.kind == Kind.PHONE)
    return [
        reading(IssueCode.INVALID_EMAIL, table.key, (email,), parsing.parse_email,
                Live("Une adresse mail est mal écrite (une seule adresse par case, sans accent, espace ni « ; »)",
                     lambda r, k: bad_mail(r[k]))),
        reading(IssueCode.INVALID_PHONE, table.key, (phone,), parsing.parse_phone,
                Live("Un téléphone n'a pas 10 chiffres (ou +33 suivi de 9 chiffres)", lambda r, k: bad_phone(r[k]))),
        Check(NO_PROJECT_LEAD, table.key, (), f"aucun contact « {w.lead} »", whole=no_project_lead,
              live=Live(f"Aucun contact n'a le rôle « {w.lead} » dans l'annuaire",
                        lambda r, k: f"(COUNTIF({r.column(ANNUAIRE, 'role')},{text(w.lead)})=0)",
                        flagged=(), rows="first", also=(table.column("role").key,), skip_totals=False)),
    ]
