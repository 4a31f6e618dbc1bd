"""The parsed-workbook cache of `consolidate` (README, Vitesse): same reports, nothing re-read,
nothing ever run from an entry, entries pruned after a year unused."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import time
from pathlib import Path
from typing import Any

import msgpack
import platformdirs
import pytest
from click.testing import CliRunner
from factory import make_workbook
from openpyxl import load_workbook

import pvd_reporting.check.validate as validate_module
from pvd_reporting.cache import (
    ENTRY_FORMAT,
    ENV_VAR,
    MAGIC,
    PRUNE_STAMP,
    REPORTS_FOLDER,
    SUFFIX,
    Cache,
    EntryError,
    decode_entry,
    default_cache_dir,
    encode_entry,
)
from pvd_reporting.cli import cli
from pvd_reporting.consolidate import report_entry
from pvd_reporting.consolidate.reading import read_all
from pvd_reporting.consolidate.report_entry import REPORTS
from pvd_reporting.format.config import Config
from pvd_reporting.format.schema import Schema, build_schema

DAY = 86_400


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
    assert len(_entries(tmp_path / "cache")) == len(files)
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
    entries = _entries(tmp_path / "cache")
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
    assert len(_entries(tmp_path / "cache")) == len(files)
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
    assert _entries(cache)
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


# --- an entry never runs anything ----------------------------------------------------------------


class _Planted:
    """What someone who can write the cache folder might leave there: a pickle that, when
    loaded, creates a file (it could as well run any command)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def _with_header(key: str, body: bytes, **over: Any) -> bytes:
    """An entry header that passes every check for `body` (the layout written by encode_entry)."""
    header = msgpack.packb({"entry": ENTRY_FORMAT, "kind": REPORTS.name, "key": key,
                            "size": len(body), "sha256": hashlib.sha256(body).hexdigest(), **over})
    return MAGIC + len(header).to_bytes(4, "big") + header + body


def _entries(folder: Path) -> list[Path]:
    """The report entries of the cache `folder`."""
    return sorted((folder / REPORTS_FOLDER).glob(f"*{SUFFIX}"))


@pytest.mark.parametrize("wrapped", [False, True], ids=["bare", "behind-a-valid-header"])
def test_a_planted_pickle_is_never_run(inbox: Path, schema: Schema, tmp_path: Path, parses: list[str],
                                       wrapped: bool) -> None:
    files, cache = _files(inbox), tmp_path / "cache"
    fresh = read_all(files, schema, workers=1)
    read_all(files, schema, workers=1, cache=cache)
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(_Planted(probe)))
    assert probe.exists()  # the payload is live: loading it as a pickle does run it
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Planted(marker))
    entries = _entries(cache)
    assert len(entries) == len(files)
    for entry in entries:
        key = entry.name.removesuffix(SUFFIX)
        entry.write_bytes(_with_header(key, payload) if wrapped else payload)
    parses.clear()
    again = read_all(files, schema, workers=1, cache=cache)
    assert not marker.exists()
    assert len(parses) == len(files)  # every planted entry ignored, every file parsed afresh
    assert [r.to_dict() for r in again] == [r.to_dict() for r in fresh]
    assert [_rows(r) for r in again] == [_rows(r) for r in fresh]
    assert all(e.read_bytes().startswith(MAGIC) and e.read_bytes() != _with_header(e.stem, payload)
               for e in _entries(cache))
    parses.clear()
    read_all(files, schema, workers=1, cache=cache)
    assert parses == [] and not marker.exists()  # rewritten as data, read as data


def test_a_pickle_behind_a_valid_header_is_refused_as_data() -> None:
    report = report_entry.WorkbookReport("a.xlsx")
    assert encode_entry(REPORTS, "k", report).startswith(MAGIC)
    with pytest.raises(EntryError):
        decode_entry(REPORTS, _with_header("k", pickle.dumps(report)), "k")


