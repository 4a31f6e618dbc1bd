"""Cache of parsed workbooks for `consolidate`, on by default (docs/vitesse.md).

An entry is the lightened WorkbookReport of one file, keyed by the file's content hash and by
everything that changes how it is read: the format version, the configuration, the reference
list, the program itself (a digest of the package's sources, not a version string that may not
move) and the layout of the report's dataclasses. So an unchanged workbook is never parsed
again, and a new format, configuration, release or edited message re-reads everything.

Entries are plain data, never pickles: loading a pickle runs whatever code it names, and the
cache folder is written on every run by default, so whoever could write there could run commands
in the referent's session. An entry is a header (magic, entry format, program version, key, body
digest) checked before anything is decoded, then a MessagePack body in which only the report's
own dataclasses and a few value types (dates, Decimal, …) are tagged and rebuilt. A forged entry
can at worst hold wrong figures, never run anything; one that fails to decode or to verify is
ignored and rewritten.

Entries unused for a year are deleted, at most once a day, at the end of a run.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import time as clock
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgpack
import platformdirs

import pvd_reporting
from pvd_reporting import __version__
from pvd_reporting.atomic import atomic_write_bytes
from pvd_reporting.errors import UsageError
from pvd_reporting.format.issues import Issue, Severity, WorkbookReport
from pvd_reporting.format.reference import Reference
from pvd_reporting.format.schema import Schema
from pvd_reporting.read.discover import shown_path
from pvd_reporting.read.formula_errors import CellError
from pvd_reporting.read.records import Record, WorkbookData
from pvd_reporting.read.safety import MAX_FILE_BYTES, file_digest

SUFFIX = ".pvdcache"
MAGIC = b"PVD-REPORT-CACHE\n"
# Bumped when the layout of a cache entry changes (2: MessagePack instead of pickle).
ENTRY_FORMAT = 2
APP_NAME = "pvd-report"
ENV_VAR = "PVD_REPORT_CACHE_DIR"
UNUSED_FOR = 365 * 86_400  # seconds without use before an entry is deleted
PRUNE_EVERY = 86_400
PRUNE_STAMP = ".pruned"
# Images of the charts, kept by the digest of their figure (outputs/dashboard): pruned alike.
IMAGES_FOLDER = "images"
# The workbooks attached to reminders (outputs/mail.py), kept by the digest of what makes
# them: an unchanged workbook's feedback or carried-forward copy is not written again. Each has
# a sidecar with the sha256 of its bytes, checked before use.
ATTACHMENTS_FOLDER = "pieces-jointes"
ATTACHMENT_DIGEST_SUFFIX = ".sha256"
ATTACHMENT_SUFFIXES = (".xlsx", ATTACHMENT_DIGEST_SUFFIX)
IMAGE_SUFFIXES = (".png", ".svg")
_MAX_HEADER = 4096

# The only types an entry may rebuild; the codes are part of the entry format.
_DATACLASSES: dict[int, type] = {16: WorkbookReport, 17: Issue, 18: WorkbookData, 19: Record}
_DATACLASS_CODES = {cls: code for code, cls in _DATACLASSES.items()}
_FIELDS = {cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in _DATACLASSES.values()}
# A dataclass that gains, loses or reorders a field changes the key: older entries are not read.
LAYOUT = hashlib.sha256(repr(sorted((c.__name__, f) for c, f in _FIELDS.items())).encode()).hexdigest()[:16]
_DATE, _DATETIME, _TIME, _TIMEDELTA, _DECIMAL, _CELL_ERROR, _SEVERITY, _TUPLE, _BIG_INT = range(1, 10)


class EntryError(ValueError):
    """A cache entry that is not, or no longer, what this program would write."""


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
    message or a parser gives another key, whatever `__version__` says. A few milliseconds,
    once per process."""
    root = Path(pvd_reporting.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                       and p.suffix not in (".pyc", ".geojson", ".json")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def context_key(schema: Schema, reference: Reference | None) -> str:
    """What, beyond the file's bytes, decides its report."""
    parts = [f"entry={ENTRY_FORMAT}", f"layout={LAYOUT}", f"format={schema.version}",
             f"config={schema.config.fingerprint}", f"program={__version__}", f"sources={program_digest()}"]
    if reference is not None:
        # The reference list adds warnings (unknown commune, other name): it is part of the key.
        parts.append("reference=" + hashlib.sha256(repr(reference.territories).encode()).hexdigest())
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


class ReportCache:
    """Reports by content hash in `directory`; `lookup` then `entry_path` for a file to store."""

    def __init__(self, directory: Path, schema: Schema, reference: Reference | None = None) -> None:
        self.directory = Path(directory)
        self.context = context_key(schema, reference)
        self._keys: dict[str, tuple[str, str]] = {}

    def prepare(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"Dossier de cache inutilisable : {self.directory} ({exc.strerror or exc}) : "
                             "choisissez-en un autre avec --cache, ou désactivez-le avec --no-cache.") from None

    def key(self, path: Path) -> str | None:
        """The entry key of a file, or None when it is not to be cached (unreadable, too large)."""
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                return None  # refused by the reader anyway; never hash a huge file
            _, sha = file_digest(path)
        except OSError:
            return None
        key = hashlib.sha256(f"{sha}|{self.context}".encode()).hexdigest()
        self._keys[str(path)] = (key, sha)
        return key

    def entry_path(self, path: Path) -> Path | None:
        known = self._keys.get(str(path))
        key = known[0] if known else self.key(path)
        return self.directory / f"{key}{SUFFIX}" if key else None

    def lookup(self, path: Path) -> WorkbookReport | None:
        """The cached report of `path` (with `path` as its path), or None: then parse it."""
        entry = self.entry_path(path)
        if entry is None:
            return None
        key, sha = self._keys[str(path)]
        report = load_entry(entry, key, path)
        if report is None or report.sha256 != sha:
            return None
        try:
            os.utime(entry)  # used now: pruning counts a year from here
        except OSError:
            pass
        return report

    def prune(self, now: float | None = None) -> int:
        """Delete entries unused for a year; at most once a day. Returns how many went."""
        now = clock.time() if now is None else now
        stamp = self.directory / PRUNE_STAMP
        try:
            if now - stamp.stat().st_mtime < PRUNE_EVERY:
                return 0
        except OSError:
            pass  # never pruned here yet
        removed = 0
        try:
            for folder, suffixes in ((self.directory, (SUFFIX,)), (self.directory / IMAGES_FOLDER, IMAGE_SUFFIXES),
                                     (self.directory / ATTACHMENTS_FOLDER, ATTACHMENT_SUFFIXES)):
                if folder.is_dir():
                    removed += _prune_folder(folder, suffixes, now)
            stamp.touch()
            os.utime(stamp, (now, now))
        except OSError:
            pass  # a cache that cannot be pruned only takes room
        return removed


def _prune_folder(folder: Path, suffixes: tuple[str, ...], now: float) -> int:
    removed = 0
    with os.scandir(folder) as found:
        for item in found:
            if not item.name.endswith(suffixes):
                continue
            try:
                if now - item.stat(follow_symlinks=False).st_mtime > UNUSED_FOR:
                    os.unlink(item.path)
                    removed += 1
            except OSError:
                continue
    return removed


# --- entries ----------------------------------------------------------------------------------


def _default(value: Any) -> msgpack.ExtType:
    """Every value MessagePack has no type for, tagged; anything else cannot be stored."""
    kind = type(value)
    if kind in _DATACLASS_CODES:
        fields = [getattr(value, name) for name in _FIELDS[kind]]
        return msgpack.ExtType(_DATACLASS_CODES[kind], _pack(fields))
    if kind is date:
        return msgpack.ExtType(_DATE, value.isoformat().encode())
    if kind is datetime:
        return msgpack.ExtType(_DATETIME, value.isoformat().encode())
    if kind is time:
        return msgpack.ExtType(_TIME, value.isoformat().encode())
    if kind is timedelta:
        return msgpack.ExtType(_TIMEDELTA, _pack([value.days, value.seconds, value.microseconds]))
    if kind is Decimal:
        return msgpack.ExtType(_DECIMAL, str(value).encode())
    if kind is CellError:
        return msgpack.ExtType(_CELL_ERROR, str.__str__(value).encode())
    if kind is Severity:
        return msgpack.ExtType(_SEVERITY, value.value.encode())
    if kind is tuple:
        return msgpack.ExtType(_TUPLE, _pack(list(value)))
    if kind is int:  # beyond 64 bits
        return msgpack.ExtType(_BIG_INT, str(value).encode())
    raise TypeError(f"{kind.__name__} cannot be stored in a cache entry")


def _pack(value: Any) -> bytes:
    # strict_types: a str or int subclass (CellError, Severity, bool is apart) keeps its type.
    return msgpack.packb(value, default=_default, strict_types=True, use_bin_type=True)


def _ext(code: int, data: bytes) -> Any:
    cls = _DATACLASSES.get(code)
    if cls is not None:
        fields = _unpack(data)
        if type(fields) is not list or len(fields) != len(_FIELDS[cls]):
            raise EntryError(f"{cls.__name__}: {len(fields)} fields")
        return cls(*fields)
    if code == _TIMEDELTA:
        days, seconds, micro = _unpack(data)
        return timedelta(days=days, seconds=seconds, microseconds=micro)
    if code == _TUPLE:
        return tuple(_unpack(data))
    build = _FROM_TEXT.get(code)
    if build is None:
        raise EntryError(f"unknown tag {code}")
    return build(data.decode())


_FROM_TEXT: dict[int, Any] = {
    _DATE: date.fromisoformat, _DATETIME: datetime.fromisoformat, _TIME: time.fromisoformat,
    _DECIMAL: Decimal, _CELL_ERROR: CellError, _SEVERITY: Severity, _BIG_INT: int,
}


def _unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, ext_hook=_ext, raw=False, strict_map_key=True, use_list=True)


