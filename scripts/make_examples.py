"""Write the example workbooks of workbooks/ for real Grand Est territories: three quarters,
one folder a quarter (workbooks/2025-T2/, 2025-T3/, 2025-T4/), so the demo shows history.

Deterministic: the same run gives the same files. Most workbooks are valid (some with warnings);
a few carry the typical mistakes of the format. Between quarters things move as they do: jalons
realised, an ORT signed (Vittel in 2025-T4), actions engaged, added and dropped (La Broque drops
one in 2025-T4), a jalon date corrected (Romilly-sur-Seine), a new chef de projet (Creutzwald),
and a territory that stops sending (Molsheim, not received in 2025-T4).
tests/data/examples-expected.json says, per file, its period, the verdict, the ORT status at the
period's last day, the issue codes `validate` finds and those `consolidate` adds across quarters.
It lives beside the tests, not in workbooks/: the demo folder holds workbooks only, so that
`make demo` reads no file that is not one.

    python scripts/make_examples.py [--output-dir workbooks] [--expected tests/data/examples-expected.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from pvd_reporting.format.matching import slug  # noqa: E402
from pvd_reporting.format.reference import SHIPPED_REFERENCE, RefTerritory, load_reference  # noqa: E402
from pvd_reporting.format.schema import Schema, build_schema, territory_file_name  # noqa: E402
from pvd_reporting.outputs.workbook.template import write_filled  # noqa: E402
from pvd_reporting.read.records import Record, WorkbookData  # noqa: E402

REFERENCE = SHIPPED_REFERENCE  # the ANCT list of 2021, shipped with the package
PERIODS = ("2025-T2", "2025-T3", "2025-T4")
PERIOD = PERIODS[-1]
# The day each quarter's workbooks were filled in.
UPDATED = {"2025-T2": date(2025, 6, 12), "2025-T3": date(2025, 9, 12), "2025-T4": date(2025, 12, 12)}
PERIOD_END = {"2025-T2": date(2025, 6, 30), "2025-T3": date(2025, 9, 30), "2025-T4": date(2025, 12, 31)}

# (title, theme, cost, shares of the nine financers in config order: État, Région, Département/CeA,
# Banque des Territoires, ANAH, ADEME, Fonds européens, Autres, Autofinancement)
ACTIONS: list[tuple[str, str, int, tuple[float, ...]]] = [
    ("Réhabilitation de la halle du marché", "Patrimoine", 1_200_000, (.30, .15, .10, 0, 0, 0, .05, 0, .40)),
    ("Requalification de la place de l'Hôtel de ville", "Aménagement des espaces publics", 850_000,
     (.35, .20, .10, 0, 0, 0, 0, 0, .35)),
    ("OPAH-RU du centre ancien", "Rénovation de l'habitat", 640_000, (.10, .05, .05, 0, .50, 0, 0, 0, .30)),
    ("Manager de commerce de centre-ville", "Commerces, services et activités", 120_000,
     (0, .20, 0, .40, 0, 0, 0, 0, .40)),
    ("Création d'une maison France Services", "Équipements et services publics", 420_000,
     (.40, .10, .10, 0, 0, 0, 0, .05, .35)),
    ("Aménagement d'une voie verte vers la gare", "Mobilité", 560_000, (.30, .25, .15, 0, 0, .10, 0, 0, .20)),
    ("Rénovation énergétique de l'école élémentaire", "Transition écologique et environnement", 980_000,
     (.35, .15, .05, 0, 0, .10, .10, 0, .25)),
    ("Reconversion de la friche industrielle", "Commerces, services et activités", 1_650_000,
     (.25, .20, .10, .10, 0, .05, 0, .05, .25)),
    ("Tiers-lieu numérique dans l'ancienne poste", "Numérique", 310_000, (.30, .20, 0, .10, 0, 0, 0, 0, .40)),
    ("Mise en valeur des remparts et signalétique touristique", "Tourisme", 260_000,
     (.20, .20, .20, 0, 0, 0, 0, 0, .40)),
]
STATUSES = ["Terminée", "En cours", "Engagée", "En cours", "En préparation", "Engagée", "Envisagée", "Terminée"]
NEEDS = [
    ("Étude de programmation de la halle", "Patrimoine", "Étude de programmation", 0, "Banque des Territoires",
     45_000, "Accordé"),
    ("Étude pré-opérationnelle OPAH-RU", "Rénovation de l'habitat", "Étude pré-opérationnelle", 2, "ANAH",
     60_000, "Réalisé"),
    ("Stratégie commerciale du centre-ville", "Commerces, services et activités", "Étude de marché", 3,
     "Banque des Territoires", 30_000, "Sollicité"),
    ("Accompagnement à la concertation", "Participation citoyenne", "Animation", None, "ANCT", 15_000,
     "Identifié"),
    ("Formation des élus à la sobriété foncière", "Transition écologique et environnement", "Formation", None,
     "CEREMA", 5_000, "Identifié"),
]
FIRST = ["Claire", "Julien", "Sophie", "Mathieu", "Élodie", "Nicolas", "Camille", "Thomas", "Aurélie",
         "Pierre", "Laure", "Antoine", "Émilie", "François", "Céline", "Olivier"]
LAST = ["Muller", "Schmitt", "Meyer", "Weber", "Klein", "Fischer", "Hoffmann", "Wagner", "Lambert",
        "Girard", "Roux", "Bernard", "Mathis", "Koenig", "Henry", "Marchal"]


@dataclass
class Spec:
    """One example territory and what its workbook shows."""

    id_pvd: str
    j1: date | None  # convention d'adhésion
    ort_status: str
    j_done: int = 8  # jalons realised (J1..Jn)
    avenant: date | None = None
    cofinancing: str = "Banque des Territoires"
    etp: float = 100.0
    opah: str = "En cours"
    chair: str = "Maire"
    amounts_as_text: bool = False
    mistakes: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    updated_on: date = date(2025, 12, 12)
    j8_on: date | None = None  # when the ORT is signed, if not on the usual path
    periods: tuple[str, ...] = PERIODS  # the quarters it sent a workbook for
    moves: tuple[str, ...] = ()  # what changes in 2025-T4: "drop-action", "fix-j4", "new-lead"
    history_codes: tuple[str, ...] = ()  # what consolidate adds in 2025-T4 across quarters

    @property
    def valid(self) -> bool:
        return not any(c in ERROR_CODES for c in self.codes)


ERROR_CODES = {"invalid-date", "invalid-email", "financing-exceeds-cost", "missing-cost", "required-value"}

SPECS = [
    Spec("pvd-44-67-1", date(2021, 3, 26), "ORT signée", chair="Président de l'EPCI",
         moves=("drop-action",), history_codes=("action-removed",)),
    Spec("pvd-44-10-9", date(2021, 5, 7), "ORT signée", amounts_as_text=True, opah="Étude pré-opérationnelle",
         moves=("fix-j4",), history_codes=("milestone-date-changed",)),
    Spec("pvd-44-54-13", date(2021, 6, 18), "Dans les temps", j_done=6, avenant=date(2026, 9, 30),
         cofinancing="ANAH", etp=60.0),
    Spec("pvd-44-57-5", date(2021, 4, 9), "À risque", j_done=7, avenant=date(2026, 3, 15),
         mistakes=("skip-quarter",), codes=("comite-cadence",), moves=("new-lead",)),
    Spec("pvd-44-08-4", date(2021, 7, 2), "Échéance dépassée", j_done=5, chair="Coprésidence",
         mistakes=("etat-absent",), codes=("etat-absent",)),
    Spec("pvd-44-68-4", date(2021, 5, 21), "ORT signée", opah="Terminée"),
    Spec("pvd-44-88-5", date(2021, 9, 10), "ORT signée", cofinancing="Banque des Territoires et ANAH", etp=90.0,
         avenant=date(2026, 3, 31), j8_on=date(2025, 11, 20)),
    Spec("pvd-44-67-8", date(2021, 6, 4), "Dans les temps", j_done=6, avenant=date(2026, 6, 30),
         chair="Président de l'EPCI", mistakes=("total-row", "over-financed"),
         codes=("financing-exceeds-cost", "total-row")),
    Spec("pvd-44-52-15", date(2021, 4, 23), "ORT signée", mistakes=("bad-date", "bad-email"),
         codes=("invalid-date", "invalid-email")),
    Spec("pvd-44-51-7", date(2021, 10, 15), "Échéance dépassée", j_done=6, cofinancing="Aucun", etp=50.0,
         opah="Envisagée", mistakes=("missing-cost",), codes=("missing-cost",)),
    Spec("pvd-44-55-7", None, "Non renseigné", j_done=0, cofinancing="ANAH", etp=50.0, opah="Aucune",
         codes=("required-value",)),
    Spec("pvd-44-67-6", date(2021, 6, 25), "Dans les temps", j_done=6, avenant=date(2026, 12, 31),
         periods=PERIODS[:2]),
]


def at(spec: Spec, period: str) -> Spec:
    """The territory as its workbook of `period` shows it: what moves in 2025-T4 has not moved yet."""
    if period == PERIOD:
        return spec
    moves = spec.moves
    codes = tuple(c for c in spec.codes if not (c == "etat-absent" and period < "2025-T3"))
    return replace(spec, updated_on=UPDATED[period], moves=tuple(f"before-{m}" for m in moves), codes=codes,
                   history_codes=())


def ort_status_at(spec: Spec, day: date) -> str:
    """The ORT status the workbook should show at `day` (the README's rule, restated)."""
    rows = jalons(spec)
    j1, j8 = rows[0].get("done_on"), rows[7].get("done_on")
    if j8 is not None and j8 <= day:
        return "ORT signée"
    if j1 is None:
        return "Non renseigné"
    deadline = spec.avenant or add_months(j1, 18)
    days = (deadline - day).days
    return "Échéance dépassée" if days < 0 else "À risque" if days <= 90 else "Dans les temps"


def add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    return date(day.year + y, m + 1, min(day.day, 28))


def euros(amount: float) -> str:
    return f"{int(round(amount)):,}".replace(",", " ") + " €"


def person(seed: int) -> tuple[str, str]:
    return FIRST[seed % len(FIRST)], LAST[(seed * 7 + 3) % len(LAST)]


def mail(first: str, last: str, where: str) -> str:
    return f"{slug(first)}.{slug(last)}@{slug(where)}.example.fr"


def phone(seed: int, department: str) -> str:
    area = "03"
    n = (seed * 7919 + int(department) * 104729) % 100_000_000
    digits = f"{area}{n:08d}"
    return " ".join(digits[i:i + 2] for i in range(0, 10, 2))


def jalons(spec: Spec) -> list[dict[str, Any]]:
    """Planned and realised dates, in order, all before the update date."""
    if spec.j1 is None:
        plans = [date(2026, 1, 15) + timedelta(days=60 * i) for i in range(8)]
        return [{"planned_on": p} for p in plans]
    steps = [0, 3, 5, 9, 13, 16, 19, 21]  # months after J1
    rows = []
    for i, months in enumerate(steps):
        planned = add_months(spec.j1, months)
        row: dict[str, Any] = {"planned_on": planned}
        if i < spec.j_done:
            done = planned + timedelta(days=12 * i)
            if i == 7 and spec.j8_on is not None:
                done = spec.j8_on
            if i == 3 and "fix-j4" in spec.moves:
                done += timedelta(days=7)  # corrected in 2025-T4
            # A workbook of an earlier quarter does not know what was realised after it was filled.
            if spec.updated_on < UPDATED[PERIOD] and done > spec.updated_on - timedelta(days=10):
                rows.append(row)
                continue
            row["done_on"] = min(done, spec.updated_on - timedelta(days=10))
        if i == 7 and spec.avenant:
            row["comment"] = f"Délai prolongé par avenant jusqu'au {spec.avenant:%d/%m/%Y}."
            row["planned_on"] = spec.avenant - timedelta(days=45)
        rows.append(row)
    return rows


def comites(spec: Spec, j_rows: list[dict[str, Any]], lead: str, mayor: str) -> list[dict[str, Any]]:
    """A comité de projet every quarter from J3 (or, without J3, from the cadence window of the
    first example quarter: its four quarters) to the period, plus a few others. The workbook is
    cumulative: a later quarter keeps the comités of the earlier ones."""
    last = (spec.updated_on.year, (spec.updated_on.month - 1) // 3 + 1)
    first = UPDATED[PERIODS[0]]
    window = divmod(first.year * 4 + (first.month - 1) // 3 - 3, 4)
    start = j_rows[2].get("done_on") or date(window[0], 3 * window[1] + 1, 10)
    year, quarter = start.year, (start.month - 1) // 3 + 1
    rows: list[dict[str, Any]] = []
    i = 0
    while (year, quarter) <= last:
        day = date(year, 3 * quarter - 1, 8 + (i * 5) % 15)
        day = max(day, start)
        skip = "skip-quarter" in spec.mistakes and (year, quarter) == (2025, 2)
        if not skip:
            absent = "etat-absent" in spec.mistakes and (year, quarter) == (2025, 3)
            rows.append({
                "date": day, "body": "Comité de projet", "chaired_by": mayor, "etat_present": not absent,
                "partners": "Région Grand Est, Banque des Territoires, Département" if not absent
                else "Région Grand Est, Banque des Territoires",
                "decisions": DECISIONS[i % len(DECISIONS)],
            })
        if quarter in (1, 3) and i % 2 == 0:
            rows.append({"date": day + timedelta(days=21), "body": "Comité technique", "chaired_by": lead,
                         "etat_present": True, "partners": "DDT, CAUE, Banque des Territoires",
                         "decisions": "Suivi technique des opérations en cours."})
        i += 1
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return rows


DECISIONS = [
    "Validation du calendrier et du périmètre de l'ORT.",
    "Point d'étape sur l'étude de revitalisation ; arbitrage des actions prioritaires.",
    "Validation du plan de financement des opérations de l'année.",
    "Lancement de la concertation avec les commerçants du centre-ville.",
    "Bilan des aides à la rénovation des façades ; ajustement du règlement.",
    "Présentation de l'avancement des travaux et des demandes de subvention.",
]


def actions(spec: Spec, t: RefTerritory, schema: Schema, seed: int) -> list[dict[str, Any]]:
    money = [f.key for f in schema.financer_fields]
    owner_epci = t.epci or "Intercommunalité"
    rows: list[dict[str, Any]] = []
    count = 6 + seed % 3
    earlier = spec.updated_on < UPDATED[PERIOD]
    if spec.updated_on <= UPDATED["2025-T2"]:
        count -= 1  # its last action is added in 2025-T3
    for n in range(count):
        title, theme, cost, shares = ACTIONS[(seed * 3 + n) % len(ACTIONS)]
        cost = cost + 10_000 * ((seed + n) % 7)
        status = STATUSES[(seed + n) % len(STATUSES)]
        commune = t.communes[n % len(t.communes)].name
        start = date(2022 + n % 4, 1 + (3 * n) % 12, 1)
        end = add_months(start, 18 + 6 * (n % 3))
        if status == "Terminée":
            end = min(end, date(2025, 10, 31))
            start = min(start, add_months(end, -12))
            if end > spec.updated_on:
                status = "En cours"  # finished after this workbook was filled in
        if earlier and status == "Engagée" and (seed + n) % 2 == 0:
            status = "En préparation"  # engaged in 2025-T4
        row: dict[str, Any] = {
            "action_id": f"A{n + 1}", "title": title, "commune": commune, "theme": theme,
            "owner": owner_epci if n % 3 == 2 else f"Commune de {commune}", "status": status,
            "in_ort": status != "Envisagée", "start_on": start, "end_on": end, "cost": float(cost),
        }
        # Before commitment the State's grant is usually still to be decided: it remains to finance.
        pending = status in ("Envisagée", "En préparation")
        for index, (key, share) in enumerate(zip(money, shares, strict=False)):
            if share and not (pending and index == 0):
                row[key] = float(int(cost * share))
        rows.append(row)
    if "drop-action" in spec.moves:
        rows.pop(5)  # the action is abandoned and removed from the plan
    if spec.amounts_as_text:
        for row in rows[:3]:
            for key in ("cost", *money):
                if isinstance(row.get(key), float):
                    row[key] = euros(row[key])
    if "over-financed" in spec.mistakes:
        rows[1][money[0]] = rows[1]["cost"]  # État alone pays everything, on top of the others
    if "missing-cost" in spec.mistakes:
        rows[2]["status"] = "Engagée"
        rows[2].pop("cost")
        for key in money:
            rows[2].pop(key, None)
    if "bad-date" in spec.mistakes:
        rows[0]["start_on"] = "32/13/2024"
    if "total-row" in spec.mistakes:
        total: dict[str, Any] = {"title": "Total"}
        for key in ("cost", *money):
            total[key] = float(sum(r.get(key, 0) for r in rows if isinstance(r.get(key), float)))
        rows.append(total)
    return rows


def needs(t: RefTerritory, seed: int, n_actions: int) -> list[dict[str, Any]]:
    rows = []
    for n, (need, theme, kind, action, partner, amount, status) in enumerate(NEEDS[: 3 + seed % 3]):
        rows.append({
            "need": need, "theme": theme, "need_type": kind,
            "action_id": f"A{action + 1}" if action is not None and action < n_actions else None,
            "partner": partner, "amount": float(amount + 5_000 * (seed % 4)), "status": status,
            "wanted_by": date(2026, 3 + 3 * (n % 3), 30),
        })
    return rows


def contacts(spec: Spec, t: RefTerritory, seed: int, lead: tuple[str, str], mayor: tuple[str, str]) -> list[dict[str, Any]]:
    town = t.name
    dep = t.department or "67"
    ddt = f"DDT {t.department_name or dep}"
    people = [
        (lead, f"Commune de {town}", "Chef de projet Petites villes de demain, direction générale", "Chef de projet PVD"),
        (mayor, f"Commune de {town}", "Maire", "Élu référent"),
        (person(seed + 5), ddt, "Référent PVD, service aménagement", "Référent État"),
        (person(seed + 9), "Banque des Territoires", "Chargée de développement territorial", "Partenaire"),
        (person(seed + 11), "Région Grand Est", "Chargé de mission aménagement du territoire", "Partenaire"),
    ]
    rows = []
    for i, ((first, last), org, position, role) in enumerate(people):
        rows.append({"name": f"{last.upper()} {first}", "organisation": org, "position": position,
                     "email": mail(first, last, org), "phone": phone(seed * 10 + i, dep), "role": role})
    if "bad-email" in spec.mistakes:
        first, last = person(seed + 9)
        rows[3]["email"] = f"{slug(first)}.{slug(last)}.caissedesdepots.example.fr"
    return rows


def records(sheet: str, rows: list[dict[str, Any]]) -> list[Record]:
    return [Record(sheet=sheet, row=i + 2, values={k: v for k, v in r.items() if v is not None})
            for i, r in enumerate(rows)]


def build(spec: Spec, t: RefTerritory, schema: Schema, seed: int, period: str = PERIOD) -> WorkbookData:
    lead, mayor = person(seed + 20 if "new-lead" in spec.moves else seed), person(seed + 2)
    j_rows = jalons(spec)
    for (code, _), row in zip(schema.table("jalons").fixed_rows, j_rows, strict=True):
        row["code"] = code
    acts = actions(spec, t, schema, seed)
    territory = {
        "id_pvd": t.id_pvd, "name": t.name, "department": t.department, "region": t.region,
        "epci": t.epci, "siren": t.siren, "period": period, "updated_on": spec.updated_on,
        "ort_deadline_extended": spec.avenant, "project_lead": f"{lead[0]} {lead[1]}", "etp": spec.etp,
        "cofinancing": spec.cofinancing, "chair": spec.chair, "opah_ru": spec.opah,
    }
    communes = [{"insee": c.insee, "name": c.name, "population": c.population, "role": "Ville PVD"}
                for c in t.communes]
    tables = {
        "communes": communes, "jalons": j_rows, "engagements": acts,
        "comites": comites(spec, j_rows, f"{lead[0]} {lead[1]}", f"{mayor[0]} {mayor[1]}"),
        "ingenierie": needs(t, seed, len(acts)), "annuaire": contacts(spec, t, seed, lead, mayor),
    }
    return WorkbookData(
        territory=Record(sheet=schema.form.name, row=None,
                         values={k: v for k, v in territory.items() if v is not None}),
        tables={key: records(schema.table(key).name, rows) for key, rows in tables.items()},
        version=schema.version,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Écrit les classeurs d'exemple de workbooks/.")
    parser.add_argument("--output-dir", type=Path, default=REPO / "workbooks")
    parser.add_argument("--reference", type=Path, default=REFERENCE)
    parser.add_argument("--expected", type=Path, default=REPO / "tests" / "data" / "examples-expected.json")
    args = parser.parse_args(argv)
    if not args.reference.exists():
        print(f"Liste de référence introuvable : {args.reference}.",
              file=sys.stderr)
        return 2
    reference = load_reference(args.reference)
    schema = build_schema()
    out: Path = args.output_dir
    out.mkdir(parents=True, exist_ok=True)
    expected: dict[str, dict[str, Any]] = {}
    for seed, spec in enumerate(SPECS):
        t = reference.by_id(spec.id_pvd)
        if t is None:
            print(f"Territoire {spec.id_pvd} absent de {args.reference}.", file=sys.stderr)
            return 2
        for period in spec.periods:
            shown = at(spec, period)
            name = f"{period}/{territory_file_name(spec.id_pvd, t.name)}"
            (out / period).mkdir(exist_ok=True)
            write_filled(out / name, schema, build(shown, t, schema, seed, period), force=True)
            status = ort_status_at(shown, PERIOD_END[period])
            if period == PERIOD and status != spec.ort_status:
                print(f"{name} : statut {status}, attendu {spec.ort_status}.", file=sys.stderr)
                return 2
            expected[name] = {"period": period, "valid": shown.valid, "ort_status": status,
                              "codes": sorted(set(shown.codes)), "history_codes": sorted(set(shown.history_codes))}
    args.expected.parent.mkdir(parents=True, exist_ok=True)
    args.expected.write_text(json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"{len(expected)} classeurs écrits dans {out}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
