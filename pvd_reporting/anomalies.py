"""`anomalies-<period>.json` and `.csv` (§7): the report of every workbook read, in the very
shape and columns of `validate --format json|csv`, so one tool can read both."""

from __future__ import annotations

from pathlib import Path

from .issues import Report
from .outputs import atomic_write_text
from .render import render_csv, render_json
from .view import Consolidation


def anomalies_report(consolidation: Consolidation) -> Report:
    """Every workbook read, with the issues consolidation added (duplicates, other periods)."""
    return Report(workbooks=list(consolidation.reports))


def write_anomalies(consolidation: Consolidation, output_dir: Path, period: str) -> tuple[Path, Path]:
    """Write both files atomically; returns (json path, csv path)."""
    report = anomalies_report(consolidation)
    folder = Path(output_dir)
    json_path = atomic_write_text(folder / f"anomalies-{period}.json", render_json(report) + "\n")
    # utf-8-sig: Excel opens a CSV with a BOM as UTF-8 instead of guessing a code page.
    csv_path = atomic_write_text(folder / f"anomalies-{period}.csv", render_csv(report), encoding="utf-8-sig")
    return json_path, csv_path
