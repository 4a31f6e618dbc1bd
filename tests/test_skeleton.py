"""Workbooks filled into a skeleton are the workbooks the writer makes.

Each content is written twice, by the writer alone (`write_workbook`) and through the skeleton
(`write_fast`), and both are read back with openpyxl, another reader: every sheet's values,
number formats, fills, protection, drop-downs, live checks (conditional formats), frozen panes,
filters, widths and print settings must be the same. Contents: the blank template, the region's
pre-filled templates, carried-forward demo workbooks, the benchmark generator's workbooks, and
values of every kind (text with control characters and leading spaces, dates, numbers in text
columns, booleans).
"""

from __future__ import annotations

import sys
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
from python_calamine import CalamineWorkbook

from pvd_reporting.check.validate import validate_workbook
from pvd_reporting.format.issues import Severity
from pvd_reporting.format.reference import load_reference
from pvd_reporting.format.schema import Schema
from pvd_reporting.outputs.workbook import skeleton
from pvd_reporting.outputs.workbook.carry import carried_content
from pvd_reporting.outputs.workbook.template import filled_content, template_content
from pvd_reporting.outputs.workbook.writer import Content, Mark, write_workbook
from pvd_reporting.read.discover import discover_workbooks

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "workbooks"


def fingerprint(path: Path) -> dict[str, Any]:
    """What a person sees and what a program reads in the workbook, sheet by sheet."""
    wb = openpyxl.load_workbook(path)
    out: dict[str, Any] = {
        "sheets": wb.sheetnames,
        "names": sorted(str(n) for n in wb.defined_names),
        "custom": sorted((p.name, str(p.value)) for p in wb.custom_doc_props.props),
    }
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                value = cell.value
                if hasattr(value, "text"):  # an array formula: compared by its range and text
                    value = (value.ref, value.text)
                cells[cell.coordinate] = (
                    value, cell.number_format, cell.fill.fgColor.rgb, bool(cell.font.b),
                    cell.protection.locked, cell.comment.text if cell.comment else None,
                )
        out[ws.title] = {
            "cells": cells,
            "validations": sorted(
                (str(v.sqref), v.type, v.operator, v.formula1, v.formula2, v.errorStyle, v.prompt, v.promptTitle)
                for v in ws.data_validations.dataValidation),
            "conditional": sorted(
                (str(rng.sqref), rule.type, tuple(rule.formula or ()), rule.operator,
                 rule.dxf.fill.fgColor.rgb if rule.dxf and rule.dxf.fill else None)
                for rng in ws.conditional_formatting for rule in rng.rules),
            "merged": sorted(str(m) for m in ws.merged_cells.ranges),
            "frozen": ws.freeze_panes,
            "state": ws.sheet_state,
            "protected": ws.protection.sheet,
            "filter": ws.auto_filter.ref,
            "columns": sorted((k, d.width, d.style) for k, d in ws.column_dimensions.items()),
            "heights": sorted((k, d.height) for k, d in ws.row_dimensions.items() if d.height),
            "print": (ws.page_setup.orientation, ws.page_setup.paperSize, ws.print_title_rows),
        }
    return out


def both(tmp_path: Path, schema: Schema, content: Content, name: str) -> tuple[Path, Path]:
    slow = write_workbook(tmp_path / f"{name}-writer.xlsx", schema, content)
    fast = skeleton.write_fast(tmp_path / f"{name}-skeleton.xlsx", schema, content)
    return slow, fast


def assert_same(tmp_path: Path, schema: Schema, content: Content, name: str) -> None:
    assert skeleton.fill(schema, content) is not None, f"{name}: the skeleton should hold this content"
    slow, fast = both(tmp_path, schema, content, name)
    with zipfile.ZipFile(fast) as archive:  # a zip every tool reads: sizes and checksums right
        assert archive.testzip() is None
    a, b = fingerprint(slow), fingerprint(fast)
    for key in a:
        assert a[key] == b[key], f"{name}: {key} differs"


