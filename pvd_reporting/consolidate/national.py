"""The national roll-up: each région's `historique-pvd.sqlite` read back, checked, and added up.

A file that is not a pvd-report history, or of a format this version cannot read, is left out
with a French reason; two files of one région: the latest `written_at` wins. Money is summed in
whole cents by national category (each région declares the category of its financer columns), so
that the nation's euros equal the sum of the régions' to the cent. A région absent for the period
is « Non remontée », never zero; a territory found in two régions is an anomaly and is counted
once in the nation's figures (in the région its identifier names, else the first).
"""

from __future__ import annotations

import hashlib
import sqlite3
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pvd_reporting.consolidate.figures import ValueKind
from pvd_reporting.consolidate.regional import DAYS_PER_MONTH, cents
from pvd_reporting.consolidate.view import REMAINING_LABEL
from pvd_reporting.errors import UsageError
from pvd_reporting.format.config import (
    NATIONAL_CATEGORIES,
    known_region,
    region_key,
    shipped_regions,
)
from pvd_reporting.format.history import (
    C_POPULATION,
    DB_NAME,
    E_COST,
    E_STATUS,
    FINANCER_COLUMNS,
    FINANCERS_TABLE,
    ID,
    J_CODE,
    J_DONE,
    META_CONTACTS,
    META_FORMAT,
    META_PERIODS,
    META_REGION,
    META_REGION_CODE,
    META_TABLE,
    META_VERSION,
    META_WRITTEN,
    PERIOD,
    T_CADENCE,
    T_COMMUNES,
    T_COST,
    T_DAYS,
    T_DEADLINE,
    T_DEPARTMENT,
    T_EPCI,
    T_IN_TIME,
    T_J1,
    T_J8,
    T_LAST,
    T_LEAD,
    T_REMAINING,
    T_SIREN,
    T_STATUS,
    TERRITORIES_TABLE,
    TERRITORY,
    TERRITORY_READ,
    snake,
)
from pvd_reporting.format.periods import last_day, parse_label, previous_quarters, quarter_label
from pvd_reporting.format.schema import (
    FORMAT_MAJOR,
    MILESTONES,
    NOT_FILLED,
    NOT_RECEIVED,
    ORT_STATUSES,
    build_schema,
)
from pvd_reporting.format.vocabulary import ENGAGED_STATUSES, PLANNED_STATUSES, YES

SIGNED, OVERDUE, AT_RISK, _ON_TIME, _UNKNOWN = ORT_STATUSES
NOT_REPORTING = "Non remontée"
REPORTING = "Remontée"
IN_POST = "en poste"
# The annuaire's personal columns, as the regional history names them.
CONTACTS_TABLE = "annuaire"
CONTACT_COLUMNS = tuple(snake(build_schema().table(CONTACTS_TABLE).column(key).label)
                        for key in ("name", "email", "phone"))
J2 = MILESTONES[1][0]
_SQLITE_MAGIC = b"SQLite format 3\x00"


Ident = tuple[str, str, str]


@dataclass
class Table:
    """One table of a regional history, read whole: column names and rows."""

    columns: list[str]
    rows: list[tuple[Any, ...]]

    def index(self, name: str) -> int | None:
        return self.columns.index(name) if name in self.columns else None


@dataclass
class RegionalHistory:
    """One région's history file, read and checked."""

    path: Path
    region: str
    region_code: str | None
    format_version: str
    program_version: str
    written_at: str
    sha256: str
    periods: list[str]
    contacts: bool
    financers: list[tuple[str, str, str]]  # (colonne, libelle, categorie)
    territories: Table = field(default_factory=lambda: Table([], []))
    # Every table of the file with its columns (the national SQLite copies them whole, in SQL).
    columns: dict[str, list[str]] = field(default_factory=dict)
    # By (period, id_pvd, territory name): cents engaged, cents planned, population, J2's date.
    engaged: dict[Ident, int] = field(default_factory=dict)
    planned: dict[Ident, int] = field(default_factory=dict)
    population: dict[Ident, int] = field(default_factory=dict)
    j2: dict[Ident, str] = field(default_factory=dict)
    # Names, mails and phones of the annuaire and the chefs de projet: what must not leave the région.
    personal: set[str] = field(default_factory=set)

    @property
    def period_range(self) -> str:
        return f"{self.periods[0]} à {self.periods[-1]}" if len(self.periods) > 1 else (self.periods or ["—"])[0]


