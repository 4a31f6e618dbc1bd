"""The cross-field rules of docs/format-1.md on parsed data, independently of the reader.

Data are built from the factory's baseline (the same values the fixture workbooks hold), laid out
as `make_workbook` lays them out: headers on row 1 in schema order, data from row 2.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from factory import baseline_rows, baseline_territory

from pvd_reporting.check.rules import apply_rules, set_controls
from pvd_reporting.consolidate.regional import territory_view
from pvd_reporting.format.french import fr_money
from pvd_reporting.format.issues import Issue, Severity, WorkbookReport
from pvd_reporting.format.matching import col_letter
from pvd_reporting.format.periods import quarters
from pvd_reporting.format.reference import RefCommune, Reference, RefTerritory
from pvd_reporting.format.schema import Field, Kind, Schema
from pvd_reporting.read import values as parsing
from pvd_reporting.read.records import Record, WorkbookData

_PARSERS = {
    Kind.DATE: parsing.parse_date,
    Kind.PERCENT: parsing.parse_percent,
    Kind.AMOUNT: parsing.parse_amount,
    Kind.INTEGER: parsing.parse_int,
    Kind.YESNO: parsing.parse_yes_no,
}


def _parse(f: Field, value: Any) -> Any:
    if value is None or value == "":
        return None
    parser = _PARSERS.get(f.kind)
    try:
        return parser(value) if parser else value
    except ValueError:
        return None


def build_data(
    schema: Schema,
    territory: dict[str, Any] | None = None,
    rows: dict[str, list[dict[str, Any]]] | None = None,
) -> WorkbookData:
    form = {**baseline_territory(schema), **(territory or {})}
    rec = Record(sheet=schema.form.name, row=None)
    for i, f in enumerate(schema.form.fields, start=2):
        rec.raw[f.key] = form.get(f.key)
        rec.values[f.key] = _parse(f, form.get(f.key))
        rec.cells[f.key] = f"B{i}"
    data = WorkbookData(territory=rec, version=schema.version)
    tables = {**baseline_rows(schema), **(rows or {})}
    for table in schema.tables:
        records = []
        for r, values in enumerate(tables.get(table.key, []), start=2):
            record = Record(sheet=table.name, row=r)
            for j, c in enumerate(table.columns):
                record.raw[c.key] = values.get(c.key)
                record.values[c.key] = _parse(c, values.get(c.key))
                record.cells[c.key] = f"{col_letter(j)}{r}"
            records.append(record)
        data.tables[table.key] = records
    return data


def cell(schema: Schema, table: str, row_index: int, key: str) -> str:
    """A1 of a field in `build_data`'s layout (0-based data row)."""
    return f"{col_letter(schema.table(table).keys.index(key))}{row_index + 2}"


def form_cell(schema: Schema, key: str) -> str:
    return f"B{[f.key for f in schema.form.fields].index(key) + 2}"


def places(issues: list[Issue]) -> list[tuple[str, str, str | None, str | None]]:
    return [(i.code, str(i.severity), i.sheet, i.cell) for i in issues]


def with_row(schema: Schema, table: str, index: int, **changes: Any) -> dict[str, list[dict[str, Any]]]:
    rows = [dict(r) for r in baseline_rows(schema)[table]]
    rows[index].update(changes)
    return {table: rows}


def test_baseline_has_no_issue(schema: Schema) -> None:
    data = build_data(schema)
    assert apply_rules(data, schema) == []
    set_controls(data, [])
    assert {r.control for rows in data.tables.values() for r in rows} == {"OK"}


# --- Territoire -------------------------------------------------------------------------------


def test_bdt_cofinancing_below_threshold(schema: Schema) -> None:
    issues = apply_rules(build_data(schema, territory={"etp": 0.5}), schema)
    assert places(issues) == [("etp-below-threshold", "error", "Territoire", form_cell(schema, "etp"))]
    assert "50 %" in issues[0].message and "80 %" in issues[0].message


@pytest.mark.parametrize("index", [1, 3])  # ANAH, Aucun
def test_other_cofinancing_has_no_threshold(schema: Schema, index: int) -> None:
    territory = {"etp": 0.5, "cofinancing": schema.lists["cofinancement"][index]}
    assert apply_rules(build_data(schema, territory=territory), schema) == []


def test_bdt_and_anah_cofinancing_below_threshold(schema: Schema) -> None:
    territory = {"etp": 0.79, "cofinancing": schema.lists["cofinancement"][2]}
    assert [i.code for i in apply_rules(build_data(schema, territory=territory), schema)] == [
        "etp-below-threshold"
    ]


