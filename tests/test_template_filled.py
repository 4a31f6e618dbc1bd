"""write_filled: a territory's data in a fresh template, and back through the reader unchanged."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from pvd_reporting.format.schema import FIRST_DATA_ROW, Schema
from pvd_reporting.outputs.workbook.template import write_filled
from pvd_reporting.read.records import Record, WorkbookData
from pvd_reporting.read.workbook import read_workbook

WORKBOOKS = Path(__file__).resolve().parent.parent / "workbooks"


def sample(schema: Schema) -> WorkbookData:
    """A small valid territory, values typed as the reader gives them back."""
    form = {
        "id_pvd": "pvd-44-08-9", "name": "Rethel", "department": "08", "region": "Grand Est",
        "epci": "CC du Pays Rethélois", "siren": "200040491", "period": "2025-T4",
        "updated_on": date(2025, 12, 10), "project_lead": "Claire Muller", "etp": 80.0,
        "cofinancing": "Banque des Territoires", "chair": "Maire", "opah_ru": "En cours",
    }
    jalons: list[dict[str, Any]] = [{"code": code, "label": label} for code, label in schema.table("jalons").fixed_rows]
    jalons[0].update(planned_on=date(2021, 5, 1), done_on=date(2021, 5, 7))
    tables: dict[str, list[dict[str, Any]]] = {
        "communes": [{"insee": "08362", "name": "Rethel", "population": 7592, "role": "Ville PVD"}],
        "jalons": jalons,
        "engagements": [
            {"action_id": "A1", "title": "=Réhabilitation de la halle", "commune": "Rethel",
             "theme": "Patrimoine", "owner": "Commune de Rethel", "status": "En cours", "in_ort": True,
             "start_on": date(2024, 3, 1), "end_on": date(2026, 6, 30), "cost": 1_200_000.0,
             "fin_1": 360_000.0, "fin_9": 480_000.5},
        ],
        "comites": [{"date": date(2025, 11, 18), "body": "Comité de projet", "chaired_by": "Le maire",
                     "etat_present": False, "partners": "DDT", "decisions": "Validation du plan."}],
        "ingenierie": [{"need": "Étude de marché", "theme": "Commerces, services et activités",
                        "need_type": "Étude de marché", "action_id": "A1", "partner": "ANCT",
                        "amount": 30_000.0, "status": "Sollicité", "wanted_by": date(2026, 3, 31)}],
        "annuaire": [{"name": "MULLER Claire", "organisation": "Commune de Rethel",
                      "position": "Cheffe de projet PVD", "email": "claire.muller@rethel.example.fr",
                      "phone": "03 24 39 44 00", "role": "Chef de projet PVD"}],
    }
    return WorkbookData(
        territory=Record(sheet=schema.form.name, row=None, values=form),
        tables={k: [Record(sheet=schema.table(k).name, row=i + 2, values=v) for i, v in enumerate(rows)]
                for k, rows in tables.items()},
    )


def data_values(data: WorkbookData) -> dict[str, object]:
    out: dict[str, object] = {"territoire": {k: v for k, v in data.territory.values.items() if v is not None}}
    for key, records in data.tables.items():
        out[key] = [{k: v for k, v in r.values.items() if v is not None} for r in records]
    return out


def test_valid_data_survives_write_and_read(tmp_path: Path, schema: Schema) -> None:
    original = sample(schema)
    path = write_filled(tmp_path / "rethel.xlsx", schema, original)
    read, issues = read_workbook(path, schema)
    assert read is not None and not issues
    assert data_values(read) == data_values(original)
    assert read.version == schema.version


def test_formula_like_text_stays_text(tmp_path: Path, schema: Schema) -> None:
    path = write_filled(tmp_path / "r.xlsx", schema, sample(schema))
    ws = openpyxl.load_workbook(path)["Engagements"]
    first = FIRST_DATA_ROW + 1
    assert ws[f"B{first}"].value == "=Réhabilitation de la halle" and ws[f"B{first}"].data_type == "s"
    assert ws[f"H{first}"].is_date and ws[f"J{first}"].value == 1_200_000


def test_unparsed_values_are_written_as_typed(tmp_path: Path, schema: Schema) -> None:
    data = sample(schema)
    rec = data.tables["engagements"][0]
    rec.values["start_on"] = None
    rec.raw["start_on"] = "32/13/2024"
    wb = openpyxl.load_workbook(write_filled(tmp_path / "r.xlsx", schema, data))
    assert wb["Engagements"][f"H{FIRST_DATA_ROW + 1}"].value == "32/13/2024"
    assert wb.sheetnames[-1] == schema.lists_name  # no Anomalies without issues


@pytest.mark.parametrize("name", sorted(p.relative_to(WORKBOOKS).as_posix() for p in WORKBOOKS.glob("*/*.xlsx")))
def test_example_workbooks_round_trip(tmp_path: Path, schema: Schema, name: str) -> None:
    first, issues = read_workbook(WORKBOOKS / name, schema)
    assert first is not None
    again, again_issues = read_workbook(write_filled(tmp_path / Path(name).name, schema, first), schema)
    assert again is not None
    assert data_values(again) == data_values(first)
    assert [(i.code, i.cell) for i in again_issues] == [(i.code, i.cell) for i in issues]
