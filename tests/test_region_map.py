"""The map of the region: shipped shapes, the figure, the dashboard's map block, in a real Chromium."""

from __future__ import annotations

import base64
import csv
import dataclasses
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest
from browser import LOCAL_SCHEMES, console_errors, file_url, headless_chromium, requested_urls
from dashboard_fixtures import SIRENS, XSS_NAME, build_consolidation
from factory import make_workbook

from pvd_reporting.consolidate.batch import consolidate
from pvd_reporting.consolidate.reading import read_one
from pvd_reporting.format.reference import load_reference
from pvd_reporting.format.schema import NOT_RECEIVED, ORT_STATUSES
from pvd_reporting.outputs.dashboard import charts_folder
from pvd_reporting.outputs.dashboard import plots as charts
from pvd_reporting.outputs.dashboard.page import render_dashboard, write_dashboard
from pvd_reporting.outputs.dashboard.region_map import (
    ATTRIBUTION,
    DEPARTMENTS_FILE,
    EPCI_FILE,
    MAP_NAME,
    SHAPES_DIR,
    load_shapes,
    map_figure,
)
from pvd_reporting.outputs.palette import ORT_COLORS

if TYPE_CHECKING:  # selenium is imported where a test drives the browser
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.remote.webdriver import WebDriver

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

import map_speed  # noqa: E402

GRAND_EST = ("08", "10", "51", "52", "54", "55", "57", "67", "68", "88")


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_shapes", REPO / "scripts" / "make_shapes.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _territory_traces(figure: dict) -> list[dict]:
    return [t for t in figure["data"] if t.get("meta")]


@pytest.fixture(scope="module")
def consolidation():
    return build_consolidation()


# ---- the shapes shipped in the package ----------------------------------------------------------


def test_shipped_shapes_cover_france_in_under_a_megabyte() -> None:
    shapes = load_shapes()
    assert len(shapes.epci) == 1255  # the 1,355 features of the source with a SIREN, one per EPCI
    assert len(shapes.departments) == 101
    assert sum(1 for s in shapes.epci.values() if set(s.within) & set(GRAND_EST)) == 150
    assert shapes.epci["245701404"].within == ("54", "57")  # an EPCI across two départements is one shape
    assert shapes.departments["67"].name == "Bas-Rhin"
    size = (SHAPES_DIR / EPCI_FILE).stat().st_size + (SHAPES_DIR / DEPARTMENTS_FILE).stat().st_size
    assert size < 1_000_000
    for name in (EPCI_FILE, DEPARTMENTS_FILE):
        assert json.loads((SHAPES_DIR / name).read_text("utf-8"))["attribution"] == ATTRIBUTION


def test_every_pvd_epci_of_grand_est_has_a_shape(reference_csv: Path) -> None:
    with reference_csv.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    grand_est = {r["siren_epci"] for r in rows if r["lib_reg"] == "Grand Est"}
    shapes = load_shapes()
    assert len(grand_est) == 86 and grand_est <= set(shapes.epci)
    everywhere = {r["siren_epci"] for r in rows if r["siren_epci"]}
    assert len(everywhere - set(shapes.epci)) == 1  # 869 of the 870, as the data's README says


# The ANCT sources of the shipped shapes, kept beside the tests (770 ko, Licence Ouverte 2.0).
SHAPE_SOURCES = Path(__file__).parent / "data" / "contours"


def test_shipped_shapes_are_what_the_script_makes(tmp_path: Path) -> None:
    assert _load_script().main(["--source-dir", str(SHAPE_SOURCES), "--output-dir", str(tmp_path)]) == 0
    for name in (EPCI_FILE, DEPARTMENTS_FILE):
        assert (tmp_path / name).read_bytes() == (SHAPES_DIR / name).read_bytes(), f"relancez scripts/make_shapes.py ({name})"


