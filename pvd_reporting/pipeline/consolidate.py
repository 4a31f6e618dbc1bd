"""`consolidate`: read every workbook, settle the region's view, write every output."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pvd_reporting.atomic import prepare_output_dir, refuse_inside_inputs
from pvd_reporting.consolidate.batch import CONSOLIDATION_CODES, period_end, read_all
from pvd_reporting.consolidate.cache import can_create, resolve_cache_dir
from pvd_reporting.consolidate.figures import RegionFigures, region_figures
from pvd_reporting.consolidate.quarters import consolidate_history
from pvd_reporting.consolidate.regional import add_months
from pvd_reporting.consolidate.view import Consolidation
from pvd_reporting.errors import OutputError, UsageError
from pvd_reporting.format.config import load_config
from pvd_reporting.format.french import fr_date
from pvd_reporting.format.issues import WorkbookReport
from pvd_reporting.format.periods import first_day, parse_label
from pvd_reporting.format.reference import Reference, load_reference
from pvd_reporting.format.schema import Schema, build_schema
from pvd_reporting.outputs.anomalies import write_anomalies
from pvd_reporting.outputs.dashboard.page import write_dashboard
from pvd_reporting.outputs.dashboard.plots import write_charts
from pvd_reporting.outputs.dashboard.trends import write_trend_charts
from pvd_reporting.outputs.history_db import write_history_db
from pvd_reporting.outputs.reminders import Reminders, write_reminders
from pvd_reporting.outputs.summary.workbook import start_summary
from pvd_reporting.pipeline.options import date_value, departments_value, period_value
from pvd_reporting.pipeline.progress import NoProgress, Progress
from pvd_reporting.read.discover import discover_workbooks


@dataclass
class ConsolidationRun:
    result: Consolidation
    written: list[Path]
    notices: list[str] = field(default_factory=list)  # discovery notices, before the work
    image_notice: str | None = None  # why PNG/SVG could not be made
    reminders: Reminders | None = None
    warnings: list[str] = field(default_factory=list)  # what the referent should know (--as-of…)
    figures: RegionFigures | None = None  # the region's figures, as every output shows them

    @property
    def set_aside(self) -> list[WorkbookReport]:
        """Workbooks read but not in the view: unreadable, duplicates, other periods."""
        return [r for r in self.result.reports
                if r.data is None or any(i.code in CONSOLIDATION_CODES for i in r.issues)]


class NothingToConsolidate(UsageError):
    """No workbook, or none of the period: the reports say why each file was left out."""

    def __init__(self, message: str, reports: list[WorkbookReport]) -> None:
        super().__init__(message)
        self.reports = reports


def run_consolidate(
    paths: list[Path] | Path,
    *,
    output_dir: Path,
    period: str | None = None,
    as_of: str | date | None = None,
    reference_path: Path | None = None,
    config_path: Path | None = None,
    no_contacts: bool = False,
    images: bool = True,
    workers: int | None = None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    progress: Progress | None = None,
    departments: list[str] | None = None,
) -> ConsolidationRun:
    """Read, settle and write; unchanged workbooks come from the cache (README, pvd-report consolidate):
    `cache_dir`, else the user's cache folder, unless `use_cache` is False."""
    period, as_of_day = period_value(period), date_value(as_of, "--as-of")
    codes = departments_value(departments)
    inputs = [paths] if isinstance(paths, Path) else list(paths)
    for given in inputs:
        if not given.exists():
            raise UsageError(f"Dossier introuvable : {given}. Indiquez le dossier des classeurs reçus.")
    where = ", ".join(str(p) for p in inputs)
    schema = build_schema(load_config(config_path))
    reference = load_reference(reference_path) if reference_path is not None else None
    files, notices = discover_workbooks(inputs)
    if not files:
        raise UsageError(f"Aucun classeur à consolider (.xlsx, .xlsm, .ods ou .xls) dans {where}.")
    target = prepare_output_dir(output_dir, inputs)
    cache = resolve_cache_dir(cache_dir, enabled=use_cache)
    if cache is not None:
        refuse_inside_inputs(cache, inputs, option="--cache")
        if cache_dir is None and not can_create(cache):
            cache = None  # the default folder only saves time: without it, every workbook is read
    bar = progress or NoProgress()
    bar.start(len(files), "Lecture des classeurs")
    try:
        reports = read_all(files, schema, reference=reference, workers=workers, on_progress=bar.advance,
                           cache=cache)
    finally:
        bar.close()
    try:
        result = consolidate_history(reports, schema, period=period, as_of=as_of_day, reference=reference,
                                     departments=codes)
    except UsageError as exc:
        raise NothingToConsolidate(str(exc), reports) from None
    if result.region.received == 0 and result.region.not_filled == 0:
        raise NothingToConsolidate(
            f"Aucun classeur de la période {result.region.period} à consolider dans {where}.", reports)
    warnings = as_of_warnings(result.region.period, result.region.as_of)
    written, image_notice, reminders = write_outputs(result, target, schema, no_contacts=no_contacts,
                                                     images=images, reference=reference)
    return ConsolidationRun(result, written, notices, image_notice, reminders, warnings,
                            region_figures(result, schema))


