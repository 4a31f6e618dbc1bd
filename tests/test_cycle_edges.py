"""The cycle's edges, from the referent's side: workbooks in quarter folders, `pvd-report
consolidate` (and `template --from`) run as a user runs them, and what the referent then reads in
the console, the reminders CSV and drafts, the summary workbook and the dashboard.

The three-quarter scenario (2025-T3, 2025-T4, 2026-T1), DDT de la Meuse (`--departement 55`):
- Saint-Mihiel sends every quarter; Bouligny (pvd-44-5455-1, communes in Meuse and
  Meurthe-et-Moselle, its form says 54) too;
- Commercy sends its 2025-T4 workbook late, after 2025-T4 was published;
- Étain sends its 2025-T4 file again, unchanged, as its 2026-T1 workbook;
- Ligny-en-Barrois mistypes its 2026-T1 period as 2025-T1;
- Montmédy stops sending after 2025-T4;
- Givet (Ardennes) and Vittel (Vosges), other départements, are in the same folders; Vittel stops
  sending too.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3
from datetime import date
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from factory import baseline_rows, cell_of, make_workbook, rows_as_of
from openpyxl import load_workbook

from pvd_reporting.cli import cli
from pvd_reporting.format.issues import ISSUE_TYPES, Severity
from pvd_reporting.format.schema import Schema, build_schema
from pvd_reporting.read.workbook import read_workbook

T3, T4, T1 = "2025-T3", "2025-T4", "2026-T1"
UPDATED = {T3: date(2025, 10, 10), T4: date(2026, 1, 12), T1: date(2026, 4, 8)}
MISTYPED = "2025-T1"

# key -> (id, name, département on the form, SIREN, communes (INSEE, name), cost of its first action)
TERRITORIES: dict[str, tuple[str, str, str, str, list[tuple[str, str]], float]] = {
    "saint-mihiel": ("pvd-44-55-7", "Saint-Mihiel", "55", "245500327", [("55463", "Saint-Mihiel")], 1_250_000.0),
    "bouligny": ("pvd-44-5455-1", "Bouligny", "54", "200070290",
                 [("55063", "Bouligny"), ("54425", "Piennes")], 1_300_000.0),
    "commercy": ("pvd-44-55-2", "Commercy", "55", "200066157", [("55122", "Commercy")], 1_350_000.0),
    "etain": ("pvd-44-55-3", "Étain", "55", "245501242", [("55181", "Étain")], 1_400_000.0),
    "ligny": ("pvd-44-55-4", "Ligny-en-Barrois", "55", "200033025", [("55291", "Ligny-en-Barrois")], 1_450_000.0),
    "montmedy": ("pvd-44-55-5", "Montmédy", "55", "245501259", [("55351", "Montmédy")], 1_500_000.0),
    "givet": ("pvd-44-08-4", "Givet", "08", "240800821", [("08190", "Givet")], 1_600_000.0),
    "vittel": ("pvd-44-88-5", "Vittel", "88", "200068682", [("88516", "Vittel")], 1_700_000.0),
}
# Who sends what, on time (Commercy's 2025-T4 comes late; Étain's and Ligny's 2026-T1 are odd).
SENDS = {
    T3: ["saint-mihiel", "bouligny", "commercy", "etain", "ligny", "montmedy", "givet", "vittel"],
    T4: ["saint-mihiel", "bouligny", "etain", "ligny", "montmedy", "givet", "vittel"],
    T1: ["saint-mihiel", "bouligny", "commercy", "givet"],
}


def territory_workbook(path: Path, schema: Schema, key: str, period: str, updated_on: date,
                       *, extra_cost: float = 0.0) -> Path:
    id_pvd, name, department, siren, communes, cost = TERRITORIES[key]
    base = baseline_rows(schema)
    town = schema.lists["role_commune"][0]
    lead = dict(base["annuaire"][0], name=f"Chef {name}", email=f"chef@{key}.example.fr",
                organisation=f"Commune de {name}")
    first = dict(base["engagements"][0], commune=communes[0][1], cost=cost + extra_cost)
    rows = rows_as_of(schema, updated_on, {
        "communes": [{"insee": i, "name": n, "population": 3000, "role": town} for i, n in communes],
        "engagements": [first, *base["engagements"][1:]],
        "annuaire": [lead, *base["annuaire"][1:]],
    })
    return make_workbook(path, schema, rows=rows, territory={
        "id_pvd": id_pvd, "name": name, "department": department, "siren": siren, "epci": f"CC de {name}",
        "period": period, "updated_on": updated_on, "project_lead": f"Chef {name}"})


def build_quarter(root: Path, schema: Schema, period: str) -> Path:
    folder = root / period
    for key in SENDS[period]:
        territory_workbook(folder / f"{key}.xlsx", schema, key, period, UPDATED[period])
    if period == T1:
        # Étain sends its 2025-T4 file again; Ligny types 2025-T1 for 2026-T1.
        shutil.copyfile(root / T4 / "etain.xlsx", folder / "etain.xlsx")
        territory_workbook(folder / "ligny.xlsx", schema, "ligny", MISTYPED, UPDATED[T1], extra_cost=50_000.0)
    return folder


def consolidate(*args: str) -> Result:
    return CliRunner().invoke(cli, ["consolidate", *args, "--quiet", "--no-images", "--workers", "1"])


def reminders_csv(out: Path, period: str) -> dict[str, dict[str, str]]:
    text = (out / f"relances-{period}.csv").read_text(encoding="utf-8-sig")
    return {row["Territoire"]: row for row in csv.DictReader(io.StringIO(text), delimiter=";")}


def drafts(out: Path, period: str) -> dict[str, Any]:
    folder = out / f"relances-{period}"
    found = {}
    for path in sorted(folder.glob("*.eml")) if folder.is_dir() else []:
        msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        found[str(msg["To"])] = msg
    return found


def sheet(path: Path, name: str) -> list[dict[str, Any]]:
    wb = load_workbook(path, read_only=True)
    try:
        rows = list(wb[name].iter_rows(values_only=True))
    finally:
        wb.close()
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:] if any(v is not None for v in r)]


def synthesis(path: Path) -> tuple[list[Any], dict[str, list[Any]]]:
    """(the header row of the figures, figure label -> its row) of Synthèse."""
    wb = load_workbook(path, read_only=True)
    try:
        rows = list(wb["Synthèse"].iter_rows(values_only=True))
    finally:
        wb.close()
    start = next(i for i, r in enumerate(rows) if r[0] == "Chiffre")
    figures = {}
    for r in rows[start + 1:]:
        if not r[0]:
            break
        figures[r[0]] = list(r)
    return list(rows[start]), figures


@pytest.fixture(scope="module")
def cycle(schema: Schema, reference_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run 1 publishes 2025-T4; Commercy's late 2025-T4 and the 2026-T1 folder arrive; run 2."""
    root = tmp_path_factory.mktemp("cycle") / "classeurs"
    out = tmp_path_factory.mktemp("cycle-out") / "sorties"
    for period in (T3, T4):
        build_quarter(root, schema, period)
    scope = ["--reference", str(reference_csv), "--departement", "55", "--output-dir", str(out)]
    first = consolidate(str(root / T3), str(root / T4), *scope)
    assert first.exit_code == 0, first.output
    published = {"summary": synthesis(out / f"synthese-pvd-{T4}.xlsx"),
                 "reminders": reminders_csv(out, T4)}
    territory_workbook(root / T4 / "commercy.xlsx", schema, "commercy", T4, date(2026, 2, 20))
    build_quarter(root, schema, T1)
    second = consolidate(str(root / T3), str(root / T4), str(root / T1), *scope)
    assert second.exit_code == 0, second.output
    return {"root": root, "out": out, "first": first, "second": second, "published": published}


