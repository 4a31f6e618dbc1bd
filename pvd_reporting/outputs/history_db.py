"""`historique-pvd.sqlite` (docs/historique.md, Les tables): every period consolidated, for analysts.

One table per summary table (the very rows of the summary workbook, through the same row
builders), plus `changements` and `meta`. Columns are the workbook's headers in snake_case
without accents; every data row carries `periode`, `id_pvd`, `territoire`, `fichier`, `onglet`,
`ligne`; dates are ISO text, money euros rounded to the cent. Written to a temporary file, then
moved into place: a reader never sees half a database.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pvd_reporting import __version__
from pvd_reporting.atomic import atomic_write, remove_quietly
from pvd_reporting.cache import program_digest
from pvd_reporting.consolidate.figures import Declared, Totals, totals_of
from pvd_reporting.consolidate.published import Published, recorded_declarations, recorded_value
from pvd_reporting.consolidate.view import (
    Consolidation,
)
from pvd_reporting.format.history import (
    DB_NAME,
    FIGURE_COLUMNS,
    FIGURES_TABLE,
    FINANCER_COLUMNS,
    FINANCERS_TABLE,
    META_AS_OF,
    META_CONSOLIDATED,
    META_CONTACTS,
    META_DEPARTMENTS,
    META_FORMAT,
    META_PERIODS,
    META_PROGRAM,
    META_REFERENCE,
    META_REFERENCE_DIGEST,
    META_REGION,
    META_REGION_CODE,
    META_SCOPE,
    META_VERSION,
    META_WRITTEN,
    NO_REFERENCE,
    PUBLICATION_COLUMNS,
    PUBLICATIONS_TABLE,
    WORKBOOK_COLUMNS,
    WORKBOOKS_TABLE,
)
from pvd_reporting.format.reference import Reference
from pvd_reporting.format.schema import Schema
from pvd_reporting.outputs.columns import (
    territory_columns,
)
from pvd_reporting.outputs.history_tables import COPIED_TABLES, Table, Tables


def declared_columns(schema: Schema) -> dict[str, list[str]]:
    """Each table a history file of this configuration holds, with its columns (with contacts)."""
    return {t.name: t.names for t in Tables(schema, no_contacts=False).all}


def _territory_column(territories: Table, schema: Schema, header: str) -> str:
    """A column's name in `territoires` as written: « Département (€) » is `departement_2` there,
    after the territory's own `departement`."""
    headers = [c.header for c in territory_columns(schema)]
    return territories.names[headers.index(header) + 1]


