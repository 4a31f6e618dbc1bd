"""`anomalies-<period>.json` and `.csv` (README, Ce que contient chaque sortie): the report of every workbook read, in the very
shape and columns of `validate --format json|csv`, so one tool can read both.

With `--no-contacts` an issue on a field that can hold a person keeps its code, cell and title
but not the value it quotes (outputs/privacy.py).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pvd_reporting.atomic import atomic_write_text
from pvd_reporting.consolidate.batch import OTHER_DEPARTMENT
from pvd_reporting.consolidate.view import Consolidation
from pvd_reporting.format.issues import Report, WorkbookReport
from pvd_reporting.format.schema import Schema
from pvd_reporting.outputs.privacy import ContactMask
from pvd_reporting.outputs.report import render_csv, render_json


def anomalies_report(consolidation: Consolidation, schema: Schema, *, no_contacts: bool = False) -> Report:
    """Every workbook read, with the issues consolidation added (duplicates, other periods); a
    workbook of another département than those asked for, with that reason only (its own
    anomalies are its département's business)."""
    reports = [_in_scope(r) for r in consolidation.reports]
    if not no_contacts:
        return Report(workbooks=reports)
    mask = ContactMask(schema, True)
    return Report(workbooks=[replace(report, issues=[mask.issue(i) for i in report.issues]) for report in reports])


def _in_scope(report: WorkbookReport) -> WorkbookReport:
    other = [i for i in report.issues if i.code == OTHER_DEPARTMENT]
    return replace(report, issues=other) if other else report


def write_anomalies(consolidation: Consolidation, output_dir: Path, schema: Schema, *,
                    no_contacts: bool = False) -> tuple[Path, Path]:
    """Write both files atomically; returns (json path, csv path)."""
    period = consolidation.region.period
    report = anomalies_report(consolidation, schema, no_contacts=no_contacts)
    folder = Path(output_dir)
    json_path = atomic_write_text(folder / f"anomalies-{period}.json", render_json(report) + "\n")
    # The text begins with a BOM: Excel opens it as UTF-8 instead of guessing a code page.
    csv_path = atomic_write_text(folder / f"anomalies-{period}.csv", render_csv(report), encoding="utf-8")
    return json_path, csv_path
