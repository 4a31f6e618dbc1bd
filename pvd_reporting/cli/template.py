"""`pvd-report template`: options in, one library call, a French line out."""

from __future__ import annotations

from pathlib import Path

import click

from pvd_reporting.cli.common import (
    REFERENCE_HELP,
    ClickProgress,
    config_option,
    departement_option,
    handle_errors,
    period_option,
    quiet_option,
    reference_option,
)
from pvd_reporting.cli.terminal import echo, echo_lines
from pvd_reporting.errors import UsageError
from pvd_reporting.format.reference import reference_label
from pvd_reporting.outputs.report import plural
from pvd_reporting.pipeline.template import DEFAULT_OUTPUT, run_template


@click.command()
@click.argument("from_paths", nargs=-1, type=click.Path(path_type=Path), metavar="[CHEMIN]...")
@click.option("--from", "carry", is_flag=True,
              help="Reconduit le dernier classeur de chaque territoire trouvé dans les CHEMINs "
                   "(fichiers ou dossiers, toutes périodes) pour le trimestre suivant, dans le format actuel.")
@click.option("-o", "--output", "output", type=click.Path(path_type=Path), default=None,
              help=f"Classeur à écrire (par défaut : {DEFAULT_OUTPUT}) ; avec --from, pour un seul classeur source.")
@period_option("Période à inscrire dans le classeur, ex. 2025-T4.")
@click.option("--territory", "territory_id", default=None,
              help="Identifiant PVD du territoire à pré-remplir depuis la liste de référence (ex. pvd-44-67-1).")
@reference_option(REFERENCE_HELP)
@click.option("--region", default=None,
              help="Utilise la configuration livrée de la région (ses financeurs, ses listes) ; avec "
                   "--output-dir, écrit un classeur pré-rempli par territoire de la région (liste de référence). "
                   "Avec --from : pour les territoires sans classeur précédent.")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Dossier où écrire les classeurs de --region ou de --from.")
@departement_option
@click.option("--force", is_flag=True, help="Remplace les fichiers existants.")
@config_option
@quiet_option
@handle_errors
def template_command(
    from_paths: tuple[Path, ...],
    carry: bool,
    output: Path | None,
    period: str | None,
    territory_id: str | None,
    reference_path: Path | None,
    region: str | None,
    output_dir: Path | None,
    departments: tuple[str, ...],
    force: bool,
    config_path: Path | None,
    quiet: bool,
) -> None:
    """Produit le classeur de suivi à remplir par un territoire.

    Sans option : un modèle vierge. --period inscrit la période ; --territory le pré-remplit
    (Territoire, Communes) depuis la liste de référence ; --region écrit un classeur pré-rempli
    par territoire de la région. --from reconduit le classeur du trimestre précédent de chaque
    territoire : toutes ses données, la période suivante, la date de mise à jour à remplir.

    \b
    Exemples :
      pvd-report template -o modele-pvd.xlsx --period 2025-T4
      pvd-report template --region Bretagne -o modele-bretagne.xlsx
      pvd-report template --territory pvd-44-67-1 -o la-broque.xlsx
      pvd-report template --region "Grand Est" --output-dir modeles/
      pvd-report template --region "Grand Est" --reference pvd-communes-2025.csv --output-dir modeles/
      pvd-report template --from recus/2025-T4/ --output-dir modeles-2026-T1/
      pvd-report template --from recus/2025-T4/langres.xlsx -o langres-2026-T1.xlsx
      pvd-report template --region "Grand Est" --departement 10 --output-dir aube/
      pvd-report template --from recus/ --region "Grand Est" --departement 10 --output-dir aube-2026-T1/
    """
    if carry != bool(from_paths):
        raise UsageError("--from demande au moins un classeur ou un dossier à reconduire."
                         if carry else "Des chemins de classeurs ne servent qu'avec --from.")
    done = run_template(output=output, period=period, territory_id=territory_id, region=region,
                        output_dir=output_dir, reference_path=reference_path, config_path=config_path,
                        force=force, progress=ClickProgress(quiet), from_paths=list(from_paths) or None,
                        departments=list(departments))
    echo_lines(done.notices, err=True)
    if from_paths:
        where = done.folder if done.folder is not None else done.paths[0]
        prefilled = (f", {plural(done.prefilled, 'pré-rempli')} depuis la liste de référence"
                     if done.prefilled else "")
        line = (f"Période {done.period} : {plural(done.carried, 'classeur reconduit', 'classeurs reconduits')}"
                f"{prefilled} — {where}")
    elif done.folder is not None:
        line = f"{len(done.paths)} classeurs écrits dans {done.folder}."
    else:
        name = f" pour {done.territory.name}" if done.territory else ""
        line = f"Modèle écrit{name} : {done.paths[0]}"
    echo(line)
    if done.reference is not None:
        echo(f"Liste de référence : {reference_label(done.reference)}")
