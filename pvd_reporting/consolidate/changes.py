"""What moved for each territory between T-1 and the consolidated period (README, Plusieurs trimestres),
and the cross-quarter checks: a realised jalon whose date changed or that is blank again, an
action or a comité that disappeared. The workbook is cumulative, so these are warnings that name
both sources; a removed action keeps its last known row in `Changements`, so nothing is lost.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from pvd_reporting.consolidate.regional import cents
from pvd_reporting.consolidate.view import STATUS_LABEL, Change, Consolidation, TerritoryView
from pvd_reporting.format.french import fr_date, fr_money, fr_number
from pvd_reporting.format.issues import Issue, IssueCode, make_issue, shown_value
from pvd_reporting.format.matching import norm
from pvd_reporting.format.schema import (
    COMITES,
    ENGAGEMENTS,
    INGENIERIE,
    JALONS,
    MASKED,
    NOT_RECEIVED,
    Kind,
    Personal,
    Schema,
    reads_as_organisation,
)
from pvd_reporting.format.vocabulary import milestone_code
from pvd_reporting.read.records import Record
from pvd_reporting.read.values import as_date

RECEIVED, NOT_SENT = "Classeur reçu", "Classeur non reçu"
ORT_STATUS = STATUS_LABEL
MILESTONE_DONE, MILESTONE_DATE, MILESTONE_REMOVED = "Jalon réalisé", "Date de jalon modifiée", "Jalon retiré"
ACTION_ADDED, ACTION_REMOVED = "Action ajoutée", "Action retirée"
ACTION_STATUS, COST, FINANCING = "Statut d'action", "Coût modifié", "Financement modifié"
ACTION_DATE = "Date d'action modifiée"
COMITE_HELD, NEED_ADDED, PROJECT_LEAD = "Comité tenu", "Besoin ajouté", "Chef de projet"
LEAD_TIME, COFINANCING = "ETP du chef de projet", "Cofinancement du poste"
# The `Type` of a row of `Changements`, in the order they are counted: the one list of them.
CHANGE_TYPES: tuple[str, ...] = (
    RECEIVED, NOT_SENT, ORT_STATUS, MILESTONE_DONE, MILESTONE_DATE, MILESTONE_REMOVED,
    ACTION_ADDED, ACTION_REMOVED, ACTION_STATUS, ACTION_DATE, COST, FINANCING, COMITE_HELD, NEED_ADDED,
    PROJECT_LEAD, LEAD_TIME, COFINANCING,
)
# The dates of an action whose change is reported (Élément: « A3 · Date de fin »).
ACTION_DATES = ("start_on", "end_on")
CROSS_QUARTER_CODES = frozenset({IssueCode.MILESTONE_DATE_CHANGED, IssueCode.MILESTONE_UNREALISED, IssueCode.ACTION_REMOVED,
                                 IssueCode.COMITE_REMOVED})


def source(t: TerritoryView, record: Record | None = None) -> str:
    """`2025-T3 : fichier.xlsx, ligne 7`, for a message that names the other quarter's source."""
    name = Path(t.report.path).name if t.report is not None else "?"
    return f"{name}, ligne {record.row}" if record is not None and record.row else name


def apply_changes(prior: Consolidation, current: Consolidation, schema: Schema) -> list[Change]:
    """The changes between `prior` (T-1) and `current`, in territory order; the cross-quarter
    warnings are added to the current workbooks and to `current.anomalies`."""
    before = {t.key: t for t in prior.territories}
    out: list[Change] = []
    for t in current.territories:
        old = before.get(t.key)
        found, issues = territory_changes(old, t, schema, prior.region.period, current.region.as_of,
                                          prior.region.as_of)
        out.extend(found)
        if issues and t.report is not None:
            t.report.issues.extend(issues)
            t.warnings += len(issues)
            current.anomalies.extend((t.report, i) for i in issues)
    return out


