"""The speed mechanisms change no output (README, Vitesse).

Each run is made twice in one test: once with every mechanism turned off (no skeleton: every
workbook written whole by the writer; xlsxwriter's own formula preparation; figures rebuilt for
each output; no cache), once with all of them on (and `consolidate` a second time, warm, from
the cache the first filled). Compared: the cell values of every workbook written (summary,
templates, carried-forward workbooks, mail attachments), every row of `historique-pvd.sqlite`
but its time stamp, the anomalies and reminders files, and each draft's text.
"""

from __future__ import annotations

import email
import io
import sqlite3
import zipfile
from email import policy
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook
from xlsxwriter.worksheet import Worksheet

from pvd_reporting.cache import REPORTS_FOLDER, SUFFIX
from pvd_reporting.format.reference import SHIPPED_REFERENCE
from pvd_reporting.outputs.dashboard import plots
from pvd_reporting.outputs.workbook import prepared, skeleton
from pvd_reporting.pipeline.consolidate import run_consolidate
from pvd_reporting.pipeline.template import run_template

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "workbooks"
REFERENCE = SHIPPED_REFERENCE  # the ANCT list of 2021, shipped with the package


def workbook_values(data: bytes) -> dict[str, list[list[Any]]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def database_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        rows = {t: sorted(db.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables if t != "meta"}
    # When each period was published, like `meta`'s written_at, is the run's time, not its content.
    rows["publications"] = [(p, v, None, *rest) for p, v, _, *rest in rows.get("publications", [])]
    return rows


def outputs(folder: Path) -> dict[str, Any]:
    """Every output under `folder`, by its path, as values that do not depend on the writing."""
    found: dict[str, Any] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if path.suffix == ".xlsx":
            found[name] = workbook_values(path.read_bytes())
        elif path.suffix == ".sqlite":
            found[name] = database_rows(path)
        elif path.suffix in (".csv", ".json"):
            found[name] = path.read_text(encoding="utf-8-sig")
        elif path.suffix == ".eml":
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            parts = [message["Subject"], message["To"]]
            for part in message.walk():
                if part.get_content_type() == "text/plain":
                    parts.append(part.get_content())
                elif part.get_filename():
                    payload = part.get_payload(decode=True)
                    assert isinstance(payload, bytes)
                    parts.append((part.get_filename(), workbook_values(payload)))
            found[name] = parts
    return found


def everything(tmp: Path, *, cache: bool) -> dict[str, Any]:
    reference = REFERENCE
    run = run_consolidate([DEMO], output_dir=tmp / "consolidation", reference_path=reference, images=False,
                          cache_dir=tmp / "cache" if cache else None, use_cache=cache)
    assert run.written
    # The demo's twelve territories carried forward (the région's never-received ones would be
    # pre-filled workbooks again, compared just below on one département).
    run_template(from_paths=[DEMO], output_dir=tmp / "reconduits", reference_path=reference, force=True)
    # One département's territories: the same skeleton as the whole region's, a tenth of the time.
    run_template(region="Grand Est", reference_path=reference, output_dir=tmp / "region", period="2026-T1",
                 force=True, departments=["54"])
    return {part: outputs(tmp / part) for part in ("consolidation", "reconduits", "region")}


@pytest.fixture()
def slow(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every speed mechanism off, as before them."""
    def off() -> None:
        monkeypatch.setattr(skeleton, "fill", lambda schema, content: None)
        monkeypatch.setattr(prepared.PreparedWorksheet, "_prepare_formula", Worksheet._prepare_formula)
        monkeypatch.setattr(prepared.PreparedWorksheet, "set_column_pixels", Worksheet.set_column_pixels)
        monkeypatch.setattr(prepared.PreparedWorksheet, "_write_col_info", Worksheet._write_col_info)
        monkeypatch.setattr(plots, "remembered", lambda consolidation, what, build: build())
    return off


def test_outputs_are_the_same_with_and_without_the_speed_mechanisms(tmp_path: Path, slow: Any) -> None:
    fast_cold = everything(tmp_path / "rapide", cache=True)
    assert list((tmp_path / "rapide" / "cache" / REPORTS_FOLDER).glob(f"*{SUFFIX}"))
    fast_warm = everything(tmp_path / "rapide", cache=True)
    slow()
    before = everything(tmp_path / "avant", cache=False)
    for part in before:
        assert set(before[part]) == set(fast_cold[part]), part
        for name in before[part]:
            assert before[part][name] == fast_cold[part][name], f"{part}/{name}"
            assert fast_cold[part][name] == fast_warm[part][name], f"{part}/{name} (à chaud)"
    assert any(name.endswith(".eml") for name in before["consolidation"])


def test_a_wide_column_range_is_written_as_one_range(tmp_path: Path) -> None:
    """Stored as one range, the columns to the last one give the same columns as xlsxwriter's,
    including a narrower range set over part of it afterwards and a range beyond the last column;
    the sheet's dimension is that of its cells, not the columns' last one."""
    import re

    import xlsxwriter

    def sheet_xml(book_class: Any, name: str) -> str:
        path = tmp_path / name
        wb = book_class(str(path))
        ws = wb.add_worksheet("Engagements")
        grey = wb.add_format({"locked": False, "num_format": "#,##0"})
        ws.set_column(0, 2, 20, grey)
        ws.set_column(3, 16_383, None, grey)
        ws.set_column(100, 120, None, None, {"hidden": True})
        assert ws.set_column(5, 16_384, None, grey) == -1
        ws.set_column(200, 16_383, None, wb.add_format({"locked": False}))
        ws.write_comment(3, 3, "au bout")
        ws.write(0, 0, "x")
        ws.write(4, 2, 12.5)
        wb.close()
        with zipfile.ZipFile(path) as zf:
            return (zf.read("xl/worksheets/sheet1.xml") + zf.read("xl/drawings/vmlDrawing1.vml")).decode()

    plain = sheet_xml(xlsxwriter.Workbook, "plain.xlsx")
    ours = sheet_xml(prepared.PreparedWorkbook, "prepared.xlsx")
    assert '<col min="201" max="16384"' in plain
    assert re.findall("<cols>.*</cols>", ours) == re.findall("<cols>.*</cols>", plain)
    assert '<dimension ref="A1:XFD5"/>' in plain
    assert '<dimension ref="A1:D5"/>' in ours
    # Everything else, the comment's box included, is xlsxwriter's.
    unspanned = re.compile(r'<dimension ref="[^"]*"/>| spans="[^"]*"')
    assert unspanned.sub("", ours) == unspanned.sub("", plain)
