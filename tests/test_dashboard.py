"""The HTML dashboard: a self-contained page, checked as text and in a real headless Chromium."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from browser import LOCAL_SCHEMES, console_errors, file_url, headless_chromium, requested_urls
from dashboard_fixtures import XSS_NAME, build_consolidation, contact_strings

from pvd_reporting.format.schema import NOT_RECEIVED, ORT_STATUSES
from pvd_reporting.outputs.dashboard.page import render_dashboard, write_dashboard
from pvd_reporting.outputs.dashboard.page_model import script_json


@pytest.fixture(scope="module")
def consolidation():
    return build_consolidation()


@pytest.fixture(scope="module")
def page_path(consolidation, schema, tmp_path_factory) -> Path:
    return write_dashboard(consolidation, tmp_path_factory.mktemp("dash"), schema)


@pytest.fixture(scope="module")
def page(page_path: Path) -> str:
    return page_path.read_text("utf-8")


def test_written_atomically_under_the_period_name(page_path: Path) -> None:
    assert page_path.name == "tableau-de-bord-2025-T4.html"
    assert [p.name for p in page_path.parent.iterdir()] == [page_path.name]


def test_plotly_is_inlined_once_and_nothing_is_fetched(page: str) -> None:
    from pvd_reporting.outputs.dashboard.page_figures import PLOTLY_BUNDLE

    head = PLOTLY_BUNDLE.read_text("utf-8")[:200]
    assert "plotly.js (basic - minified)" in head and page.count(head) == 1
    # Its licence ships beside it.
    assert "MIT" in (PLOTLY_BUNDLE.parent / "LICENSE-plotly.js").read_text("utf-8")
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert not re.search(r"<link[^>]*href=\"(?!data:)", page)
    assert "@import" not in page and "@font-face" not in page
    assert "Plotly.newPlot" in page and "displaylogo: false" in page


def test_header_cards_and_table_in_french(page: str, consolidation) -> None:
    assert "Petites villes de demain — Grand Est" in page
    assert "Période <strong>2025-T4</strong>" in page and "31/12/2025" in page
    for label in ("Territoires attendus", "Territoires reçus", "Classeurs sans erreur", "Territoires manquants",
                  "ORT signées", "À risque", "Échéance dépassée", "Médiane J1 → J8",
                  "Chefs de projet en poste", "Cadence des comités tenue", "Reste à financer",
                  "Besoins en ingénierie", "Coût et financements des actions", "À retenir",
                      "Financements au-delà du coût (€)"):
        assert html.escape(label, quote=True) in page, label
    # A soft hyphen lets a long header break when the table is printed.
    headers = [h.replace("&shy;", "") for h in re.findall(r"<th data-type=\"\w+\">([^<]+)</th>", page)]
    assert headers == ["Identifiant", "Territoire", "Département", "Statut ORT", "Jalons", "Échéance",
                       "Mois restants", "Chef de projet", "Coût", "Reste à financer", "Erreurs",
                       "Avertissements"]
    assert page.count("<tr data-i=") == len(consolidation.territories)


def test_every_status_is_a_filter_option_written_in_words(page: str) -> None:
    for status in (*ORT_STATUSES, NOT_RECEIVED):
        assert f'<option value="{html.escape(status)}">' in page
        assert f"<i></i>{html.escape(status)}</span>" in page


def test_hostile_territory_name_is_only_ever_escaped(page: str) -> None:
    assert XSS_NAME not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # HTML text
    assert "\\u0026lt;img src=x" in page  # inside the figures' JSON: escaped for plotly, then for <script>


def test_script_json_cannot_close_the_script() -> None:
    text = str(script_json('{"a": "</script><!-- & \u2028"}'))
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text


def test_contacts_shown_by_default_and_absent_with_no_contacts(consolidation, schema, page: str) -> None:
    secrets = contact_strings(consolidation)
    assert all(html.escape(s) in page for s in secrets)
    hidden = render_dashboard(consolidation, schema, no_contacts=True)
    leaked = [s for s in secrets if s in hidden or html.escape(s) in hidden]
    assert leaked == []
    assert "<h4>Contacts</h4>" not in hidden
    assert "Mail invalide" in hidden  # the anomaly is still listed, without the address it quoted


def test_unplaced_workbooks_are_listed(page: str) -> None:
    assert "workbooks/illisible.xlsx" in page


def test_page_for_99_territories_stays_under_6_mb(schema, tmp_path: Path) -> None:
    path = write_dashboard(build_consolidation(n=99), tmp_path, schema)
    size = path.stat().st_size
    assert size < 6_000_000, size
    assert path.read_text("utf-8").count("<tr data-i=") == 99


# ---- in a real browser -------------------------------------------------------------------


@pytest.fixture(scope="module")
def driver(chromium: str):
    with headless_chromium(chromium) as d:
        yield d


@pytest.fixture(scope="module")
def loaded(driver, page_path: Path):
    from selenium.webdriver.support.ui import WebDriverWait

    url = file_url(page_path)
    driver.get(url)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(
        "return Array.from(document.querySelectorAll('[data-chart]'))"
        ".every(div => div.querySelector('svg.main-svg'))"))
    driver.pvd_requests = requested_urls(driver, document_prefix=url)
    return driver


def _visible_rows(driver) -> list:
    from selenium.webdriver.common.by import By

    return [tr for tr in driver.find_elements(By.CSS_SELECTOR, "#t-list tbody tr") if tr.is_displayed()]


def _select(driver, element_id: str, value: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, element_id)).select_by_value(value)


@pytest.mark.browser
def test_loads_offline_without_console_error_or_request(loaded) -> None:
    urls = loaded.pvd_requests
    assert any(u.startswith("file:") for u in urls), "no request logged: the check would be blind"
    assert [u for u in urls if not u.startswith(LOCAL_SCHEMES)] == []
    assert console_errors(loaded) == []


@pytest.mark.browser
def test_every_chart_is_drawn(loaded) -> None:
    drawn = loaded.execute_script(
        "return Array.from(document.querySelectorAll('[data-chart]'))"
        ".filter(div => div.querySelector('svg.main-svg .trace, svg.main-svg .hm')).length")
    assert drawn == 7


@pytest.mark.browser
def test_filters_by_department_status_and_text(loaded, consolidation) -> None:
    from selenium.webdriver.common.by import By

    assert len(_visible_rows(loaded)) == len(consolidation.territories)
    _select(loaded, "f-dept", "67")
    rows = _visible_rows(loaded)
    assert len(rows) == sum(1 for t in consolidation.territories if t.department == "67") == 2
    assert {r.get_attribute("data-dept") for r in rows} == {"67"}
    assert loaded.find_element(By.ID, "count").text == "2 territoires"
    _select(loaded, "f-dept", "")
    _select(loaded, "f-status", NOT_RECEIVED)
    assert {r.find_elements(By.TAG_NAME, "td")[1].text for r in _visible_rows(loaded)} == {"Remiremont", "Bitche"}
    _select(loaded, "f-status", "")
    search = loaded.find_element(By.ID, "f-search")
    search.send_keys("LUNEVILLE")
    assert [r.find_elements(By.TAG_NAME, "td")[1].text for r in _visible_rows(loaded)] == ["Lunéville"]
    search.clear()
    search.send_keys(" ")  # an input event with an empty query shows everything again
    assert len(_visible_rows(loaded)) == len(consolidation.territories)


@pytest.mark.browser
def test_sorting_by_days_left(loaded) -> None:
    from selenium.webdriver.common.by import By

    # Shown in months (as À retenir and the deadlines chart), French decimals and a real minus sign.
    def months(text: str) -> float:
        return float(text.replace("\u2212", "-").replace(",", "."))

    header = next(th for th in loaded.find_elements(By.CSS_SELECTOR, "#t-list th") if th.text == "Mois restants")
    header.click()
    values = [r.find_elements(By.TAG_NAME, "td")[6].text for r in _visible_rows(loaded)]
    numbers = [months(v) for v in values if v != "—"]
    assert numbers == sorted(numbers) and values[-1] == "—"
    header.click()
    numbers = [months(r.find_elements(By.TAG_NAME, "td")[6].text) for r in _visible_rows(loaded)
               if r.find_elements(By.TAG_NAME, "td")[6].text != "—"]
    assert numbers == sorted(numbers, reverse=True)


@pytest.mark.browser
def test_hostile_name_is_text_and_runs_nothing(loaded) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    assert loaded.find_elements(By.TAG_NAME, "img") == []
    cells = [td.text for td in loaded.find_elements(By.CSS_SELECTOR, "#t-list tbody td:nth-child(2)")]
    assert XSS_NAME in cells
    with pytest.raises(NoAlertPresentException):
        loaded.switch_to.alert.text  # noqa: B018 - reading it is what raises


@pytest.mark.browser
def test_a_row_opens_the_territory_panel(loaded) -> None:
    from selenium.webdriver.common.by import By

    row = next(r for r in _visible_rows(loaded) if r.find_elements(By.TAG_NAME, "td")[1].text == "Saverne")
    row.click()
    panel = loaded.find_element(By.ID, f"p-{row.get_attribute('data-i')}")
    assert panel.is_displayed()
    text = panel.text
    assert "Saverne" in text and "Jalons : prévu et réalisé" in text
    assert "Engagements!H" in text and "Date illisible" in text
    assert "Contacts" in text
    assert len(panel.find_elements(By.CSS_SELECTOR, ".tl .mk.dn")) == 7
    others = [p for p in loaded.find_elements(By.CSS_SELECTOR, ".panel") if p.is_displayed()]
    assert others == [panel]
    panel.find_element(By.CSS_SELECTOR, "button[data-close]").click()
    assert not panel.is_displayed()


def test_unplaced_box_gives_every_reason_in_full(schema) -> None:
    from datetime import date

    from pvd_reporting.format.issues import Issue, Severity, WorkbookReport

    cons = build_consolidation(n=2)
    long = "Classeur de la période 2026-T1, postérieure à la période consolidée 2025-T4 : " + "détail " * 60
    other = "Autre classeur pour le même territoire : le classeur à la date de mise à jour la plus récente est retenu."
    cons.reports.append(WorkbookReport(path="workbooks/deux-motifs.xlsx", issues=[
        Issue("period-mismatch", Severity.ERROR, long.strip()),
        Issue("duplicate-submission", Severity.WARNING, other)]))
    page = render_dashboard(cons, schema, generated_on=date(2026, 1, 5))
    box = page[page.index('<details id="non-consolides">'):]
    box = box[:box.index("</details>")]
    row = box[box.index("workbooks/deux-motifs.xlsx"):]
    row = row[:row.index("</tr>")]
    assert f"<div>{html.escape(long.strip(), quote=True)}</div>" in row
    assert f"<div>{html.escape(other, quote=True)}</div>" in row
