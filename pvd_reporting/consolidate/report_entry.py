"""The report entries of the cache (pvd_reporting/cache.py): a workbook parsed once is not
parsed again while its bytes, the program, the format version, the configuration and the
reference list are unchanged.

An entry's body is the lightened WorkbookReport of one file in MessagePack, in which only the
report's own dataclasses and a few value types (dates, Decimal, …) are tagged and rebuilt: a
forged entry can at worst hold wrong figures, never run anything. The layout of those
dataclasses is a part of the key: a field added, removed or reordered reads nothing older.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgpack

from pvd_reporting.cache import REPORTS_FOLDER, Cache, EntryError, EntryKind, entry_key
from pvd_reporting.format.issues import Issue, Severity, WorkbookReport
from pvd_reporting.format.reference import Reference
from pvd_reporting.format.schema import Schema
from pvd_reporting.read.discover import shown_path
from pvd_reporting.read.formula_errors import CellError
from pvd_reporting.read.records import Record, WorkbookData
from pvd_reporting.read.safety import MAX_FILE_BYTES, file_digest

# The only types an entry may rebuild; the codes are part of the entry format.
_DATACLASSES: dict[int, type] = {16: WorkbookReport, 17: Issue, 18: WorkbookData, 19: Record}
_DATACLASS_CODES = {cls: code for code, cls in _DATACLASSES.items()}
_FIELDS = {cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in _DATACLASSES.values()}
LAYOUT = hashlib.sha256(repr(sorted((c.__name__, f) for c, f in _FIELDS.items())).encode()).hexdigest()[:16]
_DATE, _DATETIME, _TIME, _TIMEDELTA, _DECIMAL, _CELL_ERROR, _SEVERITY, _TUPLE, _BIG_INT = range(1, 10)


# --- entries ----------------------------------------------------------------------------------


class _Opening:
    """The first item of an array that holds one of the report's dataclasses: its class."""

    __slots__ = ("cls",)

    def __init__(self, cls: type) -> None:
        self.cls = cls


# A dataclass is written inline, as an array opened by its class's tag (an empty ext): encoded
# and decoded in one pass, with no nested encoding per record (hundreds in each report).
_OPENINGS = {cls: msgpack.ExtType(code, b"") for code, cls in _DATACLASSES.items()}
_OPENED = {code: _Opening(cls) for code, cls in _DATACLASSES.items()}


def _default(value: Any) -> Any:
    """Every value MessagePack has no type for, tagged; anything else cannot be stored."""
    kind = type(value)
    if kind in _OPENINGS:
        return [_OPENINGS[kind], *[getattr(value, name) for name in _FIELDS[kind]]]
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
    if code == _DATE:  # the most frequent by far
        return date.fromisoformat(data.decode())
    opening = _OPENED.get(code)
    if opening is not None:
        if data:
            raise EntryError(f"{opening.cls.__name__}: not an opening")
        return opening
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


def _array(items: list[Any]) -> Any:
    """An array as decoded: one of the report's dataclasses when its class opens it."""
    if items and type(items[0]) is _Opening:
        cls = items[0].cls
        if len(items) != len(_FIELDS[cls]) + 1:
            raise EntryError(f"{cls.__name__}: {len(items) - 1} fields")
        return cls(*items[1:])
    return items


def _unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, ext_hook=_ext, list_hook=_array, raw=False, strict_map_key=True, use_list=True)


def encode_report(report: WorkbookReport) -> bytes:
    return _pack(report)


def decode_report(body: bytes) -> WorkbookReport:
    report = _unpack(body)
    if type(report) is not WorkbookReport or not (report.data is None or type(report.data) is WorkbookData):
        raise EntryError("not a workbook report")
    return report


REPORTS: EntryKind[WorkbookReport] = EntryKind(
    "report", REPORTS_FOLDER, encode_report, decode_report, ("layout", "format", "config", "reference"))


def _body(body: bytes) -> bytes:
    return body


# The same entries, given already encoded (encode_report): a reading process encodes a report
# once, stores that body and sends it to the main process, which decodes it (consolidate/reading.py).
REPORT_BODIES: EntryKind[bytes] = EntryKind(REPORTS.name, REPORTS.folder, _body, _body, REPORTS.parts)


def report_parts(schema: Schema, reference: Reference | None) -> dict[str, str]:
    """What, beyond the file's bytes and the program, decides a file's report."""
    # The reference list adds warnings (unknown commune, other name): it is part of the key.
    listed = "" if reference is None else hashlib.sha256(repr(reference.territories).encode()).hexdigest()
    return {"layout": LAYOUT, "format": schema.version, "config": schema.config.fingerprint, "reference": listed}


class ReportCache:
    """The reports of a batch's files in `cache`: `lookup`, else `key` to store what was parsed."""

    def __init__(self, cache: Cache, schema: Schema, reference: Reference | None = None) -> None:
        self.cache = cache
        self.parts = report_parts(schema, reference)
        self._keys: dict[str, tuple[str, str]] = {}

    def key(self, path: Path) -> str | None:
        """The entry key of a file, or None when it is not to be cached (unreadable, too large)."""
        known = self._keys.get(str(path))
        if known is not None:
            return known[0]
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                return None  # refused by the reader anyway; never hash a huge file
            _, sha = file_digest(path)
        except OSError:
            return None
        key = entry_key(REPORTS, sha, self.parts)
        self._keys[str(path)] = (key, sha)
        return key

    def lookup(self, path: Path) -> WorkbookReport | None:
        """The cached report of `path` (with `path` as its path), or None: then parse it."""
        key = self.key(path)
        if key is None:
            return None
        report = self.cache.load(REPORTS, key)
        if report is None or report.sha256 != self._keys[str(path)][1]:
            return None
        report.path = shown_path(path)
        return report
