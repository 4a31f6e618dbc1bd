"""Charts for managers (README, Ce que contient chaque sortie `graphiques-<period>/`), built once and shared with the dashboard.

The figures only: `charts_folder.py` writes their pages, `images.py` draws their PNG and SVG.

plotly is imported inside functions only: the validate path must never pay for it (docs/vitesse.md).
"""

from __future__ import annotations

import copy
import functools
import html
import weakref
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pvd_reporting.consolidate.figures import error_rows_money
from pvd_reporting.consolidate.view import Consolidation, TerritoryView
from pvd_reporting.format.departements import department_label
from pvd_reporting.format.french import NARROW, fr_decimal, fr_money
from pvd_reporting.format.schema import MILESTONES, NOT_FILLED, NOT_RECEIVED, ORT_STATUSES, Schema
from pvd_reporting.outputs.dashboard.region_map import RegionMap, map_figure
from pvd_reporting.outputs.palette import (
    MONEY_COLOR,
    NEEDS_COLOR,
    ORT_COLORS,
    REMAINING_COLOR,
    REMAINING_PATTERN,
    action_color,
    financer_colors,
)

if TYPE_CHECKING:
    import plotly.graph_objects as go

# Okabe–Ito: readable by people with the common colour-vision deficiencies.
STATUS_COLORS = ORT_COLORS
ALL_STATUSES: tuple[str, ...] = (*ORT_STATUSES, NOT_RECEIVED, NOT_FILLED)
ABSENT_STATUSES = (NOT_RECEIVED, NOT_FILLED)
# System fonts only: the page must not request any web font.
FONT_STACK = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif'
DAYS_PER_MONTH = 30.4375
ROW_HEIGHT = 22  # pixels a bar or a row of labels needs to be named, on screen and on paper
REMAINING = "Reste à financer"

CHART_TITLES: dict[str, str] = {
    "statut-ort-par-departement": "Statut ORT par département",
    "avancement-jalons": "Avancement vers l'ORT : territoires par dernier jalon réalisé",
    "echeances": "Échéances ORT : mois restants par territoire",
    "financements-par-financeur": "Financements par financeur et reste à financer",
    "actions-par-thematique": "Actions par thématique et statut",
    "besoins-ingenierie": "Besoins en ingénierie par thématique et par partenaire",
    "comites-par-trimestre": "Comités de projet par territoire et par trimestre",
}


def label(text: object) -> str:
    """Text for a plotly label: plotly reads a few HTML tags in labels, so none may get through."""
    return html.escape("" if text is None else str(text), quote=False)


def status_color(status: str) -> str:
    return STATUS_COLORS.get(status, "#999999")


def territory_label(t: TerritoryView) -> str:
    return label(f"{t.name} ({t.department})" if t.department else t.name)


def _layout(fig: go.Figure, title: str, *, height: int = 420, **extra: Any) -> None:
    fig.update_layout(
        title={"text": label(title), "x": 0.01, "xanchor": "left", "y": 0.99, "yanchor": "top",
               "yref": "container", "font": {"size": 16}},
        # Empty here, plotly_white's where the figure is drawn (`drawn`): plotly.py copies a named
        # template deeply into each figure it is set on, 13 ms a figure, most of building one.
        template={},
        font={"family": FONT_STACK, "size": 12, "color": "#222"},
        separators=",\u202f",  # French: decimal comma, narrow no-break space for thousands
        height=height,
        # Room between the title and the plot for a horizontal legend that never covers either.
        margin={"l": 10, "r": 10, "t": 90, "b": 40},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "title": {"text": ""},
                "traceorder": "normal"},
        hoverlabel={"font": {"family": FONT_STACK}},
        **extra,
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)


@functools.lru_cache(maxsize=1)
def _white() -> dict[str, Any]:
    import plotly.io as pio

    return pio.templates["plotly_white"].to_plotly_json()


