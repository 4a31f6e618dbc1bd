"""Chart images are drawn once per figure (README, Vitesse): a figure unchanged since a run that
drew it is copied from the cache, not drawn again; a changed one is drawn; every image of a run
is drawn in one browser session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pvd_reporting.cache import IMAGES_FOLDER, SUFFIX, Cache
from pvd_reporting.outputs import browser
from pvd_reporting.outputs.dashboard import charts_folder, images, plots


def figure(title: str) -> dict[str, Any]:
    return {"data": [{"type": "bar", "x": ["a", "b"], "y": [1, 2]}],
            "layout": {"title": {"text": title}, "height": 300}}


@pytest.mark.browser
def test_an_unchanged_figure_is_not_drawn_again(tmp_path: Path, chromium: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    cache = Cache(tmp_path / "cache")
    drawn: list[str] = []  # one drawing gives a figure's PNG and its SVG
    real = browser.BrowserSession.images

    def counting(self: browser.BrowserSession, figure: dict[str, Any], width: int, height: int) -> Any:
        drawn.append(figure["layout"]["title"]["text"])
        return real(self, figure, width, height)

    monkeypatch.setattr(browser.BrowserSession, "images", counting)
    first_dir, second_dir, third_dir = (tmp_path / n for n in ("un", "deux", "trois"))
    for folder in (first_dir, second_dir, third_dir):
        folder.mkdir()
    made, notice = images.export_images({"barres": figure("T1"), "autre": figure("T2")}, first_dir, cache)
    assert notice is None and drawn == ["T1", "T2"] and len(made) == 4
    assert len(list((cache.directory / IMAGES_FOLDER).glob(f"*{SUFFIX}"))) == 4

    again, notice = images.export_images({"barres": figure("T1"), "autre": figure("T2")}, second_dir, cache)
    assert notice is None and drawn == ["T1", "T2"]  # nothing drawn
    assert sorted(p.name for p in again) == sorted(p.name for p in made)
    for name in ("barres.png", "barres.svg", "autre.png", "autre.svg"):
        assert (second_dir / name).read_bytes() == (first_dir / name).read_bytes()

    changed, notice = images.export_images({"barres": figure("T1 modifié"), "autre": figure("T2")}, third_dir, cache)
    assert notice is None and drawn == ["T1", "T2", "T1 modifié"]  # only the changed figure, in png and svg
    assert len(changed) == 4 and not list(third_dir.glob(".tmp-*"))


@pytest.mark.browser
def test_one_browser_for_the_whole_run(tmp_path: Path, chromium: str, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[int] = []
    real = browser.BrowserSession.__init__

    def counting(self: browser.BrowserSession, path: str) -> None:
        opened.append(1)
        real(self, path)

    monkeypatch.setattr(browser.BrowserSession, "__init__", counting)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        _, notice = images.export_images({"barres": figure(name)}, tmp_path / name)
        assert notice is None
    assert len(opened) <= 1  # started once per process (perhaps by an earlier test), never twice


def test_figures_are_built_once_per_consolidation(tmp_path: Path, schema: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard_fixtures import build_consolidation

    from pvd_reporting.outputs.dashboard.page import write_dashboard

    built: list[int] = []
    real = plots._build_figures

    def counting(*args: Any) -> Any:
        built.append(1)
        return real(*args)

    monkeypatch.setattr(plots, "_build_figures", counting)
    cons = build_consolidation()
    write_dashboard(cons, tmp_path, schema)
    charts_folder.write_charts(cons, tmp_path, images=False, at_risk_days=schema.config.at_risk_days, schema=schema)
    assert built == [1]  # the dashboard and graphiques-<période>/ show the same figures
    other = build_consolidation(seed=8)
    charts_folder.write_charts(other, tmp_path, images=False, at_risk_days=schema.config.at_risk_days, schema=schema)
    assert built == [1, 1]  # another consolidation: its own figures
