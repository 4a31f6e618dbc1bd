"""A région's history as the roll-up holds it (RegionalHistory), and its territories as the nation sees them.

`RegionalHistory` is what regional_histories.py reads from one région's `historique-pvd.sqlite`;
`territories_of` turns its rows into `NationalTerritory`, a row of the nation, money in whole cents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pvd_reporting.consolidate.regional import DAYS_PER_MONTH, cents
from pvd_reporting.format.config import NATIONAL_CATEGORIES
from pvd_reporting.format.history import (
    ID,
    PERIOD,
    T_ACTIONS,
    T_BEYOND,
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
    T_NEEDS,
    T_NEEDS_AMOUNT,
    T_REMAINING,
    T_SIREN,
    T_STATUS,
    TERRITORY,
    TERRITORY_READ,
)
from pvd_reporting.format.periods import last_day, parse_label
from pvd_reporting.format.reference import territory_key
from pvd_reporting.format.schema import (
    NOT_FILLED,
    NOT_RECEIVED,
    ORT_STATUSES,
)
from pvd_reporting.format.vocabulary import YES

SIGNED = ORT_STATUSES[0]
# Beyond this many rows in one table, a file is not a région's history (a région of 160
# territories over 40 quarters writes about 400,000 rows in its largest table).
MAX_TABLE_ROWS = 2_000_000
SCOPE_SEPARATOR = " — "  # « Grand Est — Ardennes (08) », as RegionView.scope writes it


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
    # The figures the région published, by period and label (its `chiffres` table).
    figures: dict[str, dict[str, float]] = field(default_factory=dict)
    # Each period's latest publication (version, written_at), from the `publications` table.
    published: dict[str, tuple[int, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was not read, in French
    scope: str = ""  # `perimetre`: « Grand Est », or « Grand Est — Ardennes (08) »
    departments: list[str] = field(default_factory=list)  # kept by --departement; empty: all
    reference: str | None = None  # the reference list used, « aucune »; None: not recorded (older file)
    reference_digest: str | None = None

    @property
    def latest(self) -> str:
        """The latest quarter the file publishes (its `publications`, else its periods)."""
        found = list(self.published) or self.periods
        return max(found, key=lambda p: parse_label(p) or (0, 0)) if found else ""

    @property
    def publication(self) -> tuple[int, str]:
        """The latest publication of its latest quarter: (version, written_at)."""
        return self.published.get(self.latest) or (0, self.written_at)

    @property
    def partial(self) -> str | None:
        """Why the file is not the whole région, in French; None when it is. A file made without
        the reference list (--no-reference) holds every workbook of the région: the nation takes
        the territories expected from the shipped list, and says so (`notes`)."""
        if self.departments:
            return f"fichier partiel (--departement {', '.join(self.departments)} : {self.scope})"
        # Written before the départements were recorded: the scope's title names them after a dash.
        if SCOPE_SEPARATOR in self.scope:
            return f"fichier partiel ({self.scope})"
        return None

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
    beyond_cost: int = 0
    actions: int = 0
    needs: int = 0
    needs_amount: int = 0  # cents
    population: int | None = None  # of its Villes PVD; None when no workbook gives it
    communes: str | None = None
    # Found in another région too: the région where the nation counts it (None: in none).
    duplicate: bool = False
    counted_in: str | None = None

    @property
    def received(self) -> bool:
        return self.status not in (NOT_RECEIVED, NOT_FILLED)

    @property
    def key(self) -> str:
        """Identity across régions, as the reference list has it: the Identifiant PVD, else the
        EPCI's SIREN and the INSEE codes of its communes (« Auray (56007) » in `communes`)."""
        return territory_key(self.id_pvd, self.siren, re.findall(r"\((\w{5})\)", self.communes or ""))

    @property
    def counted(self) -> bool:
        return not self.duplicate or self.counted_in == self.region


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
    beyond, actions, needs, needs_amount = (table.index(c) for c in (T_BEYOND, T_ACTIONS, T_NEEDS, T_NEEDS_AMOUNT))
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
            beyond_cost=cents(row[beyond]) if beyond is not None else 0,
            actions=_count(row[actions]) if actions is not None else 0,
            needs=_count(row[needs]) if needs is not None else 0,
            needs_amount=cents(row[needs_amount]) if needs_amount is not None else 0,
            population=population.get(ident), communes=row[at[T_COMMUNES]],
        ))
    return out


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TABLE_ROWS else 0


def _period_end(period: str) -> date | None:
    parsed = parse_label(period)
    return last_day(parsed) if parsed else None