def drawn(fig: go.Figure | dict[str, Any]) -> dict[str, Any]:
    """A figure's data as the charts' pages and images draw it: with plotly_white's template
    (the map, made as data, is drawn as it is)."""
    if isinstance(fig, dict):
        return fig
    data: dict[str, Any] = fig.to_dict()
    data["layout"]["template"] = copy.deepcopy(_white())
    return data


def count_axis(largest: float, **extra: Any) -> dict[str, Any]:
    """A count axis with whole ticks only (never « 0,5 territoire »): 1, 2, 5, 10… apart."""
    step = 1
    for candidate in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000):
        step = candidate
        if largest / candidate <= 8:
            break
    return {"tickmode": "linear", "tick0": 0, "dtick": step, "tickformat": "d", "rangemode": "tozero", **extra}


def stack_legend(fig: go.Figure) -> None:
    """A stacked column chart's legend beside the plot, top to bottom as the stack: the first
    trace is drawn at the bottom, so the legend is read in reverse."""
    fig.update_layout(legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top",
                              "traceorder": "reversed"}, margin={"t": 70, "r": 10})


def all_categories(names: list[str], **extra: Any) -> dict[str, Any]:
    """A category axis that names every bar (plotly otherwise skips labels it finds crowded)."""
    return {"type": "category", "tickmode": "array", "tickvals": names, "ticktext": names, **extra}


def subtitle(fig: go.Figure, text: str) -> None:
    """A second, smaller line under a chart's title (plotly titles do not wrap); plotly places
    it, so the title is never pushed above the chart."""
    fig.update_layout(title_subtitle={"text": label(text), "font": {"size": 12, "color": "#444"}})


