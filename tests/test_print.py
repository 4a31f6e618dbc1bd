"""What managers read and print (README, La note et l'impression): the demo's one-page note and
dashboard printed by Chromium, its summary by LibreOffice, checked for pages, for the names on
every chart and for type size; and one meaning per colour across every figure.

`pdftotext -bbox` gives each word's box: in Chromium's PDF a box is 1.164 times the type size.
With PVD_PRINT_IMAGES=docs (see `make screenshot`), the printed pages are also written as the
README's PNG images.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import statistics
import subprocess
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from dashboard_fixtures import build_consolidation

from pvd_reporting.consolidate.figures import department_figures, region_figures
from pvd_reporting.format.schema import NOT_FILLED, NOT_RECEIVED, ORT_STATUSES, Schema
from pvd_reporting.outputs import browser, palette
from pvd_reporting.outputs.dashboard.page import render_dashboard
from pvd_reporting.outputs.dashboard.page_figures import chart_table
from pvd_reporting.outputs.dashboard.plots import build_figures, status_map
from pvd_reporting.outputs.dashboard.trends import trend_figures
from pvd_reporting.outputs.note import financer_bars, print_in_session, render_note
from pvd_reporting.pipeline.consolidate import ConsolidationRun, run_consolidate

REPO = Path(__file__).resolve().parent.parent
WORKBOOKS = REPO / "workbooks"
BOX_PER_POINT = 1.164  # Chromium: a word's box height per point of type


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, reference_csv: Path) -> ConsolidationRun:
    out = tmp_path_factory.mktemp("demo-print")
    return run_consolidate(WORKBOOKS, output_dir=out, reference_path=reference_csv, images=False, use_cache=False)


def _out(run: ConsolidationRun) -> Path:
    return next(p for p in run.written if p.name.startswith("tableau-de-bord")).parent


# --- one meaning per colour ---------------------------------------------------------------------

ORT_OWNERS = {palette.ORT_COLORS[s].upper(): s for s in (*ORT_STATUSES, NOT_RECEIVED, NOT_FILLED)}


def _colours(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


def figure_colours(fig: Any) -> list[tuple[str, str]]:
    """(colour, what it means) for every bar, line and area of a figure: a trace's colour means
    its name; a trace coloured bar by bar means each bar's category."""
    data = fig["data"] if isinstance(fig, dict) else fig.to_dict()["data"]
    pairs = []
    for trace in data:
        name = html.unescape(str(trace.get("name") or ""))
        marker = trace.get("marker") or {}
        colours = _colours(marker.get("color"))
        if len(colours) > 1:
            categories = trace.get("y") if trace.get("orientation") == "h" else trace.get("x")
            pairs += [(c, html.unescape(str(k))) for c, k in zip(colours, categories or [], strict=False)]
        else:
            pairs += [(c, name) for c in colours]
        if trace.get("fill") == "toself":
            pairs += [(c, name) for c in _colours(trace.get("fillcolor"))]
        if trace.get("type") == "scatter" and "lines" in str(trace.get("mode")) and trace.get("fill") != "toself":
            pairs += [(c, name) for c in _colours((trace.get("line") or {}).get("color"))]
    return pairs


