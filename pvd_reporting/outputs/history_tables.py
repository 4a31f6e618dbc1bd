"""The tables of `historique-pvd.sqlite` (docs/historique.md, Les tables) and what makes their rows:
the summary's columns, each row converted as SQLite stores it (dates ISO text, euros to the cent).
history_db.py writes the file with them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from pvd_reporting.consolidate.view import Change, Consolidation, to_cent
from pvd_reporting.format.history import ID, PERIOD, TERRITORY, snake
from pvd_reporting.format.issues import json_value
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
from pvd_reporting.outputs.summary.cells import DATE, INT, MONEY, NUMBER, PERCENT
from pvd_reporting.outputs.summary.workbook import (
    anomaly_items,
    data_columns,
    data_sheet_columns,
    iter_data_rows,
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


class Table:
    """A table built from summary columns: `[id, territory, *middle, controle, fichier, onglet, ligne]`.

    Holds no rows: each is made as SQLite takes it (`insert`), so that the database of four
    quarters never exists as one list of tuples besides the consolidation (docs/vitesse.md).
    """

    def __init__(self, name: str, columns: Sequence[Column]) -> None:
        self.name = name
        self.kinds = [c.kind for c in columns]
        headers = [snake(c.header) for c in columns]
        # The summary's two identifying columns and its source columns under the names analysts expect.
        headers[0], headers[1] = ID, TERRITORY
        self.names = _unique([PERIOD, *headers])

    def row(self, period: str, row: Sequence[Any]) -> tuple[Any, ...]:
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
        return tuple(out)

    def create(self, db: sqlite3.Connection, copied: Sequence[str] = ()) -> None:
        """The empty table; with the rows of the `copied` periods from the attached `old` file."""
        types = ["TEXT", *(_SQL_TYPES.get(k, "TEXT") for k in self.kinds)]
        columns = ", ".join(f'"{n}" {t}' for n, t in zip(self.names, types, strict=True))
        db.execute(f'CREATE TABLE "{self.name}" ({columns})')
        if copied:
            # A period whose files did not change is read back from the record, not rebuilt.
            db.execute(f'INSERT INTO "{self.name}" SELECT * FROM old."{self.name}" WHERE "{PERIOD}" IN '
                       f'({", ".join("?" for _ in copied)})', tuple(copied))

    def insert(self, db: sqlite3.Connection, period: str, rows: Iterable[Sequence[Any]]) -> None:
        marks = ", ".join("?" for _ in self.names)
        db.executemany(f'INSERT INTO "{self.name}" VALUES ({marks})', (self.row(period, r) for r in rows))

    def index(self, db: sqlite3.Connection) -> None:
        db.execute(f'CREATE INDEX "ix_{self.name}_periode_id_pvd" ON "{self.name}" ("{PERIOD}", "{ID}")')


def _data_table(key: str, schema: Schema, no_contacts: bool) -> tuple[Table, list[Any]]:
    fields = data_sheet_columns(schema, key, no_contacts)
    return Table(key, data_columns(schema, fields)), fields


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


class Tables:
    """Every table of the file, and what makes each one's rows."""

    def __init__(self, schema: Schema, no_contacts: bool) -> None:
        self.schema, self.no_contacts = schema, no_contacts
        self.territory_cols = territory_columns(schema)
        self.territories = Table("territoires", self.territory_cols)
        self.data = {key: _data_table(key, schema, no_contacts) for key in TABLE_KEYS}
        self.anomaly_cols = [*anomaly_identity(schema), *ANOMALY_DETAIL, ANOMALY_FILE, ANOMALY_ROW]
        self.anomalies = Table("anomalies", self.anomaly_cols)
        self.source_cols = _sources_columns(schema)
        self.sources = Table("sources", self.source_cols)
        self.changes = Table("changements", CHANGE_COLUMNS)

    @property
    def all(self) -> list[Table]:
        return [self.territories, *(t for t, _ in self.data.values()), self.anomalies, self.sources, self.changes]

    def add_workbook_rows(self, db: sqlite3.Connection, c: Consolidation) -> None:
        """A period's territories and its workbooks' rows (what a period read back copies)."""
        period = c.region.period
        ctx = RowContext(period, self.no_contacts, c)
        self.territories.insert(db, period, (territory_row(self.territory_cols, t, ctx) for t in c.territories))
        mask = ContactMask(self.schema, self.no_contacts)
        for key, (table, fields) in self.data.items():
            table.insert(db, period, iter_data_rows(c, self.schema, key, fields, mask))

    def add_said_again(self, db: sqlite3.Connection, periods: Sequence[Consolidation], changes: list[Change]) -> None:
        """Every period's anomalies and sources, and the changes of the last one."""
        for c in periods:
            period = c.region.period
            ctx = RowContext(period, self.no_contacts, c)
            self.anomalies.insert(db, period, (table_row(self.anomaly_cols, item, ctx)
                                               for item in anomaly_items(c, self.schema, self.no_contacts)))
        for c in periods:
            period = c.region.period
            ctx = RowContext(period, self.no_contacts, c)
            self.sources.insert(db, period, (table_row(self.source_cols, report, ctx) for report in c.reports))
        if periods:
            mask = ContactMask(self.schema, self.no_contacts)
            self.changes.insert(db, periods[-1].region.period, (self._change_row(ch, periods, mask) for ch in changes))

    @staticmethod
    def _change_row(ch: Change, periods: Sequence[Consolidation], mask: ContactMask) -> list[Any]:
        path = change_source(ch, periods[::-1][:2])
        before, after = (_change_value(v) for v in mask.change(ch))
        return [ch.id_pvd, ch.territory, ch.kind, ch.element, before, after, path, None, None]
