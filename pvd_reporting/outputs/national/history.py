"""`historique-national.sqlite`: every région's tables, one under the other, with a `region`
column first; the financer columns renamed to their national category (`financement_etat`…), so
that « Région Grand Est » and « Région Bretagne » fall in one column; plus `regions` (each région
at each quarter, the Régions sheet), `financeurs` (each région's columns and their category),
`fichiers` (the Sources sheet) and `meta`.

Personal data stays regional: without contacts, no `annuaire` table, the chef de projet only as
« en poste », and no value or message of an anomaly of the Annuaire sheet, nor the names of a
« Chef de projet » change.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pvd_reporting import __version__
from pvd_reporting.atomic import atomic_write
from pvd_reporting.consolidate.national import (
    FIGURES,
    IN_POST,
    NationalRollup,
    RegionalHistory,
    figure_value,
)
from pvd_reporting.format.config import NATIONAL_CATEGORIES
from pvd_reporting.format.history import (
    FINANCER_COLUMNS,
    ID,
    META_TABLE,
    PERIOD,
    T_LEAD,
    TERRITORIES_TABLE,
    snake,
)
from pvd_reporting.format.schema import build_schema, money_header
from pvd_reporting.outputs.national.workbook import SOURCE_COLUMNS, source_rows

NATIONAL_DB = "historique-national.sqlite"
REGION_COLUMN = "region"
CONTACTS_TABLE, ENGAGEMENTS_TABLE = "annuaire", "engagements"
CONTACT_COLUMNS = ("nom_prenom", "mail", "telephone")
CHANGES_TABLE, ANOMALIES_TABLE = "changements", "anomalies"
LEAD_CHANGE = "Chef de projet"


def category_column(category: str) -> str:
    return f"financement_{snake(category)}"


def _mapping(h: RegionalHistory, table: str, columns: Sequence[str]) -> list[tuple[str, list[int]]]:
    """(output column, source indices): a financer column goes to its category's column (summed
    when a région has two financers of one category). `financeurs` names the columns of
    `territoires`; in `engagements` a financer's column is its header's name."""
    if table == TERRITORIES_TABLE:
        category_of = {colonne: category for colonne, _, category in h.financers}
    elif table == ENGAGEMENTS_TABLE:
        category_of = {snake(money_header(libelle)): category for _, libelle, category in h.financers}
    else:
        category_of = {}
    out: dict[str, list[int]] = {}
    for i, name in enumerate(columns):
        target = category_column(category_of[name]) if name in category_of else name
        out.setdefault(target, []).append(i)
    return list(out.items())


class _Union:
    """One national table: the union of the régions' columns, in first-seen order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.columns: list[str] = [REGION_COLUMN]
        self.parts: list[tuple[str, list[tuple[str, list[int]]], list[tuple[Any, ...]]]] = []

    def add(self, region: str, mapping: list[tuple[str, list[int]]], rows: list[tuple[Any, ...]]) -> None:
        for column, _ in mapping:
            if column not in self.columns:
                self.columns.append(column)
        self.parts.append((region, mapping, rows))

    def rows(self) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        width = len(self.columns)
        for region, mapping, rows in self.parts:
            at = [(self.columns.index(c), idx) for c, idx in mapping]
            single = all(len(idx) == 1 for _, idx in at)
            for row in rows:
                values: list[Any] = [None] * width
                values[0] = region
                if single:
                    for target, idx in at:
                        values[target] = row[idx[0]]
                else:
                    for target, idx in at:
                        parts = [row[i] for i in idx if row[i] is not None]
                        values[target] = round(sum(parts), 2) if parts else None
                out.append(tuple(values))
        return out


HIDDEN = "(contact masqué)"
# Tables where people type free text that may quote a contact (« Présidé par », a message).
FREE_TEXT_TABLES = ("comites", ANOMALIES_TABLE, CHANGES_TABLE)


def _secrets(histories: Sequence[RegionalHistory]) -> re.Pattern[str] | None:
    """Every région's annuaire names, mails and phones and its chefs de projet, as one pattern
    (a person may chair a comité in a neighbouring région)."""
    found: set[str] = set()
    for h in histories:
        contacts = h.tables.get(CONTACTS_TABLE)
        if contacts is not None:
            at = [contacts.index(c) for c in CONTACT_COLUMNS]
            found.update(str(row[i]).strip() for row in contacts.rows for i in at if i is not None and row[i])
        territories = h.tables[TERRITORIES_TABLE]
        lead = territories.index(T_LEAD)
        if lead is not None:
            found.update(str(row[lead]).strip() for row in territories.rows if row[lead])
    kept = sorted((v for v in found if len(v) >= 3), key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in kept)) if kept else None