def encode_entry(key: str, report: WorkbookReport, *, program: str = __version__) -> bytes:
    """MAGIC, the header's length on 4 bytes, the header, the body."""
    body = _pack(report)
    header = msgpack.packb({"entry": ENTRY_FORMAT, "program": program, "layout": LAYOUT, "key": key,
                            "size": len(body), "sha256": hashlib.sha256(body).hexdigest()})
    return MAGIC + len(header).to_bytes(4, "big") + header + body


def decode_entry(blob: bytes, key: str) -> WorkbookReport:
    """The report of an entry written by this program for `key`; EntryError otherwise."""
    if not blob.startswith(MAGIC):
        raise EntryError("not a cache entry")
    start = len(MAGIC) + 4
    length = int.from_bytes(blob[len(MAGIC):start], "big")
    if length > _MAX_HEADER:
        raise EntryError("header too long")
    try:
        # No ext_hook: the header is decoded as bare data, before the body is looked at.
        header = msgpack.unpackb(blob[start:start + length], raw=False)
    except Exception as exc:  # noqa: BLE001 — whatever the bytes, only EntryError leaves here
        raise EntryError(f"header: {exc}") from None
    body = blob[start + length:]
    expected = {"entry": ENTRY_FORMAT, "program": __version__, "layout": LAYOUT, "key": key,
                "size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    if header != expected:
        raise EntryError("header does not match")
    try:
        report = _unpack(body)
    except Exception as exc:  # noqa: BLE001
        raise EntryError(f"body: {exc}") from None
    if type(report) is not WorkbookReport or not (report.data is None or type(report.data) is WorkbookData):
        raise EntryError("not a workbook report")
    return report


def load_entry(entry: Path, key: str, path: Path) -> WorkbookReport | None:
    """The report stored in `entry` for `key`, with `path` as its path; None when absent or bad."""
    try:
        blob = entry.read_bytes()
    except OSError:
        return None
    try:
        report = decode_entry(blob, key)
    except EntryError:
        return None  # truncated, foreign or of another version: parsed again and rewritten
    report.path = shown_path(path)
    return report


def store_entry(entry: Path, report: WorkbookReport) -> None:
    """Write an entry atomically; a cache that cannot be written only costs a re-read next time."""
    key = entry.name.removesuffix(SUFFIX)
    try:
        atomic_write_bytes(entry, encode_entry(key, report))
    except Exception:  # noqa: BLE001 — e.g. disk full, or a value of no known type: no entry
        pass
