"""The Python of the rules of docs/format-1.md, applied to values the reader has already parsed:
each rule object (check/checks/) computes its own; this runs them, sheet by sheet.

Total rows are never counted (the reader keeps them out of each table's rows).
"""

from __future__ import annotations

from collections.abc import Iterable

from pvd_reporting.check.checks import checks
from pvd_reporting.check.checks.base import RowRule, SheetRule
from pvd_reporting.check.context import Context
from pvd_reporting.check.formulas import FORM
from pvd_reporting.format.issues import Issue, Severity, control_of
from pvd_reporting.format.matching import norm
from pvd_reporting.format.reference import Reference
from pvd_reporting.format.schema import TERRITOIRE, Schema
from pvd_reporting.read.records import WorkbookData


def apply_rules(data: WorkbookData, schema: Schema, *, reference: Reference | None = None) -> list[Issue]:
    """Every rule of docs/format-1.md on one workbook, in sheet order: on each row, the rules of
    its sheet (by rank, then in their order), then the rules of the sheet as a whole."""
    ctx = Context(data, schema, reference)
    issues: list[Issue] = []
    for sheet, (on_rows, whole) in _by_sheet(schema).items():
        if sheet == FORM:
            records = [data.territory]
        elif ctx.has(sheet):
            records = ctx.rows(sheet)
        else:
            continue  # a sheet the reader could not find is already reported as missing-sheet
        for record in records:
            for row in on_rows:
                issues += row(ctx, record)
        for sheet_rule in whole:
            issues += sheet_rule(ctx)
    return issues


_Run = dict[str, tuple[list[RowRule], list[SheetRule]]]
# The rules of the schema last used: a run applies them to each of its workbooks, with one schema.
_last: tuple[Schema, _Run] | None = None


def _by_sheet(schema: Schema) -> _Run:
    global _last
    if _last is None or _last[0] is not schema:
        every = checks(schema)
        run: _Run = {c.sheet: ([], []) for c in every}  # in the order of the sheets
        for check in sorted(every, key=lambda c: c.rank):  # stable: in their order within a rank
            on_rows, whole = run.setdefault(check.sheet, ([], []))
            on_rows += [check.row] if check.row is not None else []
            whole += [check.whole] if check.whole is not None else []
        _last = (schema, run)
    return _last[1]


def set_controls(data: WorkbookData, issues: Iterable[Issue]) -> None:
    """Each record's `control` (OK · Avertissement · Erreur) from the issues on its row."""
    worst: dict[tuple[str, int | None], Severity] = {}
    for issue in issues:
        if issue.sheet is None or (issue.row is None and issue.cell is None):
            continue
        key = (norm(issue.sheet), issue.row)
        if worst.get(key) != Severity.ERROR:
            worst[key] = issue.severity
    form_names = {norm(data.territory.sheet), norm(data.sheet_titles.get(TERRITOIRE))}
    form = [s for (sheet, _row), s in worst.items() if sheet in form_names]
    data.territory.control = control_of(form)
    for table_key, rows in data.tables.items():
        title = norm(data.sheet_titles.get(table_key))
        for record in rows:
            found = [worst.get((name, record.row)) for name in {norm(record.sheet), title}]
            record.control = control_of([s for s in found if s is not None])
