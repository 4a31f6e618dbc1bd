"""`validate`: check workbooks, and with a folder, write a feedback workbook for each one to correct."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pvd_reporting.atomic import free_name, refuse_inside_inputs
from pvd_reporting.check.validate import validate_paths
from pvd_reporting.errors import OutputError
from pvd_reporting.format.issues import Report
from pvd_reporting.format.reference import load_reference
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
    try:
        report, notices = validate_paths(
            list(paths), schema, reference=reference, on_progress=bar.advance,
            on_start=lambda total: bar.start(total, "Contrôle des classeurs"),
        )
    finally:
        bar.close()
    result = Validation(report, notices)
    if annotate_dir is not None and report.workbooks:
        result.annotated = annotate(report, schema, annotate_dir)
    return result


def annotate(report: Report, schema: Schema, annotate_dir: Path) -> list[Path]:
    """One feedback workbook per workbook with issues; an existing file is never overwritten."""
    try:
        annotate_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Impossible de créer le dossier {annotate_dir} ({exc.strerror}).") from None
    written: list[Path] = []
    for workbook in report.workbooks:
        if not workbook.issues:
            continue
        target = free_name(annotate_dir, f"{Path(workbook.path).stem}-annotations", ".xlsx")
        written.append(write_feedback(target, schema, workbook))
    return written