def test_blank_template_is_the_writers(tmp_path: Path, schema: Schema) -> None:
    assert_same(tmp_path, schema, template_content(schema), "blank")
    assert_same(tmp_path, schema, template_content(schema, period="2026-T1"), "period")


def test_region_templates_are_the_writers(tmp_path: Path, schema: Schema, reference_csv: Path) -> None:
    reference = load_reference(reference_csv)
    territories = reference.in_region(schema.config.region_name)
    signed = [t for t in territories if t.signed_on][:2]
    many = sorted(territories, key=lambda t: -len(t.communes))[:2]
    for i, territory in enumerate([territories[0], *signed, *many]):
        assert_same(tmp_path, schema, template_content(schema, period="2026-T1", territory=territory), f"t{i}")


def test_carried_demo_workbooks_are_the_writers(tmp_path: Path, schema: Schema) -> None:
    paths, _ = discover_workbooks([DEMO / "2025-T4"])
    held = 0
    for path in paths:
        report = validate_workbook(path, schema)
        if report.data is None:
            continue
        content = carried_content(schema, report.data, "2026-T1", report.issues)
        if skeleton.fill(schema, content) is None:
            # Flagged values or extra columns: the writer makes it, as before.
            assert content.marks or content.anomalies is not None
            continue
        held += 1
        assert_same(tmp_path, schema, content, path.stem)
    assert held >= 3


def test_generated_workbooks_are_the_writers(tmp_path: Path, schema: Schema) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import territory_data

    for i in (0, 7):
        content, _ = filled_content(schema, territory_data(schema, i, None))
        assert_same(tmp_path, schema, content, f"generated-{i}")


def test_values_of_every_kind(tmp_path: Path, schema: Schema) -> None:
    content = template_content(schema, period="2026-T1")
    content.form.update({"name": "  Saint-Dié <&> \x01 ", "siren": 200067783, "etp": 0.8,
                         "updated_on": datetime(2026, 1, 15, 10, 30), "id_pvd": "=1+1"})
    content.tables["jalons"][0]["done_on"] = date(2021, 3, 1)
    content.tables["jalons"][1]["comment"] = "-pas encore"
    content.tables["communes"] = [{"insee": "67049", "name": "Bouxwiller", "population": 4100.5, "role": "Ville PVD"}]
    content.tables["engagements"] = [{"action_id": 12, "title": "Halle", "in_ort": True, "cost": 1e6,
                                      "start_on": "32/13/2024"}]
    assert_same(tmp_path, schema, content, "kinds")


def test_escaped_text_reads_back_as_typed(tmp_path: Path, schema: Schema) -> None:
    # openpyxl does not undo `_x005F_` in inline strings: the product's reader (calamine) does.
    content = template_content(schema)
    content.form["name"] = "Saint-Dié _x0041_ \x02"
    slow, fast = both(tmp_path, schema, content, "escaped")
    read = [CalamineWorkbook.from_path(str(p)).get_sheet_by_name(schema.form.name).to_python() for p in (slow, fast)]
    assert read[0] == read[1]
    assert read[1][1][1] == "Saint-Dié _x0041_ \x02"


def test_what_a_skeleton_cannot_hold_goes_to_the_writer(tmp_path: Path, schema: Schema) -> None:
    flagged = template_content(schema)
    flagged.marks[(schema.form.key, 0, 1)] = Mark(Severity.WARNING, ["À vérifier"])
    assert skeleton.fill(schema, flagged) is None
    many = template_content(schema)
    table = schema.table("engagements")
    many.tables["engagements"] = [{"action_id": f"A{i}"} for i in range(table.blank_rows + 1)]
    assert skeleton.fill(schema, many) is None
    # Still written, by the writer, and the same as before.
    slow, fast = both(tmp_path, schema, many, "many")
    assert fingerprint(slow) == fingerprint(fast)

