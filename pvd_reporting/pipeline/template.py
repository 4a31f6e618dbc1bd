"""`template`: a blank or pre-filled workbook, or one per territory of a région."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pvd_reporting.atomic import prepare_output_dir
from pvd_reporting.check.validate import validate_workbook
from pvd_reporting.consolidate.batch import identify, in_scope, period_of, reference_departments
from pvd_reporting.errors import OutputError, UsageError
from pvd_reporting.format.config import load_config
from pvd_reporting.format.french import fr_date
from pvd_reporting.format.issues import WorkbookReport
from pvd_reporting.format.matching import french_sort_key
from pvd_reporting.format.periods import parse_label
from pvd_reporting.format.reference import (
    SHIPPED_REFERENCE,
    Reference,
    RefTerritory,
    load_reference,
)
from pvd_reporting.format.schema import Schema, build_schema
from pvd_reporting.output_folder import OutputFolder
from pvd_reporting.outputs.history_db import DB_NAME
from pvd_reporting.outputs.history_read import recorded_workbooks
from pvd_reporting.outputs.report import plural
from pvd_reporting.outputs.workbook.carry import (
    Selection,
    Source,
    default_period,
    latest_workbooks,
    write_carried,
)
from pvd_reporting.outputs.workbook.readme import referent
from pvd_reporting.outputs.workbook.template import (
    region_file_name,
    write_region_templates,
    write_template,
)
from pvd_reporting.outputs.workbook.writer import check_output
from pvd_reporting.pipeline.options import config_value, departments_value, period_value
from pvd_reporting.pipeline.progress import NoProgress, Progress
from pvd_reporting.read.discover import discover_workbooks
from pvd_reporting.read.values import as_date, parse_period
from pvd_reporting.read.workbook import read_workbook

DEFAULT_OUTPUT = Path("modele-pvd.xlsx")
NO_REFERENT = ("Avertissement : la configuration ne nomme pas de référent ([relances] sender) : "
               "le Lisez-moi ne dit pas à qui renvoyer le classeur.")
HISTORY_SUFFIX = ".sqlite"


@dataclass
class Templates:
    paths: list[Path]
    territory: RefTerritory | None = None
    folder: Path | None = None  # with a région, or several carried forward
    # --from: how many were carried, how many pre-filled from the reference, and the notices
    # (sources set aside and why, a territory sent twice) in French.
    period: str | None = None
    carried: int = 0
    prefilled: int = 0
    notices: list[str] = field(default_factory=list)
    reference: Path | None = None  # the list the territories came from, for the console to name


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
    from_paths: list[Path] | None = None,
    departments: list[str] | None = None,
) -> Templates:
    """Write the workbook(s) asked for; `period` as typed (`2025-T4`, `T4 2025`); with
    `departments`, only the région's territories of those départements."""
    period = period_value(period)
    codes = departments_value(departments)
    if from_paths:
        if territory_id:
            raise UsageError("--from et --territory s'excluent : le territoire est celui de chaque classeur.")
        return run_carry_forward(from_paths, output=output, output_dir=output_dir, period=period,
                                 region=region, reference_path=reference_path, config_path=config_path,
                                 force=force, progress=progress, departments=codes)
    if codes and not region:
        raise UsageError("--departement ne sert qu'avec --region (ou avec consolidate).")
    if territory_id and region:
        raise UsageError("--territory et --region s'excluent : choisissez l'un ou l'autre.")
    if territory_id and reference_path is None:
        reference_path = SHIPPED_REFERENCE  # the ANCT list of 2021; --reference takes a newer one
    if region and output_dir is not None and reference_path is None:
        reference_path = SHIPPED_REFERENCE
    if region and reference_path is not None and output_dir is None:
        raise UsageError("--region demande un dossier de sortie : ajoutez --output-dir DOSSIER.")
    if region and output_dir is not None and output is not None:
        raise UsageError("Avec --region, les classeurs vont dans --output-dir : retirez -o/--output.")
    if output_dir is not None and not region:
        raise UsageError("--output-dir ne sert qu'avec --region ; pour un seul classeur, utilisez -o.")
    # The région's own financer columns and lists: a workbook made under one configuration is
    # read under the same one.
    schema = build_schema(load_config(config_path, region))
    reference = load_reference(reference_path) if reference_path is not None else None

    if region and reference is not None and output_dir is not None:
        # Written aside and moved in together: a killed run leaves no half of the région's workbooks.
        with OutputFolder(prepare_output_dir(output_dir), shown=output_dir) as out:
            bar = progress or NoProgress()
            bar.start(len(reference.in_region(region)), "Modèles")
            try:
                paths = write_region_templates(out.path, schema, reference, region, period=period,
                                               force=force, on_progress=bar.advance, departments=codes,
                                               checked_in=output_dir)
            finally:
                bar.close()
            out.commit(same_stems=False)
        return Templates([output_dir / p.relative_to(out.path) for p in paths], folder=output_dir,
                         reference=reference_path, notices=_sender_notice(schema) + out.notices)

    territory = None
    if territory_id and reference is not None:
        territory = reference.by_id(territory_id)
        if territory is None:
            raise UsageError(f"Territoire « {territory_id} » absent de la liste de référence {reference_path}.")
    target = output or DEFAULT_OUTPUT
    if target.suffix.lower() != ".xlsx":
        raise OutputError(f"Le modèle est un classeur .xlsx : « {target} » n'a pas cette extension.")
    write_template(target, schema, period=period, territory=territory, force=force)
    return Templates([target], territory=territory, reference=reference_path if territory else None,
                     notices=_sender_notice(schema))


