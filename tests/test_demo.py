"""The demo as a newcomer runs it: the example workbooks consolidated by the real command, the
dashboard opened in Chromium. With PVD_SCREENSHOT=path (see `make screenshot`), this test also
writes the README's screenshot of that dashboard."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from browser import CHROMIUM_FLAGS, console_errors, file_url, headless_chromium, requested_urls
from click.testing import CliRunner
from conftest import lo_profile
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
    every = json.loads((WORKBOOKS.parent / "tests" / "data" / "examples-expected.json").read_text(encoding="utf-8"))
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


# --- it prints ------------------------------------------------------------------------------------

def _poppler(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        pytest.skip(f"{tool} (poppler-utils) absent")
    return path


def _words(pdf: Path) -> list[tuple[int, float, float, float, str]]:
    """(page, page width, xMax, height, word) of every word, from `pdftotext -bbox`."""
    out = subprocess.run([_poppler("pdftotext"), "-bbox", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    words = []
    for number, page in enumerate(out.split("<page ")[1:], start=1):
        found = re.search(r'width="([\d.]+)"', page)
        assert found, page[:200]
        width = float(found.group(1))
        for y_min, x_max, y_max, word in re.findall(
                r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page):
            words.append((number, width, float(x_max), float(y_max) - float(y_min), word))
    return words


def _pages(pdf: Path) -> int:
    info = subprocess.run([_poppler("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = re.search(r"^Pages:\s+(\d+)", info, flags=re.M)
    assert pages, info
    return int(pages.group(1))


@pytest.mark.browser
def test_the_demo_dashboard_prints_on_at_most_eight_a4_pages(demo: Path, chromium: str, tmp_path: Path) -> None:
    pdf = tmp_path / "tableau-de-bord.pdf"
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}", file_url(demo / "tableau-de-bord-2025-T4.html")],
                   capture_output=True, timeout=180, check=False)
    assert pdf.is_file(), "Chromium wrote no PDF"
    assert _pages(pdf) <= 8
    words = _words(pdf)
    # A4 (595 pt wide), 10 mm right margin: nothing printed beyond it, nothing cut.
    assert {round(w) for _, w, _, _, _ in words} == {595}
    beyond = [(p, word) for p, w, x, _, word in words if x > w - 28.3 + 1]
    assert beyond == []
    text = " ".join(word for *_, word in words)
    # The figures, À retenir and every territory of the table are on paper; no territory panel is.
    assert "À retenir" in text and "Financements" in text and "Graphiques" in text
    assert "Vouziers" in text  # a territory not received, in the table
    assert "Classeur non reçu pour la période" not in text
    # Chart titles are whole (plotly titles do not wrap: a long one is cut by the chart's edge).
    assert "non représentés" in text


def test_the_summary_prints_readable_in_libreoffice(demo: Path, soffice: str, tmp_path: Path) -> None:
    profile = lo_profile()
    subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(demo / "synthese-pvd-2025-T4.xlsx")],
                   capture_output=True, timeout=300, check=False)
    pdf = tmp_path / "synthese-pvd-2025-T4.pdf"
    assert pdf.is_file(), "LibreOffice wrote no PDF"
    words = _words(pdf)
    assert words
    # LibreOffice's 11-point cells give word boxes 10.5 points high at full size: every sheet is
    # fitted to the page's width, but none shrunk under about 7 points (boxes of 6.7) — a sheet
    # shrunk to one page wide printed at 2 to 5 points.
    smallest = min(h for _, _, _, h, _ in words)
    assert smallest >= 6.7, smallest
    # Sheets too wide for that go across pages with the territory's identity repeated: the name
    # of a territory is on more pages than the one its row starts on.
    pages_with = {p for p, _, _, _, word in words if word == "Vouziers"}
    assert len(pages_with) > 1


@pytest.mark.browser
def test_a_panel_opened_on_its_own_prints_alone(demo: Path, chromium: str, tmp_path: Path) -> None:
    import base64

    with headless_chromium(chromium) as driver:
        driver.get(file_url(demo / "tableau-de-bord-2025-T4.html"))
        row = next(tr for tr in driver.find_elements("css selector", "#t-list tbody tr")
                   if "La Broque" in tr.text)
        driver.execute_script("arguments[0].click();", row)
        printed = driver.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True})
    pdf = tmp_path / "panneau.pdf"
    pdf.write_bytes(base64.b64decode(printed["data"]))
    text = " ".join(word for *_, word in _words(pdf))
    assert "La Broque" in text and "prévu et réalisé" in text
    assert "À retenir" not in text and "Graphiques" not in text
    assert _pages(pdf) <= 2