def test_script_on_small_sources_merges_simplifies_and_rounds(tmp_path: Path) -> None:
    # Runs everywhere (the ANCT sources are not needed): an EPCI cut in two by a département
    # border is one shape again, a point on a straight edge goes, coordinates keep 4 decimals,
    # a feature without SIREN (an island commune) is left out.
    def feature(props: dict[str, str], ring: list[list[float]]) -> dict[str, object]:
        return {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [ring]}}

    square = [[6.0, 48.0], [6.5, 48.0], [7.0, 48.0], [7.0, 48.5], [6.0, 48.5], [6.0, 48.0]]
    moved = [[x + 1.000004, y] for x, y in square]
    epci = {"type": "FeatureCollection", "features": [
        feature({"siren_epci": "200000001", "lib_epci": "CC Test", "insee_dep": "57", "insee_reg": "44"}, square),
        feature({"siren_epci": "200000001", "lib_epci": "CC Test", "insee_dep": "54", "insee_reg": "44"}, moved),
        feature({"siren_epci": "", "lib_epci": "", "insee_dep": "57", "insee_reg": "44"}, square),
    ]}
    departments = {"type": "FeatureCollection", "features": [
        feature({"insee_dep": "57", "insee_reg": "44", "lib_dep": "Moselle"}, square)]}
    source = tmp_path / "src"
    source.mkdir()
    script = _load_script()
    (source / script.EPCI_SOURCE).write_text(json.dumps(epci), "utf-8")
    (source / script.DEPARTMENTS_SOURCE).write_text(json.dumps(departments), "utf-8")
    assert script.main(["--source-dir", str(source), "--output-dir", str(tmp_path / "out")]) == 0
    shapes = json.loads((tmp_path / "out" / EPCI_FILE).read_text("utf-8"))
    assert list(shapes["features"]) == ["200000001"]
    merged = shapes["features"]["200000001"]
    assert merged["name"] == "CC Test" and merged["in"] == ["54", "57"] and len(merged["rings"]) == 2
    assert merged["rings"][0] == [6.0, 48.0, 7.0, 48.0, 7.0, 48.5, 6.0, 48.5, 6.0, 48.0]  # (6.5, 48) dropped
    assert merged["rings"][1][:2] == [7.0, 48.0]  # 7.000004 rounded to 4 decimals
    deps = json.loads((tmp_path / "out" / DEPARTMENTS_FILE).read_text("utf-8"))
    assert deps["features"]["57"]["name"] == "Moselle" and deps["features"]["57"]["in"] == ["44"]
    assert (tmp_path / "out" / EPCI_FILE).read_bytes() == script.dumps(script.derive_epci(epci)).encode()


def test_script_without_sources_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _load_script().main(["--source-dir", str(tmp_path / "absent"), "--output-dir", str(tmp_path)]) == 2
    assert "introuvable" in capsys.readouterr().err and not list(tmp_path.iterdir())


def test_douglas_peucker_drops_what_the_eye_cannot_see_and_keeps_corners() -> None:
    script = _load_script()
    ring = [[0.0, 0.0], [0.5, 0.00001], [1.0, 0.0], [1.0, 1.0], [0.5, 1.2], [0.0, 1.0], [0.0, 0.0]]
    flat = script.simplify_ring(ring)
    points = list(zip(flat[0::2], flat[1::2], strict=True))
    assert (0.5, 0.0) not in points  # 1 m off the line: gone
    assert (0.5, 1.2) in points and points[0] == points[-1] == (0.0, 0.0)
    tiny = [[0.0, 0.0], [0.0001, 0.0], [0.0001, 0.0001], [0.0, 0.0]]
    assert len(script.simplify_ring(tiny)) == 8  # an islet below the tolerance is kept as it was


# ---- the figure ---------------------------------------------------------------------------------


