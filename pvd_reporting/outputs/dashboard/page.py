"""The HTML dashboard for managers (README, Ce que contient chaque sortie `tableau-de-bord-<period>.html`): one self-contained page.

plotly.js is inlined once and every figure is JSON drawn by the page, so the file works from
file:// with no network at all. Territory text goes through Jinja's autoescape, or, inside
<script>, through `script_json` — never raw.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from pvd_reporting import __version__
from pvd_reporting.atomic import atomic_write
from pvd_reporting.consolidate.figures import region_figures
from pvd_reporting.consolidate.view import Consolidation, RegionView
from pvd_reporting.format.departements import department_label
from pvd_reporting.format.matching import french_sort_key
from pvd_reporting.format.schema import NOT_FILLED, NOT_RECEIVED, ORT_STATUSES, Schema
from pvd_reporting.outputs.columns import dashboard_totals
from pvd_reporting.outputs.dashboard.page_figures import figures_json, map_block, plotly_bundle
from pvd_reporting.outputs.dashboard.page_model import (
    briefing,
    cards,
    date_or_dash,
    department_table,
    fr_euros,
    money_table,
    revisions,
    script_json,
    status_class,
    territory_row,
    unplaced,
)
from pvd_reporting.outputs.dashboard.trends import evolution_context
from pvd_reporting.outputs.palette import FOCUS_COLOR, ort_color


@functools.cache
def _environment() -> Environment:
    # One per process: its templates are compiled once, not at every run (tests run hundreds).
    env = Environment(loader=PackageLoader("pvd_reporting.outputs.dashboard", "."), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["euros"] = fr_euros
    env.filters["frdate"] = date_or_dash
    return env


def render_dashboard(consolidation: Consolidation, schema: Schema, *, no_contacts: bool = False,
                     generated_on: date | None = None) -> str:
    """The page as text (see `write_dashboard`)."""
    return "".join(_page(consolidation, schema, no_contacts=no_contacts, generated_on=generated_on))


def _page(consolidation: Consolidation, schema: Schema, *, no_contacts: bool = False,
          generated_on: date | None = None) -> Iterator[str]:
    """The page piece by piece: written as made, it never exists whole in memory (some megabytes
    at national scale, plotly.js included, at the moment the run holds the most; docs/vitesse.md)."""
    cons = consolidation
    region = region_figures(cons, schema)
    figures, charts = figures_json(cons, schema)
    # Received first: on paper the territories not received are one list of names under the table.
    order = sorted(cons.territories, key=lambda t: (not t.received, t.department or "", french_sort_key(t.name)))
    rows = [territory_row(i, t, cons, schema, no_contacts) for i, t in enumerate(order)]
    departments = [(d, department_label(d)) for d in sorted({t.department for t in order if t.department})]
    statuses = [s for s in (*ORT_STATUSES, NOT_RECEIVED, NOT_FILLED) if any(t.ort_status == s for t in order)]
    needs_theme = sorted(cons.region.needs_by_theme.items(), key=lambda kv: -kv[1])
    needs_partner = sorted(cons.region.needs_by_partner.items(), key=lambda kv: -kv[1])
    return _environment().get_template("page.html.j2").generate(
        total_headers=[c.short or c.header for c in dashboard_totals(schema)],
        region=cons.region, as_of=date_or_dash(cons.region.as_of), version=__version__,
        generated_on=date_or_dash(generated_on or date.today()), cards=cards(cons, region, schema.config.at_risk_days),
        money=money_table(cons.region, schema), by_department=department_table(cons), briefing=briefing(cons, region),
        scope=scope_title(cons.region),
        needs_theme=needs_theme, needs_partner=needs_partner,
        charts=charts, figures=figures, rows=rows, departments=departments, statuses=statuses,
        status_classes={s: status_class(s) for s in statuses}, unplaced=unplaced(cons),
        no_contacts=no_contacts, at_risk_days=schema.config.at_risk_days, region_map=map_block(cons, rows),
        evolution=evolution_context(cons, no_contacts), revisions=revisions(cons),
        absent=[t.name for t in sorted(cons.territories, key=lambda t: french_sort_key(t.name)) if not t.received],
        focus_color=FOCUS_COLOR, period_json=script_json(json.dumps(cons.region.period)),
        status_css=[(status_class(s), ort_color(s)) for s in (*ORT_STATUSES, NOT_RECEIVED, NOT_FILLED)],
        plotly_js=Markup(plotly_bundle().replace("</script", "<\\/script")),
    )


def scope_title(region: RegionView) -> str:
    """`Grand Est`, or `Grand Est — Aube (10)` with --departement."""
    return region.scope


def dashboard_name(period: str) -> str:
    return f"tableau-de-bord-{period}.html"


def write_dashboard(consolidation: Consolidation, output_dir: Path, schema: Schema, *,
                    no_contacts: bool = False) -> Path:
    """Write `tableau-de-bord-<period>.html` in `output_dir` (temporary name, then moved in place)."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    pieces = _page(consolidation, schema, no_contacts=no_contacts)
    target = output_dir / dashboard_name(consolidation.region.period)

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            handle.writelines(pieces)

    return atomic_write(target, write)
