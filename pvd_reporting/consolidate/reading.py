"""Reading a batch of workbooks: each validated on all cores (or served from the cache), lightened
for consolidation; a file whose reading fails, or whose worker dies, is set aside with its reason.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from pvd_reporting.atomic import checkpoint, die_with_parent, worker_guard
from pvd_reporting.cache import Cache, open_cache
from pvd_reporting.check import validate
from pvd_reporting.consolidate.report_entry import (
    REPORT_BODIES,
    ReportCache,
    decode_report,
    encode_report,
)
from pvd_reporting.format.issues import IssueCode, WorkbookReport, make_issue
from pvd_reporting.format.reference import Reference
from pvd_reporting.format.schema import Schema
from pvd_reporting.read.discover import shown_path

# Where a worker stores the report it parsed: the cache and the entry's key.
Slot = tuple[Cache, str]

_worker_schema: Schema | None = None
_worker_reference: Reference | None = None


def _init_worker(schema: Schema, reference: Reference | None, guard: tuple[int, bool]) -> None:
    # A worker left behind by a killed run would wait forever on a queue nobody writes to.
    die_with_parent(*guard)
    gc.enable()  # paused in the parent while it gathers reports; a worker's own garbage is short-lived
    # Sent once per process, not once per file: the reference list has some 1,600 communes.
    global _worker_schema, _worker_reference
    _worker_schema, _worker_reference = schema, reference


# What a reading process sends back: the body of the cache entry it stored (the main process
# decodes it: the report is encoded once, never pickled as well), else the report itself.
Sent = WorkbookReport | bytes


def _read_in_worker(path: Path, entry: Slot | None = None) -> Sent:
    assert _worker_schema is not None
    report = lighten(read_one(path, _worker_schema, _worker_reference))
    body = _store(report, entry) if entry is not None else None
    return report if body is None else body


def _read_and_store(path: Path, schema: Schema, reference: Reference | None,
                    entry: Slot | None) -> WorkbookReport:
    report = lighten(read_one(path, schema, reference))
    if entry is not None:
        _store(report, entry)
    return report


def _store(report: WorkbookReport, entry: Slot) -> bytes | None:
    """The report's entry body, stored (by the worker that parsed it: the encoding is spread over
    the cores); None for a report holding a value of no known type (then not stored)."""
    cache, key = entry
    try:
        body = encode_report(report)
    except Exception:  # noqa: BLE001 — it only costs time next run
        return None
    cache.store(REPORT_BODIES, key, body)
    return body


def _received(sent: Sent, path: Path, schema: Schema, reference: Reference | None) -> WorkbookReport:
    """The report a reading process sent; read again here in the unforeseen case where its entry
    cannot be decoded."""
    if not isinstance(sent, bytes):
        return sent
    try:
        return decode_report(sent)
    except Exception:  # noqa: BLE001
        return _read_and_store(path, schema, reference, None)


def lighten(report: WorkbookReport) -> WorkbookReport:
    """The report as consolidation needs it: each record keeps its parsed values, and its typed
    value only where it may still be read: where nothing was understood, or what was understood
    is empty, zero or blank text. Every reader of a typed value reads it only then (`value or
    raw`, `raw if value is None`); a typed 150000 read as 150000.0 is never read again.

    At national scale (100,000 rows) the full records weighed on the memory target of docs/vitesse.md and
    on the pickling back from the reading processes; cell references serve the feedback
    workbooks of `validate --annotate`, which read files on their own.
    """
    data = report.data
    if data is None:
        return report
    for record in (data.territory, *(r for rows in data.tables.values() for r in rows)):
        values = record.values
        record.raw = {k: v for k, v in record.raw.items()
                      if v is not None and not _settled(values.get(k))
                      and (type(v) is not type(values.get(k)) or v != values.get(k))}
        record.cells = {}
    return report


def _settled(value: Any) -> bool:
    """A parsed value no reader looks past to the typed one: neither empty nor blank."""
    return bool(value) and not (isinstance(value, str) and not value.strip())


_NOTHING: dict[str, Any] = {}


class Sharing:
    """One object for each repeated text, date and amount of a batch of reports.

    Each report comes back from its reading process (or the cache) with its own copy of every
    value: the same status, financer, commune or date thousands of times over. Four quarters of
    1,000 workbooks hold some 1.4 million text values but about 4,000 distinct ones, and the
    main process holds all of them while it writes (docs/vitesse.md, La mémoire de quatre trimestres). Values are
    immutable: sharing them changes nothing that is read. Zero amounts are left as they are
    (0.0 and -0.0 are equal but not the same number), as are values of any other type.
    """

    def __init__(self) -> None:
        self._seen: dict[type, dict[Any, Any]] = {str: {}, date: {}, float: {}}

    def share(self, report: WorkbookReport) -> WorkbookReport:
        data = report.data
        if data is None:
            return report
        texts, dates, amounts = self._seen[str], self._seen[date], self._seen[float]
        for record in (data.territory, *(r for rows in data.tables.values() for r in rows)):
            # Most records keep no cell reference and no raw value (lighten): one empty mapping
            # for all, never written to once read.
            if not record.cells:
                record.cells = _NOTHING
            if not record.raw:
                record.raw = _NOTHING
            for fields in (record.values, record.raw):
                # By type, inline: this runs for every value of every report read (a warm run's
                # reading spent half its time here otherwise).
                for key, value in fields.items():
                    kind = type(value)
                    if kind is str:
                        fields[key] = texts.setdefault(value, value)
                    elif kind is float:
                        if value and value == value:  # not a zero's sign, not NaN
                            fields[key] = amounts.setdefault(value, value)
                    elif kind is date:
                        fields[key] = dates.setdefault(value, value)
        return report


def read_one(path: Path, schema: Schema, reference: Reference | None = None) -> WorkbookReport:
    """validate_workbook, with a last guard: nothing that happens to one file stops the run."""
    try:
        return validate.validate_workbook(path, schema, reference=reference)
    except Exception:  # noqa: BLE001 — an odd file becomes an issue, never a crash (README, pvd-report validate)
        return set_aside(path, UNEXPECTED_REASON)


# French reasons for a file whose reading failed in a way no check foresaw: the technical detail
# (an exception's English text) never reaches a user.
UNEXPECTED_REASON = validate.UNEXPECTED_REASON
# A worker that died (out of memory, killed, a crash in the spreadsheet library).
CRASH_REASON = ("le processus qui le lisait s'est arrêté brutalement (mémoire épuisée, processus tué ou "
                "plantage de la lecture) ; le classeur est mis de côté, les autres sont lus")


def set_aside(path: Path, reason: str) -> WorkbookReport:
    """The report of a file that could not be read, with its French reason."""
    return WorkbookReport(shown_path(path), [make_issue(IssueCode.UNREADABLE_FILE, reason=reason)])


def read_all(
    paths: list[Path],
    schema: Schema,
    *,
    reference: Reference | None = None,
    workers: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    cache: Cache | Path | None = None,
) -> list[WorkbookReport]:
    """Validate every workbook on all cores; reports in the order of `paths`.

    With `cache`, a file whose bytes, format version, configuration and reference list are
    unchanged since a previous run is not parsed again (see report_entry.py); the cache is
    pruned at the end. A read-only cache (--no-contacts) is read, and nothing is added to it: such
    a run leaves no contact of its files there.
    """
    with _collector_paused():
        return _read_all(paths, schema, reference, workers, on_progress, cache)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The reports are kept for the whole run and hold no reference cycle. While thousands of
    them are made, the cyclic garbage collector would walk every object already made, again and
    again (half the time of a warm run's reading at national scale): it is paused, and what was
    made is then frozen out of its reach."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _read_all(paths: list[Path], schema: Schema, reference: Reference | None, workers: int | None,
              on_progress: Callable[[int], None] | None, cache: Cache | Path | None,
              ) -> list[WorkbookReport]:
    store: ReportCache | None = None
    sharing = Sharing()
    advance = on_progress or (lambda n: None)
    results: list[WorkbookReport | None] = [None] * len(paths)
    entries: list[Slot | None] = [None] * len(paths)
    todo: list[int] = []
    opened = open_cache(cache)
    if opened is not None:
        opened.prepare()
        store = ReportCache(opened, schema, reference)
        for i, path in enumerate(paths):
            hit = store.lookup(path)
            if hit is not None:
                results[i] = sharing.share(hit)
                advance(1)
                continue
            key = store.key(path) if opened.writable else None
            entries[i] = (opened, key) if key is not None else None
            todo.append(i)
    else:
        todo = list(range(len(paths)))
    _parse(paths, todo, results, entries, schema, reference, workers, advance, sharing)
    if opened is not None:
        opened.prune()
    return [r for r in results if r is not None]


def _parse(paths: list[Path], todo: list[int], results: list[WorkbookReport | None],
           entries: list[Slot | None], schema: Schema, reference: Reference | None,
           workers: int | None, advance: Callable[[int], None], sharing: Sharing) -> None:
    count = workers if workers and workers > 0 else (os.cpu_count() or 1)
    count = min(count, len(todo))
    if count <= 1:
        for i in todo:
            try:
                results[i] = sharing.share(_read_and_store(paths[i], schema, reference, entries[i]))
            except Exception:  # noqa: BLE001 — the cache or the lightening failed: the file alone is set aside
                results[i] = set_aside(paths[i], UNEXPECTED_REASON)
            advance(1)
        return
    broken = _parse_in_pool(paths, todo, results, entries, schema, reference, count, advance, sharing)
    # A worker that died (a crash in the spreadsheet library, memory) breaks the whole pool: the
    # files it left unread are read again one at a time, so that only the culprit is set aside.
    _parse_one_by_one(paths, broken, results, entries, schema, reference, advance, sharing)


# Files handed to a reading process at once, at most: each task costs the main process a round
# trip through the pool's queues and threads, about as much as decoding a report.
BATCH = 8


def _batch_size(todo: int, count: int) -> int:
    """Batches small enough that every process still gets a few dozen of them."""
    return max(1, min(BATCH, todo // (count * 8)))


def _read_batch_in_worker(items: list[tuple[Path, Slot | None]]) -> list[Sent | None]:
    """`_read_in_worker` of each file; None for a file whose reading failed (set aside alone)."""
    sent: list[Sent | None] = []
    for path, entry in items:
        try:
            sent.append(_read_in_worker(path, entry))
        except Exception:  # noqa: BLE001 — a worker's error takes only its file
            sent.append(None)
    return sent


def _parse_in_pool(paths: list[Path], todo: list[int], results: list[WorkbookReport | None],
                   entries: list[Slot | None], schema: Schema, reference: Reference | None,
                   count: int, advance: Callable[[int], None], sharing: Sharing) -> list[int]:
    """Reads `todo` on `count` processes, in batches; the indices left unread by a broken pool
    (or whose batch could not come back)."""
    broken: list[int] = []
    size = _batch_size(len(todo), count)
    with ProcessPoolExecutor(max_workers=count, initializer=_init_worker,
                             initargs=(schema, reference, worker_guard())) as pool:
        futures: dict[Future[list[Sent | None]], list[int]] = {}
        for start in range(0, len(todo), size):
            batch = todo[start:start + size]
            futures[pool.submit(_read_batch_in_worker, [(paths[i], entries[i]) for i in batch])] = batch
        checkpoint("reading")
        for future in as_completed(futures):
            batch = futures[future]
            try:
                sent = future.result()
            except Exception:  # noqa: BLE001 — BrokenProcessPool and the like: read again one by one
                broken += batch
                continue
            for i, one in zip(batch, sent, strict=True):
                report = None
                if one is not None:
                    with contextlib.suppress(Exception):
                        report = sharing.share(_received(one, paths[i], schema, reference))
                # A worker's error takes only its file.
                results[i] = report if report is not None else set_aside(paths[i], UNEXPECTED_REASON)
            advance(len(batch))
    return sorted(broken)


def _parse_one_by_one(paths: list[Path], todo: list[int], results: list[WorkbookReport | None],
                      entries: list[Slot | None], schema: Schema, reference: Reference | None,
                      advance: Callable[[int], None], sharing: Sharing) -> None:
    pool: ProcessPoolExecutor | None = None
    try:
        for i in todo:
            if pool is None:
                pool = ProcessPoolExecutor(max_workers=1, initializer=_init_worker,
                                           initargs=(schema, reference, worker_guard()))
            try:
                sent = pool.submit(_read_in_worker, paths[i], entries[i]).result()
                results[i] = sharing.share(_received(sent, paths[i], schema, reference))
            except BrokenProcessPool:
                results[i] = set_aside(paths[i], CRASH_REASON)
                pool.shutdown(wait=True)
                pool = None
            except Exception:  # noqa: BLE001
                results[i] = set_aside(paths[i], UNEXPECTED_REASON)
            advance(1)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