def test_only_the_regions_shapes_are_embedded(consolidation) -> None:
    region_map = charts.status_map(consolidation)
    figure = region_map.figure
    shapes = load_shapes()
    # The EPCI of the ten départements of Grand Est, and nothing of elsewhere.
    assert sorted(region_map.epci) == sorted(s for s, shape in shapes.epci.items() if set(shape.within) & set(GRAND_EST))
    assert len(region_map.epci) == 150
    xs = [x for t in figure["data"] for x in t["x"] if x is not None]
    assert 3.3 < min(xs) and max(xs) < 8.3  # Grand Est's longitudes: no shape of Brittany or Corsica
    names = {a["text"] for a in figure["layout"]["annotations"]}
    assert {"Bas-Rhin (67)", "Ardennes (08)", "Haute-Marne (52)"} <= names
    assert any(ATTRIBUTION in a["text"] for a in figure["layout"]["annotations"])
    assert region_map.unmapped == []


def test_drawn_on_a_plain_plot_so_nothing_is_fetched(consolidation) -> None:
    figure = charts.status_map(consolidation).figure
    assert {t["type"] for t in figure["data"]} == {"scatter"}
    assert not any(k.startswith(("geo", "mapbox", "map")) for k in figure["layout"])
    assert "http" not in json.dumps(figure)
    assert figure["layout"]["yaxis"]["scaleanchor"] == "x"  # shapes keep their proportions
    assert 1.49 < figure["layout"]["yaxis"]["scaleratio"] < 1.55  # 1 / cos(48.8°), Grand Est's middle


def test_each_territory_has_its_status_colour_from_the_palette(consolidation) -> None:
    traces = _territory_traces(charts.status_map(consolidation).figure)
    by_key = {t.key: t for t in consolidation.territories}
    for trace in traces:
        status = by_key[trace["meta"][0]].ort_status
        assert trace["fillcolor"] == ORT_COLORS[status]
        assert trace["name"] == status and trace["hoveron"] == "fills"
    grey = [t for t in traces if t["meta"][0] in {"pvd-44-88-5", "pvd-44-57-2"}]
    assert [t["fillcolor"] for t in grey] == [ORT_COLORS[NOT_RECEIVED]] * 2
    legend = {t["name"] for t in traces if t["showlegend"]}
    assert legend == set(ORT_STATUSES) | {NOT_RECEIVED}  # one legend entry a status, no repeat
    assert sum(1 for t in traces if t["showlegend"]) == len(legend)


def test_hover_names_the_territory_its_status_days_left_and_last_jalon(consolidation) -> None:
    traces = _territory_traces(charts.status_map(consolidation).figure)
    langres = next(t for t in traces if t["meta"] == ["pvd-44-52-1"])
    view = next(t for t in consolidation.territories if t.key == "pvd-44-52-1")
    assert "<b>Langres</b> (52)" in langres["text"]
    assert "Statut ORT : Échéance dépassée" in langres["text"]
    assert f"Jours restants : \u2212{abs(view.days_left)}" in langres["text"]  # a real minus sign
    assert f"Dernier jalon : {view.last_milestone}" in langres["text"]
    bitche = next(t for t in traces if t["meta"] == ["pvd-44-57-2"])
    assert "Classeur non reçu" in bitche["text"] and "Jours restants : —" in bitche["text"]


def test_an_epci_with_two_territories_takes_the_most_urgent_status(consolidation) -> None:
    traces = _territory_traces(charts.status_map(consolidation).figure)
    shared = [t for t in traces if len(t["meta"]) > 1]
    assert len(shared) == 1 and shared[0]["meta"] == ["pvd-44-67-3", "pvd-44-67-9"]  # Saverne first
    assert shared[0]["fillcolor"] == ORT_COLORS["À risque"]  # not the other's « Dans les temps »
    assert "Saverne" in shared[0]["text"]
    assert XSS_NAME not in shared[0]["text"] and "&lt;img src=x onerror=alert(1)&gt;" in shared[0]["text"]


