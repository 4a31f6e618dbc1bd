"""`tableau-de-bord-national-<période>.html`: one self-contained page for ANCT, offline.

The nation's figures with T-1, the map of France (overseas as insets), the régions' benchmark
table (click a header to sort), three charts by région and what was left out. plotly.js is
inlined once and every figure is a plain dict drawn by the page: no request to any network.
Every text put into the page is escaped.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from pvd_reporting.atomic import atomic_write_text
from pvd_reporting.consolidate.figures import ValueKind
from pvd_reporting.consolidate.national import NationalRollup
from pvd_reporting.consolidate.national_figures import (
    FIGURES,
    Figure,
    constant_change,
    figure_value,
)
from pvd_reporting.consolidate.view import ENGAGED, PLANNED
from pvd_reporting.format.config import NATIONAL_CATEGORIES
from pvd_reporting.format.french import NARROW, fr_decimal, fr_int, fr_money
from pvd_reporting.format.schema import NOT_FILLED, NOT_RECEIVED, ORT_STATUSES
from pvd_reporting.outputs.dashboard.region_map import SCRIPT_ESCAPES
from pvd_reporting.outputs.national.france_map import france_map, unmapped
from pvd_reporting.outputs.national.workbook import CONSTANT_LABEL, NATION, anomaly_rows
from pvd_reporting.outputs.palette import ACCENT, FINANCER_COLORS, ort_color
from pvd_reporting.outputs.report import plural

STATUSES = (*ORT_STATUSES, NOT_RECEIVED, NOT_FILLED)
# The benchmark table shows these figures (keys of the registry; the Synthèse sheet has them all).
TABLE_FIGURES = (
    "expected", "received", "missing", "ort_signed", "ort_signed_in_time", "ort_signed_late", "at_risk", "overdue",
    "median_months_j1_j8", "cadence_held", f"cost:{ENGAGED}", f"cost:{PLANNED}", "remaining", "per_inhabitant",
)


TO_THE_CENT = ("per_inhabitant",)


def table_header(figure: Figure) -> str:
    """A column's head: the figure's short name, unless it only makes sense under its parent (« dont … »)."""
    return figure.label if figure.short.startswith("dont") else figure.short
PAGE_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#1f3864;color:#fff;padding:16px 24px}header h1{margin:0;font-size:22px}
main{padding:16px 24px;max-width:1500px}section{background:#fff;border:1px solid #ddd;border-radius:6px;
padding:12px 16px;margin:0 0 16px}h2{font-size:18px;margin:4px 0 10px}
table{border-collapse:collapse;font-size:13px}th,td{border-bottom:1px solid #e3e3e3;padding:4px 8px;
text-align:right;white-space:nowrap}th{background:#DCE6F1;position:sticky;top:0}td:first-child,
th:first-child{text-align:left}table.sortable th{cursor:pointer}th[aria-sort=ascending]::after{content:" ▲"}
th[aria-sort=descending]::after{content:" ▼"}tr.nation td{font-weight:bold;border-top:2px solid #999}
tr.absent td{color:#777;font-style:italic}.scroll{overflow-x:auto}.note{color:#555;font-size:13px}
.swatch{display:inline-block;width:10px;height:10px;margin-right:4px;border:1px solid #999}
#regions td:first-child,#regions th:first-child{position:sticky;left:0;z-index:1;background:#fff}
#regions th:first-child{background:#DCE6F1;z-index:2}
@media print{.scroll{overflow:visible}header{background:#fff;color:#000}}
"""
SORT_JS = """
document.querySelectorAll("table.sortable").forEach(function(t){
 t.querySelectorAll("th").forEach(function(th,i){th.addEventListener("click",function(){
  var asc=th.getAttribute("aria-sort")!=="ascending";
  t.querySelectorAll("th").forEach(function(o){o.removeAttribute("aria-sort")});
  th.setAttribute("aria-sort",asc?"ascending":"descending");
  var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
  rows.sort(function(a,b){var x=a.cells[i].getAttribute("data-v"),y=b.cells[i].getAttribute("data-v");
   if(x===""&&y!=="")return 1;if(y===""&&x!=="")return -1;
   var nx=parseFloat(x),ny=parseFloat(y),c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y,"fr");
   return asc?c:-c;});
  rows.forEach(function(r){body.appendChild(r)});});});});
"""


