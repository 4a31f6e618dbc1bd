"""A carried-forward workbook through LibreOffice: the date filled, saved as .xlsx and as .ods by
LibreOffice, then validated: no issue the source did not have. Both tests' workbooks go through
LibreOffice together: one soffice call per format."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class Carried:
    src: Path  # last quarter's workbook
    carried: Path  # carried forward, untouched
    filled: Path  # carried forward, its update date typed


def _carried(folder: Path, schema: Schema, rows: dict | None = None) -> Carried:
    src = make_workbook(folder / "src" / "t3.xlsx", schema, rows=rows, territory={"period": "2025-T3"})
    carried = carry(src, folder / "t4.xlsx", schema)
    filled = fill_update_date(carried, schema, date(2025, 12, 20), folder / "rempli" / "t4.xlsx")
    return Carried(src, carried, filled)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory, schema: Schema, soffice: str) -> dict[str, Any]:
    """The workbooks of both tests, and each one saved by LibreOffice: `name.xlsx` and `name.ods`."""
    rows = baseline_rows(schema)
    rows["engagements"][1]["end_on"] = "fin 2025"  # not understood: carried as typed, flagged
    flagged = _carried(tmp_path_factory.mktemp("flagged"), schema, rows)
    untouched = _carried(tmp_path_factory.mktemp("untouched"), schema)
    sent = tmp_path_factory.mktemp("to-libreoffice")
    # The file LibreOffice saves, by the name its copies get.
    files = [shutil.copy(flagged.filled, sent / "rempli.xlsx"), shutil.copy(untouched.carried, sent / "reconduit.xlsx")]
    out: dict[str, Any] = {"flagged": flagged, "untouched": untouched}
    for ext in ("xlsx", "ods"):
        folder = tmp_path_factory.mktemp(f"lo-{ext}")
        convert(soffice, [Path(f) for f in files], ext, folder)
        for f in files:
            out[f"{Path(f).stem}.{ext}"] = folder / f"{Path(f).stem}.{ext}"
    return out


def test_carried_workbook_saved_by_libreoffice_validates(saved: dict[str, Any], schema: Schema) -> None:
    flagged: Carried = saved["flagged"]
    src = flagged.src
    assert form_cell(flagged.carried, schema, "updated_on").value is None
    expected = issue_keys(validate_workbook(src, schema))
    assert ("invalid-date", "Engagements", "Date de fin", "fin 2025") in expected
    source_rows = validate_workbook(src, schema).data
    for path in (saved["rempli.xlsx"], saved["rempli.ods"]):
        report = validate_workbook(path, schema)
        assert issue_keys(report) == expected, path.name
        assert report.period == "2025-T4"
        for key in TABLE_KEYS:
            assert [r.values for r in report.data.tables[key]] == [r.values for r in source_rows.tables[key]]
    assert form_cell(saved["rempli.xlsx"], schema, "updated_on").value.date() == date(2025, 12, 20)
    # The flag survives LibreOffice's save too.
    ws = openpyxl.load_workbook(saved["rempli.xlsx"])[schema.table("engagements").name]
    cell = ws.cell(FIRST + 1, schema.table("engagements").keys.index("end_on") + 1)
    assert cell.value == "fin 2025" and NOT_UNDERSTOOD in cell.comment.text


def test_an_untouched_carried_workbook_saved_by_libreoffice_is_still_untouched(saved: dict[str, Any],
                                                                               schema: Schema) -> None:
    # Opened and saved without a change, in either format: the digest pvd-report recorded still
    # matches its data, so consolidation counts it « Non rempli »; the date filled in breaks it.
    untouched: Carried = saved["untouched"]
    for path in (untouched.carried, saved["reconduit.xlsx"], saved["reconduit.ods"]):
        report = lighten(validate_workbook(path, schema))
        assert report.data is not None and report.data.stamp is not None, path
        assert returned_untouched(report.data, schema), path
    report = lighten(validate_workbook(untouched.filled, schema))
    assert report.data is not None and not returned_untouched(report.data, schema)
