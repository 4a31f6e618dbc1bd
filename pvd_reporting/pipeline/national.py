"""`national`: read the régions' histories, add them up, write the national summary, dashboard
and SQLite."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pvd_reporting.atomic import os_reason, prepare_output_dir
from pvd_reporting.consolidate.national import NationalRollup, roll_up
from pvd_reporting.errors import OutputError, UsageError
from pvd_reporting.output_folder import OutputFolder
from pvd_reporting.outputs.national.dashboard import write_national_dashboard
from pvd_reporting.outputs.national.history import write_national_db
from pvd_reporting.outputs.national.workbook import write_national_summary
from pvd_reporting.pipeline.options import period_value
from pvd_reporting.pipeline.progress import NoProgress, Progress


@dataclass
class NationalRun:
    rollup: NationalRollup
    written: list[Path]
    notices: list[str] = field(default_factory=list)  # what was found of a killed run, for the console


def run_national(paths: list[Path], *, output_dir: Path, period: str | None = None, contacts: bool = False,
                 progress: Progress | None = None) -> NationalRun:
    """Roll the régions up for `period` (default: the latest quarter most régions published) and write the three
    national outputs into `output_dir`."""
    period = period_value(period)
    if not paths:
        raise UsageError("Indiquez au moins un fichier historique-pvd.sqlite ou un dossier qui en contient.")
    inputs = [p for p in paths if p.is_dir()]
    target = prepare_output_dir(output_dir, inputs)
    with OutputFolder(target, paths, shown=output_dir) as out:
        bar = progress or NoProgress()
        try:
            rollup = roll_up(paths, period=period, contacts=contacts, on_progress=bar.advance,
                             on_start=lambda total: bar.start(total, "Lecture des historiques"))
        finally:
            bar.close()
        try:
            written = [write_national_summary(rollup, out.path), write_national_dashboard(rollup, out.path),
                       write_national_db(rollup, out.path)]
        except OSError as exc:
            raise OutputError(f"Impossible d'écrire dans {output_dir} ({os_reason(exc)}).") from None
        out.commit()
    return NationalRun(rollup, [out.final(p) for p in written], out.notices)
