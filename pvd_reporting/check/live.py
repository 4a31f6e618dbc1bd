"""The checks a workbook makes by itself while it is filled (README, Le classeur se contrôle lui-même).

Each `LiveCheck` is declared once, here: its `validate` code, its French label, the cells it
colours and one condition builder. The template writer derives from it both the conditional
formatting of the cells (red an error, orange a warning) and the row of the `Contrôles` sheet
that counts them; a test makes LibreOffice recalculate filled workbooks and checks that every
count equals the number of issues `validate` reports with that code on that sheet.

Formulas use only functions Excel and LibreOffice both compute (SUM, IF, ISNUMBER, LEN, TRIM,
COUNTIF, MAX, FIND…): no macro, no external link, nothing volatile. A condition is written once
for both uses, through `Refs`: over the cells of one row (conditional formatting: a number that
is not 0 means "colour it") and over whole columns (the count, an array formula, so that IF works
element by element in every Excel version). On one row `Refs` says a few things more briefly
(SUM of a range, COUNTIF with a wildcard), with the same meaning: conditional formats are
short, and the template stays quick to write and to open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pvd_reporting.check.rules import COST_TOLERANCE
from pvd_reporting.format.french import fr_int
from pvd_reporting.format.issues import ISSUE_TYPES, IssueCode, Severity
from pvd_reporting.format.matching import col_letter
from pvd_reporting.format.schema import (
    ANNUAIRE,
    COMITES,
    COMMUNES,
    ENGAGEMENTS,
    INGENIERIE,
    JALONS,
    MILESTONES,
    TERRITOIRE,
    TOTAL_LABELS,
    TOTAL_PREFIXES,
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

FORM = TERRITOIRE  # the sheet key of the Territoire form (schema.form.key)
# Total labels that no prefix covers (a prefix is tested on its own).
_EXACT_TOTALS = tuple(label for label in TOTAL_LABELS if not label.startswith(TOTAL_PREFIXES))
# Which rows of a table a check covers: every checked row, only the first, or all but the first.
Rows = Literal["all", "first", "rest"]


def quoted(sheet: str) -> str:
    """A sheet name as a formula names it; always quoted, which Excel and LibreOffice both accept."""
    return "'" + sheet.replace("'", "''") + "'"


def text(value: str) -> str:
    """A formula string literal."""
    return '"' + value.replace('"', '""') + '"'


@dataclass(frozen=True)
class Layout:
    """Where each value is in the workbook being written: sheet, column and checked rows."""

    schema: Schema
    # table key -> last 1-based row the checks cover (the prepared rows and those people add)
    last_rows: dict[str, int]

    def sheet(self, key: str) -> str:
        return self.schema.form.name if key == FORM else self.schema.table(key).name

    def letter(self, table: str, key: str) -> str:
        return col_letter(self.schema.table(table).keys.index(key))

    def form_row(self, key: str) -> int:
        return [f.key for f in self.schema.form.fields].index(key) + 1

    def span(self, table: str, rows: Rows = "all") -> tuple[int, int]:
        """First and last 1-based rows of a table that a check covers."""
        first, last = 2, self.last_rows[table]
        if rows == "first":
            return first, first
        if rows == "rest":
            return first + 1, last
        return first, last


class Refs:
    """What a condition refers to: a cell of the row being checked, or the whole column.

    `refs["cost"]` is `$J2` when colouring (the row relative: conditional formatting moves it
    down the rows, and one rule may colour several columns of the row) and
    `'Engagements'!$J$2:$J$1001` when counting. `column` and `form` are absolute in both.
    """

    def __init__(self, layout: Layout, table: str, rows: Rows, *, counting: bool,
                 row: int | None = None) -> None:
        self.layout, self.table, self.rows, self.counting = layout, table, rows, counting
        self.first, self.last = layout.span(table, rows) if table != FORM else (1, 1)
        # A given row: a count made row by row, whose cells are named from another sheet.
        self.row = row if row is not None else self.first
        self.qualified = row is not None

    def __getitem__(self, key: str) -> str:
        if self.table == FORM:
            return self.form(key)
        letter = self.layout.letter(self.table, key)
        sheet = quoted(self.layout.sheet(self.table))
        if self.counting:
            return f"{sheet}!${letter}${self.first}:${letter}${self.last}"
        return f"{sheet}!${letter}${self.row}" if self.qualified else f"${letter}{self.row}"

    def upto(self, key: str, *, this_row: bool) -> str:
        """This column from the table's first row down to this row (or the row above it)."""
        letter = self.layout.letter(self.table, key)
        first = self.layout.span(self.table)[0]
        end = self.row if this_row else self.row - 1
        row = f"${end}" if self.qualified else f"{end}"
        return f"{quoted(self.layout.sheet(self.table))}!${letter}${first}:${letter}{row}"

    def sum(self, keys: tuple[str, ...]) -> str:
        """The sum of these cells of the row, text counted as 0 (SUM's rule, element by element)."""
        letters = [self.layout.letter(self.table, k) for k in keys]
        contiguous = [self.layout.schema.table(self.table).keys.index(k) for k in keys]
        if self.counting or self.qualified or contiguous != list(range(contiguous[0], contiguous[-1] + 1)):
            return "(" + "+".join(number(self[k]) for k in keys) + ")"
        return f"SUM(${letters[0]}{self.row}:${letters[-1]}{self.row})"

    def filled_row(self, keys: tuple[str, ...]) -> str:
        """A row `validate` reads: at least one of these cells is not blank (a formula error is not)."""
        return "((" + "+".join(num(filled(self[k])) for k in keys) + ")>0)"

    def is_total(self, key: str) -> str:
        """A total label as `validate` knows them; comparisons ignore case in both programs."""
        ref = self[key]
        labels = _EXACT_TOTALS
        if self.counting or self.qualified:
            exact = [f"--({ref}={text(label)})" for label in labels]
            prefixes = [f"--(LEFT({ref},{len(p)})={text(p)})" for p in TOTAL_PREFIXES]
            return f"(IF(ISERROR({ref}),0,{'+'.join(exact + prefixes)})>0)"
        # The same test, shorter on one cell: a wildcard for each prefix (COUNTIF skips an error).
        exact = [f"COUNTIF({ref},{text(label)})" for label in labels]
        prefixes = [f"COUNTIF({ref},{text(p + '*')})" for p in TOTAL_PREFIXES]
        return "((" + "+".join(exact + prefixes) + ")>0)"

    def column(self, table: str, key: str) -> str:
        """A whole column of a table, absolute (another table's, or this one's)."""
        letter = self.layout.letter(table, key)
        first, last = self.layout.span(table)
        return f"{quoted(self.layout.sheet(table))}!${letter}${first}:${letter}${last}"

    def form(self, key: str) -> str:
        return f"{quoted(self.layout.schema.form.name)}!$B${self.layout.form_row(key)}"