@dataclass
class NationalTerritory:
    """A territory of one région at one period, as the nation sees it (money in cents)."""

    region: str
    period: str
    id_pvd: str | None
    name: str
    department: str | None
    epci: str | None
    siren: str | None
    status: str
    last_milestone: str | None = None
    deadline: str | None = None
    days_left: int | None = None
    signed_in_time: bool | None = None
    months_j1_j8: float | None = None
    cadence_held: bool = False
    lead_in_post: bool = False
    lead_name: str | None = None
    cost: int = 0
    engaged: int = 0
    planned: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    remaining: int = 0
    population: int = 0
    communes: str | None = None
    # Found in another région too: the région where the nation counts it.
    counted_in: str | None = None

    @property
    def received(self) -> bool:
        return self.status not in (NOT_RECEIVED, NOT_FILLED)

    @property
    def key(self) -> str:
        """Identity across régions: the Identifiant PVD, else the EPCI's SIREN and the communes."""
        if self.id_pvd:
            return self.id_pvd.strip().lower()
        return f"{self.siren or '?'}:{self.communes or self.name}"

    @property
    def counted(self) -> bool:
        return self.counted_in is None or self.counted_in == self.region


@dataclass
class Figures:
    """The figures of a set of territories (a région or the nation at one period); money in cents."""

    expected: int = 0
    received: int = 0
    missing: int = 0
    signed: int = 0
    signed_in_time: int = 0
    signed_late: int = 0
    at_risk: int = 0
    overdue: int = 0
    median_months: float | None = None
    cadence_held: int = 0
    leads_in_post: int = 0
    cost: int = 0
    engaged: int = 0
    planned: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    remaining: int = 0
    population: int = 0

    @property
    def per_inhabitant(self) -> float | None:
        return round(self.cost / 100 / self.population, 2) if self.population else None


def figures_of(territories: Iterable[NationalTerritory]) -> Figures:
    f = Figures(by_category=dict.fromkeys(NATIONAL_CATEGORIES, 0))
    months: list[float] = []
    for t in territories:
        f.expected += 1
        if not t.received:
            continue
        f.received += 1
        if t.status == SIGNED:
            f.signed += 1
            f.signed_in_time += t.signed_in_time is True
            f.signed_late += t.signed_in_time is False
            if t.months_j1_j8 is not None:
                months.append(t.months_j1_j8)
        f.at_risk += t.status == AT_RISK
        f.overdue += t.status == OVERDUE
        f.cadence_held += t.cadence_held
        f.leads_in_post += t.lead_in_post
        f.cost += t.cost
        f.engaged += t.engaged
        f.planned += t.planned
        f.remaining += t.remaining
        f.population += t.population
        for category, amount in t.by_category.items():
            f.by_category[category] = f.by_category.get(category, 0) + amount
    f.missing = f.expected - f.received
    f.median_months = round(statistics.median(months), 1) if months else None
    return f


@dataclass(frozen=True)
class Figure:
    """One national figure: its label, its kind, its getter; money is held in cents (`cents`)."""

    label: str
    kind: ValueKind
    get: Callable[[Figures], Any]
    cents: bool = False


def category_label(category: str) -> str:
    return f"Financements : {category} (€)"


def _money(label: str, get: Callable[[Figures], Any]) -> Figure:
    return Figure(label, ValueKind.EUROS, get, cents=True)


def _category_figure(category: str) -> Figure:
    return _money(category_label(category), lambda f: f.by_category.get(category, 0))