# --- the three-quarter scenario -----------------------------------------------------------------

SENT_T1 = {"Saint-Mihiel", "Bouligny", "Commercy", "Givet"}  # who sent a 2026-T1 workbook


def test_no_reminder_goes_to_a_territory_that_sent(cycle: dict[str, Any]) -> None:
    out = cycle["out"]
    chased = reminders_csv(out, T1)
    assert not SENT_T1 & set(chased), chased
    assert {"Vittel", "Givet"}.isdisjoint(chased)  # other départements: not the DDT's to chase
    assert chased["Montmédy"]["Motif"] == "Non reçu"
    assert chased["Étain"]["Motif"] == "Classeur de 2025-T4 renvoyé tel quel"
    assert chased["Ligny-en-Barrois"]["Motif"] == "Période à vérifier (2025-T1 déclarée, mise à jour le 08/04/2026)"
    # Meuse territories that never sent are chased; every one chased is of the Meuse.
    assert {"Revigny-sur-Ornain", "Stenay", "Vaucouleurs"} <= set(chased)
    assert {row["Département"] for row in chased.values()} == {"55"}
    mails = drafts(out, T1)
    to = " ".join(mails)
    for key in ("saint-mihiel", "bouligny", "commercy", "givet", "vittel"):
        assert f"chef@{key}.example.fr" not in to
    etain = next(m for k, m in mails.items() if "chef@etain" in k)
    body = etain.get_body(preferencelist=("plain",)).get_content()
    assert "renvoyé tel quel" in body and "nous n'avons pas reçu" not in body
    ligny = next(m for k, m in mails.items() if "chef@ligny" in k)
    body = ligny.get_body(preferencelist=("plain",)).get_content()
    assert "2025-T1" in body and "08/04/2026" in body and "nous n'avons pas reçu" not in body


