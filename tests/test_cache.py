"""The parsed-workbook cache of `consolidate --cache` (README, Vitesse): same reports, nothing re-read."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factory import make_workbook
from openpyxl import load_workbook

import pvd_reporting.check.validate as validate_module
from pvd_reporting.cli import cli
from pvd_reporting.consolidate.batch import read_all
from pvd_reporting.consolidate.cache import SUFFIX
from pvd_reporting.format.config import Config
from pvd_reporting.format.schema import Schema, build_schema


@pytest.fixture()
def inbox(schema: Schema, tmp_path: Path) -> Path:
    folder = tmp_path / "classeurs"
    make_workbook(folder / "bouxwiller.xlsx", schema)
    make_workbook(folder / "autre.xlsx", schema, territory={"id_pvd": "pvd-44-67-5", "name": "Autre",
                                                             "updated_on": "32/13/2024"})
    (folder / "casse.xlsx").write_bytes(b"PK\x03\x04 ceci n'est pas un classeur")
    return folder


@pytest.fixture()
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths actually parsed (read_one imports validate_workbook at each call)."""
    seen: list[str] = []
    real = validate_module.validate_workbook

    def spy(path: Path, *args: Any, **kwargs: Any) -> Any:
        seen.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(validate_module, "validate_workbook", spy)
    return seen


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.xlsx"))


def _rows(report: Any) -> dict[str, list[tuple[Any, ...]]]:
    if report.data is None:
        return {}
    out = {key: [(r.row, r.values, r.raw, r.control, r.is_total) for r in rows]
           for key, rows in report.data.tables.items()}
    out["territory"] = [(None, report.data.territory.values, report.data.territory.raw, None, False)]
    return out


def test_cached_reports_equal_a_fresh_parse(inbox: Path, schema: Schema, tmp_path: Path,
                                            parses: list[str]) -> None:
    files = _files(inbox)
    fresh = read_all(files, schema, workers=1)
    first = read_all(files, schema, workers=1, cache=tmp_path / "cache")
    second = read_all(files, schema, workers=1, cache=tmp_path / "cache")
    assert len(parses) == 2 * len(files)  # the fresh run and the first cached run, not the second
    assert len(list((tmp_path / "cache").glob(f"*{SUFFIX}"))) == len(files)
    for a, b, c in zip(fresh, first, second, strict=True):
        assert a.to_dict() == b.to_dict() == c.to_dict()
        assert (a.size, a.sha256, a.version) == (c.size, c.sha256, c.version)
        assert _rows(a) == _rows(c)
    assert any(r.data is not None and r.data.rows("engagements") for r in second)


def test_second_run_parses_nothing(inbox: Path, schema: Schema, tmp_path: Path, parses: list[str]) -> None:
    read_all(_files(inbox), schema, workers=1, cache=tmp_path / "cache")
    parses.clear()
    read_all(_files(inbox), schema, workers=1, cache=tmp_path / "cache")
    assert parses == []


def test_cached_report_takes_the_current_path(inbox: Path, schema: Schema, tmp_path: Path) -> None:
    read_all(_files(inbox), schema, workers=1, cache=tmp_path / "cache")
    moved = tmp_path / "ailleurs"
    inbox.rename(moved)
    reports = read_all(_files(moved), schema, workers=1, cache=tmp_path / "cache")
    assert [r.path for r in reports] == [str(p) for p in _files(moved)]


def test_changed_file_is_parsed_again(inbox: Path, schema: Schema, tmp_path: Path, parses: list[str]) -> None:
    read_all(_files(inbox), schema, workers=1, cache=tmp_path / "cache")
    parses.clear()
    make_workbook(inbox / "bouxwiller.xlsx", schema, territory={"name": "Bouxwiller modifié"})
    reports = read_all(_files(inbox), schema, workers=1, cache=tmp_path / "cache")
    assert parses == ["bouxwiller.xlsx"]
    assert {r.territory for r in reports} >= {"Bouxwiller modifié"}


def test_other_configuration_is_parsed_again(inbox: Path, schema: Schema, config: Config, tmp_path: Path,
                                             parses: list[str]) -> None:
    read_all(_files(inbox), schema, workers=1, cache=tmp_path / "cache")
    other = dataclasses.replace(config, raw={**config.raw, "at_risk_days": 30})
    assert other.fingerprint != config.fingerprint
    parses.clear()
    read_all(_files(inbox), build_schema(other), workers=1, cache=tmp_path / "cache")
    assert len(parses) == len(_files(inbox))


@pytest.mark.parametrize("damage", [b"", b"\x80\x04garbage", b"not a pickle at all"])
def test_corrupt_entry_is_ignored_and_replaced(inbox: Path, schema: Schema, tmp_path: Path,
                                               parses: list[str], damage: bytes) -> None:
    files = _files(inbox)
    fresh = read_all(files, schema, workers=1, cache=tmp_path / "cache")
    entries = sorted((tmp_path / "cache").glob(f"*{SUFFIX}"))
    for entry in entries:
        entry.write_bytes(damage or entry.read_bytes()[: len(entry.read_bytes()) // 2])
    parses.clear()
    again = read_all(files, schema, workers=1, cache=tmp_path / "cache")
    assert len(parses) == len(files)
    assert [r.to_dict() for r in again] == [r.to_dict() for r in fresh]
    parses.clear()
    read_all(files, schema, workers=1, cache=tmp_path / "cache")
    assert parses == []  # the entries were rewritten whole


def test_pool_workers_write_the_cache(inbox: Path, schema: Schema, tmp_path: Path) -> None:
    files = _files(inbox)
    pooled = read_all(files, schema, workers=2, cache=tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob(f"*{SUFFIX}"))) == len(files)
    cached = read_all(files, schema, workers=2, cache=tmp_path / "cache")
    assert [r.to_dict() for r in pooled] == [r.to_dict() for r in cached]


def _sheets(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    wb = load_workbook(path, read_only=True)
    try:
        return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}
    finally:
        wb.close()


def test_cli_twice_with_cache_gives_the_same_outputs(inbox: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    outputs = []
    for n in (1, 2):
        out = tmp_path / f"sorties-{n}"
        result = CliRunner().invoke(cli, ["consolidate", str(inbox), "--output-dir", str(out), "--cache", str(cache),
                                          "--quiet", "--no-images", "--workers", "1", "--as-of", "31/12/2025"])
        assert result.exit_code == 0, result.output
        outputs.append(out)
    assert list(cache.glob(f"*{SUFFIX}"))
    first, second = (_sheets(o / "synthese-pvd-2025-T4.xlsx") for o in outputs)
    assert first == second
    assert len(first["Engagements"]) > 1
    assert (outputs[0] / "anomalies-2025-T4.json").read_text() == (outputs[1] / "anomalies-2025-T4.json").read_text()


def test_cli_refuses_a_cache_inside_the_inputs(inbox: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["consolidate", str(inbox), "--output-dir", str(tmp_path / "o"),
                                      "--cache", str(inbox / "cache"), "--quiet", "--no-images"])
    assert result.exit_code == 2
    assert "cache" in result.output
    assert not (inbox / "cache").exists()