COUNT, MONTHS = ValueKind.COUNT, ValueKind.MONTHS
COST_LABEL, POPULATION_LABEL = "Coût total HT (€)", "Population des communes"
# Every output of the roll-up (Synthèse, Régions, the dashboard's table, the national SQLite)
# lists these, in this order.
FIGURES: tuple[Figure, ...] = (
    Figure("Territoires attendus", COUNT, lambda f: f.expected),
    Figure("Territoires reçus", COUNT, lambda f: f.received),
    Figure("Territoires manquants", COUNT, lambda f: f.missing),
    Figure("ORT signées dans le délai", COUNT, lambda f: f.signed_in_time),
    Figure("ORT signées après l'échéance", COUNT, lambda f: f.signed_late),
    Figure("À risque", COUNT, lambda f: f.at_risk),
    Figure("Échéance dépassée", COUNT, lambda f: f.overdue),
    Figure("Durée médiane J1 → J8 (mois)", MONTHS, lambda f: f.median_months),
    Figure("Cadence des comités tenue", COUNT, lambda f: f.cadence_held),
    Figure("Chefs de projet en poste", COUNT, lambda f: f.leads_in_post),
    _money("Coût engagé (€)", lambda f: f.engaged),
    _money("Coût prévu (€)", lambda f: f.planned),
    _money(COST_LABEL, lambda f: f.cost),
    *(_category_figure(c) for c in NATIONAL_CATEGORIES),
    _money(REMAINING_LABEL, lambda f: f.remaining),
    Figure(POPULATION_LABEL, COUNT, lambda f: f.population),
    Figure("Coût par habitant (€)", ValueKind.EUROS, lambda f: f.per_inhabitant),
)


def figure_value(figure: Figure, figures: Figures | None) -> Any:
    """The figure as shown: euros for money, None when the région did not report."""
    if figures is None:
        return None
    value = figure.get(figures)
    return value / 100 if figure.cents and value is not None else value


@dataclass
class RegionRow:
    """A région at one period: its figures, or None when it did not report (« Non remontée »)."""

    region: str
    period: str
    figures: Figures | None
    source: RegionalHistory | None = None

    @property
    def status(self) -> str:
        return REPORTING if self.figures is not None else NOT_REPORTING


@dataclass
class Duplicate:
    """A territory found in two régions for the period."""

    key: str
    name: str
    regions: list[str]
    counted_in: str


@dataclass
class NationalRollup:
    period: str
    previous: str | None
    histories: list[RegionalHistory]
    refused: list[tuple[Path, str]]  # files left out, with the French reason
    superseded: list[tuple[RegionalHistory, RegionalHistory]]  # (left out, kept) for one région
    regions: list[RegionRow]  # every région at the period, reporting or not
    nation: Figures
    nation_previous: Figures | None
    by_quarter: list[RegionRow]  # each région at each quarter found
    territories: list[NationalTerritory]  # at the period, every région
    territories_by_period: dict[str, list[NationalTerritory]]
    duplicates: list[Duplicate]
    periods: list[str]  # every period found, oldest first
    contacts: bool = False

    @property
    def missing_regions(self) -> list[str]:
        return [r.region for r in self.regions if r.figures is None]

    @property
    def reporting(self) -> int:
        return sum(1 for r in self.regions if r.figures is not None)


# ---------------------------------------------------------------- reading


