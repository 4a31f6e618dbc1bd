"""The registry of output columns (outputs/columns.py): `Territoires`, `Évolution`, the dashboard's
territory table and SQLite's `territoires` are read from it, so a total added there shows in all
four with nothing else touched (docs/developpement.md, « Ajouter une colonne »)."""

from __future__ import annotations

import re
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from test_figures import _consolidation

from pvd_reporting.consolidate.figures import ValueKind
from pvd_reporting.format.history import snake
from pvd_reporting.format.schema import Schema
from pvd_reporting.outputs import columns
from pvd_reporting.outputs.columns import (
    DASHBOARD,
    EVOLUTION,
    TERRITORIES,
    Column,
    evolution_columns,
    territory_columns,
    territory_totals,
)
from pvd_reporting.outputs.dashboard.page import render_dashboard
from pvd_reporting.outputs.history_db import write_history_db
from pvd_reporting.outputs.summary.workbook import write_summary

NEW = "Coût par action (€)"


def _headers(path: Path, sheet: str) -> list[str]:
    ws = load_workbook(path)[sheet]
    return [str(c.value) for c in next(ws.iter_rows(min_row=1, max_row=1))]


def _column(path: Path, sheet: str, header: str) -> list[Any]:
    ws = load_workbook(path)[sheet]
    rows = list(ws.iter_rows(values_only=True))
    j = list(rows[0]).index(header)
    return [r[j] for r in rows[1:]]


def _dashboard_headers(page: str) -> list[str]:
    return [h.replace("&shy;", "") for h in re.findall(r"<th data-type=\"\w+\">([^<]+)</th>", page)]


def test_every_writer_reads_the_registry(schema: Schema, tmp_path: Path) -> None:
    c = _consolidation(schema)
    summary = write_summary(c, tmp_path / "s.xlsx", schema)
    assert _headers(summary, TERRITORIES) == [col.header for col in territory_columns(schema)]
    assert _headers(summary, EVOLUTION) == [col.header for col in evolution_columns(schema)]
    page = render_dashboard(c, schema, generated_on=date(2026, 1, 5))
    assert [col.short for col in territory_totals(schema, DASHBOARD)] == ["Coût", "Reste à financer"]
    assert _dashboard_headers(page)[8:10] == ["Coût", "Reste à financer"]
    db = sqlite3.connect(write_history_db(c, tmp_path, schema))
    names = [r[1] for r in db.execute('PRAGMA table_info("territoires")')]
    assert names[3:-4] == [snake(col.header) for col in territory_columns(schema)][2:-4]


def test_a_total_added_to_the_registry_shows_in_every_table(schema: Schema, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    original = territory_totals

    def with_new(s: Schema, table: str) -> list[Column]:
        new = Column(NEW, ValueKind.EUROS, 15, lambda t, x: t.cost / t.actions if t.actions else None)
        return [*original(s, table), *([new] if table in new.tables else [])]

    monkeypatch.setattr(columns, "territory_totals", with_new)
    c = _consolidation(schema)
    expected = sorted(t.cost / t.actions for t in c.territories if t.actions)
    summary = write_summary(c, tmp_path / "s.xlsx", schema)
    assert sorted(v for v in _column(summary, TERRITORIES, NEW) if v is not None) == pytest.approx(expected)
    assert sorted(v for v in _column(summary, EVOLUTION, NEW) if v is not None) == pytest.approx(expected)
    page = render_dashboard(c, schema, generated_on=date(2026, 1, 5))
    assert NEW in _dashboard_headers(page)
    db = sqlite3.connect(write_history_db(c, tmp_path, schema))
    values = [r[0] for r in db.execute(f'SELECT "{snake(NEW)}" FROM territoires WHERE "{snake(NEW)}" IS NOT NULL')]
    assert sorted(values) == pytest.approx(expected)


def test_a_territory_not_received_fills_only_its_identity_and_status(schema: Schema) -> None:
    from pvd_reporting.consolidate.view import TerritoryView
    from pvd_reporting.outputs.columns import RowContext, territory_row

    t = TerritoryView(key="k", id_pvd="pvd-44-67-9", name="Absente", department="67", received=False,
                      ort_status="Non reçu", cost=5.0)
    cols = territory_columns(schema)
    row = dict(zip([col.header for col in cols], territory_row(cols, t, RowContext("2025-T4")), strict=True))
    assert {k for k, v in row.items() if v is not None} == {
        "Identifiant PVD", schema.form.name, schema.form.field("department").label, "Statut ORT"}
    evo = territory_row(evolution_columns(schema), t, RowContext("2025-T4"))
    assert evo[:5] == ["pvd-44-67-9", "Absente", "2025-T4", "Non", "Non reçu"] and set(evo[5:]) == {None}
