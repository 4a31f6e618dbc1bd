"""Cross-field rules of docs/format-1.md, applied to values the reader has already parsed.

A value left None by the reader (blank or unreadable) is never the subject of a second issue
here: the reader has already said what was wrong with it. Total rows are never counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from pvd_reporting.format.french import fr_date, fr_int, fr_money, fr_number
from pvd_reporting.format.issues import Issue, IssueCode, Severity, control_of, make_issue
from pvd_reporting.format.matching import norm, parse_a1
from pvd_reporting.format.periods import (
    cadence_window,
    ends_long_before,
    last_day,
    parse_label,
    quarter_label,
    quarter_of,
    quarters_without,
)
from pvd_reporting.format.reference import Reference
from pvd_reporting.format.schema import (
    ANNUAIRE,
    COMITES,
    COMMUNES,
    ENGAGEMENTS,
    INGENIERIE,
    JALONS,
    MILESTONES,
    TERRITOIRE,
    Kind,
    Schema,
)
from pvd_reporting.format.vocabulary import (
    BDT_COFINANCING,
    DONE_STATUS,
    ENGAGED_STATUSES,
    J1,
    J3,
    NO,
    ONGOING_STATUSES,
    PROJECT_COMMITTEE,
    PROJECT_LEAD_ROLE,
    PVD_TOWN,
    milestone_code,
)
from pvd_reporting.read.records import Record, WorkbookData
from pvd_reporting.read.values import as_date, is_blank

# Financings may exceed the cost by rounding only (docs/format-1.md: 1 € tolerance).
COST_TOLERANCE = 1.0



def apply_rules(data: WorkbookData, schema: Schema, *, reference: Reference | None = None) -> list[Issue]:
    """Every cross-field rule of docs/format-1.md on one workbook, in sheet order."""
    ctx = _Context(data, schema)
    issues: list[Issue] = []
    issues += _territory(ctx)
    issues += _communes(ctx, reference)
    issues += _jalons(ctx)
    issues += _engagements(ctx)
    issues += _comites(ctx)
    issues += _ingenierie(ctx)
    issues += _annuaire(ctx)
    return issues


def set_controls(data: WorkbookData, issues: Iterable[Issue]) -> None:
    """Each record's `control` (OK · Avertissement · Erreur) from the issues on its row."""
    worst: dict[tuple[str, int | None], Severity] = {}
    for issue in issues:
        if issue.sheet is None or (issue.row is None and issue.cell is None):
            continue
        key = (norm(issue.sheet), issue.row)
        if worst.get(key) != Severity.ERROR:
            worst[key] = issue.severity
    form_names = {norm(data.territory.sheet), norm(data.sheet_titles.get(TERRITOIRE))}
    form = [s for (sheet, _row), s in worst.items() if sheet in form_names]
    data.territory.control = control_of(form)
    for table_key, rows in data.tables.items():
        title = norm(data.sheet_titles.get(table_key))
        for record in rows:
            found = [worst.get((name, record.row)) for name in {norm(record.sheet), title}]
            record.control = control_of([s for s in found if s is not None])


# --- helpers ----------------------------------------------------------------------------------


class _Context:
    def __init__(self, data: WorkbookData, schema: Schema) -> None:
        self.data = data
        self.schema = schema
        self.config = schema.config
        territory = data.territory
        self.updated_on = as_date(territory.values.get("updated_on"))
        self.period = parse_label(territory.values.get("period"))
        # Carried from last quarter, with its update date typed: what the new quarter has made
        # out of date is a point to check, as of that date (the day its facts are stated).
        self.carried = data.carried_from is not None and self.updated_on is not None

    def overdue(self, day: date | None) -> bool:
        """A date before the update date."""
        return day is not None and self.updated_on is not None and day < self.updated_on

    @property
    def updated_text(self) -> str:
        return fr_date(self.updated_on) if self.updated_on is not None else ""

    def has(self, table: str) -> bool:
        """A sheet the reader could not find is already reported as missing-sheet."""
        return table in self.data.tables

    def rows(self, table: str) -> list[Record]:
        return self.data.rows(table)

    def label(self, table: str | None, key: str) -> str:
        if table is None:
            return self.schema.form.field(key).label
        return self.schema.table(table).column(key).label

    def sheet(self, table: str | None) -> str:
        """The schema's sheet name: a stable key in reports, whatever the tab's spelling in the file."""
        return self.schema.form.name if table is None else self.schema.table(table).name

    def issue(self, code: IssueCode, record: Record, table: str | None, key: str, /, **params: Any) -> Issue:
        """An issue on one cell of a record, its place taken from the record."""
        cell = record.cells.get(key)
        row = record.row
        if row is None and cell:
            where = parse_a1(cell)
            row = where[0] if where else None
        return make_issue(
            code, sheet=self.sheet(table), cell=cell, row=row,
            column=self.label(table, key), value=record.raw.get(key), **params,
        )


