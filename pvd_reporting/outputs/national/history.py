"""`historique-national.sqlite`: every région's tables, one under the other, with a `region`
column first; the financer columns renamed to their national category (`financement_etat`…), so
that « Région Grand Est » and « Région Bretagne » fall in one column; plus `regions` (each région
at each quarter, the Régions sheet), `financeurs` (each région's columns and their category),
`fichiers` (the Sources sheet) and `meta`.

Only what the format declares is copied: the data tables of a history, each with the columns its
région's configuration writes (an extra table or column of a regional file stays there). Each
file is attached read-only and immutable, with `trusted_schema` off.

Personal data stays regional: without contacts, no `annuaire` table, the chef de projet only as
« en poste », and every column the schema flags `personal` dropped (comité « Présidé par »,
« Partenaires présents », « Principales décisions », a jalon's « Commentaire »; a « Maître
d'ouvrage » kept only when it reads as a body); no value or message of an anomaly of the
Annuaire sheet, nor the names of a « Chef de projet » change, and no contact of any région
quoted in an anomaly or a change. The tables are copied by SQLite itself
(ATTACH, INSERT … SELECT): no row goes through Python but the free text checked for contacts.

`territoires` says which rows the nation counts (`compte_pour_la_france`, `doublon` for a
territory found in two régions); `regions` has a « France » row at the period and T-1.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from pvd_reporting import __version__
from pvd_reporting.atomic import atomic_write
from pvd_reporting.consolidate.history_model import RegionalHistory
from pvd_reporting.consolidate.national import IN_POST, NationalRollup
from pvd_reporting.consolidate.national_figures import FIGURES, figure_value
from pvd_reporting.consolidate.regional_histories import CONTACTS_TABLE, NATIONAL_FILES_TABLE
from pvd_reporting.format.config import NATIONAL_CATEGORIES, known_region, region_config
from pvd_reporting.format.history import (
    DATA_TABLES,
    FINANCER_COLUMNS,
    ID,
    META_TABLE,
    PERIOD,
    T_LEAD,
    TERRITORIES_TABLE,
    TERRITORY,
    snake,
)
from pvd_reporting.format.schema import (
    MASKED,
    Personal,
    build_schema,
    money_header,
    reads_as_organisation,
)
from pvd_reporting.outputs.history_db import declared_columns
from pvd_reporting.outputs.national.workbook import (
    NATION,
    SOURCE_COLUMNS,
    duplicate_note,
    source_rows,
)

NATIONAL_DB = "historique-national.sqlite"
REGION_COLUMN = "region"
ENGAGEMENTS_TABLE, CHANGES_TABLE, ANOMALIES_TABLE = "engagements", "changements", "anomalies"
MASK_FUNCTION, ORGANISATION_FUNCTION = "pvd_masque", "pvd_organisme"
HIDDEN = MASKED
# Tables whose every text may quote a contact (a message, a change); other tables name theirs.
FREE_TEXT_TABLES = (ANOMALIES_TABLE, CHANGES_TABLE)
LEAD_CHANGE = "Chef de projet"
COUNTED_COLUMN, DUPLICATE_COLUMN = "compte_pour_la_france", "doublon"


@lru_cache(maxsize=1)
def _personal_fields() -> dict[str, dict[str, Personal]]:
    """The columns that can hold a person, by table, as the schema flags them (`personal`):
    dropped without contacts whatever they say, a maître d'ouvrage kept when it reads as a body."""
    out: dict[str, dict[str, Personal]] = {}
    for table in build_schema().tables:
        flagged: dict[str, Personal] = {snake(f.label): f.personal for f in table.columns
                                        if f.personal is not Personal.NO}
        if flagged:
            out[table.key] = flagged
    return out


def _organisation_only(value: Any) -> Any:
    """A maître d'ouvrage as a masked output shows it: a body's name, never a person's."""
    if not isinstance(value, str) or not value.strip() or reads_as_organisation(value):
        return value
    return HIDDEN


@lru_cache(maxsize=1)
def _annuaire_sheet() -> str:
    return build_schema().table("annuaire").name.replace("'", "''")


@lru_cache(maxsize=32)
def _declared(region: str) -> dict[str, list[str]]:
    """The tables and columns a history of this région holds (its shipped configuration, else the
    default one); the financer columns a file declares are added to these by `_expressions`."""
    name = known_region(region)
    return declared_columns(build_schema(region_config(name) if name else None))


