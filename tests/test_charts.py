"""The charts for managers: figures built from a regional view, files written offline, images."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from dashboard_fixtures import XSS_NAME, build_consolidation

from pvd_reporting.format.schema import ORT_STATUSES
from pvd_reporting.outputs.dashboard import charts_folder, images
from pvd_reporting.outputs.dashboard import plots as charts
from pvd_reporting.outputs.dashboard.region_map import MAP_NAME
from pvd_reporting.outputs.palette import ORT_COLORS

REPO = Path(__file__).resolve().parent.parent
NAMES = [
    "statut-ort-par-departement", "avancement-jalons", "echeances", "financements-par-financeur",
    "actions-par-thematique", "besoins-ingenierie", "comites-par-trimestre",
]
FILES = [*NAMES, MAP_NAME]  # graphiques-<period>/ holds the charts and the map


@pytest.fixture(scope="module")
def consolidation():
    return build_consolidation()


@pytest.fixture(scope="module")
def figures(consolidation):
    return charts.build_figures(consolidation)


def test_figures_have_stable_french_names_and_data(figures) -> None:
    assert list(figures) == NAMES
    for name, fig in figures.items():
        assert fig.layout.title.text, name
        assert fig.data, name


def test_status_chart_counts_received_territories_and_names_the_missing(consolidation, figures) -> None:
    fig = figures["statut-ort-par-departement"]
    by_status = {trace.name: sum(trace.y) for trace in fig.data}
    # The territories without a workbook are told in the title, not drawn as a grey bar.
    assert set(by_status) == set(ORT_STATUSES)
    assert sum(by_status.values()) == sum(1 for t in consolidation.territories if t.received)
    assert "2 territoires sans classeur" in fig.layout.title.subtitle.text
    # A status is told by its colour and its name, and the colours differ.
    colors = [trace.marker.color for trace in fig.data]
    assert len(set(colors)) == len(colors)
    # Départements by name: « Bas-Rhin (67) », not « 67 ».
    assert "Bas-Rhin (67)" in list(fig.data[0].x)


def test_every_title_carries_the_period(consolidation, figures) -> None:
    for name, fig in figures.items():
        assert consolidation.region.period in fig.layout.title.text, name


def test_action_statuses_never_use_an_ort_colour(figures) -> None:
    ort = {c.upper() for c in ORT_COLORS.values()}
    actions = {trace.marker.color.upper() for trace in figures["actions-par-thematique"].data}
    assert actions and not actions & ort
    money = [c.upper() for c in figures["financements-par-financeur"].data[0].marker.color]
    assert not set(money) & ort


def test_deadlines_show_received_territories_with_a_deadline_and_escape_names(consolidation, figures) -> None:
    fig = figures["echeances"]
    labels = [y for trace in fig.data for y in trace.y]
    expected = [t for t in consolidation.territories if t.received and t.days_left is not None]
    assert len(labels) == len(expected)
    assert XSS_NAME not in " ".join(labels)
    assert any(label.startswith("&lt;img src=x") for label in labels)
    overdue = next(trace for trace in fig.data if trace.name == "Échéance dépassée")
    assert all(x < 0 for x in overdue.x)


def test_milestone_chart_places_each_received_territory_once(consolidation, figures) -> None:
    fig = figures["avancement-jalons"]
    assert sum(sum(trace.y) for trace in fig.data) == sum(1 for t in consolidation.territories if t.received)
    assert list(fig.layout.xaxis.categoryarray) == ["Aucun", "J1", "J2", "J3", "J4", "J5", "J6", "J7", "J8"]


def test_money_chart_adds_up_to_the_region(consolidation, figures) -> None:
    # The financers in one trace, largest first; « Reste à financer » apart, last (hatched).
    bar, remaining = figures["financements-par-financeur"].data
    region = consolidation.region
    assert sum(bar.x) + sum(remaining.x) == pytest.approx(sum(region.financing.values()) + region.remaining)
    assert list(bar.x) == sorted(bar.x, reverse=True)
    assert remaining.y == ("Reste à financer",)


def test_comites_heatmap_is_territory_by_quarter(consolidation, figures) -> None:
    (heat,) = figures["comites-par-trimestre"].data
    received = [t for t in consolidation.territories if t.received]
    assert len(heat.y) == len(received)
    assert list(heat.x) == ["2025-T1", "2025-T2", "2025-T3", "2025-T4"]
    assert sum(map(sum, heat.z)) == sum(sum(t.comites_by_quarter.values()) for t in received)


def test_actions_chart_lists_the_statuses_of_the_configuration_in_use(consolidation) -> None:
    renamed = build_consolidation()
    first = next(iter(renamed.region.actions_by_theme_status))
    renamed.region.actions_by_theme_status = {first: {"Lancée": 2, "Terminée": 1}}
    renamed.region.action_statuses = ["Lancée", "Terminée"]
    names = [bar.name for bar in charts.actions_by_theme(renamed).data]
    assert names == ["Lancée", "Terminée"]


def test_empty_region_gives_figures_with_a_message() -> None:
    empty = build_consolidation(n=0)
    figures = charts.build_figures(empty)
    assert list(figures) == NAMES
    assert any(a.text for a in figures["comites-par-trimestre"].layout.annotations)


def test_write_charts_without_images_writes_offline_pages(consolidation, tmp_path: Path) -> None:
    files, notice = charts_folder.write_charts(consolidation, tmp_path, images=False)
    folder = tmp_path / "graphiques-2025-T4"
    assert notice is None
    assert {p.name for p in files} == {f"{n}.html" for n in FILES} | {"plotly.min.js"}
    assert all(p.parent == folder and p.exists() for p in files)
    page = (folder / "echeances.html").read_text("utf-8")
    assert '<script charset="utf-8" src="plotly.min.js"></script>' in page
    assert "cdn" not in page and 'src="http' not in page
    assert XSS_NAME not in page
    assert not list(folder.glob(".tmp-*"))


def test_every_image_is_drawn_by_the_renderers_bundle(consolidation) -> None:
    from pvd_reporting.outputs.browser import check_traces
    from pvd_reporting.outputs.dashboard.trends import trend_figures

    figures = {**charts_folder.chart_figures(consolidation), **trend_figures(consolidation)}
    data = [fig if isinstance(fig, dict) else fig.to_dict() for fig in figures.values()]
    assert "heatmap" in {t.get("type") for d in data for t in d["data"]}  # beyond the dashboard's bundle
    for figure in data:
        check_traces(figure)


def test_charts_and_images_are_drawn_with_plotly_white_as_when_it_was_set_on_each_figure(consolidation) -> None:
    import copy

    from pvd_reporting.outputs.dashboard.trends import trend_figures

    figures = {**charts_folder.chart_figures(consolidation), **trend_figures(consolidation)}
    compared = 0
    for name, fig in figures.items():
        if isinstance(fig, dict):
            assert charts.drawn(fig) is fig  # the map, made as data
            continue
        named = copy.deepcopy(fig)
        named.update_layout(template="plotly_white")
        assert charts.drawn(fig) == named.to_dict(), name
        compared += 1
    assert compared == len(figures) - 1


def test_write_charts_says_so_without_chromium(consolidation, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(images, "chromium_path", lambda: None)
    files, notice = charts_folder.write_charts(consolidation, tmp_path, images=True)
    assert notice == "Images PNG/SVG non produites : Chromium introuvable."
    assert not [p for p in files if p.suffix in (".png", ".svg")]


def test_failed_export_is_a_notice_not_a_crash(consolidation, tmp_path: Path, monkeypatch) -> None:
    from pvd_reporting.outputs import browser

    def broken(*args, **kwargs):
        raise RuntimeError("Chromium a quitté")

    monkeypatch.setattr(images, "chromium_path", lambda: "/usr/bin/chromium")
    monkeypatch.setattr(browser.BrowserSession, "images", broken)
    files, notice = charts_folder.write_charts(consolidation, tmp_path, images=True)
    assert notice is not None and notice.startswith("Images PNG/SVG non produites")
    assert "Chromium a quitté" in notice
    assert not list((tmp_path / "graphiques-2025-T4").glob("*.png"))
    assert not list((tmp_path / "graphiques-2025-T4").glob(".tmp-*"))


@pytest.mark.browser
def test_write_charts_exports_png_and_svg_with_chromium(consolidation, tmp_path: Path, chromium: str) -> None:
    files, notice = charts_folder.write_charts(consolidation, tmp_path, images=True)
    assert notice is None
    folder = tmp_path / "graphiques-2025-T4"
    for name in FILES:
        png, svg = folder / f"{name}.png", folder / f"{name}.svg"
        assert png in files and svg in files
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "<svg" in svg.read_text("utf-8")[:500]
    assert not list(folder.glob(".tmp-*"))


def test_importing_charts_and_dashboard_does_not_import_plotly() -> None:
    code = ("import sys, pvd_reporting.outputs.dashboard.charts_folder, pvd_reporting.outputs.dashboard.page; "
            "sys.exit(1 if 'plotly' in sys.modules or 'pandas' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0