def same(value: Any, expected: str) -> bool:
    return value is not None and norm(value) == norm(expected)


def is_no(value: Any) -> bool:
    return value is False or (isinstance(value, str) and same(value, NO))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _as_points(raw: Any, read: Any) -> str | None:
    """A percent read as points (80 for 80 %) from a number above 1, or a text without « % »: the
    value read, for the report to say it; None when the value said what it was (0.8, « 80 % »)."""
    if read is None or raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, str):
        typed = raw.strip()
        return None if typed.endswith("%") or read == 0 or abs(_plain(typed) - read) > 1e-9 else fr_number(read)
    return fr_number(read) if isinstance(raw, (int, float)) and raw > 1 else None


def _plain(typed: str) -> float:
    try:
        return float(typed.replace("\u00a0", "").replace(" ", "").replace(",", "."))
    except ValueError:
        return -1.0


def _four_digits(raw: Any) -> bool:
    """An INSEE code typed with 4 digits (5518): the reader puts back a leading 0 (05518), which
    may be wrong (a Hautes-Alpes code for a Meuse one): said, as a point to check."""
    if isinstance(raw, bool):
        return False
    if isinstance(raw, (int, float)):
        return float(raw).is_integer() and 1000 <= raw <= 9999
    return isinstance(raw, str) and len(raw.strip().replace(" ", "")) == 4 and raw.strip().replace(" ", "").isdigit()


# --- Territoire -------------------------------------------------------------------------------


def _territory(ctx: _Context) -> list[Issue]:
    issues: list[Issue] = []
    record = ctx.data.territory
    cofinancing = record.values.get("cofinancing")
    etp = _number(record.values.get("etp"))
    threshold = ctx.config.cofinancing_min_etp
    if etp is not None and etp < threshold and any(same(cofinancing, v) for v in BDT_COFINANCING):
        issues.append(ctx.issue(IssueCode.ETP_BELOW_THRESHOLD, record, None, "etp",
                                etp=fr_number(etp), threshold=fr_number(threshold)))
    for f in ctx.schema.form.fields:
        if f.kind is Kind.PERCENT and (points := _as_points(record.raw.get(f.key), record.values.get(f.key))):
            issues.append(ctx.issue(IssueCode.PERCENT_AS_POINTS, record, None, f.key, percent=points))
    # A workbook filled in 2025-T3 cannot report on 2025-T4: the period or the date is wrong.
    if ctx.period is not None and ctx.updated_on is not None:
        filled_in = quarter_of(ctx.updated_on)
        if ctx.period > filled_in:
            issues.append(ctx.issue(IssueCode.PERIOD_AFTER_UPDATE, record, None, "period",
                                    updated_on=fr_date(ctx.updated_on), quarter=quarter_label(filled_in)))
        # A workbook updated long after its quarter: most likely the year or the quarter mistyped
        # (2025-T1 for 2026-T1); an ordinary late sending (2025-T4 updated in January) is not flagged.
        elif ends_long_before(ctx.period, ctx.updated_on):
            issues.append(ctx.issue(IssueCode.PERIOD_BEFORE_UPDATE, record, None, "period",
                                    period_end=fr_date(last_day(ctx.period)), updated_on=fr_date(ctx.updated_on)))
    return issues


# --- Communes ---------------------------------------------------------------------------------


def _communes(ctx: _Context, reference: Reference | None) -> list[Issue]:
    if not ctx.has(COMMUNES):
        return []
    table = COMMUNES
    rows = ctx.rows(table)
    if not rows:
        return [make_issue(IssueCode.REQUIRED_VALUE, sheet=ctx.sheet(table), column=ctx.label(table, "name"))]
    issues: list[Issue] = []
    limit = ctx.config.population_limit
    known = reference.communes() if reference is not None else None
    for record in rows:
        lost_zero = _four_digits(record.raw.get("insee"))
        if lost_zero and record.values.get("insee"):
            issues.append(ctx.issue(IssueCode.INSEE_FOUR_DIGITS, record, table, "insee",
                                    insee=record.values["insee"]))
        town = same(record.values.get("role"), PVD_TOWN)
        population = _number(record.values.get("population"))
        if town and population is not None and population > limit:
            issues.append(ctx.issue(IssueCode.POPULATION_OVER_LIMIT, record, table, "population",
                                    limit=fr_int(limit)))
        if known is None:
            continue
        insee = record.values.get("insee")
        if not insee:
            continue
        code = str(insee).strip().upper()
        ref = known.get(code)
        if ref is None:
            # The reference lists PVD communes only: an associated commune is expected to be absent.
            if town:
                issues.append(ctx.issue(
                    IssueCode.UNKNOWN_COMMUNE, record, table, "insee",
                    reason=f"Code INSEE « {code} » absent de la liste de référence des communes PVD.",
                ))
            continue
        name = record.values.get("name")
        if name and ref.name and norm(name) != norm(ref.name):
            issues.append(ctx.issue(
                IssueCode.UNKNOWN_COMMUNE, record, table, "name",
                reason=f"« {name} » : la liste de référence nomme « {ref.name} » la commune {code}.",
            ))
    return issues


