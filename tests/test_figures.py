"""The region's figures, computed once (consolidate/figures.py): the Synthèse sheet, the
dashboard's cards and the console name and count them as `region_figures` does; T-1 and N-1 are
matched by key; a new figure is one declaration."""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import date
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from test_consolidate import build_report

from pvd_reporting.consolidate import figures as figures_module
from pvd_reporting.consolidate.batch import consolidate
from pvd_reporting.consolidate.figures import Declared, ValueKind, declarations, region_figures
from pvd_reporting.consolidate.view import Consolidation, History
from pvd_reporting.format.schema import Schema
from pvd_reporting.outputs.dashboard.page import render_dashboard
from pvd_reporting.outputs.summary.workbook import write_summary


def _consolidation(schema: Schema, period: str = "2025-T4", cost: float = 1234.56) -> Consolidation:
    fin = schema.financer_fields[0].key
    actions = [{"action_id": "A1", "title": "Halles", "status": "En cours", "theme": "Patrimoine",
                "cost": cost, fin: 1000.0}]
    a = build_report("in/a.xlsx", schema, actions=actions, done={"J1": date(2024, 8, 31)})
    b = build_report("in/b.xlsx", schema, form={"id_pvd": "pvd-44-68-1", "department": "68"},
                     done={"J1": date(2023, 1, 1), "J8": date(2024, 1, 1)})
    c = consolidate([a, b], schema)
    c.region.period = period
    return c


def _synthesis_figures(path: Path) -> dict[str, tuple[object, ...]]:
    """Label -> the cells right of it, from the `Chiffre` header down to the first blank row."""
    ws = load_workbook(path)["Synthèse"]
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == "Chiffre")
    out = {}
    for r in rows[start + 1:]:
        if r[0] is None:
            break
        out[str(r[0])] = tuple(r[1:4])
    return out


def test_keys_and_labels_are_unique_and_kinds_known(schema: Schema) -> None:
    declared = declarations(schema)
    assert len({d.key for d in declared}) == len(declared)
    assert len({d.label for d in declared}) == len(declared)
    assert all(isinstance(d.kind, ValueKind) for d in declared)


def test_synthesis_lists_exactly_the_figures(schema: Schema, tmp_path: Path) -> None:
    c = _consolidation(schema)
    figures = region_figures(c, schema)
    shown = _synthesis_figures(write_summary(c, tmp_path / "s.xlsx", schema))
    assert list(shown) == [f.label for f in figures]
    assert shown["Classeurs sans erreur"][0] == figures.value("valid") == 2
    assert shown[schema.table("engagements").column("cost").label][0] == pytest.approx(1234.56)
    # Without a reference list the expected territories are not known: « — », not 0.
    assert shown["Territoires attendus (liste de référence)"][0] == "—"


def test_dashboard_cards_use_the_figures_short_labels(schema: Schema) -> None:
    c = _consolidation(schema)
    figures = region_figures(c, schema)
    page = render_dashboard(c, schema, generated_on=date(2026, 1, 5))
    for key in ("received", "valid", "at_risk", "median_months_j1_j8", "cost", "remaining"):
        assert f'<div class="l">{html.escape(figures[key].short, quote=True)}</div>' in page, key
    assert "Classeurs valides" not in page  # one name for one figure


def test_previous_and_year_before_matched_by_key(schema: Schema, tmp_path: Path) -> None:
    now, before = _consolidation(schema), _consolidation(schema, "2025-T3", cost=1000.0)
    now.history = History(current="2025-T4", periods={"2025-T3": before, "2025-T4": now}, previous="2025-T3")
    figures = region_figures(now, schema)
    cost = figures["cost"]
    assert (cost.value, cost.previous, cost.year_before) == (pytest.approx(1234.56), pytest.approx(1000.0), None)
    assert (figures.previous, figures.year_before) == ("2025-T3", None)
    shown = _synthesis_figures(write_summary(now, tmp_path / "s.xlsx", schema))
    assert shown[cost.label] == (pytest.approx(1234.56), pytest.approx(1000.0), "—")
    ws = load_workbook(tmp_path / "s.xlsx")["Synthèse"]
    headers = [c.value for row in ws.iter_rows() for c in row if c.value in ("T-1 (2025-T3)", "N-1")]
    assert headers == ["T-1 (2025-T3)", "N-1"]