def test_unreadable_etp_is_not_reported_twice(schema: Schema) -> None:
    assert apply_rules(build_data(schema, territory={"etp": "beaucoup"}), schema) == []


# --- Communes ---------------------------------------------------------------------------------


def test_no_commune(schema: Schema) -> None:
    issues = apply_rules(build_data(schema, rows={"communes": []}), schema)
    assert places(issues) == [("required-value", "error", "Communes", None)]


def test_population_over_limit(schema: Schema) -> None:
    issues = apply_rules(build_data(schema, rows=with_row(schema, "communes", 1, population=25000)), schema)
    assert places(issues) == [
        ("population-over-limit", "warning", "Communes", cell(schema, "communes", 1, "population"))
    ]
    assert "20 000" in issues[0].message


def test_population_of_other_commune_is_not_limited(schema: Schema) -> None:
    rows = with_row(schema, "communes", 1, population=25000, role=schema.lists["role_commune"][1])
    assert apply_rules(build_data(schema, rows=rows), schema) == []


def _reference() -> Reference:
    territory = RefTerritory("pvd-44-67-3", [RefCommune("67061", "Bouxwiller"), RefCommune("67222", "Ingwiller")])
    return Reference([territory], "test")


def test_reference_matches_baseline(schema: Schema) -> None:
    assert apply_rules(build_data(schema), schema, reference=_reference()) == []


def test_commune_code_absent_from_reference(schema: Schema) -> None:
    rows = with_row(schema, "communes", 0, insee="67999")
    issues = apply_rules(build_data(schema, rows=rows), schema, reference=_reference())
    assert places(issues) == [("unknown-commune", "warning", "Communes", cell(schema, "communes", 0, "insee"))]
    assert "67999" in issues[0].message


def test_commune_name_differs_from_reference(schema: Schema) -> None:
    rows = with_row(schema, "communes", 1, name="Ingviller")
    issues = apply_rules(build_data(schema, rows=rows), schema, reference=_reference())
    assert places(issues) == [("unknown-commune", "warning", "Communes", cell(schema, "communes", 1, "name"))]
    assert "Ingwiller" in issues[0].message


def test_commune_name_compared_without_case_or_accents(schema: Schema) -> None:
    rows = with_row(schema, "communes", 1, name="INGWILLER ")
    assert apply_rules(build_data(schema, rows=rows), schema, reference=_reference()) == []


def test_real_reference_list(schema: Schema, reference_csv: Any) -> None:
    from pvd_reporting.format.reference import load_reference

    reference = load_reference(reference_csv)
    rows = with_row(schema, "communes", 0, insee="00000")
    issues = apply_rules(build_data(schema, rows=rows), schema, reference=reference)
    assert ("unknown-commune", cell(schema, "communes", 0, "insee")) in [(i.code, i.cell) for i in issues]


# --- Jalons -----------------------------------------------------------------------------------


def test_j1_realisation_required(schema: Schema) -> None:
    issues = apply_rules(build_data(schema, rows=with_row(schema, "jalons", 0, done_on=None)), schema)
    assert places(issues) == [("required-value", "error", "Jalons", cell(schema, "jalons", 0, "done_on"))]
    assert issues[0].column == "Date de réalisation"


def test_missing_milestone(schema: Schema) -> None:
    rows = [r for r in baseline_rows(schema)["jalons"] if r["code"] != "J6"]
    issues = apply_rules(build_data(schema, rows={"jalons": rows}), schema)
    assert places(issues) == [("missing-milestone", "error", "Jalons", None)]
    assert "J6" in issues[0].message


def test_milestone_after_update_date(schema: Schema) -> None:
    rows = with_row(schema, "jalons", 5, done_on=date(2026, 1, 10))
    issues = apply_rules(build_data(schema, rows=rows), schema)
    assert places(issues) == [("date-in-future", "warning", "Jalons", cell(schema, "jalons", 5, "done_on"))]


def test_milestones_out_of_order(schema: Schema) -> None:
    rows = with_row(schema, "jalons", 3, done_on=date(2024, 11, 20))  # J4 before J3
    issues = apply_rules(build_data(schema, rows=rows), schema)
    assert places(issues) == [
        ("milestones-out-of-order", "warning", "Jalons", cell(schema, "jalons", 3, "done_on"))
    ]
    assert "J4" in issues[0].message and "J3" in issues[0].message


# --- Engagements ------------------------------------------------------------------------------


def _fin(schema: Schema, i: int) -> str:
    return schema.financer_fields[i].key


