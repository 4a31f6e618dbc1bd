"""`historique-pvd.sqlite` (docs/historique.md, Les tables): every period consolidated, for analysts.

One table per summary table (the very rows of the summary workbook, through the same row
builders), plus `changements` and `meta`. Columns are the workbook's headers in snake_case
without accents; every data row carries `periode`, `id_pvd`, `territoire`, `fichier`, `onglet`,
`ligne`; dates are ISO text, money euros rounded to the cent. Written to a temporary file, then
moved into place: a reader never sees half a database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pvd_reporting import __version__
from pvd_reporting.atomic import atomic_write
from pvd_reporting.consolidate.batch import CONSOLIDATED_PLACEMENT, TO_CHECK_PLACEMENT
from pvd_reporting.consolidate.quarters import Published, published_figures, revised_declarations
from pvd_reporting.consolidate.view import (
    REMAINING_LABEL,
    STATUS_LABEL,
    Change,
    Consolidation,
    to_cent,
)
from pvd_reporting.format.history import (
    DB_NAME,
    FIGURE,
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
    TERRITORY,
    VALUE,
    snake,
)
from pvd_reporting.format.issues import json_value
from pvd_reporting.format.reference import Reference
from pvd_reporting.format.schema import NOT_FILLED, NOT_RECEIVED, ORT_STATUSES, TABLE_KEYS, Schema
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

SIGNED_STATUS = ORT_STATUSES[0]
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

    def create(self, db: sqlite3.Connection) -> None:
        types = ["TEXT", *(_SQL_TYPES.get(k, "TEXT") for k in self.kinds)]
        columns = ", ".join(f'"{n}" {t}' for n, t in zip(self.names, types, strict=True))
        db.execute(f'CREATE TABLE "{self.name}" ({columns})')
        marks = ", ".join("?" for _ in self.names)
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


def build_tables(periods: Sequence[Consolidation], changes: list[Change], schema: Schema,
                 no_contacts: bool) -> list[_Table]:
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


def write_history_db(consolidation: Consolidation, output_dir: Path, schema: Schema, *,
                     no_contacts: bool = False, written_at: datetime | None = None,
                     reference: Reference | None = None) -> Path:
    """Write `historique-pvd.sqlite` for the consolidation and its history; returns its path."""
    history = consolidation.history
    periods = list(history.periods.values()) if history is not None else [consolidation]
    changes = history.changes if history is not None else []
    tables = build_tables(periods, changes, schema, no_contacts)
    figures = [(c.region.period, label, value) for c in periods
               for label, value in published_figures(c, schema).items()]
    stamp = (written_at or datetime.now(UTC)).replace(microsecond=0).isoformat()
    meta = [(META_FORMAT, schema.version), (META_REGION, schema.config.region_name),
            (META_VERSION, __version__), (META_WRITTEN, stamp),
            ("periode_consolidee", consolidation.region.period),
            (META_PERIODS, ",".join(c.region.period for c in periods)),
            (META_SCOPE, consolidation.region.scope),
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
                    for table in tables:
                        table.create(db)
                    db.execute(f'CREATE TABLE "{FIGURES_TABLE}" ("{PERIOD}" TEXT, "{FIGURE}" TEXT, "{VALUE}" REAL)')
                    db.executemany(f'INSERT INTO "{FIGURES_TABLE}" VALUES (?, ?, ?)', figures)
                    db.execute('CREATE TABLE "meta" ("cle" TEXT PRIMARY KEY, "valeur" TEXT)')
                    db.executemany('INSERT INTO "meta" VALUES (?, ?)', meta)
                    db.execute(f'CREATE TABLE "{FINANCERS_TABLE}" ({financer_columns})')
                    db.executemany(f'INSERT INTO "{FINANCERS_TABLE}" VALUES (?, ?, ?)', financers)
            finally:
                db.close()
        except sqlite3.Error as exc:
            # A full disk or a locked folder is a write failure like any other: the temporary
            # file is removed and the user is told in French (atomic.py, pipeline).
            raise OSError(f"base SQLite : {exc}") from None

    return atomic_write(Path(output_dir) / DB_NAME, write)


def read_published(path: Path, schema: Schema) -> Published | None:
    """The figures and workbooks of every period in an existing history file, read before this
    run rewrites it; None when there is none, or it cannot be read (nothing to compare)."""
    if not Path(path).is_file():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        meta = dict(db.execute('SELECT "cle", "valeur" FROM "meta"').fetchall())
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        figures: dict[str, dict[str, float | None]] = {}
        if FIGURES_TABLE in names:
            for period, label, value in db.execute(f'SELECT "{PERIOD}", "{FIGURE}", "{VALUE}" FROM "{FIGURES_TABLE}"'):
                figures.setdefault(period, {})[label] = value
        else:
            figures = _figures_from_territories(db, schema)
        sources: dict[str, dict[str, str]] = {}
        for period, file, sha, counted in db.execute(
                f'SELECT "{PERIOD}", "fichier", "sha_256", "prise_en_compte" FROM "sources"'):
            if counted in (CONSOLIDATED_PLACEMENT, TO_CHECK_PLACEMENT):
                sources.setdefault(period, {})[file] = sha or ""
    except sqlite3.Error:
        return None
    finally:
        db.close()
    # A file written before the scope was recorded was the whole région's.
    scope = meta.get("perimetre") or meta.get("region") or ""
    return Published(scope, figures, sources)


def _figures_from_territories(db: sqlite3.Connection, schema: Schema) -> dict[str, dict[str, float | None]]:
    """The published figures of a history file written before the `chiffres` table existed."""
    cost = schema.table("engagements").column("cost").label
    financers = [snake(f.label) for f in schema.financer_fields]
    money = " + ".join(f'COALESCE("{c}", 0)' for c in financers) or "0"
    status = snake(STATUS_LABEL)
    rows = db.execute(
        f'SELECT "{PERIOD}", SUM("{status}" NOT IN (?, ?)), SUM("{status}" = ?), '
        f'SUM(COALESCE("{snake(cost)}", 0)), SUM({money}), SUM(COALESCE("{snake(REMAINING_LABEL)}", 0)) '
        f'FROM "territoires" GROUP BY "{PERIOD}"', (NOT_RECEIVED, NOT_FILLED, SIGNED_STATUS))
    labels = [d.label for d in revised_declarations(schema)]  # received, signed, cost, financed, remaining
    return {period: dict(zip(labels, (received, signed, to_cent(c), to_cent(f), to_cent(r)), strict=True))
            for period, received, signed, c, f, r in rows}


def recorded_workbooks(path: Path) -> tuple[list[Path], list[str]]:
    """The workbooks a history file was built from (its `sources`), as recorded, and the
    notices for those no longer on disk; raises OSError when it is not a history file."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = db.execute('SELECT DISTINCT "fichier" FROM "sources" ORDER BY "fichier"').fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise OSError(f"{path} n'est pas un fichier {DB_NAME} lisible ({exc})") from None
    found, gone = [], []
    for (name,) in rows:
        if name and Path(name).is_file():
            found.append(Path(name))
        elif name:
            gone.append(f"{name} : classeur enregistré dans {Path(path).name}, introuvable sur le disque.")
    return found, gone
