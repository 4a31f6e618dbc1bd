"""The summary workbook read back from its own XML and compared with a snapshot, as the template is
(tests/test_template_snapshot.py): sheets, print setup, frozen panes, column formats, every cell
with its number format, conditional formats, Excel tables and charts. Nothing that depends on a
timestamp (the workbook's date is pinned) or on xlsxwriter's bookkeeping (docProps/app.xml,
style indexes resolved to their number format) is compared.

xmlrows.py rewrites xlsxwriter's sheet XML with regular expressions: a new xlsxwriter that
writes it differently shows here first (pyproject pins it below its next major version).

    PVD_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_summary_snapshot.py   # accept a change
"""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from snapshot import WORKBOOK_FILE, matches_snapshots, sheet_file
from test_figures import _consolidation as small_consolidation
from test_summary import _consolidation
from test_template_snapshot import NS, describe_workbook

from pvd_reporting.consolidate.view import Consolidation, History
from pvd_reporting.format.schema import Schema
from pvd_reporting.outputs.summary.workbook import write_summary

C = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
     "a": "http://schemas.openxmlformats.org/drawingml/2006/main"}


def _with_history(schema: Schema) -> Consolidation:
    """The summary test's consolidation, with a T-1 so that `T-1` and `Évolution` have values."""
    now = _consolidation(schema)
    before = small_consolidation(schema, "2025-T3", cost=1000.0)
    now.history = History(current=now.region.period, periods={"2025-T3": before, now.region.period: now},
                          previous="2025-T3")
    return now


def _related(zf: zipfile.ZipFile, part: str, kind: str) -> list[str]:
    """The parts `part` refers to by a relationship of type `kind` (`table`, `drawing`, `chart`),
    in the order of their names."""
    folder, _, name = part.rpartition("/")
    rels = f"{folder}/_rels/{name}.rels"
    if rels not in zf.namelist():
        return []
    found = [posixpath.normpath(posixpath.join(folder, r.get("Target", "")))
             for r in ET.fromstring(zf.read(rels)).iterfind("rel:Relationship", NS)
             if r.get("Type", "").endswith(f"/{kind}")]
    return sorted(found, key=lambda n: (len(n), n))


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its part, as the workbook lists them."""
    workbook = ET.fromstring(zf.read("xl/workbook.xml"))
    rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iterfind("rel:Relationship", NS)}
    parts: dict[str, str] = {}
    for sheet in workbook.iterfind("m:sheets/m:sheet", NS):
        target = targets[sheet.get("{" + NS["r"] + "}id")]
        parts[sheet.get("name", "")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return parts


def describe_tables_and_charts(path: Path) -> dict[str, list[str]]:
    """By sheet: each Excel table (name, range, headers) and each chart (kind, title, series' ranges)."""
    out: dict[str, list[str]] = {}
    with zipfile.ZipFile(path) as zf:
        for sheet, part in _sheet_parts(zf).items():
            lines = out.setdefault(sheet, [])
            for name in _related(zf, part, "table"):
                table = ET.fromstring(zf.read(name))
                headers = [c.get("name") for c in table.iterfind("m:tableColumns/m:tableColumn", NS)]
                style = table.find("m:tableStyleInfo", NS)
                lines.append(f"table {table.get('name')} ref={table.get('ref')} "
                             f"style={style.get('name') if style is not None else None} headers={headers}")
            charts = [c for drawing in _related(zf, part, "drawing") for c in _related(zf, drawing, "chart")]
            for name in charts:
                chart = ET.fromstring(zf.read(name))
                plot = chart.find("c:chart/c:plotArea", C)
                assert plot is not None
                kinds = [child.tag.split("}")[1] for child in plot if child.tag.endswith("Chart")]
                title = "".join(t.text or "" for t in chart.iterfind("c:chart/c:title//a:t", C))
                lines.append(f"chart {kinds} title={title!r}")
                for ser in plot.iterfind(".//c:ser", C):
                    refs = [f"{part}={ser.findtext(f'c:{part}//c:f', '', C)}" for part in ("tx", "cat", "val")]
                    lines.append("  series " + " ".join(refs))
    return out


def snapshot_files(path: Path) -> dict[str, str]:
    """`workbook.txt` (parts, sheets, defined names, properties) and one file per sheet: its
    structure, its cells, then its Excel tables and charts."""
    def header(of: str) -> list[str]:
        return [f"# The summary workbook, {of}: read from its XML by tests/test_summary_snapshot.py.",
                "# Regenerate with: PVD_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_summary_snapshot.py", ""]

    description = describe_workbook(path)
    objects = describe_tables_and_charts(path)
    files = {WORKBOOK_FILE: "\n".join([*header("the workbook"), *description.head, ""])}
    for name, structure, cells in description.sheets:
        files[sheet_file(name)] = "\n".join([
            *header(f"sheet {name}"), f"--- sheet {name}", *("  " + line for line in structure),
            *("  " + line for line in cells), "--- tables and charts", *objects.get(name, []), ""])
    assert len(files) == 1 + len(description.sheets)  # no two sheets share a file
    return files


def snapshot_text(path: Path) -> str:
    """Every file of the snapshot, one after the other."""
    return "\n".join(snapshot_files(path).values())


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory, schema: Schema) -> Path:
    return write_summary(_with_history(schema), tmp_path_factory.mktemp("summary") / "synthese.xlsx", schema)


def test_summary_matches_the_snapshot(summary: Path) -> None:
    matches_snapshots(snapshot_files(summary), "summary", "The summary workbook", __file__)


def test_the_description_sees_what_matters(summary: Path) -> None:
    # A reader that silently found nothing would make the snapshot meaningless.
    text = snapshot_text(summary)
    for sheet in ("Synthèse", "Territoires", "Engagements", "Anomalies", "Sources", "Évolution", "Changements"):
        assert f"--- sheet {sheet}" in text, sheet
    assert "'T-1 (2025-T3)'" in text and "'Classeurs sans erreur'" in text
    assert "pane: state=frozen xSplit=2 ySplit=1 topLeftCell=C2" in text
    assert "table T_territoires" in text and "chart ['barChart']" in text
    assert "conditional format:" in text and "dd/mm/yyyy" in text


def test_the_snapshot_does_not_depend_on_the_day(schema: Schema, tmp_path: Path) -> None:
    # Written twice: the same description (no timestamp, no random name).
    again = write_summary(_with_history(schema), tmp_path / "again.xlsx", schema)
    first = write_summary(_with_history(schema), tmp_path / "first.xlsx", schema)
    assert snapshot_files(again) == snapshot_files(first)
    with zipfile.ZipFile(first) as zf:
        core = zf.read("docProps/core.xml").decode()
    assert "2000-01-01" in core  # the pinned creation date, not today's
