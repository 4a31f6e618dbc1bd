"""`template`: a blank or pre-filled workbook, or one per territory of a région."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pvd_reporting.errors import OutputError, UsageError
from pvd_reporting.format.config import load_config
from pvd_reporting.format.reference import RefTerritory, load_reference
from pvd_reporting.format.schema import build_schema
from pvd_reporting.outputs.workbook.template import write_region_templates, write_template
from pvd_reporting.pipeline.options import departments_value, period_value
from pvd_reporting.pipeline.progress import NoProgress, Progress

DEFAULT_OUTPUT = Path("modele-pvd.xlsx")


@dataclass
class Templates:
    paths: list[Path]
    territory: RefTerritory | None = None
    folder: Path | None = None  # with a région


def run_template(
    *,
    output: Path | None = None,
    period: str | None = None,
    territory_id: str | None = None,
    region: str | None = None,
    output_dir: Path | None = None,
    reference_path: Path | None = None,
    config_path: Path | None = None,
    force: bool = False,
    progress: Progress | None = None,
    departments: list[str] | None = None,
) -> Templates:
    """Write the workbook(s) asked for; `period` as typed (`2025-T4`, `T4 2025`); with
    `departments`, only the région's territories of those départements."""
    period = period_value(period)
    codes = departments_value(departments)
    if codes and not region:
        raise UsageError("--departement ne sert qu'avec --region (ou avec consolidate).")
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
    schema = build_schema(load_config(config_path))
    reference = load_reference(reference_path) if reference_path is not None else None

    if region and reference is not None and output_dir is not None:
        bar = progress or NoProgress()
        bar.start(len(reference.in_region(region)), "Modèles")
        try:
            paths = write_region_templates(output_dir, schema, reference, region, period=period,
                                           force=force, on_progress=bar.advance, departments=codes)
        finally:
            bar.close()
        return Templates(paths, folder=output_dir)

    territory = None
    if territory_id and reference is not None:
        territory = reference.by_id(territory_id)
        if territory is None:
            raise UsageError(f"Territoire « {territory_id} » absent de la liste de référence {reference_path}.")
    target = output or DEFAULT_OUTPUT
    if target.suffix.lower() != ".xlsx":
        raise OutputError(f"Le modèle est un classeur .xlsx : « {target} » n'a pas cette extension.")
    write_template(target, schema, period=period, territory=territory, force=force)
    return Templates([target], territory=territory)
