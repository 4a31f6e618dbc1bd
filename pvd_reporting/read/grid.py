"""Reading one sheet's grid (a list of rows as python-calamine gives them) into Records (docs/format-1.md).

Columns are found by header, never by position; each value is parsed by its field's Kind and an
unreadable value becomes an issue with its cell, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from pvd_reporting.format.issues import (
    CONTROL_OK,
    Issue,
    IssueCode,
    Severity,
    control_of,
    make_issue,
)
from pvd_reporting.format.matching import col_letter, norm
from pvd_reporting.format.schema import (
    TOTAL_LABELS,
    TOTAL_PREFIXES,
    Field,
    FormSheet,
    Kind,
    Schema,
    TableSheet,
)
from pvd_reporting.read import values as parsing
from pvd_reporting.read.formula_errors import CellError
from pvd_reporting.read.records import Record
from pvd_reporting.read.values import is_blank

HEADER_SEARCH_ROWS = 10

_PARSERS: dict[Kind, tuple[Callable[[Any], Any], IssueCode]] = {
    Kind.TEXT: (parsing.parse_text, IssueCode.INVALID_VALUE),  # text is always read
    Kind.PVD_ID: (parsing.parse_pvd_id, IssueCode.INVALID_PVD_ID),
    Kind.DEPARTMENT: (parsing.parse_department, IssueCode.INVALID_DEPARTMENT),
    Kind.SIREN: (parsing.parse_siren, IssueCode.INVALID_SIREN),
    Kind.PERIOD: (parsing.parse_period, IssueCode.INVALID_PERIOD),
    Kind.DATE: (parsing.parse_date, IssueCode.INVALID_DATE),
    Kind.PERCENT: (parsing.parse_percent, IssueCode.INVALID_PERCENT),
    Kind.AMOUNT: (parsing.parse_amount, IssueCode.INVALID_NUMBER),
    Kind.INTEGER: (parsing.parse_int, IssueCode.INVALID_NUMBER),
    Kind.YESNO: (parsing.parse_yes_no, IssueCode.INVALID_CHOICE),
    Kind.INSEE: (parsing.parse_insee, IssueCode.INVALID_INSEE),
    Kind.EMAIL: (parsing.parse_email, IssueCode.INVALID_EMAIL),
    Kind.PHONE: (parsing.parse_phone, IssueCode.INVALID_PHONE),
}
_TOTAL_KEYS = frozenset(TOTAL_LABELS)


def unreadable_code(kind: Kind) -> IssueCode:
    """The code of the issue for a value of this kind that cannot be read (a formula error too)."""
    if kind is Kind.CHOICE:
        return IssueCode.INVALID_CHOICE
    return _PARSERS[kind][1]
_TOTAL_PREFIXES = TOTAL_PREFIXES


def is_total_label(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    key = norm(value)
    return key in _TOTAL_KEYS or key.startswith(_TOTAL_PREFIXES)


def header_keys(f: Field) -> tuple[str, ...]:
    """What a header may say for this field: its label or an alias, also without the `(€)` unit."""
    keys: list[str] = []
    for key in (f.match_key, *(norm(alias) for alias in f.aliases)):
        bare = key.removesuffix("(€)").rstrip()
        keys.extend((key, bare) if bare != key else (key,))
    return tuple(keys)


class CellParser:
    """Parses cells of one workbook and collects their issues."""

    def __init__(self, schema: Schema, issues: list[Issue]) -> None:
        self.schema = schema
        self.issues = issues

    def parse(self, f: Field, raw: Any, sheet: str, cell: str, row: int | None) -> Any:
        """The parsed value, or None (blank, or unreadable: then an issue is recorded)."""
        if raw is None or (isinstance(raw, str) and not raw.strip()):  # is_blank, inline: every cell
            if f.required:
                self.issues.append(make_issue(
                    IssueCode.REQUIRED_VALUE, sheet=sheet, cell=cell, row=row, column=f.label))
            return None
        if isinstance(raw, CellError) and f.kind is Kind.TEXT:
            # Every other kind's parser refuses "#DIV/0!" with its own code; text would take it.
            self._bad(IssueCode.INVALID_VALUE, sheet, cell, row, f, raw)
            return None
        if f.kind is Kind.CHOICE:
            values = self.schema.lists.get(f.choices or "", ())
            try:
                return parsing.parse_choice(values, raw)
            except ValueError:
                self._bad(IssueCode.INVALID_CHOICE, sheet, cell, row, f, raw, choices=_choices(values))
                return None
        parser, code = _PARSERS[f.kind]
        try:
            return parser(raw)
        except (ValueError, TypeError, OverflowError) as exc:
            extra: dict[str, Any] = {}
            if f.kind is Kind.YESNO:
                extra["choices"] = _choices(self.schema.lists.get(f.choices or "oui_non", ("Oui", "Non")))
            if f.kind is Kind.SIREN:
                extra["reason"] = str(exc)
            if f.kind is Kind.EMAIL:
                extra["detail"] = f" ({exc})" if isinstance(exc, parsing.SeveralAddresses) else ""
            self._bad(code, sheet, cell, row, f, raw, **extra)
            return None

    def _bad(self, code: IssueCode, sheet: str, cell: str, row: int | None, f: Field, raw: Any,
             **params: Any) -> None:
        self.issues.append(make_issue(code, sheet=sheet, cell=cell, row=row, column=f.label,
                                      value=raw, **params))


def _choices(values: tuple[str, ...]) -> str:
    return ", ".join(f"« {v} »" for v in values)


def _control(issues: list[Issue], start: int) -> str:
    return control_of(i.severity for i in issues[start:])


def read_form(grid: list[list[Any]], form: FormSheet, parser: CellParser) -> Record:
    """Territoire: labels in column A (any row, matched by norm), values in column B."""
    sheet = form.name
    rows_by_label: dict[str, int] = {}
    for r, row in enumerate(grid):
        if row and isinstance(row[0], str) and row[0]:
            rows_by_label.setdefault(norm(row[0]), r)
    record = Record(sheet=form.name, row=None)
    start = len(parser.issues)
    for f in form.fields:
        at = rows_by_label.get(f.match_key)
        if at is None:
            parser.issues.append(make_issue(
                IssueCode.MISSING_COLUMN, sheet=sheet, column=f.label, sheet_name=sheet))
            continue
        row = grid[at]
        raw = clean_raw(row[1]) if len(row) > 1 else None
        cell = f"B{at + 1}"
        record.cells[f.key] = cell
        record.raw[f.key] = None if is_blank(raw) else raw
        record.values[f.key] = parser.parse(f, raw, sheet, cell, at + 1)
    record.control = _control(parser.issues, start)
    return record


@lru_cache(maxsize=64)
def _header_lookup(table: TableSheet) -> tuple[dict[str, str], frozenset[str]]:
    """What each header may say -> its field key, and the required keys: the same for every file."""
    wanted: dict[str, str] = {}
    for f in table.columns:
        for key in header_keys(f):
            wanted.setdefault(key, f.key)
    return wanted, frozenset(f.key for f in table.columns if f.required)


def find_header(grid: list[list[Any]], table: TableSheet) -> tuple[int, dict[str, int]] | None:
    """(0-based header row, field key -> 0-based column) or None when no row looks like it."""
    wanted, required = _header_lookup(table)
    best: tuple[int, dict[str, int]] | None = None
    for r, row in enumerate(grid[:HEADER_SEARCH_ROWS]):
        found: dict[str, int] = {}
        for c, value in enumerate(row):
            if isinstance(value, str) and value:
                match = wanted.get(norm(value))
                if match is not None and match not in found:
                    found[match] = c
        if not found:
            continue
        if required <= found.keys() or 2 * len(found) >= len(table.columns):
            return r, found
        if best is None or len(found) > len(best[1]):
            best = (r, found)
    return best


def has_headers_of(grid: list[list[Any]], table: TableSheet) -> bool:
    """Whether a header row holds every required column of this table and half its columns: a
    sheet of this table, whatever its name."""
    header = find_header(grid, table)
    if header is None:
        return False
    found = header[1].keys()
    return {f.key for f in table.columns if f.required} <= found and 2 * len(found) >= len(table.columns)


def read_table(
    grid: list[list[Any]], table: TableSheet, parser: CellParser,
    extra_columns: dict[str, list[str]],
) -> list[Record]:
    """Records of a table sheet; blank rows skipped, total rows flagged and not parsed.

    Issues name the schema's sheet (a stable key); their cell is on the file's own tab.
    """
    issues = parser.issues
    sheet = table.name
    header = find_header(grid, table)
    if header is None:
        for f in table.columns:
            if f.required:
                issues.append(make_issue(IssueCode.MISSING_COLUMN, sheet=sheet, column=f.label,
                                         sheet_name=sheet))
        return []
    h, columns = header
    header_row = grid[h]
    for f in table.columns:
        if f.key not in columns:
            issues.append(make_issue(
                IssueCode.MISSING_COLUMN, sheet=sheet, column=f.label, sheet_name=sheet,
                severity=None if f.required else Severity.WARNING))
    known = set(columns.values())
    extras: list[tuple[int, str]] = []
    for c, value in enumerate(header_row):
        if c not in known and not is_blank(value):
            label = parsing.parse_text(value)
            extras.append((c, label))
            issues.append(make_issue(IssueCode.UNKNOWN_COLUMN, sheet=sheet, cell=f"{col_letter(c)}{h + 1}",
                                     row=h + 1, value=label))
    fields = [(table.column(key), key, c, col_letter(c))
              for key, c in sorted(columns.items(), key=lambda kv: kv[1])]
    used = sorted([c for _, _, c, _ in fields] + [c for c, _ in extras])
    used_set = frozenset(used)
    unused: dict[int, list[int]] = {}  # by row width: the columns under no header
    records: list[Record] = []
    extra_values: list[list[str]] = [[] for _ in extras]
    parse = parser.parse
    # Every cell of every row passes here: blank tests and clean_raw are written inline.
    for r in range(h + 1, len(grid)):
        row = grid[r]
        width = len(row)
        elsewhere = unused.get(width)
        if elsewhere is None:
            elsewhere = unused[width] = [c for c in range(width) if c not in used_set]
        cells = [row[c] for c in used if c < width]
        if not any(v is not None and (not isinstance(v, str) or v.strip()) for v in cells):
            # A value under no header is not read: say so rather than drop it silently (docs/format-1.md).
            _unlabelled(row, elsewhere, sheet, r, issues)
            continue
        number = r + 1
        record = Record(sheet=table.name, row=number)
        refs, raws, parsed = record.cells, record.raw, record.values
        start = len(issues)
        _unlabelled(row, elsewhere, sheet, r, issues)
        for _, key, c, letter in fields:
            refs[key] = f"{letter}{number}"
            raw = row[c] if c < width else None
            if isinstance(raw, str):
                raws[key] = raw if raw.strip() else None
            elif isinstance(raw, float) and raw.is_integer() and abs(raw) < 1e15:
                raws[key] = int(raw)
            else:
                raws[key] = raw
        for i, (c, _) in enumerate(extras):
            extra_values[i].append(parsing.parse_text(row[c]) if c < width else "")
        total_at = _total_column(cells, used)
        if total_at is not None:
            record.is_total = True
            issues.append(make_issue(IssueCode.TOTAL_ROW, sheet=sheet, cell=f"{col_letter(total_at)}{number}",
                                     row=number, value=parsing.parse_text(row[total_at])))
        else:
            for f, key, _, _ in fields:
                parsed[key] = parse(f, raws[key], sheet, refs[key], number)
        record.control = _control(issues, start) if len(issues) > start else CONTROL_OK
        records.append(record)
    for (_, label), values in zip(extras, extra_values, strict=True):
        extra_columns[f"{table.name} — {label}"] = values
    return records


def _unlabelled(row: list[Any], elsewhere: list[int], sheet: str, r: int, issues: list[Issue]) -> None:
    for c in elsewhere:
        value = row[c]
        if value is not None and (not isinstance(value, str) or value.strip()):
            issues.append(make_issue(IssueCode.UNLABELLED_VALUE, sheet=sheet, cell=f"{col_letter(c)}{r + 1}",
                                     row=r + 1, value=clean_raw(value)))


def clean_raw(value: Any) -> Any:
    """A cell as read, with spreadsheet floats that are whole numbers as ints (200067783, not .0)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _total_column(cells: list[Any], used: list[int]) -> int | None:
    """The column of a total label among the row's first two filled cells, if any."""
    seen = 0
    for value, c in zip(cells, used, strict=False):
        if is_blank(value):
            continue
        if is_total_label(value):
            return c
        seen += 1
        if seen == 2:
            return None
    return None
