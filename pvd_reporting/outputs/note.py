"""The one-page note for the préfet (README, La note et l'impression): `note-<période>.html`, and
`note-<période>.pdf` when Chromium is there.

One A4 page, in the form of a note: the issuing service, the date and the objet; three to five
points d'attention written from the alerts; the region's figures with T-1 on one perimeter (the
territories received in both quarters); the map; the financers. The page is plain HTML and inline SVG: no script, no plotly.js, no font, no
request, so it prints the same from any browser and weighs a few hundred kilobytes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader

from pvd_reporting import __version__
from pvd_reporting.atomic import atomic_write_bytes, atomic_write_text
from pvd_reporting.consolidate.briefing import (
    AT_RISK_ALERT,
    NOT_FILLED_ALERT,
    NOT_RECEIVED_ALERT,
    OVERDUE_ALERT,
    SIGNED_LATE_ALERT,
    Alert,
    alerts,
    headline,
)
from pvd_reporting.consolidate.figures import (
    REMAINING_LABEL,
    RegionFigures,
    ValueKind,
    region_figures,
)
from pvd_reporting.consolidate.view import Consolidation
from pvd_reporting.format import french
from pvd_reporting.format.departements import department_label
from pvd_reporting.format.schema import ORT_STATUSES, Schema
from pvd_reporting.outputs import browser as chromium
from pvd_reporting.outputs.browser import chromium_path
from pvd_reporting.outputs.dashboard.region_map import ATTRIBUTION, LEGEND_ORDER, map_figure
from pvd_reporting.outputs.figure_text import change_text, figure_text
from pvd_reporting.outputs.palette import ORT_STYLES, REMAINING_PATTERN, financer_colors

# The figures of the note, in its order: what a préfet asks first.
NOTE_FIGURES = ("received", "missing", "ort_signed", "at_risk", "overdue", "valid",
                "cost", "financed", "remaining", "per_inhabitant", "cost_error_rows")
GROUPED = (NOT_RECEIVED_ALERT, NOT_FILLED_ALERT)  # one line naming the territories
MAX_ALERTS = 12  # individual lines; the rest is counted (the dashboard lists them all)
MAX_NAMES = 24  # names of territories not received; the rest is counted
MAP_WIDTH, MAP_HEIGHT = 330, 300  # CSS pixels of the printed map
MAP_LABEL_SIZE = 13  # the départements' names, in the map's units: 8 pt once the map is fitted
MAX_POINTS, MIN_POINTS = 5, 3  # points d'attention
NAMES_IN_A_POINT = 6


def service_name(schema: Schema) -> str:
    """The issuing service: the configuration's `[note] service`, else the région's SGAR."""
    return schema.config.note_service or f"Préfecture de la région {schema.config.region_name} — SGAR"


def _names(territories: list[Any]) -> str:
    names = [t.name for t in territories[:NAMES_IN_A_POINT]]
    more = len(territories) - len(names)
    return ", ".join(names) + (f" et {more} autre{'s' if more > 1 else ''}" if more > 0 else "")


def attention_points(found: list[Alert], figures: RegionFigures) -> list[str]:
    """Three to five sentences a préfet reads first, one per kind of alert, most urgent first;
    completed by the money and the ORT signed when there are fewer kinds of alert."""
    by_kind: dict[str, list[Alert]] = {}
    for a in found:
        by_kind.setdefault(a.kind, []).append(a)
    points = []
    for kind, group in by_kind.items():
        territories = [t for a in group for t in a.territories]
        n = len(territories)
        first = group[0]
        if kind in GROUPED:
            points.append(f"{kind} : {n} territoire{'s' if n > 1 else ''} ({_names(territories)}) ; "
                          "les relances sont prêtes.")
        elif kind == OVERDUE_ALERT and first.months_late is not None:
            points.append(f"{kind} pour {n} territoire{'s' if n > 1 else ''} : {_names(territories)} "
                          f"(jusqu'à {french.fr_decimal(first.months_late)} mois de retard).")
        elif kind == AT_RISK_ALERT and first.months_left is not None:
            points.append(f"{kind} pour {n} territoire{'s' if n > 1 else ''} : {_names(territories)} "
                          f"(au plus tôt dans {french.fr_decimal(first.months_left)} mois).")
        else:
            points.append(f"{kind} : {n} territoire{'s' if n > 1 else ''} ({_names(territories)}).")
        if len(points) == MAX_POINTS:
            break
    extras = []
    remaining, cost = figures.value("remaining"), figures.value("cost")
    if cost:
        extras.append(f"Reste à financer : {figure_text(remaining, ValueKind.EUROS)}, soit "
                      f"{figure_text(remaining / cost, ValueKind.SHARE)} du coût des actions "
                      f"({figure_text(cost, ValueKind.EUROS)}).")
    extras.append(f"ORT signées : {figures.value('ort_signed')} sur {figures.value('received')} territoires reçus.")
    for extra in extras:
        if len(points) >= MIN_POINTS:
            break
        points.append(extra)
    return points


def note_name(period: str) -> str:
    return f"note-{period}.html"


def figure_rows(figures: RegionFigures) -> list[dict[str, Any]]:
    """Each figure now; beside it, T-1 and now on one perimeter (the territories received in both
    quarters when the history gives them, else each quarter's own) and the change between the
    two values shown: a line never sets a raw T-1 beside a constant-perimeter change."""
    rows = []
    constant = figures.constant is not None
    for key in NOTE_FIGURES:
        f = figures[key]
        if key == "cost_error_rows" and not f.value:
            continue
        pair = f.compared() if figures.has_history else None
        before, now, on_constant = pair if pair is not None else (0.0, 0.0, False)
        rows.append({"label": f.short, "value": figure_text(f.value, f.kind), "note": f.note,
                     "before": figure_text(before, f.kind) if pair else "—",
                     "now": figure_text(now, f.kind) if pair else "—",
                     "own": pair is not None and constant and not on_constant,
                     "previous": figure_text(before, f.kind) if pair else "", "constant": on_constant,
                     "change": change_text(before, now, f.kind)
                     if pair and f.kind in (ValueKind.COUNT, ValueKind.EUROS) else "",
                     "dont": key == "cost_error_rows"})
    return rows


def _alert_rows(found: list[Alert]) -> tuple[list[dict[str, str]], int, list[dict[str, Any]]]:
    """(individual lines, how many more, groups of names), for the page."""
    lines = []
    single = [a for a in found if a.kind not in GROUPED]
    for a in single[:MAX_ALERTS]:
        t = a.territories[0]
        delay = ""
        if a.months_late is not None:
            delay = f"{french.fr_decimal(a.months_late)} mois de retard"
        elif a.months_left is not None:
            delay = f"{french.fr_decimal(a.months_left)} mois restants"
        lines.append({"kind": a.kind, "who": t.name,
                      "department": department_label(t.department) if t.department else "",
                      "deadline": french.fr_date(a.deadline) if a.deadline else "", "delay": delay,
                      "detail": a.detail or (a.last_milestone or ""),
                      "remaining": figure_text(a.remaining, ValueKind.EUROS) if a.remaining else "",
                      "color": ORT_STYLES.get(t.ort_status, ("#FFFFFF", ""))[0]
                      if a.kind != SIGNED_LATE_ALERT and not a.detail else ""})
    groups = [{"kind": a.kind, "count": len(a.territories), "names": ", ".join(t.name for t in a.territories[:MAX_NAMES]),
               "more": max(0, len(a.territories) - MAX_NAMES)} for a in found if a.kind in GROUPED]
    return lines, max(0, len(single) - MAX_ALERTS), groups


@dataclass(frozen=True)
class Bar:
    name: str
    value: str
    share: str
    width: float  # percent of the longest bar
    color: str
    hatched: bool = False


def financer_bars(cons: Consolidation, schema: Schema) -> list[Bar]:
    """Financing by financer, largest first, with its share of all financing; then what remains."""
    r = cons.region
    names = [f.financer or f.key for f in schema.financer_fields]
    colors = financer_colors(names)
    total = sum(r.financing.values())
    amounts = sorted(((n, r.financing.get(n, 0.0)) for n in names if r.financing.get(n)), key=lambda kv: -kv[1])
    top = max([v for _, v in amounts] + [r.remaining, 1.0])
    bars = [Bar(n, figure_text(v, ValueKind.EUROS), figure_text(v / total, ValueKind.SHARE) if total else "",
                round(100 * v / top, 1), colors[n]) for n, v in amounts]
    if r.remaining:
        bars.append(Bar(REMAINING_LABEL.removesuffix(" (€)"), figure_text(r.remaining, ValueKind.EUROS), "",
                        round(100 * r.remaining / top, 1), REMAINING_PATTERN["bgcolor"], hatched=True))
    return bars


def map_svg(cons: Consolidation) -> dict[str, Any]:
    """The region's map as SVG paths: each EPCI in its ORT status colour, the départements
    outlined and named (the same figure as the dashboard's, drawn without a script)."""
    fig = map_figure([(cons.region.period, cons.territories)])
    traces = fig.figure["data"]
    points = [(x, y) for tr in traces for x, y in zip(tr["x"], tr["y"], strict=True) if x is not None]
    if not points:
        return {"paths": [], "labels": [], "legend": [], "width": MAP_WIDTH, "height": MAP_HEIGHT}
    aspect = fig.figure["layout"]["yaxis"]["scaleratio"]
    xs, ys = [p[0] for p in points], [p[1] * aspect for p in points]
    x0, y1 = min(xs), max(ys)
    scale = min(MAP_WIDTH / ((max(xs) - x0) or 1), MAP_HEIGHT / ((y1 - min(ys)) or 1))

    def at(x: float, y: float) -> str:
        return f"{(x - x0) * scale:.1f},{(y1 - y * aspect) * scale:.1f}"

    paths = []
    for tr in traces:
        d, pen = [], "M"
        for x, y in zip(tr["x"], tr["y"], strict=True):
            if x is None:
                pen = "M"
                continue
            d.append(f"{pen}{at(x, y)}")
            pen = "L"
        filled = tr.get("fill") == "toself"
        paths.append({"d": "".join(d) + ("Z" if filled else ""), "fill": tr.get("fillcolor") if filled else "none",
                      "stroke": tr["line"]["color"], "width": tr["line"]["width"] * 0.8})
    labels = [{"text": a["text"], "xy": at(a["x"], a["y"]).split(",")}
              for a in fig.figure["layout"]["annotations"] if a.get("xref") == "x"]
    present = {t.ort_status for t in cons.territories}
    legend = [{"status": s, "color": ORT_STYLES[s][0]} for s in LEGEND_ORDER if s in present and s in ORT_STYLES]
    return {"paths": paths, "labels": labels, "legend": legend,
            "width": round((max(xs) - x0) * scale), "height": round((y1 - min(ys)) * scale)}


@functools.cache
def _environment() -> Environment:
    # One per process: the note's template is compiled once, not at every run.
    return Environment(loader=PackageLoader("pvd_reporting.outputs", "."), autoescape=True,
                       trim_blocks=True, lstrip_blocks=True)


def render_note(cons: Consolidation, schema: Schema, *, generated_on: date | None = None) -> str:
    """The note as text (see `write_note`)."""
    figures = region_figures(cons, schema)
    found = alerts(cons)  # current alerts only (briefing.py)
    lines, more, groups = _alert_rows(found)
    r = cons.region
    return _environment().get_template("note.html.j2").render(
        scope=r.scope, region=r, as_of=french.fr_date(r.as_of), version=__version__,
        generated_on=french.fr_date(generated_on or date.today()), headline=headline(figures, r.period),
        figures=figure_rows(figures), previous=figures.previous, has_history=figures.has_history,
        constant=figures.constant,
        alerts=lines, more_alerts=more, groups=groups, bars=financer_bars(cons, schema),
        map=map_svg(cons), attribution=ATTRIBUTION, statuses=ORT_STATUSES,
        service=service_name(schema), points=attention_points(found, figures), label_size=MAP_LABEL_SIZE,
    )


def print_in_session(page: Path, target: Path, browser: str) -> bool:
    """Print `page` to `target` (A4, from the page's own @page rule) in the run's browser
    (`outputs/browser.py`): the one that draws the charts, rather than a Chromium of its own."""
    try:
        data = chromium.start(browser).pdf(page)
    except Exception:  # noqa: BLE001 - without Chromium the HTML prints the same page
        return False
    if not data:
        return False
    atomic_write_bytes(target, data)
    return True


def write_note(cons: Consolidation, output_dir: Path, schema: Schema, *, pdf: bool = True) -> list[Path]:
    """Write `note-<période>.html`, and its PDF when `pdf` and Chromium is installed (without
    it, the HTML prints the same page from any browser)."""
    target = Path(output_dir) / note_name(cons.region.period)
    written = [atomic_write_text(target, render_note(cons, schema))]
    browser = chromium_path() if pdf else None
    if browser and print_in_session(target, target.with_suffix(".pdf"), browser):
        written.append(target.with_suffix(".pdf"))
    else:
        # A rerun replaces each output whole: no PDF of an earlier run beside the new note.
        target.with_suffix(".pdf").unlink(missing_ok=True)
    return written
