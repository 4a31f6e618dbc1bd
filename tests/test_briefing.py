"""What the referent and the préfet see first: figures that hold together, late ORT, « À retenir »,
« Non rempli », the tie rule, --departement, --as-of, the console, whole-output replacement."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factory import baseline_rows, make_workbook
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from test_consolidate import build_report

from pvd_reporting.cli import cli
from pvd_reporting.cli.consolidate_lines import as_of_warnings
from pvd_reporting.consolidate.batch import consolidate
from pvd_reporting.consolidate.briefing import (
    AT_RISK_ALERT,
    ERRORS_ALERT,
    NOT_RECEIVED_ALERT,
    OVERDUE_ALERT,
    SIGNED_LATE_ALERT,
    alerts,
    headline,
)
from pvd_reporting.consolidate.figures import region_figures
from pvd_reporting.consolidate.reading import read_all
from pvd_reporting.consolidate.view import BEYOND_COST_LABEL, ENGAGED, PLANNED, UNRECOGNISED
from pvd_reporting.format.french import MINUS
from pvd_reporting.format.issues import IssueCode, make_issue
from pvd_reporting.format.matching import french_sort_key
from pvd_reporting.format.reference import load_reference
from pvd_reporting.format.schema import NOT_FILLED, Schema
from pvd_reporting.outputs.dashboard.page_model import money_table
from pvd_reporting.outputs.summary.workbook import write_summary
from pvd_reporting.pipeline.template import run_template


def _cents(text: str) -> int:
    """« 1 200 000,50 € » (narrow spaces, real minus) -> 120000050."""
    clean = text.replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace("€", "")
    clean = clean.replace(MINUS, "-").replace(",", ".")
    return round(float(clean) * 100)


def _action(schema: Schema, action_id: str, status: str, cost: float | None, *amounts: float) -> dict[str, Any]:
    keys = [f.key for f in schema.financer_fields]
    return {"action_id": action_id, "status": status, "theme": "Autre", "cost": cost,
            **dict(zip(keys, amounts, strict=False))}


# --- figures that hold together -----------------------------------------------------------------

def test_an_over_financed_action_is_shown_apart_and_the_identity_holds(schema: Schema) -> None:
    # 100 € of cost financed 130 €: 30 € beyond the cost; another 200 € financed 50 €.
    report = build_report("t.xlsx", schema, actions=[
        _action(schema, "A1", "Engagée", 100.0, 80.0, 50.0),
        _action(schema, "A2", "En cours", 200.0, 50.0),
    ])
    t = consolidate([report], schema).territories[0]
    assert (t.cost, sum(t.financing.values()), t.beyond_cost, t.remaining) == (300.0, 180.0, 30.0, 150.0)
    # Before: remaining 150 + financing 180 = 330 for a cost of 300.
    assert round(t.cost * 100) == round(sum(t.financing.values()) * 100) - round(t.beyond_cost * 100) \
        + round(t.remaining * 100)


def test_engaged_planned_and_unrecognised_money_are_apart(schema: Schema) -> None:
    report = build_report("t.xlsx", schema, actions=[
        _action(schema, "A1", "Engagée", 100.0, 100.0),
        _action(schema, "A2", "Terminée", 10.0),
        _action(schema, "A3", "Envisagée", 1000.0, 200.0),
        _action(schema, "A4", "En préparation", 500.0),
        _action(schema, "A5", "Peut-être", 7.0),
        _action(schema, "A6", "Abandonnée", 5000.0),
    ])
    region = consolidate([report], schema).region
    stages = region.money_by_stage
    assert stages[ENGAGED].cost == 110.0
    assert stages[PLANNED].cost == 1500.0 and stages[PLANNED].financed == 200.0
    assert stages[UNRECOGNISED].cost == 7.0
    assert region.cost == 1617.0


money = st.integers(min_value=0, max_value=5_000_000).map(lambda c: c / 100)


@st.composite
def over_financed_batches(draw: st.DrawFn, schema: Schema) -> list[Any]:
    fin = [f.key for f in schema.financer_fields]
    statuses = [*schema.lists["statut_action"], "Statut inconnu", None]
    reports = []
    for i in range(draw(st.integers(1, 4))):
        actions = []
        for j in range(draw(st.integers(0, 5))):
            action: dict[str, Any] = {"action_id": f"A{j}", "status": draw(st.sampled_from(statuses)),
                                      "theme": "Autre", "cost": draw(st.one_of(st.none(), money))}
            for key in draw(st.lists(st.sampled_from(fin), max_size=3, unique=True)):
                # Often more than the cost: over-financed actions are what this test is about.
                action[key] = draw(money) * draw(st.sampled_from([1, 1, 3]))
            actions.append(action)
        reports.append(build_report(f"w{i}.xlsx", schema, actions=actions,
                                    form={"id_pvd": f"pvd-44-67-{i + 1}", "name": f"T{i}"}))
    return reports


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_money_identity_to_the_cent_on_dashboard_synthese_and_territoires(
        schema: Schema, data: st.DataObject, tmp_path: Path) -> None:
    cons = consolidate(data.draw(over_financed_batches(schema)), schema)
    # Dashboard: every column of the money table (engagé, prévu, … and total) adds up.
    table = money_table(cons.region, schema)
    by_label = {row["label"]: [_cents(v) for v in row["values"]] for row in table["rows"]}
    financed = by_label["Total des financements (€)"]
    beyond = by_label[f"{MINUS} {BEYOND_COST_LABEL}"]
    remaining = by_label["+ Reste à financer (€)"]
    cost = next(v for k, v in by_label.items() if k.startswith("= "))
    for col in range(len(table["columns"])):
        assert cost[col] == financed[col] - beyond[col] + remaining[col]
    # Synthèse and Territoires, read back with another reader than the writer.
    path = write_summary(cons, tmp_path / f"s-{os.getpid()}-{id(cons)}.xlsx", schema)
    wb = load_workbook(path)
    figures = {r[0]: r[1] for r in wb["Synthèse"].iter_rows(max_col=2, values_only=True) if r[0]}
    financer_labels = [f.label for f in schema.financer_fields]
    cost_label = schema.table("engagements").column("cost").label

    def c(value: Any) -> int:
        return round((value or 0) * 100)

    assert c(figures[cost_label]) == sum(c(figures[lbl]) for lbl in financer_labels) \
        - c(figures[BEYOND_COST_LABEL]) + c(figures["Reste à financer (€)"])
    ws = wb["Territoires"]
    headers = [cell.value for cell in ws[1]]
    assert headers.index(BEYOND_COST_LABEL) + 1 == headers.index("Reste à financer (€)")
    for row in ws.iter_rows(min_row=2, values_only=True):
        r = dict(zip(headers, row, strict=True))
        assert c(r[cost_label]) == sum(c(r[lbl]) for lbl in financer_labels) - c(r[BEYOND_COST_LABEL]) \
            + c(r["Reste à financer (€)"])


def test_every_regional_total_states_its_perimeter(schema: Schema, reference_csv: Path) -> None:
    reference = load_reference(reference_csv)
    report = build_report("a.xlsx", schema, form={"id_pvd": "pvd-44-08-1", "department": "08"})
    region = consolidate([report], schema, reference=reference).region
    assert region.perimeter == "sur 1 territoire reçu sur 99 attendus"
    assert "sur 1 territoire reçu sur 99 attendus" in money_table(region, schema)["perimeter"]


# --- an ORT signed late ---------------------------------------------------------------------------

def test_an_ort_signed_after_its_deadline_keeps_its_status_and_says_how_late(schema: Schema) -> None:
    # J1 01/01/2022: deadline 01/07/2023; J8 on 15/07/2024 is about 12.5 months late.
    late = build_report("l.xlsx", schema, form={"id_pvd": "pvd-44-67-1"},
                        done={"J1": date(2022, 1, 1), "J8": date(2024, 7, 15)})
    on_time = build_report("o.xlsx", schema, form={"id_pvd": "pvd-44-67-2"},
                           done={"J1": date(2023, 1, 1), "J8": date(2024, 1, 1)})
    c = consolidate([late, on_time], schema)
    by_id = {t.id_pvd: t for t in c.territories}
    assert by_id["pvd-44-67-1"].ort_status == "ORT signée"
    assert by_id["pvd-44-67-1"].signed_in_time is False
    assert by_id["pvd-44-67-1"].months_late == pytest.approx(12.5, abs=0.1)
    assert by_id["pvd-44-67-2"].signed_in_time is True and by_id["pvd-44-67-2"].months_late is None
    assert (c.region.ort_signed, c.region.ort_signed_in_time, c.region.ort_signed_late) == (2, 1, 1)


def test_late_signing_is_in_the_territoires_sheet(schema: Schema, tmp_path: Path) -> None:
    late = build_report("l.xlsx", schema, done={"J1": date(2022, 1, 1), "J8": date(2024, 7, 15)})
    wb = load_workbook(write_summary(consolidate([late], schema), tmp_path / "s.xlsx", schema))
    ws = wb["Territoires"]
    row = dict(zip([c.value for c in ws[1]], [c.value for c in ws[2]], strict=True))
    assert row["Statut ORT"] == "ORT signée"
    assert row["ORT signée dans le délai"] == "Non"
    assert row["Retard de signature (mois)"] == pytest.approx(12.5, abs=0.1)


# --- À retenir ------------------------------------------------------------------------------------

def test_a_retenir_ranks_the_alerts(schema: Schema, reference_csv: Path) -> None:
    reference = load_reference(reference_csv)
    ids = [t.id_pvd for t in reference.in_region("Grand Est") if t.department == "08"][:4]
    overdue = build_report("o.xlsx", schema, form={"id_pvd": ids[0], "department": "08", "name": "Rocroi"},
                           done={"J1": date(2022, 1, 1), "J5": date(2023, 1, 1)})
    risk = build_report("r.xlsx", schema, form={"id_pvd": ids[1], "department": "08", "name": "Givet"},
                        done={"J1": date(2024, 8, 31)})
    # Signed late in this quarter: an alert of this quarter (signed late in 2024, it would not be).
    late = build_report("l.xlsx", schema, form={"id_pvd": ids[2], "department": "08", "name": "Sedan"},
                        done={"J1": date(2024, 1, 1), "J8": date(2025, 11, 15)})
    wrong = build_report("e.xlsx", schema, form={"id_pvd": ids[3], "department": "08", "name": "Vouziers"},
                         done={"J1": date(2025, 1, 1)})
    wrong.issues.append(make_issue(IssueCode.INVALID_DATE, sheet="Jalons", cell="D2", value="x"))
    c = consolidate([wrong, late, risk, overdue], schema, reference=reference)
    found = alerts(c)
    assert [a.kind for a in found] == [OVERDUE_ALERT, AT_RISK_ALERT, SIGNED_LATE_ALERT, ERRORS_ALERT,
                                       NOT_RECEIVED_ALERT]
    assert found[0].who == "Rocroi" and found[0].deadline == date(2023, 7, 1)
    assert found[0].months_late == pytest.approx(30.0, abs=0.1)
    assert found[0].last_milestone is not None and found[0].last_milestone.startswith("J5")
    assert found[1].months_left == pytest.approx(1.9, abs=0.1)
    assert found[2].months_late == pytest.approx(4.5, abs=0.1)
    assert len(found[-1].territories) == 95
    sentence = headline(region_figures(c, schema), c.region.period)
    assert sentence.startswith("2025-T4, sur 4 territoires reçus sur 99 attendus : ")
    assert "1 ORT signée (dont 1 après l'échéance)" in sentence and "95 classeurs manquants" in sentence


def test_a_retenir_opens_the_synthese_sheet(schema: Schema, tmp_path: Path) -> None:
    overdue = build_report("o.xlsx", schema, done={"J1": date(2022, 1, 1)})
    wb = load_workbook(write_summary(consolidate([overdue], schema), tmp_path / "s.xlsx", schema))
    cells = [r for r in wb["Synthèse"].iter_rows(max_row=12, values_only=True)]
    texts = [str(v) for r in cells for v in r if v is not None]
    assert texts.index("À retenir") < texts.index("Chiffre")
    alert_row = next(r for r in cells if r[0] == OVERDUE_ALERT)
    assert alert_row[1] == "Bouxwiller" and alert_row[4] == pytest.approx(30.0, abs=0.1)


# --- Non rempli -----------------------------------------------------------------------------------

def test_blank_region_templates_are_not_received(schema: Schema, reference_csv: Path, tmp_path: Path) -> None:
    folder = tmp_path / "modeles"
    run_template(region="Grand Est", output_dir=folder, reference_path=reference_csv, period="2025-T4",
                 departments=["55"])
    files = sorted(folder.glob("*.xlsx"))
    assert len(files) > 2
    result = CliRunner().invoke(cli, ["consolidate", str(folder), "--output-dir", str(tmp_path / "out"),
                                      "--reference", str(reference_csv), "--departement", "55",
                                      "--quiet", "--no-images", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert f"Territoires reçus : 0 sur {len(files)} attendus" in result.output
    assert f"Classeurs renvoyés non remplis, comptés comme non reçus : {len(files)}" in result.output
    # One of them is filled: it counts as received, the others stay « Non rempli ».
    meuse = [t for t in load_reference(reference_csv).in_region("Grand Est") if t.department == "55"]
    make_workbook(folder / "rempli.xlsx", schema, territory={"id_pvd": meuse[0].id_pvd, "department": "55"})
    reports = read_all(sorted(folder.glob("*.xlsx")), schema, workers=1)
    c = consolidate(reports, schema, reference=load_reference(reference_csv), departments=["55"])
    assert c.region.received == 1
    assert c.region.not_filled == len(files) - 1
    assert c.region.expected == len(files)
    assert sum(1 for t in c.territories if t.ort_status == NOT_FILLED) == len(files) - 1


# --- tie rule -------------------------------------------------------------------------------------

def test_same_update_date_never_the_file_time_decides(schema: Schema, tmp_path: Path) -> None:
    # The corrected version sorts first and is the older file on disk: by name or by file time it
    # would lose (a copy loses file times anyway); it has fewer errors, so it wins.
    corrected = make_workbook(tmp_path / "a-corrige.xlsx", schema)
    first = make_workbook(tmp_path / "z-premier.xlsx", schema,
                          rows={"engagements": baseline_rows(schema)["engagements"] * 2})
    os.utime(corrected, (1_700_000_000, 1_700_000_000))
    os.utime(first, (1_700_100_000, 1_700_100_000))
    reports = read_all([first, corrected], schema, workers=1)
    c = consolidate(reports, schema)
    assert [Path(t.report.path).name if t.report else "" for t in c.territories] == ["a-corrige.xlsx"]
    (loser,) = [r for r in reports if r.path.endswith("z-premier.xlsx")]
    (issue,) = [i for i in loser.issues if i.code == "duplicate-submission"]
    assert "deux versions du même jour : vérifier" in issue.message
    assert "même date de mise à jour (15/12/2025)" in issue.message
    assert f"celui qui compte le moins d'erreurs (0 contre {loser.errors})" in issue.message
    assert "disque" not in issue.message
    # Equal errors: the later name, whatever the files' times.
    twin = make_workbook(tmp_path / "b-copie.xlsx", schema, territory={"project_lead": "Autre nom"})
    os.utime(twin, (1_600_000_000, 1_600_000_000))
    again = consolidate(read_all([corrected, twin], schema, workers=1), schema)
    assert [Path(t.report.path).name if t.report else "" for t in again.territories] == ["b-copie.xlsx"]


# --- --departement, --as-of, the console ------------------------------------------------------------

def test_departement_restricts_expected_workbooks_and_titles(schema: Schema, reference_csv: Path,
                                                              tmp_path: Path) -> None:
    reference = load_reference(reference_csv)
    aube = [t for t in reference.in_region("Grand Est") if t.department == "10"]
    in_aube = build_report("a.xlsx", schema, form={"id_pvd": aube[0].id_pvd, "department": "10"})
    elsewhere = build_report("b.xlsx", schema, form={"id_pvd": "pvd-44-67-3", "department": "67"})
    c = consolidate([in_aube, elsewhere], schema, reference=reference, departments=["10"])
    assert (c.region.expected, c.region.received) == (len(aube), 1)
    assert [i.code for i in elsewhere.issues] == ["other-department"]
    assert {t.department for t in c.territories} == {"10"}
    out = tmp_path / "out"
    folder = tmp_path / "in"
    make_workbook(folder / "a.xlsx", schema, territory={"id_pvd": aube[0].id_pvd, "department": "10"})
    make_workbook(folder / "b.xlsx", schema)
    result = CliRunner().invoke(cli, ["consolidate", str(folder), "--output-dir", str(out), "--reference",
                                      str(reference_csv), "--departement", "10", "--quiet", "--no-images",
                                      "--workers", "1"])
    assert result.exit_code == 0, result.output
    page = (out / "tableau-de-bord-2025-T4.html").read_text("utf-8")
    assert "<h1>Petites villes de demain — Grand Est — Aube (10)</h1>" in page
    assert f"sur {len(aube)} attendus" in result.output
    # The workbooks of other départements are one line, not one line each.
    assert "1 classeur d'autres départements, non consolidé" in result.output
    assert "b.xlsx" not in result.output


def test_departement_help_is_french_with_an_example() -> None:
    for command in ("consolidate", "template"):
        text = CliRunner().invoke(cli, [command, "--help"]).output
        assert "--departement" in text and "ex. --departement 10" in text


def test_bad_departement_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["template", "--region", "Grand Est", "--departement", "99x",
                                      "--reference", "x.csv", "--output-dir", str(tmp_path)])
    assert result.exit_code == 2 and "Département inconnu" in result.output


def test_as_of_outside_the_period_is_a_warning() -> None:
    assert as_of_warnings("2025-T4", date(2025, 12, 31)) == []
    assert as_of_warnings("2025-T4", date(2026, 12, 31)) == []
    assert "précède la période 2025-T4" in as_of_warnings("2025-T4", date(2025, 9, 30))[0]
    assert "plus d'un an après" in as_of_warnings("2025-T4", date(2027, 1, 1))[0]


def test_console_names_every_workbook_set_aside_and_why(schema: Schema, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    make_workbook(folder / "bon.xlsx", schema)
    make_workbook(folder / "ancien.xlsx", schema, territory={"updated_on": date(2025, 11, 1)})
    # A later quarter than the one consolidated is set aside (an earlier one would be history).
    make_workbook(folder / "t1.xlsx", schema, territory={"id_pvd": "pvd-44-67-6", "period": "2026-T1",
                                                         "updated_on": date(2026, 2, 1)})
    (folder / "casse.xlsx").write_bytes(b"PK\x03\x04 pas un classeur")
    result = CliRunner().invoke(cli, ["consolidate", str(folder), "--output-dir", str(tmp_path / "out"),
                                      "--period", "2025-T4", "--as-of", "01/01/2025", "--quiet", "--no-images",
                                      "--workers", "1"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Classeurs écartés : 3" in text
    assert re.search(r"ancien\.xlsx : Autre classeur pour le même territoire", text)
    assert re.search(r"t1\.xlsx : Classeur de la période 2026-T1", text)
    assert "casse.xlsx : " in text
    assert "précède la période 2025-T4" in text


# --- whole-output replacement ---------------------------------------------------------------------

def test_a_rerun_replaces_the_charts_folder_whole(schema: Schema, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    make_workbook(folder / "bon.xlsx", schema)
    out = tmp_path / "out"
    charts = out / "graphiques-2025-T4"
    charts.mkdir(parents=True)
    (charts / "statut-ort-par-departement.png").write_bytes(b"old")
    (charts / "ancien-graphique.svg").write_text("<svg/>")
    result = CliRunner().invoke(cli, ["consolidate", str(folder), "--output-dir", str(out), "--quiet",
                                      "--no-images", "--workers", "1"])
    assert result.exit_code == 0, result.output
    names = {p.name for p in charts.iterdir()}
    assert "statut-ort-par-departement.html" in names
    assert not {n for n in names if n.endswith((".png", ".svg"))}
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


# --- French order ---------------------------------------------------------------------------------

def test_names_sort_the_french_way() -> None:
    names = ["Vaucouleurs", "Étain", "Bar-le-Duc", "Eu", "Stenay", "Saint-Mihiel", "Saint Avold"]
    assert sorted(names, key=french_sort_key) == ["Bar-le-Duc", "Étain", "Eu", "Saint Avold", "Saint-Mihiel",
                                                  "Stenay", "Vaucouleurs"]


def test_the_page_and_the_sheets_sort_accented_names_among_the_others(schema: Schema, tmp_path: Path) -> None:
    from pvd_reporting.outputs.dashboard.page import render_dashboard

    reports = [build_report(f"{n}.xlsx", schema, form={"id_pvd": f"pvd-44-55-{i}", "name": n, "department": "55"})
               for i, n in enumerate(["Vaucouleurs", "Étain", "Commercy"], start=1)]
    c = consolidate(reports, schema)
    assert [t.name for t in c.territories] == ["Commercy", "Étain", "Vaucouleurs"]
    page = render_dashboard(c, schema)
    table = page[page.index('<table id="t-list">'):]
    assert table.index("Commercy") < table.index("Étain") < table.index("Vaucouleurs")
    assert "Meuse (55)" in table


# --- the page ---------------------------------------------------------------------------------------

def test_the_page_opens_with_a_retenir_and_draws_the_deadline_on_the_timeline(schema: Schema) -> None:
    from pvd_reporting.outputs.dashboard.page import render_dashboard

    late = build_report("l.xlsx", schema, form={"id_pvd": "pvd-44-67-1", "name": "Saverne"},
                        done={"J1": date(2022, 1, 1), "J8": date(2024, 7, 15)})
    page = render_dashboard(consolidate([late], schema), schema)
    retenir, money = page.index('id="h-a-retenir"'), page.index('id="h-financements"')
    assert page.index('id="h-chiffres"') < retenir < money < page.index('id="h-graphiques"')
    # Signed late in 2024: counted among the figures, no longer an alert of 2025-T4.
    assert SIGNED_LATE_ALERT not in page[retenir:money]
    assert "1 ORT signée (dont 1 après l&#39;échéance)" in page[retenir:money]
    # The panel: ORT signée, after its deadline, and the deadline (01/07/2023) drawn on the timeline.
    assert "après l&#39;échéance, 12,5 mois de retard" in page
    assert ' data-dl style="' in page and "--dl:" in page and "échéance ORT (01/07/2023)" in page


def test_console_lists_the_current_quarters_set_aside_workbooks_and_counts_earlier_ones(schema: Schema) -> None:
    from pvd_reporting.cli.consolidate_lines import set_aside_lines
    from pvd_reporting.consolidate.quarters import consolidate_history
    from pvd_reporting.pipeline.consolidate import ConsolidationRun

    def sent(name: str, period: str, updated: date) -> Any:
        report = build_report(name, schema, form={"period": period, "updated_on": updated})
        report.sha256 = name.ljust(64, "0")  # six different files
        return report

    # Two versions in each of three quarters: the earlier quarters' losers were named back then.
    reports = [sent("t2-a.xlsx", "2025-T2", date(2025, 6, 1)), sent("t2-b.xlsx", "2025-T2", date(2025, 6, 2)),
               sent("t3-a.xlsx", "2025-T3", date(2025, 9, 1)), sent("t3-b.xlsx", "2025-T3", date(2025, 9, 2)),
               sent("t4-a.xlsx", "2025-T4", date(2025, 12, 1)), sent("t4-b.xlsx", "2025-T4", date(2025, 12, 2))]
    c = consolidate_history(reports, schema)
    lines = set_aside_lines(ConsolidationRun(c, []), 20)
    assert lines[0] == "  Classeurs écartés : 1"
    assert lines[1].startswith("    t4-a.xlsx : ")
    assert lines[2:] == ["  Classeurs écartés des trimestres précédents : 2 (voir l'onglet Sources de la synthèse)."]
    assert not any("t2-a" in line or "t3-a" in line for line in lines)
