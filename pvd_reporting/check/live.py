"""The checks a workbook makes by itself while it is filled (README, Le classeur se contrôle lui-même).

Each `LiveCheck` is declared once, here: its `validate` code, its French label, the cells it
colours and one condition builder, written in the formula language of check/formulas.py. The
template writer derives from it both the conditional formatting of the cells (red an error,
orange a warning) and the row of the `Contrôles` sheet that counts them; a test makes
LibreOffice and Gnumeric recalculate filled workbooks and checks that every count equals the
number of issues `validate` reports with that code on that sheet.
"""

from __future__ import annotations

from collections.abc import Callable

from pvd_reporting.check.formulas import (
    FORM,
    Condition,
    LiveCheck,
    Refs,
    any_of,
    blank,
    digit,
    is_digit,
    num,
    number,
    quoted,
    readable,
    shown,
    text,
)
from pvd_reporting.check.rules import COST_TOLERANCE
from pvd_reporting.format.french import fr_int
from pvd_reporting.format.issues import IssueCode, Severity
from pvd_reporting.format.matching import col_letter
from pvd_reporting.format.schema import (
    ANNUAIRE,
    COMITES,
    COMMUNES,
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
    NO,
    ONGOING_STATUSES,
    PROJECT_COMMITTEE,
    PROJECT_LEAD_ROLE,
    PVD_TOWN,
)
from pvd_reporting.read.grid import unreadable_code

# --- the checks ---------------------------------------------------------------------------------