# --- Jalons -----------------------------------------------------------------------------------


def _jalons(ctx: _Context) -> list[Issue]:
    if not ctx.has(JALONS):
        return []
    table = JALONS
    by_code: dict[str, Record] = {}
    issues: list[Issue] = []
    known = {code for code, _ in MILESTONES}
    for record in ctx.rows(table):
        code = milestone_code(record.values.get("code"), record.values.get("label"))
        if not code:
            continue  # the reader has said the code is required
        if code not in known:
            # A J9 or a renamed code would otherwise be read and never checked (docs/format-1.md: eight fixed rows).
            issues.append(ctx.issue(IssueCode.UNKNOWN_MILESTONE, record, table, "code",
                                    codes=", ".join(c for c, _ in MILESTONES)))
            continue
        first = by_code.setdefault(code, record)
        if first is not record:
            issues.append(ctx.issue(IssueCode.DUPLICATE_MILESTONE, record, table, "code",
                                    first_row=first.row if first.row is not None else "?"))
    latest: tuple[date, str] | None = None  # the latest realised date among earlier jalons
    for code, _label in MILESTONES:
        found = by_code.get(code)
        if found is None:
            issues.append(make_issue(IssueCode.MISSING_MILESTONE, sheet=ctx.sheet(table), code=code))
            continue
        record = found
        done = as_date(record.values.get("done_on"))
        if done is None:
            if code == J1 and is_blank(record.raw.get("done_on")):
                issues.append(ctx.issue(IssueCode.REQUIRED_VALUE, record, table, "done_on"))
            continue
        if ctx.updated_on is not None and done > ctx.updated_on:
            issues.append(ctx.issue(IssueCode.DATE_IN_FUTURE, record, table, "done_on",
                                    date=fr_date(done), updated_on=fr_date(ctx.updated_on)))
        if latest is not None and done < latest[0]:
            issues.append(ctx.issue(IssueCode.MILESTONES_OUT_OF_ORDER, record, table, "done_on", code=code,
                                    date=fr_date(done), previous=latest[1],
                                    previous_date=fr_date(latest[0])))
        if latest is None or done > latest[0]:
            latest = (done, code)
    if ctx.carried:
        # A workbook carried from last quarter: jalons planned before the update, not realised.
        for code, found in by_code.items():
            planned = as_date(found.values.get("planned_on"))
            if ctx.overdue(planned) and is_blank(found.raw.get("done_on")):
                issues.append(ctx.issue(IssueCode.MILESTONE_OVERDUE, found, table, "planned_on", code=code,
                                        date=fr_date(planned) if planned else "", updated_on=ctx.updated_text))
    return issues



def realised_on(ctx: _Context, code: str) -> date | None:
    for record in ctx.rows(JALONS) if ctx.has(JALONS) else []:
        if milestone_code(record.values.get("code"), record.values.get("label")) == code:
            return as_date(record.values.get("done_on"))
    return None


# --- Engagements ------------------------------------------------------------------------------