def test_the_first_run_chases_only_the_meuse(cycle: dict[str, Any]) -> None:
    chased = cycle["published"]["reminders"]
    assert set(chased) == {"Commercy", "Revigny-sur-Ornain", "Stenay", "Vaucouleurs"}
    assert chased["Commercy"]["Motif"] == "Non reçu"


def test_console_of_one_departement(cycle: dict[str, Any]) -> None:
    output = cycle["second"].output
    assert output.startswith(f"Consolidation Grand Est — Meuse (55) — période {T1}")
    assert "Territoires reçus : 4 sur 9 attendus" in output
    # Five workbooks of Givet and Vittel over three quarters: one line, not five.
    assert "    5 classeurs d'autres départements, non consolidés" in output
    assert "givet.xlsx" not in output and "vittel.xlsx" not in output
    # Last quarter's file again, named as a resend; the mistyped period, named with its file.
    assert "etain.xlsx : Classeur identique, octet pour octet (même empreinte SHA-256)" in output
    assert "c'est le classeur de 2025-T4 renvoyé tel quel, il ne compte pas pour 2026-T1" in output
    check = output[output.index("Périodes à vérifier : 1"):]
    assert f"{cycle['root'] / T1 / 'ligny.xlsx'} : Période de suivi 2025-T1 terminée le 31/03/2025" in check
    assert "(compté pour 2026-T1" in check
    # No phantom 2025-T1 quarter.
    # The workbooks of the Meuse (Givet's and Vittel's are the line above).
    assert "Périodes trouvées : 2025-T3 (6 classeurs) · 2025-T4 (6 classeurs) · 2026-T1 (4 classeurs)" in output