def live_checks(schema: Schema, *, carried: bool = False) -> tuple[LiveCheck, ...]:
    """Every live check of the workbook, in the order of the sheets; a workbook carried forward
    from last quarter also points at what the new quarter has made out of date."""
    def listed(key: str, values: tuple[str, ...]) -> tuple[str, ...]:
        # The configuration's own spelling of each value the rules test.
        return tuple(schema.canonical(key, v) or v for v in values)

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
    checks: list[LiveCheck] = []

    form = schema.form
    checks.append(LiveCheck(
        IssueCode.REQUIRED_VALUE, FORM, "Rubrique obligatoire non renseignée",
        tuple(f.key for f in form.fields if f.required),
        lambda r, k: blank(r[k])))
    checks += _typed(schema, FORM, form.fields)
    siren = next(f.key for f in form.fields if f.kind == Kind.SIREN)
    checks.append(LiveCheck(
        IssueCode.INVALID_SIREN, FORM, "SIREN : 9 chiffres dont le dernier est une clé de contrôle", (siren,),
        lambda r, k: _bad_siren(r[k])))
    threshold = config.cofinancing_min_etp
    checks.append(LiveCheck(
        IssueCode.ETP_BELOW_THRESHOLD, FORM,
        f"Cofinancement Banque des Territoires avec moins de {threshold:g} % d'ETP",
        ("etp",),
        # A percent cell holds 0.8 for 80 %; a number above 1 is read as typed (80).
        lambda r, k: (f"{any_of(r['cofinancing'], bdt)}*ISNUMBER({r['etp']})"
                      f"*(IF({number(r['etp'])}<=1,{number(r['etp'])}*100,{number(r['etp'])})<{threshold:g})"),
        also=("cofinancing",)))

    for table in schema.tables:
        if not table.fixed_rows:
            first, second = table.keys[:2]
            checks.append(LiveCheck(
                IssueCode.TOTAL_ROW, table.key, "Ligne de total (elle n'est pas comptée)", (first, second),
                _total_row(first), skip_totals=False))
        required = tuple(c.key for c in table.columns if c.required)
        if required:
            checks.append(LiveCheck(
                IssueCode.REQUIRED_VALUE, table.key, "Case obligatoire vide sur une ligne remplie", required,
                lambda r, k: blank(r[k]), factor=_filled_row(table.keys)))
        fixed = {"code", "label"} if table.fixed_rows else set()
        checks += _typed(schema, table.key, tuple(c for c in table.columns if c.key not in fixed))
        if table.key == COMMUNES:
            checks.append(LiveCheck(
                IssueCode.REQUIRED_VALUE, table.key, "Au moins une commune", ("name",),
                _empty_table(table.key, table.keys), rows="first", skip_totals=False))
            insee = next(c.key for c in table.columns if c.kind == Kind.INSEE)
            checks.append(LiveCheck(
                IssueCode.INVALID_INSEE, table.key, "Code INSEE : 5 caractères, 2 chiffres (ou 2A, 2B) puis 3 chiffres",
                (insee,), lambda r, k: _bad_insee(r[k])))
            checks.append(LiveCheck(
                IssueCode.POPULATION_OVER_LIMIT, table.key, f"{town} de plus de {fr_int(limit)} habitants",
                ("population",),
                lambda r, k: f"{any_of(r['role'], (town,))}*({number(r['population'])}>{limit})"))
        elif table.key == JALONS:
            checks.append(LiveCheck(
                IssueCode.MISSING_MILESTONE, table.key, "Ligne de jalon " + f"{MILESTONES[0][0]} à {MILESTONES[-1][0]} manquante",
                (), lambda r, k: _missing_milestones(r), rows="first", also=("code",), skip_totals=False))
            checks.append(LiveCheck(
                IssueCode.REQUIRED_VALUE, table.key, "Date de réalisation du premier jalon", ("done_on",),
                lambda r, k: blank(r[k]), rows="first"))
            checks.append(LiveCheck(
                IssueCode.MILESTONES_OUT_OF_ORDER, table.key, "Jalon réalisé avant un jalon précédent",
                ("done_on",),
                # COUNTIF skips a formula error where MAX would return it.
                lambda r, k: (f"ISNUMBER({r[k]})*(COUNTIF({r.upto(k, this_row=False)},\">\"&{number(r[k])})>0)"),
                rows="rest", per_row=True))
            checks.append(LiveCheck(
                IssueCode.DATE_IN_FUTURE, table.key, "Jalon réalisé après la date de mise à jour", ("done_on",),
                lambda r, k: _after_update(r, k)))
            if carried:
                checks.append(LiveCheck(
                    IssueCode.MILESTONE_OVERDUE, table.key,
                    "Jalon prévu avant la date de mise à jour et non réalisé : à mettre à jour", ("planned_on",),
                    lambda r, k: f"{_before_update(r, k)}*{blank(r['done_on'])}", also=("done_on",)))
        elif table.key == ENGAGEMENTS:
            checks.append(LiveCheck(
                IssueCode.DUPLICATE_ACTION, table.key, "N° action déjà utilisé plus haut", ("action_id",),
                _duplicate))
            checks.append(LiveCheck(
                IssueCode.FINANCING_EXCEEDS_COST, table.key,
                f"Financements supérieurs au coût total HT (plus de {COST_TOLERANCE:g} €)", ("cost",),
                lambda r, k: f"ISNUMBER({r['cost']})*({r.sum(money)}>{number(r['cost'])}+{COST_TOLERANCE:g})",
                also=money))
            checks.append(LiveCheck(
                IssueCode.MISSING_COST, table.key, "Action " + ", ".join(costed) + " sans coût total HT",
                ("cost",), lambda r, k: f"{blank(r['cost'])}*{any_of(r['status'], costed)}",
                also=("status",)))
            checks.append(LiveCheck(
                IssueCode.DATES_OUT_OF_ORDER, table.key, "Date de fin avant la date de début", ("end_on",),
                lambda r, k: (f"ISNUMBER({r['start_on']})*ISNUMBER({r['end_on']})"
                              f"*({number(r['end_on'])}<{number(r['start_on'])})"),
                also=("start_on",)))
            checks.append(LiveCheck(
                IssueCode.MISSING_END_DATE, table.key, f"Action {done} sans date de fin", ("end_on",),
                lambda r, k: f"{blank(r['end_on'])}*{any_of(r['status'], (done,))}"))
            checks.append(LiveCheck(
                IssueCode.NEGATIVE_AMOUNT, table.key, "Montant négatif", ("cost", *money),
                lambda r, k: f"({number(r[k])}<0)"))
            if carried:
                checks.append(LiveCheck(
                    IssueCode.ACTION_OVERDUE, table.key,
                    "Action " + ", ".join(ongoing) + " dont la date de fin est passée : à mettre à jour",
                    ("end_on",), lambda r, k: f"{_before_update(r, k)}*{any_of(r['status'], ongoing)}",
                    also=("status",)))
        elif table.key == COMITES:
            checks.append(LiveCheck(
                IssueCode.DATE_IN_FUTURE, table.key, "Réunion datée après la date de mise à jour", ("date",),
                lambda r, k: _after_update(r, k), severity=Severity.ERROR))
            checks.append(LiveCheck(
                IssueCode.ETAT_ABSENT, table.key, f"{committee} sans l'État (« {no} » ou laissé vide)", ("etat_present",),
                lambda r, k: (f"{any_of(r['body'], (committee,))}"
                              f"*({num(any_of(r['etat_present'], (no,)))}+{num(blank(r['etat_present']))})")))
        elif table.key == INGENIERIE:
            checks.append(LiveCheck(
                IssueCode.UNKNOWN_ACTION, table.key, "N° action absent de l'onglet Engagements", ("action_id",),
                lambda r, k: (f"{readable(r[k])}"
                              f"*(COUNTIF({r.column(ENGAGEMENTS, 'action_id')},{shown(r[k])})=0)")))
            checks.append(LiveCheck(
                IssueCode.NEGATIVE_AMOUNT, table.key, "Montant négatif", ("amount",),
                lambda r, k: f"({number(r[k])}<0)"))
        elif table.key == ANNUAIRE:
            email = next(c.key for c in table.columns if c.kind == Kind.EMAIL)
            checks.append(LiveCheck(
                IssueCode.INVALID_EMAIL, table.key,
                "Mail sans @, avec deux @, une espace ou sans point après le @ (ou erreur de formule)",
                (email,), lambda r, k: f"ISERROR({r[k]})+{readable(r[k])}*({_bad_mail(shown(r[k]))}>0)"))
            role = table.column("role")
            checks.append(LiveCheck(
                IssueCode.NO_PROJECT_LEAD, table.key, f"Aucun contact « {lead} » dans l'annuaire", (),
                lambda r, k: f"(COUNTIF({r.column(ANNUAIRE, 'role')},{text(lead)})=0)",
                rows="first", also=(role.key,), skip_totals=False))
    return tuple(checks)


