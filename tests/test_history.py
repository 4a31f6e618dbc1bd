"""History across quarters (README, Historique) on a three-quarter fixture built by code with
known changes: figures at T-1 and N-1 to the euro, each change type, each cross-quarter code,
historique-pvd.sqlite against the summary, idempotence, and the bad inputs of history."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factory import baseline_rows, luhn_siren, make_workbook, rows_as_of
from openpyxl import load_workbook

from pvd_reporting.cli import cli
from pvd_reporting.cli.consolidate_lines import period_lines
from pvd_reporting.consolidate.changes import CHANGE_TYPES
from pvd_reporting.consolidate.reading import read_all
from pvd_reporting.consolidate.view import Consolidation, History, RegionView
from pvd_reporting.format.issues import ISSUE_TYPES, Severity
from pvd_reporting.format.schema import Schema
from pvd_reporting.outputs import history_db

SUMMARY = "synthese-pvd-2025-T4.xlsx"
DB = "historique-pvd.sqlite"
T1_UPDATE, N1_UPDATE, NOW_UPDATE = date(2025, 9, 20), date(2024, 12, 15), date(2025, 12, 15)
SIREN_OTHER, SIREN_C, SIREN_NEW = luhn_siren("20007001"), luhn_siren("20007002"), luhn_siren("20007003")


def _money(schema: Schema, **by_financer_index: float) -> dict[str, float]:
    keys = [f.key for f in schema.financer_fields]
    return {keys[int(i[1:])]: v for i, v in by_financer_index.items()}


def _commune(insee: str, name: str, schema: Schema) -> list[dict[str, Any]]:
    return [{"insee": insee, "name": name, "population": 2500, "role": schema.lists["role_commune"][0]}]


def build_quarters(root: Path, schema: Schema) -> Path:
    """2024-T4 (N-1), 2025-T3 (T-1) and 2025-T4, one folder a quarter."""
    L = schema.lists
    status = L["statut_action"]
    base = baseline_rows(schema)
    fin = [f.key for f in schema.financer_fields]
    # N-1: Bouxwiller alone, one action envisaged.
    a1_n1 = dict(base["engagements"][0], status=status[0], cost=1_000_000.0, **dict.fromkeys(fin))
    make_workbook(root / "2024-T4" / "bouxwiller.xlsx", schema,
                  territory={"period": "2024-T4", "updated_on": N1_UPDATE},
                  rows=rows_as_of(schema, N1_UPDATE, {"engagements": [a1_n1],
                                                       "ingenierie": base["ingenierie"][:1]}))
    # T-1: Bouxwiller before the changes; two other territories, one without an identifiant.
    a1, a2, a3, a4 = base["engagements"]
    a1_t1 = dict(a1, **{fin[1]: 150_000.0, fin[8]: 500_000.0}, end_on=date(2026, 6, 30))
    a2_t1 = dict(a2, status=status[3])
    a4_t1 = dict(a4, cost=2_600_000.0)
    a5_t1 = {"action_id": "A5", "title": "Signalétique du centre-bourg", "commune": "Bouxwiller",
             "theme": L["thematique"][3], "status": status[2], "cost": 300_000.0,
             **{fin[0]: 100_000.0, fin[8]: 200_000.0}}
    jalons_t1 = [dict(r, done_on=date(2024, 11, 1)) if r["code"] == "J2" else r for r in base["jalons"]]
    comite_gone = {"date": date(2025, 7, 8), "body": L["instance"][1], "chaired_by": "Claire Muller",
                   "etat_present": L["oui_non"][0], "partners": "DDT 67", "decisions": "Point technique"}
    make_workbook(root / "2025-T3" / "bouxwiller.xlsx", schema,
                  territory={"period": "2025-T3", "updated_on": T1_UPDATE, "project_lead": "Paul Meyer",
                             "etp": 0.5, "cofinancing": L["cofinancement"][3]},
                  rows=rows_as_of(schema, T1_UPDATE, {
                      "jalons": jalons_t1, "engagements": [a1_t1, a2_t1, a4_t1, a5_t1],
                      "comites": [*base["comites"], comite_gone], "ingenierie": base["ingenierie"][:2]}))
    make_workbook(root / "2025-T3" / "autre.xlsx", schema,
                  territory={"id_pvd": "pvd-44-67-5", "name": "Autreville", "siren": SIREN_OTHER,
                             "period": "2025-T3", "updated_on": T1_UPDATE},
                  rows=rows_as_of(schema, T1_UPDATE, {"communes": _commune("67100", "Autreville", schema),
                                                       "engagements": [], "ingenierie": []}))
    make_workbook(root / "2025-T3" / "saverne.xlsx", schema,
                  territory={"id_pvd": None, "name": "Saverne-Est", "siren": SIREN_C, "period": "2025-T3",
                             "updated_on": T1_UPDATE},
                  rows=rows_as_of(schema, T1_UPDATE, {"communes": _commune("67200", "Saverne-Est", schema),
                                                       "engagements": [], "ingenierie": []}))
    # 2025-T4: Bouxwiller signs its ORT; Saverne-Est gains an identifiant and loses J4; a newcomer.
    signed = {"J6": date(2025, 12, 1), "J7": date(2025, 12, 5), "J8": date(2025, 12, 10)}
    jalons_now = [dict(r, done_on=signed.get(r["code"], r["done_on"])) for r in base["jalons"]]
    make_workbook(root / "2025-T4" / "bouxwiller.xlsx", schema, territory={"updated_on": NOW_UPDATE},
                  rows={"jalons": jalons_now})
    no_j4 = [dict(r, done_on=None) if r["code"] == "J4" else r
             for r in rows_as_of(schema, T1_UPDATE)["jalons"]]
    make_workbook(root / "2025-T4" / "saverne.xlsx", schema,
                  territory={"id_pvd": "pvd-44-67-8", "name": "Saverne-Est", "siren": SIREN_C,
                             "updated_on": NOW_UPDATE},
                  rows=rows_as_of(schema, NOW_UPDATE, {"communes": _commune("67200", "Saverne-Est", schema),
                                                        "jalons": no_j4, "engagements": [], "ingenierie": []}))
    make_workbook(root / "2025-T4" / "nouveau.xlsx", schema,
                  territory={"id_pvd": "pvd-44-67-9", "name": "Neuville", "siren": SIREN_NEW,
                             "updated_on": NOW_UPDATE},
                  rows={"communes": _commune("67300", "Neuville", schema), "engagements": [], "ingenierie": []})
    return root


def _run(*args: str) -> Any:
    # Only what the test built is expected, unless it names a list (the shipped one is the default).
    own = () if "--reference" in args else ("--no-reference",)
    return CliRunner().invoke(cli, ["consolidate", *args, *own, "--quiet", "--no-images", "--workers", "1"])


@pytest.fixture(scope="module")
def quarters(schema: Schema, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_quarters(tmp_path_factory.mktemp("history") / "classeurs", schema)


@pytest.fixture(scope="module")
def run(quarters: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("history-out")
    result = _run(str(quarters), "--output-dir", str(out))
    assert result.exit_code == 0, result.output
    return {"out": out, "result": result}


def _sheet(path: Path, name: str) -> list[dict[str, Any]]:
    rows = list(load_workbook(path, read_only=True)[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def _synthesis(path: Path) -> dict[str, tuple[Any, Any, Any]]:
    ws = load_workbook(path, read_only=True)["Synthèse"]
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == "Chiffre")
    out = {}
    for r in rows[start + 1:]:
        if not r[0]:
            break
        out[r[0]] = (r[1], r[2], r[3])
    return out


def test_console_lists_every_period_with_its_workbooks(run: dict[str, Any]) -> None:
    text = run["result"].output
    assert "Périodes trouvées : 2024-T4 (1 classeur) · 2025-T3 (3 classeurs) · 2025-T4 (3 classeurs)" in text
    assert "moins de la moitié" not in text
    assert "période 2025-T4" in text


def test_synthesis_has_t1_and_n1_to_the_euro(run: dict[str, Any], schema: Schema) -> None:
    ws = load_workbook(run["out"] / SUMMARY, read_only=True)["Synthèse"]
    header = next(r for r in ws.iter_rows(values_only=True) if r[0] == "Chiffre")
    assert header[:4] == ("Chiffre", "Valeur", "T-1 (2025-T3)", "N-1 (2024-T4)")
    figures = _synthesis(run["out"] / SUMMARY)
    cost = schema.table("engagements").column("cost").label
    region = schema.financer_fields[1].label
    # 2025-T4: A1 1 200 000 + A2 45 000 + A3 850 000 + A4 2 500 000.
    # 2025-T3: A1 1 200 000 + A2 45 000 + A4 2 600 000 + A5 300 000. 2024-T4: A1 1 000 000.
    assert figures[cost] == (4_595_000, 4_145_000, 1_000_000)
    # Région: A1 200 000 + A3 150 000 + A4 100 000; at T-1 A1 150 000 + A4 100 000; none at N-1.
    assert figures[region] == (450_000, 250_000, 0)
    assert figures["Territoires reçus"] == (3, 3, 1)
    assert figures["ORT signées"] == (1, 0, 0)


def test_every_change_type_with_its_element(run: dict[str, Any], schema: Schema) -> None:
    rows = _sheet(run["out"] / SUMMARY, "Changements")
    assert list(rows[0]) == ["Identifiant PVD", "Territoire", "Type", "Élément", "Avant", "Après"]
    found = {(r["Territoire"], r["Type"], r["Élément"]) for r in rows}
    region, own = schema.financer_fields[1].financer, schema.financer_fields[8].financer
    boux = "Bouxwiller - Ingwiller"
    assert found == {
        ("Autreville", "Classeur non reçu", None), ("Neuville", "Classeur reçu", None),
        ("Saverne-Est", "Jalon retiré", "J4"),
        (boux, "Statut ORT", None), (boux, "Jalon réalisé", "J5"), (boux, "Jalon réalisé", "J6"),
        (boux, "Jalon réalisé", "J7"), (boux, "Jalon réalisé", "J8"), (boux, "Date de jalon modifiée", "J2"),
        (boux, "Action ajoutée", "A3"), (boux, "Action retirée", "A5"), (boux, "Statut d'action", "A2"),
        (boux, "Coût modifié", "A4"), (boux, "Financement modifié", f"A1 · {region}"),
        (boux, "Financement modifié", f"A1 · {own}"),
        # Held after T-1's workbook was filled in (20/09/2025).
        (boux, "Comité tenu", "23/09/2025"), (boux, "Comité tenu", "09/12/2025"),
        ("Saverne-Est", "Comité tenu", "23/09/2025"), ("Saverne-Est", "Comité tenu", "09/12/2025"),
        (boux, "Besoin ajouté", "Formation des élus à l'urbanisme commercial"), (boux, "Chef de projet", None),
        (boux, "Date d'action modifiée", "A1 · Date de fin"), (boux, "ETP du chef de projet", None),
        (boux, "Cofinancement du poste", None),
    }
    assert {r["Type"] for r in rows} == set(CHANGE_TYPES)
    by = {(r["Type"], r["Élément"]): r for r in rows if r["Territoire"] == boux}
    assert (by[("Statut ORT", None)]["Avant"], by[("Statut ORT", None)]["Après"]) == ("Dans les temps", "ORT signée")
    assert (by[("Date de jalon modifiée", "J2")]["Avant"], by[("Date de jalon modifiée", "J2")]["Après"]) == (
        "01/11/2024", "04/11/2024")
    assert by[("Coût modifié", "A4")]["Avant"] == "2 600 000 €"
    assert by[("Chef de projet", None)]["Avant"] == "Paul Meyer"
    assert (by[("ETP du chef de projet", None)]["Avant"], by[("ETP du chef de projet", None)]["Après"]) == (
        "50\u00a0%", "100\u00a0%")
    assert (by[("Cofinancement du poste", None)]["Avant"], by[("Cofinancement du poste", None)]["Après"]) == (
        "Aucun", "Banque des Territoires")
    assert by[("Date d'action modifiée", "A1 · Date de fin")]["Avant"] == "30/06/2026"
    # Nothing lost across quarters: the removed action keeps its last known row.
    removed = by[("Action retirée", "A5")]["Avant"]
    assert "Signalétique du centre-bourg" in removed and "300 000" in removed


def test_cross_quarter_warnings_name_both_sources(run: dict[str, Any]) -> None:
    report = json.loads((run["out"] / "anomalies-2025-T4.json").read_text("utf-8"))
    issues = {(Path(w["path"]).parent.name, Path(w["path"]).name): w["issues"] for w in report["workbooks"]}
    boux = {i["code"]: i for i in issues[("2025-T4", "bouxwiller.xlsx")]}
    for code in ("milestone-date-changed", "action-removed", "comite-removed"):
        assert boux[code]["severity"] == "warning"
        assert "2025-T3" in boux[code]["message"] and "bouxwiller.xlsx" in boux[code]["message"], code
    assert boux["milestone-date-changed"]["sheet"] == "Jalons" and boux["milestone-date-changed"]["row"] == 3
    assert boux["action-removed"]["value"] == "A5"
    assert "08/07/2025" in boux["comite-removed"]["message"]
    saverne = {i["code"]: i for i in issues[("2025-T4", "saverne.xlsx")]}
    assert "saverne.xlsx, ligne 5" in saverne["milestone-unrealised"]["message"]
    # In the summary's Anomalies too.
    codes = {r["Code"] for r in _sheet(run["out"] / SUMMARY, "Anomalies")}
    assert {"milestone-date-changed", "milestone-unrealised", "action-removed", "comite-removed"} <= codes
    for code in ("milestone-date-changed", "milestone-unrealised", "action-removed", "comite-removed",
                 "period-after-update"):
        assert ISSUE_TYPES[code].severity == Severity.WARNING


def test_identifier_changed_is_the_same_territory(run: dict[str, Any]) -> None:
    rows = _sheet(run["out"] / SUMMARY, "Évolution")
    saverne = [(r["Identifiant PVD"], r["Période"], r["Reçu"]) for r in rows if r["Territoire"] == "Saverne-Est"]
    # One territory whatever its identifiant at each quarter; not received in 2024-T4, where it is
    # named by its latest identifiant.
    assert saverne == [("pvd-44-67-8", "2024-T4", "Non"), (None, "2025-T3", "Oui"), ("pvd-44-67-8", "2025-T4", "Oui")]


def test_evolution_sheet_one_row_per_territory_per_period(run: dict[str, Any]) -> None:
    rows = _sheet(run["out"] / SUMMARY, "Évolution")
    assert list(rows[0])[:9] == ["Identifiant PVD", "Territoire", "Période", "Reçu", "Statut ORT",
                                 "Dernier jalon", "Jalons réalisés", "Échéance ORT", "Jours restants"]
    assert len(rows) == 4 * 3  # four territories, each present or expected in three periods
    status = {(r["Territoire"], r["Période"]): r["Statut ORT"] for r in rows}
    assert status[("Autreville", "2025-T4")] == "Non reçu"
    assert status[("Neuville", "2025-T3")] == "Non reçu"
    assert status[("Bouxwiller - Ingwiller", "2025-T4")] == "ORT signée"
    boux = {r["Période"]: r for r in rows if r["Territoire"] == "Bouxwiller - Ingwiller"}
    assert boux["2024-T4"]["Coût total HT (€)"] == 1_000_000
    # 24/06 is in 2025-T2 and 23/09 came after T-1's workbook: none in 2025-T3; 09/12 in 2025-T4.
    assert (boux["2025-T3"]["Comités de projet du trimestre"], boux["2025-T4"]["Comités de projet du trimestre"]) == (
        0, 1)
    wb = load_workbook(run["out"] / SUMMARY)
    for name in ("Évolution", "Changements"):
        ws = wb[name]
        assert len(ws.tables) == 1 and ws.freeze_panes == "C2", name
        assert next(iter(ws.tables.values())).autoFilter is not None


def _db(out: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{out / DB}?mode=ro", uri=True)


def test_sqlite_tables_columns_and_index(run: dict[str, Any]) -> None:
    db = _db(run["out"])
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    # `chiffres`: the regional figures each period was published with, compared by the next run (Révisions).
    assert tables == {"territoires", "communes", "jalons", "engagements", "comites", "ingenierie", "annuaire",
                      "anomalies", "sources", "changements", "chiffres", "meta", "financeurs", "publications",
                      "classeurs"}
    assert [r[1] for r in db.execute('PRAGMA table_info("chiffres")')] == ["periode", "chiffre", "valeur", "version",
                                                                          "cle"]
    # `publications`: each period's version, when it was written and from which files (the
    # national roll-up reads these four first); `classeurs`: what became of every workbook.
    assert [r[1] for r in db.execute('PRAGMA table_info("publications")')][:4] == [
        "periode", "version", "written_at", "empreinte"]
    assert [r[1] for r in db.execute('PRAGMA table_info("classeurs")')] == [
        "sha256", "fichier", "id_pvd", "territoire", "periode_retenue", "issue", "raison"]
    for table in tables - {"meta", "chiffres", "financeurs", "publications", "classeurs"}:
        columns = [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]
        assert {"periode", "id_pvd", "territoire", "fichier", "onglet", "ligne"} <= set(columns), table
        indexes = [r[1] for r in db.execute(f'PRAGMA index_list("{table}")')]
        assert any([c[2] for c in db.execute(f'PRAGMA index_info("{i}")')] == ["periode", "id_pvd"]
                   for i in indexes), table
    engagements = [r[1] for r in db.execute('PRAGMA table_info("engagements")')]
    assert {"cout_total_ht", "n_action", "date_de_debut", "region_grand_est"} <= set(engagements)
    assert "date_de_realisation" in [r[1] for r in db.execute('PRAGMA table_info("jalons")')]
    meta = dict(db.execute("SELECT cle, valeur FROM meta"))
    assert {"format_version", "region", "pvd_report_version", "written_at"} <= set(meta)
    assert meta["region"] == "Grand Est"
    # Each financer column with its national category, for `pvd-report national`.
    financers = list(db.execute("SELECT colonne, libelle, categorie FROM financeurs"))
    assert financers[1] == ("region_grand_est", "Région Grand Est", "Région")
    assert [c for _, _, c in financers] == ["État", "Région", "Département", "Banque des Territoires", "ANAH",
                                            "ADEME", "Europe", "Autres", "Autofinancement"]
    assert all(colonne in engagements for colonne, _, _ in financers)
    day = db.execute("SELECT date_de_realisation FROM jalons WHERE periode = '2025-T4' AND code = 'J8' "
                     "AND id_pvd = 'pvd-44-67-3'").fetchone()
    assert day == ("2025-12-10",)


def test_sqlite_rows_and_totals_equal_the_summary(run: dict[str, Any], schema: Schema) -> None:
    db = _db(run["out"])
    summary = run["out"] / SUMMARY
    sheets = {"territoires": "Territoires", "jalons": "Jalons", "engagements": "Engagements", "comites": "Comités",
              "ingenierie": "Ingénierie", "annuaire": "Annuaire", "anomalies": "Anomalies", "sources": "Sources",
              "changements": "Changements"}
    for table, sheet in sheets.items():
        (count,) = db.execute(f'SELECT count(*) FROM "{table}" WHERE periode = ?', ("2025-T4",)).fetchone()
        assert count == len(_sheet(summary, sheet)), table
    cost = schema.table("engagements").column("cost").label
    (total,) = db.execute("SELECT sum(cout_total_ht) FROM engagements WHERE periode = '2025-T4'").fetchone()
    assert total == sum(r[cost] or 0 for r in _sheet(summary, "Engagements")) == 4_595_000
    (t1,) = db.execute("SELECT sum(cout_total_ht) FROM territoires WHERE periode = '2025-T3'").fetchone()
    assert t1 == 4_145_000


def test_conservation_every_row_and_euro_of_every_quarter(run: dict[str, Any], quarters: Path,
                                                          schema: Schema) -> None:
    db = _db(run["out"])
    reports = read_all(sorted(quarters.rglob("*.xlsx")), schema, workers=1)
    for key in ("communes", "jalons", "engagements", "comites", "ingenierie", "annuaire"):
        read = sorted((r.period, Path(r.path).name, rec.row) for r in reports for rec in r.data.rows(key))
        stored = sorted((p, Path(f).name, n) for p, f, n in db.execute(f'SELECT periode, fichier, ligne FROM "{key}"'))
        assert stored == read, key
    euros = sum(round((rec.values.get("cost") or 0) * 100) for r in reports for rec in r.data.rows("engagements"))
    (stored_euros,) = db.execute("SELECT sum(round(cout_total_ht * 100)) FROM engagements").fetchone()
    assert stored_euros == euros


def _content(out: Path) -> dict[str, list[tuple[Any, ...]]]:
    db = _db(out)
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    content = {n: sorted(map(tuple, db.execute(f'SELECT * FROM "{n}"')), key=repr) for n in names}
    content["meta"] = [r for r in content["meta"] if r[0] != "written_at"]
    return content


def test_consolidating_twice_gives_the_same_database(run: dict[str, Any], quarters: Path) -> None:
    first = _content(run["out"])
    again = _run(str(quarters), "--output-dir", str(run["out"]))
    assert again.exit_code == 0, again.output
    assert _content(run["out"]) == first
    assert not [p.name for p in run["out"].iterdir() if p.name.startswith(".")]


def test_a_second_run_copies_the_consolidated_period_unless_its_date_changed(
        quarters: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    from pvd_reporting.outputs.history_tables import Tables

    out = tmp_path / "sorties"
    assert _run(str(quarters), "--output-dir", str(out)).exit_code == 0
    meta = dict(_db(out).execute('SELECT "cle", "valeur" FROM "meta"').fetchall())
    current, as_of = meta["periode_consolidee"], date.fromisoformat(meta["situation_au"])
    rebuilt: list[str] = []
    real = Tables.add_workbook_rows

    def spy(self: Tables, db: sqlite3.Connection, c: Consolidation) -> None:
        rebuilt.append(c.region.period)
        real(self, db, c)

    monkeypatch.setattr(Tables, "add_workbook_rows", spy)
    first = _content(out)
    # Same files, same date: every period's rows are the record's, copied, and equal.
    assert _run(str(quarters), "--output-dir", str(out)).exit_code == 0
    assert rebuilt == [] and _content(out) == first
    # Another reference date: the consolidated period is rebuilt (its statuses depend on it),
    # exactly as a first run at that date writes it.
    later = (as_of + timedelta(days=40)).isoformat()
    assert _run(str(quarters), "--output-dir", str(out), "--as-of", later).exit_code == 0
    assert rebuilt == [current]
    fresh = tmp_path / "neuf"
    assert _run(str(quarters), "--output-dir", str(fresh), "--as-of", later).exit_code == 0
    again, new = _content(out), _content(fresh)
    assert again["territoires"] == new["territoires"] and again["territoires"] != first["territoires"]
    assert ("situation_au", later) in again["meta"]


def test_no_contacts_leaves_no_contact_in_the_database(quarters: Path, tmp_path: Path) -> None:
    result = _run(str(quarters), "--output-dir", str(tmp_path), "--no-contacts")
    assert result.exit_code == 0, result.output
    db = _db(tmp_path)
    columns = {r[1] for r in db.execute('PRAGMA table_info("annuaire")')}
    assert not {"nom_prenom", "mail", "telephone"} & columns
    text = " ".join(str(v) for table in _content(tmp_path).values() for row in table for v in row)
    for secret in ("Claire Muller", "Paul Meyer", "claire.muller@", "03 88 71 31 79"):
        assert secret not in text, secret


def test_a_period_given_twice_in_two_folders(quarters: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copie-2025-T3"
    shutil.copytree(quarters / "2025-T3", copy)
    out = tmp_path / "out"
    result = _run(str(quarters), str(copy), "--output-dir", str(out))
    assert result.exit_code == 0, result.output
    assert "2025-T3 (6 classeurs)" in result.output
    db = _db(out)
    dups = db.execute("SELECT count(*) FROM anomalies WHERE periode = '2025-T3' AND code = 'duplicate-submission'")
    assert dups.fetchone() == (3,)
    (received,) = db.execute("SELECT count(*) FROM territoires WHERE periode = '2025-T3' "
                             "AND statut_ort <> 'Non reçu'").fetchone()
    assert received == 3
    assert _synthesis(out / SUMMARY)["Territoires reçus"] == (3, 3, 1)


def test_a_quarter_with_no_valid_workbook(schema: Schema, tmp_path: Path) -> None:
    make_workbook(tmp_path / "in" / "2025-T4" / "bouxwiller.xlsx", schema)
    (tmp_path / "in" / "2025-T3").mkdir()
    (tmp_path / "in" / "2025-T3" / "casse.xlsx").write_bytes(b"PK\x03\x04 pas un classeur")
    result = _run(str(tmp_path / "in"), "--output-dir", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "Périodes trouvées : 2025-T4 (1 classeur)" in result.output
    assert "Classeurs écartés" in result.output
    figures = _synthesis(tmp_path / "out" / SUMMARY)
    assert figures["Territoires reçus"] == (1, "—", "—")
    page = (tmp_path / "out" / "tableau-de-bord-2025-T4.html").read_text("utf-8")
    assert "Une seule période" in page


def test_later_period_only_is_a_mismatch(quarters: Path, tmp_path: Path) -> None:
    result = _run(str(quarters), "--output-dir", str(tmp_path), "--period", "2025-T3")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "anomalies-2025-T3.json").read_text("utf-8"))
    codes = {Path(w["path"]).parent.name + "/" + Path(w["path"]).name: {i["code"] for i in w["issues"]}
             for w in report["workbooks"]}
    assert all("period-mismatch" in c for n, c in codes.items() if n.startswith("2025-T4/"))
    assert not any("period-mismatch" in c for n, c in codes.items() if not n.startswith("2025-T4/"))
    # T-1 of 2025-T3 is absent; N-1 is 2024-T3, absent too; 2024-T4 is not a comparison point.
    assert _synthesis(tmp_path / "synthese-pvd-2025-T3.xlsx")["Territoires reçus"] == (3, "—", "—")


def test_period_after_update_is_a_warning(schema: Schema, tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "t.xlsx", schema, territory={"updated_on": date(2025, 9, 15)})
    result = CliRunner().invoke(cli, ["validate", str(path), "--format", "json"])
    issues = json.loads(result.output)["workbooks"][0]["issues"]
    found = [i for i in issues if i["code"] == "period-after-update"]
    assert len(found) == 1 and found[0]["severity"] == "warning"
    assert found[0]["sheet"] == "Territoire" and found[0]["cell"] == "B8"
    assert "2025-T3" in found[0]["message"]


def test_console_warns_when_the_period_holds_less_than_half(schema: Schema) -> None:
    region = RegionView(period="2025-T4", as_of=date(2025, 12, 31), region="Grand Est", expected=None, received=4,
                        valid=4, missing=None, ort_signed=0, ort_signed_share=None, median_months_j1_j8=None,
                        at_risk=0, overdue=0, leads_in_post=0, cadence_held=0)
    cons = Consolidation(region=region, territories=[], reports=[])
    cons.history = History(current="2025-T4", workbooks={"2025-T3": 9, "2025-T4": 4})
    lines = period_lines(cons)
    assert "2025-T3 (9 classeurs) · 2025-T4 (4 classeurs)" in lines[0]
    assert "moins de la moitié des 9 de 2025-T3" in lines[1]
    cons.history.workbooks["2025-T4"] = 5
    assert len(period_lines(cons)) == 1


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_output_folder_is_a_french_error(quarters: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        result = _run(str(quarters), "--output-dir", str(out))
    finally:
        out.chmod(0o755)
    assert result.exit_code == 2 and "accessible en écriture" in result.output
    assert list(out.iterdir()) == []


def test_a_failing_database_write_leaves_nothing_half_written(quarters: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*_: Any, **__: Any) -> Any:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(history_db.sqlite3, "connect", full)
    result = _run(str(quarters), "--output-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "Impossible d'écrire" in result.output and "disk is full" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / DB).exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_dashboard_shows_evolution_and_changes(run: dict[str, Any]) -> None:
    page = (run["out"] / "tableau-de-bord-2025-T4.html").read_text("utf-8")
    assert "Évolution (2024-T4 à 2025-T4)" in page and "Une seule période" not in page
    for chart in ("ort-signees-par-trimestre", "statut-ort-par-trimestre", "financements-par-trimestre",
                  "classeurs-par-trimestre"):
        assert f'data-chart="{chart}"' in page, chart
    assert "Ce qui a changé depuis 2025-T3" in page
    changes = _sheet(run["out"] / SUMMARY, "Changements")
    assert page.count('<tr data-kind="') == len(changes)
    assert page.count("Statut ORT trimestre par trimestre") == 4  # one strip per territory panel
    assert "2025-T3 : Dans les temps" in page and "2025-T4 : ORT signée" in page


def test_trend_charts_in_the_charts_folder(run: dict[str, Any]) -> None:
    folder = run["out"] / "graphiques-2025-T4"
    for chart in ("ort-signees-par-trimestre", "statut-ort-par-trimestre", "financements-par-trimestre",
                  "classeurs-par-trimestre"):
        page = (folder / f"{chart}.html").read_text("utf-8")
        assert '<html lang="fr">' in page and "2024-T4 à 2025-T4" in page, chart


@pytest.mark.browser
def test_evolution_renders_and_filters_in_chromium(run: dict[str, Any], chromium: str) -> None:
    from browser import console_errors, file_url, headless_chromium, requested_urls
    from selenium.webdriver.support.ui import Select

    page = run["out"] / "tableau-de-bord-2025-T4.html"
    with headless_chromium(chromium) as driver:
        driver.set_window_size(1400, 1600)
        driver.get(file_url(page))
        plots = driver.find_elements("css selector", "#evolution .js-plotly-plot .main-svg")
        assert len(plots) >= 4, "the four trend charts are drawn"
        assert console_errors(driver) == []
        urls = requested_urls(driver, file_url(page))
        assert all(u.split(":", 1)[0] in ("file", "data", "about", "blob") for u in urls), urls
        rows = driver.find_elements("css selector", "#t-changes tbody tr")
        Select(driver.find_element("id", "f-change-kind")).select_by_value("Jalon réalisé")
        shown = [r for r in rows if r.is_displayed()]
        assert len(shown) == 4 and all("Jalon réalisé" in r.text for r in shown)
        assert driver.find_element("id", "change-count").text == "4 changements"


def test_a_folder_holding_another_periods_workbook(schema: Schema, tmp_path: Path) -> None:
    """The period is the workbook's own, never its folder's: a 2025-T3 workbook filed under
    2025-T4/ is that territory's 2025-T3, history of the consolidated quarter."""
    make_workbook(tmp_path / "in" / "2025-T4" / "bouxwiller.xlsx", schema)
    make_workbook(tmp_path / "in" / "2025-T4" / "bouxwiller-t3.xlsx", schema,
                  territory={"period": "2025-T3", "updated_on": T1_UPDATE},
                  rows=rows_as_of(schema, T1_UPDATE))
    result = _run(str(tmp_path / "in"), "--output-dir", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "Périodes trouvées : 2025-T3 (1 classeur) · 2025-T4 (1 classeur)" in result.output
    sources = {Path(r["Fichier"]).name: r for r in _sheet(tmp_path / "out" / SUMMARY, "Sources")}
    assert sources["bouxwiller-t3.xlsx"]["Prise en compte"] == "Historique"
    assert sources["bouxwiller-t3.xlsx"]["Période de suivi"] == "2025-T3"
    assert sources["bouxwiller.xlsx"]["Prise en compte"] == "Consolidé"
    kinds = {r["Type"] for r in _sheet(tmp_path / "out" / SUMMARY, "Changements")}
    assert "Jalon réalisé" in kinds  # J5, realised on 20/11/2025, after the 2025-T3 workbook


def test_constant_perimeter_leaves_out_a_territory_new_this_quarter(schema: Schema) -> None:
    from test_consolidate import build_report

    from pvd_reporting.consolidate.figures import region_figures
    from pvd_reporting.consolidate.quarters import consolidate_history

    fin = schema.financer_fields[0].key

    def sent(period: str, updated: date, id_pvd: str, cost: float) -> Any:
        return build_report(f"{period}/{id_pvd}.xlsx", schema, actions=[
            {"action_id": "A1", "title": "Halles", "status": "En cours", "theme": "Patrimoine", "cost": cost,
             fin: cost}], form={"id_pvd": id_pvd, "name": id_pvd, "period": period, "updated_on": updated,
                                                        "siren": None})

    # pvd-44-67-1 in both quarters; pvd-44-67-2 at T-1 only; pvd-44-67-9 new this quarter.
    c = consolidate_history([sent("2025-T3", T1_UPDATE, "pvd-44-67-1", 100.0),
                             sent("2025-T3", T1_UPDATE, "pvd-44-67-2", 20.0),
                             sent("2025-T4", NOW_UPDATE, "pvd-44-67-1", 130.0),
                             sent("2025-T4", NOW_UPDATE, "pvd-44-67-9", 5000.0)], schema)
    assert c.history is not None and c.history.constant is not None
    constant = c.history.constant
    # The new territory is listed « Non reçu » at T-1, yet it is on neither side.
    assert [t.key for t in constant.previous.territories] == ["pvd-44-67-1"]
    assert [t.key for t in constant.current.territories] == ["pvd-44-67-1"]
    figures = region_figures(c, schema)
    assert figures.constant == 1
    assert (figures["cost"].constant_previous, figures["cost"].constant_current) == (100.0, 130.0)
    assert (figures["received"].constant_previous, figures["received"].constant_current) == (1, 1)
    assert (figures["cost"].previous, figures["cost"].value) == (120.0, 5130.0)


def test_a_comite_dated_in_the_future_is_never_held(schema: Schema) -> None:
    from test_consolidate import build_report

    from pvd_reporting.consolidate.quarters import consolidate_history
    from pvd_reporting.format.vocabulary import PROJECT_COMMITTEE

    def sent(period: str, updated: date, comites: list[date]) -> Any:
        return build_report(f"{period}/t.xlsx", schema, form={"period": period, "updated_on": updated},
                            comites=[(d, PROJECT_COMMITTEE) for d in comites])

    # Planned at T-1 for 15/11/2025 (after T-1's end), held since; one planned for 2027.
    c = consolidate_history([sent("2025-T3", T1_UPDATE, [date(2025, 9, 2), date(2025, 11, 15)]),
                             sent("2025-T4", NOW_UPDATE, [date(2025, 9, 2), date(2025, 11, 15),
                                                          date(2027, 3, 1)])], schema)
    assert c.history is not None
    held = [(ch.kind, ch.element) for ch in c.history.changes if ch.kind == "Comité tenu"]
    assert held == [("Comité tenu", "15/11/2025")]
    (t,) = c.territories
    assert t.comites_last4 == 2 and t.comites_by_quarter == {"2025-T1": 0, "2025-T2": 0, "2025-T3": 1, "2025-T4": 1}
