"""`pvd-report national`: two régions consolidated from openpyxl workbooks under their own
configurations, rolled up, and every national figure checked against the regional ones."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from national_fixtures import BRETAGNE, GRAND_EST, Regions, build_regions
from openpyxl import load_workbook
from openxml_audit import OpenXmlValidator

from pvd_reporting.cli import cli
from pvd_reporting.consolidate import regional_histories
from pvd_reporting.consolidate.national import NOT_REPORTING, roll_up
from pvd_reporting.consolidate.national_figures import FIGURES, NATIONAL_KEYS, Figures, figure_value
from pvd_reporting.consolidate.regional import DAYS_PER_MONTH, cents
from pvd_reporting.consolidate.view import ENGAGED, PLANNED, Consolidation
from pvd_reporting.format.config import NATIONAL_CATEGORIES, Config
from pvd_reporting.format.reference import SHIPPED_REFERENCE, load_reference
from pvd_reporting.format.schema import ORT_STATUSES
from pvd_reporting.pipeline.consolidate import run_consolidate
from pvd_reporting.pipeline.national import run_national

SIGNED = ORT_STATUSES[0]


# A file made to publish up to 2025-T3 only: its 2025-T4 rows go, and its 2025-T4 publication.
T4_TABLES = ("territoires", "engagements", "communes", "publications", "chiffres")


@pytest.fixture(scope="module")
def regions(tmp_path_factory, reference_csv) -> Regions:
    return build_regions(tmp_path_factory.mktemp("national"), reference_csv)


def _by_period(run, period: str) -> Consolidation:
    history = run.result.history
    return history.at(period) if history is not None and history.at(period) else run.result


def _expected(cons: Consolidation, config: Config) -> dict[str, Any]:
    """The national figures as the regional consolidation states them."""
    r = cons.region
    by_category = dict.fromkeys(NATIONAL_CATEGORIES, 0)
    for name, amount in r.financing.items():
        by_category[config.category(name)] += cents(amount)
    return {
        "expected": len(cons.territories), "received": r.received,
        "missing": len(cons.territories) - r.received, "signed_in_time": r.ort_signed_in_time,
        "signed_late": r.ort_signed_late, "at_risk": r.at_risk, "overdue": r.overdue,
        "median_months": r.median_months_j1_j8, "cadence_held": r.cadence_held, "leads_in_post": r.leads_in_post,
        "cost": cents(r.cost), "engaged": cents(r.money_by_stage[ENGAGED].cost),
        "planned": cents(r.money_by_stage[PLANNED].cost), "by_category": by_category,
        "remaining": cents(r.remaining),
    }


def _actual(f: Figures) -> dict[str, object]:
    return {k: getattr(f, k) for k in ("expected", "received", "missing", "signed_in_time", "signed_late",
                                       "at_risk", "overdue", "median_months", "cadence_held", "leads_in_post",
                                       "cost", "engaged", "planned", "by_category", "remaining")}


def test_regions_are_consolidated_under_their_own_configuration(regions: Regions) -> None:
    bzh = sqlite3.connect(regions.root / "bretagne" / "historique-pvd.sqlite")
    assert dict(bzh.execute("SELECT cle, valeur FROM meta"))["region"] == "Bretagne"
    financers = list(bzh.execute("SELECT libelle, categorie FROM financeurs"))
    assert financers[1:3] == [("Région Bretagne", "Région"), ("Département", "Département")]
    # Territories without an Identifiant PVD, matched to the reference list by SIREN + communes.
    assert regions.bretagne.result.region.received == len(BRETAGNE)
    assert regions.bretagne.result.region.expected == 50


@pytest.mark.parametrize("period", ["2025-T3", "2025-T4"])
def test_every_national_figure_equals_the_regional_ones(regions: Regions, period: str) -> None:
    rollup = roll_up([regions.root], period=period)
    assert rollup.period == period
    rows = {r.region: r for r in rollup.regions}
    conses = {"Grand Est": _by_period(regions.grand_est, period), "Bretagne": _by_period(regions.bretagne, period)}
    for name, cons in conses.items():
        assert cons.region.period == period
        figures = rows[name].figures
        assert figures is not None
        assert _actual(figures) == _expected(cons, regions.schemas[name].config), name
    # The nation: the sum of the régions, to the cent, and the median over every territory signed.
    expected = [_expected(c, regions.schemas[n].config) for n, c in conses.items()]
    nation = _actual(rollup.nation)
    for key in ("expected", "received", "missing", "signed_in_time", "signed_late", "at_risk", "overdue",
                "cadence_held", "leads_in_post", "cost", "engaged", "planned", "remaining"):
        assert nation[key] == sum(e[key] for e in expected), key
    for category in NATIONAL_CATEGORIES:
        assert rollup.nation.by_category[category] == sum(e["by_category"][category] for e in expected)
    months = [(t.j8_on - t.j1_on).days / DAYS_PER_MONTH for c in conses.values() for t in c.territories
              if t.received and t.ort_status == SIGNED and t.j1_on and t.j8_on]
    assert months, "the fixture signs ORTs in both régions"
    assert rollup.nation.median_months == round(statistics.median(months), 1)
    # Every other région is named, not reporting, never zero.
    assert {r.region for r in rollup.regions if r.figures is None} == set(rows) - set(conses)
    assert len(rollup.regions) == 18


def test_money_has_cents_and_categories_of_both_regions(regions: Regions) -> None:
    rollup = roll_up([regions.root], period="2025-T4")
    assert rollup.nation.cost % 100 != 0  # the fixture's amounts carry cents
    region = rollup.nation.by_category["Région"]
    ge = cents(regions.grand_est.result.region.financing["Région Grand Est"])
    bzh = cents(regions.bretagne.result.region.financing["Région Bretagne"])
    assert region == ge + bzh and ge > 0 and bzh > 0
    # At T4 Romilly sent nothing: not received, counted as missing, its T3 money not counted.
    romilly = next(t for t in rollup.territories if t.id_pvd == "pvd-44-10-9")
    assert not romilly.received and romilly.cost == 0


def test_t1_is_the_previous_quarter(regions: Regions) -> None:
    rollup = roll_up([regions.root])
    assert (rollup.period, rollup.previous) == ("2025-T4", "2025-T3")
    previous = roll_up([regions.root], period="2025-T3")
    assert rollup.nation_previous == previous.nation


def test_cli_writes_the_three_outputs_and_the_summary_matches(regions: Regions, tmp_path: Path) -> None:
    out = tmp_path / "national"
    result = CliRunner().invoke(cli, ["national", str(regions.root), "--output-dir", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "Synthèse nationale — période 2025-T4 (T-1 : 2025-T3)" in result.output
    assert "Régions remontées : 2 sur 18" in result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["historique-national.sqlite", "synthese-nationale-2025-T4.xlsx",
                     "tableau-de-bord-national-2025-T4.html"]
    rollup = roll_up([regions.root])
    audit = OpenXmlValidator().validate(out / "synthese-nationale-2025-T4.xlsx")
    assert audit.is_valid, [str(e) for e in audit.errors[:10]]
    # Read back with another reader than the writer's.
    wb = load_workbook(out / "synthese-nationale-2025-T4.xlsx", read_only=True)
    assert wb.sheetnames[:4] == ["Synthèse", "Régions", "Territoires", "Sources"]
    synth = list(wb["Synthèse"].iter_rows(values_only=True))
    by_label = {row[0]: row[1:3] for row in synth if row and row[0]}
    for f in FIGURES:
        now, before = by_label[f.label]
        assert now == _approx(figure_value(f, rollup.nation)), f.label
        assert before == _approx(figure_value(f, rollup.nation_previous)), f.label
    france = next(row for row in synth if row[0] == "France")
    assert france[1] == "2 sur 18"
    corse = next(row for row in synth if row[0] == "Corse")
    assert corse[1] == NOT_REPORTING and all(v is None for v in corse[2:])
    territories = list(wb["Territoires"].iter_rows(values_only=True))
    assert len(territories) - 1 == len(rollup.territories) == 99 + 50
    sources = list(wb["Sources"].iter_rows(values_only=True))
    assert {row[1] for row in sources[1:]} == {"Grand Est", "Bretagne"}
    assert all(len(row[6]) == 64 for row in sources[1:])
    db = sqlite3.connect(out / "historique-national.sqlite")
    count, regions_found = db.execute("SELECT count(*), count(DISTINCT region) FROM territoires").fetchone()
    assert regions_found == 2
    ge = sqlite3.connect(regions.root / "grand-est" / "historique-pvd.sqlite")
    bzh = sqlite3.connect(regions.root / "bretagne" / "historique-pvd.sqlite")
    assert count == sum(c.execute("SELECT count(*) FROM territoires").fetchone()[0] for c in (ge, bzh))
    (region_money,) = db.execute("SELECT round(sum(financement_region), 2) FROM territoires WHERE periode = "
                                 "'2025-T4'").fetchone()
    assert round(region_money * 100) == rollup.nation.by_category["Région"]


def _approx(value: object) -> object:
    return pytest.approx(value) if isinstance(value, float) else value


# ---------------------------------------------------------------- bad input


def _copy(src: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(src, folder / "historique-pvd.sqlite"))


def _edit(path: Path, *sql: str) -> None:
    db = sqlite3.connect(path)
    with db:
        for statement in sql:
            db.execute(statement)
    db.close()


def test_bad_files_are_named_with_their_reason_and_left_out(regions: Regions, tmp_path: Path) -> None:
    ge = regions.root / "grand-est" / "historique-pvd.sqlite"
    text = tmp_path / "notes.sqlite"
    text.write_text("pas une base", encoding="utf-8")
    other = tmp_path / "autre.sqlite"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE clients (nom TEXT)")
    db.commit()
    db.close()
    future = _copy(ge, tmp_path / "futur")
    _edit(future, "UPDATE meta SET valeur = '2.0' WHERE cle = 'format_version'")
    old = _copy(ge, tmp_path / "ancien")
    _edit(old, "DROP TABLE financeurs")
    rollup = roll_up([ge, text, other, future, old])
    reasons = {Path(p).name if p.parent == tmp_path else p.parent.name: r for p, r in rollup.refused}
    assert "n'est pas une base SQLite" in reasons["notes.sqlite"]
    assert "n'est pas un historique pvd-report" in reasons["autre.sqlite"]
    assert "format « 2.0 »" in reasons["futur"]
    assert "sans la table financeurs" in reasons["ancien"]
    assert [h.region for h in rollup.histories] == ["Grand Est"]


def test_nothing_readable_exits_2_naming_each_file(tmp_path: Path) -> None:
    text = tmp_path / "notes.sqlite"
    text.write_text("pas une base", encoding="utf-8")
    result = CliRunner().invoke(cli, ["national", str(text), str(tmp_path / "absent"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "notes.sqlite : écarté, ce n'est pas une base SQLite" in result.output
    assert "absent : écarté, fichier ou dossier introuvable" in result.output
    assert "Aucun historique régional lisible" in result.output
    assert "Traceback" not in result.output


def test_two_files_of_one_region_are_chosen_by_content_never_by_write_time(regions: Regions,
                                                                            tmp_path: Path) -> None:
    ge = regions.root / "grand-est" / "historique-pvd.sqlite"
    # A T3-only file written last: it never replaces the file that publishes T4.
    t3 = _copy(ge, tmp_path / "t3-seulement")
    _edit(t3, "UPDATE meta SET valeur = '2099-01-01T00:00:00+00:00' WHERE cle = 'written_at'",
          *(f"DELETE FROM {t} WHERE periode = '2025-T4'" for t in T4_TABLES))
    same = _copy(ge, tmp_path / "copie")
    rollup = roll_up([t3, same, ge])
    assert rollup.period == "2025-T4"
    assert [h.path for h in rollup.histories] in ([ge], [same])
    kept = rollup.histories[0].path
    reasons = {h.path: why for h, why in rollup.set_aside}
    assert "dernier trimestre publié 2025-T3" in reasons[t3] and "2025-T4, est retenu" in reasons[t3]
    other = same if kept == ge else ge
    assert reasons[other] == f"copie identique de {kept}, qui est retenu"
    # The same quarter in both: the later publication (its `publications` row) wins, whatever the order.
    republished = _copy(ge, tmp_path / "republie")
    _edit(republished, "DROP TABLE IF EXISTS publications",
          "CREATE TABLE publications (periode TEXT, version INTEGER, written_at TEXT, empreinte TEXT)",
          "INSERT INTO publications VALUES ('2025-T3', 1, '2026-01-05T10:00:00+00:00', 'a'), "
          "('2025-T4', 2, '2026-03-01T10:00:00+00:00', 'b')",
          "UPDATE meta SET valeur = '2001-01-01T00:00:00+00:00' WHERE cle = 'written_at'")
    for order in ([ge, republished], [republished, ge]):
        assert [h.path for h in roll_up(order).histories] == [republished]
    result = CliRunner().invoke(cli, ["national", str(ge), str(t3), "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    assert f"{t3} : même région (Grand Est), dernier trimestre publié 2025-T3" in result.output


def test_renamed_files_in_a_folder_are_identified_by_content(regions: Regions, tmp_path: Path) -> None:
    folder = tmp_path / "recus"
    (folder / "bzh").mkdir(parents=True)
    shutil.copy(regions.root / "grand-est" / "historique-pvd.sqlite", folder / "ge-2025T4.sqlite")
    shutil.copy(regions.root / "bretagne" / "historique-pvd.sqlite", folder / "bzh" / "historique-pvd-bretagne.sqlite")
    (folder / "notes.sqlite").write_text("pas une base", encoding="utf-8")
    os.mkfifo(folder / "tube.sqlite")  # read, it would hang the run
    (folder / "zero.sqlite").symlink_to("/dev/zero")
    rollup = roll_up([folder])
    assert [h.region for h in rollup.histories] == ["Bretagne", "Grand Est"]
    assert [p.name for p, _ in rollup.refused[:2]] == ["tube.sqlite", "zero.sqlite"]
    assert [(p.name, r[:30]) for p, r in rollup.refused] == [("tube.sqlite", "ce n'est pas un fichier ordina"),
                                                             ("zero.sqlite", "ce n'est pas un fichier ordina"),
                                                             ("notes.sqlite", "ce n'est pas une base SQLite (")]
    # The national base itself, found among the régions' files, is named.
    run_national([folder], output_dir=tmp_path / "national")
    ((_, reason),) = _refused([tmp_path / "national" / "historique-national.sqlite"])
    assert reason == "base écrite par pvd-report national (historique-national.sqlite), pas l'historique d'une région"
    # A link to a history is followed, and said.
    (tmp_path / "lien.sqlite").symlink_to(folder / "ge-2025T4.sqlite")
    (h,) = roll_up([tmp_path / "lien.sqlite"]).histories
    assert h.notes == [f"lien symbolique vers {folder / 'ge-2025T4.sqlite'} : suivi, c'est un fichier ordinaire"]


def test_territory_in_two_regions_is_an_anomaly_counted_once(regions: Regions, tmp_path: Path) -> None:
    bzh = _copy(regions.root / "bretagne" / "historique-pvd.sqlite", tmp_path / "bretagne")
    _edit(bzh, "UPDATE territoires SET id_pvd = 'pvd-44-57-2' WHERE territoire = 'Auray'")
    ge = regions.root / "grand-est" / "historique-pvd.sqlite"
    rollup = roll_up([ge, bzh], period="2025-T4")
    assert [(d.key, d.regions, d.counted_in) for d in rollup.duplicates] == [
        ("pvd-44-57-2", ["Bretagne", "Grand Est"], "Grand Est")]
    rows = {r.region: r.figures for r in rollup.regions}
    assert rows["Bretagne"] is not None and rows["Grand Est"] is not None
    # Each région keeps it; the nation counts it once.
    assert rollup.nation.expected == rows["Bretagne"].expected + rows["Grand Est"].expected - 1
    auray = next(t for t in rollup.territories if t.name == "Auray")
    assert rollup.nation.cost == rows["Bretagne"].cost + rows["Grand Est"].cost - auray.cost
    result = CliRunner().invoke(cli, ["national", str(ge), str(bzh), "-o", str(tmp_path / "out"), "-q"])
    assert "Territoires trouvés dans deux régions : 1" in result.output
    wb = load_workbook(tmp_path / "out" / "synthese-nationale-2025-T4.xlsx", read_only=True)
    anomalies = [row for row in wb["Anomalies"].iter_rows(values_only=True)]
    assert any(row[0] == "Territoire dans deux régions" and "pvd-44-57-2" in row[2] for row in anomalies)


def test_a_late_region_is_named_not_counted_and_t1_keeps_the_same_regions(regions: Regions,
                                                                         tmp_path: Path) -> None:
    bzh = _copy(regions.root / "bretagne" / "historique-pvd.sqlite", tmp_path / "bretagne")
    _edit(bzh, *(f"DELETE FROM {t} WHERE periode = '2025-T4'" for t in T4_TABLES))
    ge = regions.root / "grand-est" / "historique-pvd.sqlite"
    # Bretagne stopped at T3: the nation is not pulled back a quarter.
    rollup = roll_up([ge, bzh])
    assert rollup.period == "2025-T4"
    bretagne = next(r for r in rollup.regions if r.region == "Bretagne")
    assert bretagne.figures is None and bretagne.status == "En retard (dernier trimestre publié : 2025-T3)"
    assert "Bretagne" not in rollup.missing_regions and [r.region for r in rollup.late_regions] == ["Bretagne"]
    grand_est = next(r for r in rollup.regions if r.region == "Grand Est").figures
    assert rollup.nation == grand_est
    # T-1 on the same régions: Grand Est's T3, not Grand Est + Bretagne.
    alone = roll_up([ge], period="2025-T3")
    assert rollup.nation_previous == alone.nation
    assert rollup.nation_previous.expected == 99
    result = CliRunner().invoke(cli, ["national", str(ge), str(bzh), "-o", str(tmp_path / "cli"), "-q"])
    assert "  Régions en retard, non comptées : Bretagne (dernier trimestre publié : 2025-T3)" in result.output
    out = run_national([ge, bzh], output_dir=tmp_path / "out").written
    wb = load_workbook(out[0], read_only=True)
    synth = list(wb["Synthèse"].iter_rows(values_only=True))
    row = next(r for r in synth if r[0] == "Bretagne")
    assert row[1] == "En retard (dernier trimestre publié : 2025-T3)" and set(row[2:]) == {None}
    assert "en retard, non comptées : Bretagne (2025-T3)" in synth[1][0]
    # The change at a constant perimeter: Romilly, received at T3 only, is not in it.
    header = next(r for r in synth if r[0] == "Indicateur")
    assert header[:4] == ("Indicateur", "2025-T4", "T-1 (2025-T3, mêmes régions)", "Évolution à périmètre constant")
    received = next(r for r in synth if r[0] == "Territoires reçus")
    assert received[1:4] == (2, 3, 0)
    cons = {p: _by_period(regions.grand_est, p) for p in ("2025-T3", "2025-T4")}
    both = [{t.key: t for t in cons[p].territories if t.received} for p in ("2025-T4", "2025-T3")]
    keys = set(both[0]) & set(both[1])
    cost = next(r for r in synth if r[0] == "Coût total HT (€)")
    change = sum(cents(both[0][k].cost) - cents(both[1][k].cost) for k in keys) / 100
    assert cost[3] == pytest.approx(change)


def test_the_quarter_is_the_one_most_regions_last_published(regions: Regions, tmp_path: Path) -> None:
    ge = regions.root / "grand-est" / "historique-pvd.sqlite"
    late = []
    for name, code in (("Normandie", "28"), ("Occitanie", "76")):
        copy = _copy(regions.root / "bretagne" / "historique-pvd.sqlite", tmp_path / name)
        _edit(copy, f"UPDATE meta SET valeur = '{name}' WHERE cle = 'region'",
              f"UPDATE meta SET valeur = '{code}' WHERE cle = 'region_code'",
              *(f"DELETE FROM {t} WHERE periode = '2025-T4'" for t in T4_TABLES))
        late.append(copy)
    # Two régions at T3, one at T4: T3, and Grand Est counted at T3 (it published it).
    rollup = roll_up([ge, *late])
    assert rollup.period == "2025-T3" and rollup.reporting == 3 and rollup.late_regions == []
    # Two at T4 (Grand Est and Bretagne), one at T3: T4, the late one named and not counted.
    rollup = roll_up([ge, regions.root / "bretagne", late[0]])
    assert rollup.period == "2025-T4" and rollup.reporting == 2
    assert [r.status for r in rollup.late_regions] == ["En retard (dernier trimestre publié : 2025-T3)"]


def test_unknown_period_is_a_usage_error(regions: Regions, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["national", str(regions.root), "--period", "2019-T1", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "Aucune région n'a de données pour la période 2019-T1" in result.output


# ---------------------------------------------------------------- personal data


def _contacts(regions: Regions) -> list[str]:
    found: list[str] = []
    for name in ("grand-est", "bretagne"):
        db = sqlite3.connect(regions.root / name / "historique-pvd.sqlite")
        for row in db.execute("SELECT nom_prenom, mail, telephone FROM annuaire"):
            found += [str(v) for v in row if v]
    return found


def _national_text(folder: Path) -> str:
    texts = [p.read_text("utf-8") for p in folder.glob("*.html")]
    wb = load_workbook(next(folder.glob("*.xlsx")), read_only=True)
    texts += [str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v]
    db = sqlite3.connect(folder / "historique-national.sqlite")
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        texts += [str(v) for row in db.execute(f'SELECT * FROM "{table}"') for v in row if v]
    return "\n".join(texts)


def test_no_contacts_by_default_chef_de_projet_only_en_poste(regions: Regions, tmp_path: Path) -> None:
    contacts = _contacts(regions)
    leads = [t.lead for t in (*GRAND_EST, *BRETAGNE)]
    assert set(leads) <= set(contacts) and len(contacts) > 10
    run_national([regions.root], output_dir=tmp_path / "sans")
    text = _national_text(tmp_path / "sans")
    assert [c for c in contacts if c in text] == []
    assert "en poste" in text
    db = sqlite3.connect(tmp_path / "sans" / "historique-national.sqlite")
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "annuaire" not in tables
    run_national([regions.root], output_dir=tmp_path / "avec", contacts=True)
    text = _national_text(tmp_path / "avec")
    assert all(lead in text for lead in leads)


# ---------------------------------------------------------------- the dashboard in a browser


@pytest.mark.browser
def test_national_dashboard_runs_offline_in_chromium_and_sorts(regions: Regions, tmp_path: Path,
                                                                chromium: str) -> None:
    from browser import LOCAL_SCHEMES, console_errors, file_url, headless_chromium, requested_urls
    from selenium.webdriver.support.ui import WebDriverWait

    page = run_national([regions.root], output_dir=tmp_path).written[1]
    assert page.name == "tableau-de-bord-national-2025-T4.html"
    with headless_chromium(chromium) as driver:
        url = file_url(page)
        driver.get(url)
        WebDriverWait(driver, 60).until(lambda d: d.execute_script(
            "return ['carte','graphique-statuts','graphique-financements','graphique-duree']"
            ".every(id => document.querySelector('#' + id + ' svg.main-svg'))"))
        # The map: the mainland and five overseas insets, EPCIs filled in the status colours.
        axes = driver.execute_script("return document.querySelectorAll('#carte .cartesianlayer .subplot').length")
        assert axes == 6
        fills = driver.execute_script(
            "return Array.from(document.querySelectorAll('#carte .scatterlayer path.js-fill'))"
            ".map(p => p.style.fill)")
        assert any(f for f in fills), "filled EPCI shapes"
        # The benchmark table sorts on a click: Grand Est (99 expected) before Bretagne (50) descending.
        header = driver.find_element("xpath", "//table[@id='regions']//th[text()='Territoires attendus']")
        header.click()
        header.click()
        first = driver.execute_script("return document.querySelector('#regions tbody tr td').textContent")
        assert first == "Grand Est"
        # The région's name stays in view when the table scrolls sideways.
        sticky = driver.execute_script("return getComputedStyle(document.querySelector('#regions tbody td')).position")
        assert sticky == "sticky"
        assert header.get_attribute("aria-sort") == "descending"
        urls = requested_urls(driver, document_prefix=url)
        assert any(u.startswith("file:") for u in urls), "no request logged: the check would be blind"
        assert [u for u in urls if not u.startswith(LOCAL_SCHEMES)] == []
        assert console_errors(driver) == []


# ---------------------------------------------------------------- untrusted history files


def test_extra_tables_stat1_views_and_columns_are_never_copied_nor_a_crash(regions: Regions,
                                                                         tmp_path: Path) -> None:
    ge = _copy(regions.root / "grand-est" / "historique-pvd.sqlite", tmp_path / "grand-est")
    _edit(ge, "CREATE TABLE secrets (nom TEXT)", "INSERT INTO secrets VALUES ('Marcel Secretin')",
          "ALTER TABLE territoires ADD COLUMN notes_privees TEXT",
          "UPDATE territoires SET notes_privees = 'Marcel Secretin'",
          "DROP TABLE ingenierie", "CREATE VIEW ingenierie AS SELECT * FROM jalons")
    db = sqlite3.connect(ge)
    db.execute("ANALYZE")
    db.close()
    result = CliRunner().invoke(cli, ["national", str(ge), "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    assert "tableur" not in result.output
    assert f"{ge} : table non prévue ignorée : secrets" in result.output
    assert f"{ge} : « ingenierie » est une vue, pas une table : non lue" in result.output
    out = sqlite3.connect(tmp_path / "out" / "historique-national.sqlite")
    tables = {r[0] for r in out.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"secrets", "sqlite_stat1", "ingenierie"}.isdisjoint(tables) and "territoires" in tables
    columns = [r[1] for r in out.execute("PRAGMA table_info(territoires)")]
    assert "notes_privees" not in columns
    assert "Marcel Secretin" not in _national_text(tmp_path / "out")
    sources = load_workbook(next((tmp_path / "out").glob("*.xlsx")), read_only=True)["Sources"]
    kept = [row[7] for row in sources.iter_rows(min_row=2, values_only=True)]
    assert kept == ["Oui; « ingenierie » est une vue, pas une table : non lue; table non prévue ignorée : secrets"]
    # In place of territoires, a view leaves the file out, named.
    _edit(ge, "ALTER TABLE territoires RENAME TO t2", "CREATE VIEW territoires AS SELECT * FROM t2")
    rollup = roll_up([ge, regions.root / "bretagne"])
    ((path, reason),) = rollup.refused
    assert path == ge and reason == "« territoires » y est une vue, pas une table : fichier modifié hors de pvd-report"


def test_a_wal_beside_is_named_and_ignored_and_nothing_is_written_beside(regions: Regions, tmp_path: Path) -> None:
    work = _copy(regions.root / "grand-est" / "historique-pvd.sqlite", tmp_path / "travail")
    db = sqlite3.connect(work)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA wal_autocheckpoint = 0")
    db.execute("UPDATE territoires SET cout_total_ht = 999999999")
    db.commit()
    sent = tmp_path / "recu"
    sent.mkdir()
    # The région's file sent with the -wal of a program still writing to it.
    shutil.copy(work, sent / "historique-pvd.sqlite")
    shutil.copy(work.with_name(work.name + "-wal"), sent / "historique-pvd.sqlite-wal")
    db.close()
    before = sorted(p.name for p in sent.iterdir())
    rollup = roll_up([sent])
    assert sorted(p.name for p in sent.iterdir()) == before  # no -shm, no -wal written into the input
    (h,) = rollup.histories
    assert h.notes == ["le fichier historique-pvd.sqlite-wal à côté est ignoré (des changements non "
                       "enregistrés dans la base ne sont pas lus)"]
    assert rollup.nation.cost == roll_up([regions.root / "grand-est"]).nation.cost
    run_national([sent], output_dir=tmp_path / "out")
    assert sorted(p.name for p in sent.iterdir()) == before


def test_a_damaged_file_is_named_and_left_out_the_run_goes_on(regions: Regions, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    damaged = _copy(regions.root / "grand-est" / "historique-pvd.sqlite", tmp_path / "abime")
    size = damaged.stat().st_size
    with damaged.open("r+b") as handle:
        handle.seek(size // 2)
        handle.write(b"\xff" * 8192)
    bzh = regions.root / "bretagne" / "historique-pvd.sqlite"
    result = CliRunner().invoke(cli, ["national", str(damaged), str(bzh), "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    assert f"{damaged} : fichier endommagé" in result.output and "demandez à la région de le renvoyer" in result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir())[0] == "historique-national.sqlite"
    result = CliRunner().invoke(cli, ["national", str(damaged), "-o", str(tmp_path / "seul"), "-q"])
    assert result.exit_code == 2 and "fichier endommagé" in result.output and "Traceback" not in result.output
    # Amounts no pvd-report writes (an infinity, 1e308) leave the file out instead of overflowing.
    huge = _copy(bzh, tmp_path / "infini")
    _edit(huge, "UPDATE territoires SET cout_total_ht = 9e999 WHERE territoire = 'Auray'")
    vast = _copy(bzh, tmp_path / "vaste")
    _edit(vast, "UPDATE engagements SET cout_total_ht = 1e308")
    long = _copy(bzh, tmp_path / "long")
    _edit(long, "UPDATE territoires SET communes = printf('%.50000c', 'x') WHERE territoire = 'Auray'")
    reasons = dict(_refused([huge, vast, long]))
    assert reasons[long].startswith("texte de plus de 10\u202f000 caractères dans la table territoires")
    assert reasons[huge] == ("montant hors limites (inf) dans la table territoires, colonne cout_total_ht : ce "
                             "n'est pas un historique écrit par pvd-report")
    assert reasons[vast].startswith("montant hors limites dans la table engagements")
    # Rows per table are bounded, with a French reason.
    monkeypatch.setattr(regional_histories, "MAX_TABLE_ROWS", 10)
    ((path, reason),) = _refused([bzh])
    assert path == bzh and reason == ("table territoires de 100 lignes, au-delà de la limite de 10 lignes pour cette "
                                      "table : ce n'est pas l'historique d'une région")


def _refused(paths: list[Path]) -> list[tuple[Path, str]]:
    from pvd_reporting.consolidate.national import NothingToRollUp

    with pytest.raises(NothingToRollUp) as caught:
        roll_up(paths)
    return caught.value.refused


def test_comite_chairs_and_partners_stay_regional_by_field(regions: Regions, tmp_path: Path) -> None:
    ge = _copy(regions.root / "grand-est" / "historique-pvd.sqlite", tmp_path / "grand-est")
    # Names that are in no annuaire: only masking by field keeps them out.
    _edit(ge, "UPDATE comites SET preside_par = 'Émilie Wagner', partenaires_presents = 'Lucien Brasseur', "
          "principales_decisions = 'Validé avec Claire Muller'",
          "UPDATE jalons SET commentaire = 'Voir avec Odile Jacquot'")
    run_national([ge], output_dir=tmp_path / "sans")
    text = _national_text(tmp_path / "sans")
    assert "Émilie Wagner" not in text and "Lucien Brasseur" not in text and "Odile Jacquot" not in text
    assert "Validé avec" not in text and "Claire Muller" not in text
    # A maître d'ouvrage is kept when it reads as a body, hidden when it reads as a person.
    _edit(ge, "UPDATE engagements SET maitre_d_ouvrage = 'Gérard Hoffmann' WHERE rowid % 2 = 0",
          "UPDATE engagements SET maitre_d_ouvrage = 'Commune de Bitche' WHERE rowid % 2 = 1")
    run_national([ge], output_dir=tmp_path / "masque")
    owners = {r[0] for r in sqlite3.connect(tmp_path / "masque" / "historique-national.sqlite").execute(
        "SELECT DISTINCT maitre_d_ouvrage FROM engagements")}
    assert owners == {"Commune de Bitche", "(contact masqué)"}
    run_national([ge], output_dir=tmp_path / "avec", contacts=True)
    text = _national_text(tmp_path / "avec")
    assert "Émilie Wagner" in text and "Lucien Brasseur" in text and "Validé avec Claire Muller" in text


# ---------------------------------------------------------------- whole régions, names, figures


def test_a_departement_file_is_left_out_a_no_reference_file_gets_the_shipped_list(regions: Regions,
                                                                                 tmp_path: Path) -> None:
    inputs = regions.root.parent / "classeurs" / "grand-est"
    run_consolidate([inputs], output_dir=tmp_path / "ge-67", images=False, use_cache=False,
                    reference_path=SHIPPED_REFERENCE, departments=["67"])
    run_consolidate([inputs], output_dir=tmp_path / "ge-sans-ref", images=False, use_cache=False)
    partial = tmp_path / "ge-67" / "historique-pvd.sqlite"
    no_ref = tmp_path / "ge-sans-ref" / "historique-pvd.sqlite"
    meta = dict(sqlite3.connect(partial).execute("SELECT cle, valeur FROM meta"))
    assert meta["departements"] == "67" and meta["liste_reference_empreinte"] == load_reference(
        SHIPPED_REFERENCE).digest
    full = regions.root / "grand-est" / "historique-pvd.sqlite"
    # The partial file is the latest written: it never stands for the région.
    _edit(partial, "UPDATE meta SET valeur = '2099-01-01T00:00:00+00:00' WHERE cle = 'written_at'")
    rollup = roll_up([partial, full, regions.root / "bretagne"])
    assert [h.path for h in rollup.histories if h.region == "Grand Est"] == [full]
    reasons = {h.path: why for h, why in rollup.set_aside}
    assert reasons[partial].startswith("fichier partiel (--departement 67 : Grand Est — ")
    assert reasons[partial].endswith("écarté des chiffres nationaux, qui ne comptent que des régions entières")
    ge = next(r for r in rollup.regions if r.region == "Grand Est").figures
    assert ge is not None and ge.expected == 99 and ge.received == 2
    # Made without the reference list, the région's file counts the territories the shipped list expects.
    alone = roll_up([no_ref])
    assert alone.nation.expected == 99 and alone.nation.missing == 97
    assert alone.histories[0].notes == ["consolidé sans liste de référence (--no-reference) : territoires "
                                        "attendus pris dans la liste livrée avec pvd-report"]
    # A file written before the départements were recorded: its scope's title says it.
    older = _copy(partial, tmp_path / "ancien")
    _edit(older, "DELETE FROM meta WHERE cle = 'departements'")
    ((h, why),) = roll_up([older, full]).set_aside
    assert h.path == older and why.startswith("fichier partiel (Grand Est — ")
    # A région whose only file is partial does not report, and the row says why.
    row = next(r for r in roll_up([partial, regions.root / "bretagne"]).regions if r.region == "Grand Est")
    assert row.figures is None and row.status == "Non remontée (fichier partiel écarté)"
    # Alone, a partial file leaves nothing to count: exit 2, named.
    result = CliRunner().invoke(cli, ["national", str(partial), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert f"{partial} : écarté, fichier partiel" in result.output


@pytest.mark.parametrize(("name", "code"), [("Réunion", "04"), ("PACA", "93"), ("44", "44"), ("Lorraine", "44")])
def test_a_history_is_matched_to_its_region_by_code(regions: Regions, tmp_path: Path, name: str, code: str) -> None:
    copy = _copy(regions.root / "grand-est" / "historique-pvd.sqlite", tmp_path / "copie")
    _edit(copy, f"UPDATE meta SET valeur = '{name}' WHERE cle = 'region'",
          f"UPDATE meta SET valeur = '{code}' WHERE cle = 'region_code'")
    rollup = roll_up([copy])
    expected = {"04": "La Réunion", "93": "Provence-Alpes-Côte d'Azur", "44": "Grand Est"}[code]
    assert [h.region for h in rollup.histories] == [expected]
    assert len(rollup.regions) == 18


def test_national_figures_are_the_regions_own(regions: Regions, tmp_path: Path) -> None:
    # A territory with J8 done and no J1 date: signed in its région, signed in the nation.
    ge = _copy(regions.root / "grand-est" / "historique-pvd.sqlite", tmp_path / "grand-est")
    _edit(ge, "UPDATE territoires SET date_j1 = NULL WHERE territoire = 'Bitche'")
    rollup = roll_up([ge, regions.root / "bretagne"], period="2025-T4")
    rows = {r.region: r.figures for r in rollup.regions}
    for name, run in (("Grand Est", regions.grand_est), ("Bretagne", regions.bretagne)):
        own = run.figures
        f = rows[name]
        assert f is not None and own is not None
        assert f.signed == own.value("ort_signed") > 0
        assert f.beyond_cost == cents(own.value("beyond_cost"))
        assert f.population == own.value("population")
        assert f.per_inhabitant == own.value("per_inhabitant")
    by_label = {fig.label: fig for fig in FIGURES}
    assert {"ORT signées", "Financements au-delà du coût (€)"} <= set(by_label)
    # Through the same registry: every figure the nation shows is the région's own, by key.
    clean = roll_up([regions.root], period="2025-T4")
    for name, run in (("Grand Est", regions.grand_est), ("Bretagne", regions.bretagne)):
        row, own = next(r for r in clean.regions if r.region == name).figures, run.figures
        assert row is not None and own is not None
        for key in NATIONAL_KEYS:
            if not key.startswith("financing:"):
                assert row[key] == pytest.approx(own.value(key)), (name, key)
    # Every figure the régions published (their `chiffres`) is the one added up here, to the cent.
    published = rollup.histories[0].figures["2025-T4"]
    assert {"Territoires reçus", "ORT signées", "Coût total HT (€)"} <= set(published)
    assert roll_up([regions.root]).differences == []
    _edit(ge, "UPDATE chiffres SET valeur = valeur + 1 WHERE periode = '2025-T4' AND chiffre = 'ORT signées'")
    (difference,) = roll_up([ge, regions.root / "bretagne"], period="2025-T4").differences
    signed = rows["Grand Est"]
    assert signed is not None
    assert difference == ("Grand Est", "ORT signées", signed.signed + 1, signed.signed)
    # France = the sum of the régions, to the cent; a France row in the national SQLite.
    run_national([ge, regions.root / "bretagne"], output_dir=tmp_path / "out", period="2025-T4")
    db = sqlite3.connect(tmp_path / "out" / "historique-national.sqlite")
    columns = [r[1] for r in db.execute("PRAGMA table_info(regions)")]
    france = dict(zip(columns, db.execute("SELECT * FROM regions WHERE region = 'France' AND periode = '2025-T4'")
                      .fetchone(), strict=True))
    assert france["cout_total_ht"] == rollup.nation.cost / 100
    assert round(france["cout_total_ht"] * 100) == sum(f.cost for f in rows.values() if f is not None)
    (counted,) = db.execute("SELECT round(sum(cout_total_ht), 2) FROM territoires WHERE periode = '2025-T4' "
                            "AND compte_pour_la_france = 1").fetchone()
    assert round(counted * 100) == rollup.nation.cost


def test_a_duplicate_without_identifier_is_never_assigned_by_alphabet(regions: Regions, tmp_path: Path) -> None:
    ge = _copy(regions.root / "grand-est" / "historique-pvd.sqlite", tmp_path / "grand-est")
    # Auray, a Breton territory without an Identifiant PVD, also in the Grand Est file.
    _edit(ge, "INSERT INTO territoires SELECT * FROM (SELECT * FROM territoires LIMIT 0)",
          "ATTACH DATABASE '" + str(regions.root / "bretagne" / "historique-pvd.sqlite") + "' AS b",
          "INSERT INTO territoires (periode, id_pvd, territoire, departement, epci, siren_de_l_epci, communes, "
          "statut_ort, cout_total_ht) SELECT periode, id_pvd, territoire, departement, epci, siren_de_l_epci, "
          "communes, statut_ort, cout_total_ht FROM b.territoires WHERE territoire = 'Auray'")
    rollup = roll_up([ge, regions.root / "bretagne"], period="2025-T4")
    (dup,) = rollup.duplicates
    # The reference list places Auray in Bretagne: counted there, never « Bretagne » by alphabet alone.
    assert dup.regions == ["Bretagne", "Grand Est"] and dup.counted_in == "Bretagne"
    run_national([ge, regions.root / "bretagne"], output_dir=tmp_path / "out", period="2025-T4")
    db = sqlite3.connect(tmp_path / "out" / "historique-national.sqlite")
    marks = sorted(db.execute("SELECT region, compte_pour_la_france, doublon FROM territoires "
                              "WHERE territoire = 'Auray' AND periode = '2025-T4'"))
    assert [m[:2] for m in marks] == [("Bretagne", 1), ("Grand Est", 0)]
    assert marks[1][2] == "Territoire présent aussi en Bretagne, où il est compté pour la France."


# ---------------------------------------------------------------- on paper


def test_synthese_prints_on_3_a4_pages_and_regions_on_2(regions: Regions, tmp_path: Path, soffice: str) -> None:
    from conftest import lo_profile

    pdfinfo, pdftotext = shutil.which("pdfinfo"), shutil.which("pdftotext")
    if not (pdfinfo and pdftotext):
        pytest.skip("poppler-utils absent")
    summary = run_national([regions.root], output_dir=tmp_path / "out").written[0]
    subprocess.run([soffice, f"-env:UserInstallation={lo_profile()}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(summary)], capture_output=True, timeout=300, check=False)
    pdf = tmp_path / f"{summary.stem}.pdf"
    assert pdf.is_file(), "LibreOffice wrote no PDF"
    info = subprocess.run([pdfinfo, str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "(A4)" in info
    pages: dict[str, int] = {}
    for page in subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True,
                               check=True).stdout.split("\f"):
        footer = [line for line in page.splitlines() if re.search(r"Page \d+ / \d+", line)]
        if footer:
            sheet = footer[-1].split()[0]
            pages[sheet] = pages.get(sheet, 0) + 1
    assert pages["Synthèse"] <= 3 and pages["Régions"] <= 2, pages
    with zipfile.ZipFile(summary) as z:
        for n in (1, 2):
            xml = z.read(f"xl/worksheets/sheet{n}.xml").decode()
            assert '<pageSetUpPr fitToPage="1"/>' in xml and 'orientation="landscape"' in xml
    # Headers repeated on every printed page.
    assert "_xlnm.Print_Titles" in zipfile.ZipFile(summary).read("xl/workbook.xml").decode()
