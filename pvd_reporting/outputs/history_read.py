"""Reading an existing `historique-pvd.sqlite` back: what earlier runs published, the workbooks it was built from.

Read before a run rewrites the file (history_db.py writes it), or to rebuild templates from it.
Read-only: a file that cannot be read is treated as absent (nothing to compare) or refused in French.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pvd_reporting.consolidate.batch import (
    CONSOLIDATED_PLACEMENT,
    HISTORY_PLACEMENT,
    TO_CHECK_PLACEMENT,
)
from pvd_reporting.consolidate.published import Published, recorded_declarations
from pvd_reporting.consolidate.view import REMAINING_LABEL, STATUS_LABEL, to_cent
from pvd_reporting.format.history import (
    DB_NAME,
    FIGURES_TABLE,
    META_CONTACTS,
    META_SCOPE,
    PERIOD,
    PUBLICATION_COLUMNS,
    PUBLICATIONS_TABLE,
    WORKBOOK_COLUMNS,
    WORKBOOKS_TABLE,
    snake,
)
from pvd_reporting.format.schema import NOT_FILLED, NOT_RECEIVED, ORT_STATUSES, Schema

SIGNED_STATUS = ORT_STATUSES[0]


def read_published(path: Path, schema: Schema) -> Published | None:
    """What earlier runs published in an existing history file, read before this run rewrites
    it; None when there is none, or it cannot be read (nothing to compare)."""
    if not Path(path).is_file():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        meta = dict(db.execute('SELECT "cle", "valeur" FROM "meta"').fetchall())
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        # A file written before the scope was recorded was the whole région's.
        published = Published(meta.get(META_SCOPE) or meta.get("region") or "", {},
                              contacts=meta.get(META_CONTACTS) != "non", path=Path(path), meta=meta)
        if PUBLICATIONS_TABLE in names:
            published.publication_rows = db.execute(
                f'SELECT {", ".join(chr(34) + c + chr(34) for c in PUBLICATION_COLUMNS)} FROM "{PUBLICATIONS_TABLE}" '
                f'ORDER BY "periode", "version"').fetchall()
            for period, version, _, digest, *_ in published.publication_rows:
                published.versions[period] = (version, digest)
        if FIGURES_TABLE in names:
            columns = {row[1] for row in db.execute(f'PRAGMA table_info("{FIGURES_TABLE}")')}
            if {"version", "cle"} <= columns:
                rows = db.execute(f'SELECT "periode", "chiffre", "valeur", "version", "cle" FROM "{FIGURES_TABLE}" '
                                  f'ORDER BY "periode", "version"').fetchall()
            else:
                rows = [(*r, 1, None) for r in db.execute(f'SELECT "periode", "chiffre", "valeur" FROM "{FIGURES_TABLE}"')]
            # A file written before publications were versioned: its figures are compared, then
            # this run's publication replaces them (version 1).
            published.figure_rows = rows if PUBLICATIONS_TABLE in names else []
            latest = {period: version for period, version in published.versions.items()}
            for period, label, value, version, key in rows:
                if version != latest.get(period, (version, ""))[0]:
                    continue
                published.figures.setdefault(period, {})[label] = value
                if key:
                    published.by_key.setdefault(period, {})[key] = value
        else:
            published.figures = _figures_from_territories(db, schema)
        if WORKBOOKS_TABLE in names:
            for sha, file, id_pvd, name, period, outcome, _ in db.execute(
                    f'SELECT {", ".join(chr(34) + c + chr(34) for c in WORKBOOK_COLUMNS)} FROM "{WORKBOOKS_TABLE}"'):
                if sha and period:
                    published.placed[sha] = period
                if period and _counted(outcome):
                    label = f"{name} ({id_pvd})" if id_pvd else str(name or file)
                    published.counted.setdefault(period, {})[label] = (file, sha or "")
        else:
            for period, file, sha, outcome in db.execute(
                    f'SELECT "{PERIOD}", "fichier", "sha_256", "prise_en_compte" FROM "sources"'):
                if _counted(outcome) or outcome == HISTORY_PLACEMENT:
                    published.counted.setdefault(period, {})[file] = (file, sha or "")
    except sqlite3.Error:
        return None
    finally:
        db.close()
    return published


def _counted(outcome: str | None) -> bool:
    """A workbook behind its period's figures (« Consolidé », with or without a note)."""
    return bool(outcome) and str(outcome).split(" — ")[0] in (CONSOLIDATED_PLACEMENT, TO_CHECK_PLACEMENT)


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
    by_key = {d.key: d.label for d in recorded_declarations(schema)}
    labels = [by_key[k] for k in ("received", "ort_signed", "cost", "financed", "remaining")]
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