def test_financing_exceeds_cost_on_second_action(schema: Schema) -> None:
    rows = with_row(schema, "engagements", 1, cost=40_000.0)  # financings: 45 000
    issues = apply_rules(build_data(schema, rows=rows), schema)
    assert places(issues) == [
        ("financing-exceeds-cost", "error", "Engagements", cell(schema, "engagements", 1, "cost"))
    ]
    assert "45 000 €" in issues[0].message and "40 000 €" in issues[0].message
    assert "5 000 €" in issues[0].message


def test_financing_within_one_euro_tolerance(schema: Schema) -> None:
    rows = with_row(schema, "engagements", 1, cost=44_999.5)
    assert apply_rules(build_data(schema, rows=rows), schema) == []


def test_missing_cost(schema: Schema) -> None:
    issues = apply_rules(build_data(schema, rows=with_row(schema, "engagements", 0, cost=None)), schema)
    assert places(issues) == [("missing-cost", "error", "Engagements", cell(schema, "engagements", 0, "cost"))]


def test_no_cost_needed_in_preparation(schema: Schema) -> None:
    rows = with_row(schema, "engagements", 2, cost=None)  # En préparation
    assert apply_rules(build_data(schema, rows=rows), schema) == []


def test_unreadable_cost_is_not_reported_twice(schema: Schema) -> None:
    rows = with_row(schema, "engagements", 0, cost="beaucoup")
    assert apply_rules(build_data(schema, rows=rows), schema) == []


def test_end_before_start(schema: Schema) -> None:
    rows = with_row(schema, "engagements", 0, end_on=date(2025, 1, 1))
    issues = apply_rules(build_data(schema, rows=rows), schema)
    assert places(issues) == [
        ("dates-out-of-order", "error", "Engagements", cell(schema, "engagements", 0, "end_on"))
    ]


def test_done_without_end_date(schema: Schema) -> None:
    issues = apply_rules(build_data(schema, rows=with_row(schema, "engagements", 1, end_on=None)), schema)
    assert places(issues) == [
        ("missing-end-date", "warning", "Engagements", cell(schema, "engagements", 1, "end_on"))
    ]


def test_duplicate_action_flagged_on_second(schema: Schema) -> None:
    rows = with_row(schema, "engagements", 2, action_id="a1 ")
    issues = apply_rules(build_data(schema, rows=rows), schema)
    assert places(issues) == [
        ("duplicate-action", "error", "Engagements", cell(schema, "engagements", 2, "action_id"))
    ]
    assert "ligne 2" in issues[0].message


def test_negative_amount(schema: Schema) -> None:
    rows = with_row(schema, "engagements", 2, **{_fin(schema, 1): -150_000})
    issues = apply_rules(build_data(schema, rows=rows), schema)
    assert places(issues) == [
        ("negative-amount", "error", "Engagements", cell(schema, "engagements", 2, _fin(schema, 1)))
    ]


def test_total_row_is_not_an_action(schema: Schema) -> None:
    rows = baseline_rows(schema)["engagements"]
    total = {"action_id": "Total", "cost": 100.0, _fin(schema, 0): 5_000_000}
    data = build_data(schema, rows={"engagements": [*rows, total]})
    data.tables["engagements"][-1].is_total = True
    assert apply_rules(data, schema) == []


# --- Comités ----------------------------------------------------------------------------------


def test_comite_after_update_date_is_an_error(schema: Schema) -> None:
    rows = with_row(schema, "comites", 5, date=date(2025, 12, 20))
    issues = apply_rules(build_data(schema, rows=rows), schema)
    assert places(issues) == [("meeting-after-update", "error", "Comités", cell(schema, "comites", 5, "date"))]


def test_project_committee_without_state(schema: Schema) -> None:
    rows = with_row(schema, "comites", 1, etat_present=schema.lists["oui_non"][1])
    issues = apply_rules(build_data(schema, rows=rows), schema)
    assert places(issues) == [
        ("etat-absent", "warning", "Comités", cell(schema, "comites", 1, "etat_present"))
    ]


def test_project_committee_with_state_left_empty_is_as_no(schema: Schema) -> None:
    rows = with_row(schema, "comites", 1, etat_present=None)
    issues = apply_rules(build_data(schema, rows=rows), schema)
    assert places(issues) == [
        ("etat-absent", "warning", "Comités", cell(schema, "comites", 1, "etat_present"))
    ]
    # Another instance may leave it empty.
    rows = with_row(schema, "comites", 2, etat_present=None)
    assert apply_rules(build_data(schema, rows=rows), schema) == []


