"""Each région's `historique-pvd.sqlite` read back for the national roll-up (consolidate/national.py).

A file that is not a pvd-report history, or of a format this version cannot read, raises
`NotAHistory` with its French reason. What the roll-up needs of the other tables is summed by
SQLite per territory and period, money in whole cents, into a `RegionalHistory` (history_model.py).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pvd_reporting.consolidate.history_model import MAX_TABLE_ROWS, RegionalHistory, Table
from pvd_reporting.format.config import NATIONAL_CATEGORIES, REQUIRED_VALUES, known_region
from pvd_reporting.format.french import NARROW, fr_int
from pvd_reporting.format.history import (
    C_POPULATION,
    C_ROLE,
    DATA_TABLES,
    DB_NAME,
    E_COST,
    E_STATUS,
    FIGURE,
    FIGURES_TABLE,
    FINANCER_COLUMNS,
    FINANCERS_TABLE,
    ID,
    J_CODE,
    J_DONE,
    META_CONTACTS,
    META_DEPARTMENTS,
    META_FORMAT,
    META_PERIODS,
    META_REFERENCE,
    META_REFERENCE_DIGEST,
    META_REGION,
    META_REGION_CODE,
    META_SCOPE,
    META_TABLE,
    META_VERSION,
    META_WRITTEN,
    PERIOD,
    PUBLICATIONS_TABLE,
    T_BEYOND,
    T_COST,
    T_LEAD,
    T_NEEDS_AMOUNT,
    T_OPTIONAL,
    T_REMAINING,
    TERRITORIES_TABLE,
    TERRITORY,
    TERRITORY_READ,
    VALUE,
    WORKBOOKS_TABLE,
    snake,
)
from pvd_reporting.format.periods import parse_label
from pvd_reporting.format.schema import (
    FORMAT_MAJOR,
    MILESTONES,
    build_schema,
)
from pvd_reporting.format.vocabulary import ENGAGED_STATUSES, PLANNED_STATUSES
from pvd_reporting.read.values import MAX_AMOUNT

# The annuaire's personal columns, as the regional history names them.
CONTACTS_TABLE = "annuaire"
CONTACT_COLUMNS = tuple(snake(build_schema().table(CONTACTS_TABLE).column(key).label)
                        for key in ("name", "email", "phone"))
J2 = MILESTONES[1][0]
VILLE_PVD = REQUIRED_VALUES["role_commune"][0]
_SQLITE_MAGIC = b"SQLite format 3\x00"
# `territoires` is read into memory (the others are summed or copied by SQLite): 160 territories
# over 100 quarters is 16,000 rows.
MAX_TERRITORY_ROWS = 100_000
# No value pvd-report writes there is this long (the communes of a territory, a milestone's name).
MAX_TEXT = 10_000
SUFFIX = ".sqlite"
NATIONAL_FILES_TABLE = "fichiers"  # a table only the national SQLite has (its Sources sheet)
NOT_REGULAR = "ce n'est pas un fichier ordinaire (tube, périphérique ou lien vers rien) : non lu"


def find_histories(paths: Sequence[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files given, and every `.sqlite` under folders given (whatever its name: each is identified
    by its content); plus paths refused."""
    files: list[Path] = []
    refused: list[tuple[Path, str]] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        if p.resolve() not in seen:
            seen.add(p.resolve())
            files.append(p)

    for given in paths:
        if given.is_dir():
            found = sorted(p for p in given.rglob(f"*{SUFFIX}") if p.is_file())
            refused.extend((p, NOT_REGULAR) for p in sorted(given.rglob(f"*{SUFFIX}"))
                           if not p.is_file() and not p.is_dir())
            if not found:
                refused.append((given, f"dossier sans fichier {SUFFIX} (attendu : le fichier {DB_NAME} "
                                       "de chaque région)"))
            for p in found:
                add(p)
        elif given.is_file():
            add(given)
        elif given.exists() or given.is_symlink():
            refused.append((given, NOT_REGULAR))
        else:
            refused.append((given, "fichier ou dossier introuvable"))
    return files, refused


class NotAHistory(Exception):
    """A file left out of the roll-up; the message is the French reason."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def open_untrusted(path: Path) -> sqlite3.Connection:
    """A regional file opened as untrusted: read-only and immutable (SQLite neither reads a `-wal`
    beside it nor writes a `-shm` there), with no function of its schema run."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    db.execute("PRAGMA trusted_schema = OFF")
    return db


