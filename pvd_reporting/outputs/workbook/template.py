"""`pvd-report template`: the territory workbook, blank, pre-filled from the reference list, or
filled with a territory's data (examples, feedback workbooks)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pvd_reporting.errors import OutputError, UsageError
from pvd_reporting.format.config import REQUIRED_VALUES
from pvd_reporting.format.matching import french_sort_key, norm, slug
from pvd_reporting.format.reference import Reference, RefTerritory
from pvd_reporting.format.schema import (
    COMMUNES,
    FIRST_DATA_ROW,
    JALONS,
    Field,
    Kind,
    Schema,
    TableSheet,
    territory_file_name,
)
from pvd_reporting.format.vocabulary import milestone_code
from pvd_reporting.outputs.workbook.skeleton import write_fast
from pvd_reporting.outputs.workbook.writer import Content, check_output
from pvd_reporting.read.records import Record, WorkbookData

# Where each source record lands in the new workbook: (table key, source row) -> 0-based row.
Placement = dict[tuple[str, int | None], int]


def write_template(
    path: Path,
    schema: Schema,
    *,
    period: str | None = None,
    territory: RefTerritory | None = None,
    force: bool = False,
) -> Path:
    """A blank workbook, or one pre-filled with a reference territory's identity and communes."""
    return write_fast(Path(path), schema, template_content(schema, period=period, territory=territory),
                      force=force)


def template_content(schema: Schema, *, period: str | None = None,
                     territory: RefTerritory | None = None) -> Content:
    content = Content(period=period, tables={JALONS: _fixed_rows(schema.table(JALONS))}, stamp=True)
    if period:
        content.form["period"] = period
    if territory is None:
        return content
    content.form.update({
        "id_pvd": territory.id_pvd, "name": territory.name, "department": territory.department,
        "region": territory.region, "epci": territory.epci, "siren": territory.siren,
    })
    # Every commune of the reference list is a Ville PVD (the list names only the laureates).
    ville_pvd = schema.canonical("role_commune", REQUIRED_VALUES["role_commune"][0])
    content.tables[COMMUNES] = [
        {"insee": c.insee, "name": c.name, "population": c.population, "role": ville_pvd}
        for c in territory.communes
    ]
    if territory.signed_on:
        content.tables[JALONS][0]["done_on"] = territory.signed_on
    return content


def _fixed_rows(table: TableSheet) -> list[dict[str, Any]]:
    return [{"code": code, "label": label} for code, label in table.fixed_rows]


def write_filled(
    path: Path,
    schema: Schema,
    data: WorkbookData,
    *,
    force: bool = False,
) -> Path:
    """The template filled with `data`: parsed values where present, else the value as typed."""
    content, _ = filled_content(schema, data)
    return write_fast(Path(path), schema, content, force=force)


def filled_content(schema: Schema, data: WorkbookData) -> tuple[Content, Placement]:
    period = data.territory.values.get("period") or None
    content = Content(period=period if isinstance(period, str) else None)
    content.form = {f.key: _cell_value(data.territory, f) for f in schema.form.fields}
    placement: Placement = {}
    for table in schema.tables:
        records = data.tables.get(table.key, [])
        rows: list[dict[str, Any]] = []
        if table.fixed_rows:
            rows = _fixed_rows(table)
            by_code = {norm(code): i for i, (code, _) in enumerate(table.fixed_rows)}
            used: set[int] = set()
            extra: list[Record] = []
            for rec in records:
                # As `validate` finds a jalon: by its code, else by its label when the code is blank.
                code = milestone_code(rec.values.get("code") or rec.raw.get("code"),
                                      rec.values.get("label") or rec.raw.get("label"))
                i = by_code.get(norm(code))
                if i is None or i in used:
                    extra.append(rec)
                    continue
                used.add(i)
                rows[i].update({k: _value(rec, k) for k in table.keys if k not in ("code", "label")})
                placement[(table.key, rec.row)] = FIRST_DATA_ROW + i
            for rec in extra:
                placement[(table.key, rec.row)] = FIRST_DATA_ROW + len(rows)
                rows.append({k: _value(rec, k) for k in table.keys})
        else:
            for rec in records:
                placement[(table.key, rec.row)] = FIRST_DATA_ROW + len(rows)
                rows.append({k: _value(rec, k) for k in table.keys})
        content.tables[table.key] = rows
    return content, placement