# What a value typed or pasted in a cell of each kind must not be, besides a formula error.
_TYPED_LABELS = {
    IssueCode.INVALID_DATE: "Date saisie comme du texte, ou erreur de formule",
    IssueCode.INVALID_NUMBER: "Nombre saisi comme du texte, ou erreur de formule",
    IssueCode.INVALID_PERCENT: "Pourcentage saisi comme du texte ou hors de 0 à 100 %, ou erreur de formule",
    IssueCode.INVALID_CHOICE: "Valeur hors de la liste, ou erreur de formule",
}
# Kinds whose own check below also counts the formula errors.
_OWN_CHECK = (Kind.SIREN, Kind.INSEE, Kind.EMAIL)


def _typed(schema: Schema, sheet: str, fields: tuple[Field, ...]) -> list[LiveCheck]:
    """One check per `validate` code of these cells' kinds: what cannot be read, as `validate`
    reads it (text where a number, date or percent is expected; a value out of a list; a formula
    error in any cell)."""
    by_code: dict[IssueCode, list[Field]] = {}
    for f in fields:
        if f.kind not in _OWN_CHECK:
            by_code.setdefault(unreadable_code(f.kind), []).append(f)
    lists = list(schema.lists)
    out = []
    for code, group in by_code.items():
        kinds = {f.key: f for f in group}

        def condition(r: Refs, k: str, kinds: dict[str, Field] = kinds) -> str:
            f, ref = kinds[k], r[k]
            error = f"ISERROR({ref})"
            if f.kind in (Kind.DATE, Kind.AMOUNT, Kind.INTEGER, Kind.PERCENT):
                cond = f"{error}+ISTEXT({ref})*{readable(ref)}"
                if f.kind == Kind.INTEGER:
                    cond += f"+ISNUMBER({ref})*(ROUND({number(ref)},0)<>{number(ref)})"
                if f.kind == Kind.PERCENT:
                    cond += f"+ISNUMBER({ref})*(({number(ref)}<0)+({number(ref)}>100))"
                return cond
            if f.kind == Kind.CHOICE and f.choices in schema.lists:
                # A value pasted past the drop-down; COUNTIF ignores case, as `validate` does.
                letter = col_letter(lists.index(f.choices))
                values = f"{quoted(schema.lists_name)}!${letter}$2:${letter}${len(schema.lists[f.choices]) + 1}"
                return f"{error}+{readable(ref)}*(COUNTIF({values},{shown(ref)})=0)"
            return error

        label = _TYPED_LABELS.get(code, "Erreur de formule (#DIV/0!, #N/A…) dans une case")
        if code == IssueCode.INVALID_CHOICE and not any(f.kind == Kind.CHOICE for f in group):
            label = "Erreur de formule (#DIV/0!, #N/A…) dans une case à choisir"
        out.append(LiveCheck(code, sheet, label, tuple(kinds), condition))
    return out


def _total_row(first: str) -> Condition:
    """The label `validate` flags: the first column's, else the second's."""
    def condition(r: Refs, k: str) -> str:
        if k == first:
            return r.is_total(k)
        return f"{r.is_total(k)}*(1-{r.is_total(first)})"
    return condition


def _filled_row(keys: tuple[str, ...]) -> Callable[[Refs], str]:
    return lambda r: r.filled_row(keys)


