"""Validation of territory workbooks: read, apply the rules, report (README, pvd-report validate).

Never raises for a bad user file: whatever goes wrong with one file becomes an issue of its
report, and the other files are still checked.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pvd_reporting.check.rules import apply_rules, set_controls
from pvd_reporting.format.issues import Issue, IssueCode, Report, WorkbookReport, make_issue
from pvd_reporting.format.matching import norm, parse_a1
from pvd_reporting.format.reference import Reference
from pvd_reporting.format.schema import Schema
from pvd_reporting.read.discover import discover_workbooks, shown_path
from pvd_reporting.read.records import WorkbookData
from pvd_reporting.read.safety import open_checked
from pvd_reporting.read.workbook import read_workbook

UNEXPECTED_REASON = "structure inattendue : le classeur n'a pas pu être lu jusqu'au bout"


def validate_workbook(path: Path, schema: Schema, *, reference: Reference | None = None) -> WorkbookReport:
    """The report of one workbook; `path` is kept as given (a relative path stays relative), as
    text any output can write (`shown_path`)."""
    report = WorkbookReport(path=shown_path(path))
    # Read once: the digest, the safety checks and the reader share the file's bytes and zip.
    # A file over the limit is refused unread (README, pvd-report validate): never hash gigabytes to say so.
    opened, refused = open_checked(path)
    if opened is None:
        assert refused is not None
        report.issues = [refused]
        return report
    report.size, report.sha256 = opened.size, opened.sha256
    try:
        if refused is not None:
            data, issues = None, [refused]
        else:
            data, issues = read_workbook(path, schema, opened)
        if data is not None:
            issues = [*issues, *apply_rules(data, schema, reference=reference)]
    except Exception:  # noqa: BLE001 — one odd file must never stop the others (README, pvd-report validate)
        # The exception's text is English and technical: the user reads why the file is set aside.
        data, issues = None, [make_issue(IssueCode.UNREADABLE_FILE, reason=UNEXPECTED_REASON)]
    finally:
        opened.close()
    issues = sort_issues(issues, schema, data)
    report.issues = issues
    if data is not None:
        set_controls(data, issues)
        report.data = data
        report.version = data.version
        values = data.territory.values
        report.territory = _text(values.get("name"))
        report.id_pvd = _text(values.get("id_pvd"))
        report.period = _text(values.get("period"))
    return report


def validate_paths(
    paths: list[Path],
    schema: Schema,
    *,
    reference: Reference | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> tuple[Report, list[str]]:
    """Every workbook found under `paths`, validated; plus the notices of files skipped.

    `on_start` receives the number of files once they are found, `on_progress` is called with 1
    after each file (a progress bar's `update`).
    """
    files, notices = discover_workbooks(paths)
    if on_start is not None:
        on_start(len(files))
    report = Report()
    for file in files:
        report.workbooks.append(validate_workbook(file, schema, reference=reference))
        if on_progress is not None:
            on_progress(1)
    return report, list(notices)


def sort_issues(issues: list[Issue], schema: Schema, data: WorkbookData | None = None) -> list[Issue]:
    """File-level issues first, then by sheet order, row, column (stable within a cell)."""
    order = {norm(name): i for i, name in enumerate(schema.sheet_names)}
    if data is not None:
        keys = [schema.form.key, *(t.key for t in schema.tables)]
        names = [schema.form.name, *(t.name for t in schema.tables)]
        for key, name in zip(keys, names, strict=True):
            title = data.sheet_titles.get(key)
            if title:
                order.setdefault(norm(title), order[norm(name)])

    def position(issue: Issue) -> tuple[int, int, int]:
        if issue.sheet is None:
            return (-1, -1, -1)
        sheet = order.get(norm(issue.sheet), len(order))
        row, col = _cell_position(issue.cell)
        if issue.row is not None:
            row = issue.row
        return (sheet, row, col)

    return sorted(issues, key=position)


def _cell_position(cell: str | None) -> tuple[int, int]:
    return parse_a1(cell) or (-1, -1)


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
