"""`pvd-report template`: options in, one library call, a French line out."""

from __future__ import annotations

from pathlib import Path

import click

from pvd_reporting.cli.common import (
    config_option,
    get_config,
    handle_errors,
    progress_callback,
    quiet_option,
    reference_option,
)
from pvd_reporting.errors import OutputError, UsageError

DEFAULT_OUTPUT = "modele-pvd.xlsx"


@click.command()
@click.option("-o", "--output", "output", type=click.Path(path_type=Path), default=None,
              help=f"Classeur à écrire (par défaut : {DEFAULT_OUTPUT}).")
@click.option("--period", default=None, help="Période à inscrire dans le classeur, ex. 2025-T4.")
@click.option("--territory", "territory_id", default=None,
              help="Identifiant PVD du territoire à pré-remplir (ex. pvd-44-67-1) ; demande --reference.")
@reference_option
@click.option("--region", default=None,
              help="Écrit un classeur pré-rempli par territoire de la région ; demande --reference et --output-dir.")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Dossier où écrire les classeurs de --region.")
@click.option("--force", is_flag=True, help="Remplace les fichiers existants.")
@config_option
@quiet_option
@handle_errors
def template_command(
    output: Path | None,
    period: str | None,
    territory_id: str | None,
    reference_path: Path | None,
    region: str | None,
    output_dir: Path | None,
    force: bool,
    config_path: Path | None,
    quiet: bool,
) -> None:
    """Produit le classeur de suivi à remplir par un territoire.

    Sans option : un modèle vierge. --period inscrit la période ; --territory le pré-remplit
    (Territoire, Communes) depuis la liste de référence ; --region écrit un classeur pré-rempli
    par territoire de la région.

    \b
    Exemples :
      pvd-report template -o modele-pvd.xlsx --period 2025-T4
      pvd-report template --territory pvd-44-67-1 --reference pvd-communes-2021.csv -o la-broque.xlsx
      pvd-report template --region "Grand Est" --reference pvd-communes-2021.csv --output-dir modeles/
    """
    from pvd_reporting.format.reference import load_reference
    from pvd_reporting.format.schema import build_schema
    from pvd_reporting.outputs.workbook.template import write_region_templates, write_template
    from pvd_reporting.read.values import parse_period

    if territory_id and region:
        raise UsageError("--territory et --region s'excluent : choisissez l'un ou l'autre.")
    if (territory_id or region) and reference_path is None:
        option = "--territory" if territory_id else "--region"
        raise UsageError(f"{option} demande la liste de référence : ajoutez --reference FICHIER.csv.")
    if region and output_dir is None:
        raise UsageError("--region demande un dossier de sortie : ajoutez --output-dir DOSSIER.")
    if region and output is not None:
        raise UsageError("Avec --region, les classeurs vont dans --output-dir : retirez -o/--output.")
    if output_dir is not None and not region:
        raise UsageError("--output-dir ne sert qu'avec --region ; pour un seul classeur, utilisez -o.")
    stamped: str | None = None
    if period is not None:
        try:
            stamped = parse_period(period)
        except ValueError:
            raise UsageError(f"Période illisible : « {period} » (attendu 2025-T4, 2025-Q4 ou T4 2025).") from None
    schema = build_schema(get_config(config_path))
    reference = load_reference(reference_path) if reference_path is not None else None

    if region and reference is not None and output_dir is not None:
        count = len(reference.in_region(region))
        advance, close = progress_callback(count, "Modèles", quiet)
        try:
            paths = write_region_templates(output_dir, schema, reference, region, period=stamped,
                                           force=force, on_progress=advance)
        finally:
            close()
        click.echo(f"{len(paths)} classeurs écrits dans {output_dir}.")
        return

    territory = None
    if territory_id and reference is not None:
        territory = reference.by_id(territory_id)
        if territory is None:
            raise UsageError(f"Territoire « {territory_id} » absent de la liste de référence {reference_path}.")
    target = output or Path(DEFAULT_OUTPUT)
    if target.suffix.lower() != ".xlsx":
        raise OutputError(f"Le modèle est un classeur .xlsx : « {target} » n'a pas cette extension.")
    write_template(target, schema, period=stamped, territory=territory, force=force)
    name = f" pour {territory.name}" if territory else ""
    click.echo(f"Modèle écrit{name} : {target}")
