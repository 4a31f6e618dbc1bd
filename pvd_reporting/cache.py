"""The one cache of `consolidate` (docs/developpement.md, Le cache): what a run made from unchanged inputs,
kept for the next run, in typed entries.

Each kind of entry (`EntryKind`: a workbook's report, a reminder's attached workbook, a chart's
image) has its subfolder, its serialiser and the key parts it depends on. This module owns
everything else, the same for every kind:

- the folder: `--cache`, else `$PVD_REPORT_CACHE_DIR`, else the user's cache folder
  (platformdirs); none with `--no-cache`;
- the key: the digest of the content an entry is made from, the program's digest (the
  package's sources as installed: any edit gives other keys, whatever the version says), the
  entry format, the kind, and each of the kind's own parts;
- atomic writes (a temporary name, then a rename: no entry is ever half-written);
- integrity on read: an entry is a header (magic, entry format, kind, key, body size and sha256)
  then the body; one that does not match, whatever the reason (cut short, tampered with,
  renamed, of an older layout), is ignored, never served, and rewritten by the run;
- read-only use (`writable=False`, `--no-contacts`): entries are read, nothing is added;
- pruning: entries unused for a year, and whatever an older layout of the folder left, are
  deleted at most once a day at the end of a run.

Entries are plain data, never pickles: whoever can write the folder could otherwise run code
in the referent's session.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import time as clock
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import msgpack
import platformdirs

from pvd_reporting.atomic import atomic_write_bytes
from pvd_reporting.errors import UsageError

T = TypeVar("T")

APP_NAME = "pvd-report"
ENV_VAR = "PVD_REPORT_CACHE_DIR"
SUFFIX = ".pvdcache"
MAGIC = b"PVD-REPORT-CACHE\n"
# Bumped when the layout of an entry changes (3: one layout for every kind, in its subfolder).
ENTRY_FORMAT = 3
UNUSED_FOR = 365 * 86_400  # seconds without use before an entry is deleted
PRUNE_EVERY = 86_400
PRUNE_STAMP = ".pruned"
_MAX_HEADER = 4096
# The folder's layout: one subfolder per kind of entry, named here so that pruning knows them all.
REPORTS_FOLDER, ATTACHMENTS_FOLDER, IMAGES_FOLDER = "classeurs", "pieces-jointes", "images"
FOLDERS = (REPORTS_FOLDER, ATTACHMENTS_FOLDER, IMAGES_FOLDER)
# What earlier layouts left: reports at the top, bare images, attachments with a sidecar digest.
# Never read again; deleted at the next pruning.
OLD_LAYOUT: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("", (SUFFIX,)), (IMAGES_FOLDER, (".png", ".svg")), (ATTACHMENTS_FOLDER, (".xlsx", ".sha256")))


class EntryError(ValueError):
    """An entry that is not, or no longer, what this program would write for its key."""


@dataclass(frozen=True)
class EntryKind(Generic[T]):
    """One kind of entry: `name` is part of every key, `folder` holds its entries, `encode` and
    `decode` turn a value into the entry's body and back (`decode` raises on anything it would
    not have written), `parts` names what, beyond its content and the program, a value
    depends on: each key of the kind must give them all."""

    name: str
    folder: str
    encode: Callable[[T], bytes]
    decode: Callable[[bytes], T]
    parts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.folder not in FOLDERS:
            raise ValueError(f"{self.name}: {self.folder} is not a folder of the cache's layout")


def _same(data: bytes) -> bytes:
    return data


# A reminder's attached workbook (outputs/mail.py): made from a received workbook's report.
ATTACHMENTS: EntryKind[bytes] = EntryKind(
    "attachment", ATTACHMENTS_FOLDER, _same, _same, ("made_as", "format", "config", "period", "file", "issues"))
# A chart's PNG or SVG (outputs/dashboard/images.py): made from the figure's JSON.
IMAGES: EntryKind[bytes] = EntryKind("image", IMAGES_FOLDER, _same, _same, ("options", "renderer"))


def default_cache_dir() -> Path:
    """`$PVD_REPORT_CACHE_DIR`, else the user's cache folder (e.g. ~/.cache/pvd-report)."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def resolve_cache_dir(chosen: Path | None, *, enabled: bool = True) -> Path | None:
    """The folder of `--cache`, else the default one; None with `--no-cache`."""
    if not enabled:
        if chosen is not None:
            raise UsageError("--cache et --no-cache s'excluent : choisissez l'un ou l'autre.")
        return None
    return chosen if chosen is not None else default_cache_dir()


def can_create(folder: Path) -> bool:
    """Whether `folder` exists or could be made (the default one may not, e.g. a read-only home)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return True


@functools.lru_cache(maxsize=1)
def program_digest() -> str:
    """A digest of the package's sources and data files as installed: any edit to a rule, a
    message or a parser gives another key. A few milliseconds, once per process."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                       and p.suffix not in (".pyc", ".geojson", ".json")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def entry_key(kind: EntryKind[T], content: str, parts: Mapping[str, object]) -> str:
    """The key of what `kind` makes from `content` (a digest) given `parts`, under this program."""
    if set(parts) != set(kind.parts):
        raise ValueError(f"{kind.name}: key parts {sorted(parts)} != {sorted(kind.parts)}")
    text = "|".join([f"entry={ENTRY_FORMAT}", f"kind={kind.name}", f"program={program_digest()}",
                     f"content={content}", *(f"{name}={parts[name]}" for name in kind.parts)])
    return hashlib.sha256(text.encode()).hexdigest()


