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
from pvd_reporting.read.bounds import MAX_ROWS, MAX_SHEET_CELLS, MAX_TEXT_BYTES, measure

MAX_SECONDS = 10
MAX_RSS_MB = 400


@pytest.fixture(scope="module")
def base(schema: Schema, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_workbook(tmp_path_factory.mktemp("base") / "sain.xlsx", schema)


def _run(path: Path) -> tuple[dict, float, float]:
    """As `_validate_measured`, reaping the child with os.wait4 to read its own peak memory."""
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "pvd_reporting", "validate", str(path), "--format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read()  # type: ignore[union-attr]
    err = proc.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - start
    assert proc.returncode in (0, 1), (proc.returncode, err.decode("utf-8", "replace")[-2000:])
    return json.loads(out), seconds, usage.ru_maxrss / 1024


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
    with zipfile.ZipFile(edge) as zf:
        assert not measure(zf).sheets["Engagements"].too_many_rows  # type: ignore[union-attr]
    with zipfile.ZipFile(beyond) as zf:
        assert measure(zf).sheets["Engagements"].too_many_rows  # type: ignore[union-attr]
    # Cells with no value (only a style) are not counted, as the library leaves them out.
    styled = hostile.rewrite(base, tmp_path / "styles.xlsx", {hostile.sheet_member(base, "Engagements"):
                                                              hostile.sheet_xml([b'<row r="1"><c r="A1"><v>1</v></c></row>',
                                                                                 b'<row r="50000"><c r="Z50000" s="1"/></row>'])})
    with zipfile.ZipFile(styled) as zf:
        sheet = measure(zf).sheets["Engagements"]  # type: ignore[union-attr]
    assert sheet.height == 1 and not sheet.too_many_cells and MAX_SHEET_CELLS > 0