def test_a_territory_without_shape_is_named_under_the_map(consolidation, schema, tmp_path: Path) -> None:
    territories = list(consolidation.territories)
    territories[1] = dataclasses.replace(territories[1], siren=None)  # Bar-sur-Aube
    territories[5] = dataclasses.replace(territories[5], siren="123456782")  # Saint-Mihiel, no such EPCI
    cons = dataclasses.replace(consolidation, territories=territories)
    region_map = charts.status_map(cons)
    assert [t.name for t in region_map.unmapped] == ["Bar-sur-Aube", "Saint-Mihiel"]
    page = render_dashboard(cons, schema)
    under = page.split('id="carte-sans-contour">', 1)[1].split("</p>", 1)[0]
    assert under == ("Sans contour d&#39;EPCI sur la carte : Bar-sur-Aube (SIREN de l&#39;EPCI absent), "
                     "Saint-Mihiel (SIREN 123456782 sans contour).")
    files, _ = charts_folder.write_charts(cons, tmp_path, images=False)
    chart = (tmp_path / "graphiques-2025-T4" / f"{MAP_NAME}.html").read_text("utf-8")
    assert "Bar-sur-Aube (SIREN de l'EPCI absent)" in chart and f"{MAP_NAME}.html" in {f.name for f in files}


def test_one_period_has_no_selector(consolidation) -> None:
    layout = charts.status_map(consolidation).figure["layout"]
    assert "sliders" not in layout and layout["title"]["text"].endswith("— 2025-T4")


def test_several_periods_get_a_slider_that_shows_each(consolidation) -> None:
    earlier = [dataclasses.replace(t, ort_status=NOT_RECEIVED, received=False) for t in consolidation.territories]
    figure = map_figure([("2025-T3", earlier), ("2025-T4", consolidation.territories)]).figure
    slider = figure["layout"]["sliders"][0]
    assert [s["label"] for s in slider["steps"]] == ["2025-T3", "2025-T4"] and slider["active"] == 1
    traces = figure["data"]
    territory = [i for i, t in enumerate(traces) if t.get("meta")]
    assert len(territory) == 2 * 11  # 12 territories in 11 EPCI, each period
    t3, t4 = (step["args"][0]["visible"] for step in slider["steps"])
    assert [traces[i]["fillcolor"] for i in territory if t3[i]] == [ORT_COLORS[NOT_RECEIVED]] * 11
    assert sum(t4[i] for i in territory) == 11 and not any(t3[i] and t4[i] for i in territory)
    assert all(t3[i] and t4[i] for i in range(len(traces)) if i not in territory)  # outlines, names: always
    assert [t.get("visible") for t in traces] == t4  # the latest period at first
    assert slider["steps"][0]["args"][1] == {"title.text": "Statut ORT des territoires par EPCI — 2025-T3"}


def test_non_received_reference_territories_carry_their_siren_onto_the_map(schema, reference_csv, tmp_path) -> None:
    make_workbook(tmp_path / "bouxwiller.xlsx", schema)
    cons = consolidate([read_one(tmp_path / "bouxwiller.xlsx", schema)], schema,
                       reference=load_reference(reference_csv))
    missing = [t for t in cons.territories if not t.received]
    assert len(missing) == 98 and all(t.siren for t in missing)
    region_map = charts.status_map(cons)
    assert region_map.unmapped == []
    keys = {k for t in _territory_traces(region_map.figure) for k in t["meta"]}
    assert keys == {t.key for t in cons.territories}


# ---- in the dashboard and in graphiques-<period>/ -----------------------------------------------


def test_the_dashboard_opens_on_the_map(consolidation, schema) -> None:
    page = render_dashboard(consolidation, schema)
    body = page.split("<main", 1)[1]
    assert body.index('id="carte"') < body.index('id="chiffres"')
    assert '<div class="map" id="carte-plot"' in page
    assert "Carte de la région" in page and XSS_NAME not in page


