"""The demo as a newcomer runs it: the example workbooks consolidated by the real command, the
dashboard opened in Chromium. With PVD_SCREENSHOT=path (see `make screenshot`), this test also
writes the README's screenshot of that dashboard."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from browser import console_errors, file_url, headless_chromium, requested_urls
from click.testing import CliRunner
from openpyxl import load_workbook

from pvd_reporting.cli import cli

REPO = Path(__file__).resolve().parent.parent
WORKBOOKS = REPO / "workbooks"


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, reference_csv: Path) -> Path:
    out = tmp_path_factory.mktemp("demo")
    before = tree_digest(WORKBOOKS)
    result = CliRunner().invoke(cli, [
        "consolidate", str(WORKBOOKS), "--output-dir", str(out), "--reference", str(reference_csv),
        "--no-images", "--quiet",
    ])
    assert result.exit_code == 0, result.output
    assert "Territoires reçus : 11 sur 99 attendus" in result.output
    assert "Périodes trouvées : 2025-T2 (12 classeurs) · 2025-T3 (12 classeurs) · 2025-T4 (11 classeurs)" in result.output
    assert tree_digest(WORKBOOKS) == before, "the input folder must never be written to"
    return out


def test_demo_outputs_agree_with_the_examples(demo: Path) -> None:
    every = json.loads((WORKBOOKS / "EXPECTED.json").read_text(encoding="utf-8"))
    # The consolidated quarter is the latest; the earlier ones are its history.
    expected = {Path(n).name: f for n, f in every.items() if f["period"] == "2025-T4"}
    wb = load_workbook(demo / "synthese-pvd-2025-T4.xlsx", read_only=True)
    rows = list(wb["Territoires"].iter_rows(values_only=True))
    header = rows[0]
    status_col, file_col = header.index("Statut ORT"), header.index("Fichier")
    by_file = {Path(str(r[file_col])).name: r[status_col] for r in rows[1:] if r[file_col]}
    assert len(rows) - 1 == 99, "every expected territory of Grand Est is a row"
    for name, facts in expected.items():
        assert by_file[name] == facts["ort_status"], name
    anomalies = json.loads((demo / "anomalies-2025-T4.json").read_text(encoding="utf-8"))
    # Every workbook read is listed, the earlier quarters' too (used as history).
    assert anomalies["stats"]["workbooks"] == len(every)
    for entry in anomalies["workbooks"]:
        facts = every[f"{Path(entry['path']).parent.name}/{Path(entry['path']).name}"]
        assert entry["valid"] == facts["valid"], entry["path"]
        assert sorted({i["code"] for i in entry["issues"]}) == sorted({*facts["codes"], *facts["history_codes"]}), \
            entry["path"]
    changes = list(wb["Changements"].iter_rows(values_only=True))
    assert changes[0] == ("Identifiant PVD", "Territoire", "Type", "Élément", "Avant", "Après")
    kinds = {r[2] for r in changes[1:]}
    assert {"Jalon réalisé", "Action retirée", "Classeur non reçu", "Statut ORT", "Date de jalon modifiée",
            "Chef de projet", "Statut d'action"} <= kinds


@pytest.mark.browser
def test_demo_dashboard_in_chromium(demo: Path, chromium: str) -> None:
    page = demo / "tableau-de-bord-2025-T4.html"
    with headless_chromium(chromium) as driver:
        driver.set_window_size(1400, 1800)
        driver.get(file_url(page))
        driver.execute_script("return document.fonts ? document.fonts.ready : null")
        graphs = driver.find_elements("css selector", ".js-plotly-plot .main-svg")
        assert graphs, "the charts must render"
        assert console_errors(driver) == []
        urls = requested_urls(driver, file_url(page))
        assert urls and all(u.split(":", 1)[0] in ("file", "data", "about", "blob") for u in urls), urls
        text = driver.find_element("tag name", "body").text
        assert "Grand Est" in text and "La Broque" in text
        target = os.environ.get("PVD_SCREENSHOT")
        if target:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            assert driver.save_screenshot(str(Path(target).resolve()))