def category_column(category: str) -> str:
    return f"financement_{snake(category)}"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _expressions(h: RegionalHistory, table: str, contacts: bool) -> dict[str, str]:
    """Each national column of `table` for this région, as a SQL expression over its own table:
    a financer column under its category (summed when a région has two of one category), and,
    without contacts, the chef de projet as « en poste » and no contact in free text.

    `financeurs` names the columns of `territoires`; in `engagements` a financer's column is its
    header's name."""
    if table == TERRITORIES_TABLE:
        category_of = {colonne: category for colonne, _, category in h.financers}
    elif table == ENGAGEMENTS_TABLE:
        category_of = {snake(money_header(libelle)): category for _, libelle, category in h.financers}
    else:
        category_of = {}
    declared = set(_declared(h.region).get(table, ())) | set(category_of)
    columns = [c for c in h.columns[table] if c in declared]
    sources: dict[str, list[str]] = {}
    for name in columns:
        target = category_column(category_of[name]) if name in category_of else name
        sources.setdefault(target, []).append(name)
    out: dict[str, str] = {}
    for target, names in sources.items():
        if len(names) > 1:
            nulls = " AND ".join(f"{_q(n)} IS NULL" for n in names)
            total = " + ".join(f"IFNULL({_q(n)}, 0)" for n in names)
            out[target] = f"CASE WHEN {nulls} THEN NULL ELSE ROUND({total}, 2) END"
        else:
            out[target] = _q(names[0])
    if contacts:
        return out
    if table == TERRITORIES_TABLE and T_LEAD in out:
        out[T_LEAD] = f"CASE WHEN TRIM(IFNULL({_q(T_LEAD)}, '')) <> '' THEN '{IN_POST}' END"
    for name, personal in _personal_fields().get(table, {}).items():
        if name in out:
            out[name] = f"{ORGANISATION_FUNCTION}({out[name]})" if personal is Personal.UNLESS_ORGANISATION else "NULL"
    if table in FREE_TEXT_TABLES:
        for name in out:
            if name not in (PERIOD, ID, TERRITORY):
                out[name] = f"{MASK_FUNCTION}({out[name]})"
    annuaire = _annuaire_sheet()
    if table == ANOMALIES_TABLE and {"onglet", "valeur", "message"} <= set(out):
        for name in ("valeur", "message"):
            out[name] = f"CASE WHEN onglet = '{annuaire}' THEN NULL ELSE {out[name]} END"
    if table == CHANGES_TABLE and {"type", "avant", "apres"} <= set(out):
        for name in ("avant", "apres"):
            out[name] = f"CASE WHEN type = '{LEAD_CHANGE}' THEN NULL ELSE {out[name]} END"
    return out


class _Masker:
    """Replaces every contact of every région quoted in a text (memoised: the same comité comes
    back each quarter)."""

    def __init__(self, histories: Sequence[RegionalHistory]) -> None:
        found = {v for h in histories for v in h.personal if len(v) >= 3}
        kept = sorted(found, key=len, reverse=True)
        self.pattern = re.compile("|".join(re.escape(v) for v in kept)) if kept else None
        self.seen: dict[str, str] = {}

    def __call__(self, value: Any) -> Any:
        if self.pattern is None or not isinstance(value, str):
            return value
        done = self.seen.get(value)
        if done is None:
            done = self.seen[value] = self.pattern.sub(HIDDEN, value)
        return done


