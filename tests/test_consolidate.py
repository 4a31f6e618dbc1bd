"""The regional view of README, consolidate, computed on hand-built reports with hand-computed expected figures."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pvd_reporting.consolidate.batch import consolidate, left_out, period_end
from pvd_reporting.consolidate.regional import NOT_GIVEN, add_months
from pvd_reporting.consolidate.view import TerritoryView
from pvd_reporting.format.issues import Issue, IssueCode, WorkbookReport
from pvd_reporting.format.reference import load_reference
from pvd_reporting.format.schema import MILESTONES, NOT_RECEIVED, Schema
from pvd_reporting.read.records import Record, WorkbookData

AS_OF = date(2025, 12, 31)


def territory(**over: Any) -> dict[str, Any]:
    base = {
        "id_pvd": "pvd-44-67-3", "name": "Bouxwiller", "department": "67", "region": "Grand Est",
        "epci": "CC de Hanau-La Petite Pierre", "siren": "200067783", "period": "2025-T4",
        "updated_on": date(2025, 12, 15), "project_lead": "Claire Muller", "etp": 100.0,
        "cofinancing": "Banque des Territoires",
    }
    return {**base, **over}


def build_report(
    path: str,
    schema: Schema,
    *,
    form: dict[str, Any] | None = None,
    done: dict[str, date] | None = None,
    actions: list[dict[str, Any]] | None = None,
    comites: list[tuple[date, str]] | None = None,
    needs: list[dict[str, Any]] | None = None,
    contacts: list[dict[str, Any]] | None = None,
    communes: list[dict[str, Any]] | None = None,
    totals: int = 0,
) -> WorkbookReport:
    """A WorkbookReport as validate would return it, without any file."""
    values = territory(**(form or {}))
    done = done if done is not None else {"J1": date(2024, 10, 1)}
    tables: dict[str, list[Record]] = {}

    def rows(key: str, items: list[dict[str, Any]]) -> list[Record]:
        sheet = schema.table(key).name
        return [Record(sheet, i, dict(v), dict(v)) for i, v in enumerate(items, start=2)]

    tables["communes"] = rows("communes", communes if communes is not None else [
        {"insee": "67061", "name": "Bouxwiller", "population": 4000, "role": "Ville PVD"}])
    tables["jalons"] = rows("jalons", [{"code": c, "label": lbl, "done_on": done.get(c)} for c, lbl in MILESTONES])
    tables["engagements"] = rows("engagements", actions or [])
    for i in range(totals):
        tables["engagements"].append(Record(schema.table("engagements").name, 100 + i,
                                            {"action_id": "Total", "cost": 1e9}, {"action_id": "Total"},
                                            is_total=True))
    tables["comites"] = rows("comites", [{"date": d, "body": b} for d, b in (comites or [])])
    tables["ingenierie"] = rows("ingenierie", needs or [])
    tables["annuaire"] = rows("annuaire", contacts or [])
    data = WorkbookData(Record(schema.form.name, None, values, dict(values)), tables, version="1.0")
    return WorkbookReport(path, [], values.get("name"), values.get("id_pvd"), values.get("period"), data,
                          size=100, sha256="0" * 64, version="1.0")


def one(schema: Schema, as_of: date = AS_OF, **kwargs: Any) -> TerritoryView:
    report = build_report("t.xlsx", schema, **kwargs)
    return consolidate([report], schema, as_of=as_of).territories[0]


# --- dates and ORT status ---------------------------------------------------------------------

def test_calendar_months_clamp_to_the_end_of_the_month() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 8, 31), 18) == date(2026, 2, 28)
    assert add_months(date(2024, 10, 1), 18) == date(2026, 4, 1)
    assert period_end("2025-T4") == date(2025, 12, 31)
    assert period_end("2024-T1") == date(2024, 3, 31)


def test_deadline_is_j1_plus_18_calendar_months_and_days_left_from_as_of(schema: Schema) -> None:
    t = one(schema, done={"J1": date(2024, 8, 31)})
    assert t.ort_deadline == date(2026, 2, 28)
    assert t.days_left == (date(2026, 2, 28) - AS_OF).days == 59
    assert t.ort_status == "À risque"


@pytest.mark.parametrize(("deadline_days", "status"), [
    (91, "Dans les temps"), (90, "À risque"), (0, "À risque"), (-1, "Échéance dépassée"),
])
def test_at_risk_boundary_with_an_avenant(schema: Schema, deadline_days: int, status: str) -> None:
    deadline = date.fromordinal(AS_OF.toordinal() + deadline_days)
    t = one(schema, form={"ort_deadline_extended": deadline}, done={"J1": date(2020, 1, 1)})
    assert t.deadline_extended is True
    assert t.ort_deadline == deadline
    assert (t.ort_status, t.days_left) == (status, deadline_days)


def test_ninety_day_boundary_from_j1(schema: Schema) -> None:
    # J1 2024-07-02 -> deadline 2026-01-02; at 2025-10-04 that is 90 days: at risk; a day earlier 91.
    assert one(schema, as_of=date(2025, 10, 4), done={"J1": date(2024, 7, 2)}).days_left == 90
    assert one(schema, as_of=date(2025, 10, 4), done={"J1": date(2024, 7, 2)}).ort_status == "À risque"
    assert one(schema, as_of=date(2025, 10, 3), done={"J1": date(2024, 7, 2)}).ort_status == "Dans les temps"


def test_signed_unknown_and_future_j8(schema: Schema) -> None:
    signed = one(schema, done={"J1": date(2023, 1, 10), "J5": date(2024, 1, 1), "J8": date(2024, 7, 10)})
    assert (signed.ort_status, signed.days_left) == ("ORT signée", None)
    assert signed.last_milestone == "J8 — Convention ORT signée"
    assert signed.milestones_done == 3
    assert one(schema, done={}).ort_status == "Non renseigné"
    # J8 after the reference date is not signed yet; the deadline of J1 2023-01-10 is passed.
    later = one(schema, done={"J1": date(2023, 1, 10), "J8": date(2026, 2, 1)})
    assert later.ort_status == "Échéance dépassée"
    assert later.days_left == (date(2024, 7, 10) - AS_OF).days


# --- comités, actions, needs ------------------------------------------------------------------

def test_comites_in_the_last_four_quarters_and_cadence(schema: Schema) -> None:
    project = "Comité de projet"
    held = [(date(2025, 2, 1), project), (date(2025, 5, 1), project), (date(2025, 8, 1), project),
            (date(2025, 11, 1), project), (date(2025, 11, 20), project), (date(2024, 12, 1), project),
            (date(2025, 6, 1), "Comité technique")]
    t = one(schema, comites=held)
    assert t.comites_by_quarter == {"2025-T1": 1, "2025-T2": 1, "2025-T3": 1, "2025-T4": 2}
    assert t.comites_last4 == 5
    assert t.cadence_held is True
    gap = one(schema, comites=[c for c in held if c[0].month != 5])
    assert gap.cadence_held is False
    # J3 in 2025-T3: only T3 and T4 are owed.
    recent = one(schema, done={"J1": date(2024, 10, 1), "J3": date(2025, 8, 1)},
                 comites=[(date(2025, 8, 1), project), (date(2025, 10, 2), project)])
    assert recent.cadence_held is True


def test_money_and_abandoned_actions(schema: Schema) -> None:
    fin = [f.key for f in schema.financer_fields]
    actions = [
        {"action_id": "A1", "status": "En cours", "theme": "Patrimoine", "cost": 1000.10, fin[0]: 400.05, fin[1]: 100},
        {"action_id": "A2", "status": "Terminée", "theme": "Patrimoine", "cost": 50, fin[0]: 80},  # over-financed
        {"action_id": "A3", "status": "Abandonnée", "theme": "Mobilité", "cost": 9999, fin[2]: 9999},
        {"action_id": "A4", "status": "Envisagée", "theme": "Mobilité"},
    ]
    t = one(schema, actions=actions, totals=2)
    assert t.actions == 4
    assert t.actions_by_status == {"En cours": 1, "Terminée": 1, "Abandonnée": 1, "Envisagée": 1}
    assert t.actions_by_theme == {"Patrimoine": 2, "Mobilité": 2}
    assert t.cost == 1050.10
    names = [f.financer for f in schema.financer_fields if f.financer is not None]
    assert t.financing[names[0]] == 480.05
    assert t.financing[names[1]] == 100
    assert t.financing[names[2]] == 0
    assert t.remaining == 500.05  # 1000.10 - 500.05, and 0 for the over-financed one


def test_financing_beyond_the_cost_by_one_euro_or_less_keeps_the_identity(schema: Schema) -> None:
    # Within the rule's 1 € tolerance (no error), yet beyond the cost: 0,60 € and 1,00 €, to the cent.
    fin = [f.key for f in schema.financer_fields]
    actions = [{"action_id": "A1", "status": "En cours", "theme": "Patrimoine", "cost": 100.0, fin[0]: 100.6},
               {"action_id": "A2", "status": "Envisagée", "theme": "Patrimoine", "cost": 50.0, fin[1]: 51.0},
               {"action_id": "A3", "status": "En cours", "theme": "Patrimoine", "cost": 10.0, fin[0]: 9.99}]
    c = consolidate([build_report("t.xlsx", schema, actions=actions)], schema, as_of=AS_OF)
    for money in (c.territories[0], c.region):
        assert (money.cost, money.beyond_cost, money.remaining) == (160.0, 1.6, 0.01)
        financed = round(sum(money.financing.values()) * 100)
        assert round(money.cost * 100) == financed - round(money.beyond_cost * 100) + round(money.remaining * 100)


def test_needs(schema: Schema) -> None:
    needs = [{"need": "Étude", "theme": "Patrimoine", "partner": "ANCT", "status": "Sollicité", "amount": 1000},
             {"need": "Animation", "theme": "patrimoine", "partner": None, "status": "Accordé", "amount": 500.5}]
    t = one(schema, needs=needs)
    assert t.needs == 2
    assert t.needs_by_theme == {"Patrimoine": 2}
    assert t.needs_by_partner == {"ANCT": 1, "Non renseigné": 1}
    assert t.needs_amount == 1500.5


# --- selection: period, duplicates, reference ---------------------------------------------------

def test_latest_period_wins_and_other_periods_are_flagged(schema: Schema) -> None:
    old = build_report("old.xlsx", schema, form={"period": "2025-T3", "id_pvd": "pvd-44-67-9"})
    new = build_report("new.xlsx", schema)
    c = consolidate([old, new], schema)
    assert c.region.period == "2025-T4"
    assert c.region.as_of == date(2025, 12, 31)
    assert [t.report for t in c.territories] == [new]
    assert [i.code for i in old.issues] == ["period-mismatch"]
    assert "2025-T3" in old.issues[0].message and "2025-T4" in old.issues[0].message
    assert left_out(c) == [old]
    # Asking for the older period keeps the older workbook, and consolidating twice adds nothing twice.
    c3 = consolidate([old, new], schema, period="2025-Q3")
    assert [t.report for t in c3.territories] == [old]
    assert [i.code for i in new.issues] == ["period-mismatch"] and old.issues == []
    assert c3.region.as_of == date(2025, 9, 30)


def test_later_update_wins_a_duplicate_then_later_file_name(schema: Schema) -> None:
    a = build_report("b-first.xlsx", schema, form={"updated_on": date(2025, 12, 20)})
    b = build_report("a-second.xlsx", schema, form={"updated_on": date(2025, 12, 1)})
    c = consolidate([a, b], schema)
    assert [t.report for t in c.territories] == [a]
    assert [i.code for i in b.issues] == ["duplicate-submission"]
    assert "b-first.xlsx" in b.issues[0].message
    # Same date: the later file name wins.
    x = build_report("x.xlsx", schema)
    y = build_report("y.xlsx", schema)
    c = consolidate([y, x], schema)
    assert [t.report for t in c.territories] == [y]
    assert [i.code for i in x.issues] == ["duplicate-submission"]


def test_the_update_date_decides_before_the_file_and_a_tie_names_the_same_date(
        schema: Schema, tmp_path: Path) -> None:
    import os

    def sent(name: str, updated: date, mtime: int) -> WorkbookReport:
        path = tmp_path / name
        path.write_bytes(b"")
        os.utime(path, (mtime, mtime))
        return build_report(str(path), schema, form={"updated_on": updated})

    # The later update wins although the other sorts last by name and was saved last on disk.
    later = sent("a-mis-a-jour.xlsx", date(2025, 12, 20), 1_700_000_000)
    earlier = sent("z-premier.xlsx", date(2025, 12, 1), 1_700_900_000)
    c = consolidate([earlier, later], schema, as_of=AS_OF)
    assert [t.report for t in c.territories] == [later]
    (issue,) = earlier.issues
    assert issue.code == "duplicate-submission" and "(20/12/2025) est retenu" in issue.message
    # The same update date, two versions (two digests), no error either: the later name wins,
    # whatever the files' times; the message says the dates tie.
    first = sent("v1.xlsx", date(2025, 12, 20), 1_700_900_000)
    second = sent("v2.xlsx", date(2025, 12, 20), 1_700_000_000)
    first.sha256, second.sha256 = "1" * 64, "2" * 64
    c = consolidate([second, first], schema, as_of=AS_OF)
    assert [t.report for t in c.territories] == [second]
    (issue,) = first.issues
    assert issue.code == "duplicate-submission" and "même date de mise à jour (20/12/2025)" in issue.message
    assert "v2.xlsx" in issue.message


def test_identity_without_id_uses_siren_and_ville_pvd_codes(schema: Schema) -> None:
    a = build_report("a.xlsx", schema, form={"id_pvd": None})
    b = build_report("b.xlsx", schema, form={"id_pvd": None, "updated_on": date(2025, 12, 31)})
    other = build_report("c.xlsx", schema, form={"id_pvd": None},
                         communes=[{"insee": "67222", "name": "Ingwiller", "role": "Ville PVD"}])
    c = consolidate([a, b, other], schema)
    assert sorted(t.report.path if t.report else "" for t in c.territories) == ["b.xlsx", "c.xlsx"]
    assert [i.code for i in a.issues] == ["duplicate-submission"]


def test_missing_territories_from_the_real_reference(schema: Schema, reference_csv: Path) -> None:
    reference = load_reference(reference_csv)
    # Same territory once by id, once by SIREN + Ville PVD code only: one territory received.
    ref = reference.by_id("pvd-44-08-1")
    assert ref is not None
    by_id = build_report("a.xlsx", schema, form={"id_pvd": "pvd-44-08-1", "department": "08", "siren": ref.siren})
    by_code = build_report("b.xlsx", schema, form={"id_pvd": None, "department": "08", "siren": ref.siren,
                                                   "updated_on": date(2025, 12, 1)},
                           communes=[{"insee": ref.communes[0].insee, "name": "x", "role": "Ville PVD"}])
    c = consolidate([by_id, by_code], schema, reference=reference)
    r = c.region
    assert (r.expected, r.received, r.missing) == (99, 1, 98)
    assert [i.code for i in by_code.issues] == ["duplicate-submission"]
    missing = [t for t in c.territories if not t.received]
    assert len(missing) == 98 and all(t.ort_status == NOT_RECEIVED and t.report is None for t in missing)
    assert r.status_counts[NOT_RECEIVED] == 98
    assert sum(r.status_by_department["08"].values()) == len(
        [t for t in reference.in_region("Grand Est") if t.department == "08"])


def test_the_region_counts_actions_by_theme_and_status_over_received_workbooks(schema: Schema) -> None:
    a = build_report("a.xlsx", schema, form={"id_pvd": "pvd-44-67-1"}, totals=1, actions=[
        {"action_id": "A1", "status": "en cours", "theme": "Patrimoine"},  # spelled as typed: listed once
        {"action_id": "A2", "status": "Abandonnée", "theme": "Patrimoine"},  # abandoned actions count
        {"action_id": "A3", "status": "En cours", "theme": None}])
    b = build_report("b.xlsx", schema, form={"id_pvd": "pvd-44-67-2"}, actions=[
        {"action_id": "B1", "status": "En cours", "theme": "Patrimoine"}])
    region = consolidate([a, b], schema).region
    assert region.actions_by_theme_status == {NOT_GIVEN: {"En cours": 1},
                                              "Patrimoine": {"Abandonnée": 1, "En cours": 2}}


def test_region_figures(schema: Schema) -> None:
    reports = [
        build_report("s1.xlsx", schema, form={"id_pvd": "pvd-44-67-1"},
                     done={"J1": date(2023, 1, 1), "J2": date(2023, 2, 1), "J8": date(2024, 1, 1)}),
        build_report("s2.xlsx", schema, form={"id_pvd": "pvd-44-67-2", "project_lead": None},
                     done={"J1": date(2023, 1, 1), "J8": date(2024, 7, 1)}),
        build_report("r.xlsx", schema, form={"id_pvd": "pvd-44-68-1", "department": "68"},
                     done={"J1": date(2024, 8, 31)}),
        build_report("o.xlsx", schema, form={"id_pvd": "pvd-44-68-2", "department": "68"},
                     done={"J1": date(2022, 1, 1)}),
    ]
    reports[3].issues.append(_error())
    r = consolidate(reports, schema).region
    assert (r.received, r.valid, r.expected, r.missing) == (4, 3, None, None)
    assert (r.ort_signed, r.at_risk, r.overdue) == (2, 1, 1)
    assert r.ort_signed_share == 0.5
    # 12 and 18 months: median 15 (days / 30.4375, rounded to one decimal).
    assert r.median_months_j1_j8 == pytest.approx(15.0, abs=0.1)
    assert r.leads_in_post == 3  # s2 has neither J2 nor a named lead
    assert r.status_by_department == {"67": {"ORT signée": 2}, "68": {"À risque": 1, "Échéance dépassée": 1}}


def _error() -> Issue:
    from pvd_reporting.format.issues import make_issue

    return make_issue(IssueCode.INVALID_DATE, sheet="Jalons", cell="D2", value="x")


# --- conservation (property) ------------------------------------------------------------------

money = st.integers(min_value=0, max_value=10_000_000).map(lambda c: c / 100)


@st.composite
def batches(draw: st.DrawFn, schema: Schema) -> list[WorkbookReport]:
    fin = [f.key for f in schema.financer_fields]
    statuses = schema.lists["statut_action"]
    reports = []
    for i in range(draw(st.integers(1, 6))):
        ident = f"pvd-44-67-{draw(st.integers(1, 3))}"  # collisions make duplicate submissions
        actions = []
        for j in range(draw(st.integers(0, 5))):
            action = {"action_id": f"A{j}", "status": draw(st.sampled_from(statuses)), "theme": "Autre",
                      "cost": draw(money)}
            for key in draw(st.lists(st.sampled_from(fin), max_size=3, unique=True)):
                action[key] = draw(money)
            actions.append(action)
        period = draw(st.sampled_from(["2025-T4", "2025-T4", "2025-T3"]))
        reports.append(build_report(
            f"w{i}.xlsx", schema, actions=actions, totals=draw(st.integers(0, 2)),
            form={"id_pvd": ident, "period": period, "updated_on": date(2025, 12, draw(st.integers(1, 28)))},
            comites=[(date(2025, 10, 1), "Comité de projet")] * draw(st.integers(0, 2)),
            needs=[{"need": "n", "amount": draw(money)}] * draw(st.integers(0, 2)),
        ))
    return reports


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_row_is_placed_once_and_euros_reconcile(schema: Schema, data: st.DataObject) -> None:
    reports = data.draw(batches(schema))
    c = consolidate(reports, schema)
    kept = {id(t.report) for t in c.territories}
    out = left_out(c)
    # Each workbook is either behind exactly one territory, or left out with its reason.
    assert len(kept) + len(out) == len(reports)
    for report in out:
        assert {i.code for i in report.issues} & {"duplicate-submission", "period-mismatch"}
    for key in ("communes", "jalons", "engagements", "comites", "ingenierie", "annuaire"):
        placed = [id(record) for _, record in c.rows[key]]
        assert len(placed) == len(set(placed))
        expected = [id(r) for rep in reports if id(rep) in kept for r in rep.data.rows(key)]
        assert sorted(placed) == sorted(expected)
        assert not any(record.is_total for _, record in c.rows[key])
    # Euros to the cent: the region equals the sum of the placed, non-abandoned rows.
    live = [r for _, r in c.rows["engagements"] if r.values.get("status") != "Abandonnée"]
    assert round(c.region.cost * 100) == sum(round((r.values.get("cost") or 0) * 100) for r in live)
    for f in schema.financer_fields:
        assert f.financer is not None
        assert round(c.region.financing[f.financer] * 100) == sum(
            round((r.values.get(f.key) or 0) * 100) for r in live)
