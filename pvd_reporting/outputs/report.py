"""The validation report as people and machines read it: text, JSON (README, pvd-report validate) and CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import click

from pvd_reporting.format.issues import (
    SEVERITY_LABELS,
    Issue,
    Report,
    Severity,
    WorkbookReport,
    shown_value,
)

CSV_COLUMNS = (
    "path", "territory", "id_pvd", "period",
    "code", "severity", "sheet", "cell", "row", "column", "value", "message",
)
# The CSV is for people who open it in French Excel: French headers, `;`, a BOM (see the README).
CSV_HEADERS: dict[str, str] = {
    "path": "Fichier", "territory": "Territoire", "id_pvd": "Identifiant PVD", "period": "Période",
    "code": "Code", "severity": "Gravité", "sheet": "Onglet", "cell": "Cellule", "row": "Ligne",
    "column": "Colonne", "value": "Valeur", "message": "Message",
}
CSV_DELIMITER = ";"
BOM = "\ufeff"
# A cell starting with one of these is taken for a formula by spreadsheet programs.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """`0 erreur`, `1 erreur`, `2 erreurs` (French: 0 and 1 take the singular)."""
    word = singular if n < 2 else (plural_form or singular + "s")
    return f"{n} {word}"


def verdict(workbook: WorkbookReport) -> str:
    """`✔ valide`, `✔ valide, 1 avertissement`, `✘ 3 erreurs, 1 avertissement`."""
    warnings = plural(workbook.warnings, "avertissement")
    if workbook.valid:
        return "✔ valide" + (f", {warnings}" if workbook.warnings else "")
    errors = plural(workbook.errors, "erreur")
    return f"✘ {errors}" + (f", {warnings}" if workbook.warnings else "")


def issue_line(issue: Issue) -> str:
    """`Engagements!H12 — message`, `Comités — message`, or the message alone for the file."""
    place = issue.place
    return f"{place} — {issue.message}" if place else issue.message


def summary(report: Report, notices: list[str]) -> str:
    stats = report.stats
    n = stats["workbooks"]
    head = f"{plural(n, 'classeur')} {'contrôlés' if n > 1 else 'contrôlé'}"
    parts = [
        plural(stats["valid"], "valide"),
        plural(stats["errors"], "erreur"),
        plural(stats["warnings"], "avertissement"),
    ]
    line = f"{head} : {', '.join(parts)}"
    if notices:
        skipped = len(notices)
        line += f" ({plural(skipped, 'fichier')} {'ignorés' if skipped > 1 else 'ignoré'})"
    return line


def render_text(report: Report, notices: list[str], color: bool) -> str:
    """Per workbook: path, territory and verdict, then one line per issue; a summary at the end.

    `notices` only add their count to the summary: the CLI prints them on stderr.
    """

    def paint(text: str, fg: str, bold: bool = False) -> str:
        return click.style(text, fg=fg, bold=bold) if color else text

    lines: list[str] = []
    for workbook in report.workbooks:
        who = " · ".join(x for x in (workbook.territory, workbook.id_pvd, workbook.period) if x)
        title = workbook.path + (f" ({who})" if who else "")
        mark = verdict(workbook)
        fg = "red" if not workbook.valid else ("yellow" if workbook.warnings else "green")
        lines.append(f"{paint(title, 'white', bold=True)} : {paint(mark, fg, bold=True)}")
        for issue in workbook.issues:
            issue_fg = "red" if issue.severity == Severity.ERROR else "yellow"
            lines.append("  " + paint(issue_line(issue), issue_fg))
        lines.append("")
    lines.append(summary(report, notices))
    return "\n".join(lines)


def render_json(report: Report) -> str:
    """Exactly `Report.to_dict()` (README, pvd-report validate), French characters kept as they are."""
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2)


def safe_cell(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula is written as text (prefixed with ')."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_value(value: Any) -> str:
    """A raw value as French Excel reads it: 15/03/2024, 1200000,5, VRAI."""
    if isinstance(value, float) and not value.is_integer():
        return repr(value).replace(".", ",")
    return shown_value(value)


def render_csv(report: Report) -> str:
    """One row per issue, columns `CSV_COLUMNS` under their French headers; a workbook without
    any issue has no row. Begins with a BOM, so that Excel reads it as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow([CSV_HEADERS[c] for c in CSV_COLUMNS])
    for workbook in report.workbooks:
        head = [workbook.path, workbook.territory, workbook.id_pvd, workbook.period]
        for issue in workbook.issues:
            row = [
                *head, issue.code, SEVERITY_LABELS.get(issue.severity, str(issue.severity)), issue.sheet,
                issue.cell, issue.row, issue.column, csv_value(issue.value), issue.message,
            ]
            writer.writerow(["" if v is None else safe_cell(v) for v in row])
    return BOM + out.getvalue()