def _engagements(ctx: _Context) -> list[Issue]:
    if not ctx.has(ENGAGEMENTS):
        return []
    table = ENGAGEMENTS
    money_keys = [f.key for f in ctx.schema.financer_fields]
    seen: dict[str, int | None] = {}
    issues: list[Issue] = []
    for record in ctx.rows(table):
        values, raw = record.values, record.raw
        action = values.get("action_id")
        if action is not None and norm(action):
            first = seen.setdefault(norm(action), record.row)
            if first != record.row:
                issues.append(ctx.issue(IssueCode.DUPLICATE_ACTION, record, table, "action_id",
                                        first_row=first if first is not None else "?"))
        for key in ("cost", *money_keys):
            amount = _number(values.get(key))
            if amount is not None and amount < 0:
                issues.append(ctx.issue(IssueCode.NEGATIVE_AMOUNT, record, table, key))
        cost = _number(values.get("cost"))
        status = values.get("status")
        if cost is not None:
            unreadable = any(values.get(k) is None and not is_blank(raw.get(k)) for k in money_keys)
            total = sum(_number(values.get(k)) or 0.0 for k in money_keys)
            if not unreadable and total > cost + COST_TOLERANCE:
                issues.append(ctx.issue(IssueCode.FINANCING_EXCEEDS_COST, record, table, "cost",
                                        total=fr_money(total), cost=fr_money(cost),
                                        excess=fr_money(total - cost)))
        elif is_blank(raw.get("cost")) and any(same(status, s) for s in ENGAGED_STATUSES):
            issues.append(ctx.issue(IssueCode.MISSING_COST, record, table, "cost", status=status))
        start, end = as_date(values.get("start_on")), as_date(values.get("end_on"))
        if start is not None and end is not None and end < start:
            issues.append(ctx.issue(IssueCode.DATES_OUT_OF_ORDER, record, table, "end_on",
                                    end=fr_date(end), start=fr_date(start)))
        if same(status, DONE_STATUS) and end is None and is_blank(raw.get("end_on")):
            issues.append(ctx.issue(IssueCode.MISSING_END_DATE, record, table, "end_on"))
    if ctx.carried:
        # A workbook carried from last quarter: actions still under way whose end date has passed.
        for record in ctx.rows(table):
            status, end = record.values.get("status"), as_date(record.values.get("end_on"))
            if ctx.overdue(end) and any(same(status, s) for s in ONGOING_STATUSES):
                issues.append(ctx.issue(IssueCode.ACTION_OVERDUE, record, table, "end_on",
                                        action=record.values.get("action_id") or "", status=status,
                                        date=fr_date(end) if end else "", updated_on=ctx.updated_text))
    return issues


# --- Comités ----------------------------------------------------------------------------------


def _comites(ctx: _Context) -> list[Issue]:
    if not ctx.has(COMITES):
        return []
    table = COMITES
    issues: list[Issue] = []
    meetings: list[date] = []
    for record in ctx.rows(table):
        when = as_date(record.values.get("date"))
        project = same(record.values.get("body"), PROJECT_COMMITTEE)
        if when is not None:
            if project:
                meetings.append(when)
            if ctx.updated_on is not None and when > ctx.updated_on:
                # A meeting cannot have been held after the workbook was filled: an error, its own code.
                issues.append(ctx.issue(IssueCode.MEETING_AFTER_UPDATE, record, table, "date",
                                        date=fr_date(when), updated_on=fr_date(ctx.updated_on)))
        # Left empty, « État représenté » says no more than « Non »: the État was not recorded there.
        if project and (is_no(record.values.get("etat_present")) or is_blank(record.raw.get("etat_present"))):
            issues.append(ctx.issue(IssueCode.ETAT_ABSENT, record, table, "etat_present"))
    if ctx.period is None:
        return issues
    missing = quarters_without(cadence_window(ctx.period, realised_on(ctx, J3)), meetings)
    if missing:
        issues.append(make_issue(IssueCode.COMITE_CADENCE, sheet=ctx.sheet(table),
                                 quarters=", ".join(quarter_label(q) for q in missing)))
    return issues


# --- Ingénierie -------------------------------------------------------------------------------


def _ingenierie(ctx: _Context) -> list[Issue]:
    if not ctx.has(INGENIERIE):
        return []
    table = INGENIERIE
    actions = {norm(r.values.get("action_id")) for r in ctx.rows(ENGAGEMENTS)}
    check_actions = ctx.has(ENGAGEMENTS)
    issues: list[Issue] = []
    for record in ctx.rows(table):
        linked = record.values.get("action_id")
        if check_actions and linked is not None and norm(linked) and norm(linked) not in actions:
            issues.append(ctx.issue(IssueCode.UNKNOWN_ACTION, record, table, "action_id"))
        amount = _number(record.values.get("amount"))
        if amount is not None and amount < 0:
            issues.append(ctx.issue(IssueCode.NEGATIVE_AMOUNT, record, table, "amount"))
    return issues


# --- Annuaire ---------------------------------------------------------------------------------


def _annuaire(ctx: _Context) -> list[Issue]:
    if not ctx.has(ANNUAIRE):
        return []
    if any(same(r.values.get("role"), PROJECT_LEAD_ROLE) for r in ctx.rows(ANNUAIRE)):
        return []
    return [make_issue(IssueCode.NO_PROJECT_LEAD, sheet=ctx.sheet(ANNUAIRE))]