def period_start(period: str) -> date:
    return first_day(parse_label(period) or (1, 1))


def as_of_warnings(period: str, as_of: date) -> list[str]:
    """A reference date before the period, or more than a year after it, is most likely a typo."""
    first, last = period_start(period), period_end(period)
    if as_of < first:
        return [f"Attention : la date de référence {fr_date(as_of)} précède la période {period} "
                f"(qui commence le {fr_date(first)}) : les jalons et les échéances sont jugés à cette date."]
    if as_of > add_months(last, 12):
        return [f"Attention : la date de référence {fr_date(as_of)} est plus d'un an après la fin de la "
                f"période {period} ({fr_date(last)}) : vérifiez --as-of."]
    return []


def set_aside_reason(report: WorkbookReport) -> str:
    """Why a workbook is not in the view, in one French line."""
    for issue in report.issues:
        if issue.code in CONSOLIDATION_CODES or report.data is None:
            return issue.message
    return "illisible"


def write_outputs(result: Consolidation, output_dir: Path, schema: Schema, *, no_contacts: bool,
                  images: bool, reference: Reference | None = None,
                  ) -> tuple[list[Path], str | None, Reminders]:
    """Summary, dashboard, charts, anomalies and reminders of one consolidation; (paths, image
    notice, reminders)."""
    period = result.region.period
    # Written by another process meanwhile: it is the longest output (docs/vitesse.md).
    summary = start_summary(result, output_dir / f"synthese-pvd-{period}.xlsx", schema, no_contacts=no_contacts)
    written: list[Path] = []
    try:
        written.append(write_dashboard(result, output_dir, schema, no_contacts=no_contacts))
        charts, notice = write_charts(result, output_dir, images=images, at_risk_days=schema.config.at_risk_days)
        trends, trend_notice = write_trend_charts(result, output_dir, images=images)
        notice = notice or trend_notice
        if charts or trends:
            written.append((charts or trends)[0].parent)
        written.extend(write_anomalies(result, output_dir, schema, no_contacts=no_contacts))
        written.append(write_history_db(result, output_dir, schema, no_contacts=no_contacts))
        reminders = write_reminders(result, output_dir, schema, no_contacts=no_contacts, reference=reference)
        written.append(reminders.csv_path)
        if reminders.folder is not None:
            written.append(reminders.folder)
        written.insert(0, summary())
    except OSError as exc:
        with contextlib.suppress(Exception):
            summary()  # let the writer process finish before reporting
        raise OutputError(f"Impossible d'écrire dans {output_dir} ({exc.strerror or exc}).") from None
    return written, notice, reminders


def period_lines(result: Consolidation) -> list[str]:
    """Every period found with its number of workbooks, and a warning when the consolidated
    period holds less than half as many as the one before (README, Plusieurs trimestres)."""
    history = result.history
    if history is None:
        return []
    counts = history.workbooks
    found = " · ".join(f"{p} ({n} classeur{'s' if n > 1 else ''})" for p, n in counts.items())
    lines = [f"  Périodes trouvées : {found}"]
    periods = list(counts)
    if len(periods) >= 2:
        before, now = periods[-2], periods[-1]
        if counts[now] * 2 < counts[before]:
            lines.append(f"  Attention : la période {now} compte {counts[now]} classeur(s), moins de la moitié "
                         f"des {counts[before]} de {before} : des envois manquent peut-être.")
    return lines
