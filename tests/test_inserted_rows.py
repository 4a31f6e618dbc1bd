"""A row inserted anywhere in a table is fillable and checked: rows inserted and filled through
LibreOffice Calc set to French (UNO, tests/calc_typing.py), in the protected blank template, then
recalculated by LibreOffice and by Gnumeric (Excel's rules) and read by `validate`.

In Engagements, three rows are inserted as a person inserts them: between two actions (one with
no Intitulé), above the first data row (financing beyond the cost) and below the last prepared
row (financing beyond the cost). Each is typed into under protection, shows its amount the French
way, and is counted by `Contrôles` where `validate` reports it, on the same cell.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from calc_typing import Job, type_in_calc, uno_python
from engines import ENGINES, Sheets, french_profile, recalculate

from pvd_reporting.check.checks import live_checks
from pvd_reporting.check.validate import validate_workbook
from pvd_reporting.format.issues import IssueCode
from pvd_reporting.format.matching import col_letter
from pvd_reporting.format.schema import ENGAGEMENTS, FIRST_DATA_ROW, Schema
from pvd_reporting.outputs.workbook.template import write_template
from pvd_reporting.outputs.workbook.writer import CONTROLS_FIRST_ROW

pytestmark = pytest.mark.libreoffice
SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})
TOP, BETWEEN, AFTER = "top", "between", "after"


@pytest.fixture(scope="session")
def calc_python() -> str:
    found = uno_python()
    if found is None:
        pytest.skip("module uno de LibreOffice absent (paquet python3-uno)")
    return found


def _action(schema: Schema, row: int, values: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps typing an action into a row (0-based), cell by cell."""
    keys = schema.table(ENGAGEMENTS).keys
    return [{"type": [row, keys.index(k)], "text": str(v)} for k, v in values.items()]


def _plan(schema: Schema) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The steps, and the 0-based row each inserted action ends on."""
    table = schema.table(ENGAGEMENTS)
    theme, statuses = schema.lists["thematique"][0], schema.lists["statut_action"]
    keys = table.keys
    first, last = FIRST_DATA_ROW, FIRST_DATA_ROW + table.blank_rows - 1
    plain = {"theme": theme, "status": statuses[0]}
    over = {"theme": theme, "status": statuses[2], "cost": 850000, keys[keys.index("cost") + 1]: 900000}
    steps: list[dict[str, Any]] = [
        {"sheet": table.name},
        *_action(schema, first, {"action_id": "A2", "title": "Halle", **plain}),
        *_action(schema, first + 1, {"action_id": "A3", "title": "Voirie", **plain}),
        # Between the two: no Intitulé (required).
        {"insert": "above", "row": first + 1},
        *_action(schema, first + 1, {"action_id": "A4", **plain, "cost": 120000}),
        # Above the first data row: it takes the spacer's format, not the header's.
        {"insert": "above", "row": first},
        *_action(schema, first, {"action_id": "A1", "title": "Place du marché", **over}),
        # Below the last prepared row, now two rows further down.
        {"insert": "below", "row": last + 2},
        *_action(schema, last + 3, {"action_id": "A5", "title": "Médiathèque", **over}),
    ]
    rows = {TOP: first, BETWEEN: first + 2, AFTER: last + 3}
    cost = keys.index("cost")
    steps += [{"look": [r, cost], "as": name} for name, r in rows.items()]
    return steps, rows


@pytest.fixture(scope="module")
def typed(tmp_path_factory: pytest.TempPathFactory, schema: Schema, soffice: str,
          calc_python: str) -> tuple[Path, Path, dict[str, Any], dict[str, int]]:
    """(template, the workbook Calc saved, what Calc reported, the 0-based row of each inserted action)."""
    tmp = tmp_path_factory.mktemp("inserted")
    template = write_template(tmp / "modele.xlsx", schema, period="2025-T4")
    steps, rows = _plan(schema)
    saved = tmp / "saisi.xlsx"
    (report,) = type_in_calc(calc_python, soffice, french_profile(tmp / "profile"), [Job(template, saved, steps)])
    return template, saved, report, rows


@pytest.fixture(scope="module", params=ENGINES)
def recalculated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                 typed: tuple[Path, Path, dict[str, Any], dict[str, int]]) -> Sheets:
    """The typed workbook's values as LibreOffice computed them while typing, or as Gnumeric
    recomputes them (`ssconvert --recalc`)."""
    template, saved, _, _ = typed
    if request.param == "libreoffice":
        return Sheets(saved, template)
    tool = request.getfixturevalue("ssconvert")
    return recalculate(request.param, tool, [saved], tmp_path_factory.mktemp("inserted-gnumeric"))[saved.stem]


def test_inserted_rows_are_typed_into_under_protection(typed: tuple[Path, Path, dict[str, Any], dict[str, int]],
                                                       schema: Schema) -> None:
    """No typed cell was locked (Calc refuses to type into one under protection), the inserted rows
    have the columns' number formats, drop-downs and colours, and an ordinary height."""
    _, saved, report, rows = typed
    assert report["protected"] == {schema.table(ENGAGEMENTS).name: True}
    assert report["locked"] == []
    for name in rows:
        cell = report["cells"][name]
        assert not cell["locked"], name
        assert cell["validation"] == "DECIMAL" and cell["colours"] > 0, (name, cell)
        assert cell["visible"] and cell["height"] > 300, (name, cell)  # 1/100 mm: not a sliver
    # The amounts show the French way (a row inserted under the header took its General format).
    shown = {name: report["cells"][name]["shown"].translate(SPACES) for name in rows}
    assert shown == {TOP: "850 000 €", BETWEEN: "120 000 €", AFTER: "850 000 €"}
    ws = openpyxl.load_workbook(saved)[schema.table(ENGAGEMENTS).name]
    cost = schema.table(ENGAGEMENTS).keys.index("cost") + 1
    for name, r in rows.items():
        assert "€" in ws.cell(r + 1, cost).number_format and not ws.cell(r + 1, cost).protection.locked, name


@pytest.mark.gnumeric
def test_inserted_rows_are_counted_where_validate_reports_them(
        typed: tuple[Path, Path, dict[str, Any], dict[str, int]], recalculated: Sheets, schema: Schema) -> None:
    _, saved, _, rows = typed
    table = schema.table(ENGAGEMENTS)
    letter = {k: col_letter(i) for i, k in enumerate(table.keys)}
    issues = [i for i in validate_workbook(saved, schema).issues if i.sheet == table.name]
    cells = {code: sorted(i.cell or "" for i in issues if i.code == code)
             for code in (IssueCode.FINANCING_EXCEEDS_COST, IssueCode.REQUIRED_VALUE)}
    assert cells == {
        IssueCode.FINANCING_EXCEEDS_COST: sorted(f"{letter['cost']}{rows[r] + 1}" for r in (TOP, AFTER)),
        IssueCode.REQUIRED_VALUE: [f"{letter['title']}{rows[BETWEEN] + 1}"],
    }
    # Every count of Engagements in Contrôles equals what validate reports with its code there.
    grid = recalculated.grid(schema.controls_name)
    live: Counter[str] = Counter()
    for i, check in enumerate(live_checks(schema)):
        if check.sheet == ENGAGEMENTS:
            live[check.code] += int(grid[CONTROLS_FIRST_ROW + i][1])
    found = Counter(i.code for i in issues)
    assert live[IssueCode.FINANCING_EXCEEDS_COST] == 2 and live[IssueCode.REQUIRED_VALUE] == 1, live
    assert {code: live[code] for code in live} == {code: found[code] for code in live}
