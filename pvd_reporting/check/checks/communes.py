"""The rules of `Communes`."""

from __future__ import annotations

from collections.abc import Iterator

from pvd_reporting.check.checks.base import Check, Live, Words, reading
from pvd_reporting.check.context import Context, four_digits, number, same
from pvd_reporting.check.formulas import any_of
from pvd_reporting.check.formulas import number as live_number
from pvd_reporting.check.live import bad_insee, empty_table
from pvd_reporting.check.live import four_digits as live_four_digits
from pvd_reporting.format.french import fr_int
from pvd_reporting.format.issues import (
    ISSUE_TYPES,
    W_,
    Issue,
    IssueCode,
    IssueType,
    make_issue,
    register,
)
from pvd_reporting.format.matching import norm
from pvd_reporting.format.schema import COMMUNES, Kind, TableSheet
from pvd_reporting.format.vocabulary import PVD_TOWN
from pvd_reporting.read import values as parsing
from pvd_reporting.read.records import Record

INSEE_FOUR_DIGITS = register(IssueType(
    IssueCode.INSEE_FOUR_DIGITS, W_, "Code INSEE à 4 chiffres",
    "Code INSEE « {value} » à 4 chiffres : le 0 initial a-t-il été perdu ? Il est lu {insee} ; "
    "saisissez les 5 caractères."))
POPULATION_OVER_LIMIT = register(IssueType(
    IssueCode.POPULATION_OVER_LIMIT, W_, "Population supérieure au seuil",
    "Ville PVD de {value} habitants : le programme vise les communes de moins de {limit} habitants."))
UNKNOWN_COMMUNE = register(IssueType(IssueCode.UNKNOWN_COMMUNE, W_, "Commune inconnue", "{reason}"))


def no_commune(ctx: Context) -> Iterator[Issue]:
    if not ctx.rows(COMMUNES):
        yield make_issue(IssueCode.REQUIRED_VALUE, sheet=ctx.sheet(COMMUNES), column=ctx.label(COMMUNES, "name"))


def insee_four_digits(ctx: Context, record: Record) -> Iterator[Issue]:
    if four_digits(record.raw.get("insee")) and record.values.get("insee"):
        yield ctx.issue(INSEE_FOUR_DIGITS, record, COMMUNES, "insee", insee=record.values["insee"])


def population_over_limit(ctx: Context, record: Record) -> Iterator[Issue]:
    population = number(record.values.get("population"))
    limit = ctx.config.population_limit
    if same(record.values.get("role"), PVD_TOWN) and population is not None and population > limit:
        yield ctx.issue(POPULATION_OVER_LIMIT, record, COMMUNES, "population", limit=fr_int(limit))


def _listed(ctx: Context, record: Record) -> tuple[str, str | None] | None:
    """The INSEE code as compared, and the reference's name for it (None: not listed); None
    without a reference or a code."""
    insee = record.values.get("insee")
    if ctx.reference is None or not insee:
        return None
    code = str(insee).strip().upper()
    ref = ctx.reference.communes().get(code)
    return code, (ref.name if ref is not None else None)


def town_not_listed(ctx: Context, record: Record) -> Iterator[Issue]:
    # The reference lists PVD communes only: an associated commune is expected to be absent.
    listed = _listed(ctx, record)
    if listed is not None and listed[1] is None and same(record.values.get("role"), PVD_TOWN):
        yield ctx.issue(UNKNOWN_COMMUNE, record, COMMUNES, "insee",
                        reason=f"Code INSEE « {listed[0]} » absent de la liste de référence des communes PVD.")


def other_name(ctx: Context, record: Record) -> Iterator[Issue]:
    listed = _listed(ctx, record)
    name = record.values.get("name")
    if listed is not None and listed[1] and name and norm(name) != norm(listed[1]):
        yield ctx.issue(UNKNOWN_COMMUNE, record, COMMUNES, "name",
                        reason=f"« {name} » : la liste de référence nomme « {listed[1]} » la commune {listed[0]}.")


def rules(table: TableSheet, w: Words, limit: int) -> list[Check]:
    insee = next(c.key for c in table.columns if c.kind == Kind.INSEE)
    return [
        Check(ISSUE_TYPES[IssueCode.REQUIRED_VALUE], table.key, (),
              "aucune ligne remplie" if table.min_rows == 1 else f"moins de {table.min_rows} lignes remplies",
              whole=no_commune,
              live=Live("Aucune commune n'est renseignée", empty_table(table.key, table.keys),
                        flagged=("name",), rows="first", skip_totals=False)),
        reading(IssueCode.INVALID_INSEE, table.key, (insee,), parsing.parse_insee,
                Live("Un code INSEE n'a pas la forme 67437 ou 2A004 (5 caractères)", lambda r, k: bad_insee(r[k]))),
        Check(INSEE_FOUR_DIGITS, table.key, (insee,), "code INSEE de 4 chiffres (lu avec un 0 devant)",
              insee_four_digits,
              live=Live("Un code INSEE n'a que 4 chiffres : le 0 du début a-t-il été perdu ?",
                        lambda r, k: live_four_digits(r[k]))),
        Check(POPULATION_OVER_LIMIT, table.key, ("population",),
              f"« {w.town} » de plus de {fr_int(limit)} habitants", population_over_limit,
              live=Live(f"Une {w.town} a plus de {fr_int(limit)} habitants : vérifiez sa population",
                        lambda r, k: f"{any_of(r['role'], (w.town,))}*({live_number(r['population'])}>{limit})")),
        Check(UNKNOWN_COMMUNE, table.key, ("insee",),
              f"« {w.town} » absente de la liste de référence (avec --reference)", town_not_listed),
        Check(UNKNOWN_COMMUNE, table.key, ("name",),
              "nom qui diffère de la liste de référence (avec --reference)", other_name),
    ]