def _empty(fig: go.Figure, message: str) -> None:
    fig.add_annotation(text=label(message), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": 14, "color": "#555"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)


def _department_key(code: str) -> tuple[int, str]:
    digits = "".join(ch for ch in code if ch.isdigit())
    return (int(digits) if digits else 999, code)


def status_by_department(cons: Consolidation) -> go.Figure:
    import plotly.graph_objects as go

    fig = go.Figure()
    counts = cons.region.status_by_department
    departments = sorted(counts, key=_department_key)
    names = [label(department_label(d)) for d in departments]
    # The territories without a workbook are counted in the title, not drawn: a bar of grey
    # would hide what the workbooks received say.
    absent = sum(counts[d].get(s, 0) for d in departments for s in ABSENT_STATUSES)
    for status in ORT_STATUSES:
        ys = [counts[d].get(status, 0) for d in departments]
        if not any(ys):
            continue
        fig.add_bar(
            name=label(status), x=names, y=ys, marker={"color": status_color(status),
                                                       "line": {"color": "#555", "width": 0.5}},
            hovertemplate=f"%{{x}}<br>{label(status)} : %{{y}}<extra></extra>",
        )
    largest = max((sum(counts[d].get(s, 0) for s in ORT_STATUSES) for d in departments), default=1)
    _layout(fig, CHART_TITLES["statut-ort-par-departement"], barmode="stack",
            xaxis=all_categories(names, title={"text": "Département"}, tickangle=-35),
            yaxis=count_axis(largest, title={"text": "Territoires reçus"}))
    stack_legend(fig)
    if absent:
        plural = "s" if absent > 1 else ""
        note = f"Classeurs reçus ; {absent} territoire{plural} sans classeur, non représenté{plural}"
        subtitle(fig, note)
    if not departments:
        _empty(fig, "Aucun territoire.")
    return fig


def milestone_progress(cons: Consolidation) -> go.Figure:
    import plotly.graph_objects as go

    fig = go.Figure()
    codes = ["Aucun", *(code for code, _ in MILESTONES)]
    names = dict(MILESTONES)
    received = [t for t in cons.territories if t.received]
    for status in ORT_STATUSES:
        per = Counter(t.last_milestone_code or "Aucun" for t in received if t.ort_status == status)
        ys = [per.get(c, 0) for c in codes]
        if not any(ys):
            continue
        fig.add_bar(
            name=label(status), x=codes, y=ys, marker={"color": status_color(status)},
            customdata=[label(names.get(c, "Aucun jalon réalisé")) for c in codes],
            hovertemplate=f"%{{x}} — %{{customdata}}<br>{label(status)} : %{{y}}<extra></extra>",
        )
    per_code = Counter(t.last_milestone_code or "Aucun" for t in received)
    _layout(fig, CHART_TITLES["avancement-jalons"], barmode="stack",
            xaxis=all_categories(codes, title={"text": "Dernier jalon réalisé"}, categoryorder="array",
                                 categoryarray=codes),
            yaxis=count_axis(max(per_code.values(), default=1), title={"text": "Territoires"}))
    stack_legend(fig)
    if not received:
        _empty(fig, "Aucun classeur reçu.")
    return fig


def deadlines(cons: Consolidation, at_risk_days: int = 90) -> go.Figure:
    import plotly.graph_objects as go

    fig = go.Figure()
    shown = sorted((t for t in cons.territories if t.received and t.days_left is not None),
                   key=lambda t: (t.days_left, t.name))
    for status in ORT_STATUSES:
        group = [t for t in shown if t.ort_status == status]
        if not group:
            continue
        fig.add_bar(
            orientation="h", name=label(status),
            x=[round((t.days_left or 0) / DAYS_PER_MONTH, 1) for t in group],
            y=[territory_label(t) for t in group],
            customdata=[t.ort_deadline.strftime("%d/%m/%Y") if t.ort_deadline else "" for t in group],
            marker={"color": status_color(status)},
            hovertemplate=("%{y}<br>Échéance %{customdata} : %{x} mois"
                           f"<br>{label(status)}<extra></extra>"),
        )
    order = [territory_label(t) for t in shown]
    _layout(fig, CHART_TITLES["echeances"], height=max(320, 150 + ROW_HEIGHT * len(shown)),
            xaxis={"title": {"text": "Mois restants avant l'échéance ORT (négatif : dépassée)"},
                   "zeroline": True, "zerolinecolor": "#222"},
            yaxis=all_categories(order[::-1], categoryorder="array", categoryarray=order[::-1]),
            barmode="relative", bargap=0.25)
    if shown:
        months = at_risk_days / DAYS_PER_MONTH
        fig.add_vline(x=months, line_dash="dot", line_color=status_color(ORT_STATUSES[2]),
                      annotation_text=label(f"{fr_decimal(months)} mois : à risque"),
                      annotation_position="top right")
    else:
        _empty(fig, "Aucune échéance connue.")
    return fig


def financing(cons: Consolidation, financers: list[str] | None = None, error_rows: float = 0.0) -> go.Figure:
    """Financing by financer, largest first, each with its share of all financing, in the
    financer's own colour; then « Reste à financer », hatched."""
    import plotly.graph_objects as go

    region = cons.region
    colors = financer_colors(financers or list(region.financing))
    names = sorted((n for n, v in region.financing.items() if v), key=lambda n: -region.financing[n])
    total = sum(region.financing[n] for n in names)
    values = [region.financing[n] for n in names]
    texts = [f"{fr_money(round(v), NARROW)} ({fr_decimal(100 * v / total)} %)" for v in values]
    fig = go.Figure(go.Bar(
        orientation="h", x=values, y=[label(n) for n in names], name="Financements",
        marker={"color": [colors.get(n, MONEY_COLOR) for n in names], "line": {"color": "#333", "width": 0.5}},
        text=[label(t) for t in texts], textposition="outside", cliponaxis=False,
        hovertemplate="%{y}<br>%{x:,.0f} € (%{text})<extra></extra>",
    ))
    fig.add_bar(orientation="h", x=[region.remaining], y=[label(REMAINING)], name=label(REMAINING),
                marker={"color": REMAINING_COLOR, "pattern": REMAINING_PATTERN, "line": {"color": "#333", "width": 0.5}},
                text=[fr_money(round(region.remaining), NARROW)], textposition="outside", cliponaxis=False,
                hovertemplate="%{y}<br>%{x:,.0f} €<extra></extra>")
    order = [label(n) for n in [*names, REMAINING]]
    title = f"{CHART_TITLES['financements-par-financeur']} (coût total {fr_money(round(region.cost), NARROW)})"
    _layout(fig, title, height=max(320, 150 + 30 * len(order)), showlegend=False,
            xaxis={"title": {"text": "Euros HT"}, "tickformat": ",.0f",
                   "range": [0, max([*values, region.remaining, 1.0]) * 1.6]},
            yaxis=all_categories(order, autorange="reversed"))
    note = "Part : part de chaque financeur dans le total des financements"
    if error_rows:
        note += f" ; dont lignes en erreur : {fr_money(round(error_rows), NARROW)}"
    subtitle(fig, note)
    if not region.cost and not any(values):
        _empty(fig, "Aucun montant engagé.")
    return fig


def actions_by_theme(cons: Consolidation) -> go.Figure:
    import plotly.graph_objects as go

    data = cons.region.actions_by_theme_status
    themes = sorted(data, key=lambda th: -sum(data[th].values()))
    known = cons.region.action_statuses
    statuses = known + sorted({s for th in data.values() for s in th} - set(known))
    fig = go.Figure()
    for i, status in enumerate(statuses):
        xs = [data[th].get(status, 0) for th in themes]
        if not any(xs):
            continue
        fig.add_bar(orientation="h", name=label(status), x=xs, y=[label(th) for th in themes],
                    marker={"color": action_color(status, i), "line": {"color": "#555", "width": 0.5}},
                    hovertemplate=f"%{{y}}<br>{label(status)} : %{{x}}<extra></extra>")
    largest = max((sum(data[th].values()) for th in themes), default=1)
    _layout(fig, CHART_TITLES["actions-par-thematique"], barmode="stack",
            height=max(320, 150 + 30 * len(themes)),
            xaxis=count_axis(largest, title={"text": "Actions"}),
            yaxis=all_categories([label(th) for th in themes], autorange="reversed"))
    if not themes:
        _empty(fig, "Aucune action.")
    return fig


def engineering_needs(cons: Consolidation) -> go.Figure:
    from plotly.subplots import make_subplots

    region = cons.region
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Par thématique", "Par partenaire sollicité"),
                        horizontal_spacing=0.25)
    for col, data in enumerate((region.needs_by_theme, region.needs_by_partner), start=1):
        keys = sorted(data, key=lambda k: -data[k])
        names = [label(k) for k in keys]
        fig.add_bar(orientation="h", x=[data[k] for k in keys], y=names,
                    marker={"color": NEEDS_COLOR}, showlegend=False, name="Besoins",
                    hovertemplate="%{y} : %{x} besoins<extra></extra>", row=1, col=col)
        fig.update_yaxes(all_categories(names, autorange="reversed"), row=1, col=col)
        fig.update_xaxes(count_axis(max(data.values(), default=1)), row=1, col=col)
    rows = max(len(region.needs_by_theme), len(region.needs_by_partner), 1)
    _layout(fig, CHART_TITLES["besoins-ingenierie"], height=max(320, 150 + 28 * rows))
    if not region.needs_by_theme and not region.needs_by_partner:
        fig.add_annotation(text="Aucun besoin déclaré.", showarrow=False, x=0.5, y=0.5,
                           xref="paper", yref="paper")
    return fig


