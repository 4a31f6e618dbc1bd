"""Bounded work per file (docs/securite.md): small hostile workbooks that would take gigabytes,
minutes, or abort the process are refused before any cell is read — each `validate` of one such
file, measured in its own process, stays within 10 s and 400 MB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hostile
import pytest
from factory import make_workbook

from pvd_reporting.format.matching import norm
from pvd_reporting.format.schema import Schema
from pvd_reporting.read.bounds import MAX_ROWS, MAX_SHEET_CELLS, MAX_TEXT_BYTES, SheetCost, measure

MAX_SECONDS = 10
MAX_RSS_MB = 400


@pytest.fixture(scope="module")
def base(schema: Schema, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_workbook(tmp_path_factory.mktemp("base") / "sain.xlsx", schema)


# `python -m pvd_reporting`, writing at exit its own peak memory (VmHWM, in kB) and its children's
# into the file PVD_TEST_PEAK names. The peak wait4 gives (ru_maxrss) starts from the memory of
# the process that started it: a test process grown by earlier tests would count as the child's.
_MEASURED = """
import atexit, os, resource, runpy, sys

def peak():
    with open("/proc/self/status", encoding="ascii") as status:
        own = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(os.environ["PVD_TEST_PEAK"], "w", encoding="ascii") as out:
        out.write(str(max(own, children)))

