"""What keeps `consolidate` of four quarters small (docs/vitesse.md, memory) changes nothing it
writes: the history database in two steps, the earlier quarters' rows dropped once written,
each repeated value read once, the typed values no reader reads, the writer process gone
once done."""

from __future__ import annotations

import copy
import os
import re
import sqlite3
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from pvd_reporting.consolidate.chase import attached_workbooks, to_chase
from pvd_reporting.consolidate.quarters import KEPT_TABLES, consolidate_history, shed_earlier_rows
from pvd_reporting.consolidate.reading import Sharing, lighten, read_all
from pvd_reporting.format.issues import WorkbookReport
from pvd_reporting.format.schema import ENGAGEMENTS, Schema
from pvd_reporting.outputs import background
from pvd_reporting.outputs.history_db import DB_NAME, HistoryDb, write_history_db
from pvd_reporting.outputs.reminders import write_reminders
from pvd_reporting.outputs.summary.workbook import write_summary
from pvd_reporting.read.records import Record, WorkbookData

WORKBOOKS = Path(__file__).resolve().parent.parent / "workbooks"
STAMP = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in the order written."""
    db = sqlite3.connect(path)
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {n: db.execute(f'SELECT * FROM "{n}" ORDER BY rowid').fetchall() for n in names}


def _cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    wb = load_workbook(path, read_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def _drafts(folder: Path) -> dict[str, str]:
    # A MIME boundary is drawn at random for every message.
    return {p.name: re.sub(r"={15}\d+==", "=", p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.eml"))}


def test_earlier_rows_dropped_once_written_change_no_output(schema: Schema, tmp_path: Path) -> None:
    reports = read_all(sorted(WORKBOOKS.rglob("*.xlsx")), schema, workers=1)
    whole = consolidate_history(reports, schema)
    light = consolidate_history(copy.deepcopy(reports), schema)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    write_history_db(whole, a, schema, written_at=STAMP)
    db = HistoryDb(light, b, schema, written_at=STAMP)
    db.write_earlier()
    chased = to_chase(light)
    keep = attached_workbooks(chased)
    shed_earlier_rows(light, keep=keep)
    assert light.history is not None
    earlier = [t.report for c in light.history.periods.values() if c is not light
               for t in c.territories if t.report is not None and t.report.data is not None]
    assert earlier and all(set(r.data.tables) <= KEPT_TABLES for r in earlier if r not in keep)
    assert any(r.data.rows(ENGAGEMENTS) for r in keep if r in earlier)
    assert not any(c.rows for c in light.history.periods.values() if c is not light)
    assert db.finish() == b / DB_NAME
    assert not [p.name for p in b.iterdir() if p.name.startswith(".")]  # no partial file left
    assert _tables(b / DB_NAME) == _tables(a / DB_NAME)
    assert sum(len(rows) for rows in _tables(a / DB_NAME).values()) > 1000
    assert _cells(write_summary(light, b / "s.xlsx", schema)) == _cells(write_summary(whole, a / "s.xlsx", schema))
    done_a = write_reminders(whole, a, schema)
    done_b = write_reminders(light, b, schema, chased=chased)
    assert done_b.csv_path.read_bytes() == done_a.csv_path.read_bytes()
    assert done_a.folder is not None and done_b.folder is not None
    assert _drafts(done_b.folder) == _drafts(done_a.folder) != {}


def test_a_run_that_fails_between_the_two_steps_leaves_nothing(schema: Schema, tmp_path: Path) -> None:
    files = [p for q in ("2025-T3", "2025-T4") for p in sorted((WORKBOOKS / q).glob("*.xlsx"))[:2]]
    reports = read_all(files, schema, workers=1)
    db = HistoryDb(consolidate_history(reports, schema), tmp_path, schema)
    db.write_earlier()
    assert [p.name for p in tmp_path.iterdir()] != []
    db.abandon()
    assert list(tmp_path.iterdir()) == []


def _report(*records: Record) -> WorkbookReport:
    territory, *rows = records
    return WorkbookReport("t.xlsx", [], data=WorkbookData(territory=territory, tables={ENGAGEMENTS: rows}))


def test_each_repeated_value_is_one_object(schema: Schema) -> None:
    def record(gap: float) -> Record:
        # Built apart, as two reports unpickled from two reading processes are.
        return Record("Engagements", 5, values={"status": "".join(["En ", "cours"]), "cost": float("150000"),
                                                 "end_on": date(2026, 6, 30), "gap": gap, "none": float("nan")})

    first, second = _report(record(0.0), record(0.0)), _report(record(-0.0), record(-0.0))
    sharing = Sharing()
    for report in (first, second):
        sharing.share(report)
    one, other = first.data.tables[ENGAGEMENTS][0], second.data.tables[ENGAGEMENTS][0]
    for key in ("status", "cost", "end_on"):
        assert one.values[key] is other.values[key]
    assert one.values == {**other.values, "none": one.values["none"]}
    # -0.0 equals 0.0 but is not the same number: never swapped for another zero.
    assert str(other.values["gap"]) == "-0.0"


def test_lighten_keeps_a_typed_value_only_where_it_may_be_read() -> None:
    record = Record("Engagements", 5, values={"cost": 150000.0, "title": None, "etp": 0.0, "status": "Engagée"},
                    raw={"cost": 150000, "title": "illisible", "etp": "0", "status": " engagée "},
                    cells={"cost": "F5"})
    lighten(_report(Record("Territoire", None), record))
    assert record.raw == {"title": "illisible", "etp": "0"}  # nothing understood; understood as zero
    assert record.cells == {}


def _children() -> set[int]:
    me = os.getpid()
    return {int(c) for t in os.listdir(f"/proc/{me}/task")
            for c in Path(f"/proc/{me}/task/{t}/children").read_text().split()}


def _pid_after_a_while() -> int:
    time.sleep(0.5)  # long enough to be seen alive
    return os.getpid()


def test_the_writer_process_ends_once_its_work_is_done() -> None:
    before = _children()
    (wait,) = background.start([_pid_after_a_while])
    seen: set[int] = set()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        now = _children() - before
        seen |= now
        if seen and not now:
            break
        time.sleep(0.02)
    assert len(seen) == 1 and not _children() - before  # gone before its result is asked for
    assert wait() in seen
