"""Published figures hold, from the referent's side: four quarters consolidated in turn into one
output folder, with the cycle's ordinary accidents, give the figures each quarter was published
with, whatever the run, the quarter asked for or the files' times on disk.

The four-quarter scenario (2025-T3, 2025-T4, 2026-T1, 2026-T2; the Meuse territories of
test_cycle_edges.py, a reference list of the Meuse):
- Commercy sends its 2025-T4 workbook late, after 2025-T4 was published (a revision);
- Ligny-en-Barrois types 2025-T1 on its 2026-T1 workbook (updated 08/04/2026);
- Montmédy sends two 2026-T1 versions the same day: `montmedy-a.xlsx` clean, `montmedy-b.xlsx`
  with an error (the later name, and the later file on disk);
- Saint-Mihiel puts back its 2026-T2 workbook, carried forward by `template --from`, untouched;
- the whole folder is copied with new, shuffled file times.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from factory import cell_of
from openpyxl import load_workbook
from test_cycle_edges import meuse_reference, reminders_csv, sheet, synthesis, territory_workbook

from pvd_reporting.cli import cli
from pvd_reporting.consolidate.published import recorded_declarations
from pvd_reporting.format.schema import Schema
from pvd_reporting.read.workbook import read_workbook

Q1, Q2, Q3, Q4 = "2025-T3", "2025-T4", "2026-T1", "2026-T2"
QUARTERS = (Q1, Q2, Q3, Q4)
UPDATED = {Q1: date(2025, 10, 10), Q2: date(2026, 1, 12), Q3: date(2026, 4, 8), Q4: date(2026, 7, 6)}
SENDS = {
    Q1: ["saint-mihiel", "bouligny", "commercy", "etain", "ligny", "montmedy"],
    Q2: ["saint-mihiel", "bouligny", "etain", "ligny", "montmedy"],  # Commercy's comes late
    Q3: ["saint-mihiel", "bouligny", "commercy", "etain"],  # Ligny's and Montmédy's are odd
    Q4: ["bouligny", "commercy"],  # Saint-Mihiel's is its carried workbook, untouched
}
DB = "historique-pvd.sqlite"


def consolidate(*args: str) -> Result:
    result = CliRunner().invoke(cli, ["consolidate", *args, "--no-images", "--workers", "1", "--no-cache"])
    assert result.exit_code == 0, result.output
    return result


def with_an_error(path: Path, schema: Schema) -> Path:
    """The workbook with its first action's cost typed as words: an error on that cell."""
    wb = load_workbook(path)
    wb[schema.table("engagements").name][cell_of(path, schema, "engagements", 0, "cost")] = "beaucoup"
    wb.save(path)
    return path


def build(root: Path, schema: Schema, period: str) -> Path:
    folder = root / period
    for key in SENDS[period]:
        territory_workbook(folder / f"{key}.xlsx", schema, key, period, UPDATED[period],
                           extra_cost=10_000.0 * QUARTERS.index(period))
    if period == Q3:
        territory_workbook(folder / "ligny.xlsx", schema, "ligny", "2025-T1", UPDATED[Q3], extra_cost=70_000.0)
        territory_workbook(folder / "montmedy-a.xlsx", schema, "montmedy", Q3, UPDATED[Q3], extra_cost=5_000.0)
        with_an_error(territory_workbook(folder / "montmedy-b.xlsx", schema, "montmedy", Q3, UPDATED[Q3],
                                         extra_cost=900_000.0), schema)
        later = folder.stat().st_mtime + 3600
        os.utime(folder / "montmedy-b.xlsx", (later, later))
    return folder


def record(out: Path) -> dict[str, dict[int, dict[str, float | None]]]:
    """Every version of every period's figures, as the history file keeps them."""
    found: dict[str, dict[int, dict[str, float | None]]] = {}
    with sqlite3.connect(out / DB) as db:
        for period, label, value, version in db.execute("SELECT periode, chiffre, valeur, version FROM chiffres"):
            found.setdefault(period, {}).setdefault(version, {})[label] = value
    return found


