"""`pvd-report consolidate`: the regional view of one quarter and its outputs (README, the commands).

Heavy modules (xlsxwriter, plotly, jinja2) are imported inside the command: the click group
imports this module, and `validate` must stay light.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pvd_reporting.cli.common import (
    EXIT_FOUND_ERRORS,
    EXIT_OK,
    config_option,
    get_config,
    handle_errors,
    progress_callback,
    quiet_option,
    reference_option,
)
from pvd_reporting.errors import OutputError, UsageError
from pvd_reporting.format.schema import build_schema

if TYPE_CHECKING:
    from pvd_reporting.consolidate.view import Consolidation
    from pvd_reporting.format.issues import WorkbookReport
    from pvd_reporting.format.schema import Schema


def _parse_as_of(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    from pvd_reporting.read.values import parse_date

    try:
        return parse_date(value)
    except ValueError:
        raise click.BadParameter(f"date illisible « {value} » (attendu jj/mm/aaaa)") from None


def _parse_period(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from pvd_reporting.read.values import parse_period

    try:
        return parse_period(value)
    except ValueError:
        raise click.BadParameter(f"période illisible « {value} » (attendu 2025-T4)") from None


@click.command()
@click.argument("directory", required=False, default="workbooks", metavar="[DOSSIER]",
                type=click.Path(path_type=Path))
@click.option("--output-dir", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("outputs"),
              show_default=True, help="Dossier où écrire la synthèse, le tableau de bord, les graphiques et les anomalies.")
@click.option("--period", callback=_parse_period, default=None,
              help="Trimestre à consolider, ex. 2025-T4 (par défaut : le plus récent trouvé).")
@click.option("--as-of", "as_of", callback=_parse_as_of, default=None, metavar="DATE",
              help="Date de référence, ex. 31/12/2025 (par défaut : dernier jour du trimestre).")
@reference_option
@click.option("--strict", is_flag=True, help="Code de sortie 1 si un classeur contient une erreur.")
@click.option("--no-contacts", is_flag=True, help="N'écrit ni les noms, ni les mails, ni les téléphones de l'annuaire.")
@click.option("--no-images", is_flag=True, help="N'exporte pas les graphiques en PNG et SVG.")
@config_option
@quiet_option
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Nombre de processus de lecture (par défaut : un par cœur).")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="DOSSIER",
              help="Dossier de cache : un classeur inchangé depuis une consolidation précédente "
                   "n'est pas relu.")
@handle_errors
def consolidate_command(
    directory: Path,
    output_dir: Path,
    period: str | None,
    as_of: date | None,
    reference_path: Path | None,
    strict: bool,
    no_contacts: bool,
    no_images: bool,
    config_path: Path | None,
    quiet: bool,
    workers: int | None,
    cache_dir: Path | None,
) -> None:
    """Consolide les classeurs d'un trimestre : synthèse régionale, tableau de bord, anomalies.

    Lit et contrôle chaque classeur du DOSSIER (par défaut workbooks/), retient pour chaque
    territoire le classeur le plus récent, puis écrit dans le dossier de sortie la synthèse
    synthese-pvd-<période>.xlsx, le tableau de bord tableau-de-bord-<période>.html, les
    graphiques graphiques-<période>/ et les anomalies anomalies-<période>.json et .csv.
    Code de sortie : 0 si la consolidation est faite, 1 avec --strict si une erreur est
    trouvée, 2 en cas de mauvaise utilisation ou s'il n'y a rien à consolider.

    \b
    Exemples :
      pvd-report consolidate
      pvd-report consolidate classeurs/ --output-dir sorties/ --period 2025-T4
      pvd-report consolidate classeurs/ --reference pvd-communes.csv --as-of 31/12/2025 --no-contacts
      pvd-report consolidate classeurs/ --cache .cache-pvd/
    """
    from pvd_reporting.consolidate.batch import consolidate, read_all
    from pvd_reporting.format.reference import load_reference
    from pvd_reporting.outputs.atomic import prepare_output_dir
    from pvd_reporting.read.discover import discover_workbooks

    if not directory.exists():
        raise UsageError(f"Dossier introuvable : {directory}. Indiquez le dossier des classeurs reçus.")
    schema = build_schema(get_config(config_path))
    reference = load_reference(reference_path) if reference_path is not None else None
    files, notices = discover_workbooks([directory])
    for notice in notices:
        click.echo(notice, err=True)
    if not files:
        raise UsageError(f"Aucun classeur à consolider (.xlsx, .xlsm, .ods ou .xls) dans {directory}.")
    target = prepare_output_dir(output_dir, [directory])
    if cache_dir is not None:
        _check_cache_dir(cache_dir, directory)
    advance, close = progress_callback(len(files), "Lecture des classeurs", quiet)
    try:
        reports = read_all(files, schema, reference=reference, workers=workers, on_progress=advance,
                           cache=cache_dir)
    finally:
        close()
    try:
        result = consolidate(reports, schema, period=period, as_of=as_of, reference=reference)
    except UsageError:
        _echo_unreadable(reports)
        raise
    if result.region.received == 0:
        _echo_unreadable(reports)
        raise UsageError(f"Aucun classeur de la période {result.region.period} à consolider dans {directory}.")
    written, image_notice = write_outputs(result, target, schema, no_contacts=no_contacts, images=not no_images)
    _echo_summary(result, written, image_notice)
    has_errors = any(r.errors for r in result.reports)
    sys.exit(EXIT_FOUND_ERRORS if strict and has_errors else EXIT_OK)


def _check_cache_dir(cache_dir: Path, directory: Path) -> None:
    # The input folder is never written to (README, Ce que contient chaque sortie), the cache no more than the outputs.
    cache, source = cache_dir.expanduser().resolve(), directory.expanduser().resolve()
    if cache == source or source in cache.parents:
        raise UsageError(f"Le dossier de cache {cache_dir} est dans le dossier des classeurs {directory} : "
                         "choisissez-en un autre avec --cache.")


def _has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def write_outputs(result: Consolidation, output_dir: Path, schema: Schema, *, no_contacts: bool,
                  images: bool) -> tuple[list[Path], str | None]:
    """Summary, anomalies, then the dashboard and the charts when those modules are installed."""
    from pvd_reporting.outputs.anomalies import write_anomalies
    from pvd_reporting.outputs.summary.workbook import start_summary

    period = result.region.period
    # Written by another process meanwhile: it is the longest output (README, Vitesse).
    summary = start_summary(result, output_dir / f"synthese-pvd-{period}.xlsx", schema, no_contacts=no_contacts)
    written: list[Path] = []
    notice: str | None = None
    try:
        if _has_module("pvd_reporting.outputs.dashboard.page"):
            from pvd_reporting.outputs.dashboard.page import write_dashboard

            written.append(write_dashboard(result, output_dir, schema, no_contacts=no_contacts))
        if _has_module("pvd_reporting.outputs.dashboard.charts"):
            from pvd_reporting.outputs.dashboard.charts import write_charts

            charts, notice = write_charts(result, output_dir, images=images,
                                          at_risk_days=schema.config.at_risk_days)
            if charts:
                written.append(charts[0].parent)
        written.extend(write_anomalies(result, output_dir, period, no_contacts=no_contacts, schema=schema))
        written.insert(0, summary())
    except OSError as exc:
        with contextlib.suppress(Exception):
            summary()  # let the writer process finish before reporting
        raise OutputError(f"Impossible d'écrire dans {output_dir} ({exc.strerror or exc}).") from None
    return written, notice


def _echo_unreadable(reports: list[WorkbookReport]) -> None:
    for report in reports:
        if report.data is None:
            message = report.issues[0].message if report.issues else "illisible"
            click.echo(f"{report.path} : {message}", err=True)


def _echo_summary(result: Consolidation, written: list[Path], notice: str | None) -> None:
    r = result.region
    left_out = sum(1 for rep in result.reports if rep.data is None) + sum(
        1 for rep in result.reports
        if any(i.code in ("duplicate-submission", "period-mismatch") for i in rep.issues))
    expected = f" sur {r.expected} attendus" if r.expected is not None else ""
    lines = [
        f"Consolidation {r.region} — période {r.period}, situation au {r.as_of.strftime('%d/%m/%Y')}",
        f"  Territoires reçus : {r.received}{expected} · sans erreur : {r.valid}"
        + (f" · manquants : {r.missing}" if r.missing is not None else ""),
        f"  ORT signées : {r.ort_signed} · à risque : {r.at_risk} · échéance dépassée : {r.overdue}",
    ]
    if left_out:
        lines.append(f"  Classeurs écartés (illisibles, en double ou d'une autre période) : {left_out}")
    lines.append("Fichiers écrits :")
    lines.extend(f"  {path}" for path in written)
    click.echo("\n".join(lines))
    if notice:
        click.echo(notice, err=True)
