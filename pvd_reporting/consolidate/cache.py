"""Cache of parsed workbooks for `consolidate --cache DIR` (README, Vitesse).

An entry is the pickled WorkbookReport of one file, keyed by the file's content hash and by
everything that changes how it is read: the format version, the configuration, the reference
list and the program's version. So an unchanged workbook is never parsed again, and a new
format, configuration or release re-reads everything. An entry is only ever a hint: one that
cannot be loaded, or whose key or type is not the expected one, is ignored and rewritten.
Entries are pickles in a folder the user chose for this cache; they are not meant to be shared.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

from pvd_reporting import __version__
from pvd_reporting.atomic import atomic_write_bytes
from pvd_reporting.errors import UsageError
from pvd_reporting.format.issues import WorkbookReport
from pvd_reporting.format.reference import Reference
from pvd_reporting.format.schema import Schema
from pvd_reporting.read.safety import MAX_FILE_BYTES, file_digest

SUFFIX = ".pvdcache"
# Bumped when the layout of a cache entry changes.
ENTRY_FORMAT = 1


def context_key(schema: Schema, reference: Reference | None) -> str:
    """What, beyond the file's bytes, decides its report."""
    parts = [f"entry={ENTRY_FORMAT}", f"format={schema.version}", f"config={schema.config.fingerprint}",
             f"program={__version__}"]
    if reference is not None:
        # The reference list adds warnings (unknown commune, other name): it is part of the key.
        parts.append("reference=" + hashlib.sha256(repr(reference.territories).encode()).hexdigest())
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


class ReportCache:
    """Reports by content hash in `directory`; `lookup` then `entry_path` for a file to store."""

    def __init__(self, directory: Path, schema: Schema, reference: Reference | None = None) -> None:
        self.directory = Path(directory)
        self.context = context_key(schema, reference)
        self._keys: dict[str, str] = {}

    def prepare(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"Dossier de cache inutilisable : {self.directory} ({exc.strerror or exc}).") from None

    def key(self, path: Path) -> str | None:
        """The entry key of a file, or None when it is not to be cached (unreadable, too large)."""
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                return None  # refused by the reader anyway; never hash a huge file
            _, sha = file_digest(path)
        except OSError:
            return None
        key = hashlib.sha256(f"{sha}|{self.context}".encode()).hexdigest()
        self._keys[str(path)] = key
        return key

    def entry_path(self, path: Path) -> Path | None:
        key = self._keys.get(str(path)) or self.key(path)
        return self.directory / f"{key}{SUFFIX}" if key else None

    def lookup(self, path: Path) -> WorkbookReport | None:
        """The cached report of `path` (with `path` as its path), or None: then parse it."""
        entry = self.entry_path(path)
        if entry is None:
            return None
        return load_entry(entry, entry.name.removesuffix(SUFFIX), path)


def load_entry(entry: Path, key: str, path: Path) -> WorkbookReport | None:
    try:
        with entry.open("rb") as fh:
            stored = pickle.load(fh)
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 — a truncated or foreign entry is never trusted, only replaced
        return None
    if not isinstance(stored, dict) or stored.get("key") != key:
        return None
    report = stored.get("report")
    if not isinstance(report, WorkbookReport):
        return None
    report.path = str(path)
    return report


def store_entry(entry: Path, report: WorkbookReport) -> None:
    """Write an entry atomically; a cache that cannot be written only costs a re-read next time."""
    key = entry.name.removesuffix(SUFFIX)
    try:
        atomic_write_bytes(entry, pickle.dumps({"key": key, "report": report}, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:  # noqa: BLE001 — e.g. disk full: the run goes on without this entry
        pass