def dashboard_name(period: str) -> str:
    return f"tableau-de-bord-national-{period}.html"


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in SCRIPT_ESCAPES.items():
        text = text.replace(char, escaped)
    return text


def shown(figure: Figure, value: Any) -> str:
    """A figure's value written the French way; « — » when absent."""
    if value is None:
        return "—"
    if figure.kind == ValueKind.EUROS:
        # Millions to the euro; a cost per inhabitant to the cent.
        return fr_money(value if figure.key in TO_THE_CENT else round(value), NARROW)
    if figure.kind == ValueKind.MONTHS:
        return fr_decimal(value)
    return fr_int(value, NARROW) if figure.kind == ValueKind.COUNT else str(value)


def _figures_table(rollup: NationalRollup) -> str:
    previous = f"T-1 ({rollup.previous}, mêmes régions)" if rollup.previous else "T-1"
    rows = "".join(
        f"<tr><td>{escape(f.label)}</td><td>{shown(f, figure_value(f, rollup.nation))}</td>"
        f"<td>{shown(f, figure_value(f, rollup.nation_previous))}</td>"
        f"<td>{shown(f, constant_change(f, rollup.constant))}</td></tr>" for f in FIGURES)
    return (f'<table id="chiffres"><thead><tr><th>Indicateur</th><th>{escape(rollup.period)}</th>'
            f"<th>{escape(previous)}</th><th>{CONSTANT_LABEL}</th></tr></thead><tbody>{rows}</tbody></table>")


def _benchmark(rollup: NationalRollup) -> str:
    figures = [f for f in FIGURES if f.key in TABLE_FIGURES]
    head = "".join(f"<th>{escape(table_header(f))}</th>" for f in figures)
    body = []
    for r in rollup.regions:
        cells = []
        for f in figures:
            value = figure_value(f, r.figures)
            cells.append(f'<td data-v="{"" if value is None else value}">{shown(f, value)}</td>')
        css = "" if r.figures is not None else ' class="absent"'
        body.append(f'<tr{css}><td data-v="{escape(r.region)}">{escape(r.region)}</td>'
                    f'<td data-v="{escape(r.status)}">{escape(r.status)}</td>{"".join(cells)}</tr>')
    nation = "".join(f"<td>{shown(f, figure_value(f, rollup.nation))}</td>" for f in figures)
    return (f'<div class="scroll"><table id="regions" class="sortable"><thead><tr><th>Région</th><th>Statut</th>'
            f'{head}</tr></thead><tbody>{"".join(body)}</tbody><tfoot><tr class="nation"><td>{NATION}</td>'
            f"<td>{rollup.reporting} sur {len(rollup.regions)}</td>{nation}</tr></tfoot></table></div>")


def _charts(rollup: NationalRollup) -> dict[str, dict[str, Any]]:
    rows = [r for r in rollup.regions if r.figures is not None]
    names = [escape(r.region, quote=False) for r in rows]
    by_region: dict[str, dict[str, int]] = {r.region: dict.fromkeys(STATUSES, 0) for r in rows}
    for t in rollup.territories:
        if t.region in by_region:
            by_region[t.region][t.status] = by_region[t.region].get(t.status, 0) + 1
    base = {"template": None, "barmode": "stack", "height": 460, "margin": {"l": 60, "r": 20, "t": 60, "b": 140},
            "legend": {"orientation": "h", "y": -0.35}, "plot_bgcolor": "#FFFFFF"}
    status = {"data": [{"type": "bar", "name": escape(s, quote=False), "x": names,
                        "y": [by_region[r.region].get(s, 0) for r in rows], "marker": {"color": ort_color(s)}}
                       for s in STATUSES if any(by_region[r.region].get(s, 0) for r in rows)],
              "layout": {**base, "title": {"text": f"Territoires par statut ORT et par région — {rollup.period}"},
                         "yaxis": {"title": {"text": "Territoires"}}}}
    money = {"data": [{"type": "bar", "name": escape(c, quote=False), "x": names,
                       "y": [(r.figures.by_category.get(c, 0) if r.figures else 0) / 100 for r in rows],
                       "marker": {"color": FINANCER_COLORS[i % len(FINANCER_COLORS)]}}
                      for i, c in enumerate(NATIONAL_CATEGORIES)],
             "layout": {**base, "title": {"text": f"Financements par catégorie et par région (€) — {rollup.period}"},
                        "yaxis": {"title": {"text": "€"}, "separatethousands": True}}}
    months = {"data": [{"type": "bar", "x": names, "y": [r.figures.median_months if r.figures else None for r in rows],
                        "marker": {"color": ACCENT}, "name": "Durée médiane J1 → J8 (mois)"}],
              "layout": {**base, "title": {"text": f"Durée médiane de J1 à J8 (mois), ORT signées — {rollup.period}"},
                         "showlegend": False, "yaxis": {"title": {"text": "mois"}}}}
    return {"graphique-statuts": status, "graphique-financements": money, "graphique-duree": months}