def test_a_forged_dataclass_array_is_refused_as_data() -> None:
    opening = msgpack.ExtType(19, b"")  # what opens a Record's array
    for body in (msgpack.packb([opening, "Engagements"]),  # too few fields
                 msgpack.packb([msgpack.ExtType(16, b"x")]),  # an opening that holds data
                 msgpack.packb([msgpack.ExtType(99, b"")])):  # no such tag
        with pytest.raises(EntryError):
            decode_entry(REPORTS, _with_header("k", body), "k")


def _rewrite_each(cache: Path, change: Any) -> None:
    """Re-encode every entry of `cache` through `change(key, blob) -> bytes`."""
    for entry in _entries(cache):
        entry.write_bytes(change(entry.name.removesuffix(SUFFIX), entry.read_bytes()))


def _body(blob: bytes) -> bytes:
    start = len(MAGIC) + 4
    return blob[start + int.from_bytes(blob[len(MAGIC):start], "big"):]


def _swap_pairwise(cache: Path) -> None:
    entries = _entries(cache)
    assert len(entries) >= 2
    blobs = [e.read_bytes() for e in entries]
    for entry, blob in zip(entries, blobs[1:] + blobs[:1], strict=True):
        entry.write_bytes(blob)


@pytest.mark.parametrize("damage", [
    "truncated-header", "truncated-body", "other-kind", "other-entry-format", "renamed",
    "keys-swapped", "body-flipped", "empty",
])
def test_a_bad_entry_is_ignored_and_rewritten(inbox: Path, schema: Schema, tmp_path: Path,
                                              parses: list[str], damage: str) -> None:
    files, cache = _files(inbox), tmp_path / "cache"
    fresh = read_all(files, schema, workers=1, cache=cache)
    if damage == "keys-swapped":
        _swap_pairwise(cache)  # each entry holds the report of another file
    elif damage == "body-flipped":
        _rewrite_each(cache, lambda key, blob: blob[:-1] + bytes([blob[-1] ^ 1]))
    else:
        change = {
            "truncated-header": lambda key, blob: blob[: len(MAGIC) + 10],
            "truncated-body": lambda key, blob: blob[: len(blob) - 7],
            "other-kind": lambda key, blob: _with_header(key, _body(blob), kind="image"),
            "other-entry-format": lambda key, blob: _with_header(key, _body(blob), entry=ENTRY_FORMAT - 1),
            "renamed": lambda key, blob: _with_header("0" * 64, _body(blob)),
            "empty": lambda key, blob: b"",
        }[damage]
        _rewrite_each(cache, change)
    parses.clear()
    again = read_all(files, schema, workers=1, cache=cache)
    assert sorted(parses) == sorted(p.name for p in files)
    assert [r.to_dict() for r in again] == [r.to_dict() for r in fresh]
    assert [_rows(r) for r in again] == [_rows(r) for r in fresh]
    parses.clear()
    read_all(files, schema, workers=1, cache=cache)
    assert parses == []  # each one rewritten whole


def test_an_entry_of_another_format_is_refused_before_its_body_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    body = encode_entry(REPORTS, "k", report_entry.WorkbookReport("a.xlsx"))
    blob = _with_header("k", _body(body), entry=ENTRY_FORMAT - 1)
    seen: list[bytes] = []
    real = report_entry._unpack

    def spy(data: bytes) -> Any:
        seen.append(data)
        return real(data)

    monkeypatch.setattr(report_entry, "_unpack", spy)
    with pytest.raises(EntryError):
        decode_entry(REPORTS, blob, "k")
    assert seen == []
    assert decode_entry(REPORTS, body, "k").path == "a.xlsx"


def test_the_layout_of_the_report_is_part_of_the_key(schema: Schema, monkeypatch: pytest.MonkeyPatch) -> None:
    before = report_entry.report_parts(schema, None)
    monkeypatch.setattr(report_entry, "LAYOUT", "0" * 16)
    assert report_entry.report_parts(schema, None) != before