def test_a_carried_workbook_points_at_what_to_update(schema: Schema) -> None:
    """As of the update date (15/12/2025): A1 « En cours » ended on 30/11/2025; J6 was planned on
    01/12/2025 and is not realised. Only a workbook carried from last quarter says so."""
    rows = with_row(schema, "engagements", 0, end_on=date(2025, 11, 30))
    rows.update(with_row(schema, "jalons", 5, planned_on=date(2025, 12, 1)))
    data = build_data(schema, rows=rows)
    assert apply_rules(data, schema) == []
    data.carried_from = "2025-T3"
    assert places(apply_rules(data, schema)) == [
        ("milestone-overdue", "warning", "Jalons", cell(schema, "jalons", 5, "planned_on")),
        ("action-overdue", "warning", "Engagements", cell(schema, "engagements", 0, "end_on")),
    ]
    # A finished action, or a jalon realised, has nothing to update.
    rows = with_row(schema, "engagements", 1, end_on=date(2025, 7, 10))
    rows.update(with_row(schema, "jalons", 4, planned_on=date(2025, 11, 30)))
    data = build_data(schema, rows=rows)
    data.carried_from = "2025-T3"
    assert apply_rules(data, schema) == []


def test_missing_quarters_are_one_warning_that_names_them(schema: Schema) -> None:
    # Drop the comités de projet of 2025-T2 and 2025-T3.
    rows = [r for r in baseline_rows(schema)["comites"]
            if r["date"] not in (date(2025, 6, 24), date(2025, 9, 23))]
    issues = apply_rules(build_data(schema, rows={"comites": rows}), schema)
    assert places(issues) == [("comite-cadence", "warning", "Comités", None)]
    assert "2025-T2, 2025-T3" in issues[0].message


def test_cadence_window_is_the_last_four_quarters_not_every_quarter_since_j3(schema: Schema) -> None:
    # J3 in 2021 and no comité in 2022-2024: only the last four quarters are owed, all held.
    rows = with_row(schema, "jalons", 2, done_on=date(2021, 3, 1))
    issues = apply_rules(build_data(schema, rows=rows), schema)
    assert [i.code for i in issues if i.code == "comite-cadence"] == []


def test_cadence_without_j3_owes_the_last_four_quarters(schema: Schema) -> None:
    # As the regional view: without J3, each of the last four quarters needs a comité de projet.
    rows = with_row(schema, "jalons", 2, done_on=None)
    comites = [r for r in baseline_rows(schema)["comites"] if r["date"] >= date(2025, 6, 1)]
    rows["comites"] = comites
    issues = apply_rules(build_data(schema, rows=rows), schema)
    assert [(i.code, "2025-T1" in i.message) for i in issues] == [("comite-cadence", True)]


def test_cadence_up_to_reporting_period(schema: Schema) -> None:
    issues = apply_rules(build_data(schema, territory={"period": "2026-T2",
                                                       "updated_on": date(2026, 6, 30)}), schema)
    found = [i.message for i in issues if i.code == "comite-cadence"]
    assert len(found) == 1 and re.findall(r"\d{4}-T\d", found[0]) == ["2026-T1", "2026-T2"]


def test_validate_and_the_view_share_the_cadence(schema: Schema) -> None:
    # The same workbook, the same quarters: validate's warning names what the view marks missing.
    rows = [r for r in baseline_rows(schema)["comites"] if r["date"] != date(2025, 6, 24)]
    data = build_data(schema, rows={"comites": rows})
    issues = [i for i in apply_rules(data, schema) if i.code == "comite-cadence"]
    view = territory_view(WorkbookReport("t.xlsx", data=data), "k", schema, date(2025, 12, 31))
    assert view.cadence_missing == ["2025-T2"] and view.cadence_held is False
    assert len(issues) == 1 and re.findall(r"\d{4}-T\d", issues[0].message) == view.cadence_missing


def test_quarters() -> None:
    assert quarters((2024, 4), (2025, 2)) == [(2024, 4), (2025, 1), (2025, 2)]
    assert quarters((2025, 3), (2025, 2)) == []


# --- Ingénierie, Annuaire ---------------------------------------------------------------------


def test_unknown_linked_action(schema: Schema) -> None:
    issues = apply_rules(build_data(schema, rows=with_row(schema, "ingenierie", 1, action_id="A9")), schema)
    assert places(issues) == [
        ("unknown-action", "warning", "Ingénierie", cell(schema, "ingenierie", 1, "action_id"))
    ]


def test_negative_estimated_amount(schema: Schema) -> None:
    issues = apply_rules(build_data(schema, rows=with_row(schema, "ingenierie", 0, amount=-5)), schema)
    assert places(issues) == [
        ("negative-amount", "error", "Ingénierie", cell(schema, "ingenierie", 0, "amount"))
    ]