def _empty_table(table: str, keys: tuple[str, ...]) -> Condition:
    # COUNTA counts a formula error too, where LEN would return it.
    return lambda r, k: "((" + "+".join(f"COUNTA({r.column(table, c)})" for c in keys) + ")=0)"


def _missing_milestones(r: Refs) -> str:
    """How many of J1…J8 neither the Code column nor the Jalon column holds (one issue each)."""
    codes, labels = r.column(JALONS, "code"), r.column(JALONS, "label")
    return "(" + "+".join(f"--((COUNTIF({codes},{text(code)})+COUNTIF({labels},{text(label)}))=0)"
                          for code, label in MILESTONES) + ")"


def _after_update(r: Refs, k: str) -> str:
    updated = r.form("updated_on")
    return f"ISNUMBER({r[k]})*ISNUMBER({updated})*({number(r[k])}>{number(updated)})"


def _before_update(r: Refs, k: str) -> str:
    updated = r.form("updated_on")
    return f"ISNUMBER({r[k]})*ISNUMBER({updated})*({number(r[k])}<{number(updated)})"


def _duplicate(r: Refs, k: str) -> str:
    """Each repetition after the first, as `validate` flags them: k-1 for a number used k times."""
    if r.counting:
        # An empty or error row divides by 1: never by a COUNTIF of 0.
        return f"{readable(r[k])}*(1-1/IF({readable(r[k])},COUNTIF({r[k]},{r[k]}&\"\"),1))"
    return f"{readable(r[k])}*(COUNTIF({r.upto(k, this_row=True)},{shown(r[k])})>1)"


def _bad_mail(s: str) -> str:
    """`s`: the cell as text."""
    s = f"TRIM({s})"
    at = f"FIND(\"@\",{s})"
    return ("(" + "+".join(num(t) for t in (
        f"ISERROR({at})",
        f"(LEN({s})-LEN(SUBSTITUTE({s},\"@\",\"\"))>1)",
        f"(LEFT({s},1)=\"@\")",
        f"ISERROR(FIND(\".\",MID({s},IFERROR({at},1)+2,300)))",
        f"ISNUMBER(FIND(\" \",{s}))",
        f"(RIGHT({s},1)=\".\")",
    )) + ")")


def _bad_siren(x: str) -> str:
    """Not 9 digits once spaces and dots are removed, or a wrong Luhn key (a number: its 9 digits
    with the zeros in front, as `validate` reads it); a formula error too."""
    typed = shown(x)
    for space in (" ", "\u00a0", "\u202f", "."):
        typed = f"SUBSTITUTE({typed},{text(space)},\"\")"
    s = f"IF(ISNUMBER({x}),RIGHT(\"000000000\"&{x},9),{typed})"
    terms = []
    for i in range(1, 10):
        d = digit(f"MID({s},{i},1)")
        # From the right, every second digit is doubled (less 9 above 9).
        terms.append(f"(2*{d}-9*({d}>4))" if i % 2 == 0 else d)
    luhn = "+".join(terms)
    number_ok = f"IF(ISNUMBER({x}),({x}<>ROUND({number(x)},0))+({number(x)}<0)+({number(x)}>999999999),0)"
    key = f"IF(LEN({s})<>9,1,IFERROR(--(MOD({luhn},10)<>0),1))"
    return f"IF(ISERROR({x}),1,IF(LEN(TRIM({x}))=0,0,--(({number_ok}+{key})>0)))"


def _bad_insee(x: str) -> str:
    """Not the shape `validate` accepts: 5 characters (4 digits get their leading 0), the first two
    digits of a département (or 2A, 2B; 971 to 976 overseas), then 3 digits; a formula error too."""
    t = f"SUBSTITUTE(UPPER({shown(x)}),\" \",\"\")"
    s = f"RIGHT(\"0\"&{t},5)"
    rest = "*".join(is_digit(f"MID({s},{i},1)") for i in (3, 4, 5))
    p = f"({digit(f'LEFT({s},1)')}*10+{digit(f'MID({s},2,1)')})"
    overseas = f"({p}=97)*(MID({s},3,1)>=\"1\")*(MID({s},3,1)<=\"6\")"
    prefix = (f"IF({is_digit(f'LEFT({s},1)')}*{is_digit(f'MID({s},2,1)')},"
              f"({p}>=1)*({p}<=95)*({p}<>20)+{overseas},(LEFT({s},2)=\"2A\")+(LEFT({s},2)=\"2B\"))")
    good = f"(LEN({t})>=4)*(LEN({t})<=5)*{rest}*({prefix}>0)"
    return f"IF(ISERROR({x}),1,IF(LEN(TRIM({x}))=0,0,1-{good}))"