def test_no_published_figure_changes_without_a_revision_line(cycle: dict[str, Any]) -> None:
    out, output = cycle["out"], cycle["second"].output
    assert "  Révisions : 2025-T4 (1 classeur arrivé depuis)" in output
    revised = sheet(out / f"synthese-pvd-{T1}.xlsx", "Révisions")
    by_figure = {(r["Période"], r["Chiffre"]): r for r in revised}
    received = by_figure[(T4, "Territoires reçus")]
    assert (received["Publié"], received["Révisé"]) == (5, 6)
    assert received["Cause"] == f"Commercy (pvd-44-55-2) : classeur arrivé depuis ({cycle['root'] / T4 / 'commercy.xlsx'})"
    # What run 1 published for 2025-T4 is the « Publié » of every line; Commercy's cost is the gap.
    _, published = cycle["published"]["summary"]
    commercy_cost = 1_350_000.0 + 45_000 + 850_000 + 2_500_000
    cost = by_figure[(T4, "Coût total HT (€)")]
    assert cost["Publié"] == published["Coût total HT (€)"][1]
    assert cost["Révisé"] - cost["Publié"] == pytest.approx(commercy_cost)
    # Every figure of every earlier period that moved has its line, and only those.
    with sqlite3.connect(out / "historique-pvd.sqlite") as db:
        now = {(p, f): v for p, f, v in db.execute("SELECT periode, chiffre, valeur FROM chiffres")}
    first = {(T4, label): None if row[1] == "—" else row[1] for label, row in published.items() if (T4, label) in now}
    assert len(first) == len(published) - 1  # every row of Synthèse but the perimeter's text

    def differs(a: Any, b: Any) -> bool:
        return (a is None) != (b is None) if a is None or b is None else bool(round(a - b, 2))

    moved = {k for k, v in first.items() if differs(v, now[k])}
    assert moved == set(by_figure) - {k for k in by_figure if k[0] != T4}
    assert {(T4, "Territoires reçus"), (T4, "Coût total HT (€)"), (T4, "Total des financements (€)"),
            (T4, "Reste à financer (€)"), (T4, "Actions"), (T4, "Territoires manquants")} <= moved
    # The préfet reading the dashboard is told too.
    page = (out / f"tableau-de-bord-{T1}.html").read_text("utf-8")
    assert "Chiffres déjà publiés révisés" in page
    assert f"<li>{T4} — Territoires reçus : 5 publié, 6 maintenant (1 classeur arrivé depuis)</li>" in page


def test_every_workbook_read_is_in_sources(cycle: dict[str, Any]) -> None:
    sources = sheet(cycle["out"] / f"synthese-pvd-{T1}.xlsx", "Sources")
    files = sorted(str(p) for p in cycle["root"].rglob("*.xlsx"))
    assert sorted(r["Fichier"] for r in sources) == files
    fate = {r["Fichier"]: r["Prise en compte"] for r in sources}
    assert fate[str(cycle["root"] / T1 / "etain.xlsx")] == "Renvoi tel quel"
    assert fate[str(cycle["root"] / T1 / "ligny.xlsx")] == "Consolidé, période à vérifier"
    assert fate[str(cycle["root"] / T4 / "givet.xlsx")] == "Autre département"


def test_the_two_departement_territory_is_in_both_scopes(cycle: dict[str, Any], reference_csv: Path,
                                                         tmp_path: Path) -> None:
    for code in ("54", "55"):
        out = tmp_path / code
        result = consolidate(str(cycle["root"] / T4), "--reference", str(reference_csv), "--departement", code,
                             "--output-dir", str(out))
        assert result.exit_code == 0, result.output
        territories = {r["Identifiant PVD"]: r for r in sheet(out / f"synthese-pvd-{T4}.xlsx", "Territoires")}
        assert territories["pvd-44-5455-1"]["Statut ORT"] != "Non reçu"
        assert "Bouligny" not in reminders_csv(out, T4)