def comites_heatmap(cons: Consolidation) -> go.Figure:
    import plotly.graph_objects as go

    received = sorted((t for t in cons.territories if t.received),
                      key=lambda t: (_department_key(t.department or "?"), t.name))
    quarters = sorted({q for t in received for q in t.comites_by_quarter})[-8:]
    fig = go.Figure()
    if received and quarters:
        z = [[t.comites_by_quarter.get(q, 0) for q in quarters] for t in received]
        fig.add_heatmap(
            z=z, x=quarters, y=[territory_label(t) for t in received],
            text=[[str(v) for v in row] for row in z], texttemplate="%{text}",
            colorscale=[[0.0, "#F2F2F2"], [0.01, "#CFE3F3"], [1.0, "#0072B2"]], zmin=0,
            xgap=2, ygap=2, colorbar={"title": {"text": "Comités"}, "dtick": 1, "tickformat": "d"},
            hovertemplate="%{y}<br>%{x} : %{z} comité(s) de projet<extra></extra>",
        )
    names = [territory_label(t) for t in received]
    _layout(fig, CHART_TITLES["comites-par-trimestre"], height=max(320, 150 + ROW_HEIGHT * len(received)),
            xaxis={"type": "category", "side": "top"},
            yaxis=all_categories(names, autorange="reversed"))
    if not (received and quarters):
        _empty(fig, "Aucun comité de projet déclaré.")
    return fig


