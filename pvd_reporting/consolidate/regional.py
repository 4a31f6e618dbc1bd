"""The figures of README, pvd-report consolidate: one territory at the reference date, then the region.

Money is summed in whole cents, action by action, so that the summary reconciles to the cent
with the workbooks and every total holds: cost = financing − financing beyond the cost
(over-financed actions) + remaining to finance. « Engagé » is the money of actions Engagée,
En cours or Terminée; « Prévu » that of Envisagée and En préparation; an action whose status is
not understood is shown apart, never folded into another status.
An ORT signed after its deadline keeps its status « ORT signée », and says by how many months.
Actions `Abandonnée` are counted by status but their money is left out of cost, financing and
remaining to finance. A chef de projet is "in post" when J2 is realised or a name is given.
"""

from __future__ import annotations

import calendar
import statistics
from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

from pvd_reporting.consolidate.view import (
    ENGAGED,
    PLANNED,
    STAGES,
    UNRECOGNISED,
    MilestoneView,
    Money,
    RegionView,
    TerritoryFigures,
    TerritoryView,
    Totals,
)
from pvd_reporting.format.config import REQUIRED_VALUES
from pvd_reporting.format.issues import SEVERITY_LABELS, Severity, WorkbookReport
from pvd_reporting.format.matching import norm
from pvd_reporting.format.periods import (
    CADENCE_QUARTERS,
    cadence_window,
    previous_quarters,
    quarter_label,
    quarter_of,
    quarters_without,
)
from pvd_reporting.format.reference import RefTerritory
from pvd_reporting.format.schema import (
    ANNUAIRE,
    COMITES,
    COMMUNES,
    ENGAGEMENTS,
    INGENIERIE,
    JALONS,
    MILESTONES,
    NOT_FILLED,
    NOT_RECEIVED,
    ORT_STATUSES,
    Schema,
)
from pvd_reporting.format.vocabulary import (
    ABANDONED_STATUS,
    ENGAGED_STATUSES,
    PLANNED_STATUSES,
    PROJECT_COMMITTEE,
    milestone_code,
)
from pvd_reporting.read.records import Record, WorkbookData
from pvd_reporting.read.values import as_date

SIGNED, OVERDUE, AT_RISK, ON_TIME, UNKNOWN = ORT_STATUSES

NOT_GIVEN = "Non renseigné"
DAYS_PER_MONTH = 365.25 / 12
VILLE_PVD = REQUIRED_VALUES["role_commune"][0]
ERROR_CONTROL = SEVERITY_LABELS[Severity.ERROR]  # a row's `Contrôle` when it holds an error


