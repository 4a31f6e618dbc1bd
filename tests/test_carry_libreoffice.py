"""A carried-forward workbook through LibreOffice: the date filled, saved as .xlsx and as .ods by
LibreOffice, then validated: no issue the source did not have."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest
from factory import baseline_rows, make_workbook
from test_carry import FIRST, carry, fill_update_date, form_cell, issue_keys
from test_template_libreoffice import convert

from pvd_reporting.check.validate import validate_workbook
from pvd_reporting.consolidate.filled import returned_untouched
from pvd_reporting.consolidate.reading import lighten
from pvd_reporting.format.schema import TABLE_KEYS, Schema
from pvd_reporting.outputs.workbook.carry import NOT_UNDERSTOOD

pytestmark = pytest.mark.libreoffice


def test_carried_workbook_saved_by_libreoffice_validates(tmp_path: Path, schema: Schema, soffice: str) -> None:
    rows = baseline_rows(schema)
    rows["engagements"][1]["end_on"] = "fin 2025"  # not understood: carried as typed, flagged
    src = make_workbook(tmp_path / "src" / "t3.xlsx", schema, rows=rows, territory={"period": "2025-T3"})
    carried = carry(src, tmp_path / "t4.xlsx", schema)
    assert form_cell(carried, schema, "updated_on").value is None
    filled = fill_update_date(carried, schema, date(2025, 12, 20), tmp_path / "rempli" / "t4.xlsx")
    xlsx_dir, ods_dir = tmp_path / "lo-xlsx", tmp_path / "lo-ods"
    convert(soffice, [filled], "xlsx", xlsx_dir)
    convert(soffice, [filled], "ods", ods_dir)
    expected = issue_keys(validate_workbook(src, schema))
    assert ("invalid-date", "Engagements", "Date de fin", "fin 2025") in expected
    source_rows = validate_workbook(src, schema).data
    for saved in (xlsx_dir / "t4.xlsx", ods_dir / "t4.ods"):
        report = validate_workbook(saved, schema)
        assert issue_keys(report) == expected, saved.name
        assert report.period == "2025-T4"
        for key in TABLE_KEYS:
            assert [r.values for r in report.data.tables[key]] == [r.values for r in source_rows.tables[key]]
    assert form_cell(xlsx_dir / "t4.xlsx", schema, "updated_on").value.date() == date(2025, 12, 20)
    # The flag survives LibreOffice's save too.
    ws = openpyxl.load_workbook(xlsx_dir / "t4.xlsx")[schema.table("engagements").name]
    cell = ws.cell(FIRST + 1, schema.table("engagements").keys.index("end_on") + 1)
    assert cell.value == "fin 2025" and NOT_UNDERSTOOD in cell.comment.text


def test_an_untouched_carried_workbook_saved_by_libreoffice_is_still_untouched(tmp_path: Path, schema: Schema,
                                                                               soffice: str) -> None:
    # Opened and saved without a change, in either format: the digest pvd-report recorded still
    # matches its data, so consolidation counts it « Non rempli »; the date filled in breaks it.
    src = make_workbook(tmp_path / "src" / "t3.xlsx", schema, territory={"period": "2025-T3"})
    carried = carry(src, tmp_path / "t4.xlsx", schema)
    filled = fill_update_date(carried, schema, date(2025, 12, 20), tmp_path / "rempli" / "t4.xlsx")
    convert(soffice, [carried], "xlsx", tmp_path / "lo-xlsx")
    convert(soffice, [carried], "ods", tmp_path / "lo-ods")
    for saved in (carried, tmp_path / "lo-xlsx" / "t4.xlsx", tmp_path / "lo-ods" / "t4.ods"):
        report = lighten(validate_workbook(saved, schema))
        assert report.data is not None and report.data.stamp is not None, saved
        assert returned_untouched(report.data, schema), saved
    report = lighten(validate_workbook(filled, schema))
    assert report.data is not None and not returned_untouched(report.data, schema)