def encode_entry(kind: EntryKind[T], key: str, value: T) -> bytes:
    """MAGIC, the header's length on 4 bytes, the header, the body."""
    body = kind.encode(value)
    header = msgpack.packb({"entry": ENTRY_FORMAT, "kind": kind.name, "key": key, "size": len(body),
                            "sha256": hashlib.sha256(body).hexdigest()})
    return MAGIC + len(header).to_bytes(4, "big") + header + body


def decode_entry(kind: EntryKind[T], blob: bytes, key: str) -> T:
    """The value of an entry this program wrote for `key`; EntryError otherwise. The header is
    checked, as bare data, before the body is decoded."""
    if not blob.startswith(MAGIC):
        raise EntryError("not a cache entry")
    start = len(MAGIC) + 4
    length = int.from_bytes(blob[len(MAGIC):start], "big")
    if length > _MAX_HEADER:
        raise EntryError("header too long")
    try:
        header = msgpack.unpackb(blob[start:start + length], raw=False)
    except Exception as exc:  # noqa: BLE001 — whatever the bytes, only EntryError leaves here
        raise EntryError(f"header: {exc}") from None
    body = blob[start + length:]
    expected = {"entry": ENTRY_FORMAT, "kind": kind.name, "key": key, "size": len(body),
                "sha256": hashlib.sha256(body).hexdigest()}
    if header != expected:
        raise EntryError("header does not match")
    try:
        return kind.decode(body)
    except Exception as exc:  # noqa: BLE001
        raise EntryError(f"body: {exc}") from None


@dataclass(frozen=True)
class Cache:
    """The cache folder of a run. `writable=False`: entries are read, none is added (and the
    folder is not even created)."""

    directory: Path
    writable: bool = True

    def prepare(self) -> None:
        """Make the folder; a chosen folder that cannot be made is a usage error."""
        if not self.writable:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"Dossier de cache inutilisable : {self.directory} ({exc.strerror or exc}) : "
                             "choisissez-en un autre avec --cache, ou désactivez-le avec --no-cache.") from None

    def path(self, kind: EntryKind[T], key: str) -> Path:
        return self.directory / kind.folder / f"{key}{SUFFIX}"

    def holds(self, kind: EntryKind[T], key: str) -> bool:
        """Whether an entry is there (unchecked: to skip work ahead; `load` checks it)."""
        return self.path(kind, key).is_file()

    def load(self, kind: EntryKind[T], key: str) -> T | None:
        """The value stored for `key`, or None: absent, unreadable or not verified."""
        entry = self.path(kind, key)
        try:
            blob = entry.read_bytes()
        except OSError:
            return None
        try:
            value = decode_entry(kind, blob, key)
        except EntryError:
            return None  # cut short, tampered with or of another version: made again and rewritten
        with contextlib.suppress(OSError):
            os.utime(entry)  # used now: pruning counts a year from here
        return value

    def store(self, kind: EntryKind[T], key: str, value: T) -> None:
        """Write an entry atomically, unless read-only; a cache that cannot be written (a full
        disk, a value of no known type) only costs time next run."""
        if not self.writable:
            return
        entry = self.path(kind, key)
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(entry, encode_entry(kind, key, value))
        except Exception:  # noqa: BLE001
            pass

    def made_once(self, kind: EntryKind[T], key: str, make: Callable[[], T]) -> T:
        """The value stored for `key`, else `make()`, stored for the next run."""
        found = self.load(kind, key)
        if found is not None:
            return found
        value = make()
        self.store(kind, key, value)
        return value

    def prune(self, now: float | None = None) -> int:
        """Delete entries unused for a year, and an older layout's files; at most once a day,
        never read-only. Returns how many went."""
        if not self.writable:
            return 0
        now = clock.time() if now is None else now
        stamp = self.directory / PRUNE_STAMP
        try:
            if now - stamp.stat().st_mtime < PRUNE_EVERY:
                return 0
        except OSError:
            pass  # never pruned here yet
        removed = 0
        try:
            for name in FOLDERS:
                if (self.directory / name).is_dir():
                    removed += _prune_folder(self.directory / name, (SUFFIX,), now - UNUSED_FOR)
            for name, suffixes in OLD_LAYOUT:
                if (self.directory / name).is_dir():
                    removed += _prune_folder(self.directory / name, suffixes, float("inf"))
            stamp.touch()
            os.utime(stamp, (now, now))
        except OSError:
            pass  # a cache that cannot be pruned only takes room
        return removed


def _prune_folder(folder: Path, suffixes: tuple[str, ...], before: float) -> int:
    """Delete the files of `folder` ending in `suffixes` last used before `before`."""
    removed = 0
    with os.scandir(folder) as found:
        for item in found:
            if not item.name.endswith(suffixes) or not item.is_file(follow_symlinks=False):
                continue
            try:
                if item.stat(follow_symlinks=False).st_mtime < before:
                    os.unlink(item.path)
                    removed += 1
            except OSError:
                continue
    return removed


def open_cache(cache: Cache | Path | None, *, writable: bool = True) -> Cache | None:
    """A `Cache` from a folder (as tests and the benchmark give it), as is otherwise."""
    if cache is None or isinstance(cache, Cache):
        return cache
    return Cache(Path(cache), writable=writable)
