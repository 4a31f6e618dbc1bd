"""`pvd-report validate`: check filled workbooks and say what to fix (README, pvd-report validate)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pvd_reporting.cli.common import (
    EXIT_FOUND_ERRORS,
    EXIT_OK,
    ClickProgress,
    config_option,
    handle_errors,
    quiet_option,
    reference_option,
    region_option,
)
from pvd_reporting.cli.terminal import echo, echo_lines, terminal_report, terminal_text
from pvd_reporting.errors import UsageError
from pvd_reporting.format.issues import Report
from pvd_reporting.outputs.report import render_csv, render_json, render_text
from pvd_reporting.pipeline.validate import run_validate


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="CHEMIN...")
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json", "csv"]), default="text",
    show_default=True, help="Sortie lisible (text) ou pour les machines (json, csv).",
)
@reference_option("Liste de référence des communes PVD (CSV de l'ANCT ou de data.gouv.fr) : "
                  "signale les Villes PVD absentes de la liste et les communes mal nommées.")
@click.option(
    "--annotate", "annotate_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Dossier où écrire, pour chaque classeur à corriger, un classeur annoté "
    "(cellules colorées, commentaires, onglet Anomalies).",
)
@config_option
@region_option
@quiet_option
@handle_errors
def validate_command(
    paths: tuple[Path, ...],
    output_format: str,
    reference_path: Path | None,
    annotate_dir: Path | None,
    config_path: Path | None,
    region: str | None,
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
    if not paths:
        raise UsageError(
            "Indiquez au moins un fichier ou un dossier à contrôler, "
            "par exemple : pvd-report validate classeurs/"
        )
    done = run_validate(list(paths), config_path=config_path, region=region, reference_path=reference_path,
                        annotate_dir=annotate_dir, progress=ClickProgress(quiet))
    echo_lines(done.notices, err=True)
    if not done.report.workbooks:
        raise UsageError("Aucun classeur à contrôler (.xlsx, .xlsm, .ods ou .xls) dans : "
                         + ", ".join(str(p) for p in paths))
    _print(done.report, done.notices, output_format)
    if done.annotated:
        echo(f"{len(done.annotated)} classeur(s) annoté(s) écrit(s) dans {annotate_dir}", err=True)
    sys.exit(EXIT_OK if done.report.valid else EXIT_FOUND_ERRORS)


def _print(report: Report, notices: list[str], output_format: str) -> None:
    # The report's texts cleaned first, then rendered: validate's own colours stay.
    report, notices = terminal_report(report), [terminal_text(n) for n in notices]
    if output_format == "json":
        click.echo(render_json(report))
    elif output_format == "csv":
        click.echo(render_csv(report), nl=False)
    else:
        color = sys.stdout.isatty()
        click.echo(render_text(report, notices, color), color=color)