def test_a_new_figure_is_one_declaration(schema: Schema, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = declarations

    def more(s: Schema) -> list[Declared]:
        return [*original(s), Declared("territories", "Territoires de la vue", ValueKind.COUNT,
                                       lambda c: len(c.territories))]

    monkeypatch.setattr(figures_module, "declarations", more)
    c = _consolidation(schema)
    assert region_figures(c, schema).value("territories") == 2
    shown = _synthesis_figures(write_summary(c, tmp_path / "s.xlsx", schema))
    assert shown["Territoires de la vue"][0] == 2


def test_console_reads_the_figures(schema: Schema) -> None:
    from pvd_reporting.cli.consolidate import _echo_summary
    from pvd_reporting.pipeline.consolidate import ConsolidationRun

    c = _consolidation(schema)
    figures = region_figures(c, schema)
    # A figure changed in the figures, not in the view, shows in the console: it reads them.
    changed = replace(figures, figures=tuple(replace(f, value=7) if f.key == "valid" else f for f in figures))
    run = ConsolidationRun(c, [], figures=changed)
    runner = CliRunner()

    @click.command()
    def echo() -> None:
        _echo_summary(run)

    assert "sans erreur : 7" in runner.invoke(echo).output



def _quarter(schema: Schema, period: str, updated: date, who: dict[str, tuple[float, int | None, bool]]) -> list:
    """One report per territory: id -> (cost of its one action, its Ville PVD's population,
    whether the action's row is flagged with an error)."""
    fin = schema.financer_fields[0].key
    reports = []
    for n, (id_pvd, (cost, people, error)) in enumerate(who.items()):
        report = build_report(f"{period}/{id_pvd}.xlsx", schema,
                              form={"id_pvd": id_pvd, "name": f"Ville {id_pvd}", "period": period,
                                    "updated_on": updated, "siren": None},
                              actions=[{"action_id": "A1", "title": "Halles", "status": "En cours",
                                        "theme": "Patrimoine", "cost": cost, fin: cost / 2}],
                              communes=[{"insee": f"6700{n}", "name": f"Ville {id_pvd}", "population": people,
                                         "role": "Ville PVD"}])
        if error:
            report.data.tables["engagements"][0].control = "Erreur"
        reports.append(report)
    return reports


def test_every_figure_on_a_constant_perimeter_error_rows_and_population_included(schema: Schema) -> None:
    from pvd_reporting.consolidate.quarters import consolidate_history

    before = _quarter(schema, "2025-T3", date(2025, 9, 15), {
        "pvd-44-67-1": (100_000.0, 4000, False), "pvd-44-67-2": (50_000.0, None, False),
        "pvd-44-67-4": (9_000_000.0, 1000, True)})  # sent at T-1 only
    now = _quarter(schema, "2025-T4", date(2025, 12, 15), {
        "pvd-44-67-1": (120_000.0, 4000, True), "pvd-44-67-2": (60_000.0, None, False),
        "pvd-44-67-3": (7_000_000.0, 2000, True)})  # new this quarter
    figures = region_figures(consolidate_history([*before, *now], schema), schema)
    assert figures.constant == 2
    on = {k: (figures[k].constant_previous, figures[k].constant_current)
          for k in ("received", "cost", "cost_error_rows", "financed_error_rows", "population",
                    "without_population", "per_inhabitant", "ort_signed_share")}
    assert on["received"] == (2, 2)
    assert on["cost"] == (150_000.0, 180_000.0)
    # The error row of pvd-44-67-1 is stated on the constant perimeter too (it was 0 € there).
    assert on["cost_error_rows"] == (0.0, 120_000.0)
    assert on["financed_error_rows"] == (0.0, 60_000.0)
    assert on["population"] == (4000, 4000)
    assert on["without_population"] == (1, 1)
    # € per inhabitant: the cost of the territories whose population is known ÷ that population.
    assert on["per_inhabitant"] == (25.0, 30.0)
    assert on["ort_signed_share"] == (0.0, 0.0)
    # The period itself: pvd-44-67-2 (no population) left out of both cost and population.
    assert figures.value("per_inhabitant") == round((120_000 + 7_000_000) / 6000, 2)
    assert figures["per_inhabitant"].note == "hors 1 territoire sans population connue"
    assert figures.value("cost_error_rows") == 7_120_000.0


def test_the_registry_from_per_territory_figures_sums_like_the_region(schema: Schema) -> None:
    """The function a national roll-up calls: the same figures from each territory's own."""
    from pvd_reporting.consolidate.figures import figures_from_territories, financer_names
    from pvd_reporting.consolidate.regional import territory_figures

    c = consolidate(_quarter(schema, "2025-T4", date(2025, 12, 15), {
        "pvd-44-67-1": (120_000.0, 4000, True), "pvd-44-67-3": (7_000_000.0, None, False)}), schema)
    declared = declarations(schema)
    direct = figures_from_territories([territory_figures(t) for t in c.territories], declared,
                                      financer_names(schema), c.region.expected)
    assert direct == {f.key: f.value for f in region_figures(c, schema)}
    assert direct["per_inhabitant"] == 30.0 and direct["without_population"] == 1


def test_published_figures_are_every_row_of_the_synthesis(schema: Schema, tmp_path: Path) -> None:
    from pvd_reporting.consolidate.published import published_figures

    c = _consolidation(schema)
    shown = _synthesis_figures(write_summary(c, tmp_path / "s.xlsx", schema))
    published = published_figures(c, schema)
    # Every row but the perimeter's text, under the same label, with the value shown.
    assert set(published) == set(shown) - {"Périmètre des totaux"}
    assert published["Coût total HT (€)"] == 1234.56 and published["Territoires reçus"] == 2
    assert published["Territoires attendus (liste de référence)"] is None
    share = f"Part du financement : {schema.financer_fields[0].financer or schema.financer_fields[0].key}"
    assert published[share] == 1.0


def test_the_note_gives_t1_and_its_change_on_one_perimeter(schema: Schema) -> None:
    from pvd_reporting.consolidate.quarters import consolidate_history
    from pvd_reporting.outputs.note import figure_rows

    before = _quarter(schema, "2025-T3", date(2025, 9, 15), {
        "pvd-44-67-1": (100_000.0, 4000, False), "pvd-44-67-2": (50_000.0, 1000, False),
        "pvd-44-67-4": (9_000_000.0, 1000, False)})
    now = _quarter(schema, "2025-T4", date(2025, 12, 15), {
        "pvd-44-67-1": (120_000.0, 4000, False), "pvd-44-67-2": (50_000.0, 1000, False)})
    rows = {r["label"]: r for r in figure_rows(region_figures(consolidate_history([*before, *now], schema), schema))}
    # Raw T-1 would say 3 received and 9 150 000 €: on the 2 received in both, 2 and 150 000 €.
    received = rows["Territoires reçus"]
    assert (received["value"], received["previous"], received["change"], received["constant"]) == ("2", "2", "=", True)
    cost = rows["Coût total des actions"]
    assert cost["previous"].replace("\u202f", " ") == "150 000 €" and cost["constant"] is True
    assert cost["change"].replace("\u202f", " ").replace("\u2212", "-") == "+20 000 €"


def test_dashboard_card_states_the_territories_without_population(schema: Schema) -> None:
    c = consolidate(_quarter(schema, "2025-T4", date(2025, 12, 15), {
        "pvd-44-67-1": (120_000.0, 4000, False), "pvd-44-67-3": (7_000_000.0, None, False)}), schema)
    page = html.unescape(render_dashboard(c, schema, generated_on=date(2026, 1, 5)))
    assert "coût total, population des Villes PVD reçues, hors 1 territoire sans population connue" in page


def test_synthesis_footnotes_the_territories_without_population(schema: Schema, tmp_path: Path) -> None:
    c = consolidate(_quarter(schema, "2025-T4", date(2025, 12, 15), {
        "pvd-44-67-1": (120_000.0, 4000, False), "pvd-44-67-3": (7_000_000.0, None, False),
        "pvd-44-67-5": (10.0, None, False)}), schema)
    path = write_summary(c, tmp_path / "s.xlsx", schema)
    shown = _synthesis_figures(path)
    assert shown["Coût total par habitant des Villes PVD (€)"][0] == 30.0
    assert shown["Territoires reçus sans population connue"][0] == 2
    cells = [r[0] for r in load_workbook(path)["Synthèse"].iter_rows(max_col=1, values_only=True)]
    assert ("Coût total par habitant des Villes PVD (€) : hors 2 territoires sans population connue."
            in cells)