def misused(pairs: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(colour, its ORT status, what else it is used for)."""
    return [(c, ORT_OWNERS[c.upper()], meaning) for c, meaning in pairs
            if c.upper() in ORT_OWNERS and meaning != ORT_OWNERS[c.upper()]]


def every_colour(run: ConsolidationRun, schema: Schema) -> list[tuple[str, str]]:
    cons = run.result
    figures: dict[str, Any] = {**build_figures(cons, schema=schema), **trend_figures(cons),
                               "carte": status_map(cons).figure}
    pairs = [pair for fig in figures.values() for pair in figure_colours(fig)]
    pairs += [(b.color, b.name) for b in financer_bars(cons, schema) if not b.hatched]
    pairs += [(c, status) for status, c in palette.ACTION_COLORS.items()]
    pairs += [(palette.NEEDS_COLOR, "Besoins"), (palette.MONEY_COLOR, "Montants")]
    return pairs


def test_an_ort_status_colour_means_that_status_everywhere(demo: ConsolidationRun, schema: Schema) -> None:
    pairs = every_colour(demo, schema)
    assert len(pairs) > 60, "the colours of every chart, the map and the note are collected"
    assert any(meaning == "Autofinancement" for _, meaning in pairs)
    assert misused(pairs) == []


def test_a_financer_in_a_status_colour_is_caught(demo: ConsolidationRun, schema: Schema,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    green = palette.ORT_COLORS[ORT_STATUSES[0]]
    monkeypatch.setattr(palette, "FINANCER_COLORS", (green, *palette.FINANCER_COLORS[1:]))
    found = misused(every_colour(demo, schema))
    assert found and {status for _, status, _ in found} == {ORT_STATUSES[0]}
    assert any("État" in meaning for _, _, meaning in found)


def test_count_axes_have_whole_ticks_and_stacked_legends_follow_the_stack(demo: ConsolidationRun,
                                                                        schema: Schema) -> None:
    figures = {**build_figures(demo.result, schema=schema), **trend_figures(demo.result)}
    counted = 0
    for name, fig in figures.items():
        layout = fig.to_dict()["layout"]
        for axis_name, axis in layout.items():
            if not axis_name.startswith(("xaxis", "yaxis")) or axis.get("tickmode") != "linear":
                continue
            counted += 1
            assert float(axis["dtick"]).is_integer() and axis.get("tickformat") == "d", (name, axis_name)
        vertical_stack = layout.get("barmode") == "stack" and all(
            t.get("orientation") != "h" for t in fig.to_dict()["data"])
        if vertical_stack:
            # The first trace is the bottom of the stack: the legend lists it last.
            assert layout["legend"]["traceorder"] == "reversed" and layout["legend"]["orientation"] == "v", name
    assert counted >= 6


def test_bars_without_an_order_of_their_own_are_sorted_by_value(demo: ConsolidationRun, schema: Schema) -> None:
    figures = build_figures(demo.result, schema=schema)
    money = figures["financements-par-financeur"].data[0]
    assert list(money.x) == sorted(money.x, reverse=True)
    bars = financer_bars(demo.result, schema)
    assert bars[-1].hatched and [b.name for b in bars[:-1]] == [html.unescape(y) for y in money.y]


# --- money a manager compares --------------------------------------------------------------------

def test_per_inhabitant_shares_and_rows_in_error_are_figures(demo: ConsolidationRun, schema: Schema) -> None:
    figures = region_figures(demo.result, schema)
    region = demo.result.region
    assert figures.value("population") > 0
    assert figures.value("per_inhabitant") == pytest.approx(region.cost / figures.value("population"), abs=0.01)
    shares = [f.value for f in figures if f.key.startswith("share:")]
    assert sum(shares) == pytest.approx(1.0)
    # The demo has actions on rows flagged with an error: their cost is stated, and within the total.
    assert 0 < figures.value("cost_error_rows") <= region.cost
    by_department = department_figures(demo.result)
    assert sum(d.expected for d in by_department) == 99
    assert sum(d.missing for d in by_department) == region.missing
    assert sum(d.cost for d in by_department) == pytest.approx(region.cost)


# --- the note --------------------------------------------------------------------------------------

def _pdftotext(*args: str) -> str:
    tool = shutil.which("pdftotext")
    if not tool:
        pytest.skip("pdftotext (poppler-utils) absent")
    return subprocess.run([tool, *args], capture_output=True, text=True, check=True).stdout


def _pages(pdf: Path) -> int:
    tool = shutil.which("pdfinfo")
    if not tool:
        pytest.skip("pdfinfo (poppler-utils) absent")
    info = subprocess.run([tool, str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = re.search(r"^Pages:\s+(\d+)", info, flags=re.M)
    assert pages, info
    return int(pages.group(1))


def _heights(pdf: Path) -> list[float]:
    """Each word's box height, in points."""
    out = _pdftotext("-bbox", str(pdf), "-")
    return [float(b) - float(a) for a, b in re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', out)]


def _flat(text: str) -> str:
    """Text without spaces or line breaks, so a name broken across lines still matches."""
    return re.sub(r"\s+", "", html.unescape(text))


def _images(pdf: Path, name: str, pages: list[int]) -> None:
    """The README's images of printed pages (PVD_PRINT_IMAGES=folder)."""
    folder = os.environ.get("PVD_PRINT_IMAGES")
    tool = shutil.which("pdftoppm")
    if not folder or not tool:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for page in pages:
        suffix = "" if len(pages) == 1 else f"-{page}"
        subprocess.run([tool, "-png", "-r", "60", "-f", str(page), "-l", str(page), "-singlefile", str(pdf),
                        str(Path(folder) / f"{name}{suffix}")], check=True, timeout=60)


def test_the_note_is_self_contained_and_offline(demo: ConsolidationRun, schema: Schema) -> None:
    page = render_note(demo.result, schema)
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "<svg" in page and "T-1 (2025-T3)" in page and "Points d'attention" in page
    # T-1, now and their change on one perimeter, and the note says which.
    assert "À périmètre constant (11 territoires)" in page
    assert "T-1 à périmètre constant : les 11 territoires reçus aux deux trimestres" in page
    note = next(p for p in demo.written if p.name == "note-2025-T4.html")
    assert note.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_the_note_is_a_note_with_points_from_current_alerts(demo: ConsolidationRun, schema: Schema) -> None:
    from pvd_reporting.outputs.note import figure_rows

    page = html.unescape(render_note(demo.result, schema))
    assert "Préfecture de la région Grand Est — SGAR" in page and "Objet :" in page
    points = re.findall(r"<li>(.*?)</li>", re.search(r'<ol class="points">(.*?)</ol>', page, re.S).group(1))  # type: ignore[union-attr]
    assert 3 <= len(points) <= 5
    assert points[0].startswith("Échéance ORT dépassée pour")
    # Molsheim sent in 2025-T3, not in 2025-T4: it stopped sending.
    assert any(p.startswith("A cessé d'envoyer") and "Molsheim" in p for p in points)
    assert any(p.startswith("Classeurs non reçus : 87 territoires") for p in points)
    # Four ORT were signed late, all before this quarter: counted among the figures, not alerts.
    assert "ORT signée en retard" not in page
    # Each line's change is the difference of the two values it shows (one perimeter).
    figures = region_figures(demo.result, schema)
    signed = next(r for r in figure_rows(figures) if r["label"] == figures["ort_signed"].short)
    f = figures["ort_signed"]
    assert (signed["before"], signed["now"]) == (str(f.constant_previous), str(f.constant_current))


def test_the_issuing_service_comes_from_the_configuration(demo: ConsolidationRun, schema: Schema) -> None:
    import dataclasses

    from pvd_reporting.format.schema import build_schema

    config = dataclasses.replace(schema.config, note_service="Préfecture de l'Aube — DDT")
    page = html.unescape(render_note(demo.result, build_schema(config)))
    assert '<div class="service" id="service">Préfecture de l\'Aube — DDT</div>' in page


def _printed(page: Path, pdf: Path, chromium: str) -> bool:
    """`page` printed as consolidate prints the note, in a browser closed after it."""
    try:
        return print_in_session(page, pdf, chromium)
    finally:
        browser.stop()


@pytest.mark.browser
def test_the_note_prints_on_one_a4_page(demo: ConsolidationRun, schema: Schema, chromium: str) -> None:
    out = _out(demo)
    pdf = out / "note-imprimee.pdf"
    assert _printed(out / "note-2025-T4.html", pdf, chromium)
    assert _pages(pdf) == 1
    heights = _heights(pdf)
    assert round(min(heights) / BOX_PER_POINT, 1) >= 8
    text = _flat(_pdftotext(str(pdf), "-"))
    region = demo.result.region
    for name in (*(b.name for b in financer_bars(demo.result, schema)), "Givet", "Creutzwald", "Marne(51)",
                 "Pointsd'attention", "T-1(2025-T3)", f"{region.received}"):
        assert _flat(name) in text, name
    _images(pdf, "note", [1])


# --- the dashboard on paper --------------------------------------------------------------------------

def test_a_chart_too_dense_for_paper_prints_as_a_table(schema: Schema) -> None:
    cons = build_consolidation(120)
    figures = build_figures(cons, schema=schema)
    dense = {name for name, fig in figures.items() if chart_table(fig) is not None}
    assert "echeances" in dense and "statut-ort-par-departement" not in dense
    page = render_dashboard(cons, schema)
    table = re.search(r'<div class="print-only chart-table narrow" id="t-echeances">(.*?)</div>', page, flags=re.S)
    assert table is not None
    shown = [t for t in cons.territories if t.received and t.days_left is not None]
    assert all(html.escape(t.name) in table.group(1) for t in shown)
    assert 'class="chart dense" id="c-echeances"' in page


@pytest.mark.browser
def test_the_dashboard_prints_legibly_and_names_every_bar(demo: ConsolidationRun, schema: Schema,
                                                          chromium: str) -> None:
    out = _out(demo)
    pdf = out / "tableau-imprime.pdf"
    assert _printed(out / "tableau-de-bord-2025-T4.html", pdf, chromium)
    assert _pages(pdf) <= 8
    heights = _heights(pdf)
    assert statistics.median(heights) / BOX_PER_POINT >= 7
    assert min(heights) / BOX_PER_POINT >= 5
    text = _flat(_pdftotext(str(pdf), "-"))
    for name, fig in build_figures(demo.result, schema=schema).items():
        for axis in ("xaxis", "yaxis", "yaxis2"):
            layout = fig.to_dict()["layout"].get(axis) or {}
            for label in layout.get("ticktext") or []:
                assert _flat(str(label)) in text, (name, label)
    # The territories received are rows; those not received one list of names.
    assert "Sansclasseurpour2025-T4(88)" in text and "Vouziers" in text
    assert text.count("Nonreçu") < 10
    _images(pdf, "impression-tableau-de-bord", [1, 4])


# --- the summary on paper ------------------------------------------------------------------------------

def _sheet_pages(pdf: Path) -> dict[str, int]:
    """Pages per sheet, from the footer each page carries (« Synthèse … Page 2 / 30 »)."""
    counts: dict[str, int] = {}
    for page in range(1, _pages(pdf) + 1):
        lines = [line for line in _pdftotext("-layout", "-f", str(page), "-l", str(page), str(pdf), "-").splitlines()
                 if re.search(r"Page \d+ / \d+", line)]
        sheet = lines[-1].split()[0] if lines else "?"
        counts[sheet] = counts.get(sheet, 0) + 1
    return counts


def test_the_summary_prints_in_few_pages(demo: ConsolidationRun, soffice: str, tmp_path: Path) -> None:
    summary = next(p for p in demo.written if p.name.startswith("synthese-pvd"))
    profile = f"file:///tmp/pvd-soffice-{uuid.uuid4().hex}"
    subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(summary)], capture_output=True, timeout=300, check=False)
    pdf = tmp_path / f"{summary.stem}.pdf"
    assert pdf.is_file(), "LibreOffice wrote no PDF"
    pages = _sheet_pages(pdf)
    assert pages["Synthèse"] <= 3 and pages["Territoires"] <= 8, pages
    _images(pdf, "impression-synthese", [1])


