"""The map of France for the national dashboard: every EPCI of a PVD territory coloured by its
ORT status, the overseas régions as insets beside the mainland.

The same filled polygons on plain cartesian axes as the regional map (`dashboard/region_map.py`,
its shipped shapes, no `geo` trace, so no request to any network), one axis pair per zone. For
speed at national scale, one trace per status and zone draws every EPCI of that status, and one
invisible marker per EPCI carries its hover text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from pvd_reporting.consolidate.history_model import NationalTerritory
from pvd_reporting.format.reference import REGIONS
from pvd_reporting.outputs.dashboard.region_map import (
    ATTRIBUTION,
    DEPARTMENT_LINE,
    LEGEND_ORDER,
    OTHER_FILL,
    OTHER_LINE,
    TERRITORY_LINE,
    URGENCY,
    Shape,
    Shapes,
    _aspect,
    _label_point,
    load_shapes,
)
from pvd_reporting.outputs.palette import ort_color

MAP_TITLE = "Statut ORT des territoires PVD par EPCI"
MAP_HEIGHT = 760
# Overseas départements drawn as insets, top to bottom, each with its région's name.
OVERSEAS = ("971", "972", "973", "974", "976")
MAINLAND_WIDTH = 0.78
INSET_GAP = 0.015


def _zone(departments: Iterable[str]) -> str:
    """The zone an EPCI or a département lies in: an overseas code, else the mainland ("")."""
    for code in departments:
        if code in OVERSEAS:
            return code
    return ""


def _joined(shapes: Iterable[Shape]) -> tuple[list[float | None], list[float | None]]:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for s in shapes:
        px, py = s.path
        if xs:
            xs.append(None)
            ys.append(None)
        xs += px
        ys += py
    return xs, ys


def _urgency(status: str) -> int:
    return URGENCY.index(status) if status in URGENCY else len(URGENCY)


def _hover(shape: Shape, group: Sequence[NationalTerritory]) -> str:
    lines = [f"EPCI : {escape(shape.name, quote=False)}"]
    for t in group:
        lines += [f"<b>{escape(t.name, quote=False)}</b> ({escape(t.region, quote=False)})",
                  f"Statut ORT : {escape(t.status, quote=False)}"]
    return "<br>".join(lines)


def france_map(territories: Sequence[NationalTerritory], period: str, shapes: Shapes | None = None) -> dict[str, Any]:
    """The figure as a plain dict (plotly.js reads it as is)."""
    shapes = shapes or load_shapes()
    groups: dict[str, list[NationalTerritory]] = {}
    for t in territories:
        if t.siren and t.siren in shapes.epci:
            groups.setdefault(t.siren, []).append(t)
    zones = ["", *OVERSEAS]
    axes = {zone: ("" if i == 0 else str(i + 1)) for i, zone in enumerate(zones)}
    data: list[dict[str, Any]] = []
    legend_shown: set[str] = set()
    layout: dict[str, Any] = {
        "title": {"text": escape(f"{MAP_TITLE} — {period}", quote=False)}, "height": MAP_HEIGHT,
        "hovermode": "closest", "dragmode": "pan", "plot_bgcolor": "#FFFFFF", "paper_bgcolor": "#FFFFFF",
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "traceorder": "normal"},
        "margin": {"l": 10, "r": 10, "t": 90, "b": 40}, "showlegend": True,
        "annotations": [{"text": escape(f"Fond de carte : {ATTRIBUTION}", quote=False), "showarrow": False,
                         "xref": "paper", "yref": "paper", "x": 1, "y": 0, "xanchor": "right",
                         "yanchor": "top", "yshift": -6, "font": {"size": 10, "color": "#555555"}}],
    }
    inset_height = (1 - INSET_GAP * (len(OVERSEAS) - 1)) / len(OVERSEAS)
    for i, zone in enumerate(zones):
        n = axes[zone]
        xa, ya = f"x{n}", f"y{n}"
        epci = {s: shape for s, shape in shapes.epci.items() if _zone(shape.within) == zone}
        departments = [d for code, d in shapes.departments.items() if _zone([code]) == zone]
        if zone:
            top = 1 - (i - 1) * (inset_height + INSET_GAP)
            x_domain, y_domain = [MAINLAND_WIDTH + 0.02, 1.0], [max(top - inset_height, 0), top]
            layout["annotations"].append({
                "text": escape(REGIONS.get(shapes.departments[zone].within[0], zone) if zone in shapes.departments
                               else zone, quote=False),
                "showarrow": False, "xref": "paper", "yref": "paper", "x": x_domain[0], "y": y_domain[1],
                "xanchor": "left", "yanchor": "top", "font": {"size": 11, "color": DEPARTMENT_LINE}})
        else:
            x_domain, y_domain = [0, MAINLAND_WIDTH], [0, 1]
        aspect = _aspect([*epci.values(), *departments]) if (epci or departments) else 1.0
        layout[f"xaxis{n}"] = {"visible": False, "domain": x_domain, "constrain": "domain"}
        layout[f"yaxis{n}"] = {"visible": False, "domain": y_domain, "scaleanchor": xa,
                               "scaleratio": round(aspect, 4), "constrain": "domain"}
        others = [s for code, s in epci.items() if code not in groups]
        if others:
            xs, ys = _joined(others)
            data.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys, "fill": "toself", "xaxis": xa,
                         "yaxis": ya, "fillcolor": OTHER_FILL, "line": {"color": OTHER_LINE, "width": 0.3},
                         "hoverinfo": "skip", "showlegend": False})
        by_status: dict[str, list[str]] = {}
        for siren in epci:
            group = groups.get(siren)
            if group:
                status = min((t.status for t in group), key=_urgency)
                by_status.setdefault(status, []).append(siren)
        for status in sorted(by_status, key=lambda s: LEGEND_ORDER.index(s) if s in LEGEND_ORDER else 99):
            xs, ys = _joined(epci[s] for s in by_status[status])
            rank = LEGEND_ORDER.index(status) if status in LEGEND_ORDER else len(LEGEND_ORDER)
            data.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys, "fill": "toself", "xaxis": xa,
                         "yaxis": ya, "fillcolor": ort_color(status), "line": {"color": TERRITORY_LINE, "width": 0.4},
                         "name": escape(status, quote=False), "legendgroup": status, "legendrank": 1000 + rank,
                         "showlegend": status not in legend_shown, "hoverinfo": "skip"})
            legend_shown.add(status)
        if departments:
            xs, ys = _joined(departments)
            data.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys, "xaxis": xa, "yaxis": ya,
                         "hoverinfo": "skip", "line": {"color": DEPARTMENT_LINE, "width": 0.8}, "showlegend": False})
        points = [(_label_point(epci[s]), _hover(epci[s], groups[s])) for s in epci if s in groups]
        if points:
            data.append({"type": "scatter", "mode": "markers", "xaxis": xa, "yaxis": ya,
                         "x": [p[0][0] for p in points], "y": [p[0][1] for p in points],
                         "text": [p[1] for p in points], "hoverinfo": "text", "showlegend": False,
                         "marker": {"size": 7, "color": "rgba(0,0,0,0)"}})
    return {"data": data, "layout": layout}


def unmapped(territories: Sequence[NationalTerritory], shapes: Shapes | None = None) -> list[NationalTerritory]:
    """Territories whose EPCI has no shipped shape (named under the map)."""
    shapes = shapes or load_shapes()
    return [t for t in territories if not (t.siren and t.siren in shapes.epci)]