atexit.register(peak)
sys.argv[0] = "pvd_reporting"
runpy.run_module("pvd_reporting", run_name="__main__", alter_sys=True)
"""


def _run(path: Path) -> tuple[dict, float, float]:
    """`validate` of one file in its own process: its report, seconds and peak memory (MB)."""
    peak = path.with_name(path.name + ".peak")
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", _MEASURED, "validate", str(path), "--format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PVD_TEST_PEAK": str(peak)})
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    proc.wait()
    seconds = time.monotonic() - start
    assert proc.returncode in (0, 1), (proc.returncode, err.decode("utf-8", "replace")[-2000:])
    return json.loads(out), seconds, int(peak.read_text(encoding="ascii")) / 1024


def _issues(report: dict) -> list[tuple[str, str | None, str]]:
    [workbook] = report["workbooks"]
    return [(i["code"], i["sheet"], i["message"]) for i in workbook["issues"]]


HOSTILE: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    # one 32,000-character shared string shown by 20,000 cells: 640 MB of text (was 5.5 GB, 7 min)
    "chaine-partagee.xlsx": (hostile.shared_string_bomb, "file-too-large"),
    # a million rows (was 862 MB read before being refused)
    "million-de-lignes.xlsx": (hostile.many_rows, "too-many-rows"),
    # the whole grid declared, one cell
    "dimension-geante.xlsx": (hostile.huge_dimension, "sheet-too-large"),
    # A1 and XFD9000: the library aborted the process allocating 147 million cells
    "cellules-eloignees.xlsx": (hostile.far_apart, "sheet-too-large"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_xlsx_is_refused_within_10_s_and_400_mb(name: str, base: Path, tmp_path: Path) -> None:
    build, code = HOSTILE[name]
    path = build(base, tmp_path / name)
    assert path.stat().st_size < 200_000  # small files: the cost is in what they expand to
    report, seconds, rss = _run(path)
    issues = _issues(report)
    assert code in [c for c, _, _ in issues], issues
    refusal = next((c, s, m) for c, s, m in issues if c == code)
    if code != "file-too-large":
        assert refusal[1] == "Engagements" and "« Engagements »" in refusal[2]
    assert seconds <= MAX_SECONDS, f"{seconds:.1f} s"
    assert rss <= MAX_RSS_MB, f"{rss:.0f} Mo"


def test_an_ods_of_a_million_repeated_rows_is_refused_within_10_s_and_400_mb(tmp_path: Path) -> None:
    # 1,000,000 rows × 100 filled cells, in 800 bytes: the library aborted the process
    path = hostile.ods_repeated_rows(tmp_path / "repetitions.ods", rows=1_000_000, columns=100)
    report, seconds, rss = _run(path)
    [(code, _, message)] = _issues(report)
    assert code == "file-too-large" and "« Engagements »" in message
    assert seconds <= MAX_SECONDS and rss <= MAX_RSS_MB, (seconds, rss)


class _Spy:
    """A workbook of the library that records which sheets are loaded."""

    def __init__(self, book: Any, loaded: list[str]) -> None:
        self.book, self.loaded, self.sheet_names = book, loaded, book.sheet_names

    def get_sheet_by_name(self, title: str) -> Any:
        self.loaded.append(title)
        return self.book.get_sheet_by_name(title)

    def close(self) -> None:
        self.book.close()


def test_an_xls_string_bomb_is_refused_within_10_s_and_400_mb(tmp_path: Path) -> None:
    # The same 640 MB of text, in the old Excel format (BIFF8 records in an OLE2 container)
    path = hostile.xls_string_bomb(tmp_path / "chaine-partagee.xls")
    report, seconds, rss = _run(path)
    [(code, _, message)] = _issues(report)
    assert code == "file-too-large" and "50 Mo de texte" in message
    assert seconds <= MAX_SECONDS and rss <= MAX_RSS_MB, (seconds, rss)


def test_an_xls_whose_grid_is_too_large_is_refused_unread(tmp_path: Path, schema: Schema) -> None:
    from pvd_reporting.read.workbook import read_workbook

    # A1 and IV65536: 16.7 million cells, read whole by the library on opening
    data, issues = read_workbook(hostile.xls_far_apart(tmp_path / "loin.xls"), schema)
    assert data is None and [i.code for i in issues] == ["file-too-large"]
    assert "« Engagements »" in issues[0].message and "1 000 000 cellules" in issues[0].message


def test_a_sound_xls_is_measured_and_read(tmp_path: Path, schema: Schema) -> None:
    from pvd_reporting.read.bounds import measure_xls

    cells = [hostile.label_sst(0, 0, 0), hostile.label_sst(3, 2, 1), hostile.number(4, 1, 2.5)]
    path = tmp_path / "petit.xls"
    path.write_bytes(hostile.ole(hostile.xls_workbook({"Engagements": cells}, ["x" * 9000, "bonjour"])))
    cost = measure_xls(path.read_bytes())
    assert cost is not None and cost.eager
    sheet = cost.sheets["Engagements"]
    assert (sheet.height, sheet.cells, sheet.text_bytes) == (5, 15, 9007)


def test_the_refusal_comes_before_the_library_reads_a_cell(base: Path, tmp_path: Path, schema: Schema,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from pvd_reporting.read import workbook as reader

    opened: list[str] = []
    loaded: list[str] = []
    real = reader.CalamineWorkbook

    class Library:
        @staticmethod
        def from_filelike(data: Any) -> _Spy:
            opened.append("ouvert")
            return _Spy(real.from_filelike(data), loaded)

    monkeypatch.setattr(reader, "CalamineWorkbook", Library)
    # A far cell: the workbook is read, that sheet alone is never loaded.
    data, issues = reader.read_workbook(hostile.far_apart(base, tmp_path / "loin.xlsx"), schema)
    assert data is not None and "Territoire" in loaded and "Engagements" not in loaded
    assert [(i.code, i.sheet) for i in issues if i.code == "sheet-too-large"] == [("sheet-too-large", "Engagements")]
    # The text bomb: refused before the library even opens the file.
    opened.clear()
    data, issues = reader.read_workbook(hostile.shared_string_bomb(base, tmp_path / "bombe.xlsx"), schema)
    assert data is None and [i.code for i in issues] == ["file-too-large"] and opened == []
    assert f"{MAX_TEXT_BYTES // (1024 * 1024)} Mo" in issues[0].message


def _engagements_cost(path: Path) -> SheetCost:
    with zipfile.ZipFile(path) as zf:
        cost = measure(zf)
    assert cost is not None, path
    return cost.sheets["Engagements"]


def test_limits_on_a_sound_workbook_and_at_their_edge(base: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(base) as zf:
        cost = measure(zf, {norm("Listes")})
    assert cost is not None and set(cost.sheets) >= {"Territoire", "Engagements"}
    assert all(not s.too_many_rows and not s.too_many_cells for s in cost.sheets.values())
    # Exactly MAX_ROWS rows is read; one more is not.
    edge = hostile.rewrite(base, tmp_path / "bord.xlsx", {hostile.sheet_member(base, "Engagements"): hostile.sheet_xml(
        [f'<row r="{MAX_ROWS}"><c r="A{MAX_ROWS}"><v>1</v></c></row>'.encode()])})
    beyond = hostile.rewrite(base, tmp_path / "au-dela.xlsx", {hostile.sheet_member(base, "Engagements"):
                                                                hostile.sheet_xml([f'<row r="{MAX_ROWS + 1}"><c r="A{MAX_ROWS + 1}"><v>1</v></c></row>'.encode()])})
    assert not _engagements_cost(edge).too_many_rows
    assert _engagements_cost(beyond).too_many_rows
    # Cells with no value (only a style) are not counted, as the library leaves them out.
    styled = hostile.rewrite(base, tmp_path / "styles.xlsx", {hostile.sheet_member(base, "Engagements"):
                                                              hostile.sheet_xml([b'<row r="1"><c r="A1"><v>1</v></c></row>',
                                                                                 b'<row r="50000"><c r="Z50000" s="1"/></row>'])})
    sheet = _engagements_cost(styled)
    assert sheet.height == 1 and not sheet.too_many_cells and MAX_SHEET_CELLS > 0


@pytest.mark.parametrize(("rows", "refused"), [
    # references beyond Excel's grid, which the library still lays out
    ([f'<row r="{i}"><c r="A{i}"><v>1</v></c><c r="ZZZZ{i}"><v>1</v></c></row>' for i in range(1, 61)], "cells"),
    (['<row r="1"><c r="A1"><v>1</v></c></row>', '<row r="4294967295"><c r="B4294967295"><v>1</v></c></row>'],
     "rows"),
    # cells with no reference, placed one after the other
    (["<row>" + "<c><v>1</v></c>" * 2 + "</row>", '<row r="60">' + "<c><v>1</v></c>" * 20_000 + "</row>"], "cells"),
    # prefixed tags, as some writers put them
    (['<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row>',
      '<x:row r="9000"><x:c r="XFD9000"><x:v>1</x:v></x:c></x:row>'], "cells"),
])
def test_every_way_of_placing_a_far_cell_is_measured(rows: list[str], refused: str, base: Path,
                                                     tmp_path: Path) -> None:
    path = hostile.rewrite(base, tmp_path / "loin.xlsx", {
        hostile.sheet_member(base, "Engagements"): hostile.sheet_xml([r.encode() for r in rows])})
    sheet = _engagements_cost(path)
    if refused == "rows":
        assert sheet.too_many_rows
    else:
        assert sheet.too_many_cells and not sheet.too_many_rows


def test_docs_securite_states_every_limit_and_code() -> None:
    from pvd_reporting.format.french import fr_int
    from pvd_reporting.read.bounds import MAX_SHEET_XML_BYTES
    from pvd_reporting.read.containers import MAX_ROW_XML_BYTES, MAX_SHARED_STRINGS
    from pvd_reporting.read.safety import MAX_FILE_BYTES, MAX_UNCOMPRESSED_BYTES, MAX_ZIP_MEMBERS

    text = (Path(__file__).parents[1] / "docs" / "securite.md").read_text(encoding="utf-8")
    for count in (MAX_ROWS, MAX_SHEET_CELLS, MAX_SHARED_STRINGS, MAX_ZIP_MEMBERS):
        assert f"| {fr_int(count)} " in text, count
    for size in (MAX_FILE_BYTES, MAX_UNCOMPRESSED_BYTES, MAX_TEXT_BYTES, MAX_ROW_XML_BYTES, MAX_SHEET_XML_BYTES):
        assert f"| {size // (1024 * 1024)} Mo |" in text, size
    for code in ("file-too-large", "too-many-rows", "sheet-too-large", "unreadable-sheet", "unreadable-file",
                 "encrypted-file",
                 "invalid-number", "macros", "external-links", "dde-link"):
        assert f"`{code}`" in text, code
    for heading in ("## Brouillons de relance", "## Dossier de sortie", "## Fichiers d'historique"):
        assert heading in text


def test_an_xlsb_is_never_handed_to_the_library(tmp_path: Path, schema: Schema) -> None:
    from pvd_reporting.read.workbook import read_workbook

    path = tmp_path / "binaire.xlsb"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("xl/workbook.bin", b"\x83\x01\x00")
    data, issues = read_workbook(path, schema)
    assert data is None and [i.code for i in issues] == ["unreadable-file"] and ".xlsb" in issues[0].message


def test_a_sheet_of_empty_styled_cells_beyond_64_mb_is_not_parsed(base: Path, tmp_path: Path, schema: Schema) -> None:
    from pvd_reporting.read.bounds import MAX_SHEET_XML_BYTES
    from pvd_reporting.read.workbook import read_workbook

    row = b'<row r="1">' + b'<c r="A1" s="1"/>' * 5_000 + b"</row>"
    rows = (row for _ in range(MAX_SHEET_XML_BYTES // len(row) + 1))
    path = hostile.rewrite(base, tmp_path / "styles.xlsx", {hostile.sheet_member(base, "Engagements"):
                                                            hostile.sheet_xml(rows)})
    data, issues = read_workbook(path, schema)
    assert data is not None  # the other sheets are read
    [refused] = [i for i in issues if i.code == "sheet-too-large"]
    assert refused.sheet == "Engagements" and "64 Mo une fois décompressé" in refused.message


def test_an_ods_is_measured_as_the_library_lays_it_out(tmp_path: Path) -> None:
    value = '<table:table-cell office:value-type="float" office:value="1"/>'
    empty = "<table:table-cell/>"
    body = (f"<table:table-row>{empty}{value}</table:table-row>"  # row 0: column B
            f'<table:table-row table:number-rows-repeated="2">{value}</table:table-row>'  # rows 1-2: A
            '<table:table-row table:number-rows-repeated="1000"><table:table-cell '
            'table:number-columns-repeated="1024"/></table:table-row>'  # styled, empty: not counted
            f'<table:table-row><table:covered-table-cell/><table:table-cell table:number-columns-repeated="3" '
            'office:value-type="string"><text:p>abc</text:p></table:table-cell></table:table-row>')  # row 1003: B-D
    sheet = _engagements_cost(hostile.ods(tmp_path / "mesure.ods", body))
    assert (sheet.first_row, sheet.height, sheet.first_col, sheet.last_col) == (0, 1004, 0, 3)
    assert sheet.cells == 1004 * 4 and sheet.text_bytes > 0


@pytest.mark.parametrize("serial", [1e308, -1.1e11])
def test_a_date_beyond_any_calendar_is_named_not_handed_to_the_library(
        serial: float, base: Path, tmp_path: Path, schema: Schema, capfd: pytest.CaptureFixture[str]) -> None:
    from factory import cell_of
    from openpyxl import load_workbook

    from pvd_reporting.read.workbook import read_workbook

    wb = load_workbook(base)
    cell = cell_of(base, schema, "engagements", 0, "start_on")
    wb["Engagements"][cell].value = serial
    wb["Engagements"][cell].number_format = "DD/MM/YYYY"  # the library would convert it, and abort
    path = tmp_path / "date.xlsx"
    wb.save(path)
    data, issues = read_workbook(path, schema)
    [refused] = [i for i in issues if i.code == "unreadable-sheet"]
    assert (refused.sheet, refused.cell) == ("Engagements", cell) and "ne correspond à aucun jour" in refused.message
    assert data is not None and data.territory.values.get("name")  # the other sheets are read
    assert "panicked" not in capfd.readouterr().err