def test_the_map_goes_to_graphiques(consolidation, tmp_path: Path) -> None:
    files, notice = charts_folder.write_charts(consolidation, tmp_path, images=False)
    chart = tmp_path / "graphiques-2025-T4" / f"{MAP_NAME}.html"
    assert notice is None and chart in files
    text = chart.read_text("utf-8")
    assert '<script charset="utf-8" src="plotly.min.js"></script>' in text and "http" not in text
    assert ATTRIBUTION in text and XSS_NAME not in text and text.count("</script>") == 2


@pytest.mark.browser
def test_map_png_and_svg(consolidation, tmp_path: Path, chromium: str) -> None:
    files, notice = charts_folder.write_charts(consolidation, tmp_path, images=True)
    folder = tmp_path / "graphiques-2025-T4"
    assert notice is None
    png, svg = folder / f"{MAP_NAME}.png", folder / f"{MAP_NAME}.svg"
    assert png in files and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = svg.read_text("utf-8")
    assert "Bas-Rhin (67)" in text and ATTRIBUTION in text


# ---- in a real browser, the network watched -----------------------------------------------------

_INSIDE = """
// A point well inside the first ring of trace i, in page pixels (ray casting on a grid).
var div = document.getElementById('carte-plot'), fl = div._fullLayout, t = div.data[arguments[0]];
var xs = [], ys = [];
for (var k = 0; k < t.x.length && t.x[k] !== null; k++) { xs.push(t.x[k]); ys.push(t.y[k]); }
function inside(x, y) {
  var c = false;
  for (var i = 0, j = xs.length - 1; i < xs.length; j = i++) {
    if (((ys[i] > y) !== (ys[j] > y)) && (x < (xs[j] - xs[i]) * (y - ys[i]) / (ys[j] - ys[i]) + xs[i])) { c = !c; }
  }
  return c;
}
var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs), y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
var best = null, score = -1;
for (var a = 1; a < 30; a++) { for (var b = 1; b < 30; b++) {
  var x = x0 + (x1 - x0) * a / 30, y = y0 + (y1 - y0) * b / 30;
  if (!inside(x, y)) { continue; }
  var d = Math.min(x - x0, x1 - x, y - y0, y1 - y, 1e9);
  var s = 0; for (var m = 1; m <= 8; m++) { var ang = m * Math.PI / 4, r = (x1 - x0) / 25;
    if (inside(x + r * Math.cos(ang), y + r * Math.sin(ang))) { s++; } }
  if (s * 1e6 + d > score) { score = s * 1e6 + d; best = [x, y]; }
} }
var box = div.getBoundingClientRect();
return [box.left + fl.xaxis._offset + fl.xaxis.l2p(best[0]), box.top + fl.yaxis._offset + fl.yaxis.l2p(best[1])];
"""


def _trace_index(driver, meta: list[str]) -> int:
    return driver.execute_script(
        "return document.getElementById('carte-plot').data.findIndex("
        "t => t.meta && t.meta.join('|') === arguments[0])", "|".join(meta))


def _hover(driver: WebDriver, meta: list[str]) -> ActionBuilder:
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    driver.execute_script("document.getElementById('carte-plot').scrollIntoView()")
    x, y = driver.execute_script(_INSIDE, _trace_index(driver, meta))
    actions = ActionBuilder(driver)
    actions.pointer_action.move_to_location(int(x), int(y))
    actions.perform()
    return actions


def _hover_text(driver) -> str:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 5).until(lambda d: d.execute_script(
        "var h = document.querySelector('#carte-plot .hoverlayer .hovertext'); return h ? h.textContent : ''"))


def _open_panel(driver) -> str:
    return driver.execute_script(
        "var p = document.querySelector('.panel.open'); return p ? p.querySelector('h3').textContent : ''")


@pytest.fixture(scope="module")
def map_page(consolidation, schema, tmp_path_factory) -> Path:
    return write_dashboard(consolidation, tmp_path_factory.mktemp("carte"), schema)


