"""`historique-pvd.sqlite` (docs/historique.md, Les tables): every period consolidated, for analysts.

One table per summary table (the very rows of the summary workbook, through the same row
builders), plus `changements` and `meta`. Columns are the workbook's headers in snake_case
without accents; every data row carries `periode`, `id_pvd`, `territoire`, `fichier`, `onglet`,
`ligne`; dates are ISO text, money euros rounded to the cent. Written to a temporary file, then
moved into place: a reader never sees half a database.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pvd_reporting import __version__
from pvd_reporting.atomic import atomic_write
from pvd_reporting.consolidate.view import Change, Consolidation, to_cent
from pvd_reporting.format.issues import json_value
from pvd_reporting.format.matching import norm
from pvd_reporting.format.schema import Schema
from pvd_reporting.outputs.anomalies import Masker
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
from pvd_reporting.outputs.summary.cells import (
    DATE,
    INT,
    MONEY,
    NUMBER,
    PERCENT,
)
from pvd_reporting.outputs.summary.workbook import (
    SHEET_ORDER,
    anomaly_items,
    data_columns,
    data_rows,
    data_sheet_columns,
)

DB_NAME = "historique-pvd.sqlite"
# The columns every data row carries, in this order at the start of each table.
PERIOD, ID, TERRITORY = "periode", "id_pvd", "territoire"
SOURCE_COLUMNS = ("fichier", "onglet", "ligne")
_SQL_TYPES = {MONEY: "REAL", NUMBER: "REAL", PERCENT: "REAL", INT: "INTEGER", DATE: "TEXT"}


def snake(header: str) -> str:
    """`Coût total HT (€)` -> `cout_total_ht`: the header, lower case, without accents."""
    text = re.sub(r"[^a-z0-9]+", "_", norm(header)).strip("_")
    return text or "colonne"


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
    data = {key: _data_table(key, schema, no_contacts) for key in ("communes", *SHEET_ORDER)}
    anomaly_cols = [*anomaly_identity(schema), *ANOMALY_DETAIL, ANOMALY_FILE, ANOMALY_ROW]
    anomalies = _Table("anomalies", anomaly_cols)
    source_cols = _sources_columns(schema)
    sources = _Table("sources", source_cols)
    ordered = list(periods)
    for c in ordered:
        period = c.region.period
        mask = Masker(c, no_contacts)
        ctx = RowContext(period, no_contacts, c)
        for t in c.territories:
            territories.add(period, territory_row(territory_cols, t, ctx))
        for key, (table, fields) in data.items():
            for row in data_rows(c, schema, key, fields, mask if no_contacts else None):
                table.add(period, row)
        for item in anomaly_items(c, schema, no_contacts):
            anomalies.add(period, table_row(anomaly_cols, item, ctx))
        for report in c.reports:
            sources.add(period, table_row(source_cols, report, ctx))
    table = _Table("changements", CHANGE_COLUMNS)
    if ordered:
        last = ordered[-1]
        mask = Masker(last, no_contacts)
        for ch in changes:
            path = change_source(ch, ordered[::-1][:2])
            before, after = _change_value(ch.before), _change_value(ch.after)
            if no_contacts:
                before, after = mask(before), mask(after)
            table.add(last.region.period, [ch.id_pvd, ch.territory, ch.kind, ch.element, before, after, path,
                                           None, None])
    return [territories, *(t for t, _ in data.values()), anomalies, sources, table]


def write_history_db(consolidation: Consolidation, output_dir: Path, schema: Schema, *,
                     no_contacts: bool = False, written_at: datetime | None = None) -> Path:
    """Write `historique-pvd.sqlite` for the consolidation and its history; returns its path."""
    history = consolidation.history
    periods = list(history.periods.values()) if history is not None else [consolidation]
    changes = history.changes if history is not None else []
    tables = build_tables(periods, changes, schema, no_contacts)
    stamp = (written_at or datetime.now(UTC)).replace(microsecond=0).isoformat()
    meta = [("format_version", schema.version), ("region", schema.config.region_name),
            ("pvd_report_version", __version__), ("written_at", stamp),
            ("periode_consolidee", consolidation.region.period),
            ("periodes", ",".join(c.region.period for c in periods)),
            ("contacts", "non" if no_contacts else "oui")]

    def write(tmp: Path) -> None:
        try:
            db = sqlite3.connect(tmp)
            try:
                with db:
                    for table in tables:
                        table.create(db)
                    db.execute('CREATE TABLE "meta" ("cle" TEXT PRIMARY KEY, "valeur" TEXT)')
                    db.executemany('INSERT INTO "meta" VALUES (?, ?)', meta)
            finally:
                db.close()
        except sqlite3.Error as exc:
            # A full disk or a locked folder is a write failure like any other: the temporary
            # file is removed and the user is told in French (atomic.py, pipeline).
            raise OSError(f"base SQLite : {exc}") from None

    return atomic_write(Path(output_dir) / DB_NAME, write)
