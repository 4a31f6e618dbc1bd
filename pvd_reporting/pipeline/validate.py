"""`validate`: check workbooks, and with a folder, write a feedback workbook for each one to correct.

Workbooks are read by consolidate's batch reader: on every core, and from the user's cache when
a file (and the program) has not changed since it was last read. The feedback workbooks need
each value's cell, which cached reports leave out: the few workbooks to annotate are read again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pvd_reporting.atomic import free_name, refuse_inside_inputs
from pvd_reporting.cache import Cache, can_create, resolve_cache_dir
from pvd_reporting.check.validate import validate_workbook
from pvd_reporting.consolidate.reading import read_all
from pvd_reporting.errors import OutputError
from pvd_reporting.format.issues import Report
from pvd_reporting.format.reference import Reference, load_reference
from pvd_reporting.format.schema import Schema, build_schema
from pvd_reporting.outputs.workbook.feedback import write_feedback
from pvd_reporting.pipeline.options import config_value
from pvd_reporting.pipeline.progress import NoProgress, Progress
from pvd_reporting.read.discover import discover_workbooks


@dataclass
class Validation:
    report: Report
    notices: list[str]
    annotated: list[Path] = field(default_factory=list)


def run_validate(
    paths: list[Path],
    *,
    config_path: Path | None = None,
    region: str | None = None,
    reference_path: Path | None = None,
    annotate_dir: Path | None = None,
    progress: Progress | None = None,
) -> Validation:
    """Validate every workbook found under `paths`; feedback workbooks go to `annotate_dir`."""
    bar = progress or NoProgress()
    if annotate_dir is not None:
        refuse_inside_inputs(annotate_dir, paths, option="--annotate")
    schema = build_schema(config_value(config_path, region, discover_workbooks(list(paths))[0]))
    reference = load_reference(reference_path) if reference_path is not None else None
    files, notices = discover_workbooks(list(paths))
    cache = resolve_cache_dir(None)
    try:
        bar.start(len(files), "Contrôle des classeurs")
        reports = read_all(files, schema, reference=reference, on_progress=bar.advance,
                           cache=Cache(cache) if cache is not None and can_create(cache) else None)
    finally:
        bar.close()
    report = Report(workbooks=reports)
    result = Validation(report, list(notices))
    if annotate_dir is not None and report.workbooks:
        result.annotated = annotate(report, schema, annotate_dir, reference, files)
    return result


def annotate(report: Report, schema: Schema, annotate_dir: Path, reference: Reference | None = None,
             files: list[Path] | None = None) -> list[Path]:
    """One feedback workbook per workbook with issues; an existing file is never overwritten.

    `files`: the paths read, in the order of the reports (a report's path is for showing: a name
    that is not valid UTF-8 is not the file's own)."""
    try:
        annotate_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Impossible de créer le dossier {annotate_dir} ({exc.strerror}).") from None
    written: list[Path] = []
    sources = files if files is not None and len(files) == len(report.workbooks) else \
        [Path(w.path) for w in report.workbooks]
    for workbook, source in zip(report.workbooks, sources, strict=True):
        if not workbook.issues:
            continue
        target = free_name(annotate_dir, f"{Path(workbook.path).stem}-annotations", ".xlsx")
        # Read again whole: the batch reader's reports keep no cell reference.
        full = validate_workbook(source, schema, reference=reference)
        written.append(write_feedback(target, schema, full))
    return written