def test_a_bad_entry_is_silent_on_the_command_line(inbox: Path, tmp_path: Path, user_cache: Path) -> None:
    assert os.environ[ENV_VAR] == str(user_cache)  # the default folder, set for every test by conftest
    args = ["consolidate", str(inbox), "--quiet", "--no-images", "--workers", "1", "--as-of", "31/12/2025"]
    first = CliRunner().invoke(cli, [*args, "--output-dir", str(tmp_path / "o1")])
    assert len(_entries(user_cache)) == len(_files(inbox))
    _rewrite_each(user_cache, lambda key, blob: blob[: len(blob) // 2])
    second = CliRunner().invoke(cli, [*args, "--output-dir", str(tmp_path / "o2")])
    assert first.exit_code == second.exit_code == 0, second.output
    assert second.output == first.output.replace("o1", "o2")
    assert all(decode_entry(REPORTS, e.read_bytes(), e.name.removesuffix(SUFFIX)) for e in _entries(user_cache))


# --- where the cache lives ---------------------------------------------------------------------------


def test_default_folder_is_the_user_cache_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert default_cache_dir() == Path(platformdirs.user_cache_dir("pvd-report", appauthor=False))
    monkeypatch.setenv(ENV_VAR, "/tmp/ailleurs")
    assert default_cache_dir() == Path("/tmp/ailleurs")


def _consolidate(inbox: Path, out: Path, *extra: str) -> Any:
    return CliRunner().invoke(cli, ["consolidate", str(inbox), "--output-dir", str(out), "--quiet", "--no-images",
                                    "--workers", "1", *extra])


def test_cli_caches_by_default_in_the_platformdirs_folder(inbox: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "profil" / "cache"
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setattr(platformdirs, "user_cache_dir", lambda *a, **k: str(home / "pvd-report"))
    assert _consolidate(inbox, tmp_path / "o").exit_code == 0
    assert len(_entries(home / "pvd-report")) == len(_files(inbox))


def test_cli_no_cache_reads_everything_and_writes_nothing(inbox: Path, tmp_path: Path, parses: list[str],
                                                          user_cache: Path) -> None:
    for n in (1, 2):
        parses.clear()
        result = _consolidate(inbox, tmp_path / f"o{n}", "--no-cache")
        assert result.exit_code == 0, result.output
        assert sorted(parses) == sorted(p.name for p in _files(inbox))
    assert not user_cache.exists()
    other = tmp_path / "vide"
    assert _consolidate(inbox, tmp_path / "o3", "--no-cache", "--cache", str(other)).exit_code == 2
    assert not other.exists()


def test_cli_cache_and_no_cache_together_is_a_usage_error(inbox: Path, tmp_path: Path) -> None:
    result = _consolidate(inbox, tmp_path / "o", "--cache", str(tmp_path / "c"), "--no-cache")
    assert result.exit_code == 2
    assert "--cache et --no-cache s'excluent" in result.output
    assert "Traceback" not in result.output


def test_cli_refuses_a_default_cache_inside_the_inputs(inbox: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(inbox / ".cache" / "pvd-report"))
    result = _consolidate(inbox, tmp_path / "o")
    assert result.exit_code == 2
    assert "Le dossier de cache" in result.output and "avec --cache" in result.output
    assert not (inbox / ".cache").exists()


def test_cli_runs_without_cache_when_the_default_folder_cannot_be_made(inbox: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "fichier"
    blocker.write_text("pas un dossier")
    monkeypatch.setenv(ENV_VAR, str(blocker / "pvd-report"))
    result = _consolidate(inbox, tmp_path / "o", "--as-of", "31/12/2025")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o" / "synthese-pvd-2025-T4.xlsx").exists()


def test_cli_chosen_folder_that_cannot_be_made_is_refused(inbox: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "fichier"
    blocker.write_text("pas un dossier")
    result = _consolidate(inbox, tmp_path / "o", "--cache", str(blocker / "cache"))
    assert result.exit_code == 2
    assert "Dossier de cache inutilisable" in result.output and "Traceback" not in result.output


# --- pruning -----------------------------------------------------------------------------------------


def _age(path: Path, days: float) -> None:
    then = time.time() - days * DAY
    os.utime(path, (then, then))


def test_pruning_removes_entries_unused_for_a_year(tmp_path: Path) -> None:
    store = Cache(tmp_path)
    (tmp_path / REPORTS_FOLDER).mkdir()
    old, fresh, young = (tmp_path / REPORTS_FOLDER / f"{n}{SUFFIX}" for n in ("old", "fresh", "young"))
    other = tmp_path / REPORTS_FOLDER / "notes.txt"
    for path in (old, fresh, young, other):
        path.write_bytes(b"x")
    _age(old, 400)
    _age(young, 300)
    _age(other, 400)
    assert store.prune() == 1
    assert not old.exists()
    assert fresh.exists() and young.exists() and other.exists()


def test_pruning_runs_at_most_once_a_day(tmp_path: Path) -> None:
    store = Cache(tmp_path)
    store.prune()
    assert (tmp_path / PRUNE_STAMP).exists()
    (tmp_path / REPORTS_FOLDER).mkdir()
    old = tmp_path / REPORTS_FOLDER / f"old{SUFFIX}"
    old.write_bytes(b"x")
    _age(old, 400)
    assert store.prune() == 0 and old.exists()  # pruned less than a day ago
    _age(tmp_path / PRUNE_STAMP, 1.5)
    assert store.prune() == 1 and not old.exists()


def test_a_run_prunes_and_an_entry_used_is_kept(inbox: Path, schema: Schema, tmp_path: Path,
                                                parses: list[str]) -> None:
    files, cache = _files(inbox), tmp_path / "cache"
    read_all(files, schema, workers=1, cache=cache)
    (cache / PRUNE_STAMP).unlink()
    for entry in _entries(cache):
        _age(entry, 400)  # last used more than a year ago…
    stale = cache / REPORTS_FOLDER / f"{'f' * 64}{SUFFIX}"
    stale.write_bytes(b"x")
    _age(stale, 400)
    parses.clear()
    read_all(files, schema, workers=1, cache=cache)  # …but used by this run
    assert parses == []
    assert not stale.exists()
    kept = _entries(cache)
    assert len(kept) == len(files)
    assert all(time.time() - e.stat().st_mtime < DAY for e in kept)


def test_a_worker_sends_the_entry_it_stored_and_the_main_process_decodes_it(
        inbox: Path, schema: Schema, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pvd_reporting.consolidate import reading
    from pvd_reporting.consolidate.report_entry import ReportCache
    from pvd_reporting.format.issues import WorkbookReport

    monkeypatch.setattr(reading, "_worker_schema", schema)  # as _init_worker sets it in a worker
    cache = Cache(tmp_path / "cache")
    cache.prepare()
    keys = ReportCache(cache, schema)
    for path in _files(inbox):
        fresh = reading._read_and_store(path, schema, None, None)
        key = keys.key(path)
        assert key is not None
        sent = reading._read_in_worker(path, (cache, key))
        # The entry's body, encoded once: stored as it is sent, and decoded into the same report.
        assert isinstance(sent, bytes) and cache.path(REPORTS, key).read_bytes().endswith(sent)
        assert reading._received(sent, path, schema, None) == fresh == cache.load(REPORTS, key)
        # Without a cache, the report itself; an entry that cannot be decoded is read again here.
        assert reading._read_in_worker(path) == fresh and isinstance(reading._read_in_worker(path), WorkbookReport)
        assert reading._received(b"\xc1", path, schema, None) == fresh