def _copy_tables(db: sqlite3.Connection, rollup: NationalRollup) -> None:
    """Every région's tables into the national file, by SQLite itself (ATTACH, INSERT … SELECT)."""
    plans: dict[str, dict[str, dict[str, str]]] = {}  # table -> région path -> column -> expression
    order: dict[str, list[str]] = {}
    for h in rollup.histories:
        for table in h.columns:
            if table not in DATA_TABLES or (table == CONTACTS_TABLE and not rollup.contacts):
                continue
            expressions = _expressions(h, table, rollup.contacts)
            plans.setdefault(table, {})[str(h.path)] = expressions
            names = order.setdefault(table, [REGION_COLUMN])
            names.extend(c for c in expressions if c not in names)
    if TERRITORIES_TABLE in order:
        order[TERRITORIES_TABLE] += [COUNTED_COLUMN, DUPLICATE_COLUMN]
    for table, names in order.items():
        db.execute(f"CREATE TABLE {_q(table)} ({', '.join(_q(n) for n in names)})")
    for i, h in enumerate(rollup.histories):
        alias = f"r{i}"
        db.execute(f"ATTACH DATABASE ? AS {alias}", (f"{h.path.resolve().as_uri()}?mode=ro&immutable=1",))
        try:
            for table, by_region in plans.items():
                found = by_region.get(str(h.path))
                if found is None:
                    continue
                expressions = found
                targets = [REGION_COLUMN, *expressions]
                values = ["?", *expressions.values()]
                db.execute(f"INSERT INTO main.{_q(table)} ({', '.join(_q(n) for n in targets)}) "
                           f"SELECT {', '.join(values)} FROM {alias}.{_q(table)}", (h.region,))
            db.commit()
        finally:
            db.execute(f"DETACH DATABASE {alias}")
    _mark_counted(db, rollup)
    for table, names in order.items():
        if PERIOD in names and ID in names:
            db.execute(f'CREATE INDEX {_q(f"ix_{table}_region_periode_id_pvd")} ON {_q(table)} '
                       f"({_q(REGION_COLUMN)}, {_q(PERIOD)}, {_q(ID)})")


def _mark_counted(db: sqlite3.Connection, rollup: NationalRollup) -> None:
    """Every row counted for the nation but a territory's copy in a second région."""
    if not rollup.histories:
        return
    db.execute(f"UPDATE {_q(TERRITORIES_TABLE)} SET {COUNTED_COLUMN} = 1")
    rows = []
    for ts in rollup.territories_by_period.values():
        for t in ts:
            if t.duplicate:
                note = duplicate_note(t)
                rows.append((0 if not t.counted else 1, note, t.region, t.period, t.id_pvd, t.name))
    db.executemany(f"UPDATE {_q(TERRITORIES_TABLE)} SET {COUNTED_COLUMN} = ?, {DUPLICATE_COLUMN} = ? "
                   f"WHERE {REGION_COLUMN} = ? AND {_q(PERIOD)} = ? AND {_q(ID)} IS ? AND {_q(TERRITORY)} = ?", rows)
    db.commit()


def _create(db: sqlite3.Connection, name: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    db.execute(f"CREATE TABLE {_q(name)} ({', '.join(_q(c) for c in columns)})")
    db.executemany(f"INSERT INTO {_q(name)} VALUES ({', '.join('?' for _ in columns)})", rows)


def write_national_db(rollup: NationalRollup, output_dir: Path, *, written_at: datetime | None = None) -> Path:
    """Write `historique-national.sqlite`; returns its path."""
    figures = [snake(f.label) for f in FIGURES]
    regions = [(r.region, r.period, r.status, *(figure_value(f, r.figures) for f in FIGURES))
               for r in rollup.by_quarter]
    # The nation, at the period and at T-1 on the same régions: the sum of the rows counted.
    state = f"{rollup.reporting} sur {len(rollup.regions)}"
    regions += [(NATION, p, state, *(figure_value(f, figures) for f in FIGURES))
                for p, figures in ((rollup.period, rollup.nation), (rollup.previous, rollup.nation_previous))
                if p is not None and figures is not None]
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
            db = sqlite3.connect(tmp.resolve().as_uri(), uri=True)
            db.execute("PRAGMA trusted_schema = OFF")
            try:
                db.create_function(MASK_FUNCTION, 1, _Masker(rollup.histories), deterministic=True)
                db.create_function(ORGANISATION_FUNCTION, 1, _organisation_only, deterministic=True)
                _copy_tables(db, rollup)
                with db:
                    _create(db, "regions", [REGION_COLUMN, PERIOD, "statut", *figures], regions)
                    _create(db, "financeurs", [REGION_COLUMN, *FINANCER_COLUMNS], financers)
                    _create(db, NATIONAL_FILES_TABLE, [snake(c.header) for c in SOURCE_COLUMNS], files)
                    _create(db, META_TABLE, ["cle", "valeur"], meta)
            finally:
                db.close()
        except sqlite3.Error as exc:
            raise OSError(f"base SQLite : {exc}") from None

    return atomic_write(Path(output_dir) / NATIONAL_DB, write)