def test_t1_on_a_constant_perimeter(cycle: dict[str, Any]) -> None:
    header, figures = synthesis(cycle["out"] / f"synthese-pvd-{T1}.xlsx")
    # Received in 2025-T4 and 2026-T1: Saint-Mihiel, Bouligny, Commercy (late), Ligny-en-Barrois.
    on = "4 territoires reçus aux deux trimestres"
    assert header[4] == f"T-1 à périmètre constant ({T4}, {on})"
    assert header[5] == f"{T1} à périmètre constant ({on})"
    others = 45_000 + 850_000 + 2_500_000
    costs = [1_250_000.0, 1_300_000.0, 1_350_000.0, 1_450_000.0]
    cost = figures["Coût total HT (€)"]
    assert cost[4] == pytest.approx(sum(costs) + 4 * others)
    assert cost[5] == pytest.approx(sum(costs) + 4 * others + 50_000)  # Ligny's action grew
    # Plain T-1 counts Étain and Montmédy too: money « falls » by what they did not send.
    assert cost[2] == pytest.approx(sum(costs) + 1_400_000 + 1_500_000 + 6 * others)
    assert cost[1] < cost[2] and cost[5] > cost[4]
    assert figures["Territoires reçus"][4:6] == [4, 4]
    assert figures["Territoires attendus (liste de référence)"][4:6] == ["—", "—"]


# --- template --from: what it could not carry -------------------------------------------------------

def meuse_reference(reference_csv: Path, folder: Path) -> Path:
    """The reference list of the Meuse's territories only: a région of 9 territories, quick to write."""
    lines = reference_csv.read_text(encoding="utf-8").splitlines()
    kept = [lines[0], *(line for line in lines[1:] if line.split(",")[4] == "55")]
    path = folder / "meuse.csv"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return path


def test_template_from_names_who_gets_a_blank_workbook(cycle: dict[str, Any], reference_csv: Path,
                                                       tmp_path: Path) -> None:
    # Last quarter's folder only: Montmédy skipped it (it sent 2025-T4, in the folder beside it).
    reference = meuse_reference(reference_csv, tmp_path)
    result = CliRunner().invoke(cli, ["template", "--from", str(cycle["root"] / T1), "--reference",
                                      str(reference), "--region", "Grand Est", "--output-dir",
                                      str(tmp_path / "modeles"), "--quiet"])
    assert result.exit_code == 0, result.output
    montmedy = cycle["root"] / T4 / "montmedy.xlsx"
    assert (f"Montmédy (pvd-44-55-5) reçoit un classeur vierge pré-rempli alors qu'il a envoyé un classeur "
            f"en {T4} ({montmedy}), dossier non donné") in result.output
    assert "donnez le dossier de chaque trimestre (ou le fichier historique-pvd.sqlite" in result.output
    # Those who sent in the quarter given are carried, not named.
    assert "Saint-Mihiel (pvd-44-55-7) reçoit" not in result.output


