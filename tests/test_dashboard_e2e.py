"""From real workbooks to the dashboard and the charts: read, consolidate, write."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from browser import LOCAL_SCHEMES, console_errors, file_url, headless_chromium, requested_urls
from factory import baseline_rows, make_workbook

from pvd_reporting.consolidate.batch import consolidate
from pvd_reporting.consolidate.reading import read_one
from pvd_reporting.outputs.dashboard.charts_folder import write_charts
from pvd_reporting.outputs.dashboard.page import write_dashboard


@pytest.fixture(scope="module")
def consolidation(schema, tmp_path_factory):
    folder = tmp_path_factory.mktemp("workbooks")
    make_workbook(folder / "bouxwiller.xlsx", schema)
    rows = baseline_rows(schema)
    rows["engagements"][0] = {**rows["engagements"][0], "start_on": "32/13/2024"}
    rows["annuaire"] = [{**r, "name": f"{r['name']} Bis", "email": f"bis.{r['email']}"} for r in rows["annuaire"]]
    make_workbook(folder / "bitche.xlsx", schema, rows=rows, territory={
        "id_pvd": "pvd-44-57-2", "name": "Bitche", "department": "57", "siren": "245701362"})
    (folder / "illisible.xlsx").write_bytes(b"PK\x03\x04 ceci n'est pas un classeur")
    reports = [read_one(p, schema) for p in sorted(folder.iterdir())]
    return consolidate(reports, schema)


@pytest.fixture(scope="module")
def pages(consolidation, schema, tmp_path_factory) -> tuple[Path, str, str]:
    out = tmp_path_factory.mktemp("outputs")
    path = write_dashboard(consolidation, out, schema)
    full = path.read_text("utf-8")
    hidden = write_dashboard(consolidation, out / "sans-contacts", schema, no_contacts=True).read_text("utf-8")
    return path, full, hidden


def test_dashboard_from_workbooks_shows_each_territory_and_its_anomalies(consolidation, pages) -> None:
    path, full, _ = pages
    assert path.name == f"tableau-de-bord-{consolidation.region.period}.html"
    assert full.count("<tr data-i=") == len(consolidation.territories) == 2
    assert "Bouxwiller - Ingwiller" in full and "Bitche" in full
    bad = next(i for r in consolidation.reports for i in r.issues if i.code == "invalid-date")
    assert f"<td>Engagements!{bad.cell}</td>" in full
    assert "illisible.xlsx" in full  # unreadable: listed as not consolidated


def test_no_contacts_from_workbooks(consolidation, pages) -> None:
    _, full, hidden = pages
    contacts = [str(c.values.get(k)) for t in consolidation.territories for c in t.contacts
                for k in ("name", "email", "phone")]
    assert len(contacts) == 18
    assert all(html.escape(c) in full for c in contacts)
    assert [c for c in contacts if c in hidden or html.escape(c) in hidden] == []


def test_charts_from_workbooks(consolidation, tmp_path: Path) -> None:
    files, notice = write_charts(consolidation, tmp_path, images=False)
    assert notice is None and len([f for f in files if f.suffix == ".html"]) == 8  # 7 charts and the map


@pytest.mark.browser
def test_dashboard_from_workbooks_runs_clean_in_chromium(pages, chromium: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    path = pages[0]
    with headless_chromium(chromium) as driver:
        url = file_url(path)
        driver.get(url)
        WebDriverWait(driver, 30).until(lambda d: d.execute_script(
            "return Array.from(document.querySelectorAll('[data-chart]'))"
            ".every(div => div.querySelector('svg.main-svg'))"))
        urls = requested_urls(driver, document_prefix=url)
        assert [u for u in urls if not u.startswith(LOCAL_SCHEMES)] == []
        assert console_errors(driver) == []
