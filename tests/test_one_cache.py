"""The one cache (pvd_reporting/cache.py) keeps the same promises for every kind of entry (README,
Vitesse; docs/securite.md): a tampered entry is never served, a program change reads nothing
older, pruning drops what went unused for a year and an older layout's files, a read-only run
(--no-contacts) adds nothing, and an older layout of the folder never breaks a run."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from factory import make_workbook

import pvd_reporting.cache as cache_module
from pvd_reporting.cache import (
    ATTACHMENTS,
    FOLDERS,
    IMAGES,
    PRUNE_STAMP,
    SUFFIX,
    Cache,
    EntryKind,
    entry_key,
)
from pvd_reporting.consolidate.reading import read_all
from pvd_reporting.consolidate.report_entry import REPORTS, ReportCache
from pvd_reporting.format.issues import WorkbookReport
from pvd_reporting.format.schema import Schema
from pvd_reporting.outputs import mail
from pvd_reporting.outputs.dashboard import images
from pvd_reporting.pipeline.consolidate import run_consolidate

YEAR = 365 * 86_400
FIGURE = {"data": [{"type": "bar", "x": ["a"], "y": [1]}], "layout": {"height": 300}}


@pytest.fixture()
def book(schema: Schema, tmp_path: Path) -> Path:
    return make_workbook(tmp_path / "classeurs" / "bouxwiller.xlsx", schema)


def _report_value(book: Path) -> WorkbookReport:
    return WorkbookReport(book.name, sha256="ab" * 32)


# Each kind, with the key its own user computes and a value of its type.
def _keys(schema: Schema, book: Path, cache: Cache) -> dict[str, tuple[EntryKind[Any], str, object]]:
    report_key = ReportCache(cache, schema).key(book)
    assert report_key is not None
    source = _report_value(book)
    attachment_key = mail.attachment_key("feedback", schema, "2025-T4", source)
    assert attachment_key is not None
    image_key = images._image_key(FIGURE, images._options("png", 300), "renderer")
    return {"report": (REPORTS, report_key, source), "attachment": (ATTACHMENTS, attachment_key, b"PK\x03\x04 xlsx"),
            "image": (IMAGES, image_key, b"\x89PNG image")}


KINDS = ("report", "attachment", "image")


def _same(a: object, b: object) -> bool:
    return a.to_dict() == b.to_dict() if isinstance(a, WorkbookReport) and isinstance(b, WorkbookReport) else a == b


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("damage", ["flipped", "cut", "swapped-key"])
def test_a_tampered_entry_of_each_kind_is_not_served(schema: Schema, book: Path, tmp_path: Path,
                                                     kind: str, damage: str) -> None:
    cache = Cache(tmp_path / "cache")
    entry_kind, key, value = _keys(schema, book, cache)[kind]
    cache.store(entry_kind, key, value)
    entry = cache.path(entry_kind, key)
    assert entry.parent.name in FOLDERS and entry.name.endswith(SUFFIX)
    assert _same(cache.load(entry_kind, key), value)
    blob = entry.read_bytes()
    if damage == "flipped":
        entry.write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
    elif damage == "cut":
        entry.write_bytes(blob[:-3])
    else:  # a valid entry of another key, copied over this one
        other = "f" * 64
        cache.store(entry_kind, other, value)
        entry.write_bytes(cache.path(entry_kind, other).read_bytes())
    assert cache.load(entry_kind, key) is None
    made: list[int] = []

    def make() -> Any:
        made.append(1)
        return value

    assert _same(cache.made_once(entry_kind, key, make), value) and made == [1]  # made again…
    assert _same(cache.load(entry_kind, key), value)  # …and rewritten whole
    assert entry.read_bytes() == blob


@pytest.mark.parametrize("kind", KINDS)
def test_a_program_change_invalidates_each_kind(schema: Schema, book: Path, tmp_path: Path, kind: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    cache = Cache(tmp_path / "cache")
    entry_kind, key, value = _keys(schema, book, cache)[kind]
    cache.store(entry_kind, key, value)
    monkeypatch.setattr(cache_module, "program_digest", lambda: "0" * 64)  # as an edited package gives
    _, new_key, _ = _keys(schema, book, cache)[kind]
    assert new_key != key and cache.load(entry_kind, new_key) is None


def test_a_program_change_rereads_workbooks_and_remakes_attachments(schema: Schema, book: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    cache = Cache(tmp_path / "cache")
    fresh = read_all([book], schema, workers=1, cache=cache)[0]
    made: list[int] = []

    def make() -> bytes:
        made.append(1)
        return b"classeur"

    for _ in range(2):
        mail._made_once(cache, ("carried", schema, "2025-T4", fresh), make)
    assert made == [1]
    monkeypatch.setattr(cache_module, "program_digest", lambda: "1" * 64)
    assert ReportCache(cache, schema).lookup(book) is None
    mail._made_once(cache, ("carried", schema, "2025-T4", fresh), make)
    assert made == [1, 1]


def test_every_key_gives_all_the_parts_of_its_kind() -> None:
    with pytest.raises(ValueError, match="key parts"):
        entry_key(IMAGES, "ab", {"options": "png"})
    with pytest.raises(ValueError, match="layout"):
        EntryKind("autre", "ailleurs", bytes, bytes)


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_pruning_drops_each_kind_unused_for_a_year_and_the_old_layout(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    cache = Cache(root)
    kept, gone = [], []
    values: list[tuple[EntryKind[Any], object]] = [(REPORTS, WorkbookReport("a.xlsx")), (ATTACHMENTS, b"x"),
                                                   (IMAGES, b"x")]
    for kind, value in values:
        for name, age in (("a", YEAR + 86_400), ("b", YEAR - 86_400)):
            cache.store(kind, name * 64, value)
            _age(cache.path(kind, name * 64), age)
        gone.append(cache.path(kind, "a" * 64))
        kept.append(cache.path(kind, "b" * 64))
    # What an older layout left: reports at the top, bare images, attachments and their digests.
    old = [root / f"{'c' * 64}{SUFFIX}", root / "images" / "d.png", root / "images" / "d.svg",
           root / "pieces-jointes" / "e.xlsx", root / "pieces-jointes" / "e.sha256"]
    for path in old:
        path.write_bytes(b"ancien")
    mine = root / "images" / "notes.txt"  # not the cache's: never touched
    mine.write_text("à garder")
    assert cache.prune() == len(gone) + len(old)
    assert all(p.exists() for p in kept) and not any(p.exists() for p in gone + old) and mine.exists()
    assert (root / PRUNE_STAMP).exists()


def test_an_old_layout_never_breaks_a_run(schema: Schema, book: Path, tmp_path: Path) -> None:
    root = tmp_path / "cache"
    (root / "images").mkdir(parents=True)
    (root / "pieces-jointes").mkdir()
    (root / f"{'c' * 64}{SUFFIX}").write_bytes(b"PVD-REPORT-CACHE\n\x00\x00\x00\x02ab")
    (root / "images" / "d.png").write_bytes(b"png")
    (root / "pieces-jointes" / "e.xlsx").write_bytes(b"xlsx")
    (root / "pieces-jointes" / "e.sha256").write_text("0" * 64)
    (root / "classeurs").write_text("un fichier là où un dossier est attendu")
    fresh = read_all([book], schema, workers=1)
    assert [r.to_dict() for r in read_all([book], schema, workers=1, cache=root)] == [r.to_dict() for r in fresh]
    assert not (root / "images" / "d.png").exists() and not (root / "pieces-jointes" / "e.xlsx").exists()


@pytest.mark.parametrize("kind", KINDS)
def test_a_read_only_cache_adds_nothing(schema: Schema, book: Path, tmp_path: Path, kind: str) -> None:
    written = Cache(tmp_path / "cache")
    entry_kind, key, value = _keys(schema, book, written)[kind]
    written.store(entry_kind, key, value)
    before = {p: p.read_bytes() for p in written.directory.rglob("*") if p.is_file()}
    read_only = Cache(written.directory, writable=False)
    assert _same(read_only.load(entry_kind, key), value)  # read…
    read_only.store(entry_kind, "e" * 64, value)  # …but never added to
    made = read_only.made_once(entry_kind, "f" * 64, lambda: value)
    assert _same(made, value)
    assert read_only.prune() == 0
    assert {p: p.read_bytes() for p in written.directory.rglob("*") if p.is_file()} == before


def test_no_contacts_writes_nothing_in_the_cache(schema: Schema, tmp_path: Path) -> None:
    inbox = tmp_path / "classeurs"
    make_workbook(inbox / "bouxwiller.xlsx", schema)
    make_workbook(inbox / "autre.xlsx", schema, territory={"id_pvd": "pvd-44-67-5", "name": "Autre",
                                                          "updated_on": "32/13/2024"})
    cache = tmp_path / "cache"
    run = run_consolidate(inbox, output_dir=tmp_path / "sorties", images=False, workers=1, cache_dir=cache,
                          no_contacts=True, as_of="31/12/2025")
    assert run.result.region.received == 2
    assert not cache.exists() or not any(cache.rglob("*"))
    # Without it, the same run fills the cache: reports, and the attachments of the reminders.
    run_consolidate(inbox, output_dir=tmp_path / "sorties-2", images=False, workers=1, cache_dir=cache,
                    as_of="31/12/2025")
    assert len(list((cache / REPORTS.folder).glob(f"*{SUFFIX}"))) == 2
    assert list((cache / ATTACHMENTS.folder).glob(f"*{SUFFIX}"))
