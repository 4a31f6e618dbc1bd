"""`historique-pvd.sqlite` (docs/historique.md, Les tables): every period consolidated, for analysts.

One table per summary table (the very rows of the summary workbook, through the same row
builders), plus `changements` and `meta`. Columns are the workbook's headers in snake_case
without accents; every data row carries `periode`, `id_pvd`, `territoire`, `fichier`, `onglet`,
`ligne`; dates are ISO text, money euros rounded to the cent. Written to a temporary file, then
moved into place: a reader never sees half a database.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pvd_reporting import __version__
from pvd_reporting.atomic import atomic_write
from pvd_reporting.consolidate.figures import Declared, Totals, totals_of
from pvd_reporting.consolidate.published import Published, recorded_declarations, recorded_value
from pvd_reporting.consolidate.view import (
    Change,
    Consolidation,
    to_cent,
)
from pvd_reporting.format.history import (
    DB_NAME,
    FIGURE_COLUMNS,
    FIGURES_TABLE,
    FINANCER_COLUMNS,
    FINANCERS_TABLE,
    ID,
    META_CONTACTS,
    META_DEPARTMENTS,
    META_FORMAT,
    META_PERIODS,
    META_REFERENCE,
    META_REFERENCE_DIGEST,
    META_REGION,
    META_REGION_CODE,
    META_SCOPE,
    META_VERSION,
    META_WRITTEN,
    NO_REFERENCE,
    PERIOD,
    PUBLICATION_COLUMNS,
    PUBLICATIONS_TABLE,
    TERRITORY,
    WORKBOOK_COLUMNS,
    WORKBOOKS_TABLE,
    snake,
)
from pvd_reporting.format.issues import json_value
from pvd_reporting.format.reference import Reference
from pvd_reporting.format.schema import TABLE_KEYS, Schema
from pvd_reporting.outputs.columns import (
    ANOMALY_DETAIL,
    ANOMALY_FILE,
    ANOMALY_ROW,
    Column,
    RowContext,
    anomaly_identity,
    report_identity,
    source_columns,
    table_row,
    territory_columns,
    territory_row,
)
from pvd_reporting.outputs.privacy import ContactMask
from pvd_reporting.outputs.summary.cells import (
    DATE,
    INT,
    MONEY,
    NUMBER,
    PERCENT,
)
from pvd_reporting.outputs.summary.workbook import (
    anomaly_items,
    data_columns,
    data_rows,
    data_sheet_columns,
)

# The columns every data row carries, in this order at the start of each table.
SOURCE_COLUMNS = ("fichier", "onglet", "ligne")
_SQL_TYPES = {MONEY: "REAL", NUMBER: "REAL", PERCENT: "REAL", INT: "INTEGER", DATE: "TEXT"}


def _unique(names: Iterable[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        n = seen.get(name, 0)
        seen[name] = n + 1
        out.append(name if n == 0 else f"{name}_{n + 1}")
    return out


def _sql_value(value: Any, kind: str) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if kind == MONEY and isinstance(value, (int, float)):
        return to_cent(float(value))
    if isinstance(value, (int, float, str)):
        return value
    return str(json_value(value))


class _Table:
    """A table built from summary columns: `[id, territory, *middle, controle, fichier, onglet, ligne]`."""

    def __init__(self, name: str, columns: Sequence[Column]) -> None:
        self.name = name
        self.kinds = [c.kind for c in columns]
        headers = [snake(c.header) for c in columns]
        # The summary's two identifying columns and its source columns under the names analysts expect.
        headers[0], headers[1] = ID, TERRITORY
        self.names = _unique([PERIOD, *headers])
        self.rows: list[tuple[Any, ...]] = []

    def add(self, period: str, row: Sequence[Any]) -> None:
        # The common cases inline: this runs for every cell of every period (docs/vitesse.md).
        out: list[Any] = [period]
        for value, kind in zip(row, self.kinds, strict=True):
            t = type(value)
            if t is str:
                out.append(value or None)
            elif value is None:
                out.append(None)
            elif t is float:
                out.append(to_cent(value) if kind == MONEY else value)
            elif t is int:
                out.append(value)
            else:
                out.append(_sql_value(value, kind))
        self.rows.append(tuple(out))

    def create(self, db: sqlite3.Connection, copied: Sequence[str] = ()) -> None:
        """The table with its rows; those of the `copied` periods from the attached `old` file."""
        types = ["TEXT", *(_SQL_TYPES.get(k, "TEXT") for k in self.kinds)]
        columns = ", ".join(f'"{n}" {t}' for n, t in zip(self.names, types, strict=True))
        db.execute(f'CREATE TABLE "{self.name}" ({columns})')
        marks = ", ".join("?" for _ in self.names)
        if copied:
            # A period whose files did not change is read back from the record, not rebuilt.
            db.execute(f'INSERT INTO "{self.name}" SELECT * FROM old."{self.name}" WHERE "{PERIOD}" IN '
                       f'({", ".join("?" for _ in copied)})', tuple(copied))
        db.executemany(f'INSERT INTO "{self.name}" VALUES ({marks})', self.rows)
        db.execute(f'CREATE INDEX "ix_{self.name}_periode_id_pvd" ON "{self.name}" ("{PERIOD}", "{ID}")')




def _data_table(key: str, schema: Schema, no_contacts: bool) -> tuple[_Table, list[Any]]:
    fields = data_sheet_columns(schema, key, no_contacts)
    return _Table(key, data_columns(schema, fields)), fields


CHANGE_COLUMNS = [Column("id"), Column("territoire"), Column("Type"), Column("Élément"), Column("Avant"),
                  Column("Après"), Column("Fichier"), Column("Onglet"), Column("Ligne", INT)]


def _sources_columns(schema: Schema) -> list[Column]:
    """The Sources sheet's columns, the territory's identity first as in every other table."""
    ident = {c.header for c in report_identity(schema)}
    columns = source_columns(schema)
    return [*(c for c in columns if c.header in ident), *(c for c in columns if c.header not in ident),
            Column("Onglet"), Column("Ligne", INT)]


def _change_value(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return to_cent(value)
    return value


def change_source(change: Change, consolidations: Sequence[Consolidation]) -> str | None:
    """The workbook the change was read in: the period's, else (a workbook not sent) T-1's."""
    for c in consolidations:
        for t in c.territories:
            if t.key == change.key and t.report is not None:
                return t.report.path
    return None


# What a period read back takes from the record: its territories and its workbooks' rows. Its
# sources and anomalies are said again (a period consolidated lists every workbook read).
COPIED_TABLES = frozenset({"territoires", *TABLE_KEYS})


def build_tables(periods: Sequence[Consolidation], changes: list[Change], schema: Schema,
                 no_contacts: bool, skip: set[str] | frozenset[str] = frozenset()) -> list[_Table]:
    """Every table's rows; those of `territoires` and the workbook tables but for the `skip`
    periods (copied from the record, COPIED_TABLES)."""
    territory_cols = territory_columns(schema)
    territories = _Table("territoires", territory_cols)
    data = {key: _data_table(key, schema, no_contacts) for key in TABLE_KEYS}
    anomaly_cols = [*anomaly_identity(schema), *ANOMALY_DETAIL, ANOMALY_FILE, ANOMALY_ROW]
    anomalies = _Table("anomalies", anomaly_cols)
    source_cols = _sources_columns(schema)
    sources = _Table("sources", source_cols)
    ordered = list(periods)
    for c in ordered:
        period = c.region.period
        mask = ContactMask(schema, no_contacts)
        ctx = RowContext(period, no_contacts, c)
        if period not in skip:
            for t in c.territories:
                territories.add(period, territory_row(territory_cols, t, ctx))
            for key, (table, fields) in data.items():
                for row in data_rows(c, schema, key, fields, mask):
                    table.add(period, row)
        for item in anomaly_items(c, schema, no_contacts):
            anomalies.add(period, table_row(anomaly_cols, item, ctx))
        for report in c.reports:
            sources.add(period, table_row(source_cols, report, ctx))
    table = _Table("changements", CHANGE_COLUMNS)
    if ordered:
        last = ordered[-1]
        mask = ContactMask(schema, no_contacts)
        for ch in changes:
            path = change_source(ch, ordered[::-1][:2])
            before, after = (_change_value(v) for v in mask.change(ch))
            table.add(last.region.period, [ch.id_pvd, ch.territory, ch.kind, ch.element, before, after, path,
                                           None, None])
    return [territories, *(t for t, _ in data.values()), anomalies, sources, table]


def declared_columns(schema: Schema) -> dict[str, list[str]]:
    """Each table a history file of this configuration holds, with its columns (with contacts)."""
    return {t.name: t.names for t in build_tables([], [], schema, no_contacts=False)}


def _territory_column(territories: _Table, schema: Schema, header: str) -> str:
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
    history = consolidation.history
    periods = list(history.periods.values()) if history is not None else [consolidation]
    changes = history.changes if history is not None else []
    # The file as it was before this run: the output folder's, read by the caller (the run
    # writes into a staging folder of its own).
    old = published.path if published is not None and published.path is not None else Path(output_dir) / DB_NAME
    digests = history.digests if history is not None else {}
    kept = [] if published is None or published.contacts == no_contacts or not old.is_file() else [
        c.region.period for c in periods if c is not consolidation
        and published.unchanged(c.region.period, digests.get(c.region.period, ""))]
    tables = build_tables(periods, changes, schema, no_contacts, skip=set(kept))
    if kept and not _same_columns(old, tables):
        kept = []
        tables = build_tables(periods, changes, schema, no_contacts)
    stamp = (written_at or datetime.now(UTC)).replace(microsecond=0).isoformat()
    scope = consolidation.region.scope
    recomputed = {c.region.period: c for c in periods}
    publications, figures = _publications(consolidation, published, stamp, scope, schema, recomputed)
    fates = [(f.sha256, f.path, f.id_pvd, f.territory, f.period, f.outcome, f.reason)
             for f in (history.fates if history is not None else [])]
    meta = [(META_FORMAT, schema.version), (META_REGION, schema.config.region_name),
            (META_VERSION, __version__), (META_WRITTEN, stamp),
            ("periode_consolidee", consolidation.region.period),
            (META_PERIODS, ",".join(c.region.period for c in periods)),
            (META_SCOPE, scope),
            (META_DEPARTMENTS, ",".join(consolidation.region.departments)),
            (META_REFERENCE, reference.source if reference is not None else NO_REFERENCE),
            (META_REFERENCE_DIGEST, reference.digest if reference is not None else ""),
            (META_CONTACTS, "non" if no_contacts else "oui"), (META_REGION_CODE, schema.config.region_code)]
    # `colonne` is the column's name in `territoires`.
    financer_columns = ", ".join(f'"{c}" TEXT' for c in FINANCER_COLUMNS)
    financers = [(_territory_column(tables[0], schema, f.label), f.financer,
                  schema.config.category(f.financer or f.label)) for f in schema.financer_fields]

    def write(tmp: Path) -> None:
        try:
            db = sqlite3.connect(tmp)
            try:
                with db:
                    if kept:
                        db.execute("ATTACH DATABASE ? AS old", (str(old),))
                    for table in tables:
                        table.create(db, copied=kept if table.name in COPIED_TABLES else ())
                    _create(db, PUBLICATIONS_TABLE, PUBLICATION_COLUMNS, ("TEXT", "INTEGER", "TEXT", "TEXT", "TEXT", "INTEGER"),
                            publications)
                    _create(db, FIGURES_TABLE, FIGURE_COLUMNS, ("TEXT", "TEXT", "REAL", "INTEGER", "TEXT"), figures)
                    _create(db, WORKBOOKS_TABLE, WORKBOOK_COLUMNS, ("TEXT",) * len(WORKBOOK_COLUMNS), fates)
                    db.execute('CREATE TABLE "meta" ("cle" TEXT PRIMARY KEY, "valeur" TEXT)')
                    db.executemany('INSERT INTO "meta" VALUES (?, ?)', meta)
                    db.execute(f'CREATE TABLE "{FINANCERS_TABLE}" ({financer_columns})')
                    db.executemany(f'INSERT INTO "{FINANCERS_TABLE}" VALUES (?, ?, ?)', financers)
                if kept:
                    db.execute("DETACH DATABASE old")
            finally:
                db.close()
        except sqlite3.Error as exc:
            # A full disk or a locked folder is a write failure like any other: the temporary
            # file is removed and the user is told in French (atomic.py, pipeline).
            raise OSError(f"base SQLite : {exc}") from None

    return atomic_write(Path(output_dir) / DB_NAME, write)


def _create(db: sqlite3.Connection, name: str, columns: Sequence[str], types: Sequence[str],
            rows: list[tuple[Any, ...]]) -> None:
    db.execute(f'CREATE TABLE "{name}" ({", ".join(f"{c!r} {t}".replace(chr(39), chr(34)) for c, t in zip(columns, types, strict=True))})')
    db.executemany(f'INSERT INTO "{name}" VALUES ({", ".join("?" for _ in columns)})', rows)


def _same_columns(path: Path, tables: list[_Table]) -> bool:
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