def fates(out: Path) -> dict[str, tuple[str, str, str]]:
    """File -> (period retained, outcome, reason), from the `classeurs` table."""
    with sqlite3.connect(out / DB) as db:
        return {f: (p, o, r) for f, p, o, r in db.execute(
            "SELECT fichier, periode_retenue, issue, raison FROM classeurs")}


def latest(out: Path) -> dict[str, dict[str, float | None]]:
    return {period: versions[max(versions)] for period, versions in record(out).items()}


def publications(out: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(out / DB) as db:
        return db.execute("SELECT periode, version, written_at, empreinte FROM publications "
                          "ORDER BY periode, version").fetchall()


@pytest.fixture(scope="module")
def scenario(schema: Schema, reference_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("record")
    root, out = base / "classeurs", base / "sorties"
    reference = meuse_reference(reference_csv, base)
    common = ["--reference", str(reference), "--output-dir", str(out)]
    runs: dict[str, Result] = {}
    snapshots: dict[str, Any] = {}
    for period in QUARTERS:
        if period == Q3:
            # 2025-T4 was published by the run before: Commercy's workbook arrives late.
            territory_workbook(root / Q2 / "commercy.xlsx", schema, "commercy", Q2, date(2026, 2, 20))
        build(root, schema, period)
        if period == Q4:
            # Carried forward from 2026-T1 by the referent, and put back by Saint-Mihiel untouched.
            carried = base / "reconduits"
            made = CliRunner().invoke(cli, ["template", "--from", str(root / Q3), "--period", Q4, "--reference",
                                            str(reference), "--region", "Grand Est", "--output-dir", str(carried),
                                            "--quiet"])
            assert made.exit_code == 0, made.output
            # Consolidated first without it: what Saint-Mihiel's untouched return must not change.
            without = consolidate(*(str(root / q) for q in QUARTERS), "--reference", str(reference),
                                  "--output-dir", str(base / "sans-retour"), "--quiet")
            snapshots["without"] = (without, latest(base / "sans-retour"))
            shutil.copyfile(carried / "pvd-44-55-7-saint-mihiel.xlsx", root / Q4 / "saint-mihiel.xlsx")
        runs[period] = consolidate(*(str(root / q) for q in QUARTERS[:QUARTERS.index(period) + 1]), *common)
        snapshots[period] = record(out)
        snapshots[f"fates {period}"] = fates(out)
    return {"base": base, "root": root, "out": out, "reference": reference, "runs": runs, **snapshots}


def test_each_quarter_in_turn_is_what_period_gives(scenario: dict[str, Any], tmp_path: Path) -> None:
    published = latest(scenario["out"])
    assert set(published) == set(QUARTERS)
    every = [str(scenario["root"] / q) for q in QUARTERS]
    for period in QUARTERS:
        out = tmp_path / period
        consolidate(*every, "--period", period, "--reference", str(scenario["reference"]), "--output-dir",
                    str(out), "--quiet")
        assert latest(out)[period] == published[period], period
    # Consolidating 2026-T2 did not touch 2026-T1: one version, written by the 2026-T1 run.
    versions = {(p, v) for p, v, _, _ in publications(scenario["out"])}
    assert versions == {(Q1, 1), (Q2, 1), (Q2, 2), (Q3, 1), (Q4, 1)}
    assert scenario[Q4][Q3] == scenario[Q3][Q3]
    # --period 2026-T1 afterwards, into (a copy of) the same folder: the published 2026-T1, no revision.
    out = tmp_path / "meme-dossier"
    shutil.copytree(scenario["out"], out)
    again = consolidate(*every, "--period", Q3, "--reference", str(scenario["reference"]), "--output-dir", str(out))
    assert "Révisions" not in again.output
    assert latest(out)[Q3] == published[Q3]
    assert publications(out) == publications(scenario["out"])


def test_the_late_workbook_is_a_revision_listing_every_changed_figure(scenario: dict[str, Any], schema: Schema) -> None:
    output = scenario["runs"][Q3].output
    assert "  Révisions : 2025-T4 (1 classeur arrivé depuis)" in output
    versions = scenario[Q3][Q2]
    before, after = versions[1], versions[2]
    # Both versions kept, each the full registry: the first is what the 2025-T4 run published.
    assert before == scenario[Q2][Q2][1]
    labels = {d.label for d in recorded_declarations(schema)}
    assert set(before) == set(after) == labels
    changed = {label for label in labels if before[label] != after[label]}
    assert {"Territoires reçus", "Territoires manquants", "Actions", "Coût total HT (€)"} <= changed
    revised = sheet(scenario["out"] / f"synthese-pvd-{Q3}.xlsx", "Révisions")
    assert {r["Chiffre"] for r in revised if r["Période"] == Q2} == changed
    assert {r["Période"] for r in revised} == {Q2}
    received = next(r for r in revised if r["Chiffre"] == "Territoires reçus")
    assert (received["Publié"], received["Révisé"]) == (5, 6)
    assert received["Cause"] == (f"Commercy (pvd-44-55-2) : classeur arrivé depuis "
                                 f"({scenario['root'] / Q2 / 'commercy.xlsx'})")
    # The next quarter's run revises nothing: no file of an earlier quarter changed.
    assert "Révisions" not in scenario["runs"][Q4].output


def test_a_mistyped_period_is_placed_by_its_content(scenario: dict[str, Any]) -> None:
    ligny = str(scenario["root"] / Q3 / "ligny.xlsx")
    # The 2026-T1 run and the 2026-T2 run place it alike: 2026-T1, counted, its period to check.
    for period in (Q3, Q4):
        retained, outcome, reason = scenario[f"fates {period}"][ligny]
        assert (retained, outcome) == (Q3, "Consolidé, période à vérifier"), period
        assert reason.startswith("Période de suivi 2025-T1 terminée le 31/03/2025")
    assert scenario[Q3][Q3][1]["Territoires reçus"] == 6  # 4 on time, Ligny and Montmédy
    # The 2026-T2 run names it with what became of it, and lists it as 2026-T1's in Sources.
    check = scenario["runs"][Q4].output
    assert f"{ligny} : Période de suivi 2025-T1 terminée le 31/03/2025" in check
    assert f"(compté pour {Q3})" in check[check.index(ligny):]
    sources = {r["Fichier"]: r["Prise en compte"] for r in sheet(scenario["out"] / f"synthese-pvd-{Q4}.xlsx", "Sources")}
    assert sources[ligny] == "Historique"
    territories = {r["Territoire"]: r["Statut ORT"] for r in sheet(scenario["out"] / f"synthese-pvd-{Q4}.xlsx",
                                                                  "Territoires")}
    assert territories["Ligny-en-Barrois"] == "Non reçu"  # nothing sent for 2026-T2


def test_two_versions_of_one_day_are_settled_by_their_content(scenario: dict[str, Any]) -> None:
    folder = scenario["root"] / Q3
    output = scenario["runs"][Q3].output
    # The version with fewer errors wins, though its name sorts first and its file is older.
    assert "montmedy-b.xlsx : Autre classeur pour le même territoire et la même période (montmedy-a.xlsx) : " \
           "deux versions du même jour : vérifier" in output
    sources = {Path(r["Fichier"]).name: r["Prise en compte"]
               for r in sheet(scenario["out"] / f"synthese-pvd-{Q3}.xlsx", "Sources") if Q3 in r["Fichier"]}
    assert sources["montmedy-a.xlsx"] == "Consolidé — deux versions du même jour : vérifier"
    assert sources["montmedy-b.xlsx"] == "Envoi en double — deux versions du même jour : vérifier"
    chased = reminders_csv(scenario["out"], Q3)
    assert chased["Montmédy"]["Motif"] == "Deux versions du même jour : vérifier"
    with sqlite3.connect(scenario["out"] / DB) as db:
        rows = dict(db.execute("SELECT fichier, issue FROM classeurs WHERE territoire = 'Montmédy' "
                               "AND periode_retenue = ?", (Q3,)).fetchall())
    assert rows == {str(folder / "montmedy-a.xlsx"): "Consolidé — deux versions du même jour : vérifier",
                    str(folder / "montmedy-b.xlsx"): "Envoi en double — deux versions du même jour : vérifier"}


def test_an_untouched_return_is_not_filled(scenario: dict[str, Any]) -> None:
    run, figures = scenario["runs"][Q4], latest(scenario["out"])[Q4]
    _, without = scenario["without"]
    # Saint-Mihiel's 2026-T1 money does not come back as a 2026-T2 report.
    for label in ("Territoires reçus", "Coût total HT (€)", "Total des financements (€)", "Actions"):
        assert figures[label] == without[Q4][label], label
    assert figures["Territoires reçus"] == 2
    assert figures["dont classeurs renvoyés non remplis"] == 1
    chased = reminders_csv(scenario["out"], Q4)
    assert chased["Saint-Mihiel"]["Motif"] == "Classeur renvoyé sans modification"
    assert "Territoires reçus : 2 sur 9 attendus" in run.output
    with sqlite3.connect(scenario["out"] / DB) as db:
        outcome, reason = db.execute("SELECT issue, raison FROM classeurs WHERE fichier = ?",
                                     (str(scenario["root"] / Q4 / "saint-mihiel.xlsx"),)).fetchone()
    assert outcome == "Non rempli" and reason.startswith("classeur renvoyé sans modification")


def test_a_copy_with_new_file_times_publishes_the_same(scenario: dict[str, Any], tmp_path: Path) -> None:
    copy = tmp_path / "copie"
    shutil.copytree(scenario["root"], copy)
    files = sorted(copy.rglob("*.xlsx"))
    times = list(range(len(files)))
    random.Random(27).shuffle(times)
    for path, t in zip(files, times, strict=True):
        os.utime(path, (1_700_000_000 + 3600 * t, 1_700_000_000 + 3600 * t))
    out = tmp_path / "sorties"
    consolidate(*(str(copy / q) for q in QUARTERS), "--reference", str(scenario["reference"]),
                "--output-dir", str(out), "--quiet")
    assert latest(out) == latest(scenario["out"])
    # The same files, named the same: the same digest for each period's set of files.
    digests = {p: d for p, _, _, d in publications(out)}
    assert digests == {p: d for p, v, _, d in publications(scenario["out"]) if v == max(
        v2 for p2, v2, _, _ in publications(scenario["out"]) if p2 == p)}


def test_template_from_carries_the_workbook_its_content_places_last(scenario: dict[str, Any], schema: Schema,
                                                                    tmp_path: Path) -> None:
    # Ligny's latest workbook is its 2026-T1 one, typed « 2025-T1 »: carried, not its 2025-T4 one.
    root, out = scenario["root"], tmp_path / "modeles"
    result = CliRunner().invoke(cli, ["template", "--from", str(root / Q2), str(root / Q3), "--period", Q4,
                                      "--reference", str(scenario["reference"]), "--region", "Grand Est",
                                      "--output-dir", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    data, _ = read_workbook(next(out.glob("pvd-44-55-4-*.xlsx")), schema)
    assert data is not None and data.tables["engagements"][0].values["cost"] == 1_450_000.0 + 70_000.0
    # Montmédy's two same-day versions: the one consolidation kept is the one carried.
    data, _ = read_workbook(next(out.glob("pvd-44-55-5-*.xlsx")), schema)
    assert data is not None and data.tables["engagements"][0].values["cost"] == 1_500_000.0 + 5_000.0


def test_an_unchanged_quarter_is_read_back_not_recomputed(scenario: dict[str, Any], tmp_path: Path) -> None:
    # The record says otherwise than a recomputation would: what a run shows is the record.
    out = tmp_path / "sorties"
    shutil.copytree(scenario["out"], out)
    with sqlite3.connect(out / DB) as db:
        db.execute("UPDATE chiffres SET valeur = 1 WHERE periode = ? AND chiffre = 'Coût total HT (€)'", (Q3,))
        db.execute("UPDATE territoires SET cout_total_ht = 1 WHERE periode = ? AND cout_total_ht > 0", (Q2,))
    consolidate(*(str(scenario["root"] / q) for q in QUARTERS), "--reference", str(scenario["reference"]),
                "--output-dir", str(out), "--quiet")
    header, figures = synthesis(out / f"synthese-pvd-{Q4}.xlsx")
    previous = next(i for i, h in enumerate(header) if str(h).startswith("T-1") and "constant" not in str(h))
    assert figures["Coût total HT (€)"][previous] == 1
    with sqlite3.connect(out / DB) as db:
        costs = {v for (v,) in db.execute("SELECT DISTINCT cout_total_ht FROM territoires WHERE periode = ? "
                                          "AND cout_total_ht > 0", (Q2,))}
    assert costs == {1}
    assert publications(out) == publications(scenario["out"])


def test_a_late_workbook_of_the_quarter_consolidated_is_a_revision_too(scenario: dict[str, Any], schema: Schema,
                                                                        tmp_path: Path) -> None:
    """2026-T2 was published by the 2026-T2 run; Étain's 2026-T2 workbook arrives after: run again,
    2026-T2 gets a second version, and every figure it changes is listed with its cause."""
    out, root = tmp_path / "sorties", tmp_path / "classeurs"
    shutil.copytree(scenario["out"], out)
    shutil.copytree(scenario["root"], root)
    late = territory_workbook(root / Q4 / "etain.xlsx", schema, "etain", Q4, date(2026, 7, 20))
    # Étain's ADEME money moves the shares of every financer.
    wb = load_workbook(late)
    wb[schema.table("engagements").name][cell_of(late, schema, "engagements", 0, "fin_6")] = 400_000
    wb.save(late)
    again = consolidate(*(str(root / q) for q in QUARTERS), "--reference", str(scenario["reference"]),
                        "--output-dir", str(out))
    assert "  Révisions : 2026-T2 (1 classeur arrivé depuis)" in again.output
    versions = record(out)[Q4]
    assert sorted(versions) == [1, 2]
    assert versions[1] == scenario[Q4][Q4][1]
    changed = {label for label in versions[1] if versions[1][label] != versions[2][label]}
    assert {"Territoires reçus", "Territoires manquants"} <= changed
    revised = sheet(out / f"synthese-pvd-{Q4}.xlsx", "Révisions")
    assert {r["Période"] for r in revised} == {Q4}
    assert {r["Chiffre"] for r in revised} == changed
    received = next(r for r in revised if r["Chiffre"] == "Territoires reçus")
    assert (received["Publié"], received["Révisé"]) == (2, 3)
    # A share is written as a share: its change is not rounded to the cent.
    kinds = {d.label: d.kind for d in recorded_declarations(schema)}
    shares = [r for r in revised if kinds[r["Chiffre"]] == "share" and r["Publié"] not in (None, "—")]
    assert shares
    for r in shares:
        assert 0 <= r["Révisé"] <= 1 and r["Écart"] == pytest.approx(r["Révisé"] - r["Publié"], abs=1e-9)
    assert received["Cause"] == f"Étain (pvd-44-55-3) : classeur arrivé depuis ({late})"
    # The earlier quarters' files did not change: they are not revised, nor given a new version.
    assert {(p, v) for p, v, _, _ in publications(out)} == {(p, v) for p, v, _, _ in publications(scenario["out"])} | {(Q4, 2)}
