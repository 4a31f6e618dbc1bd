"""`pvd-report national`: two régions consolidated from openpyxl workbooks under their own
configurations, rolled up, and every national figure checked against the regional ones."""

from __future__ import annotations

import shutil
import sqlite3
import statistics
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from national_fixtures import BRETAGNE, GRAND_EST, Regions, build_regions
from openpyxl import load_workbook
from openxml_audit import OpenXmlValidator

from pvd_reporting.cli import cli
from pvd_reporting.consolidate.national import (
    FIGURES,
    NOT_REPORTING,
    Figures,
    figure_value,
    roll_up,
)
from pvd_reporting.consolidate.regional import DAYS_PER_MONTH, cents
from pvd_reporting.consolidate.view import ENGAGED, PLANNED, Consolidation
from pvd_reporting.format.config import NATIONAL_CATEGORIES, Config
from pvd_reporting.format.schema import ORT_STATUSES
from pvd_reporting.pipeline.national import run_national

SIGNED = ORT_STATUSES[0]


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
    assert len(territories) - 1 == len(rollup.territories) == 3 + 50
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


def test_same_region_twice_the_latest_written_wins(regions: Regions, tmp_path: Path) -> None:
    ge = regions.root / "grand-est" / "historique-pvd.sqlite"
    later = _copy(ge, tmp_path / "grand-est-bis")
    _edit(later, "UPDATE meta SET valeur = '2099-01-01T00:00:00+00:00' WHERE cle = 'written_at'")
    rollup = roll_up([ge, later])
    assert [h.path for h in rollup.histories] == [later]
    assert [(loser.path, winner.path) for loser, winner in rollup.superseded] == [(ge, later)]
    result = CliRunner().invoke(cli, ["national", str(ge), str(later), "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    assert f"{ge} : même région (Grand Est) que {later}" in result.output


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


def test_a_region_missing_for_the_period_is_not_reporting_never_zero(regions: Regions, tmp_path: Path) -> None:
    bzh = _copy(regions.root / "bretagne" / "historique-pvd.sqlite", tmp_path / "bretagne")
    _edit(bzh, *(f"DELETE FROM {t} WHERE periode = '2025-T4'" for t in ("territoires", "engagements", "communes")))
    ge = regions.root / "grand-est" / "historique-pvd.sqlite"
    # The latest period common to most régions is now T3.
    assert roll_up([ge, bzh]).period == "2025-T3"
    rollup = roll_up([ge, bzh], period="2025-T4")
    bretagne = next(r for r in rollup.regions if r.region == "Bretagne")
    assert bretagne.figures is None and bretagne.status == NOT_REPORTING
    assert "Bretagne" in rollup.missing_regions
    grand_est = next(r for r in rollup.regions if r.region == "Grand Est").figures
    assert rollup.nation == grand_est
    out = run_national([ge, bzh], output_dir=tmp_path / "out", period="2025-T4").written
    wb = load_workbook(out[0], read_only=True)
    row = next(r for r in wb["Synthèse"].iter_rows(values_only=True) if r[0] == "Bretagne")
    assert row[1] == NOT_REPORTING and set(row[2:]) == {None}


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
        # The benchmark table sorts on a click: Bretagne (50 expected) before Grand Est (3) descending.
        header = driver.find_element("xpath", "//table[@id='regions']//th[text()='Territoires attendus']")
        header.click()
        header.click()
        first = driver.execute_script("return document.querySelector('#regions tbody tr td').textContent")
        assert first == "Bretagne"
        assert header.get_attribute("aria-sort") == "descending"
        urls = requested_urls(driver, document_prefix=url)
        assert any(u.startswith("file:") for u in urls), "no request logged: the check would be blind"
        assert [u for u in urls if not u.startswith(LOCAL_SCHEMES)] == []
        assert console_errors(driver) == []
