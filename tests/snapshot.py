"""Compare a workbook's description, one text file per sheet, with its snapshot folder in
tests/snapshots/, or accept it.

    PVD_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_<x>_snapshot.py   # accept a change

One file per sheet (and `workbook.txt` for what belongs to the whole workbook), so that a change
shows which sheet moved.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from pvd_reporting.format.matching import slug

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE = os.environ.get("PVD_UPDATE_SNAPSHOTS") == "1"
WORKBOOK_FILE = "workbook.txt"


def sheet_file(sheet: str) -> str:
    """`Ingénierie` -> `ingenierie.txt`: an ASCII name that cannot be the workbook's file."""
    name = f"{slug(sheet)}.txt"
    assert name != WORKBOOK_FILE, sheet
    return name


def matches_snapshots(files: dict[str, str], folder: str, what: str, test_file: str) -> None:
    """Fail with the diff of every file of `snapshots/<folder>/` that differs from `files` (name ->
    text), is missing or is left over; with PVD_UPDATE_SNAPSHOTS=1, write them there first (and
    remove the files left over). `what` names the workbook in the message, `test_file` the test
    to rerun."""
    where = SNAPSHOTS / folder
    # The single-file snapshot of before, brought back by a merge: its changes belong in the folder.
    assert not (SNAPSHOTS / f"{folder}.txt").exists(), (
        f"tests/snapshots/{folder}.txt is the old single-file snapshot: delete it, then rerun with "
        f"PVD_UPDATE_SNAPSHOTS=1 python -m pytest tests/{Path(test_file).name} and read the diff")
    if UPDATE:
        where.mkdir(parents=True, exist_ok=True)
        for stale in where.glob("*.txt"):
            if stale.name not in files:
                stale.unlink()
        for name, text in files.items():
            (where / name).write_text(text, encoding="utf-8")
    stored = {p.name for p in where.glob("*.txt")} if where.is_dir() else set()
    diffs: list[str] = []
    for name in sorted(stored | set(files)):
        expected = (where / name).read_text(encoding="utf-8") if name in stored else ""
        text = files.get(name, "")
        if text != expected:
            diffs.append("".join(difflib.unified_diff(
                expected.splitlines(keepends=True), text.splitlines(keepends=True),
                f"tests/snapshots/{folder}/{name}" + ("" if name in stored else " (missing)"),
                "written now" if name in files else "no such sheet now")))
    if diffs:
        moved = [d.splitlines()[0].removeprefix("--- ") for d in diffs]
        pytest.fail(f"{what} differs from its snapshot in {len(diffs)} file(s): {', '.join(moved)}. If the "
                    f"change is intended, accept it with PVD_UPDATE_SNAPSHOTS=1 python -m pytest "
                    f"tests/{Path(test_file).name}\n" + "\n".join(diffs))