def _publications(consolidation: Consolidation, published: Published | None, stamp: str, scope: str,
                  schema: Schema, recomputed: dict[str, Consolidation]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(publications rows, chiffres rows): the record's earlier versions, and a new version of
    every period whose files changed since it was published (or never published)."""
    history = consolidation.history
    digests = history.digests if history is not None else {}
    counts = Counter(f.period for f in history.fates) if history is not None else Counter()
    publications = list(published.publication_rows) if published is not None else []
    figures = list(published.figure_rows) if published is not None else []
    declared = recorded_declarations(schema)
    for period, c in recomputed.items():
        digest = digests.get(period, "")
        if published is not None and published.unchanged(period, digest):
            continue
        version = (published.versions[period][0] + 1) if published is not None and period in published.versions else 1
        publications.append((period, version, stamp, digest, scope, counts.get(period, 0)))
        totals = totals_of(c, schema)
        figures.extend((period, d.label, published_value(d, c, totals), version, d.key) for d in declared)
    return publications, figures


def write_history_db(consolidation: Consolidation, output_dir: Path, schema: Schema, *,
                     no_contacts: bool = False, written_at: datetime | None = None,
                     reference: Reference | None = None, published: Published | None = None) -> Path:
    """Write `historique-pvd.sqlite` for the consolidation and its history; returns its path.

    `published`: what this folder's history file held before (same scope). A period whose files
    did not change since is its record: its rows are copied from that file, not rebuilt, and
    its publication stays; a period whose files changed gets a new version beside the old.
    """
    return HistoryDb(consolidation, output_dir, schema, no_contacts=no_contacts, written_at=written_at,
                     reference=reference, published=published).finish()


class HistoryDb:
    """`write_history_db` in two steps. `write_earlier()`: every table, with the earlier periods'
    territories and workbook rows (the bulk of the file), written while nothing else runs;
    `finish()`: the consolidated period's rows and the rest, then the file moved into place.

    consolidate forks its writer process between the two: this process then no longer reads
    the earlier quarters' rows, whose memory the fork keeps shared instead of copied
    (docs/vitesse.md). Without `write_earlier()`, `finish()` writes everything.
    """

    def __init__(self, consolidation: Consolidation, output_dir: Path, schema: Schema, *,
                 no_contacts: bool = False, written_at: datetime | None = None,
                 reference: Reference | None = None, published: Published | None = None) -> None:
        self.consolidation, self.schema, self.no_contacts = consolidation, schema, no_contacts
        self.written_at, self.reference, self.published = written_at, reference, published
        self.path = Path(output_dir) / DB_NAME
        history = consolidation.history
        self.periods = list(history.periods.values()) if history is not None else [consolidation]
        # The file as it was before this run: the output folder's, read by the caller (the run
        # writes into a staging folder of its own).
        self.old = published.path if published is not None and published.path is not None else self.path
        digests = history.digests if history is not None else {}
        self.kept = [] if published is None or published.contacts == no_contacts or not self.old.is_file() else [
            c.region.period for c in self.periods if (c is not consolidation or self._same_run(published))
            and published.unchanged(c.region.period, digests.get(c.region.period, ""))]
        self.tables = Tables(schema, no_contacts)
        if self.kept and not _same_columns(self.old, self.tables.all):
            self.kept = []
        self._partial: Path | None = None

    def _same_run(self, published: Published) -> bool:
        """Whether the file was written for this very period, reference date, reference list
        and program: then its rows of the period consolidated are this run's too, when its
        files are unchanged (a second run over the same folder copies them, not rebuilds them)."""
        region, reference = self.consolidation.region, self.reference
        meta = published.meta
        return (meta.get(META_CONSOLIDATED) == region.period and meta.get(META_AS_OF) == region.as_of.isoformat()
                and meta.get(META_PROGRAM) == program_digest()
                and meta.get(META_REFERENCE_DIGEST) == _digest_of(reference))

    def _earlier(self) -> list[Consolidation]:
        return [c for c in self.periods if c is not self.consolidation and c.region.period not in self.kept]

    def write_earlier(self) -> None:
        """Every table, the copied periods' rows and the earlier periods' (see the class). With
        no earlier period to rebuild (each read back from the record, or none), nothing yet:
        SQLite's copy reads no object of this process, and is done by `finish()` beside the
        writer process."""
        if not self._earlier():
            return
        partial = self.path.with_name(f".{DB_NAME}.{secrets.token_hex(4)}.partiel")
        atomic_write(partial, self._begin)
        self._partial = partial

    def abandon(self) -> None:
        """The run failed between the two steps: nothing is left behind."""
        if self._partial is not None:
            remove_quietly(self._partial)
            self._partial = None

    def finish(self) -> Path:
        """The rest of the file, then the file moved into place; returns its path."""

        def write(tmp: Path) -> None:
            if self._partial is None:
                self._begin(tmp)
            else:
                os.replace(self._partial, tmp)
                self._partial = None
            self._end(tmp)

        return atomic_write(self.path, write)

    def _begin(self, tmp: Path) -> None:
        kept = self.kept
        with _connection(tmp) as db:
            with db:
                if kept:
                    db.execute("ATTACH DATABASE ? AS old", (str(self.old),))
                for table in self.tables.all:
                    table.create(db, copied=kept if table.name in COPIED_TABLES else ())
                for c in self._earlier():
                    self.tables.add_workbook_rows(db, c)
            if kept:
                db.execute("DETACH DATABASE old")

    def _end(self, tmp: Path) -> None:
        consolidation, schema, tables = self.consolidation, self.schema, self.tables
        history = consolidation.history
        stamp = (self.written_at or datetime.now(UTC)).replace(microsecond=0).isoformat()
        scope = consolidation.region.scope
        recomputed = {c.region.period: c for c in self.periods}
        publications, figures = _publications(consolidation, self.published, stamp, scope, schema, recomputed)
        fates = [(f.sha256, f.path, f.id_pvd, f.territory, f.period, f.outcome, f.reason)
                 for f in (history.fates if history is not None else [])]
        reference = self.reference
        meta = [(META_FORMAT, schema.version), (META_REGION, schema.config.region_name),
                (META_VERSION, __version__), (META_WRITTEN, stamp),
                (META_CONSOLIDATED, consolidation.region.period),
                (META_AS_OF, consolidation.region.as_of.isoformat()), (META_PROGRAM, program_digest()),
                (META_PERIODS, ",".join(c.region.period for c in self.periods)),
                (META_SCOPE, scope),
                (META_DEPARTMENTS, ",".join(consolidation.region.departments)),
                (META_REFERENCE, reference.source if reference is not None else NO_REFERENCE),
                (META_REFERENCE_DIGEST, _digest_of(reference)),
                (META_CONTACTS, "non" if self.no_contacts else "oui"), (META_REGION_CODE, schema.config.region_code)]
        # `colonne` is the column's name in `territoires`.
        financer_columns = ", ".join(f'"{c}" TEXT' for c in FINANCER_COLUMNS)
        financers = [(_territory_column(tables.territories, schema, f.label), f.financer,
                      schema.config.category(f.financer or f.label)) for f in schema.financer_fields]
        with _connection(tmp) as db, db:
            if consolidation in self.periods and consolidation.region.period not in self.kept:
                tables.add_workbook_rows(db, consolidation)
            tables.add_said_again(db, self.periods, history.changes if history is not None else [])
            for table in tables.all:
                table.index(db)
            _create(db, PUBLICATIONS_TABLE, PUBLICATION_COLUMNS, ("TEXT", "INTEGER", "TEXT", "TEXT", "TEXT", "INTEGER"),
                    publications)
            _create(db, FIGURES_TABLE, FIGURE_COLUMNS, ("TEXT", "TEXT", "REAL", "INTEGER", "TEXT"), figures)
            _create(db, WORKBOOKS_TABLE, WORKBOOK_COLUMNS, ("TEXT",) * len(WORKBOOK_COLUMNS), fates)
            db.execute('CREATE TABLE "meta" ("cle" TEXT PRIMARY KEY, "valeur" TEXT)')
            db.executemany('INSERT INTO "meta" VALUES (?, ?)', meta)
            db.execute(f'CREATE TABLE "{FINANCERS_TABLE}" ({financer_columns})')
            db.executemany(f'INSERT INTO "{FINANCERS_TABLE}" VALUES (?, ?, ?)', financers)


def _digest_of(reference: Reference | None) -> str:
    """The reference list as `meta` records it (blank with --no-reference)."""
    return reference.digest if reference is not None else ""


@contextlib.contextmanager
def _connection(path: Path) -> Iterator[sqlite3.Connection]:
    """The file open; a full disk or a locked folder is a write failure like any other: the
    temporary file is removed and the user is told in French (atomic.py, pipeline)."""
    try:
        db = sqlite3.connect(path)
        # A temporary file, moved into place once whole: a crash leaves only it behind, for
        # the next run to remove. No rollback journal and no wait for the disk at each commit.
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        try:
            yield db
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise OSError(f"base SQLite : {exc}") from None


def _create(db: sqlite3.Connection, name: str, columns: Sequence[str], types: Sequence[str],
            rows: list[tuple[Any, ...]]) -> None:
    db.execute(f'CREATE TABLE "{name}" ({", ".join(f"{c!r} {t}".replace(chr(39), chr(34)) for c, t in zip(columns, types, strict=True))})')
    db.executemany(f'INSERT INTO "{name}" VALUES ({", ".join("?" for _ in columns)})', rows)


def _same_columns(path: Path, tables: list[Table]) -> bool:
    """Whether the earlier history file's data tables have this run's columns: its rows can be copied."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            for table in tables:
                found = [row[1] for row in db.execute(f'PRAGMA table_info("{table.name}")')]
                if found != table.names:
                    return False
        finally:
            db.close()
    except sqlite3.Error:
        return False
    return True


def published_value(declared: Declared, c: Consolidation, totals: Totals) -> float | None:
    """A figure as the record keeps it (`totals`: those of `c`); the value read back for a
    period not recomputed."""
    if c.recorded is not None and declared.key in c.recorded:
        return c.recorded[declared.key]
    return recorded_value(declared, declared.value(totals))