@pytest.mark.browser
def test_hover_and_click_open_panels_with_no_request(map_page: Path, chromium: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    with headless_chromium(chromium) as driver:
        url = file_url(map_page)
        driver.get(url)
        WebDriverWait(driver, 30).until(lambda d: d.execute_script(
            "return !!document.querySelector('#carte-plot svg.main-svg .scatterlayer .trace')"))
        actions = _hover(driver, ["pvd-44-52-1"])
        text = _hover_text(driver)
        assert "Langres (52)" in text and "Statut ORT : Échéance dépassée" in text
        assert "Jours restants : \u2212" in text and "Dernier jalon : J4 — " in text
        actions.pointer_action.click()
        actions.perform()
        WebDriverWait(driver, 5).until(lambda d: _open_panel(d) == "Langres")

        # One EPCI, two territories: the first click opens the most urgent, the next the other.
        actions = _hover(driver, ["pvd-44-67-3", "pvd-44-67-9"])
        assert "Saverne" in _hover_text(driver) and XSS_NAME in _hover_text(driver)  # as text, not a tag
        actions.pointer_action.click()
        actions.perform()
        WebDriverWait(driver, 5).until(lambda d: _open_panel(d) == "Saverne")
        actions = _hover(driver, ["pvd-44-67-3", "pvd-44-67-9"])
        actions.pointer_action.click()
        actions.perform()
        WebDriverWait(driver, 5).until(lambda d: _open_panel(d) == XSS_NAME)

        urls = requested_urls(driver, document_prefix=url)
        assert any(u.startswith("file:") for u in urls), "no request logged: the check would be blind"
        assert [u for u in urls if not u.startswith(LOCAL_SCHEMES)] == []
        assert driver.find_elements("css selector", "img") == []
        assert console_errors(driver) == []


@pytest.mark.browser
def test_printing_keeps_the_whole_map_on_the_first_page(map_page: Path, chromium: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.print_page_options import PrintOptions
    from selenium.webdriver.support.ui import WebDriverWait

    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) absent")
    with headless_chromium(chromium) as driver:
        driver.get(file_url(map_page))
        WebDriverWait(driver, 30).until(lambda d: d.execute_script(
            "return !!document.querySelector('#carte-plot svg.main-svg .scatterlayer .trace')"))
        options = PrintOptions()
        options.page_width, options.page_height = 21.0, 29.7
        pdf = tmp_path / "tableau.pdf"
        pdf.write_bytes(base64.b64decode(driver.print_page(options)))
    # Only what lies inside the A4 page (595 × 842 pt) of page 1: a map wider than the paper would lose its right side.
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-x", "0", "-y", "0", "-W", "595", "-H", "842",
                            str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Carte de la région" in first
    assert "Statut ORT des territoires par EPCI — 2025-T4" in first
    assert "Bas-Rhin (67)" in first and "Ardennes (08)" in first
    assert ATTRIBUTION in first  # the bottom line of the map: the map was not cut across pages


def test_map_benchmark_runs() -> None:
    result = map_speed.measure(20, repeat=1)  # benchmarks/map_speed.py cannot rot; nothing is timed here
    assert set(result) == {"shapes_s", "block_s", "chart_page_s", "total_s", "bytes"}
    assert result["bytes"][0] > 10_000


def test_fixture_sirens_are_real_epci() -> None:
    assert set(SIRENS.values()) <= set(load_shapes().epci)


def test_no_territory_gives_an_empty_map_with_a_message(schema) -> None:
    figure = map_figure([("2025-T4", [])]).figure
    assert figure["data"] == []
    assert "Aucun contour d'EPCI pour ces territoires." in {a["text"] for a in figure["layout"]["annotations"]}
    assert 'id="carte-plot"' in render_dashboard(build_consolidation(n=0), schema)


def test_readme_gives_the_attribution_and_the_screenshot() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    assert f"Fond de carte : **{ATTRIBUTION}**" in readme
    assert "(docs/carte-statut-ort.png)" in readme and (REPO / "docs" / "carte-statut-ort.png").is_file()