def _sender_notice(schema: Schema) -> list[str]:
    """The Lisez-moi names the referent from `[relances] sender`: said when it cannot."""
    if referent(schema.config) is not None:
        return []
    return [NO_REFERENT]


def run_carry_forward(
    sources: list[Path],
    *,
    output: Path | None = None,
    output_dir: Path | None = None,
    period: str | None = None,
    region: str | None = None,
    reference_path: Path | None = None,
    config_path: Path | None = None,
    force: bool = False,
    progress: Progress | None = None,
    departments: list[str] | None = None,
) -> Templates:
    """`template --from`: each territory's latest workbook, carried into the current format for
    `period` (default: the quarter after the latest found); with `region`, the territories never
    received get the pre-filled workbook; with `departments`, only those départements'
    territories (a territory across two belongs to each). Every target is checked before
    anything is written."""
    if region and reference_path is None:
        reference_path = SHIPPED_REFERENCE
    if output is not None and output_dir is not None:
        raise UsageError("-o et --output-dir s'excluent : -o pour un seul classeur, --output-dir sinon.")
    histories = [p for p in sources if p.suffix.lower() == HISTORY_SUFFIX and p.is_file()]
    files, notices = discover_workbooks([p for p in sources if p not in histories])
    for history in histories:
        # The history file names every workbook of every quarter consolidated: each still on
        # disk is a source, so a territory that skipped the last quarter is carried too.
        try:
            recorded, gone = recorded_workbooks(history)
        except OSError as exc:
            raise UsageError(f"{exc} : indiquez le fichier {DB_NAME} écrit par consolidate.") from None
        known = {f.resolve() for f in files}
        files.extend(f for f in recorded if f.resolve() not in known)
        notices.extend(gone)
    if not files:
        raise UsageError("Aucun classeur à reconduire (.xlsx, .xlsm, .ods ou .xls) dans "
                         + ", ".join(map(str, sources)) + "." + "".join(f"\n  {n}" for n in notices))
    single = len(sources) == 1 and sources[0].is_file() and not region
    if output is not None and region:
        raise UsageError("-o FICHIER ne sert que pour un seul territoire : "
                         "utilisez --output-dir DOSSIER pour reconduire ceux d'une région.")
    if output is None and output_dir is None:
        hint = "-o FICHIER.xlsx" if single else "--output-dir DOSSIER"
        raise UsageError(f"Indiquez où écrire les classeurs reconduits : ajoutez {hint}.")
    if output is not None and output.suffix.lower() != ".xlsx":
        raise OutputError(f"Le classeur reconduit est un .xlsx : « {output} » n'a pas cette extension.")
    # Carried forward under the configuration the sources were made under: the région they name.
    schema = build_schema(config_value(config_path, region, files))
    reference = load_reference(reference_path) if reference_path is not None else None
    expected = _expected(reference, region)
    if departments:
        expected = [t for t in expected if reference_departments(t) & set(departments)]

    bar = progress or NoProgress()
    bar.start(len(files), "Lecture des classeurs")
    try:
        reports = []
        for file in files:
            reports.append(validate_workbook(file, schema, reference=reference))
            bar.advance(1)
    finally:
        bar.close()
    if departments:
        kept = [r for r in reports if r.data is None or in_scope(r, departments, reference)]
        others = len(reports) - len(kept)
        if others:
            notices.append(f"{plural(others, 'classeur')} d'autres départements que {', '.join(departments)}, "
                           f"non reconduit{'s' if others > 1 else ''}.")
        reports = kept
    selection = latest_workbooks(reports, schema, reference)
    notices.extend(_selection_notices(selection))
    if not selection.sources and not expected:
        raise UsageError(_nothing_carried(notices))
    target_period = period or default_period(selection)
    if target_period is None:
        raise UsageError("Aucune période de suivi lisible dans les classeurs : indiquez-la avec --period.")
    later = [s for s in selection.sources.values()
             if s.period and (parse_label(s.period) or (0, 0)) > (parse_label(target_period) or (0, 0))]
    for source in later:
        notices.append(f"{source.report.path} : période {source.period} postérieure à {target_period}, "
                       "non reconduit.")
        del selection.sources[source.key]
    if not selection.sources and not expected:
        raise UsageError(_nothing_carried(notices))

    if output is not None:
        # A folder holding one territory's workbooks (its latest is carried) is one territory too.
        if len(selection.sources) != 1:
            raise UsageError(f"-o FICHIER ne sert que pour un seul territoire ; {plural(len(selection.sources), 'territoire')} "
                             "à reconduire : utilisez --output-dir DOSSIER.")
        source = next(iter(selection.sources.values()))
        _refuse_source(output, files)
        check_output(output, force)
        write_carried(output, schema, source.data, target_period, force=force,
                      issues=source.report.issues)
        return Templates([output], period=target_period, carried=1, notices=notices)

    assert output_dir is not None
    with OutputFolder(prepare_output_dir(output_dir, sources), sources, shown=output_dir) as out:
        written = _write_carried(out, output_dir, files, selection, expected, target_period, schema, force,
                                 progress)
    notices.extend(out.notices)
    missing = [t for t in expected if t.key.lower() not in set(selection.sources)]
    notices.extend(blank_notices(missing, selection, histories,
                                 _sent_elsewhere(missing, sources, schema, reference, target_period)))
    return Templates(written, folder=output_dir, period=target_period, carried=len(selection.sources),
                     prefilled=len(missing), notices=notices, reference=reference_path if region else None)


