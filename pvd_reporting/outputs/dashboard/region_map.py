"""The map of the region: each territory's EPCI coloured by its ORT status (README, La carte).

Drawn as filled polygons on a plain cartesian plot, never as a plotly `geo` trace: plotly.js
fetches a world topojson from its CDN for those, and the page must make no request at all.
The figure is a plain dict (no plotly import, no validation): it is built for 1,000 territories
in a few milliseconds, and plotly.js, plotly.io and kaleido all read dicts.

The shapes ship with the package (`shapes/`, made by `scripts/make_shapes.py` from ANCT's
generalisation of IGN Admin Express); only those of the région's départements go into a figure.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from pvd_reporting.consolidate.view import TerritoryView
from pvd_reporting.format.departements import department_label
from pvd_reporting.format.french import MINUS, fr_int
from pvd_reporting.format.schema import NOT_RECEIVED, ORT_STATUSES
from pvd_reporting.outputs.palette import ort_color

ATTRIBUTION = "IGN Admin Express, généralisation ANCT, Licence Ouverte 2.0"
SHAPES_DIR = Path(__file__).resolve().parent / "shapes"
EPCI_FILE = "epci.json"
DEPARTMENTS_FILE = "departements.json"
MAP_NAME = "carte-statut-ort"
MAP_TITLE = "Statut ORT des territoires par EPCI"
MAP_HEIGHT = 680

_SIGNED, _OVERDUE, _AT_RISK, _ON_TIME, _NO_J1 = ORT_STATUSES
# An EPCI that carries several territories takes the colour of the one a manager must act on first.
URGENCY: tuple[str, ...] = (_OVERDUE, _AT_RISK, NOT_RECEIVED, _NO_J1, _ON_TIME, _SIGNED)
# The legend in the order of every other chart.
LEGEND_ORDER: tuple[str, ...] = (*ORT_STATUSES, NOT_RECEIVED)
OTHER_EPCI = "Autre EPCI"
OTHER_FILL, OTHER_LINE, DEPARTMENT_LINE = "#FFFFFF", "#C8C8C8", "#222222"
# A received territory is outlined darker than one not received, so the grey recedes.
TERRITORY_LINE, NOT_RECEIVED_LINE = "#333333", "#9A9A9A"

# JSON inside <script>: no `</script>`, no `<!--`, no line separators JavaScript would choke on.
SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


@dataclass(frozen=True)
class Shape:
    name: str
    within: tuple[str, ...]  # an EPCI's départements, a département's région
    rings: tuple[tuple[list[float], list[float]], ...]  # closed rings, as (longitudes, latitudes)
    path: tuple[list[float | None], list[float | None]]  # the rings as one plotly path (see _path)


@dataclass(frozen=True)
class Shapes:
    epci: dict[str, Shape]  # by SIREN
    departments: dict[str, Shape]  # by code


def _read(path: Path) -> dict[str, Shape]:
    data = json.loads(path.read_text("utf-8"))
    shapes = {}
    for code, f in data["features"].items():
        rings = tuple((r[0::2], r[1::2]) for r in f["rings"])
        shapes[code] = Shape(f["name"], tuple(f["in"]), rings, _path(rings))
    return shapes


@cache
def load_shapes(folder: Path = SHAPES_DIR) -> Shapes:
    return Shapes(epci=_read(folder / EPCI_FILE), departments=_read(folder / DEPARTMENTS_FILE))


@dataclass
class RegionMap:
    """The figure, and what it could not place (named under the map)."""

    figure: dict[str, Any]
    unmapped: list[TerritoryView] = field(default_factory=list)
    epci: list[str] = field(default_factory=list)  # the SIRENs whose shapes are embedded


def _text(value: object) -> str:
    # plotly reads a few HTML tags in hover text: territory text must never be one.
    return escape("" if value is None else str(value), quote=False)


def _days(t: TerritoryView) -> str:
    if t.days_left is None:
        return "—"
    return fr_int(t.days_left).replace("-", MINUS)


def _hover(shape: Shape, group: Sequence[TerritoryView]) -> str:
    lines = [f"EPCI : {_text(shape.name)}"]
    for t in group:
        last = (t.last_milestone or "Aucun") if t.received else "Classeur non reçu"
        lines += [f"<b>{_text(t.name)}</b>" + (f" ({_text(t.department)})" if t.department else ""),
                  f"Statut ORT : {_text(t.ort_status)}", f"Jours restants : {_days(t)}",
                  f"Dernier jalon : {_text(last)}"]
    return "<br>".join(lines)


def _urgency(t: TerritoryView) -> tuple[int, str]:
    return (URGENCY.index(t.ort_status) if t.ort_status in URGENCY else len(URGENCY), t.name)


def _path(rings: Iterable[tuple[list[float], list[float]]]) -> tuple[list[float | None], list[float | None]]:
    """All rings as one x and one y list, rings separated by None (plotly's subpaths)."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for rx, ry in rings:
        if xs:
            xs.append(None)
            ys.append(None)
        xs += rx
        ys += ry
    return xs, ys


def _aspect(shapes: Iterable[Shape]) -> float:
    """How many times a degree of latitude is longer than one of longitude at the middle latitude:
    the y axis' scale ratio, so the shapes keep their proportions without projecting any point."""
    lats = [y for s in shapes for _, ry in s.rings for y in (min(ry), max(ry))]
    mid = (min(lats) + max(lats)) / 2 if lats else 46.5
    return 1 / math.cos(math.radians(mid))


def _label_point(shape: Shape) -> tuple[float, float]:
    """Centroid of the largest ring (the mainland, not an island)."""
    best_area, cx, cy = -1.0, 0.0, 0.0
    for rx, ry in shape.rings:
        a = sx = sy = 0.0
        for i in range(len(rx) - 1):
            cross = rx[i] * ry[i + 1] - rx[i + 1] * ry[i]
            a += cross
            sx += (rx[i] + rx[i + 1]) * cross
            sy += (ry[i] + ry[i + 1]) * cross
        if a and abs(a) > best_area:
            best_area = abs(a)
            cx, cy = sx / (3 * a), sy / (3 * a)
    return round(cx, 4), round(cy, 4)


def map_figure(periods: Sequence[tuple[str, Sequence[TerritoryView]]], *, shapes: Shapes | None = None,
               title: str = MAP_TITLE, note_unmapped: bool = False) -> RegionMap:
    """The map for one or more periods, oldest first: with several, a slider shows each one
    (the latest at first). Each territory's trace carries its `key` in `meta`, for the page's clicks.

    Only the shapes of the départements of the territories (and their own EPCI, wherever it lies)
    are embedded, so a regional page carries its région, not France.
    """
    shapes = shapes or load_shapes()
    everyone = [t for _, ts in periods for t in ts]
    departments = sorted({t.department for t in everyone if t.department and t.department in shapes.departments})
    own = {t.siren for t in everyone if t.siren and t.siren in shapes.epci}
    wanted = set(departments)
    epci = {s: shape for s, shape in shapes.epci.items() if wanted.intersection(shape.within) or s in own}
    dept_shapes = [shapes.departments[d] for d in departments]
    aspect = _aspect([*epci.values(), *dept_shapes])

    data: list[dict[str, Any]] = []
    others = [s for code, s in epci.items() if code not in own]
    if others:
        xs, ys = _path(r for s in others for r in s.rings)
        data.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys, "fill": "toself",
                     "fillcolor": OTHER_FILL, "line": {"color": OTHER_LINE, "width": 0.5},
                     "name": OTHER_EPCI, "legendrank": 1000 + len(LEGEND_ORDER), "hoverinfo": "skip",
                     "showlegend": True})
    unmapped: dict[str, TerritoryView] = {}
    per_period: list[list[int]] = []
    for _period, territories in periods:
        groups: dict[str, list[TerritoryView]] = {}
        for t in territories:
            if t.siren and t.siren in epci:
                groups.setdefault(t.siren, []).append(t)
            else:
                unmapped.setdefault(t.key, t)
        indices = []
        legend_shown: set[str] = set()
        for group in groups.values():
            group.sort(key=_urgency)
        # The most urgent drawn last: its outline is never hidden under a neighbour's.
        for siren, group in sorted(groups.items(), key=lambda kv: _urgency(kv[1][0]), reverse=True):
            status = group[0].ort_status
            xs, ys = epci[siren].path
            rank = LEGEND_ORDER.index(status) if status in LEGEND_ORDER else len(LEGEND_ORDER)
            outline = NOT_RECEIVED_LINE if status == NOT_RECEIVED else TERRITORY_LINE
            indices.append(len(data))
            data.append({
                "type": "scatter", "mode": "lines", "x": xs, "y": ys, "fill": "toself",
                "fillcolor": ort_color(status), "line": {"color": outline, "width": 0.6},
                "name": _text(status), "legendgroup": status, "legendrank": 1000 + rank,
                "showlegend": status not in legend_shown, "hoveron": "fills", "hoverinfo": "text",
                "text": _hover(epci[siren], group), "meta": [t.key for t in group],
            })
            legend_shown.add(status)
        per_period.append(indices)
    if dept_shapes:
        xs, ys = _path(r for s in dept_shapes for r in s.rings)
        data.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys, "hoverinfo": "skip",
                     "line": {"color": DEPARTMENT_LINE, "width": 1.4}, "showlegend": False})
    # Annotations, not a text trace: a light background keeps the names readable on any colour.
    names = [{"text": _text(department_label(d)), "x": x, "y": y, "xref": "x", "yref": "y",
              "showarrow": False, "font": {"size": 12, "color": DEPARTMENT_LINE},
              "bgcolor": "rgba(255,255,255,0.75)", "borderpad": 1}
             for s, d in zip(dept_shapes, departments, strict=True) for x, y in [_label_point(s)]]

    labels = [p for p, _ in periods]
    layout: dict[str, Any] = {
        "title": {"text": _text(f"{title} — {labels[-1]}" if labels else title)},
        "height": MAP_HEIGHT, "hovermode": "closest", "dragmode": "pan",
        "plot_bgcolor": "#FFFFFF", "paper_bgcolor": "#FFFFFF",
        "xaxis": {"visible": False, "constrain": "domain"},
        "yaxis": {"visible": False, "scaleanchor": "x", "scaleratio": round(aspect, 4), "constrain": "domain"},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "traceorder": "normal"},
        "margin": {"l": 10, "r": 10, "t": 90, "b": 40},
        "annotations": [{"text": _text(f"Fond de carte : {ATTRIBUTION}"), "showarrow": False,
                         "xref": "paper", "yref": "paper", "x": 1, "y": 0, "xanchor": "right",
                         "yanchor": "top", "yshift": -6, "font": {"size": 10, "color": "#555555"}}, *names],
    }
    if not epci:
        layout["annotations"].append({"text": "Aucun contour d'EPCI pour ces territoires.", "showarrow": False,
                                      "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5})
    if note_unmapped and unmapped:
        layout["annotations"].append({"text": _text(unmapped_sentence(list(unmapped.values()), limit=8)),
                                      "showarrow": False, "xref": "paper", "yref": "paper", "x": 0, "y": 0,
                                      "xanchor": "left", "yanchor": "top", "yshift": -22, "align": "left",
                                      "font": {"size": 11, "color": "#333333"}})
        layout["margin"]["b"] = 60
    _period_visibility(data, per_period, labels, title, layout)
    return RegionMap(figure={"data": data, "layout": layout}, unmapped=list(unmapped.values()), epci=list(epci))


def _period_visibility(data: list[dict[str, Any]], per_period: list[list[int]], labels: list[str],
                       title: str, layout: dict[str, Any]) -> None:
    """With several periods, each period's traces shown by a slider step (the latest first)."""
    if len(labels) < 2:
        return
    owner = {i: p for p, indices in enumerate(per_period) for i in indices}
    steps = []
    for p, period in enumerate(labels):
        visible = [owner.get(i, p) == p for i in range(len(data))]
        steps.append({"label": _text(period), "method": "update",
                      "args": [{"visible": visible}, {"title.text": _text(f"{title} — {period}")}]})
    last = len(labels) - 1
    for i, trace in enumerate(data):
        trace["visible"] = owner.get(i, last) == last
    # Inset from both sides so that the first and last periods' labels are not cut.
    layout["sliders"] = [{"active": last, "steps": steps, "currentvalue": {"prefix": "Période : "},
                          "pad": {"t": 50}, "x": 0.04, "len": 0.92}]
    layout["margin"]["b"] = 140


def unmapped_sentence(territories: Sequence[TerritoryView], limit: int | None = None) -> str:
    """« Sans contour d'EPCI sur la carte : A (SIREN absent), B (SIREN 123456789 inconnu). »"""
    parts = [f"{t.name} (SIREN {t.siren} sans contour)" if t.siren else f"{t.name} (SIREN de l'EPCI absent)"
             for t in territories]
    if limit is not None and len(parts) > limit:
        parts = [*parts[:limit], f"et {len(parts) - limit} autres"]
    return f"Sans contour d'EPCI sur la carte : {', '.join(parts)}."


def figure_json(figure: dict[str, Any]) -> str:
    """The figure as JSON text safe inside <script> (one pass of the json module: fast)."""
    text = json.dumps(figure, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in SCRIPT_ESCAPES.items():
        text = text.replace(char, escaped)
    return text


def map_page(figure: dict[str, Any], title: str, plotly_src: str) -> str:
    """A page of its own for the map, plotly.js beside it, as `graphiques-<period>/` holds it."""
    return (f'<!DOCTYPE html>\n<html lang="fr">\n<head><meta charset="utf-8"><title>{escape(title)}</title>\n'
            f'<script charset="utf-8" src="{escape(plotly_src)}"></script></head>\n'
            '<body style="margin:0"><div id="carte"></div>\n'
            f"<script>(function(){{var f={figure_json(figure)};\n"
            'Plotly.newPlot("carte",f.data,f.layout,{displaylogo:false,responsive:true});})();</script>\n'
            "</body>\n</html>\n")