def add_months(day: date, months: int) -> date:
    """Calendar months, clamped to the month's end: 31 Jan + 1 month = 28/29 Feb."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def cents(value: Any) -> int:
    kind = type(value)
    if kind is float or kind is int:  # nearly every amount; bool is neither
        return round(value * 100)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    return round(value * 100)


def _label(schema: Schema, list_key: str, value: Any) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return NOT_GIVEN
    return schema.canonical(list_key, value) or str(value)


def _milestones(data: WorkbookData, as_of: date) -> list[MilestoneView]:
    by_code: dict[str, Record] = {}
    for record in data.rows(JALONS):
        by_code.setdefault(milestone_code(record.values.get("code"), record.values.get("label")), record)
    out = []
    for code, label in MILESTONES:
        row = by_code.get(code.upper())
        planned = as_date(row.values.get("planned_on")) if row else None
        done = as_date(row.values.get("done_on")) if row else None
        # The view is taken at the reference date: a later realisation does not count yet.
        out.append(MilestoneView(code, label, planned, done if done and done <= as_of else None))
    return out


def ort_status(j1: date | None, j8: date | None, deadline: date | None, as_of: date,
               at_risk_days: int) -> tuple[str, int | None]:
    """(status, days left) as in README, pvd-report consolidate."""
    if j8 is not None and j8 <= as_of:
        return SIGNED, None
    if j1 is None or deadline is None:
        return UNKNOWN, None
    days = (deadline - as_of).days
    if days < 0:
        return OVERDUE, days
    if days <= at_risk_days:
        return AT_RISK, days
    return ON_TIME, days


def territory_view(report: WorkbookReport, key: str, schema: Schema, as_of: date,
                   ref: RefTerritory | None = None) -> TerritoryView:
    data: WorkbookData = report.data
    form = data.territory.values
    view = TerritoryView(
        key=key,
        id_pvd=form.get("id_pvd") or (ref.id_pvd if ref else None),
        name=form.get("name") or report.territory or (ref.name if ref else report.path),
        department=form.get("department") or (ref.department if ref else None),
        region=form.get("region") or (ref.region if ref else None),
        epci=form.get("epci") or (ref.epci if ref else None),
        siren=form.get("siren") or (ref.siren if ref else None),
        report=report,
        errors=report.errors,
        warnings=report.warnings,
        project_lead=form.get("project_lead"),
        etp=form.get("etp"),
        cofinancing=form.get("cofinancing"),
    )
    _ort(view, data, schema, as_of, form)
    _comites(view, data, as_of)
    _actions(view, data, schema)
    _needs(view, data, schema)
    view.population = villes_pvd_population(data, ref)
    view.contacts = data.rows(ANNUAIRE)
    return view


def villes_pvd_population(data: WorkbookData, ref: RefTerritory | None) -> int | None:
    """Inhabitants of the territory's Villes PVD: each from the Communes sheet, else from the
    reference list; None when one of them has neither (a partial sum would inflate € per inhabitant)."""
    known = {c.insee: c.population for c in ref.communes} if ref is not None else {}
    towns = [r for r in data.rows(COMMUNES) if norm(r.values.get("role")) == norm(VILLE_PVD)]
    if towns:
        values = [r.values.get("population") for r in towns]
        values = [v if isinstance(v, int | float) and not isinstance(v, bool) and v > 0
                  else known.get(str(r.values.get("insee") or "")) for v, r in zip(values, towns, strict=True)]
    else:
        values = list(known.values())
    if not values or any(v is None for v in values):
        return None
    return int(sum(v for v in values if v is not None))


def _ort(view: TerritoryView, data: WorkbookData, schema: Schema, as_of: date, form: dict[str, Any]) -> None:
    view.milestones = _milestones(data, as_of)
    done = [m for m in view.milestones if m.done_on]
    view.milestones_done = len(done)
    if done:
        view.last_milestone = f"{done[-1].code} — {done[-1].label}"
        view.last_milestone_code = done[-1].code
    view.j1_on = view.milestones[0].done_on
    view.j8_on = view.milestones[-1].done_on
    extended = as_date(form.get("ort_deadline_extended"))
    if extended is not None:
        view.ort_deadline, view.deadline_extended = extended, True
    elif view.j1_on is not None:
        view.ort_deadline = add_months(view.j1_on, schema.config.ort_deadline_months)
    view.ort_status, view.days_left = ort_status(
        view.j1_on, view.j8_on, view.ort_deadline, as_of, schema.config.at_risk_days)
    if view.ort_status == SIGNED and view.j8_on is not None and view.ort_deadline is not None:
        view.signed_in_time = view.j8_on <= view.ort_deadline
        if not view.signed_in_time:
            view.months_late = months_between(view.ort_deadline, view.j8_on)


def months_between(start: date, end: date) -> float:
    """Months from start to end, to one decimal (365.25 / 12 days a month)."""
    return round((end - start).days / DAYS_PER_MONTH, 1)


def _comites(view: TerritoryView, data: WorkbookData, as_of: date) -> None:
    last4 = previous_quarters(quarter_of(as_of), CADENCE_QUARTERS)
    counts = dict.fromkeys(last4, 0)
    meetings: list[date] = []
    for record in data.rows(COMITES):
        when = as_date(record.values.get("date"))
        if when is None or when > as_of or norm(record.values.get("body")) != norm(PROJECT_COMMITTEE):
            continue
        meetings.append(when)
        quarter = quarter_of(when)
        if quarter in counts:
            counts[quarter] += 1
    view.comites_by_quarter = {quarter_label(q): n for q, n in counts.items()}
    view.comites_last4 = sum(counts.values())
    j3 = view.milestones[2].done_on if len(view.milestones) > 2 else None
    # The same window and the same gaps as validate's comite-cadence.
    window = cadence_window(quarter_of(as_of), j3)
    view.cadence_missing = [quarter_label(q) for q in quarters_without(window, meetings)]
    view.cadence_held = not view.cadence_missing if window else None


def stage_of(status: str) -> str:
    if status in ENGAGED_STATUSES:
        return ENGAGED
    if status in PLANNED_STATUSES:
        return PLANNED
    return UNRECOGNISED


class _Cents:
    """Money of a set of actions, in whole cents."""

    def __init__(self, financers: list[str]) -> None:
        self.cost = self.beyond = self.remaining = 0
        self.financing = dict.fromkeys(financers, 0)

    def add(self, cost: int, amounts: dict[str, int]) -> None:
        financed = sum(amounts.values())
        self.cost += cost
        for name, amount in amounts.items():
            self.financing[name] = self.financing.get(name, 0) + amount
        self.beyond += max(financed - cost, 0)
        self.remaining += max(cost - financed, 0)

    def merge(self, money: Money) -> None:
        self.cost += cents(money.cost)
        self.beyond += cents(money.beyond_cost)
        self.remaining += cents(money.remaining)
        for name, amount in money.financing.items():
            self.financing[name] = self.financing.get(name, 0) + cents(amount)

    def money(self) -> Money:
        return Money(self.cost / 100, {k: v / 100 for k, v in self.financing.items()},
                     self.beyond / 100, self.remaining / 100)


def _financers(schema: Schema) -> list[str]:
    return [f.financer or f.key for f in schema.financer_fields]


def _set_money(target: TerritoryView | RegionView, stages: dict[str, _Cents], names: list[str]) -> None:
    total = _Cents(names)
    for stage in stages.values():
        total.merge(stage.money())
    money = total.money()
    target.cost, target.financing = money.cost, money.financing
    target.beyond_cost, target.remaining = money.beyond_cost, money.remaining
    target.money_by_stage = {name: stage.money() for name, stage in stages.items()}


def _actions(view: TerritoryView, data: WorkbookData, schema: Schema) -> None:
    statuses: Counter[str] = Counter()
    themes: Counter[str] = Counter()
    names = _financers(schema)
    stages = {stage: _Cents(names) for stage in STAGES}
    errors = _Cents(names)
    pairs: Counter[tuple[str, str]] = Counter()
    fields = [(f.financer or f.key, f.key) for f in schema.financer_fields]
    for record in data.rows(ENGAGEMENTS):
        values = record.values
        status = _label(schema, "statut_action", values.get("status"))
        theme = _label(schema, "thematique", values.get("theme"))
        statuses[status] += 1
        themes[theme] += 1
        pairs[theme, status] += 1
        if status == ABANDONED_STATUS:
            continue
        amounts = {name: cents(values.get(key)) for name, key in fields}
        cost = cents(values.get("cost"))
        stages[stage_of(status)].add(cost, amounts)
        if record.control == ERROR_CONTROL:
            errors.add(cost, amounts)
    error_money = errors.money()
    view.error_cost, view.error_financed = error_money.cost, error_money.financed
    view.actions = sum(statuses.values())
    view.actions_by_status = dict(statuses)
    view.actions_by_theme = dict(themes)
    view.actions_by_theme_status = dict(pairs)
    _set_money(view, stages, names)


def _needs(view: TerritoryView, data: WorkbookData, schema: Schema) -> None:
    themes: Counter[str] = Counter()
    partners: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    amount = 0
    for record in data.rows(INGENIERIE):
        themes[_label(schema, "thematique", record.values.get("theme"))] += 1
        partners[_label(schema, "partenaire", record.values.get("partner"))] += 1
        statuses[_label(schema, "statut_besoin", record.values.get("status"))] += 1
        amount += cents(record.values.get("amount"))
    view.needs = sum(themes.values())
    view.needs_by_theme, view.needs_by_partner = dict(themes), dict(partners)
    view.needs_by_status = dict(statuses)
    view.needs_amount = amount / 100


def missing_view(ref: RefTerritory) -> TerritoryView:
    return TerritoryView(
        key=ref.key, id_pvd=ref.id_pvd, name=ref.name, department=ref.department, region=ref.region,
        epci=ref.epci, siren=ref.siren, received=False, ort_status=NOT_RECEIVED,
    )


def lead_in_post(view: TerritoryView) -> bool:
    j2 = view.milestones[1].done_on if len(view.milestones) > 1 else None
    return j2 is not None or bool(view.project_lead and str(view.project_lead).strip())


def territory_figures(t: TerritoryView) -> TerritoryFigures:
    """What the territory adds to the figures of any set of territories it belongs to."""
    signed = t.received and t.ort_status == SIGNED
    return TerritoryFigures(
        received=t.received, not_filled=t.ort_status == NOT_FILLED,
        valid=t.received and t.report is not None and t.report.valid,
        ort_status=t.ort_status, signed_in_time=t.signed_in_time if signed else None,
        months_j1_j8=(t.j8_on - t.j1_on).days / DAYS_PER_MONTH if signed and t.j1_on and t.j8_on else None,
        cadence_held=bool(t.cadence_held), lead_in_post=lead_in_post(t), actions=t.actions, needs=t.needs,
        needs_amount=t.needs_amount, money=Money(t.cost, dict(t.financing), t.beyond_cost, t.remaining),
        cost_by_stage={stage: money.cost for stage, money in t.money_by_stage.items()},
        error_cost=t.error_cost, error_financed=t.error_financed, population=t.population)


def add_up(territories: Iterable[TerritoryFigures], financers: list[str], expected: int | None) -> Totals:
    """The sums every figure is read from, over the territories received (the counts of the
    reference list over all of them); money summed in cents, so that a total is exact."""
    every = list(territories)
    received = [t for t in every if t.received]
    signed = [t for t in received if t.ort_status == SIGNED]
    months = [t.months_j1_j8 for t in signed if t.months_j1_j8 is not None]
    money = _Cents(financers)
    stages = dict.fromkeys(STAGES, 0)
    error_cost = error_financed = people = people_cost = 0  # cents, and inhabitants
    for t in received:
        money.merge(t.money)
        error_cost += cents(t.error_cost)
        error_financed += cents(t.error_financed)
        for stage, cost in t.cost_by_stage.items():
            stages[stage] = stages.get(stage, 0) + cents(cost)
        if t.population is not None:
            people += t.population
            people_cost += cents(t.money.cost)
    known = [t for t in received if t.population is not None]
    return Totals(
        territories=every, expected=expected, received=len(received), valid=sum(t.valid for t in received),
        missing=sum(1 for t in every if not t.received) if expected is not None else None,
        not_filled=sum(t.not_filled for t in every),
        ort_signed=len(signed),
        ort_signed_in_time=sum(1 for t in signed if t.signed_in_time),
        ort_signed_late=sum(1 for t in signed if t.signed_in_time is False),
        ort_signed_share=len(signed) / len(received) if received else None,
        median_months_j1_j8=round(statistics.median(months), 1) if months else None,
        at_risk=sum(1 for t in received if t.ort_status == AT_RISK),
        overdue=sum(1 for t in received if t.ort_status == OVERDUE),
        leads_in_post=sum(t.lead_in_post for t in received),
        cadence_held=sum(t.cadence_held for t in received),
        actions=sum(t.actions for t in received), needs=sum(t.needs for t in received),
        needs_amount=sum(cents(t.needs_amount) for t in received) / 100,
        money=money.money(), cost_by_stage={s: c / 100 for s, c in stages.items()},
        error_cost=error_cost / 100, error_financed=error_financed / 100,
        population=people if known else None, population_cost=people_cost / 100,
        without_population=len(received) - len(known))


def region_view(territories: list[TerritoryView], schema: Schema, period: str, as_of: date,
                expected: int | None, *, departments: list[str] | None = None) -> RegionView:
    totals = add_up((territory_figures(t) for t in territories), _financers(schema), expected)
    region = RegionView(
        period=period, as_of=as_of, region=schema.config.region_name, expected=expected,
        received=totals.received, valid=totals.valid, missing=totals.missing,
        ort_signed=totals.ort_signed, ort_signed_in_time=totals.ort_signed_in_time,
        ort_signed_late=totals.ort_signed_late, ort_signed_share=totals.ort_signed_share,
        median_months_j1_j8=totals.median_months_j1_j8, at_risk=totals.at_risk, overdue=totals.overdue,
        leads_in_post=totals.leads_in_post, cadence_held=totals.cadence_held, not_filled=totals.not_filled,
        departments=list(departments or []),
    )
    by_department: dict[str, Counter[str]] = {}
    statuses: Counter[str] = Counter()
    names = _financers(schema)
    stages = {stage: _Cents(names) for stage in STAGES}
    themes: Counter[str] = Counter()
    partners: Counter[str] = Counter()
    theme_status: dict[str, Counter[str]] = {}
    for t in territories:
        statuses[t.ort_status] += 1
        by_department.setdefault(t.department or NOT_GIVEN, Counter())[t.ort_status] += 1
        if not t.received:
            continue  # a workbook sent back as received (« Non rempli ») adds nothing
        for stage, money in t.money_by_stage.items():
            stages[stage].merge(money)
        themes.update(t.needs_by_theme)
        partners.update(t.needs_by_partner)
        # Counted once, with each territory's view.
        for (theme, status), count in t.actions_by_theme_status.items():
            theme_status.setdefault(theme, Counter())[status] += count
    region.status_counts = dict(statuses)
    region.status_by_department = {d: dict(c) for d, c in sorted(by_department.items())}
    _set_money(region, stages, names)
    region.needs_by_theme = dict(themes.most_common())
    region.needs_by_partner = dict(partners.most_common())
    region.actions_by_theme_status = {k: dict(v) for k, v in sorted(theme_status.items())}
    region.action_statuses = list(schema.lists.get("statut_action", ()))
    return region