def _cell_value(rec: Record, fld: Field) -> Any:
    """What the cell holds: a percent understood as 80 is written 0.8 (its cell shows 80 %)."""
    value = rec.values.get(fld.key)
    if fld.kind is Kind.PERCENT and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value / 100
    return rec.raw.get(fld.key) if value is None else value


def _value(rec: Record, key: str) -> Any:
    value = rec.values.get(key)
    return rec.raw.get(key) if value is None else value


def region_file_name(territory: RefTerritory) -> str:
    """`pvd-44-67-1-la-broque.xlsx`; without an id, the name and the EPCI's SIREN."""
    return file_name_of(territory.id_pvd, territory.name, territory.siren or territory.communes[0].insee,
                        towns=[c.name for c in territory.communes], epci=territory.epci)


# Beyond this, a name made of every Ville PVD gives way to the EPCI's.
MAX_NAME = 60


def name_in_file(name: str, towns: Sequence[str] = (), epci: str | None = None) -> str:
    """What a file names the territory after: its one Ville PVD, or all of them joined in French
    order (`fumay-givet-revin-vireux-molhain`), or its EPCI's name when they would be too long."""
    if len(towns) < 2:
        return slug(name)
    joined = "-".join(slug(town) for town in sorted(towns, key=french_sort_key))
    if len(joined) <= MAX_NAME or not epci:
        return joined
    return slug(epci)


def file_name_of(id_pvd: str | None, name: str, fallback: str | None, *, towns: Sequence[str] = (),
                 epci: str | None = None) -> str:
    """The territory's workbook name, whoever knows it (reference list or earlier workbook);
    a territory of several Villes PVD is named after all of them (name_in_file)."""
    label = name_in_file(name, towns, epci)
    if id_pvd:
        return territory_file_name(id_pvd, label)
    return f"{label}-{fallback}.xlsx" if fallback else f"{label}.xlsx"


def write_region_templates(
    output_dir: Path,
    schema: Schema,
    reference: Reference,
    region: str,
    *,
    period: str | None = None,
    force: bool = False,
    on_progress: Callable[[int], None] | None = None,
    departments: list[str] | None = None,
    checked_in: Path | None = None,
) -> list[Path]:
    """One pre-filled workbook per territory of the region (of those `departments` when given);
    nothing is written if one would clash. `checked_in`: the folder whose files must not be
    overwritten, when `output_dir` is a staging folder moved there afterwards."""
    territories = reference.in_region(region)
    if not territories:
        known = ", ".join(reference.regions()) or "aucune"
        raise UsageError(f"Région inconnue de la liste de référence : « {region} ». Régions connues : {known}.")
    if departments:
        # A territory across two départements is in both scopes.
        territories = [t for t in territories if t.departments & set(departments)]
        if not territories:
            raise UsageError(f"Aucun territoire de la région {region} dans le(s) département(s) "
                             f"{', '.join(departments)}.")
    output_dir = Path(output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise OutputError(f"{output_dir} n'est pas un dossier.")
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Impossible de créer le dossier {output_dir} : {exc.strerror or exc}.") from None
    targets = [(output_dir / region_file_name(t), t) for t in territories]
    for path, _ in targets:
        check_output(path if checked_in is None else checked_in / path.name, force)
    written: list[Path] = []
    for path, territory in targets:
        written.append(write_template(path, schema, period=period, territory=territory, force=True))
        if on_progress:
            on_progress(1)
    return written