def find_histories(paths: Sequence[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files given, and every `historique-pvd.sqlite` under folders given; plus paths refused."""
    files: list[Path] = []
    refused: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for given in paths:
        if given.is_dir():
            found = sorted(p for p in given.rglob(DB_NAME) if p.is_file())
            if not found:
                refused.append((given, f"dossier sans fichier {DB_NAME}"))
            for p in found:
                if p.resolve() not in seen:
                    seen.add(p.resolve())
                    files.append(p)
        elif given.is_file():
            if given.resolve() not in seen:
                seen.add(given.resolve())
                files.append(given)
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


def read_history(path: Path) -> RegionalHistory:
    """One région's history, every table read whole; NotAHistory says why a file cannot be."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise NotAHistory(f"fichier illisible ({exc.strerror or exc})") from None
    if head != _SQLITE_MAGIC:
        raise NotAHistory("ce n'est pas une base SQLite (attendu : le fichier historique-pvd.sqlite "
                          "écrit par pvd-report consolidate)")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise NotAHistory(f"base SQLite illisible ({exc})") from None
    try:
        return _read_open(db, path)
    except sqlite3.Error as exc:
        raise NotAHistory(f"base SQLite illisible ou endommagée ({exc})") from None
    finally:
        db.close()


def _read_open(db: sqlite3.Connection, path: Path) -> RegionalHistory:
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    if META_TABLE not in names or TERRITORIES_TABLE not in names:
        raise NotAHistory("base SQLite qui n'est pas un historique pvd-report (tables meta et territoires "
                          "absentes)")
    try:
        meta = {str(k): v for k, v in db.execute(f'SELECT cle, valeur FROM "{META_TABLE}"')}
    except sqlite3.Error:
        raise NotAHistory("base SQLite qui n'est pas un historique pvd-report (table meta illisible)") from None
    version = str(meta.get(META_FORMAT) or "")
    if not version or version.split(".")[0] != FORMAT_MAJOR:
        raise NotAHistory(f"historique au format « {version or 'inconnu'} », que cette version de pvd-report "
                          f"ne lit pas (format {FORMAT_MAJOR}.x attendu)")
    if FINANCERS_TABLE not in names:
        raise NotAHistory(f"historique écrit par pvd-report {meta.get(META_VERSION) or '?'}, sans la table "
                          f"{FINANCERS_TABLE} : reconsolidez la région avec la version actuelle")
    region_name = str(meta.get(META_REGION) or "").strip()
    written = str(meta.get(META_WRITTEN) or "").strip()
    if not region_name or not written:
        raise NotAHistory("historique sans région ou sans date d'écriture dans sa table meta")
    columns = {name: [r[1] for r in db.execute(f'PRAGMA table_info("{name}")')] for name in names
               if name not in (META_TABLE, FINANCERS_TABLE)}
    cursor = db.execute(f'SELECT * FROM "{TERRITORIES_TABLE}"')
    territories = Table([d[0] for d in cursor.description], cursor.fetchall())
    absent = [c for c in TERRITORY_READ if c not in territories.columns]
    if absent:
        raise NotAHistory(f"table territoires sans la colonne « {absent[0]} » : historique d'une version "
                          "que pvd-report ne lit pas")
    financers = [tuple(str(v) for v in row) for row in
                 db.execute(f'SELECT {", ".join(FINANCER_COLUMNS)} FROM "{FINANCERS_TABLE}"')]
    for colonne, libelle, category in financers:
        if category not in NATIONAL_CATEGORIES:
            raise NotAHistory(f"financeur « {libelle} » de catégorie inconnue « {category} »")
        if colonne not in territories.columns:
            raise NotAHistory(f"colonne de financeur « {colonne} » absente de la table territoires")
    periods = sorted({str(r[territories.columns.index(PERIOD)]) for r in territories.rows},
                     key=lambda p: parse_label(p) or (0, 0))
    history = RegionalHistory(
        path=path, region=known_region(region_name) or region_name,
        region_code=str(meta.get(META_REGION_CODE) or "") or None, format_version=version,
        program_version=str(meta.get(META_VERSION) or ""), written_at=written, sha256=_sha256(path),
        periods=periods or [p for p in str(meta.get(META_PERIODS) or "").split(",") if p],
        contacts=str(meta.get(META_CONTACTS) or "oui") != "non",
        financers=[(a, b, c) for a, b, c in financers], territories=territories, columns=columns,
    )
    _sums(db, history)
    return history


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
    if _has(history, "communes", C_POPULATION):
        for p, i, t, total in db.execute(
                f'SELECT {key}, SUM(CASE WHEN typeof("{C_POPULATION}") = \'integer\' THEN "{C_POPULATION}" END) '
                "FROM communes GROUP BY 1, 2, 3"):
            history.population[(str(p), i, t)] = int(total or 0)
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


# ---------------------------------------------------------------- territories


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def territories_of(history: RegionalHistory, *, contacts: bool = False) -> dict[str, list[NationalTerritory]]:
    """Every territory of the history, by period."""
    table = history.territories
    at = {name: table.columns.index(name) for name in TERRITORY_READ}
    money = [(table.columns.index(col), category) for col, _, category in history.financers]
    engaged, planned, population, j2 = history.engaged, history.planned, history.population, history.j2
    out: dict[str, list[NationalTerritory]] = {}
    for row in table.rows:
        period = str(row[at[PERIOD]])
        ident = (period, str(row[at[ID]] or ""), str(row[at[TERRITORY]] or ""))
        status = str(row[at[T_STATUS]] or "")
        j1, j8 = _day(row[at[T_J1]]), _day(row[at[T_J8]])
        by_category = dict.fromkeys(NATIONAL_CATEGORIES, 0)
        for i, category in money:
            by_category[category] += cents(row[i])
        lead = row[at[T_LEAD]]
        end = _period_end(period)
        j2_on = _day(j2.get(ident))
        in_time = row[at[T_IN_TIME]]
        days = row[at[T_DAYS]]
        out.setdefault(period, []).append(NationalTerritory(
            region=history.region, period=period, id_pvd=row[at[ID]] or None, name=str(row[at[TERRITORY]] or ""),
            department=row[at[T_DEPARTMENT]], epci=row[at[T_EPCI]], siren=row[at[T_SIREN]] or None,
            status=status, last_milestone=row[at[T_LAST]], deadline=row[at[T_DEADLINE]],
            days_left=days if isinstance(days, int) else None,
            signed_in_time=None if in_time in (None, "") else in_time == YES,
            months_j1_j8=(j8 - j1).days / DAYS_PER_MONTH if status == SIGNED and j1 and j8 else None,
            cadence_held=row[at[T_CADENCE]] == YES,
            lead_in_post=bool(lead and str(lead).strip()) or (j2_on is not None and (end is None or j2_on <= end)),
            lead_name=str(lead) if contacts and lead else None,
            cost=cents(row[at[T_COST]]), engaged=engaged.get(ident, 0), planned=planned.get(ident, 0),
            by_category=by_category, remaining=cents(row[at[T_REMAINING]]),
            population=population.get(ident, 0), communes=row[at[T_COMMUNES]],
        ))
    return out


def _period_end(period: str) -> date | None:
    parsed = parse_label(period)
    return last_day(parsed) if parsed else None


# ---------------------------------------------------------------- the roll-up


def _choose_period(histories: Sequence[RegionalHistory]) -> str:
    """The latest period common to most régions."""
    counts: Counter[str] = Counter(p for h in histories for p in set(h.periods))
    return max(counts, key=lambda p: (counts[p], parse_label(p) or (0, 0)))


def _previous(period: str) -> str | None:
    parsed = parse_label(period)
    return quarter_label(previous_quarters(parsed, 2)[0]) if parsed else None


def _mark_duplicates(territories: list[NationalTerritory], code_of: dict[str, str | None]) -> list[Duplicate]:
    """A territory in two régions: counted once, where its identifier's région code points, else
    in the first région (by name)."""
    by_key: dict[str, list[NationalTerritory]] = {}
    for t in territories:
        by_key.setdefault(t.key, []).append(t)
    found = []
    for key, group in by_key.items():
        regions = sorted({t.region for t in group}, key=region_key)
        if len(regions) < 2:
            continue
        owner = regions[0]
        parts = (group[0].id_pvd or "").split("-")
        if len(parts) >= 3:
            named = next((r for r in regions if code_of.get(r) == parts[1].zfill(2)), None)
            owner = named or owner
        for t in group:
            t.counted_in = owner
        found.append(Duplicate(key, group[0].name, regions, owner))
    return found


def _all_regions(histories: Sequence[RegionalHistory]) -> list[str]:
    """The shipped régions, then any other région a history names."""
    names = list(shipped_regions())
    for h in histories:
        if h.region not in names:
            names.append(h.region)
    return sorted(names, key=region_key)


def roll_up(paths: Sequence[Path], *, period: str | None = None, contacts: bool = False,
            on_progress: Callable[[int], None] | None = None,
            on_start: Callable[[int], None] | None = None) -> NationalRollup:
    """Read every history found under `paths` and add the régions up for `period` (default: the
    latest period common to most régions)."""
    files, refused = find_histories(paths)
    if on_start is not None:
        on_start(len(files))
    read: list[RegionalHistory] = []
    for path in files:
        try:
            read.append(read_history(path))
        except NotAHistory as exc:
            refused.append((path, str(exc)))
        if on_progress is not None:
            on_progress(1)
    kept: dict[str, RegionalHistory] = {}
    superseded: list[tuple[RegionalHistory, RegionalHistory]] = []
    for h in sorted(read, key=lambda h: h.written_at, reverse=True):
        winner = kept.get(region_key(h.region))
        if winner is None:
            kept[region_key(h.region)] = h
        else:
            superseded.append((h, winner))
    histories = sorted(kept.values(), key=lambda h: region_key(h.region))
    if not histories:
        raise NothingToRollUp(refused)
    periods = sorted({p for h in histories for p in h.periods}, key=lambda p: parse_label(p) or (0, 0))
    if period is not None and period not in periods:
        raise UsageError(f"Aucune région n'a de données pour la période {period} (périodes trouvées : "
                         f"{', '.join(periods) or 'aucune'}).")
    target = period or _choose_period(histories)
    previous = _previous(target)
    by_period: dict[str, list[NationalTerritory]] = {}
    by_region: dict[str, dict[str, list[NationalTerritory]]] = {}
    for h in histories:
        own = territories_of(h, contacts=contacts)
        by_region[h.region] = own
        for p, ts in own.items():
            by_period.setdefault(p, []).extend(ts)
    code_of = {h.region: h.region_code for h in histories}
    duplicates: list[Duplicate] = []
    for p, ts in by_period.items():
        found = _mark_duplicates(ts, code_of)
        if p == target:
            duplicates = found
    source_of = {h.region: h for h in histories}
    names = _all_regions(histories)

    def rows_at(p: str) -> list[RegionRow]:
        rows = []
        for name in names:
            ts = by_region.get(name, {}).get(p)
            rows.append(RegionRow(name, p, figures_of(ts) if ts is not None else None, source_of.get(name)))
        return rows

    at_previous = by_period.get(previous or "")
    by_quarter = [RegionRow(h.region, p, figures_of(ts), h)
                  for h in histories for p, ts in sorted(by_region[h.region].items(),
                                                         key=lambda kv: parse_label(kv[0]) or (0, 0))]
    territories = by_period.get(target, [])
    return NationalRollup(
        period=target, previous=previous if at_previous else None, histories=histories, refused=refused,
        superseded=superseded, regions=rows_at(target),
        nation=figures_of(t for t in territories if t.counted),
        nation_previous=figures_of(t for t in at_previous if t.counted) if at_previous else None,
        by_quarter=by_quarter, territories=territories, territories_by_period=by_period,
        duplicates=duplicates, periods=periods, contacts=contacts,
    )


class NothingToRollUp(UsageError):
    """No file could be read as a regional history: each is named with its reason."""

    def __init__(self, refused: list[tuple[Path, str]]) -> None:
        super().__init__("Aucun historique régional lisible : rien à consolider au niveau national.")
        self.refused = refused
