"""LibreOffice round trip: xlsx -> ods -> xlsx keeps sheets, headers and drop-downs; the reader
reads the .ods as it reads the .xlsx. One soffice call per direction, for all files at once."""

from __future__ import annotations

import subprocess
from pathlib import Path

import openpyxl
import pytest
from conftest import lo_profile
from test_template_filled import data_values, sample

from pvd_reporting.format.schema import VERSION_LABEL, Kind, Schema
from pvd_reporting.outputs.workbook.template import write_filled, write_template
from pvd_reporting.read.workbook import read_workbook

pytestmark = pytest.mark.libreoffice


def convert(soffice: str, files: list[Path], to: str, out_dir: Path) -> None:
    profile = lo_profile()
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", to,
         "--outdir", str(out_dir), *map(str, files)],
        check=True, capture_output=True, timeout=180,
    )


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory: pytest.TempPathFactory, schema: Schema, soffice: str) -> dict[str, Path]:
    src = tmp_path_factory.mktemp("src")
    ods_dir, back_dir = tmp_path_factory.mktemp("ods"), tmp_path_factory.mktemp("back")
    template = write_template(src / "modele.xlsx", schema, period="2025-T4")
    filled = write_filled(src / "rempli.xlsx", schema, sample(schema))
    convert(soffice, [template, filled], "ods", ods_dir)
    ods = [ods_dir / "modele.ods", ods_dir / "rempli.ods"]
    convert(soffice, ods, "xlsx", back_dir)
    return {"ods": ods_dir / "rempli.ods", "template": back_dir / "modele.xlsx", "filled": back_dir / "rempli.xlsx"}


def test_sheets_and_headers_kept(round_trip: dict[str, Path], schema: Schema) -> None:
    wb = openpyxl.load_workbook(round_trip["template"])
    assert wb.sheetnames == list(schema.sheet_names)
    assert wb[schema.lists_name].sheet_state == "hidden"
    for table in schema.tables:
        assert [c.value for c in wb[table.name][1]][: len(table.columns)] == [f.label for f in table.columns]
    readme = {r[0].value: r[1].value for r in wb[schema.readme_name].iter_rows(max_col=2) if r[0].value}
    assert readme[VERSION_LABEL] == schema.version


def test_dropdowns_kept(round_trip: dict[str, Path], schema: Schema) -> None:
    wb = openpyxl.load_workbook(round_trip["template"])
    for table in schema.tables:
        ws = wb[table.name]
        lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
        wanted = [f for f in table.columns if f.kind in (Kind.CHOICE, Kind.YESNO)]
        assert len(lists) >= len(wanted), table.name
        assert all(schema.lists_name in (dv.formula1 or "") for dv in lists)
        assert any(dv.prompt for dv in ws.data_validations.dataValidation)
        assert ws.protection.sheet


def test_reader_reads_the_ods_like_the_xlsx(round_trip: dict[str, Path], schema: Schema) -> None:
    for path in (round_trip["ods"], round_trip["filled"]):
        data, issues = read_workbook(path, schema)
        assert data is not None and not [i for i in issues if i.severity == "error"], issues
        assert data_values(data) == data_values(sample(schema))
