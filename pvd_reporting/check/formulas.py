"""The formula language of the workbook's live checks (check/live.py declares the checks).

Formulas use only functions Excel and LibreOffice both compute (SUM, IF, ISNUMBER, LEN, TRIM,
COUNTIF, MAX, FIND…): no macro, no external link, nothing volatile. A condition is written once
for both uses, through `Refs`: over the cells of one row (conditional formatting: a number that
is not 0 means "colour it") and over whole columns (the count, an array formula, so that IF works
element by element in every Excel version). On one row `Refs` says a few things more briefly
(SUM of a range, COUNTIF with a wildcard), with the same meaning: conditional formats are
short, and the template stays quick to write and to open. `LiveCheck` turns one condition into
the cells it colours and the count of the `Contrôles` sheet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pvd_reporting.format.issues import ISSUE_TYPES, Severity
from pvd_reporting.format.matching import col_letter
from pvd_reporting.format.schema import (
    FIRST_DATA_ROW,
    SPACER_ROW,
    TERRITOIRE,
    TOTAL_LABELS,
    TOTAL_PREFIXES,
    Schema,
)

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
        """First and last 1-based rows of a table that a check covers: from the spacer, so that a
        row inserted at the top of the table is checked; "first" is the first data row."""
        first, last = FIRST_DATA_ROW + 1, self.last_rows[table]
        if rows == "first":
            return first, first
        if rows == "rest":
            return first + 1, last
        return SPACER_ROW + 1, last


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
    code: str  # the `validate` code whose issues this check counts
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
        """`Contrôle` column: the rule in plain French (its code has a column of its own)."""
        return self.label

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