def _private(name: str, columns: list[str], rows: list[tuple[Any, ...]],
             secrets: re.Pattern[str] | None) -> list[tuple[Any, ...]]:
    """Rows without personal data: the chef de projet as « en poste », no annuaire values, no
    contact quoted in free text."""
    if name == TERRITORIES_TABLE and T_LEAD in columns:
        i = columns.index(T_LEAD)
        return [(*r[:i], IN_POST if r[i] else None, *r[i + 1:]) for r in rows]
    if name == ANOMALIES_TABLE and {"onglet", "valeur", "message"} <= set(columns):
        sheet, value, message = columns.index("onglet"), columns.index("valeur"), columns.index("message")
        annuaire = build_schema().table("annuaire").name
        rows = [tuple(None if (r[sheet] == annuaire and i in (value, message)) else v for i, v in enumerate(r))
                for r in rows]
    if name == CHANGES_TABLE and {"type", "avant", "apres"} <= set(columns):
        kind, before, after = columns.index("type"), columns.index("avant"), columns.index("apres")
        rows = [tuple(None if (r[kind] == LEAD_CHANGE and i in (before, after)) else v for i, v in enumerate(r))
                for r in rows]
    if name in FREE_TEXT_TABLES and secrets is not None:
        rows = [tuple(secrets.sub(HIDDEN, v) if isinstance(v, str) else v for v in r) for r in rows]
    return rows


def national_tables(rollup: NationalRollup) -> list[_Union]:
    tables: dict[str, _Union] = {}
    secrets = None if rollup.contacts else _secrets(rollup.histories)
    for h in rollup.histories:
        for name, table in h.tables.items():
            if name == CONTACTS_TABLE and not rollup.contacts:
                continue
            rows = table.rows if rollup.contacts else _private(name, table.columns, table.rows, secrets)
            tables.setdefault(name, _Union(name)).add(h.region, _mapping(h, name, table.columns), rows)
    return list(tables.values())


def _create(db: sqlite3.Connection, name: str, columns: Sequence[str], rows: list[tuple[Any, ...]],
            index: bool = True) -> None:
    quoted = ", ".join(f'"{c}"' for c in columns)
    db.execute(f'CREATE TABLE "{name}" ({quoted})')
    db.executemany(f'INSERT INTO "{name}" VALUES ({", ".join("?" for _ in columns)})', rows)
    if index and PERIOD in columns and ID in columns:
        db.execute(f'CREATE INDEX "ix_{name}_region_periode_id_pvd" ON "{name}" '
                   f'("{REGION_COLUMN}", "{PERIOD}", "{ID}")')


def write_national_db(rollup: NationalRollup, output_dir: Path, *, written_at: datetime | None = None) -> Path:
    """Write `historique-national.sqlite`; returns its path."""
    tables = national_tables(rollup)
    figures = [snake(f.label) for f in FIGURES]
    regions = [(r.region, r.period, r.status, *(figure_value(f, r.figures) for f in FIGURES))
               for r in rollup.by_quarter]
    financers = [(h.region, *row) for h in rollup.histories for row in h.financers]
    files = [tuple(row) for row in source_rows(rollup)]
    stamp = (written_at or datetime.now(UTC)).replace(microsecond=0).isoformat()
    meta = [("pvd_report_version", __version__), ("written_at", stamp), ("periode", rollup.period),
            ("periodes", ",".join(rollup.periods)), ("regions", ",".join(h.region for h in rollup.histories)),
            ("regions_non_remontees", ",".join(rollup.missing_regions)),
            ("contacts", "oui" if rollup.contacts else "non"),
            ("categories", ",".join(NATIONAL_CATEGORIES))]

    def write(tmp: Path) -> None:
        try:
            db = sqlite3.connect(tmp)
            try:
                with db:
                    for table in tables:
                        _create(db, table.name, table.columns, table.rows())
                    _create(db, "regions", [REGION_COLUMN, PERIOD, "statut", *figures], regions, index=False)
                    _create(db, "financeurs", [REGION_COLUMN, *FINANCER_COLUMNS], financers, index=False)
                    _create(db, "fichiers", [snake(c.header) for c in SOURCE_COLUMNS], files, index=False)
                    _create(db, META_TABLE, ["cle", "valeur"], meta, index=False)
            finally:
                db.close()
        except sqlite3.Error as exc:
            raise OSError(f"base SQLite : {exc}") from None

    return atomic_write(Path(output_dir) / NATIONAL_DB, write)