def territory_changes(old: TerritoryView | None, new: TerritoryView, schema: Schema,
                      previous: str, as_of: date | None = None,
                      previous_as_of: date | None = None) -> tuple[list[Change], list[Issue]]:
    """The changes of one territory since T-1, and the cross-quarter warnings; a comité dated
    after `as_of` (the period's view date) has not been held yet, nor one of T-1's after its own."""
    changes: list[Change] = []

    def add(kind: str, element: str | None, before: Any, after: Any,
            private: tuple[Any, Any] | None = None) -> None:
        changes.append(Change(new.key, new.id_pvd, new.name, kind, element, before, after, private))

    was_received = old is not None and old.received
    if new.received and not was_received:
        add(RECEIVED, None, NOT_RECEIVED, Path(new.report.path).name if new.report else None)
    if not new.received:
        if was_received:
            assert old is not None
            add(NOT_SENT, None, Path(old.report.path).name if old.report else None, NOT_RECEIVED)
        return changes, []
    if not was_received:
        return changes, []
    assert old is not None and old.report is not None and new.report is not None
    issues: list[Issue] = []
    if old.ort_status != new.ort_status:
        add(ORT_STATUS, None, old.ort_status, new.ort_status)
    _milestones(old, new, previous, add, issues, schema)
    _actions(old, new, previous, add, issues, schema)
    _comites(old, new, previous, add, issues, schema, as_of, previous_as_of)
    old_needs = {norm(r.values.get("need")) for r in old.report.data.rows(INGENIERIE)}
    for record in new.report.data.rows(INGENIERIE):
        if norm(record.values.get("need")) not in old_needs:
            add(NEED_ADDED, str(record.values.get("need") or ""), None, record.values.get("status"))
    if norm(old.project_lead) != norm(new.project_lead):
        hidden = schema.form.field("project_lead").personal is not Personal.NO
        add(PROJECT_LEAD, None, old.project_lead, new.project_lead,
            (_masked(old.project_lead), _masked(new.project_lead)) if hidden else None)
    if _percent(old.etp) != _percent(new.etp):
        add(LEAD_TIME, None, _percent(old.etp), _percent(new.etp))
    if norm(old.cofinancing) != norm(new.cofinancing):
        add(COFINANCING, None, old.cofinancing, new.cofinancing)
    return changes, issues