def test_every_summary_sheet_is_fitted_to_the_page_width(demo: ConsolidationRun) -> None:
    summary = next(p for p in demo.written if p.name.startswith("synthese-pvd"))
    with zipfile.ZipFile(summary) as z:
        sheets = [n for n in z.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)]
        for name in sheets:
            xml = z.read(name).decode()
            assert '<pageSetUpPr fitToPage="1"/>' in xml, name
            assert 'fitToHeight="0"' in xml and 'orientation="landscape"' in xml, name
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
        drawing = z.read("xl/drawings/drawing1.xml").decode()
        synthesis = z.read("xl/worksheets/sheet1.xml").decode()
    # Native charts label values only: never the series or the category.
    labelled = [c for c in charts if "<c:dLbls>" in c]
    assert labelled and all('<c:showVal val="1"/>' in c and '<c:showSerName val="1"/>' not in c
                            and '<c:showCatName val="1"/>' not in c for c in labelled)
    # The charts sit below the tables, after the page break: none is cut across two pages.
    found = re.search(r'<rowBreaks[^>]*><brk id="(\d+)"', synthesis)
    assert found, "no page break in the Synthèse sheet"
    page_break = int(found.group(1))
    tops = [int(r) for r in re.findall(r"<xdr:from><xdr:col>\d+</xdr:col><xdr:colOff>\d+</xdr:colOff><xdr:row>(\d+)",
                                       drawing)]
    assert tops and min(tops) >= page_break


def test_a_rerun_without_images_leaves_no_stale_note_pdf(demo: ConsolidationRun, schema: Schema,
                                                        tmp_path: Path) -> None:
    from pvd_reporting.outputs.note import write_note

    (tmp_path / "note-2025-T4.pdf").write_bytes(b"%PDF- of an earlier run")
    written = write_note(demo.result, tmp_path, schema, pdf=False)
    assert [p.name for p in written] == ["note-2025-T4.html"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["note-2025-T4.html"]


@pytest.mark.browser
def test_consolidate_writes_the_note_pdf_beside_its_page(demo: ConsolidationRun, schema: Schema, chromium: str,
                                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pvd_reporting.outputs.note import write_note

    monkeypatch.setenv("BROWSER_PATH", chromium)
    written = write_note(demo.result, tmp_path, schema, pdf=True)
    assert [p.name for p in written] == ["note-2025-T4.html", "note-2025-T4.pdf"]
    assert (tmp_path / "note-2025-T4.pdf").read_bytes().startswith(b"%PDF-")
    assert _pages(tmp_path / "note-2025-T4.pdf") == 1
