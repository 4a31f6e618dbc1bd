"""`pvd-report validate`: check filled workbooks and say what to fix (README, the commands)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from pvd_reporting.cli.common import (
    EXIT_FOUND_ERRORS,
    EXIT_OK,
    EXIT_USAGE,
    config_option,
    get_config,
    handle_errors,
    progress_callback,
    quiet_option,
    reference_option,
)
from pvd_reporting.errors import UsageError
from pvd_reporting.format.issues import Report
from pvd_reporting.format.schema import Schema, build_schema


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="CHEMIN...")
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json", "csv"]), default="text",
    show_default=True, help="Sortie lisible (text) ou pour les machines (json, csv).",
)
@reference_option
@click.option(
    "--annotate", "annotate_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Dossier où écrire, pour chaque classeur à corriger, un classeur annoté "
    "(cellules colorées, commentaires, onglet Anomalies).",
)
@config_option
@quiet_option
@handle_errors
def validate_command(
    paths: tuple[Path, ...],
    output_format: str,
    reference_path: Path | None,
    annotate_dir: Path | None,
    config_path: Path | None,
    quiet: bool,
) -> None:
    """Contrôle des classeurs remplis par les territoires (fichiers ou dossiers).

    Affiche, pour chaque classeur, son verdict puis chaque anomalie sous la forme
    « Onglet!A1 — message ». Code de sortie : 0 si tout est valide, 1 si une erreur est
    trouvée, 2 en cas de mauvaise utilisation ou s'il n'y a rien à contrôler.

    \b
    Exemples :
      pvd-report validate saverne.xlsx
      pvd-report validate classeurs/ --format json > anomalies.json
      pvd-report validate classeurs/ --reference pvd-communes.csv --annotate retours/
    """
    from pvd_reporting.check.validate import validate_paths
    from pvd_reporting.format.reference import load_reference

    if not paths:
        raise UsageError(
            "Indiquez au moins un fichier ou un dossier à contrôler, "
            "par exemple : pvd-report validate classeurs/"
        )
    if annotate_dir is not None:
        check_annotate_dir(annotate_dir, paths)
    schema = build_schema(get_config(config_path))
    reference = load_reference(reference_path) if reference_path is not None else None
    bar = _Progress(quiet)
    try:
        report, notices = validate_paths(
            list(paths), schema, reference=reference, on_progress=bar.update, on_start=bar.start,
        )
    finally:
        bar.close()
    for notice in notices:
        click.echo(notice, err=True)
    if not report.workbooks:
        click.echo(
            "Aucun classeur à contrôler (.xlsx, .xlsm, .ods ou .xls) dans : "
            + ", ".join(str(p) for p in paths),
            err=True,
        )
        sys.exit(EXIT_USAGE)
    _print(report, notices, output_format)
    if annotate_dir is not None:
        written = annotate(report, schema, annotate_dir)
        if written:
            click.echo(f"{len(written)} classeur(s) annoté(s) écrit(s) dans {annotate_dir}", err=True)
    sys.exit(EXIT_OK if report.valid else EXIT_FOUND_ERRORS)


def _print(report: Report, notices: list[str], output_format: str) -> None:
    from pvd_reporting.outputs.report import render_csv, render_json, render_text

    if output_format == "json":
        click.echo(render_json(report))
    elif output_format == "csv":
        click.echo(render_csv(report), nl=False)
    else:
        color = sys.stdout.isatty()
        click.echo(render_text(report, notices, color), color=color)


def check_annotate_dir(annotate_dir: Path, paths: tuple[Path, ...]) -> None:
    """The input folders are never written to (README, Ce que contient chaque sortie): refuse an annotation folder inside one."""
    target = annotate_dir.resolve()
    for path in paths:
        folder = path.resolve() if path.is_dir() else path.resolve().parent
        if target == folder or (path.is_dir() and target.is_relative_to(folder)):
            raise UsageError(
                f"Le dossier --annotate ({annotate_dir}) est un dossier d'entrée : "
                "choisissez un autre dossier, les classeurs reçus ne sont jamais modifiés."
            )


def annotate(report: Report, schema: Schema, annotate_dir: Path) -> list[Path]:
    """One feedback workbook per workbook with issues; an existing file is never overwritten."""
    from pvd_reporting.errors import OutputError
    from pvd_reporting.outputs.workbook.feedback import write_feedback

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


def free_name(folder: Path, stem: str, suffix: str) -> Path:
    """`stem.xlsx`, else `stem-2.xlsx`, `stem-3.xlsx`…: the first name not taken."""
    candidate = folder / f"{stem}{suffix}"
    n = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{n}{suffix}"
        n += 1
    return candidate


class _Progress:
    """A progress bar on stderr once the number of files is known; nothing when quiet."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self._update: Callable[[int], None] = _ignore
        self._close: Callable[[], None] = _nothing

    def start(self, total: int) -> None:
        self._update, self._close = progress_callback(total, "Contrôle des classeurs", self.quiet)

    def update(self, n: int = 1) -> None:
        self._update(n)

    def close(self) -> None:
        self._close()


def _ignore(n: int = 1) -> None:
    pass


def _nothing() -> None:
    pass
