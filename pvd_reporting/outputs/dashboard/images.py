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
from pvd_reporting.outputs import browser as chromium
from pvd_reporting.outputs.browser import chromium_path

if TYPE_CHECKING:
    import plotly.graph_objects as go

NO_CHROMIUM = "Images PNG/SVG non produites : Chromium introuvable."


def draw_ahead(figures: Mapping[str, go.Figure | dict[str, Any]], cache: Path | None = None) -> None:
    """Start drawing, in the run's browser and in the background, the images `export_images`
    will ask for (those not in `cache`): they are drawn while the dashboard is written. Any
    failure is left for `export_images` to report."""
    browser = chromium_path()
    if not browser:
        return
    renderer = _renderer(browser) if cache is not None else ""
    with contextlib.suppress(Exception):
        session = chromium.start(browser)
        for fig in figures.values():
            data = fig if isinstance(fig, dict) else fig.to_dict()
            height = int(data["layout"].get("height") or 500)
            if cache is not None and all(
                    _cached_image(cache, data, {"format": ext, "width": EXPORT_WIDTH, "height": height, "scale": 1},
                                  renderer).is_file() for ext in IMAGE_FORMATS):
                continue
            session.submit(data, EXPORT_WIDTH, height)


def export_images(figures: Mapping[str, go.Figure | dict[str, Any]], folder: Path,
                  cache: Path | None = None) -> tuple[list[Path], str | None]:
    """PNG and SVG of every figure, in one browser session for the whole run (starting Chromium
    is the slow part; see `outputs/browser.py`). With `cache` (a folder), an image whose figure,
    size and renderer are unchanged since a run that made it is copied from there, not drawn again."""
    browser = chromium_path()
    if not browser:
        return [], NO_CHROMIUM
    todo: list[tuple[dict[str, Any], int, dict[str, Path | None]]] = []  # figure, height, target → cache entry
    reused: list[Path] = []
    renderer = _renderer(browser) if cache is not None else ""
    for name, fig in figures.items():
        data = fig if isinstance(fig, dict) else fig.to_dict()
        height = int(data["layout"].get("height") or 500)
        wanted: dict[str, Path | None] = {}
        for ext in IMAGE_FORMATS:
            opts = {"format": ext, "width": EXPORT_WIDTH, "height": height, "scale": 1}
            target = folder / f"{name}.{ext}"
            stored = _cached_image(cache, data, opts, renderer) if cache is not None else None
            if stored is not None and stored.is_file() and _copy_from_cache(stored, target):
                reused.append(target)
                continue
            wanted[ext] = stored
        if wanted:
            todo.append((data, height, {f"{name}.{ext}": stored for ext, stored in wanted.items()}))
    if not todo:
        return reused, None
    made: list[Path] = []
    try:
        session = chromium.start(browser)
        for data, height, wanted_files in todo:
            svg, png = session.images(data, EXPORT_WIDTH, height)
            for file_name, stored in wanted_files.items():
                target = folder / file_name
                made.append(target)
                atomic_write_bytes(target, svg if file_name.endswith(".svg") else png)
                if stored is not None:
                    _store_in_cache(target, stored)
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


def _cached_image(cache: Path, data: dict[str, Any], opts: dict[str, Any], renderer: str) -> Path:
    """Where the image of this figure, drawn with these options by this renderer, is kept."""
    from plotly.io.json import to_json_plotly

    digest = hashlib.sha256()
    # plotly's own encoder: arrays in full, never an abbreviated repr.
    digest.update(to_json_plotly(data).encode("utf-8"))
    digest.update(f"|{sorted(opts.items())}|{renderer}".encode())
    return cache / f"{digest.hexdigest()}.{opts['format']}"


def _copy_from_cache(stored: Path, target: Path) -> bool:
    try:
        atomic_write_bytes(target, stored.read_bytes())
        os.utime(stored)  # used now: pruning counts a year from here
    except OSError:
        return False
    return True


def _store_in_cache(made: Path, stored: Path) -> None:
    # A cache that cannot be written only costs time the next run.
    with contextlib.suppress(OSError):
        stored.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(stored, made.read_bytes())


EXPORT_WIDTH = 1100
IMAGE_FORMATS = ("png", "svg")


def _cleanup(paths: Iterable[Path]) -> None:
    for p in paths:
        p.unlink(missing_ok=True)