def _write_carried(out: OutputFolder, output_dir: Path, files: list[Path], selection: Selection,
                   expected: list[RefTerritory], target_period: str, schema: Schema, force: bool,
                   progress: Progress | None) -> list[Path]:
    """The carried and pre-filled workbooks, checked against the output folder, written in the
    staging folder and moved in together; returns their paths in the output folder."""
    bar = progress or NoProgress()
    # Named as the user typed it, in messages as in the paths returned.
    folder = output_dir
    carried = [(folder / s.file_name, s) for s in sorted(selection.sources.values(), key=lambda s: s.file_name)]
    have = set(selection.sources)
    missing = [(folder / region_file_name(t), t) for t in expected if t.key.lower() not in have]
    targets = [p for p, _ in carried] + [p for p, _ in missing]
    clash = _first_clash(targets)
    if clash is not None:
        raise OutputError(f"Deux territoires donneraient le même fichier {clash} : vérifiez leurs identifiants PVD.")
    for path in targets:
        _refuse_source(path, files)
        check_output(path, force)
    bar.start(len(targets), "Classeurs du trimestre")
    try:
        for path, source in carried:
            write_carried(out.path / path.name, schema, source.data, target_period, force=True,
                          issues=source.report.issues)
            bar.advance(1)
        for path, territory in missing:
            write_template(out.path / path.name, schema, period=target_period, territory=territory, force=True)
            bar.advance(1)
    finally:
        bar.close()
    out.commit(same_stems=False)
    return targets


MAX_NAMED = 20


def _sent_elsewhere(blank: list[RefTerritory], sources: list[Path], schema: Schema,
                    reference: Reference | None, period: str) -> dict[str, tuple[str, Path]]:
    """Territory key -> (period, file) of a workbook found in a quarter folder beside the given
    ones (`recus/2025-T3` beside `recus/2025-T4`) that was not given: what a blank one loses."""
    if not blank or reference is None:
        return {}
    wanted = {t.key.lower() for t in blank}
    given = {p.resolve() for p in sources}
    folders: list[Path] = []
    for source in sources:
        parent = source.parent if source.is_dir() or source.is_file() else None
        if parent is None or not parent.is_dir():
            continue
        for sibling in sorted(parent.iterdir()):
            if sibling.is_dir() and sibling.resolve() not in given and sibling not in folders \
                    and _folder_period(sibling.name) is not None \
                    and (parse_label(_folder_period(sibling.name)) or (0, 0)) < (parse_label(period) or (0, 0)):
                folders.append(sibling)
    found: dict[str, tuple[str, Path]] = {}
    files, _ = discover_workbooks(folders) if folders else ([], [])
    for file in files:
        data, _issues = read_workbook(file, schema)
        if data is None:
            continue
        key, _ref = identify(WorkbookReport(str(file), data=data), reference)
        own = period_of(WorkbookReport(str(file), data=data)) or _folder_period(file.parent.name) or "?"
        if key in wanted and (key not in found or (parse_label(own) or (0, 0)) > (parse_label(found[key][0]) or (0, 0))):
            found[key] = (own, file)
    return found