def _anomalies(rollup: NationalRollup) -> str:
    rows = anomaly_rows(rollup)
    if not rows:
        return '<p class="note">Aucune anomalie : chaque fichier a été lu, chaque région a remonté.</p>'
    body = "".join(f"<tr><td>{escape(a)}</td><td>{escape(b)}</td><td>{escape(c)}</td></tr>" for a, b, c in rows)
    return (f'<div class="scroll"><table id="anomalies"><thead><tr><th>Type</th><th>Objet</th><th>Détail</th>'
            f"</tr></thead><tbody>{body}</tbody></table></div>")


def render_dashboard(rollup: NationalRollup, plotly_js: str) -> str:
    inline_js = plotly_js.replace("</script", "<\\/script")
    missing = rollup.missing_regions
    late = [f"{r.region} ({r.late})" for r in rollup.late_regions]
    reported = (f"{plural(rollup.reporting, 'région remontée', 'régions remontées')} sur {len(rollup.regions)}"
                + (f" — en retard, non comptées : {', '.join(late)}" if late else "")
                + (f" — non remontées (comptées ni à zéro ni estimées) : {', '.join(missing)}" if missing else ""))
    without = unmapped(rollup.territories)
    unmapped_note = (f'<p class="note">Sans contour d&#39;EPCI sur la carte : '
                     f'{escape(", ".join(f"{t.name} ({t.region})" for t in without[:30]))}'
                     f'{escape(f" et {len(without) - 30} autres" if len(without) > 30 else "")}.</p>' if without else "")
    figures = {"carte": france_map(rollup.territories, rollup.period), **_charts(rollup)}
    charts = "".join(f'<div id="{key}" class="chart"></div>' for key in figures if key != "carte")
    return f"""<!DOCTYPE html>
<html lang="fr">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Petites villes de demain — synthèse nationale {escape(rollup.period)}</title>
<style>{PAGE_CSS}</style>
<script>{inline_js}</script>
</head>
<body>
<header><h1>Petites villes de demain — synthèse nationale, {escape(rollup.period)}</h1>
<div>{escape(reported)}</div></header>
<main>
<section><h2>La France en chiffres</h2>{_figures_table(rollup)}
<p class="note">Une région non remontée n'entre dans aucun chiffre. Un territoire trouvé dans deux régions
n'est compté qu'une fois.</p></section>
<section><h2>Carte</h2><div id="carte"></div>{unmapped_note}</section>
<section><h2>Les régions comparées</h2><p class="note">Cliquez sur un en-tête pour trier.</p>{_benchmark(rollup)}</section>
<section><h2>Graphiques par région</h2>{charts}</section>
<section><h2>Anomalies et fichiers écartés</h2>{_anomalies(rollup)}</section>
</main>
<script>{SORT_JS}
(function(){{var figs={_json(figures)};
Object.keys(figs).forEach(function(k){{Plotly.newPlot(k,figs[k].data,figs[k].layout,
{{displaylogo:false,responsive:true}});}});}})();</script>
</body>
</html>
"""


def write_national_dashboard(rollup: NationalRollup, output_dir: Path) -> Path:
    """Write the national dashboard; returns its path."""
    import plotly.offline

    page = render_dashboard(rollup, plotly.offline.get_plotlyjs())
    return atomic_write_text(Path(output_dir) / dashboard_name(rollup.period), page)
