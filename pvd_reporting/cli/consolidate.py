"""`pvd-report consolidate`: the regional view of one quarter and its outputs (README, pvd-report consolidate)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pvd_reporting.cli.common import (
    EXIT_FOUND_ERRORS,
    EXIT_OK,
    REFERENCE_HELP,
    ClickProgress,
    config_option,
    date_option,
    departement_option,
    handle_errors,
    period_option,
    quiet_option,
    reference_option,
    region_option,
)
from pvd_reporting.cli.consolidate_lines import (
    period_check_lines,
    period_lines,
    revision_lines,
    run_warnings,
    set_aside_lines,
)
from pvd_reporting.cli.terminal import echo_lines
from pvd_reporting.errors import UsageError
from pvd_reporting.format.french import fr_date
from pvd_reporting.format.issues import WorkbookReport
from pvd_reporting.format.reference import SHIPPED_REFERENCE, reference_label
from pvd_reporting.pipeline.consolidate import (
    ConsolidationRun,
    NothingToConsolidate,
    run_consolidate,
)

MAX_SET_ASIDE_SHOWN = 20


@click.command()
@click.argument("paths", nargs=-1, metavar="[CHEMIN]...", type=click.Path(path_type=Path))
@click.option("--output-dir", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("outputs"),
              show_default=True, help="Dossier où écrire la synthèse, le tableau de bord, les graphiques et les anomalies.")
@period_option("Trimestre à consolider, ex. 2025-T4 (par défaut : le plus récent trouvé).")
@date_option("--as-of", "Date de référence, ex. 31/12/2025 (par défaut : dernier jour du trimestre).")
@reference_option(REFERENCE_HELP)
@click.option("--no-reference", is_flag=True,
              help="Sans liste de référence : seuls les territoires reçus sont attendus.")
@departement_option
@click.option("--strict", is_flag=True, help="Code de sortie 1 si un classeur contient une erreur.")
@click.option("--no-contacts", is_flag=True, help="N'écrit ni les noms, ni les mails, ni les téléphones de l'annuaire, "
                   "ni les brouillons de relance.")
@click.option("--avec-contacts", "with_contacts", is_flag=True,
              help="Écrit aussi dans le tableau de bord les noms, mails et téléphones de l'annuaire "
                   "(par défaut, le tableau de bord et la note, faits pour être transmis, n'en contiennent aucun).")
@click.option("--no-images", is_flag=True, help="N'exporte pas les graphiques en PNG et SVG.")
@config_option
@region_option
@quiet_option
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Nombre de processus de lecture (par défaut : un par cœur).")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="DOSSIER",
              help="Dossier du cache, où un classeur déjà lu n'est pas relu tant qu'il est inchangé "
                   "(par défaut : le dossier de cache de l'utilisateur, ou $PVD_REPORT_CACHE_DIR).")
@click.option("--no-cache", is_flag=True, help="Relit tous les classeurs, sans lire ni écrire de cache.")
@handle_errors
def consolidate_command(
    paths: tuple[Path, ...],
    output_dir: Path,
    period: str | None,
    as_of: str | None,
    reference_path: Path | None,
    no_reference: bool,
    departments: tuple[str, ...],
    strict: bool,
    no_contacts: bool,
    with_contacts: bool,
    no_images: bool,
    config_path: Path | None,
    region: str | None,
    quiet: bool,
    workers: int | None,
    cache_dir: Path | None,
    no_cache: bool,
) -> None:
    """Consolide les classeurs d'un trimestre : synthèse régionale, tableau de bord, anomalies.

    Lit et contrôle chaque classeur des fichiers et dossiers donnés (par défaut workbooks/),
    de toutes les périodes : la plus récente (ou --period) est consolidée, les précédentes
    forment l'historique (colonnes T-1 et N-1, onglets Évolution et Changements, base
    historique-pvd.sqlite). Pour chaque territoire et chaque période, le classeur le plus
    récent est retenu, puis la commande écrit dans le dossier de sortie la synthèse
    synthese-pvd-<période>.xlsx, le tableau de bord tableau-de-bord-<période>.html, les
    graphiques graphiques-<période>/, les anomalies anomalies-<période>.json et .csv, et les
    relances relances-<période>.csv et relances-<période>/ (un brouillon de mail par territoire
    à relancer).
    Code de sortie : 0 si la consolidation est faite, 1 avec --strict si une erreur est
    trouvée, 2 en cas de mauvaise utilisation ou s'il n'y a rien à consolider.

    \b
    Exemples :
      pvd-report consolidate
      pvd-report consolidate classeurs/2025-T3 classeurs/2025-T4 --output-dir sorties/
      pvd-report consolidate classeurs/ --output-dir sorties/ --period 2025-T4
      pvd-report consolidate classeurs/ --reference pvd-communes-2025.csv --as-of 31/12/2025 --no-contacts
      pvd-report consolidate classeurs/ --no-cache
      pvd-report consolidate classeurs/ --departement 10
    """
    if no_contacts and with_contacts:
        raise UsageError("--no-contacts et --avec-contacts s'excluent : choisissez l'un ou l'autre.")
    if no_reference and reference_path is not None:
        raise UsageError("--reference et --no-reference s'excluent : choisissez l'un ou l'autre.")
    # The shipped ANCT list unless told otherwise: it names the territories expected and not received.
    reference = None if no_reference else reference_path or SHIPPED_REFERENCE
    try:
        run = run_consolidate(list(paths) or [Path("workbooks")], output_dir=output_dir, period=period, as_of=as_of,
                              reference_path=reference, config_path=config_path, region=region,
                              no_contacts=no_contacts, with_contacts=with_contacts, images=not no_images, workers=workers,
                              cache_dir=cache_dir, use_cache=not no_cache, progress=ClickProgress(quiet),
                              departments=list(departments))
    except NothingToConsolidate as exc:
        _echo_unreadable(exc.reports)
        raise
    echo_lines(run.notices, err=True)
    _echo_summary(run, reference)
    has_errors = any(r.errors for r in run.result.reports)
    sys.exit(EXIT_FOUND_ERRORS if strict and has_errors else EXIT_OK)


def _echo_unreadable(reports: list[WorkbookReport]) -> None:
    for report in reports:
        if report.data is None:
            message = report.issues[0].message if report.issues else "illisible"
            echo_lines([f"{report.path} : {message}"], err=True)


def _echo_summary(run: ConsolidationRun, reference: Path | None = None) -> None:
    r = run.result.region
    assert run.figures is not None
    f = run.figures.value  # the figures' values by key, as the summary and the dashboard show them
    expected = f" sur {f('expected')} attendus" if f("expected") is not None else ""
    lines = [
        f"Consolidation {r.scope} — période {r.period}, situation au {fr_date(r.as_of)}",
        f"  Territoires reçus : {f('received')}{expected} · sans erreur : {f('valid')}"
        + (f" · manquants : {f('missing')}" if f("missing") is not None else ""),
        f"  ORT signées : {f('ort_signed')} · à risque : {f('at_risk')} · échéance dépassée : {f('overdue')}",
        *period_lines(run.result),
    ]
    if reference is not None:  # where « attendus » comes from
        lines.insert(2, f"  Liste de référence : {reference_label(reference)}")
    lines.extend(set_aside_lines(run, MAX_SET_ASIDE_SHOWN))
    lines.extend(period_check_lines(run.result))
    lines.extend(revision_lines(run.result))
    if f("not_filled"):
        lines.append(f"  Classeurs renvoyés non remplis, comptés comme non reçus : {f('not_filled')}")
    if run.reminders is not None:
        lines.append(f"  {run.reminders.line}")
    lines.append("Fichiers écrits :")
    lines.extend(f"  {path}" for path in run.written)
    echo_lines(lines)
    echo_lines(run_warnings(run), err=True)
    if run.image_notice:
        echo_lines([run.image_notice], err=True)
