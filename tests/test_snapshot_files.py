"""The per-sheet snapshot comparison itself (tests/snapshot.py): a changed, missing or left-over
sheet file fails and names the file; PVD_UPDATE_SNAPSHOTS=1 rewrites the folder to match."""

from __future__ import annotations

from pathlib import Path

import pytest
import snapshot
from snapshot import WORKBOOK_FILE, matches_snapshots, sheet_file

FILES = {WORKBOOK_FILE: "sheets: Synthèse | Évolution\n", "synthese.txt": "A1 = 1\n", "evolution.txt": "A1 = 2\n"}


@pytest.fixture
def stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(snapshot, "SNAPSHOTS", tmp_path)
    monkeypatch.setattr(snapshot, "UPDATE", False)
    folder = tmp_path / "summary"
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_sheet_files_are_ascii_names() -> None:
    assert [sheet_file(s) for s in ("Synthèse", "Ingénierie", "Lisez-moi")] == [
        "synthese.txt", "ingenierie.txt", "lisez-moi.txt"]


def test_the_same_files_pass(stored: Path) -> None:
    matches_snapshots(dict(FILES), "summary", "The summary", __file__)


@pytest.mark.parametrize(("change", "named"), [
    ({"evolution.txt": "A1 = 3\n"}, "tests/snapshots/summary/evolution.txt"),
    ({"changements.txt": "A1 = 4\n"}, "tests/snapshots/summary/changements.txt (missing)"),
])
def test_a_changed_or_new_sheet_fails_naming_its_file(stored: Path, change: dict[str, str], named: str) -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        matches_snapshots({**FILES, **change}, "summary", "The summary", __file__)
    message = str(failed.value)
    assert f"in 1 file(s): {named}." in message
    assert "PVD_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_snapshot_files.py" in message


def test_a_sheet_gone_fails(stored: Path) -> None:
    files = {k: v for k, v in FILES.items() if k != "evolution.txt"}
    with pytest.raises(pytest.fail.Exception, match=r"in 1 file\(s\): tests/snapshots/summary/evolution.txt\."):
        matches_snapshots(files, "summary", "The summary", __file__)


def test_update_rewrites_the_folder(stored: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot, "UPDATE", True)
    files = {WORKBOOK_FILE: "sheets: Synthèse\n", "synthese.txt": "A1 = 5\n"}
    matches_snapshots(files, "summary", "The summary", __file__)
    assert {p.name: p.read_text(encoding="utf-8") for p in stored.iterdir()} == files


def test_the_old_single_file_is_refused(stored: Path) -> None:
    (stored.parent / "summary.txt").write_text("--- sheet Synthèse\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="tests/snapshots/summary.txt is the old single-file snapshot"):
        matches_snapshots(dict(FILES), "summary", "The summary", __file__)
