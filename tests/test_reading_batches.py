"""Reading processes take their files in batches (docs/vitesse.md): the same reports in the same
order as a reading in one process, and a process that dies, or fails on one file, still sets
aside that file alone."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from factory import make_workbook

from pvd_reporting.consolidate import reading
from pvd_reporting.format.issues import IssueCode
from pvd_reporting.format.schema import Schema


@pytest.fixture(scope="module")
def files(schema: Schema, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("classeurs")
    for n in range(5):
        make_workbook(folder / f"t{n}.xlsx", schema, territory={"name": f"Territoire {n}"})
    (folder / "casse.xlsx").write_bytes(b"PK\x03\x04 ceci n'est pas un classeur")
    return sorted(folder.iterdir())


@pytest.fixture
def batches_of_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "_batch_size", lambda todo, count: 2)


def test_batches_give_the_reports_of_one_process_in_order(files: list[Path], schema: Schema, tmp_path: Path,
                                                          batches_of_two: None) -> None:
    alone = reading.read_all(files, schema, workers=1)
    pooled = reading.read_all(files, schema, workers=2, cache=tmp_path / "cache")
    assert [r.path for r in pooled] == [r.path for r in alone] == [str(p) for p in files]
    assert pooled == alone
    assert reading.read_all(files, schema, workers=2, cache=tmp_path / "cache") == alone  # from the cache


_READ = reading._read_in_worker


def _dies_on_t2(path: Path, entry: Any = None) -> Any:
    if path.name == "t2.xlsx":
        os._exit(9)  # as the kernel's out-of-memory killer would end it
    if path.name == "t3.xlsx":
        raise RuntimeError("a failure no check foresaw")
    return _READ(path, entry)


def test_a_death_or_a_failure_in_a_batch_sets_aside_its_file_alone(files: list[Path], schema: Schema,
                                                                  batches_of_two: None,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # The workers are forked from this process: they run the function patched here.
    monkeypatch.setattr(reading, "_read_in_worker", _dies_on_t2)
    reports = {Path(r.path).name: r for r in reading.read_all(files, schema, workers=2)}
    assert list(reports) == [p.name for p in files]
    assert reports["t2.xlsx"].data is None and reading.CRASH_REASON in reports["t2.xlsx"].issues[0].message
    assert reports["t3.xlsx"].data is None and [i.code for i in reports["t3.xlsx"].issues] == [IssueCode.UNREADABLE_FILE]
    assert reading.UNEXPECTED_REASON in reports["t3.xlsx"].issues[0].message
    assert all(reports[f"t{n}.xlsx"].data is not None for n in (0, 1, 4))
