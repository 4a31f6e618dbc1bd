"""The charts' images: PNG and SVG drawn by the run's one Chromium, and the cache that keeps them
between runs (an unchanged figure is copied, not drawn again).

plotly is imported inside functions only: the validate path must never pay for it (docs/vitesse.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable, Mapping
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pvd_reporting.atomic import atomic_write_bytes
from pvd_reporting.cache import IMAGES, Cache, entry_key, open_cache
from pvd_reporting.outputs import browser as chromium
from pvd_reporting.outputs.browser import chromium_path
from pvd_reporting.outputs.dashboard.plots import drawn

if TYPE_CHECKING:
    import plotly.graph_objects as go

NO_CHROMIUM = "Images PNG/SVG non produites : Chromium introuvable."


def draw_ahead(figures: Mapping[str, go.Figure | dict[str, Any]], cache: Cache | Path | None = None) -> None:
    """Start drawing, in the run's browser and in the background, the images `export_images`
    will ask for (those not in `cache`): they are drawn while the dashboard is written. Any
    failure is left for `export_images` to report."""
    browser = chromium_path()
    if not browser:
        return
    store = open_cache(cache)
    renderer = _renderer(browser) if store is not None else ""
    with contextlib.suppress(Exception):
        session = chromium.start(browser)
        for fig in figures.values():
            data = drawn(fig)
            height = int(data["layout"].get("height") or 500)
            if store is not None and all(store.holds(IMAGES, _image_key(data, _options(ext, height), renderer))
                                         for ext in IMAGE_FORMATS):
                continue
            session.submit(data, EXPORT_WIDTH, height)


def export_images(figures: Mapping[str, go.Figure | dict[str, Any]], folder: Path,
                  cache: Cache | Path | None = None) -> tuple[list[Path], str | None]:
    """PNG and SVG of every figure, in one browser session for the whole run (starting Chromium
    is the slow part; see `outputs/browser.py`). With `cache` (a folder), an image whose figure,
    size and renderer are unchanged since a run that made it is copied from there, not drawn again."""
    browser = chromium_path()
    if not browser:
        return [], NO_CHROMIUM
    todo: list[tuple[dict[str, Any], int, dict[str, str | None]]] = []  # figure, height, target → entry key
    reused: list[Path] = []
    store = open_cache(cache)
    renderer = _renderer(browser) if store is not None else ""
    for name, fig in figures.items():
        data = drawn(fig)
        height = int(data["layout"].get("height") or 500)
        wanted: dict[str, str | None] = {}
        for ext in IMAGE_FORMATS:
            target = folder / f"{name}.{ext}"
            key = _image_key(data, _options(ext, height), renderer) if store is not None else None
            kept = store.load(IMAGES, key) if store is not None and key is not None else None
            if kept is not None:
                atomic_write_bytes(target, kept)
                reused.append(target)
                continue
            wanted[ext] = key
        if wanted:
            todo.append((data, height, {f"{name}.{ext}": stored for ext, stored in wanted.items()}))
    if not todo:
        return reused, None
    made: list[Path] = []
    try:
        session = chromium.start(browser)
        for data, height, wanted_files in todo:
            svg, png = session.images(data, EXPORT_WIDTH, height)
            for file_name, key in wanted_files.items():
                target = folder / file_name
                made.append(target)
                image = svg if file_name.endswith(".svg") else png
                atomic_write_bytes(target, image)
                if store is not None and key is not None:
                    store.store(IMAGES, key, image)
    except Exception as exc:  # noqa: BLE001 - any failure of the export is a notice, never a crash
        _cleanup(made)
        _cleanup(reused)
        # choreographer gives its reasons as several arguments: the first says what happened.
        text = (exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)).strip()
        first = text.splitlines()[0] if text else type(exc).__name__
        return [], f"Images PNG/SVG non produites : l'export par Chromium a échoué ({first[:160]})."
    return reused + made, None


def _renderer(browser: str) -> str:
    """What draws the images besides the figure: plotly, kaleido and the browser's build."""
    try:
        built = os.stat(browser).st_mtime_ns
    except OSError:
        built = 0
    return f"plotly={version('plotly')}|kaleido={version('kaleido')}|browser={browser}@{built}"


def _options(ext: str, height: int) -> dict[str, Any]:
    return {"format": ext, "width": EXPORT_WIDTH, "height": height, "scale": 1}


def _image_key(data: dict[str, Any], opts: dict[str, Any], renderer: str) -> str:
    """The cache key of this figure's image, drawn with these options by this renderer."""
    from plotly.io.json import to_json_plotly

    # plotly's own encoder: arrays in full, never an abbreviated repr.
    figure = hashlib.sha256(to_json_plotly(data).encode("utf-8")).hexdigest()
    return entry_key(IMAGES, figure, {"options": sorted(opts.items()), "renderer": renderer})


EXPORT_WIDTH = 1100
IMAGE_FORMATS = ("png", "svg")


def _cleanup(paths: Iterable[Path]) -> None:
    for p in paths:
        p.unlink(missing_ok=True)
