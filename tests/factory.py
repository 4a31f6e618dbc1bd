"""Territory workbooks for tests, built with openpyxl.

Deliberately not the project's own xlsxwriter template writer: the reader is tested against
files made by another tool. Every sheet name, header and list value comes from the schema.
The baseline is a filled, valid territory (Bouxwiller + Ingwiller, CC de Hanau-La Petite Pierre)
that validates with zero issues; tests override what they need.

    path = make_workbook(tmp_path / "t.xlsx", schema,
                         rows={"engagements": [{**baseline_rows(schema)["engagements"][0],
                                                "start_on": "32/13/2024"}]})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.packaging.custom import StringProperty

from pvd_reporting.format.matching import norm
from pvd_reporting.format.schema import MILESTONES, VERSION_LABEL, VERSION_PROPERTY, Schema

_DEFAULT = object()  # "use the schema's version" (None means: write no version at all)


def baseline_territory(schema: Schema) -> dict[str, object]:
    """Territoire values by field key: a valid, filled form."""
    lists = schema.lists
    return {
        "id_pvd": "pvd-44-67-3",
        "name": "Bouxwiller - Ingwiller",
        "department": "67",
        "region": schema.config.region_name,
        "epci": "CC de Hanau-La Petite Pierre",
        "siren": "200067783",
        "period": "2025-T4",
        "updated_on": date(2025, 12, 15),
        "ort_deadline_extended": None,
        "project_lead": "Claire Muller",
        "etp": 1.0,  # 100 %, stored the way Excel stores a percent-formatted cell
        "cofinancing": lists["cofinancement"][0],  # Banque des Territoires
        "chair": lists["presidence"][2],  # Coprésidence
        "opah_ru": lists["opah_ru"][3],  # En cours
    }


def _milestone_dates() -> dict[str, tuple[date | None, date | None]]:
    return {
        "J1": (date(2024, 10, 1), date(2024, 10, 1)),
        "J2": (date(2024, 11, 1), date(2024, 11, 4)),
        "J3": (date(2024, 12, 1), date(2024, 12, 10)),
        "J4": (date(2025, 6, 30), date(2025, 6, 27)),
        "J5": (date(2025, 11, 30), date(2025, 11, 20)),
        "J6": (date(2026, 1, 31), None),
        "J7": (date(2026, 3, 15), None),
        "J8": (date(2026, 3, 31), None),
    }


def _money(schema: Schema, amounts: Iterable[float]) -> dict[str, object]:
    keys = [f.key for f in schema.financer_fields]
    return dict(zip(keys, amounts, strict=False))


def baseline_rows(schema: Schema) -> dict[str, list[dict[str, Any]]]:
    """Rows of every table by table key, values by field key: valid and realistic."""
    L = schema.lists
    theme, status, instance = L["thematique"], L["statut_action"], L["instance"]
    yes, no = L["oui_non"][0], L["oui_non"][1]
    dates = _milestone_dates()
    jalons: list[dict[str, Any]] = [
        {"code": code, "label": label, "planned_on": dates[code][0], "done_on": dates[code][1]}
        for code, label in MILESTONES
    ]
    engagements: list[dict[str, Any]] = [
        {"action_id": "A1", "title": "Réhabilitation de la halle aux grains", "commune": "Bouxwiller",
         "theme": theme[4], "owner": "Commune de Bouxwiller", "status": status[3], "in_ort": yes,
         "start_on": date(2025, 3, 1), "end_on": date(2026, 9, 30), "cost": 1_200_000.0,
         **_money(schema, [300_000, 200_000, 150_000, 100_000, 0, 0, 0, 0, 450_000])},
        {"action_id": "A2", "title": "Étude de revitalisation commerciale", "commune": "Ingwiller",
         "theme": theme[1], "owner": "CC de Hanau-La Petite Pierre", "status": status[4], "in_ort": yes,
         "start_on": date(2025, 1, 15), "end_on": date(2025, 7, 10), "cost": 45_000.0,
         **_money(schema, [0, 0, 0, 22_500, 0, 0, 0, 0, 22_500])},
        {"action_id": "A3", "title": "Aménagement de la place du marché", "commune": "Ingwiller",
         "theme": theme[3], "owner": "Commune d'Ingwiller", "status": status[1], "in_ort": no,
         "start_on": date(2026, 4, 1), "end_on": None, "cost": 850_000.0,
         **_money(schema, [250_000, 150_000, 0, 0, 0, 0, 0, 0, 0])},
        {"action_id": "A4", "title": "OPAH-RU des centres anciens", "commune": "",
         "theme": theme[0], "owner": "CC de Hanau-La Petite Pierre", "status": status[2], "in_ort": yes,
         "start_on": date(2025, 9, 1), "end_on": date(2030, 8, 31), "cost": 2_500_000.0,
         **_money(schema, [0, 100_000, 200_000, 0, 1_500_000, 0, 0, 0, 700_000])},
    ]
    project = instance[0]
    comites: list[dict[str, Any]] = [
        {"date": d, "body": project, "chaired_by": "Maires de Bouxwiller et d'Ingwiller",
         "etat_present": yes, "partners": "Sous-préfecture, Région, CeA, Banque des Territoires",
         "decisions": decision}
        for d, decision in (
            (date(2024, 12, 10), "Installation du comité de projet"),
            (date(2025, 3, 18), "Lancement de l'état des lieux"),
            (date(2025, 6, 24), "Validation du diagnostic"),
            (date(2025, 9, 23), "Orientations de la stratégie"),
            (date(2025, 12, 9), "Validation de la stratégie ; calendrier de l'ORT"),
        )
    ]
    comites.insert(2, {"date": date(2025, 5, 6), "body": instance[1], "chaired_by": "Claire Muller",
                       "etat_present": no, "partners": "DDT 67", "decisions": "Préparation du diagnostic"})
    ingenierie: list[dict[str, Any]] = [
        {"need": "Étude de programmation de la halle", "theme": theme[4], "need_type": L["type_besoin"][3],
         "action_id": "A1", "partner": L["partenaire"][1], "amount": 40_000.0,
         "status": L["statut_besoin"][2], "wanted_by": date(2025, 2, 28)},
        {"need": "Animation de l'OPAH-RU", "theme": theme[0], "need_type": L["type_besoin"][5],
         "action_id": "A4", "partner": L["partenaire"][2], "amount": 60_000.0,
         "status": L["statut_besoin"][1], "wanted_by": date(2026, 1, 31)},
        {"need": "Formation des élus à l'urbanisme commercial", "theme": theme[1],
         "need_type": L["type_besoin"][6], "action_id": "", "partner": L["partenaire"][0],
         "amount": None, "status": L["statut_besoin"][0], "wanted_by": None},
    ]
    roles = L["role_contact"]
    annuaire: list[dict[str, Any]] = [
        {"name": "Claire Muller", "organisation": "CC de Hanau-La Petite Pierre",
         "position": "Cheffe de projet PVD, pôle aménagement", "email": "claire.muller@hanau-lapetitepierre.fr",
         "phone": "03 88 71 31 79", "role": roles[0]},
        {"name": "Jean Schmitt", "organisation": "Commune de Bouxwiller", "position": "Maire",
         "email": "mairie@bouxwiller.eu", "phone": "03 88 70 70 16", "role": roles[1]},
        {"name": "Anne Roth", "organisation": "Sous-préfecture de Saverne",
         "position": "Référente PVD", "email": "anne.roth@bas-rhin.gouv.fr",
         "phone": "+33 3 88 91 19 19", "role": roles[2]},
    ]
    communes: list[dict[str, Any]] = [
        {"insee": "67061", "name": "Bouxwiller", "population": 3963, "role": L["role_commune"][0]},
        {"insee": "67222", "name": "Ingwiller", "population": 4064, "role": L["role_commune"][0]},
    ]
    return {"communes": communes, "jalons": jalons, "engagements": engagements,
            "comites": comites, "ingenierie": ingenierie, "annuaire": annuaire}


def _title(name: str, rename: Mapping[str, str]) -> str:
    return rename.get(name, name)


def make_workbook(
    path: Path,
    schema: Schema,
    *,
    territory: Mapping[str, object] | None = None,
    rows: Mapping[str, list[dict[str, Any]]] | None = None,
    drop_sheets: tuple[str, ...] = (),
    rename: dict[str, str] | None = None,
    header_row: int = 1,
    version: str | None | object = _DEFAULT,
    version_places: tuple[str, ...] = ("readme", "property"),
    columns: Mapping[str, list[str]] | None = None,
) -> Path:
    """Write a territory workbook with openpyxl; returns `path`.

    territory: field key -> value, merged over the baseline (written as-is: "32/13/2024" stays text).
    rows: table key -> rows (field key -> value), replacing that table's baseline rows.
    drop_sheets: schema sheet names left out. rename: schema sheet name -> title written.
    header_row: 1-based row of each table's headers (and of the Territoire column titles).
    version: None writes no version; version_places: "readme" and/or "property".
    columns: table key -> field keys in the order written; a string that is not a field key of
      the table is written as an extra header with empty cells.
    """
    rename = rename or {}
    form_values = {**baseline_territory(schema), **(territory or {})}
    table_rows = {**baseline_rows(schema), **(rows or {})}
    stamp = schema.version if version is _DEFAULT else version

    wb = Workbook()
    wb.remove(wb.active)
    if schema.readme_name not in drop_sheets:
        ws = wb.create_sheet(_title(schema.readme_name, rename))
        ws["A1"] = "Petites villes de demain - suivi trimestriel"
        ws["A2"] = "Remplissez chaque onglet puis renvoyez le classeur à votre référent."
        if stamp is not None and "readme" in version_places:
            ws["A4"] = VERSION_LABEL
            ws["B4"] = stamp
    if schema.form.name not in drop_sheets:
        ws = wb.create_sheet(_title(schema.form.name, rename))
        ws.cell(header_row, 1, "Rubrique")
        ws.cell(header_row, 2, "Valeur")
        ws.cell(header_row, 3, "Aide")
        for i, f in enumerate(schema.form.fields, start=header_row + 1):
            ws.cell(i, 1, f.label)
            value = form_values.get(f.key)
            cell = ws.cell(i, 2, value)
            if f.key == "etp" and isinstance(value, float):
                cell.number_format = "0 %"
            elif isinstance(value, date):
                cell.number_format = "DD/MM/YYYY"
            ws.cell(i, 3, f.help)
    for table in schema.tables:
        if table.name in drop_sheets:
            continue
        ws = wb.create_sheet(_title(table.name, rename))
        keys = (columns or {}).get(table.key, list(table.keys))
        labels = {c.key: c.label for c in table.columns}
        for j, key in enumerate(keys, start=1):
            ws.cell(header_row, j, labels.get(key, key))
        for i, record in enumerate(table_rows.get(table.key, []), start=header_row + 1):
            for j, key in enumerate(keys, start=1):
                if key in labels and record.get(key) is not None:
                    cell = ws.cell(i, j, record[key])
                    if isinstance(record[key], date):
                        cell.number_format = "DD/MM/YYYY"
    if schema.lists_name not in drop_sheets:
        ws = wb.create_sheet(_title(schema.lists_name, rename))
        for j, (key, values) in enumerate(schema.lists.items(), start=1):
            ws.cell(1, j, key)
            for i, value in enumerate(values, start=2):
                ws.cell(i, j, value)
        ws.sheet_state = "hidden"
    if stamp is not None and "property" in version_places:
        wb.custom_doc_props.append(StringProperty(name=VERSION_PROPERTY, value=str(stamp)))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def cell_of(path: Path, schema: Schema, sheet: str, row_index: int, field_key: str) -> str:
    """A1 reference of a field in a workbook written by `make_workbook`.

    sheet: a table key ("engagements") or the form's key ("territoire"); row_index: 0-based
    data row (ignored for the form). Found by header, like the reader does.
    """
    wb = load_workbook(path, read_only=True)
    try:
        if sheet == schema.form.key:
            label = norm(schema.form.field(field_key).label)
            ws = _sheet(wb, schema.form.name)
            for r, values in enumerate(ws.iter_rows(max_col=1, values_only=True), start=1):
                if norm(values[0]) == label:
                    return f"B{r}"
            raise KeyError(field_key)
        table = schema.table(sheet)
        label = norm(table.column(field_key).label)
        ws = _sheet(wb, table.name)
        for r, values in enumerate(ws.iter_rows(max_row=10, values_only=True), start=1):
            for c, value in enumerate(values, start=1):
                if norm(value) == label:
                    from openpyxl.utils import get_column_letter

                    return f"{get_column_letter(c)}{r + 1 + row_index}"
        raise KeyError(field_key)
    finally:
        wb.close()


def _sheet(wb: Any, name: str) -> Any:
    for ws in wb.worksheets:
        if norm(ws.title) == norm(name):
            return ws
    raise KeyError(name)


def luhn_siren(first8: str) -> str:
    """A valid SIREN (Luhn key) from its first 8 digits, for territories of multi-quarter fixtures."""
    for last in "0123456789":
        digits = [int(c) for c in first8 + last]
        total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits))
        if total % 10 == 0:
            return first8 + last
    raise AssertionError(first8)


def rows_as_of(schema: Schema, updated_on: date,
               rows: Mapping[str, list[dict[str, Any]]] | None = None) -> dict[str, list[dict[str, Any]]]:
    """The baseline rows as a workbook filled on `updated_on` holds them: jalons realised later
    are blank, later comités are not there yet (the workbook is cumulative)."""
    table = {**baseline_rows(schema), **(rows or {})}
    table["jalons"] = [dict(r, done_on=r["done_on"] if r.get("done_on") and r["done_on"] <= updated_on else None)
                       for r in table["jalons"]]
    table["comites"] = [r for r in table["comites"] if r["date"] <= updated_on]
    return table
