"""Workbooks saved by LibreOffice (.ods, .xls, recalculated .xlsx) read like the original (docs/format-1.md)."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from factory import baseline_rows, make_workbook

from pvd_reporting.format.schema import Schema
from pvd_reporting.read.workbook import read_version_property, read_workbook

pytestmark = pytest.mark.libreoffice


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory, schema: Schema, soffice: str) -> dict[str, Path]:
    """The baseline as .ods and .xls, and a workbook of formulas recalculated by LibreOffice.

    One soffice process per target format, run side by side, each with its own profile.
    """
    work = tmp_path_factory.mktemp("lo")
    base = make_workbook(work / "base.xlsx", schema)
    rows = baseline_rows(schema)["engagements"]
    for number, row in enumerate(rows, start=2):
        row["cost"] = f"=SUM(K{number}:S{number})"
    (work / "src").mkdir()
    formulas = make_workbook(work / "src" / "formules.xlsx", schema, rows={"engagements": rows})
    jobs = [("ods", base, work / "ods"), ("xls", base, work / "xls"), ("xlsx", formulas, work / "calc")]
    procs = []
    for target, source, outdir in jobs:
        profile = (work / f"profile-{uuid.uuid4().hex}").as_uri()
        procs.append(subprocess.Popen(
            [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", target,
             "--outdir", str(outdir), str(source)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for proc in procs:
        proc.wait(timeout=120)
    out = {"xlsx": base, "ods": work / "ods" / "base.ods", "xls": work / "xls" / "base.xls",
           "formulas": work / "calc" / "formules.xlsx"}
    for path in out.values():
        assert path.exists(), f"LibreOffice did not write {path}"
    return out


@pytest.mark.parametrize("kind", ["ods", "xls"])
def test_same_values_as_xlsx(converted: dict[str, Path], schema: Schema, kind: str) -> None:
    expected, expected_issues = read_workbook(converted["xlsx"], schema)
    got, issues = read_workbook(converted[kind], schema)
    assert expected_issues == [] and issues == []
    assert expected is not None and got is not None
    assert got.territory.values == expected.territory.values
    assert got.territory.cells == expected.territory.cells
    for key, records in expected.tables.items():
        assert [r.values for r in got.tables[key]] == [r.values for r in records], key
        assert [r.cells for r in got.tables[key]] == [r.cells for r in records], key
    assert got.version == schema.version


def test_ods_keeps_version_property(converted: dict[str, Path], schema: Schema) -> None:
    assert read_version_property(converted["ods"]) == schema.version


def test_formulas_read_as_values(converted: dict[str, Path], schema: Schema) -> None:
    data, issues = read_workbook(converted["formulas"], schema)
    assert issues == [] and data is not None
    money = [f.key for f in schema.financer_fields]
    records = data.tables["engagements"]
    assert len(records) == 4
    for record in records:
        assert isinstance(record.values["cost"], float)
        assert record.values["cost"] == sum(record.values[k] or 0 for k in money)
    assert records[0].values["cost"] == 1_200_000.0
