"""The dashboard's charts and maps as the page draws them: plotly JSON for the partial bundle,
a table for a chart too dense for paper, the maps' data (`page.py` renders them).
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from markupsafe import Markup

from pvd_reporting.consolidate.view import REMAINING_LABEL, Consolidation
from pvd_reporting.format import french as frenchtext
from pvd_reporting.format.french import MINUS
from pvd_reporting.format.matching import french_sort_key
from pvd_reporting.format.schema import Schema
from pvd_reporting.outputs.dashboard.page_model import fr_euros, script_json
from pvd_reporting.outputs.dashboard.plots import CHART_TITLES, build_figures, status_map
from pvd_reporting.outputs.dashboard.region_map import (
    MAP_HEIGHT,
    MAP_TITLE,
    figure_json,
    unmapped_sentence,
)
from pvd_reporting.outputs.dashboard.trends import trend_figures
from pvd_reporting.outputs.palette import MONEY_SCALE, NO_MONEY_COLOR

# More bars than a printed chart can name on its page (A4, at the type size of the page): that
# chart prints as a table instead.
PRINT_MAX_BARS = 40


def chart_table(fig: Any) -> dict[str, Any] | None:
    """A chart too dense for paper, as a table: one row per bar (or per heatmap row)."""
    data = list(fig.data)
    if not data:
        return None
    first = data[0]
    if first.type == "heatmap":
        if len(first.y) <= PRINT_MAX_BARS:
            return None
        header = ["Territoire", *[str(x) for x in first.x]]
        rows = [[html.unescape(str(y)), *[str(v) for v in z]] for y, z in zip(first.y, first.z, strict=True)]
        return {"headers": header, "rows": rows}
    horizontal = [t for t in data if t.type == "bar" and t.orientation == "h"]
    names = {y for t in horizontal for y in t.y}
    if len(names) <= PRINT_MAX_BARS:
        return None
    rows = [[html.unescape(str(y)), html.unescape(str(t.name or "")), frenchtext.fr_decimal(x).replace("-", MINUS)]
            for t in horizontal for y, x in zip(t.y, t.x, strict=True)]
    return {"headers": ["Territoire", "Statut ORT", str(fig.layout.xaxis.title.text or "")], "rows": rows}


# plotly.js's partial bundle for the traces the page draws (bar, scatter): a third of the full one.
PLOTLY_BUNDLE = Path(__file__).resolve().parent / "vendor" / "plotly-basic.min.js"
PAGE_TRACES = frozenset({"bar", "scatter"})


def plotly_bundle() -> str:
    return PLOTLY_BUNDLE.read_text("utf-8")


def heatmap_as_squares(trace: dict[str, Any]) -> dict[str, Any]:
    """A heatmap drawn as one square marker per cell, coloured by its value: the partial bundle
    has no heatmap trace."""
    xs, ys, zs, texts = [], [], [], []
    for y, row in zip(trace.get("y") or [], trace.get("z") or [], strict=False):
        for x, z in zip(trace.get("x") or [], row, strict=False):
            xs.append(x)
            ys.append(y)
            zs.append(z)
            texts.append(str(z))
    bar = trace.get("colorbar") or {}
    return {"type": "scatter", "mode": "markers+text", "x": xs, "y": ys, "text": texts,
            "textfont": {"size": 11}, "showlegend": False,
            "marker": {"symbol": "square", "size": 18, "color": zs, "cmin": trace.get("zmin", 0),
                       "colorscale": trace.get("colorscale"), "showscale": True, "colorbar": bar,
                       "line": {"width": 0}},
            "hovertemplate": str(trace.get("hovertemplate") or "").replace("%{z}", "%{marker.color}")}


def page_figure(fig: Any) -> dict[str, Any]:
    """A figure as the page draws it: without plotly.py's template (plotly.js's defaults are
    already white; the template weighs 8 kB a chart) and only with the partial bundle's traces."""
    data = fig.to_plotly_json() if hasattr(fig, "to_plotly_json") else dict(fig)
    layout = dict(data.get("layout") or {})
    layout.pop("template", None)
    traces = [heatmap_as_squares(t) if t.get("type") == "heatmap" else t for t in data.get("data") or []]
    assert all(t.get("type", "scatter") in PAGE_TRACES for t in traces), "a trace outside the partial bundle"
    return {"data": traces, "layout": layout}