def _folder_period(name: str) -> str | None:
    try:
        return parse_period(name)
    except ValueError:
        return None


def blank_notices(blank: list[RefTerritory], selection: Selection, histories: list[Path],
                  elsewhere: dict[str, tuple[str, Path]] | None = None) -> list[str]:
    """Name the territories given a blank pre-filled workbook: one of them may have sent a
    workbook in a quarter whose folder was not given, and its data would be lost. Those whose
    workbook was found in a quarter folder beside the given ones are named first, one a line."""
    if not blank:
        return []
    lines = []
    for t in blank:
        known = (elsewhere or {}).get(t.key.lower())
        if known is not None:
            lines.append(f"{t.name} ({t.id_pvd or t.key}) reçoit un classeur vierge pré-rempli alors qu'il a "
                         f"envoyé un classeur en {known[0]} ({known[1]}), dossier non donné : ajoutez ce "
                         "dossier après --from pour reprendre ses données.")
    given = sorted({s.period for s in selection.sources.values() if s.period}, key=lambda p: parse_label(p) or (0, 0))
    names = sorted((f"{t.name} ({t.id_pvd})" if t.id_pvd else t.name for t in blank), key=french_sort_key)
    shown = ", ".join(names[:MAX_NAMED]) + (f" … et {len(names) - MAX_NAMED} autres" if len(names) > MAX_NAMED else "")
    quarters = f" (trimestres donnés : {', '.join(given)})" if given else ""
    lines += [f"{plural(len(blank), 'territoire')} sans classeur dans les sources données{quarters} "
             f"{'reçoit' if len(blank) == 1 else 'reçoivent'} un classeur vierge, pré-rempli depuis la liste de "
             f"référence : {shown}."]
    if not histories:
        lines.append("S'ils ont envoyé un classeur à un trimestre antérieur non donné, ses données ne sont pas "
                     "reprises : donnez le dossier de chaque trimestre (ou le fichier historique-pvd.sqlite du "
                     "dossier de sortie de consolidate) après --from.")
    return lines


def _nothing_carried(notices: list[str]) -> str:
    return "Aucun classeur reconduit" + ("".join(f"\n  {n}" for n in notices) if notices else " : aucune source lisible.")


def _expected(reference: Reference | None, region: str | None) -> list[RefTerritory]:
    if reference is None or not region:
        return []
    territories = reference.in_region(region)
    if not territories:
        known = ", ".join(reference.regions()) or "aucune"
        raise UsageError(f"Région inconnue de la liste de référence : « {region} ». Régions connues : {known}.")
    return territories


def _selection_notices(selection: Selection) -> list[str]:
    lines = [f"{path} : écarté, {reason[0].lower() + reason[1:]}" for path, reason in selection.refused]
    for loser, winner in selection.superseded:
        if loser.period != winner.period:
            continue  # an earlier quarter of the same territory: history, nothing to say
        lines.append(f"{loser.report.path} : même territoire que {winner.report.path}, "
                     f"c'est le plus récent ({_when(winner)}) qui est reconduit.")
    return lines


def _when(source: Source) -> str:
    period = source.period or "période inconnue"
    updated = as_date(source.data.territory.values.get("updated_on"))
    return f"{period}, mis à jour le {fr_date(updated)}" if updated else period


def _refuse_source(path: Path, sources: list[Path]) -> None:
    target = path.expanduser().resolve()
    if any(target == s.expanduser().resolve() for s in sources):
        raise OutputError(f"{path} est un classeur source : le classeur reçu n'est jamais remplacé, "
                          "choisissez un autre nom.")


def _first_clash(paths: list[Path]) -> Path | None:
    seen: set[Path] = set()
    for path in paths:
        if path in seen:
            return path
        seen.add(path)
    return None
