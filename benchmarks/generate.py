"""Realistic territory workbooks for the benchmark, written with the project's own writer.

Each workbook: 2-4 communes, 8 jalons, about 30 actions, 12 comités, 8 needs and 8 contacts.
Deterministic for a given index, so two runs measure the same files.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from pvd_reporting.format.matching import slug
from pvd_reporting.format.reference import Reference, RefTerritory
from pvd_reporting.format.schema import MILESTONES, Schema
from pvd_reporting.read.records import Record, WorkbookData

ACTIONS = (
    "Réhabilitation de la halle", "Requalification de la place du marché", "Aide au ravalement des façades",
    "Création d'une maison de santé", "Piste cyclable vers la gare", "Rénovation de l'école",
    "Reconversion de la friche", "Étude de revitalisation commerciale", "Tiers-lieu numérique",
    "Aménagement des berges", "Restauration de l'église", "Acquisition d'îlot dégradé",
)
FIRST = ("Claire", "Thomas", "Sophie", "Julien", "Nadia", "Pierre", "Camille", "Karim", "Élodie", "Marc")
LAST = ("Martin", "Bernard", "Klein", "Muller", "Schmitt", "Weber", "Meyer", "Roth", "Lefèvre", "Haas")


def _rec(sheet: str, row: int | None, values: dict[str, object]) -> Record:
    return Record(sheet=sheet, row=row, values=dict(values), raw=dict(values))


def _synthetic_territory(i: int) -> RefTerritory:
    from pvd_reporting.format.reference import RefCommune

    dep = ("08", "10", "51", "52", "54", "55", "57", "67", "68", "88")[i % 10]
    return RefTerritory(
        id_pvd=f"pvd-44-{dep}-{100 + i}", communes=[RefCommune(f"{dep}{i % 900 + 100:03d}", f"Commune {i}", 3000)],
        region="Grand Est", department=dep, siren="200067023", epci=f"CC du territoire {i}",
    )


def territory_data(schema: Schema, i: int, ref: RefTerritory | None, period: str = "2025-T4") -> WorkbookData:
    rng = random.Random(i)
    ref = ref or _synthetic_territory(i)
    id_pvd = ref.id_pvd or f"pvd-00-{ref.department}-{i}"
    j1 = date(2021, 3, 1) + timedelta(days=rng.randrange(0, 1200))
    updated = date(2025, 12, 10)
    lead = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    # The workbook is in this configuration's format: it names this configuration's région (a
    # territory of the national list elsewhere would be read under its own région's columns).
    territory = _rec(schema.form.name, None, {
        "id_pvd": id_pvd, "name": ref.name, "department": ref.department, "region": schema.config.region_name,
        "epci": ref.epci or "CC", "siren": ref.siren or "200067023", "period": period, "updated_on": updated,
        "project_lead": lead, "etp": 100.0, "cofinancing": "Banque des Territoires", "chair": "Maire",
        "opah_ru": "En cours",
    })
    tables: dict[str, list[Record]] = {}
    tables["communes"] = [
        _rec("Communes", n + 2, {"insee": c.insee, "name": c.name, "population": c.population or 2500,
                                 "role": "Ville PVD"})
        for n, c in enumerate(ref.communes[:4])
    ]
    done = rng.randrange(1, 9)
    jalons = []
    for n, (code, label) in enumerate(MILESTONES):
        when = j1 + timedelta(days=75 * n)
        realised = when if n < done and when <= updated else None
        jalons.append(_rec("Jalons", n + 2, {"code": code, "label": label, "planned_on": when, "done_on": realised}))
    tables["jalons"] = jalons
    themes, statuses = schema.lists["thematique"], schema.lists["statut_action"]
    financers = [f.key for f in schema.financer_fields]
    actions = []
    for n in range(30):
        cost = float(rng.randrange(20_000, 2_000_000))
        shares = [rng.random() for _ in financers]
        total = sum(shares) or 1.0
        values: dict[str, object] = {
            "action_id": f"A{n + 1}", "title": rng.choice(ACTIONS), "commune": ref.name,
            "theme": rng.choice(themes), "owner": "Commune", "status": rng.choice(statuses),
            "in_ort": rng.random() < 0.6, "start_on": date(2023, 1, 1) + timedelta(days=rng.randrange(0, 700)),
            "cost": cost,
        }
        values["end_on"] = values["start_on"] + timedelta(days=rng.randrange(30, 900))  # type: ignore[operator]  # start_on is the date set above
        for key, share in zip(financers, shares, strict=True):
            values[key] = round(cost * 0.9 * share / total, 2)
        actions.append(_rec("Engagements", n + 2, values))
    tables["engagements"] = actions
    comites = []
    for n in range(12):
        quarter_start = date(2023, 1, 1) + timedelta(days=91 * n + 20)
        comites.append(_rec("Comités", n + 2, {
            "date": min(quarter_start, updated), "body": "Comité de projet" if n % 3 else "Comité technique",
            "chaired_by": "Maire", "etat_present": True, "partners": "Banque des Territoires, Région",
            "decisions": "Validation du programme d'actions",
        }))
    tables["comites"] = comites
    tables["ingenierie"] = [
        _rec("Ingénierie", n + 2, {
            "need": f"Étude {n + 1}", "theme": rng.choice(themes), "need_type": rng.choice(schema.lists["type_besoin"]),
            "action_id": f"A{n + 1}", "partner": rng.choice(schema.lists["partenaire"]),
            "amount": float(rng.randrange(5_000, 80_000)), "status": rng.choice(schema.lists["statut_besoin"]),
            "wanted_by": date(2026, 6, 30),
        })
        for n in range(8)
    ]
    roles = schema.lists["role_contact"]
    contacts = []
    for n in range(8):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        contacts.append(_rec("Annuaire", n + 2, {
            "name": f"{last} {first}", "organisation": ref.name, "position": "Service urbanisme",
            "email": f"{slug(first)}.{slug(last)}@example.fr",
            "phone": f"03 88 {rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}",
            "role": roles[0] if n == 0 else rng.choice(roles),
        }))
    tables["annuaire"] = contacts
    return WorkbookData(territory=territory, tables=tables, version=schema.version)


def generate(out_dir: Path, n: int, schema: Schema, reference: Reference | None) -> list[Path]:
    from pvd_reporting.outputs.workbook.template import write_filled

    out_dir.mkdir(parents=True, exist_ok=True)
    refs = reference.territories if reference else []
    paths = []
    for i in range(n):
        ref = refs[i % len(refs)] if refs else None
        data = territory_data(schema, i, ref)
        if refs and i >= len(refs):
            # Beyond the national list, make new territories rather than duplicate submissions.
            data.territory.values["id_pvd"] = f"pvd-99-{ref.department if ref else '00'}-{i}"
        path = out_dir / f"territoire-{i:04d}.xlsx"
        if not path.exists():
            write_filled(path, schema, data)
        paths.append(path)
    return paths


def quarter_labels(count: int, last: str = "2025-T4") -> list[str]:
    """The `count` quarters ending with `last`, oldest first: 2025-T1 … 2025-T4."""
    from pvd_reporting.format.periods import parse_label, previous_quarters, quarter_label

    end = parse_label(last)
    assert end is not None
    return [quarter_label(q) for q in previous_quarters(end, count)]


# The last quarter, as a referent meets it: one territory in ten has not sent (« Non reçu »: a
# draft with its carried-forward workbook) and one in ten sent a date typed wrong (« À corriger »:
# a draft with its annotated workbook), so that the measure runs the reminders too.
NOT_SENT, TO_CORRECT = 9, 4  # i % 10


def generate_history(out_dir: Path, n: int, quarters: list[str], schema: Schema,
                     reference: Reference | None) -> dict[str, list[Path]]:
    """`n` workbooks a quarter, one folder a quarter (`out_dir/2025-T3/…`), the same territories
    each quarter, each filled in its own quarter; in the last quarter a tenth do not send and a
    tenth send an error (`NOT_SENT`, `TO_CORRECT`)."""
    from pvd_reporting.format.periods import last_day, parse_label
    from pvd_reporting.outputs.workbook.template import write_filled

    refs = reference.territories if reference else []
    out: dict[str, list[Path]] = {}
    for period in quarters:
        quarter = parse_label(period)
        assert quarter is not None
        updated = last_day(quarter) - timedelta(days=20)
        folder = out_dir / period
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        last = period == quarters[-1]
        for i in range(n):
            if last and i % 10 == NOT_SENT:
                continue
            path = folder / f"territoire-{i:04d}.xlsx"
            if not path.exists():
                ref = refs[i % len(refs)] if refs else None
                data = territory_data(schema, i, ref, period=period)
                data.territory.values["updated_on"] = updated
                if refs and i >= len(refs):
                    data.territory.values["id_pvd"] = f"pvd-99-{ref.department if ref else '00'}-{i}"
                if last and i % 10 == TO_CORRECT:
                    action = data.tables["engagements"][0]
                    action.values["start_on"], action.raw["start_on"] = None, "32/13/2024"
                write_filled(path, schema, data)
            paths.append(path)
        out[period] = paths
    return out