def figures_json(cons: Consolidation, schema: Schema) -> tuple[Markup, list[dict[str, Any]]]:
    from plotly.utils import PlotlyJSONEncoder

    figures = build_figures(cons, at_risk_days=schema.config.at_risk_days, schema=schema)
    drawn = {**figures, **trend_figures(cons)}  # the trends are drawn in their own block
    parts = [f"{json.dumps(name)}:{json.dumps(page_figure(fig), cls=PlotlyJSONEncoder, separators=(',', ':'))}"
             for name, fig in drawn.items()]
    charts = [{"id": name, "title": CHART_TITLES[name], "table": chart_table(fig)} for name, fig in figures.items()]
    return script_json("{" + ",".join(parts) + "}"), charts


# A4 portrait, 1 cm margins, in CSS pixels: the map printed whole on the first page.
MAP_PRINT_WIDTH, MAP_PRINT_HEIGHT = 712, 400


MONEY_MAP_TITLE = "Reste à financer par EPCI (€ HT)"


def _bands(values: list[float]) -> list[float]:
    """The upper bounds of the money map's bands: quantiles of the amounts, rounded to a
    thousand euros so that the legend reads plainly."""
    if not values:
        return []
    ordered = sorted(values)
    count = len(MONEY_SCALE)
    bounds: list[float] = []
    for k in range(1, count):
        q = ordered[min(len(ordered) - 1, round(k * len(ordered) / count))]
        bound = round(q, -3) if q >= 1000 else round(q)
        if not bounds or bound > bounds[-1]:
            bounds.append(bound)
    return bounds


def money_map(cons: Consolidation, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The second map: each territory received coloured by what remains to finance (a band of
    the blue scale), the others white; its hover text and its CSV rows."""
    received = [t for t in cons.territories if t.received]
    by_epci: dict[str, float] = {}
    for t in received:
        by_epci[t.siren or t.key] = by_epci.get(t.siren or t.key, 0.0) + (t.remaining or 0.0)
    bounds = _bands(list(by_epci.values()))
    colors = list(MONEY_SCALE[:len(bounds) + 1])

    def band(amount: float) -> int:
        return next((i for i, b in enumerate(bounds) if amount <= b), len(bounds))

    legend, low = [], 0.0
    for i, color in enumerate(colors):
        high = bounds[i] if i < len(bounds) else None
        text = (f"jusqu'à {fr_euros(high)}" if i == 0 and high is not None
                else f"plus de {fr_euros(low)}" if high is None else f"{fr_euros(low)} à {fr_euros(high)}")
        legend.append([text, color])
        low = high or low
    legend.append(["Non reçu", NO_MONEY_COLOR])
    bands, hover = {}, {}
    for t in received:
        amount = by_epci[t.siren or t.key]
        bands[t.key] = band(amount)
        hover[t.key] = html.escape(f"{t.epci or t.name} : {fr_euros(amount)} reste à financer", quote=False)
    csv = [["Territoire", "Département", "EPCI", "Statut ORT", REMAINING_LABEL]]
    for r in rows:
        t = r["t"]
        csv.append([t.name, r["department"], t.epci or "", t.ort_status,
                    round(t.remaining, 2) if t.received and t.remaining is not None else ""])
    data = {"bands": bands, "colors": colors, "none": NO_MONEY_COLOR, "legend": legend, "hover": hover,
            "title": html.escape(f"{MONEY_MAP_TITLE} — {cons.region.period}", quote=False), "csv": csv}
    return {"json": script_json(json.dumps(data, ensure_ascii=False)),
            "title": f"{MONEY_MAP_TITLE} — {cons.region.period}"}


def map_block(cons: Consolidation, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What the map's block of the page needs: the figure, each territory's panel, who is not on it."""
    region_map = status_map(cons)
    panels = json.dumps({r["t"].key: r["i"] for r in rows}, ensure_ascii=False)
    steps = region_map.figure["layout"].get("sliders", [{}])[0].get("steps", [])
    periods = [html.unescape(s["label"]) for s in steps] or [cons.region.period]
    choices = sorted(((r["t"].name, r["i"]) for r in rows), key=lambda c: french_sort_key(c[0]))
    return {"figure": script_json(figure_json(region_map.figure)), "panels": script_json(panels),
            "periods": periods, "choices": choices, "money": money_map(cons, rows),
            "title": f"{MAP_TITLE} — {cons.region.period}", "height": MAP_HEIGHT,
            "print_width": MAP_PRINT_WIDTH, "print_height": MAP_PRINT_HEIGHT,
            "unmapped": unmapped_sentence(region_map.unmapped) if region_map.unmapped else ""}
