"""One object per rule of the format: its issue code, where it applies, its French sentences, the
Python that raises it and its live formula in the workbook.

`checks(schema)` is the only list of rules. Everything else is derived from it: the live checks
of the template (`live_checks`: colours and the rows of the `Contrôles` sheet), the rules tables of
docs/format-1.md and the table of docs/controles.md (scripts/make_format_doc.py, whose `--check`
mode a test runs). The issue's message and severity are its code's, in format/issues.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pvd_reporting.check import rules
from pvd_reporting.check.formulas import (
    FORM,
    Condition,
    LiveCheck,
    Refs,
    Rows,
    any_of,
    blank,
    num,
    number,
    readable,
    shown,
    text,
)
from pvd_reporting.check.live import (
    after_update,
    as_points,
    bad_department,
    bad_insee,
    bad_mail,
    bad_period,
    bad_phone,
    bad_pvd_id,
    bad_siren,
    before_update,
    duplicate,
    empty_table,
    filled_row,
    four_digits,
    missing_milestones,
    percent_points,
    total_row,
    typed_condition,
)
from pvd_reporting.check.rules import COST_TOLERANCE
from pvd_reporting.format.french import fr_int, fr_money
from pvd_reporting.format.issues import ISSUE_TYPES, IssueCode, Severity
from pvd_reporting.format.schema import (
    ANNUAIRE,
    COMITES,
    COMMUNES,
    DEPARTMENTS,
    ENGAGEMENTS,
    INGENIERIE,
    JALONS,
    MILESTONES,
    Field,
    Kind,
    Schema,
)
from pvd_reporting.format.vocabulary import (
    BDT_COFINANCING,
    DONE_STATUS,
    ENGAGED_STATUSES,
    J1,
    J3,
    NO,
    ONGOING_STATUSES,
    PROJECT_COMMITTEE,
    PROJECT_LEAD_ROLE,
    PVD_TOWN,
)
from pvd_reporting.read import values as parsing
from pvd_reporting.read.grid import CellParser, unreadable_code


@dataclass(frozen=True)
class Live:
    """How the workbook checks a rule by itself (check/formulas.py's language)."""

    label: str  # the `Contrôles` row, in plain French
    condition: Condition
    flagged: tuple[str, ...] | None = None  # the cells counted, when not the rule's own fields
    rows: Rows = "all"
    also: tuple[str, ...] = ()
    per_row: bool = False
    skip_totals: bool = True
    factor: Callable[[Refs], str] | None = None


@dataclass(frozen=True)
class Check:
    """One rule: what `validate` raises (its code, on these fields of this sheet), said in French
    for the docs, and the same rule live in the workbook when a spreadsheet can express it."""

    code: IssueCode
    sheet: str  # "territoire" or a table key
    fields: tuple[str, ...]  # the cells its issues point at; () for the sheet as a whole
    # The condition in French for the rules tables of docs/format-1.md ("" : the code's title);
    # None for a reading check, which the docs give with each column.
    doc: str | None
    python: Callable[..., Any]  # the function that raises it (check/rules.py, or the reader's parser)
    live: Live | None = None
    severity: Severity | None = None  # when the rule overrides its code's severity

    @property
    def level(self) -> Severity:
        return self.severity or ISSUE_TYPES[self.code].severity

    def live_check(self) -> LiveCheck:
        assert self.live is not None
        live = self.live
        flagged = self.fields if live.flagged is None else live.flagged
        return LiveCheck(self.code, self.sheet, live.label, flagged, live.condition, rows=live.rows, also=live.also,
                         severity=self.severity, per_row=live.per_row, skip_totals=live.skip_totals,
                         factor=live.factor)


def live_checks(schema: Schema, *, carried: bool = False) -> tuple[LiveCheck, ...]:
    """Every live check of the workbook, in the order of the sheets."""
    return tuple(c.live_check() for c in checks(schema, carried=carried) if c.live is not None)


def checks(schema: Schema, *, carried: bool = True) -> tuple[Check, ...]:
    """Every rule, sheet by sheet; `carried`: with the rules of a workbook carried forward from
    last quarter (what the new quarter has made out of date)."""
    def listed(key: str, values: tuple[str, ...]) -> tuple[str, ...]:
        # The configuration's own spelling of each value the rules test.
        return tuple(schema.canonical(key, v) or v for v in values)

    def quoted_list(values: tuple[str, ...]) -> str:
        words = [f"« {v} »" for v in values]
        return ", ".join(words[:-1]) + " ou " + words[-1] if len(words) > 1 else words[0]

    costed = listed("statut_action", ENGAGED_STATUSES)
    (done,) = listed("statut_action", (DONE_STATUS,))
    (committee,) = listed("instance", (PROJECT_COMMITTEE,))
    (lead,) = listed("role_contact", (PROJECT_LEAD_ROLE,))
    (town,) = listed("role_commune", (PVD_TOWN,))
    bdt = listed("cofinancement", BDT_COFINANCING)
    (no,) = listed("oui_non", (NO,))
    ongoing = listed("statut_action", ONGOING_STATUSES)
    config = schema.config
    money = tuple(f.key for f in schema.financer_fields)
    limit = config.population_limit
    threshold = config.cofinancing_min_etp
    form = schema.form
    out: list[Check] = []
    add = out.append

    def carried_only(check: Check) -> None:
        if carried:
            add(check)

    def own(kind: Kind) -> str:
        return next(f.key for f in form.fields if f.kind == kind)

    add(Check(IssueCode.REQUIRED_VALUE, FORM, tuple(f.key for f in form.fields if f.required), None,
              parsing.is_blank, Live("Une rubrique obligatoire est vide", lambda r, k: blank(r[k]))))
    out += typed(schema, FORM, form.fields)
    add(Check(IssueCode.INVALID_PVD_ID, FORM, (own(Kind.PVD_ID),), None, parsing.parse_pvd_id,
              Live("L'identifiant PVD n'a pas la forme pvd-44-67-1 (région, département, numéro)",
                   lambda r, k: bad_pvd_id(r[k]))))
    add(Check(IssueCode.INVALID_DEPARTMENT, FORM, (own(Kind.DEPARTMENT),), None, parsing.parse_department,
              Live("Le département n'est pas un code (67, 2A, 971…)",
                   lambda r, k: bad_department(r[k], DEPARTMENTS))))
    add(Check(IssueCode.INVALID_PERIOD, FORM, (own(Kind.PERIOD),), None, parsing.parse_period,
              Live("La période de suivi n'a pas la forme 2026-T1 (année, T, trimestre)",
                   lambda r, k: bad_period(r[k]))))
    add(Check(IssueCode.INVALID_SIREN, FORM, (own(Kind.SIREN),), None, parsing.parse_siren,
              Live("Le SIREN n'a pas 9 chiffres, ou son dernier chiffre (la clé de contrôle) est faux",
                   lambda r, k: bad_siren(r[k]))))
    percents = tuple(f.key for f in form.fields if f.kind == Kind.PERCENT)
    add(Check(IssueCode.PERCENT_AS_POINTS, FORM, percents, "", rules._territory,
              Live("Un pourcentage tapé comme un nombre (80) est lu comme 80 % : vérifiez-le",
                   lambda r, k: as_points(r[k]))))
    add(Check(IssueCode.ETP_BELOW_THRESHOLD, FORM, ("etp",),
              f"cofinancement {quoted_list(bdt)} et moins de {threshold:g} % d'ETP", rules._territory,
              Live(f"Poste cofinancé par la Banque des Territoires avec moins de {threshold:g} % d'ETP",
                   lambda r, k: (f"{any_of(r['cofinancing'], bdt)}*ISNUMBER({r['etp']})"
                                 f"*({percent_points(r['etp'])}>=0)*({percent_points(r['etp'])}<{threshold:g})"),
                   also=("cofinancing",))))
    add(Check(IssueCode.PERIOD_AFTER_UPDATE, FORM, ("period",),
              "période de suivi postérieure au trimestre de la date de mise à jour", rules._territory))
    add(Check(IssueCode.PERIOD_BEFORE_UPDATE, FORM, ("period",),
              "période de suivi terminée plus de six mois avant la date de mise à jour", rules._territory))

    for table in schema.tables:
        if not table.fixed_rows:
            first, second = table.keys[:2]
            add(Check(IssueCode.TOTAL_ROW, table.key, (first, second), None, rules.apply_rules,
                      Live("Une ligne de total : elle n'est pas comptée, supprimez-la", total_row(first),
                           skip_totals=False)))
        required = tuple(c.key for c in table.columns if c.required)
        if required:
            add(Check(IssueCode.REQUIRED_VALUE, table.key, required, None, parsing.is_blank,
                      Live("Une case obligatoire est vide sur une ligne commencée", lambda r, k: blank(r[k]),
                           factor=filled_row(table.keys))))
        fixed = {"code", "label"} if table.fixed_rows else set()
        out += typed(schema, table.key, tuple(c for c in table.columns if c.key not in fixed))
        if table.key == COMMUNES:
            add(Check(IssueCode.REQUIRED_VALUE, table.key, (),
                      "aucune ligne remplie" if table.min_rows == 1 else f"moins de {table.min_rows} lignes remplies",
                      rules._communes,
                      Live("Aucune commune n'est renseignée", empty_table(table.key, table.keys),
                           flagged=("name",), rows="first", skip_totals=False)))
            insee = next(c.key for c in table.columns if c.kind == Kind.INSEE)
            add(Check(IssueCode.INVALID_INSEE, table.key, (insee,), None, parsing.parse_insee,
                      Live("Un code INSEE n'a pas la forme 67437 ou 2A004 (5 caractères)",
                           lambda r, k: bad_insee(r[k]))))
            add(Check(IssueCode.INSEE_FOUR_DIGITS, table.key, (insee,), "code INSEE de 4 chiffres (lu avec un 0 devant)",
                      rules._communes,
                      Live("Un code INSEE n'a que 4 chiffres : le 0 du début a-t-il été perdu ?",
                           lambda r, k: four_digits(r[k]))))
            add(Check(IssueCode.POPULATION_OVER_LIMIT, table.key, ("population",),
                      f"« {town} » de plus de {fr_int(limit)} habitants", rules._communes,
                      Live(f"Une {town} a plus de {fr_int(limit)} habitants : vérifiez sa population",
                           lambda r, k: f"{any_of(r['role'], (town,))}*({number(r['population'])}>{limit})")))
            add(Check(IssueCode.UNKNOWN_COMMUNE, table.key, ("insee",),
                      f"« {town} » absente de la liste de référence (avec --reference)", rules._communes))
            add(Check(IssueCode.UNKNOWN_COMMUNE, table.key, ("name",),
                      "nom qui diffère de la liste de référence (avec --reference)", rules._communes))
        elif table.key == JALONS:
            add(Check(IssueCode.UNKNOWN_MILESTONE, table.key, ("code",),
                      "code autre que " + ", ".join(c for c, _ in MILESTONES), rules._jalons))
            add(Check(IssueCode.DUPLICATE_MILESTONE, table.key, ("code",), "", rules._jalons))
            add(Check(IssueCode.MISSING_MILESTONE, table.key, (), "", rules._jalons,
                      Live(f"Une ligne de jalon ({MILESTONES[0][0]} à {MILESTONES[-1][0]}) a été supprimée",
                           lambda r, k: missing_milestones(r), rows="first", also=("code",), skip_totals=False)))
            add(Check(IssueCode.REQUIRED_VALUE, table.key, ("done_on",), f"date de réalisation de {J1} vide",
                      rules._jalons,
                      Live(f"La date de réalisation du jalon {J1} (« {MILESTONES[0][1]} ») est vide",
                           lambda r, k: blank(r[k]), rows="first")))
            add(Check(IssueCode.MILESTONES_OUT_OF_ORDER, table.key, ("done_on",), "", rules._jalons,
                      Live("Un jalon est daté avant le jalon qui le précède : vérifiez les dates",
                           # COUNTIF skips a formula error where MAX would return it.
                           lambda r, k: (f"ISNUMBER({r[k]})*(COUNTIF({r.upto(k, this_row=False)},"
                                         f"\">\"&{number(r[k])})>0)"),
                           rows="rest", per_row=True)))
            add(Check(IssueCode.DATE_IN_FUTURE, table.key, ("done_on",), "", rules._jalons,
                      Live("Un jalon est daté après la date de mise à jour : vérifiez la date", after_update)))
            carried_only(Check(
                IssueCode.MILESTONE_OVERDUE, table.key, ("planned_on",),
                "classeur reconduit du trimestre précédent : date prévue avant la date de mise à jour, "
                "sans date de réalisation", rules._jalons,
                Live("Un jalon prévu avant la date de mise à jour n'a pas de date de réalisation : à mettre à jour",
                     lambda r, k: f"{before_update(r, k)}*{blank(r['done_on'])}", also=("done_on",))))
        elif table.key == ENGAGEMENTS:
            add(Check(IssueCode.DUPLICATE_ACTION, table.key, ("action_id",), "", rules._engagements,
                      Live("Un N° d'action est déjà utilisé plus haut : chaque action a le sien", duplicate)))
            add(Check(IssueCode.FINANCING_EXCEEDS_COST, table.key, ("cost",),
                      f"somme des financeurs supérieure au coût de plus de {fr_money(COST_TOLERANCE)}",
                      rules._engagements,
                      Live(f"Les financements dépassent le coût total HT de l'action (de plus de {COST_TOLERANCE:g} €)",
                           lambda r, k: (f"ISNUMBER({r['cost']})"
                                         f"*({r.sum(money)}>{number(r['cost'])}+{COST_TOLERANCE:g})"),
                           also=money)))
            add(Check(IssueCode.MISSING_COST, table.key, ("cost",), f"statut {' · '.join(costed)} sans coût",
                      rules._engagements,
                      Live(f"Une action {quoted_list(costed)} n'a pas de coût total HT",
                           lambda r, k: f"{blank(r['cost'])}*{any_of(r['status'], costed)}", also=("status",))))
            add(Check(IssueCode.DATES_OUT_OF_ORDER, table.key, ("end_on",), "", rules._engagements,
                      Live("Une date de fin est avant la date de début",
                           lambda r, k: (f"ISNUMBER({r['start_on']})*ISNUMBER({r['end_on']})"
                                         f"*({number(r['end_on'])}<{number(r['start_on'])})"),
                           also=("start_on",))))
            add(Check(IssueCode.MISSING_END_DATE, table.key, ("end_on",), f"statut « {done} » sans date de fin",
                      rules._engagements,
                      Live(f"Une action « {done} » n'a pas de date de fin",
                           lambda r, k: f"{blank(r['end_on'])}*{any_of(r['status'], (done,))}")))
            add(Check(IssueCode.NEGATIVE_AMOUNT, table.key, ("cost", *money), "coût ou montant d'un financeur négatif",
                      rules._engagements, Live("Un montant est négatif", lambda r, k: f"({number(r[k])}<0)")))
            carried_only(Check(
                IssueCode.ACTION_OVERDUE, table.key, ("end_on",),
                "classeur reconduit du trimestre précédent : statut " + " ou ".join(f"« {s} »" for s in ongoing)
                + " et date de fin avant la date de mise à jour", rules._engagements,
                Live(f"Une action {quoted_list(ongoing)} a sa date de fin passée : à mettre à jour",
                     lambda r, k: f"{before_update(r, k)}*{any_of(r['status'], ongoing)}", also=("status",))))
        elif table.key == COMITES:
            add(Check(IssueCode.MEETING_AFTER_UPDATE, table.key, ("date",), "", rules._comites,
                      Live("Une réunion est datée après la date de mise à jour du classeur", after_update)))
            add(Check(IssueCode.ETAT_ABSENT, table.key, ("etat_present",),
                      f"« {committee} » avec l'État non représenté (« {no} » ou laissé vide)", rules._comites,
                      Live(f"Un {committee.lower()} sans l'État (« {no} » ou laissé vide)",
                           lambda r, k: (f"{any_of(r['body'], (committee,))}"
                                         f"*({num(any_of(r['etat_present'], (no,)))}"
                                         f"+{num(blank(r['etat_present']))})"))))
            add(Check(IssueCode.COMITE_CADENCE, table.key, (),
                      f"un avertissement qui nomme les trimestres sans « {committee} », sur les 4 derniers "
                      f"jusqu'à la période de suivi (ou depuis le trimestre de {J3} s'il est plus récent)",
                      rules._comites))
        elif table.key == INGENIERIE:
            add(Check(IssueCode.UNKNOWN_ACTION, table.key, ("action_id",), "", rules._ingenierie,
                      Live("Un N° d'action lié ne figure pas dans l'onglet Engagements",
                           lambda r, k: (f"{readable(r[k])}"
                                         f"*(COUNTIF({r.column(ENGAGEMENTS, 'action_id')},{shown(r[k])})=0)"))))
            add(Check(IssueCode.NEGATIVE_AMOUNT, table.key, ("amount",), "", rules._ingenierie,
                      Live("Un montant est négatif", lambda r, k: f"({number(r[k])}<0)")))
        elif table.key == ANNUAIRE:
            email = next(c.key for c in table.columns if c.kind == Kind.EMAIL)
            phone = next(c.key for c in table.columns if c.kind == Kind.PHONE)
            add(Check(IssueCode.INVALID_EMAIL, table.key, (email,), None, parsing.parse_email,
                      Live("Une adresse mail est mal écrite (une seule adresse par case, sans accent, espace ni « ; »)",
                           lambda r, k: bad_mail(r[k]))))
            add(Check(IssueCode.INVALID_PHONE, table.key, (phone,), None, parsing.parse_phone,
                      Live("Un téléphone n'a pas 10 chiffres (ou +33 suivi de 9 chiffres)",
                           lambda r, k: bad_phone(r[k]))))
            add(Check(IssueCode.NO_PROJECT_LEAD, table.key, (), f"aucun contact « {lead} »", rules._annuaire,
                      Live(f"Aucun contact n'a le rôle « {lead} » dans l'annuaire",
                           lambda r, k: f"(COUNTIF({r.column(ANNUAIRE, 'role')},{text(lead)})=0)",
                           flagged=(), rows="first", also=(table.column("role").key,), skip_totals=False)))
    return tuple(out)


# What a value typed or pasted in a cell of each kind must not be (a formula error counted too).
_TYPED_LABELS = {
    IssueCode.INVALID_DATE: "Une date est écrite comme du texte : retapez-la en jj/mm/aaaa",
    IssueCode.INVALID_NUMBER: "Un nombre est écrit comme du texte : retapez-le en chiffres",
    IssueCode.INVALID_PERCENT: "Un pourcentage est illisible ou hors de 0 à 100 %",
    IssueCode.INVALID_CHOICE: "Une valeur n'est pas dans la liste déroulante : choisissez-la dans la liste",
}
# Kinds with a check of their own (that also counts a formula error), and text, whose cells keep
# what is typed as text (« =1/0 » too): no formula error can occur there.
_OWN_CHECK = (Kind.SIREN, Kind.INSEE, Kind.EMAIL, Kind.PHONE, Kind.PVD_ID, Kind.DEPARTMENT, Kind.PERIOD, Kind.TEXT)


def typed(schema: Schema, sheet: str, fields: tuple[Field, ...]) -> list[Check]:
    """One reading check per `validate` code of these cells' kinds (the reader raises it)."""
    by_code: dict[IssueCode, list[Field]] = {}
    for f in fields:
        if f.kind not in _OWN_CHECK:
            by_code.setdefault(unreadable_code(f.kind), []).append(f)
    out = []
    for code, group in by_code.items():
        kinds = {f.key: f for f in group}
        out.append(Check(code, sheet, tuple(kinds), None, CellParser.parse,
                         Live(_TYPED_LABELS[code], typed_condition(schema, kinds))))
    return out