def test_template_from_the_history_file_carries_every_quarter(cycle: dict[str, Any], reference_csv: Path,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "modeles"
    result = CliRunner().invoke(cli, ["template", "--from", str(cycle["root"] / T1),
                                      str(cycle["out"] / "historique-pvd.sqlite"), "--period", "2026-T2",
                                      "--output-dir", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    # Montmédy's 2025-T4 workbook, recorded in the history file, is carried into 2026-T2.
    assert (out / "pvd-44-55-5-montmedy.xlsx").is_file()
    assert "reçoit un classeur vierge" not in result.output


# --- a period that does not fit -------------------------------------------------------------------

def _validate_codes(path: Path) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["validate", str(path), "--format", "json"])
    return json.loads(result.output)["workbooks"][0]["issues"]


def test_period_before_update_is_a_warning_on_its_cell(schema: Schema, tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "t.xlsx", schema, territory={"period": "2025-T1", "updated_on": date(2026, 4, 3)})
    found = [i for i in _validate_codes(path) if i["code"] == "period-before-update"]
    assert len(found) == 1 and found[0]["severity"] == "warning"
    assert (found[0]["sheet"], found[0]["cell"]) == ("Territoire", cell_of(path, schema, "territoire", 0, "period"))
    assert found[0]["message"].startswith("Période de suivi 2025-T1 terminée le 31/03/2025, plus de six mois avant "
                                          "la date de mise à jour (03/04/2026)")
    assert ISSUE_TYPES["period-before-update"].severity == Severity.WARNING


@pytest.mark.parametrize(("period", "updated_on"), [
    ("2025-T4", date(2026, 1, 20)),  # the ordinary case: the quarter's workbook, sent in January
    ("2025-T4", date(2026, 6, 30)),  # six months after the quarter's end: still not flagged
    ("2025-T4", date(2025, 12, 15)),
])
def test_an_ordinary_late_sending_is_not_flagged(schema: Schema, tmp_path: Path, period: str,
                                                 updated_on: date) -> None:
    path = make_workbook(tmp_path / "t.xlsx", schema, territory={"period": period, "updated_on": updated_on})
    codes = {i["code"] for i in _validate_codes(path)}
    assert not codes & {"period-before-update", "period-after-update"}


def test_a_period_after_the_update_does_not_drive_the_quarter(schema: Schema, reference_csv: Path,
                                                              tmp_path: Path) -> None:
    # Two 2025-T4 workbooks; Commercy types 2026-T1 on a workbook updated on 15/12/2025.
    folder = tmp_path / "recus"
    territory_workbook(folder / "saint-mihiel.xlsx", schema, "saint-mihiel", T4, date(2026, 1, 10))
    territory_workbook(folder / "commercy.xlsx", schema, "commercy", T1, date(2025, 12, 15))
    out = tmp_path / "out"
    result = consolidate(str(folder), "--reference", str(meuse_reference(reference_csv, tmp_path)),
                         "--output-dir", str(out))
    assert result.exit_code == 0, result.output
    # 2025-T4 is consolidated, not a 2026-T1 of one workbook; Commercy counts, named with its file.
    assert f"période {T4}" in result.output.splitlines()[0]
    assert "Territoires reçus : 2 sur 9 attendus" in result.output
    check = result.output[result.output.index("Périodes à vérifier : 1"):]
    assert f"{folder / 'commercy.xlsx'} : Période de suivi 2026-T1 postérieure au trimestre" in check
    assert f"(compté pour {T4}" in check
    chased = reminders_csv(out, T4)
    assert chased["Commercy"]["Motif"] == "Période à vérifier (2026-T1 déclarée, mise à jour le 15/12/2025)"
    assert not (out / f"synthese-pvd-{T1}.xlsx").exists()


def test_a_period_far_back_opens_no_quarter_of_its_own(schema: Schema, reference_csv: Path, tmp_path: Path) -> None:
    folder = tmp_path / "recus"
    territory_workbook(folder / "saint-mihiel.xlsx", schema, "saint-mihiel", T1, date(2026, 4, 2))
    territory_workbook(folder / "ligny.xlsx", schema, "ligny", MISTYPED, date(2026, 4, 3))
    out = tmp_path / "out"
    result = consolidate(str(folder), "--reference", str(meuse_reference(reference_csv, tmp_path)),
                         "--output-dir", str(out))
    assert result.exit_code == 0, result.output
    assert f"Périodes trouvées : {T1} (2 classeurs)" in result.output
    evolution = sheet(out / f"synthese-pvd-{T1}.xlsx", "Évolution")
    assert {r["Période"] for r in evolution} == {T1}  # no 2025-T1 column, no 2025-T1 chart
    territories = {r["Territoire"]: r for r in sheet(out / f"synthese-pvd-{T1}.xlsx", "Territoires")}
    assert territories["Ligny-en-Barrois"]["Statut ORT"] != "Non reçu"
    assert not (out / f"graphiques-{T1}" / "financements-par-trimestre.html").exists()


# --- what the dashboard and À retenir say ---------------------------------------------------------------

def test_a_retenir_names_who_stopped_sending(cycle: dict[str, Any]) -> None:
    wb = load_workbook(cycle["out"] / f"synthese-pvd-{T1}.xlsx", read_only=True)
    rows = [r for r in wb["Synthèse"].iter_rows(values_only=True)]
    wb.close()
    stopped = [r for r in rows if r[0] == "A cessé d'envoyer"]
    # Étain sent nothing new either: last quarter's file again.
    assert [r[1] for r in stopped] == ["Étain", "Montmédy"]
    assert stopped[1][8] == ("dernier classeur reçu : 2025-T4 ; statut ORT alors : Dans les temps ; "
                             "coût 4 895 000 €")
    assert stopped[0][8].endswith(" ; classeur de 2025-T4 renvoyé tel quel")
    not_received = next(r for r in rows if r[0] == "Classeurs non reçus")
    assert "Montmédy" not in str(not_received[1])
    page = (cycle["out"] / f"tableau-de-bord-{T1}.html").read_text("utf-8")
    retenir = page[page.index('id="h-a-retenir"'):page.index('id="h-financements"')]
    assert "A cessé d&#39;envoyer" in retenir and "dernier classeur reçu : 2025-T4" in retenir


def test_a_missing_territorys_panel_shows_its_last_known_figures(cycle: dict[str, Any]) -> None:
    page = (cycle["out"] / f"tableau-de-bord-{T1}.html").read_text("utf-8")
    start = page.index('<h3 id="ph-', page.index(">Montmédy</h3>") - 40)
    panel = page[start:page.index("</section>", start)]
    assert "Classeur non reçu pour la période 2026-T1." in panel
    assert "Derniers chiffres connus : 2025-T4" in panel
    assert "4\u202f895\u202f000\u202f€" in panel
    # A territory that never sent has no last figures.
    start = page.index('<h3 id="ph-', page.index(">Stenay</h3>") - 40)
    assert "Derniers chiffres connus" not in page[start:page.index("</section>", start)]


def test_money_per_quarter_states_its_territories(cycle: dict[str, Any]) -> None:
    page = (cycle["out"] / f"tableau-de-bord-{T1}.html").read_text("utf-8")
    ticks = [json.loads(m) for m in re.findall(r'"ticktext":(\[[^\]]*\])', page)]
    assert [f"{T3}<br>6 territoires reçus", f"{T4}<br>6 territoires reçus", f"{T1}<br>4 territoires reçus"] in ticks


def test_a_history_file_of_an_earlier_release_is_compared_too(cycle: dict[str, Any], schema: Schema,
                                                              tmp_path: Path) -> None:
    from pvd_reporting.outputs.history_read import read_published

    db = tmp_path / "historique-pvd.sqlite"
    shutil.copyfile(cycle["out"] / "historique-pvd.sqlite", db)
    recorded = read_published(db, schema)
    with sqlite3.connect(db) as con:
        con.execute("DROP TABLE chiffres")
    older = read_published(db, schema)
    assert recorded is not None and older is not None
    # An older file gives the figures its `territoires` rows hold, as the newer one records them.
    assert set(older.figures) == set(recorded.figures) and older.scope == "Grand Est — Meuse (55)"
    for period, figures in older.figures.items():
        assert len(figures) == 5
        assert figures == {label: recorded.figures[period][label] for label in figures}


def test_a_history_file_of_another_scope_is_not_compared(cycle: dict[str, Any], reference_csv: Path,
                                                         tmp_path: Path) -> None:
    out = tmp_path / "sorties"
    shutil.copytree(cycle["out"], out)
    result = consolidate(str(cycle["root"] / T3), str(cycle["root"] / T4), "--reference", str(reference_csv),
                         "--departement", "08", "--output-dir", str(out))
    assert result.exit_code == 0, result.output
    assert ("Révisions non comparées : la base historique-pvd.sqlite du dossier de sortie portait sur « Grand Est "
            "— Meuse (55) », cette consolidation sur « Grand Est — Ardennes (08) ».") in result.output
    assert "  Révisions :" not in result.output


def test_every_output_is_the_departements_scope(cycle: dict[str, Any]) -> None:
    out = cycle["out"]
    # Anomalies: another département's workbook is named with its reason only.
    text = (out / f"anomalies-{T1}.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    others = [r for r in rows if "givet.xlsx" in ";".join(r) or "vittel.xlsx" in ";".join(r)]
    assert others and all("other-department" in r for r in others)
    page = (out / f"tableau-de-bord-{T1}.html").read_text("utf-8")
    assert "<h1>Petites villes de demain — Grand Est — Meuse (55)</h1>" in page
    assert "5 classeurs d&#39;autres départements" in page and "givet.xlsx" not in page
    wb = load_workbook(out / f"synthese-pvd-{T1}.xlsx", read_only=True)
    assert next(wb["Synthèse"].iter_rows(max_row=1, values_only=True))[0] == \
        "Petites villes de demain — synthèse Grand Est — Meuse (55)"
    wb.close()
    territories = {r["Identifiant PVD"] for r in sheet(out / f"synthese-pvd-{T1}.xlsx", "Territoires")}
    assert "pvd-44-5455-1" in territories and not {"pvd-44-08-4", "pvd-44-88-5"} & territories
    assert len(territories) == 9


def test_template_region_of_one_departement_includes_the_two_departement_territory(reference_csv: Path,
                                                                                    tmp_path: Path) -> None:
    out = tmp_path / "meurthe-et-moselle"
    result = CliRunner().invoke(cli, ["template", "--region", "Grand Est", "--departement", "54", "--reference",
                                      str(reference_csv), "--output-dir", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.glob("*.xlsx")}
    assert any(n.startswith("pvd-44-5455-1-") for n in names)
    assert all(n.startswith(("pvd-44-54-", "pvd-44-5455-1-")) for n in names)


def test_two_copies_in_one_folder_are_a_duplicate_not_a_resend(schema: Schema, tmp_path: Path) -> None:
    folder = tmp_path / T4
    territory_workbook(folder / "etain.xlsx", schema, "etain", T4, UPDATED[T4])
    shutil.copyfile(folder / "etain.xlsx", folder / "etain (copie).xlsx")
    result = consolidate(str(folder), "--output-dir", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    sources = {Path(r["Fichier"]).name: r["Prise en compte"] for r in
               sheet(tmp_path / "out" / f"synthese-pvd-{T4}.xlsx", "Sources")}
    assert sorted(sources.values()) == ["Consolidé", "Envoi en double"]
    assert "renvoyé tel quel" not in result.output


def test_template_from_one_folder_says_what_it_cannot_know(schema: Schema, reference_csv: Path,
                                                           tmp_path: Path) -> None:
    territory_workbook(tmp_path / "recus" / "saint-mihiel.xlsx", schema, "saint-mihiel", T1, UPDATED[T1])
    result = CliRunner().invoke(cli, ["template", "--from", str(tmp_path / "recus"), "--reference",
                                      str(meuse_reference(reference_csv, tmp_path)), "--region", "Grand Est",
                                      "--output-dir", str(tmp_path / "modeles"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert ("8 territoires sans classeur dans les sources données (trimestres donnés : 2026-T1) reçoivent un "
            "classeur vierge, pré-rempli depuis la liste de référence : ") in result.output
    assert "Montmédy (pvd-44-55-5)" in result.output
    assert "donnez le dossier de chaque trimestre (ou le fichier historique-pvd.sqlite" in result.output


def test_template_from_of_one_departement_carries_its_territories_only(cycle: dict[str, Any], reference_csv: Path,
                                                                       tmp_path: Path) -> None:
    # A DDT referent of Meurthe-et-Moselle carries forward the région's folder: the territory
    # across Meuse and Meurthe-et-Moselle is carried, the Meuse ones are left, and said so.
    out = tmp_path / "meurthe-et-moselle"
    result = CliRunner().invoke(cli, ["template", "--from", str(cycle["root"]), "--region", "Grand Est",
                                      "--departement", "54", "--reference", str(reference_csv),
                                      "--output-dir", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.glob("*.xlsx")}
    assert all(n.startswith(("pvd-44-54-", "pvd-44-5455-1-")) for n in names)
    two = next(out.glob("pvd-44-5455-1-*.xlsx"))
    data, _ = read_workbook(two, build_schema())
    assert data is not None and data.tables["engagements"]  # carried, not a blank pre-filled one
    assert re.search(r"\d+ classeurs? d'autres départements que 54, non reconduits?\.", result.output)