# A condition for one flagged column: (refs, flagged field key) -> formula text without "=".
Condition = Callable[[Refs, str], str]


@dataclass(frozen=True)
class LiveCheck:
    code: IssueCode  # the `validate` code whose issues this check counts
    sheet: str  # sheet key: "territoire" or a table key
    label: str  # the rule in French
    flagged: tuple[str, ...]  # field keys coloured and counted (one issue each); () for a sheet-level check
    condition: Condition
    rows: Rows = "all"
    also: tuple[str, ...] = ()  # field keys coloured too, not counted (the rest of the row)
    severity: Severity | None = None  # when the rule overrides the catalogue's severity
    # Count row by row instead of over whole columns (conditions that look at the rows above).
    per_row: bool = False
    # `validate` reads a total row as a total, not as data: its rules skip it.
    skip_totals: bool = True
    # A condition on the row shared by every flagged cell (written once in the count).
    factor: Callable[[Refs], str] | None = None

    def _row_factor(self, layout: Layout, refs: Refs) -> str:
        """What every flagged cell's condition is multiplied by: the shared factor, not a total row."""
        parts = [num(self.factor(refs))] if self.factor else []
        if self.sheet != FORM and self.skip_totals and not layout.schema.table(self.sheet).fixed_rows:
            first, second = layout.schema.table(self.sheet).keys[:2]
            parts += [f"(1-{refs.is_total(first)})", f"(1-{refs.is_total(second)})"]
        return "".join("*" + p for p in parts)

    def _condition(self, layout: Layout, refs: Refs, key: str) -> str:
        return num(self.condition(refs, key)) + self._row_factor(layout, refs)

    @property
    def level(self) -> Severity:
        return self.severity or ISSUE_TYPES[self.code].severity

    @property
    def title(self) -> str:
        """`Contrôle` column: the rule and its code."""
        return f"{self.label} ({self.code})"

    def where(self, layout: Layout) -> str:
        """`Où` column: the sheet and its columns (or the form's rows)."""
        schema = layout.schema
        name = layout.sheet(self.sheet)
        keys = self.flagged or self.also
        if self.sheet == FORM:
            labels = [schema.form.field(k).label for k in keys]
            return f"{name}, colonne B : " + ", ".join(labels)
        table = schema.table(self.sheet)
        parts = [f"{layout.letter(self.sheet, k)} « {table.column(k).label} »" for k in keys]
        return f"{name}, colonne{'s' if len(parts) > 1 else ''} " + ", ".join(parts)

    def highlights(self, layout: Layout) -> list[tuple[str, str]]:
        """(A1 ranges on the check's sheet, separated by spaces, condition for the first cell) to colour.

        Each counted column has its own rule; the other cells of the row it colours share the
        rule of the first counted column.
        """
        groups: list[tuple[str, tuple[str, ...]]] = [(k, (k,)) for k in self.flagged]
        if self.also:
            if groups:
                groups[0] = (groups[0][0], (*groups[0][1], *self.also))
            else:
                groups = [(self.also[0], self.also)]
        out: list[tuple[str, str]] = []
        for counted, keys in groups:
            if self.sheet == FORM:
                refs = Refs(layout, FORM, "all", counting=False)
                cells = " ".join(f"B{layout.form_row(k)}" for k in keys)
            else:
                refs = Refs(layout, self.sheet, self.rows, counting=False)
                cells = " ".join(_runs(layout, self.sheet, keys, refs.first, refs.last))
            out.append((cells, self._condition(layout, refs, counted)))
        return out

    def count(self, layout: Layout) -> str:
        """The array formula (without `{=}`) counting the issues of this check."""
        keys = self.flagged or ("",)
        if self.sheet == FORM:
            refs = Refs(layout, FORM, "all", counting=True)
            terms = [num(self._condition(layout, refs, k)) for k in keys]
        elif self.per_row:
            first, last = layout.span(self.sheet, self.rows)
            terms = [num(self._condition(layout, Refs(layout, self.sheet, self.rows, counting=False, row=r), k))
                     for k in keys for r in range(first, last + 1)]
        else:
            # One sum over the rows of every flagged cell's condition, the row's factor written once:
            # formulas stay well under Excel's 8,192 characters.
            refs = Refs(layout, self.sheet, self.rows, counting=True)
            cells = "+".join(num(self.condition(refs, k)) for k in keys)
            terms = [f"SUM(({cells}){self._row_factor(layout, refs)})"]
        return "ROUND(" + "+".join(terms) + ",0)"


