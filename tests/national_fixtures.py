"""Two régions consolidated from workbooks written with openpyxl (tests/factory.py), each under its
own shipped configuration: Grand Est (territories with an Identifiant PVD) and Bretagne (territories
of the reference list without one, identified by SIREN + communes), two quarters each.

The amounts carry cents and differ by territory, the ORT paths differ (signed in time, signed
late, at risk, overdue, not received at T4), so that every national figure has something to add.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from factory import baseline_rows, make_workbook

from pvd_reporting.format.config import region_config
from pvd_reporting.format.schema import Schema, build_schema
from pvd_reporting.pipeline.consolidate import ConsolidationRun, run_consolidate

PERIODS = (("2025-T3", date(2025, 9, 20)), ("2025-T4", date(2025, 12, 15)))
BASE_J1 = date(2024, 10, 1)


@dataclass(frozen=True)
class Territory:
    id_pvd: str | None
    name: str
    department: str
    siren: str
    epci: str
    communes: tuple[tuple[str, str, int], ...]
    j1: date
    j8: date | None
    factor: float  # the baseline's amounts times this, plus cents
    periods: tuple[str, ...] = ("2025-T3", "2025-T4")
    lead: str = "Claire Muller"


GRAND_EST = (
    Territory("pvd-44-67-3", "Bouxwiller - Ingwiller", "67", "200067783", "CC de Hanau-La Petite Pierre",
              (("67061", "Bouxwiller", 3963), ("67222", "Ingwiller", 4064)), BASE_J1, None, 1.0,
              lead="Claire Muller"),
    Territory("pvd-44-57-2", "Bitche", "57", "245701362", "CC du Pays de Bitche", (("57089", "Bitche", 5094),),
              date(2023, 3, 1), date(2025, 1, 15), 0.73, lead="Paul Kieffer"),
    Territory("pvd-44-10-9", "Romilly-sur-Seine", "10", "200000545", "CC des Portes de Romilly-sur-Seine",
              (("10323", "Romilly-sur-Seine", 14292),), date(2022, 6, 1), None, 1.31,
              periods=("2025-T3",), lead="Julien Roux"),
)
BRETAGNE = (
    Territory(None, "Auray", "56", "200043123", "CC Auray Quiberon Terre Atlantique",
              (("56007", "Auray", 13627),), date(2024, 3, 1), date(2025, 8, 1), 0.57, lead="Maël Le Goff"),
    Territory(None, "Audierne", "29", "242900629", "CC Cap Sizun - Pointe du Raz",
              (("29003", "Audierne", 3692),), date(2024, 8, 15), None, 0.91, lead="Nolwenn Tanguy"),
)


def _cents(value: float, k: int) -> float:
    return round(value + k * 0.01, 2) if value else 0.0


def rows_for(schema: Schema, t: Territory) -> dict[str, list[dict[str, Any]]]:
    rows = baseline_rows(schema)
    shift = t.j1 - BASE_J1
    jalons = []
    for row in rows["jalons"]:
        done = row["done_on"] + shift if row["done_on"] else None
        planned = row["planned_on"] + shift if row["planned_on"] else None
        jalons.append({**row, "planned_on": planned, "done_on": done})
    if t.j8 is not None:
        # J5 to J8 realised in order before the signature.
        for i, code in enumerate(("J5", "J6", "J7", "J8")):
            done = t.j8 - timedelta(days=30 * (3 - i))
            jalons[int(code[1]) - 1] = {**jalons[int(code[1]) - 1], "done_on": done, "planned_on": done}
    rows["jalons"] = jalons
    money = [f.key for f in schema.financer_fields]
    engagements = []
    for k, row in enumerate(rows["engagements"], start=1):
        new = {**row, "cost": _cents(row["cost"] * t.factor, 3 * k + 7)}
        for j, key in enumerate(money):
            new[key] = _cents((row.get(key) or 0) * t.factor, k + j) or None
        engagements.append(new)
    rows["engagements"] = engagements
    pvd_town = schema.lists["role_commune"][0]
    rows["communes"] = [{"insee": insee, "name": name, "population": pop, "role": pvd_town}
                        for insee, name, pop in t.communes]
    rows["annuaire"] = [{**rows["annuaire"][0], "name": t.lead,
                         "email": f"{t.name.split()[0].lower()}.pvd@exemple.fr"}, *rows["annuaire"][1:]]
    return rows


def write_region(folder: Path, schema: Schema, territories: tuple[Territory, ...]) -> Path:
    for t in territories:
        for period, updated in PERIODS:
            if period not in t.periods:
                continue
            target = folder / period
            target.mkdir(parents=True, exist_ok=True)
            make_workbook(target / f"{(t.id_pvd or t.siren)}.xlsx", schema, rows=rows_for(schema, t), territory={
                "id_pvd": t.id_pvd, "name": t.name, "department": t.department, "siren": t.siren,
                "epci": t.epci, "period": period, "updated_on": updated, "project_lead": t.lead})
    return folder


@dataclass
class Regions:
    root: Path  # holds grand-est/ and bretagne/, each with its historique-pvd.sqlite
    grand_est: ConsolidationRun
    bretagne: ConsolidationRun
    schemas: dict[str, Schema]


def build_regions(base: Path, reference_csv: Path | None = None) -> Regions:
    """Workbooks of both régions, each consolidated with no --region (the workbooks name it)."""
    schemas = {"Grand Est": build_schema(region_config("Grand Est")),
               "Bretagne": build_schema(region_config("Bretagne"))}
    inputs = base / "classeurs"
    ge = write_region(inputs / "grand-est", schemas["Grand Est"], GRAND_EST)
    bzh = write_region(inputs / "bretagne", schemas["Bretagne"], BRETAGNE)
    root = base / "regions"
    runs = [run_consolidate([folder], output_dir=root / name, images=False, use_cache=False,
                            reference_path=reference_csv)
            for folder, name in ((ge, "grand-est"), (bzh, "bretagne"))]
    return Regions(root, runs[0], runs[1], schemas)
