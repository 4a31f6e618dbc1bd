"""`consolidate`: read every workbook, settle the region's view, write every output."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Generic, TypeVar, cast

from pvd_reporting.atomic import (
    checkpoint,
    os_reason,
    prepare_output_dir,
    refuse_inside_inputs,
)
from pvd_reporting.cache import Cache, can_create, resolve_cache_dir
from pvd_reporting.consolidate.batch import (
    HISTORY_PLACEMENT,
    OTHER_DEPARTMENT,
    PERIOD_TO_CHECK_CODES,
    RESENT,
    SET_ASIDE_CODES,
    period_end,
    period_of,
    period_sort_key,
    placement,
    retained_period,
)
from pvd_reporting.consolidate.chase import attached_workbooks, to_chase
from pvd_reporting.consolidate.figures import RegionFigures, region_figures
from pvd_reporting.consolidate.published import Published, read_back, revisions
from pvd_reporting.consolidate.quarters import consolidate_history, shed_earlier_rows
from pvd_reporting.consolidate.reading import read_all
from pvd_reporting.consolidate.regional import add_months
from pvd_reporting.consolidate.view import Consolidation
from pvd_reporting.errors import OutputError, UsageError
from pvd_reporting.format.issues import Issue, WorkbookReport
from pvd_reporting.format.periods import first_day, parse_label
from pvd_reporting.format.reference import Reference, load_reference
from pvd_reporting.format.schema import Schema, build_schema
from pvd_reporting.output_folder import OutputFolder
from pvd_reporting.outputs import background
from pvd_reporting.outputs import browser as chromium
from pvd_reporting.outputs.anomalies import write_anomalies
from pvd_reporting.outputs.browser import chromium_path
from pvd_reporting.outputs.dashboard.charts_folder import chart_figures, write_charts
from pvd_reporting.outputs.dashboard.images import draw_ahead
from pvd_reporting.outputs.dashboard.page import write_dashboard
from pvd_reporting.outputs.dashboard.trends import trend_figures, write_trend_charts
from pvd_reporting.outputs.history_db import DB_NAME, HistoryDb
from pvd_reporting.outputs.history_read import read_published
from pvd_reporting.outputs.note import write_note
from pvd_reporting.outputs.reminders import Reminders, write_reminders
from pvd_reporting.outputs.summary.workbook import summary_work
from pvd_reporting.pipeline.options import config_value, date_value, departments_value, period_value
from pvd_reporting.pipeline.progress import NoProgress, Progress
from pvd_reporting.read.discover import discover


@dataclass
class ConsolidationRun:
    result: Consolidation
    written: list[Path]
    notices: list[str] = field(default_factory=list)  # discovery notices, before the work
    image_notice: str | None = None  # why PNG/SVG could not be made
    reminders: Reminders | None = None
    # The scope of the history file found in the output folder, when not this run's (nothing kept).
    other_scope: str | None = None
    figures: RegionFigures | None = None  # the region's figures, as every output shows them

    @property
    def set_aside(self) -> list[WorkbookReport]:
        """Workbooks read but not in the view: unreadable, duplicates, other periods."""
        return [r for r in self.result.reports
                if r.data is None or any(i.code in SET_ASIDE_CODES for i in r.issues)]


T = TypeVar("T")


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
    region: str | None = None,
    no_contacts: bool = False,
    with_contacts: bool = False,
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
    found = discover(inputs)
    files, notices = found.files, found.notices
    schema = build_schema(config_value(config_path, region, files))
    reference = load_reference(reference_path) if reference_path is not None else None
    if not files:
        raise UsageError(f"Aucun classeur à consolider (.xlsx, .xlsm, .ods ou .xls) dans {where}.")
    target = prepare_output_dir(output_dir, inputs)
    folder = resolve_cache_dir(cache_dir, enabled=use_cache)
    cache: Cache | None = None
    if folder is not None:
        refuse_inside_inputs(folder, inputs, option="--cache")
        # With --no-contacts the cache is read, never written: no contact of this run stays there.
        cache = Cache(folder, writable=not no_contacts)
        # The default folder only saves time: without it, every workbook is read.
        usable = folder.is_dir() if no_contacts else can_create(folder)
        if cache_dir is None and not usable:
            cache = None
    # Locked before the workbooks are read: a second run is refused at once, not after reading.
    # Chromium starts now, for the images: it loads while the workbooks are read.
    with OutputFolder(target, inputs, shown=output_dir) as out, chromium.launched(chromium_path() if images else None):
        notices += out.notices
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
        # The views are kept to the end of the run: out of the cyclic garbage collector's walks,
        # which would visit them each time the outputs make enough new objects.
        gc.freeze()
        result.not_workbooks = found.not_workbooks
        if result.region.received == 0 and result.region.not_filled == 0:
            raise NothingToConsolidate(
                f"Aucun classeur de la période {result.region.period} à consolider dans {where}.", reports)
        # Read before this run replaces it: the figures already given out.
        published = read_published(target / DB_NAME, schema)
        other_scope = compare_with_published(result, published, schema)
        try:
            written, image_notice, reminders = write_outputs(result, out.path, schema, no_contacts=no_contacts,
                                                             with_contacts=with_contacts, images=images,
                                                             reference=reference, cache=cache,
                                                             published=None if other_scope is not None else published)
        finally:
            chromium.stop()  # no Chromium process outlives the run, whatever happened
        out.commit()
    written = [out.final(p) for p in written]
    reminders.csv_path = out.final(reminders.csv_path)
    if reminders.folder is not None:
        reminders.folder = out.final(reminders.folder)
    return ConsolidationRun(result, written, notices, image_notice, reminders,
                            figures=region_figures(result, schema), other_scope=other_scope)


def compare_with_published(result: Consolidation, published: Published | None, schema: Schema) -> str | None:
    """Read back every earlier period whose files did not change since it was published (its
    figures are the record's), and fill `history.revisions` for those whose files changed; the
    history file's scope when it was of another one (then nothing of it is kept)."""
    history = result.history
    if published is None or history is None:
        return None
    if published.scope != result.region.scope:
        return published.scope
    read_back(history, published)
    history.revisions = revisions(history, published, schema)
    return None


def period_start(period: str) -> date:
    return first_day(parse_label(period) or (1, 1))


def as_of_out_of_range(period: str, as_of: date) -> str | None:
    """« before » the period, or « after » more than a year past its end: most likely a typo."""
    if as_of < period_start(period):
        return "before"
    if as_of > add_months(period_end(period), 12):
        return "after"
    return None


def write_outputs(result: Consolidation, output_dir: Path, schema: Schema, *, no_contacts: bool,
                  images: bool, with_contacts: bool = False, reference: Reference | None = None,
                  cache: Cache | None = None, published: Published | None = None,
                  ) -> tuple[list[Path], str | None, Reminders]:
    """Summary, dashboard, charts, anomalies and reminders of one consolidation; (paths, image
    notice, reminders). `output_dir`: for `run_consolidate`, the run's staging folder (atomic.
    OutputFolder), empty: what the output folder held before (the history database) is read
    there by the caller. `cache`: the run's cache (read-only with --no-contacts), where images and
    the reminders' attached workbooks are kept between runs; `published`: the output folder's history file as
    it was (read by the caller), whose unchanged periods are carried over."""
    period = result.region.period
    write_summary = summary_work(result, output_dir / f"synthese-pvd-{period}.xlsx", schema, no_contacts=no_contacts)

    summary_claim = background.Claim()

    def reminders_aside() -> tuple[Reminders, Path | None]:
        reminders = write_reminders(result, output_dir, schema, no_contacts=no_contacts, reference=reference,
                                    chased=chased, cache=cache)
        return reminders, write_summary() if summary_claim.take() else None

    # The earlier quarters' rows go into the history database before the fork: afterwards only
    # the consolidated quarter's are read here, and a page the fork shares is copied only once
    # one process writes to it (docs/vitesse.md).
    history_db = HistoryDb(result, output_dir, schema, no_contacts=no_contacts, reference=reference,
                           published=published)
    history_db.write_earlier()
    # Then those rows are dropped, but for the workbooks the reminders attach.
    chased = to_chase(result, reference)
    shed_earlier_rows(result, keep=attached_workbooks(chased))
    # Written by another process meanwhile: the reminders' attached workbooks (each annotated one
    # written whole) are the longest output of a first run at national scale. The summary is
    # written by whichever process is free first (docs/vitesse.md).
    try:
        (aside_outputs,) = background.start([reminders_aside])
    except BaseException:
        history_db.abandon()
        raise
    checkpoint("writing")
    browser = chromium_path() if images else None
    if browser:
        # Driven from a helper thread after the forks above (none is made while a helper thread
        # runs): Chromium, launched before the reading, has loaded meanwhile. The figures are
        # sent as soon as built and drawn while the dashboard is written.
        chromium.start(browser)
        draw_ahead({**chart_figures(result, at_risk_days=schema.config.at_risk_days, schema=schema),
                    **trend_figures(result)}, cache)

    def pictures() -> tuple[list[Path], str | None, list[Path]]:
        """`graphiques-<période>/` and the note: the outputs Chromium makes images and a PDF of."""
        try:
            # The note first: printed in a tab of its own while the charts are drawn in theirs.
            note = write_note(result, output_dir, schema, pdf=images)
            charts, notice = write_charts(result, output_dir, images=images, at_risk_days=schema.config.at_risk_days,
                                          schema=schema, image_cache=cache)
            trends, trend_notice = write_trend_charts(result, output_dir, images=images, image_cache=cache)
        finally:
            if images:
                chromium.stop()  # closed while the other outputs are still being written
        return [(charts or trends)[0].parent] if charts or trends else [], notice or trend_notice, note

    written: list[Path] = []
    try:
        # The dashboard is made to be forwarded: the annuaire stays home unless asked for.
        written.append(write_dashboard(result, output_dir, schema, no_contacts=no_contacts or not with_contacts))
        # With images, Chromium's part (and waiting for it) runs beside the outputs that need no browser.
        aside = Aside(pictures) if images else None
        try:
            folder, notice, note = pictures() if aside is None else (None, None, [])
            anomalies = write_anomalies(result, output_dir, schema, no_contacts=no_contacts)
            history_path = history_db.finish()
            summary = write_summary() if summary_claim.take() else None
        except BaseException:
            if aside is not None:
                with contextlib.suppress(BaseException):
                    aside.result()  # nothing is written in the folder once the error is reported
            raise
        if aside is not None:
            folder, notice, note = aside.result()
    except BaseException as exc:
        history_db.abandon()
        with contextlib.suppress(BaseException):
            aside_outputs()  # the writer process finishes before its folder is removed
        if isinstance(exc, OSError):
            raise OutputError(f"Impossible d'écrire dans {output_dir} ({os_reason(exc)}).") from None
        raise
    try:
        reminders, written_aside = aside_outputs()
        # The writer took the summary but died before writing it: it is written here.
        summary = summary or written_aside or write_summary()
    except OSError as exc:
        raise OutputError(f"Impossible d'écrire dans {output_dir} ({os_reason(exc)}).") from None
    written = [summary, *written, *(folder or []), *anomalies, *note, history_path, reminders.csv_path]
    if reminders.folder is not None:
        written.append(reminders.folder)
    return written, notice, reminders


class Aside(threading.Thread, Generic[T]):
    """`work()` in a thread of its own; `result()` waits for it and returns (or raises) what it did."""

    def __init__(self, work: Callable[[], T]) -> None:
        super().__init__(name="pvd-aside", daemon=True)
        self._work = work
        self._value: T | None = None
        self._error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self._value = self._work()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller by result()
            self._error = exc

    def result(self) -> T:
        self.join()
        if self._error is not None:
            raise self._error
        return cast(T, self._value)


@dataclass
class SetAside:
    """The workbooks set aside, as the console groups them."""

    named: list[WorkbookReport]  # of the quarter consolidated, each named with its reason
    others: list[WorkbookReport]  # of other départements
    earlier: list[WorkbookReport]  # set aside within an earlier quarter


def set_aside_groups(run: ConsolidationRun) -> SetAside:
    """Those of other départements apart (a DDT referent knows the folder holds them), and those
    of earlier quarters apart: they were named when those quarters were consolidated."""
    current = run.result.region.period
    reports = run.set_aside
    earlier = [r for r in reports if _of_an_earlier_quarter(r, current)]
    earlier_ids = {id(r) for r in earlier}
    reports = [r for r in reports if id(r) not in earlier_ids]
    others = [r for r in reports if any(i.code == OTHER_DEPARTMENT for i in r.issues)]
    other_ids = {id(r) for r in others}
    named = [r for r in reports if id(r) not in other_ids]
    return SetAside(named, others, earlier)


def set_aside_issue(report: WorkbookReport) -> Issue | None:
    """The issue that keeps a workbook out of the view; None when it has none to show."""
    for issue in report.issues:
        if issue.code in SET_ASIDE_CODES or report.data is None:
            return issue
    return None


def _of_an_earlier_quarter(report: WorkbookReport, current: str) -> bool:
    """A workbook set aside within an earlier quarter (a duplicate there…); not last quarter's
    file sent again among this quarter's, nor a period to check: news of this quarter. Those of
    other départements, of every quarter, are one line of their own."""
    own = period_of(report)
    news = {RESENT, OTHER_DEPARTMENT, *PERIOD_TO_CHECK_CODES}  # other départements: their own line
    if own is None or any(i.code in news for i in report.issues):
        return False
    return period_sort_key(own) < period_sort_key(current)


@dataclass
class PeriodCheck:
    """A workbook whose period does not fit its update date, and what was done with it."""

    report: WorkbookReport
    issue: Issue
    counted_for: str | None  # the period it is counted for; None: not consolidated
    by_update_date: bool = False  # counted for the period consolidated, from its update date


def period_checks(result: Consolidation) -> list[PeriodCheck]:
    """Every workbook whose period does not fit its update date: the referent checks it before
    trusting the quarter."""
    period = result.region.period
    used = {id(t.report) for t in result.territories if t.report is not None}
    checks = []
    for report in result.reports:
        for issue in report.issues:
            if issue.code not in PERIOD_TO_CHECK_CODES:
                continue
            if id(report) in used:
                checks.append(PeriodCheck(report, issue, period, by_update_date=period_of(report) != period))
            elif placement(result, report) == HISTORY_PLACEMENT:
                checks.append(PeriodCheck(report, issue, retained_period(report)))
            else:
                checks.append(PeriodCheck(report, issue, None))
    return checks


def revised_periods(result: Consolidation) -> dict[str, str]:
    """Every period whose published figures changed, with the summary of its first revision."""
    history = result.history
    if history is None or not history.revisions:
        return {}
    causes: dict[str, str] = {}
    for revision in history.revisions:
        causes.setdefault(revision.period, revision.summary)
    return causes


def period_drop(result: Consolidation) -> tuple[str, str] | None:
    """(period before, period consolidated) when the latter holds less than half as many
    workbooks as the one before (README, Plusieurs trimestres): some were not sent."""
    history = result.history
    if history is None:
        return None
    counts = history.workbooks
    periods = list(counts)
    if len(periods) >= 2:
        before, now = periods[-2], periods[-1]
        if counts[now] * 2 < counts[before]:
            return before, now
    return None