# --- condition helpers: arithmetic on booleans, so that one text works on cells and on columns ---


def num(condition: str) -> str:
    """A condition as a number, 1 or 0, element by element over a column.

    Excel takes a logical value as greater than any number (`FALSE>0` is TRUE) and SUM skips
    logical values in an array, where LibreOffice takes them as 1 and 0: a condition summed,
    compared or counted is always coerced first, so that both programs give the same result.
    """
    return f"(--({condition}))"


# Every helper is safe on a cell holding a formula error (#DIV/0!, #N/A…): IF picks, element by
# element, a branch that never touches the error, so that no count of Contrôles shows an error.
DIGITS = text("0123456789")


def blank(ref: str) -> str:
    """Empty or spaces only; a formula error is not blank (`validate` reads it, and refuses it)."""
    return f"(IF(ISERROR({ref}),1,LEN(TRIM({ref})))=0)"


def filled(ref: str) -> str:
    """Not blank: a value, or a formula error."""
    return f"(IF(ISERROR({ref}),1,LEN(TRIM({ref})))>0)"


def readable(ref: str) -> str:
    """A value that is not blank and not a formula error."""
    return f"(IF(ISERROR({ref}),0,LEN(TRIM({ref})))>0)"


def shown(ref: str) -> str:
    """The cell as text ("" for a formula error), for the text functions."""
    return f'IF(ISERROR({ref}),"",{ref}&"")'


def is_digit(char: str) -> str:
    return f"ISNUMBER(FIND({char},{DIGITS}))"


def digit(char: str) -> str:
    """The digit a one-character text stands for (an error when it is not a digit)."""
    return f"(FIND({char},{DIGITS})-1)"


def number(ref: str) -> str:
    """The value when it is a number, else 0 (text never breaks the sum of a row)."""
    return f"IF(ISNUMBER({ref}),{ref},0)"


def any_of(ref: str, values: tuple[str, ...]) -> str:
    """Comparisons are without case in both programs, as `validate` compares list values."""
    return f"(IF(ISERROR({ref}),0," + "+".join(num(f"{ref}={text(v)}") for v in values) + ")>0)"


def _runs(layout: Layout, table: str, keys: tuple[str, ...], first: int, last: int) -> list[str]:
    """A1 ranges covering these columns over these rows, neighbouring columns in one range."""
    index = sorted(layout.schema.table(table).keys.index(k) for k in keys)
    runs: list[list[int]] = []
    for i in index:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    out = []
    for run in runs:
        a, b = col_letter(run[0]), col_letter(run[-1])
        out.append(f"{a}{first}" if (a, first) == (b, last) else f"{a}{first}:{b}{last}")
    return out


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