def build_figures(consolidation: Consolidation, *, at_risk_days: int = 90,
                  schema: Schema | None = None) -> dict[str, go.Figure]:
    """The seven charts, by their file name (stable, in French); each title carries the period
    (and the départements kept), so a PNG pasted in a note still says what it shows.

    Built once per consolidation: the dashboard and `graphiques-<période>/` show the same
    figures (plotly takes seconds to build them at national scale). Callers only read them."""
    # With the schema, the financers keep the configuration's colours and the rows in error are stated.
    what = ("charts" if schema is None else "charts-schema", at_risk_days)
    return remembered(consolidation, what, lambda: _build_figures(consolidation, at_risk_days, schema))


# The figures of the last consolidation drawn: (the consolidation, weakly; what; the figures).
_REMEMBERED: dict[tuple[str, int], tuple[weakref.ref[Any], Any]] = {}


def remembered(consolidation: Consolidation, what: tuple[str, int], build: Callable[[], Any]) -> Any:
    """`build()`, unless it was already built for this very consolidation object."""
    found = _REMEMBERED.get(what)
    if found is not None and found[0]() is consolidation:
        return found[1]
    value = build()
    _REMEMBERED[what] = (weakref.ref(consolidation), value)
    return value


def _build_figures(consolidation: Consolidation, at_risk_days: int, schema: Schema | None) -> dict[str, go.Figure]:
    c = consolidation
    figures = _figures(c, at_risk_days, schema)
    scope = c.region.period
    if c.region.departments:
        scope += " — " + ", ".join(department_label(d) for d in c.region.departments)
    for fig in figures.values():
        head, sep, rest = str(fig.layout.title.text).partition("<br>")
        fig.update_layout(title_text=f"{head} — {label(scope)}{sep}{rest}")
    return figures


def _figures(c: Consolidation, at_risk_days: int, schema: Schema | None) -> dict[str, go.Figure]:
    financers = [f.financer or f.key for f in schema.financer_fields] if schema else list(c.region.financing)
    error_rows = error_rows_money(c, schema)[1] if schema else 0.0
    return {
        "statut-ort-par-departement": status_by_department(c),
        "avancement-jalons": milestone_progress(c),
        "echeances": deadlines(c, at_risk_days),
        "financements-par-financeur": financing(c, financers, error_rows),
        "actions-par-thematique": actions_by_theme(c),
        "besoins-ingenierie": engineering_needs(c),
        "comites-par-trimestre": comites_heatmap(c),
    }


def map_periods(consolidation: Consolidation) -> list[tuple[str, list[TerritoryView]]]:
    """The periods the map shows, oldest first, the consolidated one last (a slider with history)."""
    history = consolidation.history
    if history is None or len(history.periods) < 2:
        return [(consolidation.region.period, consolidation.territories)]
    return [(period, c.territories) for period, c in history.periods.items()]


def status_map(consolidation: Consolidation, *, note_unmapped: bool = False) -> RegionMap:
    """The map of the region (see `region_map`), with the look of every other chart."""
    region_map = map_figure(map_periods(consolidation), note_unmapped=note_unmapped)
    layout = region_map.figure["layout"]
    layout["title"].update({"x": 0.01, "xanchor": "left", "y": 0.99, "yanchor": "top", "yref": "container",
                            "font": {"size": 16}})
    layout.update(font={"family": FONT_STACK, "size": 12, "color": "#222"}, separators=", ",
                  hoverlabel={"font": {"family": FONT_STACK}, "align": "left"})
    return region_map