def _percent(value: Any) -> str | None:
    """« 80 % » (the ETP as the workbook shows it), None when not given."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return f"{fr_number(value)}\u00a0%"


def _jalon_rows(t: TerritoryView) -> dict[str, Record]:
    from_code: dict[str, Record] = {}
    assert t.report is not None
    for record in t.report.data.rows(JALONS):
        from_code.setdefault(milestone_code(record.values.get("code"), record.values.get("label")), record)
    return from_code


def _milestones(old: TerritoryView, new: TerritoryView, previous: str, add: Any, issues: list[Issue],
                schema: Schema) -> None:
    column = schema.table(JALONS).column("done_on").label
    sheet = schema.table(JALONS).name
    old_rows, new_rows = _jalon_rows(old), _jalon_rows(new)
    for before, after in zip(old.milestones, new.milestones, strict=True):
        code = after.code
        if after.done_on and not before.done_on:
            add(MILESTONE_DONE, code, None, after.done_on)
        elif before.done_on and after.done_on and before.done_on != after.done_on:
            add(MILESTONE_DATE, code, before.done_on, after.done_on)
            row = new_rows.get(code)
            issues.append(make_issue(
                IssueCode.MILESTONE_DATE_CHANGED, sheet=sheet, row=row.row if row else None, column=column,
                value=after.done_on, code=code, before=fr_date(before.done_on), after=fr_date(after.done_on),
                previous=previous, source=source(old, old_rows.get(code))))
        elif before.done_on and not after.done_on:
            add(MILESTONE_REMOVED, code, before.done_on, None)
            row = new_rows.get(code)
            issues.append(make_issue(
                IssueCode.MILESTONE_UNREALISED, sheet=sheet, row=row.row if row else None, column=column,
                code=code, before=fr_date(before.done_on), previous=previous,
                source=source(old, old_rows.get(code))))


def action_id(record: Record) -> str:
    return str(record.values.get("action_id") or record.raw.get("action_id") or "").strip()


def _masked(value: Any) -> str | None:
    return MASKED if value is not None and str(value).strip() else None


def action_summary(record: Record, schema: Schema, *, personal: bool = True) -> str:
    """The whole row as one text, `Intitulé : … ; Statut : …`, so a removed action is not lost;
    without `personal`, as --no-contacts shows it (the schema's `personal` flag)."""
    parts = []
    for f in schema.table(ENGAGEMENTS).columns:
        value = record.values.get(f.key)
        if value is None:
            value = record.raw.get(f.key)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if not personal and f.personal is Personal.YES:
            continue
        if not personal and f.personal is Personal.UNLESS_ORGANISATION and not reads_as_organisation(value):
            value = MASKED
        if isinstance(value, date):
            shown = fr_date(value)
        elif f.kind == Kind.AMOUNT and isinstance(value, (int, float)) and not isinstance(value, bool):
            shown = fr_money(value)
        else:
            shown = shown_value(value)
        parts.append(f"{f.label} : {shown}")
    return " ; ".join(parts)


def _actions(old: TerritoryView, new: TerritoryView, previous: str, add: Any, issues: list[Issue],
             schema: Schema) -> None:
    assert old.report is not None and new.report is not None
    before = {norm(action_id(r)): r for r in old.report.data.rows(ENGAGEMENTS) if action_id(r)}
    after = {norm(action_id(r)): r for r in new.report.data.rows(ENGAGEMENTS) if action_id(r)}
    sheet = schema.table(ENGAGEMENTS).name
    for key, record in after.items():
        number = action_id(record)
        prior = before.get(key)
        if prior is None:
            add(ACTION_ADDED, number, None, record.values.get("title"))
            continue
        old_status = schema.canonical("statut_action", prior.values.get("status")) or prior.values.get("status")
        new_status = schema.canonical("statut_action", record.values.get("status")) or record.values.get("status")
        if old_status != new_status:
            add(ACTION_STATUS, number, old_status, new_status)
        for key in ACTION_DATES:
            was, now = as_date(prior.values.get(key)), as_date(record.values.get(key))
            if was != now:
                add(ACTION_DATE, f"{number} · {schema.table(ENGAGEMENTS).column(key).label}", was, now)
        if cents(prior.values.get("cost")) != cents(record.values.get("cost")):
            add(COST, number, prior.values.get("cost"), record.values.get("cost"))
        for f in schema.financer_fields:
            if cents(prior.values.get(f.key)) != cents(record.values.get(f.key)):
                add(FINANCING, f"{number} · {f.financer}", prior.values.get(f.key), record.values.get(f.key))
    for key, record in before.items():
        if key in after:
            continue
        number = action_id(record)
        summary, private = action_summary(record, schema), action_summary(record, schema, personal=False)
        add(ACTION_REMOVED, number, summary, None, (private, None) if private != summary else None)
        issues.append(make_issue(IssueCode.ACTION_REMOVED, sheet=sheet, value=number, previous=previous,
                                 source=source(old, record)))


def _comite_key(record: Record) -> tuple[date | None, str]:
    return as_date(record.values.get("date")), norm(record.values.get("body"))


def _comites(old: TerritoryView, new: TerritoryView, previous: str, add: Any, issues: list[Issue],
             schema: Schema, as_of: date | None, previous_as_of: date | None) -> None:
    assert old.report is not None and new.report is not None
    before = {_comite_key(r): r for r in old.report.data.rows(COMITES)}
    after = {_comite_key(r): r for r in new.report.data.rows(COMITES)}

    def held(when: date | None, by: date | None) -> bool:
        return when is not None and (by is None or when <= by)

    # A comité dated after the view's date is planned, not held (nor counted: regional.py); one
    # planned at T-1 and held since is held this quarter.
    held_before = {key for key in before if held(key[0], previous_as_of)}
    for key, record in after.items():
        when = key[0]
        if when is not None and key not in held_before and held(when, as_of):
            add(COMITE_HELD, fr_date(when), None, record.values.get("body"))
    updated = as_date(old.report.data.territory.values.get("updated_on"))
    sheet = schema.table(COMITES).name
    for key, record in before.items():
        when = key[0]
        if key in after or when is None or (updated is not None and when > updated):
            continue
        issues.append(make_issue(IssueCode.COMITE_REMOVED, sheet=sheet, value=fr_date(when),
                                 body=record.values.get("body") or "Comité", previous=previous,
                                 source=source(old, record)))
