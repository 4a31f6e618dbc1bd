"""The run's one Chromium (outputs/browser.py): the images it draws are kaleido's, the run leaves
no browser behind, and a browser that fails or hangs is a one-line notice."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from pvd_reporting.outputs import browser, browser_process
from pvd_reporting.outputs.dashboard import images
from pvd_reporting.pipeline.consolidate import run_consolidate

WORKBOOKS = Path(__file__).resolve().parent.parent / "workbooks"


def figure() -> dict[str, Any]:
    return {"data": [{"type": "bar", "x": ["Été", "Hiver"], "y": [3, 5], "name": "Actions"},
                     {"type": "scatter", "x": ["Été", "Hiver"], "y": [2, 4], "name": "Comités"}],
            "layout": {"title": {"text": "Saisons"}, "height": 320, "legend": {"orientation": "h"},
                       "separators": ",\u202f"}}


def canonical(svg: bytes) -> Any:
    """An SVG as a tree, attributes unordered and plotly's random ids (uid of the plot, of each
    trace, of clip paths…) numbered in order of appearance."""
    text = svg.decode("utf-8")
    ids = re.findall(r"(?:-|clip|legend|inside|trace)([0-9a-f]{6,8})(?![0-9a-f])", text)
    for i, uid in enumerate(dict.fromkeys(ids)):
        text = text.replace(uid, f"ID{i}")

    def tree(e: ET.Element) -> Any:
        return e.tag, sorted(e.attrib.items()), e.text or "", e.tail or "", [tree(c) for c in e]
    return tree(ET.fromstring(text))


@pytest.mark.browser
def test_the_images_are_those_kaleido_draws(chromium: str, tmp_path: Path) -> None:
    import kaleido

    opts: Any = {"width": images.EXPORT_WIDTH, "height": 320, "scale": 1}
    # Both of kaleido's images in one call: one browser started, not two.
    kaleido.write_fig_from_object_sync(
        [{"fig": figure(), "path": tmp_path / f"kaleido.{ext}", "opts": {**opts, "format": ext}} for ext in ("png", "svg")],
        kopts={"mathjax": False})
    png = (tmp_path / "kaleido.png").read_bytes()
    svg = (tmp_path / "kaleido.svg").read_bytes()
    session = browser.start(chromium)
    try:
        ours_svg, ours_png = session.images(figure(), images.EXPORT_WIDTH, 320)
        other = figure()
        other["layout"]["title"]["text"] = "Autre"
        session.images(other, images.EXPORT_WIDTH, 320)
        again = figure()
        again["layout"]["height"] = 321  # not the same figure, drawn at the same size
        again_svg, again_png = session.images(again, images.EXPORT_WIDTH, 320)
    finally:
        browser.stop()
    assert ours_png == png
    assert canonical(ours_svg) == canonical(svg)
    # After other figures, in the same page (kaleido reloads its page for every image).
    assert again_png == png
    assert canonical(again_svg) == canonical(svg)


def test_the_renderer_page_loads_plotlys_own_plotly_js_in_its_cartesian_bundle() -> None:
    import plotly

    full = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text("utf-8")[:200]
    version = re.search(r"plotly\.js v(\d+\.\d+\.\d+)", full)
    assert version is not None
    assert f"plotly.js (cartesian - minified) v{version[1]}" in browser_process.RENDER_BUNDLE.read_text("utf-8")[:200]
    assert "MIT" in (browser_process.RENDER_BUNDLE.parent / "LICENSE-plotly.js").read_text("utf-8")
    # A trace the bundle lacks would be left out of the image without a word: refused.
    with pytest.raises(ValueError, match="scattergeo"):
        browser.check_traces({"data": [{"type": "bar"}, {"type": "scattergeo"}]})
    browser.check_traces({"data": [{"type": "heatmap"}, {"y": [1, 2]}]})  # no type: a scatter


@pytest.mark.browser
def test_a_run_leaves_no_browser_behind(tmp_path: Path, chromium: str, reference_csv: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import pvd_reporting.pipeline.consolidate as pipeline

    started: list[browser.BrowserSession] = []
    real = browser.start

    def keeping(path: str) -> browser.BrowserSession:
        session = real(path)
        started.append(session)
        return session

    launched: list[Any] = []
    reading = pipeline.read_all

    def read_all(*args: Any, **kwargs: Any) -> Any:
        launched.append(browser._LAUNCHED)
        return reading(*args, **kwargs)

    monkeypatch.setattr(browser, "start", keeping)
    monkeypatch.setattr(pipeline, "read_all", read_all)
    run = run_consolidate(WORKBOOKS, output_dir=tmp_path, reference_path=reference_csv, use_cache=False)
    assert run.image_notice is None
    assert (tmp_path / "note-2025-T4.pdf").read_bytes()[:5] == b"%PDF-"
    assert len({id(s) for s in started}) == 1  # one browser for the charts, the trends and the note
    session = started[0]
    # Chromium was started before the workbooks were read, and that very process drew the images.
    assert launched[0] is not None and session._launch is launched[0]
    assert browser._SESSION is None
    assert session._browser.subprocess.poll() is not None  # Chromium has ended
    assert not session._tmp.path.exists()  # its profile and the renderer page are gone
    assert not session._thread.is_alive()


@pytest.mark.parametrize("script", ["echo cassé >&2; exit 1", "exec sleep 30"], ids=["fails", "hangs"])
def test_a_broken_browser_is_a_notice(tmp_path: Path, reference_csv: Path, script: str,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "chromium"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("BROWSER_PATH", str(fake))
    monkeypatch.setattr(browser, "START_TIMEOUT", 3.0)
    out = tmp_path / "sortie"
    run = run_consolidate(WORKBOOKS, output_dir=out, reference_path=reference_csv, use_cache=False)
    notice = run.image_notice or ""
    assert notice.startswith("Images PNG/SVG non produites : l'export par Chromium a échoué (")
    assert "\n" not in notice
    assert not list(out.glob("graphiques-*/*.png")) and not list(out.glob("graphiques-*/*.svg"))
    assert not (out / "note-2025-T4.pdf").exists() and (out / "note-2025-T4.html").exists()
    assert browser._SESSION is None


@pytest.mark.browser
@pytest.mark.parametrize("images", [True, False], ids=["images", "no-images"])
def test_a_run_that_fails_while_reading_leaves_no_browser_behind(tmp_path: Path, chromium: str,
                                                               reference_csv: Path, images: bool,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import pvd_reporting.pipeline.consolidate as pipeline

    launched: list[Any] = []

    def read_all(*args: Any, **kwargs: Any) -> Any:
        launched.append(browser._LAUNCHED)
        raise OSError("disque illisible")

    monkeypatch.setattr(pipeline, "read_all", read_all)
    with pytest.raises(OSError, match="disque illisible"):
        run_consolidate(WORKBOOKS, output_dir=tmp_path / "sortie", reference_path=reference_csv, use_cache=False,
                        images=images)
    started = launched[0]
    if not images:
        assert started is None  # --no-images: no Chromium at all
        return
    assert started is not None and browser._LAUNCHED is None and browser._SESSION is None
    assert started.process.poll() is not None  # never driven, and ended all the same
    assert not started.tmp.path.exists()