def read_history(path: Path) -> RegionalHistory:
    """One région's history, its declared tables only; NotAHistory says why a file cannot be."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise NotAHistory(f"fichier illisible ({exc.strerror or exc})") from None
    if head != _SQLITE_MAGIC:
        raise NotAHistory(f"ce n'est pas une base SQLite (attendu : le fichier {DB_NAME} "
                          "écrit par pvd-report consolidate)")
    try:
        db = open_untrusted(path)
    except sqlite3.Error as exc:
        raise NotAHistory(f"base SQLite illisible ({exc})") from None
    try:
        checked = db.execute("PRAGMA quick_check(1)").fetchone()
        if not checked or checked[0] != "ok":
            raise NotAHistory("fichier endommagé (le contrôle d'intégrité de SQLite échoue) : demandez à "
                              "la région de le renvoyer")
        history = _read_open(db, path)
    except sqlite3.DatabaseError as exc:
        raise NotAHistory(f"fichier endommagé ou illisible ({exc}) : demandez à la région de le renvoyer") from None
    finally:
        db.close()
    if path.is_symlink():
        history.notes.append(f"lien symbolique vers {path.resolve()} : suivi, c'est un fichier ordinaire")
    for suffix in ("-wal", "-journal"):
        beside = path.with_name(path.name + suffix)
        if beside.exists():
            history.notes.append(f"le fichier {beside.name} à côté est ignoré (des changements non enregistrés "
                                 "dans la base ne sont pas lus)")
    return history


def _objects(db: sqlite3.Connection) -> dict[str, str]:
    """Every table and view of the file: name -> type."""
    return {str(name): str(kind) for name, kind in
            db.execute("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view')")}


def _declared(db: sqlite3.Connection, objects: dict[str, str], history_notes: list[str]) -> list[str]:
    """The declared tables present as tables, each within the row limit; a view in place of one
    is named and not read, any other table left where it is."""
    out = []
    for name in (*DATA_TABLES, PUBLICATIONS_TABLE, FIGURES_TABLE):
        kind = objects.get(name)
        if kind is None:
            continue
        if kind != "table":
            if name == TERRITORIES_TABLE:
                raise NotAHistory("« territoires » y est une vue, pas une table : fichier modifié hors de "
                                  "pvd-report")
            history_notes.append(f"« {name} » est une vue, pas une table : non lue")
            continue
        limit = min(MAX_TABLE_ROWS, MAX_TERRITORY_ROWS) if name == TERRITORIES_TABLE else MAX_TABLE_ROWS
        (rows,) = db.execute(f'SELECT count(*) FROM "{name}"').fetchone()
        if rows > limit:
            raise NotAHistory(f"table {name} de {fr_int(rows, NARROW)} lignes, au-delà de la limite de "
                              f"{fr_int(limit, NARROW)} lignes pour cette table : ce n'est pas l'historique "
                              "d'une région")
        out.append(name)
    # `classeurs` (each workbook's fate) is the région's own record: known, not rolled up.
    extra = sorted(n for n, k in objects.items() if n not in (*DATA_TABLES, PUBLICATIONS_TABLE, META_TABLE,
                                                              FINANCERS_TABLE, FIGURES_TABLE, WORKBOOKS_TABLE)
                   and not n.startswith("sqlite_"))
    if extra:
        history_notes.append(f"{plural_tables(extra)} ignorée{'s' if len(extra) > 1 else ''} : "
                             f"{', '.join(extra)}")
    return out


def plural_tables(names: list[str]) -> str:
    return "table non prévue" if len(names) == 1 else f"{len(names)} tables non prévues"


def _region_of(meta: dict[str, Any]) -> tuple[str, str | None]:
    """The région a file is, by its INSEE code first (a name may be spelt any way), then its name."""
    code = str(meta.get(META_REGION_CODE) or "").strip() or None
    name = str(meta.get(META_REGION) or "").strip()
    by_code = known_region(code) if code and code.isdigit() else None
    return by_code or known_region(name) or name, code


def _read_open(db: sqlite3.Connection, path: Path) -> RegionalHistory:
    objects = _objects(db)
    if objects.get(META_TABLE) != "table" or TERRITORIES_TABLE not in objects:
        raise NotAHistory("base SQLite qui n'est pas un historique pvd-report (tables meta et territoires "
                          "absentes)")
    try:
        meta = {str(k): v for k, v in db.execute(f'SELECT cle, valeur FROM "{META_TABLE}" LIMIT 1000')}
    except sqlite3.Error:
        raise NotAHistory("base SQLite qui n'est pas un historique pvd-report (table meta illisible)") from None
    version = str(meta.get(META_FORMAT) or "")
    if not version and NATIONAL_FILES_TABLE in objects:
        raise NotAHistory("base écrite par pvd-report national (historique-national.sqlite), pas l'historique "
                          "d'une région")
    if not version or version.split(".")[0] != FORMAT_MAJOR:
        raise NotAHistory(f"historique au format « {version or 'inconnu'} », que cette version de pvd-report "
                          f"ne lit pas (format {FORMAT_MAJOR}.x attendu)")
    if objects.get(FINANCERS_TABLE) != "table":
        raise NotAHistory(f"historique écrit par pvd-report {meta.get(META_VERSION) or '?'}, sans la table "
                          f"{FINANCERS_TABLE} : reconsolidez la région avec la version actuelle")
    region_name, region_code = _region_of(meta)
    written = str(meta.get(META_WRITTEN) or "").strip()
    if not region_name or not written:
        raise NotAHistory("historique sans région ou sans date d'écriture dans sa table meta")
    notes: list[str] = []
    tables = _declared(db, objects, notes)
    columns = {name: [str(r[1]) for r in db.execute(f'PRAGMA table_info("{name}")')] for name in tables}
    absent = [c for c in TERRITORY_READ if c not in columns[TERRITORIES_TABLE]]
    if absent:
        raise NotAHistory(f"table territoires sans la colonne « {absent[0]} » : historique d'une version "
                          "que pvd-report ne lit pas")
    financers = [tuple(str(v) for v in row) for row in
                 db.execute(f'SELECT {", ".join(FINANCER_COLUMNS)} FROM "{FINANCERS_TABLE}" LIMIT 100')]
    for colonne, libelle, category in financers:
        if colonne in TERRITORY_READ:
            raise NotAHistory(f"financeur « {libelle} » déclaré sur la colonne {colonne} de territoires, qui n'est "
                              "pas un montant")
        if category not in NATIONAL_CATEGORIES:
            raise NotAHistory(f"financeur « {libelle} » de catégorie inconnue « {category} »")
        if colonne not in columns[TERRITORIES_TABLE]:
            raise NotAHistory(f"colonne de financeur « {colonne} » absente de la table territoires")
    # Only the columns the roll-up reads: any other column of the file stays there.
    wanted = [*TERRITORY_READ, *(c for c in T_OPTIONAL if c in columns[TERRITORIES_TABLE]),
              *dict.fromkeys(f[0] for f in financers)]
    longest = db.execute(f'SELECT {", ".join(f"max(length({_quote(c)}))" for c in wanted)} '
                         f'FROM "{TERRITORIES_TABLE}"').fetchone()
    if max((n or 0 for n in longest), default=0) > MAX_TEXT:
        raise NotAHistory(f"texte de plus de {fr_int(MAX_TEXT, NARROW)} caractères dans la table territoires : "
                          "ce n'est pas un historique écrit par pvd-report")
    cursor = db.execute(f'SELECT {", ".join(_quote(c) for c in wanted)} FROM "{TERRITORIES_TABLE}"')
    territories = Table(list(wanted), cursor.fetchall())
    _check_amounts(db, territories, [c for c in wanted if c in (T_COST, T_REMAINING, T_BEYOND, T_NEEDS_AMOUNT)
                                     or c in {f[0] for f in financers}], columns)
    periods = sorted({str(r[0]) for r in territories.rows}, key=_order)
    published: dict[str, tuple[int, str]] = {}
    if PUBLICATIONS_TABLE in tables and {PERIOD, "version", "written_at"} <= set(columns[PUBLICATIONS_TABLE]):
        for p, v, w in db.execute(f'SELECT "{PERIOD}", "version", "written_at" FROM "{PUBLICATIONS_TABLE}"'):
            if parse_label(str(p)) is None:
                continue
            mark = (int(v) if isinstance(v, int) else 0, str(w or ""))
            published[str(p)] = max(published.get(str(p), mark), mark)
    figures: dict[str, dict[str, float]] = {}
    if FIGURES_TABLE in tables and {PERIOD, FIGURE, VALUE} <= set(columns[FIGURES_TABLE]):
        # Every version of a period may be kept: the latest is read last, and stands.
        order = ' ORDER BY "version"' if "version" in columns[FIGURES_TABLE] else ""
        for p, label, value in db.execute(f'SELECT "{PERIOD}", "{FIGURE}", "{VALUE}" FROM "{FIGURES_TABLE}"{order}'):
            if isinstance(value, int | float) and not isinstance(value, bool):
                figures.setdefault(str(p), {})[str(label)] = float(value)
    departments = str(meta.get(META_DEPARTMENTS) or "").strip()
    history = RegionalHistory(
        path=path, region=region_name, region_code=region_code, format_version=version,
        program_version=str(meta.get(META_VERSION) or ""), written_at=written, sha256=_sha256(path),
        periods=periods or [p for p in str(meta.get(META_PERIODS) or "").split(",") if p],
        contacts=str(meta.get(META_CONTACTS) or "oui") != "non",
        financers=[(a, b, c) for a, b, c in financers], territories=territories, columns=columns,
        published=published, notes=notes, scope=str(meta.get(META_SCOPE) or region_name), figures=figures,
        departments=[d for d in departments.split(",") if d],
        reference=None if META_REFERENCE not in meta else str(meta.get(META_REFERENCE) or ""),
        reference_digest=str(meta.get(META_REFERENCE_DIGEST) or "") or None,
    )
    _sums(db, history)
    return history


def _check_amounts(db: sqlite3.Connection, territories: Table, money: list[str],
                   columns: dict[str, list[str]]) -> None:
    """Amounts beyond ±MAX_AMOUNT (an infinity, 1e308) leave the file out, as a workbook's would:
    summed, they would overflow."""
    at = [territories.columns.index(c) for c in money]
    for row in territories.rows:
        for i in at:
            value = row[i]
            if isinstance(value, float) and not abs(value) <= MAX_AMOUNT:
                raise NotAHistory(f"montant hors limites ({value:g}) dans la table territoires, colonne "
                                  f"{territories.columns[i]} : ce n'est pas un historique écrit par pvd-report")
    if E_COST in columns.get("engagements", ()):
        (beyond,) = db.execute(f'SELECT count(*) FROM engagements WHERE abs("{E_COST}") > ?', (MAX_AMOUNT,)).fetchone()
        if beyond:
            raise NotAHistory("montant hors limites dans la table engagements : ce n'est pas un historique écrit par "
                              "pvd-report")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _order(period: str) -> tuple[int, int]:
    return parse_label(period) or (0, 0)


def _has(history: RegionalHistory, table: str, *needed: str) -> bool:
    return set((PERIOD, ID, TERRITORY, *needed)) <= set(history.columns.get(table, ()))


def _sums(db: sqlite3.Connection, history: RegionalHistory) -> None:
    """What the roll-up needs of the other tables, summed by SQLite per territory and period:
    money in whole cents row by row (as the regional view sums it), never in float euros."""
    key = f'"{PERIOD}", IFNULL("{ID}", \'\'), IFNULL("{TERRITORY}", \'\')'
    if _has(history, "engagements", E_STATUS, E_COST):
        for target, statuses in ((history.engaged, ENGAGED_STATUSES), (history.planned, PLANNED_STATUSES)):
            marks = ", ".join("?" for _ in statuses)
            for p, i, t, total in db.execute(
                    f'SELECT {key}, SUM(CAST(ROUND("{E_COST}" * 100) AS INTEGER)) FROM engagements '
                    f'WHERE "{E_STATUS}" IN ({marks}) GROUP BY 1, 2, 3', statuses):
                target[(str(p), i, t)] = int(total or 0)
    if _has(history, "communes", C_POPULATION, C_ROLE):
        # As the région counts it: the inhabitants of its Villes PVD, when a workbook gives them.
        for p, i, t, total in db.execute(
                f'SELECT {key}, SUM(CASE WHEN typeof("{C_POPULATION}") IN (\'integer\', \'real\') '
                f'THEN "{C_POPULATION}" END) FROM communes WHERE "{C_ROLE}" = ? GROUP BY 1, 2, 3', (VILLE_PVD,)):
            if total is not None:
                history.population[(str(p), i, t)] = int(total)
    if _has(history, "jalons", J_CODE, J_DONE):
        for p, i, t, done in db.execute(
                f'SELECT {key}, MAX("{J_DONE}") FROM jalons WHERE UPPER(TRIM("{J_CODE}")) = ? '
                f'AND "{J_DONE}" IS NOT NULL GROUP BY 1, 2, 3', (J2,)):
            history.j2[(str(p), i, t)] = str(done)
    if set(CONTACT_COLUMNS) <= set(history.columns.get(CONTACTS_TABLE, ())):
        for row in db.execute(f'SELECT {", ".join(CONTACT_COLUMNS)} FROM "{CONTACTS_TABLE}"'):
            history.personal.update(str(v).strip() for v in row if v)
    lead = history.territories.index(T_LEAD)
    # Written with --no-contacts, the région already says « En poste » in place of the name.
    if lead is not None and history.contacts:
        history.personal.update(str(r[lead]).strip() for r in history.territories.rows if r[lead])
