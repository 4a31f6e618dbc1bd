"""Charts over quarters and the dashboard's « Évolution » (README, Plusieurs trimestres): ORT signed, ORT
statuses, money by financer and workbooks received against expected, quarter by quarter; and
« Ce qui a changé depuis <T-1> ». They read the history of the view, never recompute it.

plotly is imported inside functions only: the validate path must never pay for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pvd_reporting.atomic import atomic_write_text
from pvd_reporting.cache import Cache
from pvd_reporting.consolidate.changes import CHANGE_TYPES, COST, FINANCING
from pvd_reporting.consolidate.view import Consolidation
from pvd_reporting.format.matching import norm
from pvd_reporting.format.schema import NOT_RECEIVED
from pvd_reporting.outputs.dashboard.charts_folder import PLOTLY_FILE
from pvd_reporting.outputs.dashboard.images import export_images
from pvd_reporting.outputs.dashboard.plots import (
    ALL_STATUSES,
    _layout,
    count_axis,
    drawn,
    label,
    remembered,
    stack_legend,
    status_color,
)
from pvd_reporting.outputs.palette import EXPECTED_COLOR, RECEIVED_COLOR, financer_colors
from pvd_reporting.outputs.privacy import shown_change
from pvd_reporting.outputs.summary.evolution import shown

if TYPE_CHECKING:
    import plotly.graph_objects as go

TREND_TITLES: dict[str, str] = {
    "ort-signees-par-trimestre": "ORT signées par trimestre",
    "statut-ort-par-trimestre": "Territoires reçus par statut ORT et par trimestre",
    "financements-par-trimestre": "Montants par financeur et par trimestre",
    "classeurs-par-trimestre": "Classeurs reçus et territoires attendus par trimestre",
}


def periods_of(cons: Consolidation) -> dict[str, Consolidation]:
    return cons.history.periods if cons.history is not None else {cons.region.period: cons}


def _span(periods: list[str]) -> str:
    return f"{periods[0]} à {periods[-1]}" if len(periods) > 1 else periods[0]


def _title(name: str, periods: list[str]) -> str:
    return f"{TREND_TITLES[name]} ({_span(periods)})"


def ort_signed(cons: Consolidation) -> go.Figure:
    import plotly.graph_objects as go

    periods = periods_of(cons)
    xs = list(periods)
    ys = [c.region.ort_signed for c in periods.values()]
    # Named after the status its colour stands for (the legend is hidden: the title says it).
    fig = go.Figure(go.Scatter(x=xs, y=ys, mode="lines+markers+text", text=[str(y) for y in ys],
                               name=label(ALL_STATUSES[0]),
                               textposition="top center", line={"color": status_color(ALL_STATUSES[0])},
                               hovertemplate="%{x}<br>ORT signées : %{y}<extra></extra>"))
    _layout(fig, _title("ort-signees-par-trimestre", xs), height=360, showlegend=False,
            xaxis={"title": {"text": "Trimestre"}, "type": "category"},
            yaxis=count_axis(max(ys, default=1), title={"text": "Territoires"},
                             range=[0, max(ys, default=0) * 1.25 + 1]))
    return fig


def status_by_quarter(cons: Consolidation) -> go.Figure:
    import plotly.graph_objects as go

    periods = periods_of(cons)
    xs = list(periods)
    fig = go.Figure()
    # Territories received only: the expected ones not received have their own chart, and their
    # grey would drown the statuses.
    for status in ALL_STATUSES:
        if status == NOT_RECEIVED:
            continue
        ys = [c.region.status_counts.get(status, 0) for c in periods.values()]
        if not any(ys):
            continue
        fig.add_bar(name=label(status), x=xs, y=ys,
                    marker={"color": status_color(status), "line": {"color": "#555", "width": 0.5}},
                    hovertemplate=f"%{{x}}<br>{label(status)} : %{{y}}<extra></extra>")
    largest = max((sum(n for s, n in c.region.status_counts.items() if s != NOT_RECEIVED)
                   for c in periods.values()), default=1)
    _layout(fig, _title("statut-ort-par-trimestre", xs), barmode="stack",
            xaxis={"title": {"text": "Trimestre"}, "type": "category"},
            yaxis=count_axis(largest, title={"text": "Territoires reçus"}))
    stack_legend(fig)
    return fig


def money_by_quarter(cons: Consolidation) -> go.Figure:
    import plotly.graph_objects as go

    periods = periods_of(cons)
    xs = list(periods)
    names: list[str] = []
    for c in periods.values():
        names.extend(n for n in c.region.financing if n not in names)
    fig = go.Figure()
    # Each quarter's money is that of the territories received then: the count is on the axis,
    # so that a territory that did not send does not read as money lost.
    counts = [territories_received(c.region.received) for c in periods.values()]
    colors = financer_colors(names)
    for name in names:
        ys = [c.region.financing.get(name, 0.0) for c in periods.values()]
        if not any(ys):
            continue
        fig.add_bar(name=label(name), x=xs, y=ys, marker={"color": colors[name]},
                    customdata=counts,
                    hovertemplate=f"%{{x}} (%{{customdata}})<br>{label(name)} : %{{y:,.0f}} €<extra></extra>")
    _layout(fig, _title("financements-par-trimestre", xs), barmode="stack", height=600,
            xaxis={"title": {"text": "Trimestre (territoires reçus)"}, "type": "category", "tickvals": xs,
                   "ticktext": [f"{p}<br>{n}" for p, n in zip(xs, counts, strict=True)]},
            yaxis={"title": {"text": "Euros HT"}, "tickformat": ",.0f"})
    # The legend beside the plot, top to bottom as the stack.
    stack_legend(fig)
    return fig


def territories_received(n: int) -> str:
    return f"{n} territoire{'s' if n > 1 else ''} reçu{'s' if n > 1 else ''}"


def received_by_quarter(cons: Consolidation) -> go.Figure:
    import plotly.graph_objects as go

    periods = periods_of(cons)
    xs = list(periods)
    expected = [c.region.expected if c.region.expected is not None else len(c.territories)
                for c in periods.values()]
    received = [c.region.received for c in periods.values()]
    fig = go.Figure()
    fig.add_bar(name="Territoires attendus", x=xs, y=expected,
                marker={"color": "rgba(0,0,0,0)", "line": {"color": EXPECTED_COLOR, "width": 2}},
                hovertemplate="%{x}<br>Attendus : %{y}<extra></extra>")
    fig.add_bar(name="Classeurs reçus", x=xs, y=received, marker={"color": RECEIVED_COLOR},
                hovertemplate="%{x}<br>Reçus : %{y}<extra></extra>")
    _layout(fig, _title("classeurs-par-trimestre", xs), barmode="overlay", height=360,
            xaxis={"title": {"text": "Trimestre"}, "type": "category"},
            yaxis=count_axis(max([*expected, *received, 1]), title={"text": "Territoires"}))
    return fig


def trend_figures(cons: Consolidation) -> dict[str, go.Figure]:
    """The four charts over quarters; none with a single period (nothing to compare). Built once
    per consolidation, for the dashboard and `graphiques-<période>/` alike."""
    return remembered(cons, ("trends", 0), lambda: _trend_figures(cons))


def _trend_figures(cons: Consolidation) -> dict[str, go.Figure]:
    if len(periods_of(cons)) < 2:
        return {}
    return {
        "ort-signees-par-trimestre": ort_signed(cons),
        "statut-ort-par-trimestre": status_by_quarter(cons),
        "financements-par-trimestre": money_by_quarter(cons),
        "classeurs-par-trimestre": received_by_quarter(cons),
    }


def write_trend_charts(cons: Consolidation, output_dir: Path, *, images: bool = True,
                       image_cache: Cache | None = None) -> tuple[list[Path], str | None]:
    """The trend charts in `graphiques-<period>/`, beside the others (html, and png/svg with Chromium)."""
    import plotly.io as pio

    figures = trend_figures(cons)
    if not figures:
        return [], None
    folder = Path(output_dir) / f"graphiques-{cons.region.period}"
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    span = list(periods_of(cons))
    for name, fig in figures.items():
        page = pio.to_html(drawn(fig), validate=False, include_plotlyjs=PLOTLY_FILE, include_mathjax=False, full_html=True,
                           config={"displaylogo": False, "responsive": True})
        page = page.replace("<head>", f'<head><meta charset="utf-8"><title>{label(_title(name, span))}</title>', 1)
        page = page.replace("<html>", '<html lang="fr">', 1)
        written.append(atomic_write_text(folder / f"{name}.html", page))
    if not images:
        return written, None
    images_written, notice = export_images(figures, folder, image_cache)
    return written + images_written, notice


def evolution_context(cons: Consolidation, no_contacts: bool) -> dict[str, Any]:
    """What the page's « Évolution » block and each territory's panel show."""
    periods = periods_of(cons)
    history = cons.history
    if len(periods) < 2 or history is None:
        return {"single": True, "charts": [], "territories": {},
                "message": (f"Une seule période trouvée ({cons.region.period}) : l'évolution s'affichera "
                            "quand les classeurs d'autres trimestres seront consolidés avec ceux-ci.")}
    changes = []
    by_key: dict[str, list[dict[str, str]]] = {}
    for ch in history.changes:
        money = ch.kind in (COST, FINANCING)
        before, after = shown_change(ch, no_contacts)
        row = {"key": ch.key, "id": ch.id_pvd or "", "territory": ch.territory, "kind": ch.kind,
               "element": ch.element or "", "before": shown(before, money) or "",
               "after": shown(after, money) or ""}
        row["search"] = norm(" ".join(row[k] for k in ("id", "territory", "kind", "element", "before", "after")))
        changes.append(row)
        by_key.setdefault(ch.key, []).append(row)
    counts = [(kind, sum(1 for c in changes if c["kind"] == kind)) for kind in CHANGE_TYPES]
    strips: dict[str, list[dict[str, str]]] = {}
    order = {s: i for i, s in enumerate(ALL_STATUSES)}  # the page's classes st0…st5
    for period, c in periods.items():
        for t in c.territories:
            strips.setdefault(t.key, []).append(
                {"period": period, "status": t.ort_status, "cls": f"st{order.get(t.ort_status, 4)}"})
    territories = {key: {"strip": strip, "changes": by_key.get(key, [])} for key, strip in strips.items()}
    return {
        "single": False, "message": "", "previous": history.previous,
        "span": _span(list(periods)),
        "charts": [{"id": name, "title": _title(name, list(periods))} for name in TREND_TITLES],
        "counts": [(k, n) for k, n in counts if n], "changes": changes, "kinds": [k for k, n in counts if n],
        "territories": territories,
    }
