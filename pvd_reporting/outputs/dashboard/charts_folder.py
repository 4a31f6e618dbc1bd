"""`graphiques-<période>/`: one offline page per chart and for the map, with their images.

plotly is imported inside functions only: the validate path must never pay for it (docs/vitesse.md).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pvd_reporting.atomic import atomic_write_folder, atomic_write_text
from pvd_reporting.cache import Cache
from pvd_reporting.consolidate.view import Consolidation
from pvd_reporting.format.schema import Schema
from pvd_reporting.outputs.dashboard.images import export_images
from pvd_reporting.outputs.dashboard.plots import build_figures, drawn, label, status_map
from pvd_reporting.outputs.dashboard.region_map import MAP_NAME, MAP_TITLE, map_page

if TYPE_CHECKING:
    import plotly.graph_objects as go

PLOTLY_FILE = "plotly.min.js"


def write_charts(
    consolidation: Consolidation, output_dir: Path, *, images: bool = True, at_risk_days: int = 90,
    schema: Schema | None = None, image_cache: Cache | None = None,
) -> tuple[list[Path], str | None]:
    """Write `graphiques-<period>/`: one .html per chart (+ .png and .svg when Chromium is there).

    The pages share one plotly.min.js beside them, so the folder works offline without carrying
    4.6 MB per chart. Returns the files written and a one-line French notice when images were
    asked for but could not be made (never an exception for that).
    """
    import plotly.io as pio
    import plotly.offline

    final = Path(output_dir) / f"graphiques-{consolidation.region.period}"
    figures = chart_figures(consolidation, at_risk_days=at_risk_days, schema=schema)
    charts = {name: fig for name, fig in figures.items() if name != MAP_NAME}
    region_map = cast("dict[str, Any]", figures[MAP_NAME])

    def write(folder: Path) -> tuple[list[str], str | None]:
        names = [PLOTLY_FILE]
        atomic_write_text(folder / PLOTLY_FILE, plotly.offline.get_plotlyjs())
        for name, fig in charts.items():
            page = pio.to_html(drawn(fig), validate=False, include_plotlyjs=PLOTLY_FILE, include_mathjax=False, full_html=True,
                               config={"displaylogo": False, "responsive": True})
            page = page.replace("<head>", f'<head><meta charset="utf-8"><title>{label(fig_title(fig))}</title>', 1)
            page = page.replace("<html>", '<html lang="fr">', 1)
            atomic_write_text(folder / f"{name}.html", page)
            names.append(f"{name}.html")
        # The map is a plain dict (see region_map): its page is written without plotly.io's slow JSON.
        atomic_write_text(folder / f"{MAP_NAME}.html",
                          map_page(region_map, f"{MAP_TITLE} — {consolidation.region.period}", PLOTLY_FILE))
        names.append(f"{MAP_NAME}.html")
        if not images:
            return names, None
        images_written, notice = export_images(figures, folder, image_cache)
        return names + [p.name for p in images_written], notice

    # Written aside, then swapped in whole: no chart of an earlier run stays beside the new ones.
    names, notice = atomic_write_folder(final, write)
    return [final / name for name in names], notice


def fig_title(fig: go.Figure) -> str:
    text = fig.layout.title.text if fig.layout.title else None
    return html.unescape(str(text).partition("<br>")[0]) if text else ""


def chart_figures(consolidation: Consolidation, *, at_risk_days: int = 90,
                  schema: Schema | None = None) -> dict[str, go.Figure | dict[str, Any]]:
    """The figures of `graphiques-<period>/` that have images: the seven charts and the map."""
    charts = build_figures(consolidation, at_risk_days=at_risk_days, schema=schema)
    return {**charts, MAP_NAME: status_map(consolidation, note_unmapped=True).figure}