def test_no_project_lead(schema: Schema) -> None:
    rows = with_row(schema, "annuaire", 0, role=schema.lists["role_contact"][4])
    issues = apply_rules(build_data(schema, rows=rows), schema)
    assert places(issues) == [("no-project-lead", "warning", "Annuaire", None)]


def test_missing_sheets_add_no_rule_issue(schema: Schema) -> None:
    data = build_data(schema)
    data.tables = {}
    assert apply_rules(data, schema) == []


# --- controls and formatting ------------------------------------------------------------------


def test_set_controls(schema: Schema) -> None:
    rows = with_row(schema, "engagements", 1, end_on=None, cost=40_000.0)
    rows["engagements"][2].update(end_on=None, status=schema.lists["statut_action"][4])
    data = build_data(schema, rows=rows, territory={"etp": 0.5})
    issues = apply_rules(data, schema)
    set_controls(data, issues)
    assert [r.control for r in data.tables["engagements"]] == ["OK", "Erreur", "Avertissement", "OK"]
    assert data.territory.control == "Erreur"
    assert {r.control for r in data.tables["comites"]} == {"OK"}


def test_fr_money() -> None:
    assert fr_money(1_200_000) == "1 200 000 €"
    assert fr_money(1_200_000.5) == "1 200 000,50 €"
    assert fr_money(12) == "12 €"


def test_severities_are_catalog_ones(schema: Schema) -> None:
    issues = apply_rules(build_data(schema, rows=with_row(schema, "engagements", 1, end_on=None)), schema)
    assert issues[0].severity is Severity.WARNING


def test_cadence_counts_j3s_own_quarter(schema: Schema) -> None:
    from pvd_reporting.format.periods import cadence_window

    # Installed (J3) in 2025-T3: its own quarter owes a comité de projet, the one before it does not.
    assert cadence_window((2025, 4), date(2025, 8, 1)) == [(2025, 3), (2025, 4)]
    assert cadence_window((2025, 4), date(2025, 11, 5)) == [(2025, 4)]
    late = [r for r in baseline_rows(schema)["comites"] if r["date"] >= date(2025, 10, 1)]
    rows = {**with_row(schema, "jalons", 2, done_on=date(2025, 8, 1)), "comites": late}
    data = build_data(schema, rows=rows)
    issues = [i for i in apply_rules(data, schema) if i.code == "comite-cadence"]
    assert len(issues) == 1 and re.findall(r"\d{4}-T\d", issues[0].message) == ["2025-T3"]
    view = territory_view(WorkbookReport("t.xlsx", data=data), "k", schema, date(2025, 12, 31))
    assert view.cadence_missing == ["2025-T3"] and view.cadence_held is False
    # Installed this quarter without a comité yet this quarter: that quarter is owed.
    rows = {**with_row(schema, "jalons", 2, done_on=date(2025, 11, 5)),
            "comites": [r for r in late if r["date"] < date(2025, 10, 1)]}
    data = build_data(schema, rows=rows)
    issues = [i for i in apply_rules(data, schema) if i.code == "comite-cadence"]
    assert len(issues) == 1 and re.findall(r"\d{4}-T\d", issues[0].message) == ["2025-T4"]


# --- two rules on one cell -----------------------------------------------------------------------


def _jalons_late_and_early(schema: Schema) -> dict[str, list[dict[str, Any]]]:
    rows = [dict(r) for r in baseline_rows(schema)["jalons"]]
    # Both after the update date (15/12/2025), and J3 realised before J2.
    rows[1]["done_on"], rows[2]["done_on"] = date(2026, 3, 1), date(2026, 2, 1)
    return {"jalons": rows}


@pytest.mark.parametrize(("territory", "rows", "expected"), [
    ({"etp": 20}, None, ["etp-below-threshold", "percent-as-points"]),
    (None, "cost", ["negative-amount", "financing-exceeds-cost"]),
    (None, "jalons", ["date-in-future", "milestones-out-of-order"]),
])
def test_two_rules_on_one_cell_keep_their_order(schema: Schema, territory: dict[str, Any] | None,
                                                rows: str | None, expected: list[str]) -> None:
    # Reports list a cell's issues in the order they have always had: each rule's rank, then its place.
    tables = {"cost": with_row(schema, "engagements", 0, cost=-100.0),
              "jalons": _jalons_late_and_early(schema)}.get(rows or "")
    issues = apply_rules(build_data(schema, territory=territory, rows=tables), schema)
    by_cell: dict[str | None, list[str]] = {}
    for issue in issues:
        by_cell.setdefault(issue.cell, []).append(issue.code)
    assert expected in by_cell.values(), by_cell
