"""The figures of README, consolidate: one territory at the reference date, then the region.

Money is summed in whole cents so that the summary reconciles to the cent with the workbooks.
Actions `Abandonnée` are counted by status but their money is left out of cost, financing and
remaining to finance. A chef de projet is "in post" when J2 is realised or a name is given.
"""

from __future__ import annotations

import calendar
import statistics
from collections import Counter
from datetime import date
from typing import Any

from pvd_reporting.consolidate.view import MilestoneView, RegionView, TerritoryView
from pvd_reporting.format.issues import WorkbookReport
from pvd_reporting.format.matching import norm
from pvd_reporting.format.periods import previous_quarters, quarter_label, quarter_of
from pvd_reporting.format.reference import RefTerritory
from pvd_reporting.format.schema import MILESTONES, NOT_RECEIVED, ORT_STATUSES, Schema
from pvd_reporting.format.vocabulary import ABANDONED_STATUS, PROJECT_COMMITTEE, milestone_code
from pvd_reporting.read.records import Record, WorkbookData
from pvd_reporting.read.values import as_date

SIGNED, OVERDUE, AT_RISK, ON_TIME, UNKNOWN = ORT_STATUSES

NOT_GIVEN = "Non renseigné"
DAYS_PER_MONTH = 365.25 / 12




def add_months(day: date, months: int) -> date:
    """Calendar months, clamped to the month's end: 31 Jan + 1 month = 28/29 Feb."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def cents(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    return round(value * 100)


def _label(schema: Schema, list_key: str, value: Any) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return NOT_GIVEN
    return schema.canonical(list_key, value) or str(value)


def _milestones(data: WorkbookData, as_of: date) -> list[MilestoneView]:
    by_code: dict[str, Record] = {}
    for record in data.rows("jalons"):
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
    """(status, days left) as in README, consolidate."""
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
    view.contacts = data.rows("annuaire")
    return view


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


def _comites(view: TerritoryView, data: WorkbookData, as_of: date) -> None:
    last4 = previous_quarters(quarter_of(as_of), 4)
    counts = dict.fromkeys(last4, 0)
    for record in data.rows("comites"):
        when = as_date(record.values.get("date"))
        if when is None or when > as_of or norm(record.values.get("body")) != norm(PROJECT_COMMITTEE):
            continue
        quarter = quarter_of(when)
        if quarter in counts:
            counts[quarter] += 1
    view.comites_by_quarter = {quarter_label(q): n for q, n in counts.items()}
    view.comites_last4 = sum(counts.values())
    j3 = view.milestones[2].done_on if len(view.milestones) > 2 else None
    # A comité installed recently only owes the quarters since its installation.
    required = [q for q in last4 if j3 is None or q >= quarter_of(j3)]
    view.cadence_held = all(counts[q] > 0 for q in required) if required else None


def _actions(view: TerritoryView, data: WorkbookData, schema: Schema) -> None:
    statuses: Counter[str] = Counter()
    themes: Counter[str] = Counter()
    cost = remaining = 0
    money = {f.financer: 0 for f in schema.financer_fields if f.financer}
    for record in data.rows("engagements"):
        status = _label(schema, "statut_action", record.values.get("status"))
        statuses[status] += 1
        themes[_label(schema, "thematique", record.values.get("theme"))] += 1
        if status == ABANDONED_STATUS:
            continue
        row_cost = cents(record.values.get("cost"))
        financed = 0
        for f in schema.financer_fields:
            amount = cents(record.values.get(f.key))
            money[f.financer or f.key] += amount
            financed += amount
        cost += row_cost
        remaining += max(row_cost - financed, 0)
    view.actions = sum(statuses.values())
    view.actions_by_status = dict(statuses)
    view.actions_by_theme = dict(themes)
    view.cost = cost / 100
    view.financing = {name: amount / 100 for name, amount in money.items()}
    view.remaining = remaining / 100


def _needs(view: TerritoryView, data: WorkbookData, schema: Schema) -> None:
    themes: Counter[str] = Counter()
    partners: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    amount = 0
    for record in data.rows("ingenierie"):
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


def region_view(territories: list[TerritoryView], schema: Schema, period: str, as_of: date,
                expected: int | None) -> RegionView:
    received = [t for t in territories if t.received]
    signed = [t for t in received if t.ort_status == SIGNED]
    months = [(t.j8_on - t.j1_on).days / DAYS_PER_MONTH for t in signed if t.j1_on and t.j8_on]
    region = RegionView(
        period=period, as_of=as_of, region=schema.config.region_name, expected=expected,
        received=len(received),
        valid=sum(1 for t in received if t.report is not None and t.report.valid),
        missing=sum(1 for t in territories if not t.received) if expected is not None else None,
        ort_signed=len(signed),
        ort_signed_share=len(signed) / len(received) if received else None,
        median_months_j1_j8=round(statistics.median(months), 1) if months else None,
        at_risk=sum(1 for t in received if t.ort_status == AT_RISK),
        overdue=sum(1 for t in received if t.ort_status == OVERDUE),
        leads_in_post=sum(1 for t in received if lead_in_post(t)),
        cadence_held=sum(1 for t in received if t.cadence_held),
    )
    by_department: dict[str, Counter[str]] = {}
    statuses: Counter[str] = Counter()
    money: Counter[str] = Counter({f.financer: 0 for f in schema.financer_fields if f.financer})
    themes: Counter[str] = Counter()
    partners: Counter[str] = Counter()
    theme_status: dict[str, Counter[str]] = {}
    cost = remaining = 0
    for t in territories:
        statuses[t.ort_status] += 1
        by_department.setdefault(t.department or NOT_GIVEN, Counter())[t.ort_status] += 1
        cost += round(t.cost * 100)
        remaining += round(t.remaining * 100)
        for name, amount in t.financing.items():
            money[name] += round(amount * 100)
        themes.update(t.needs_by_theme)
        partners.update(t.needs_by_partner)
        if t.report is not None:
            for record in t.report.data.rows("engagements"):
                theme = _label(schema, "thematique", record.values.get("theme"))
                status = _label(schema, "statut_action", record.values.get("status"))
                theme_status.setdefault(theme, Counter())[status] += 1
    region.status_counts = dict(statuses)
    region.status_by_department = {d: dict(c) for d, c in sorted(by_department.items())}
    region.cost, region.remaining = cost / 100, remaining / 100
    region.financing = {name: amount / 100 for name, amount in money.items()}
    region.needs_by_theme = dict(themes.most_common())
    region.needs_by_partner = dict(partners.most_common())
    region.actions_by_theme_status = {k: dict(v) for k, v in sorted(theme_status.items())}
    region.action_statuses = list(schema.lists.get("statut_action", ()))
    return region
