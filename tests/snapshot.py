"""Compare a workbook's description with its snapshot in tests/snapshots/, or accept it.

    PVD_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_<x>_snapshot.py   # accept a change
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE = os.environ.get("PVD_UPDATE_SNAPSHOTS") == "1"


def matches_snapshot(text: str, name: str, what: str, test_file: str) -> None:
    """Fail with the diff when `text` differs from `snapshots/<name>`; with PVD_UPDATE_SNAPSHOTS=1,
    write it there first. `what` names the workbook in the message, `test_file` the test to rerun."""
    snapshot = SNAPSHOTS / name
    if UPDATE:
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(text, encoding="utf-8")
    expected = snapshot.read_text(encoding="utf-8") if snapshot.exists() else ""
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(keepends=True), text.splitlines(keepends=True),
                                            f"tests/snapshots/{name}", "written now"))
        pytest.fail(f"{what} differs from its snapshot. If the change is intended, accept it with "
                    f"PVD_UPDATE_SNAPSHOTS=1 python -m pytest tests/{Path(test_file).name}\n{diff}")
