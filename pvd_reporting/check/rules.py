"""The Python of the rules of docs/format-1.md, applied to values the reader has already parsed:
each rule object (check/checks/) computes its own; this runs them, sheet by sheet.

Total rows are never counted (the reader keeps them out of each table's rows).
"""

from __future__ import annotations

from collections.abc import Iterable

from pvd_reporting.check.checks import Check, checks
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
    by_sheet: dict[str, list[Check]] = {}
    for check in checks(schema):
        if check.row is not None or check.whole is not None:
            by_sheet.setdefault(check.sheet, []).append(check)
    issues: list[Issue] = []
    for sheet, sheet_checks in by_sheet.items():
        if sheet == FORM:
            records = [data.territory]
        elif ctx.has(sheet):
            records = ctx.rows(sheet)
        else:
            continue  # a sheet the reader could not find is already reported as missing-sheet
        on_rows = sorted((c for c in sheet_checks if c.row is not None), key=lambda c: c.rank)
        for record in records:
            for check in on_rows:
                assert check.row is not None
                issues += check.row(ctx, record)
        for check in sheet_checks:
            if check.whole is not None:
                issues += check.whole(ctx)
    return issues


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
