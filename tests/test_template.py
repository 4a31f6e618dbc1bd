"""The template workbook, re-read with openpyxl (never with the writer)."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.dimensions import ColumnDimension
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineWorkbook

from pvd_reporting.errors import OutputError
from pvd_reporting.format.config import load_config
from pvd_reporting.format.reference import load_reference
from pvd_reporting.format.schema import (
    FIRST_DATA_ROW,
    SPACER_ROW,
    VERSION_LABEL,
    VERSION_PROPERTY,
    Kind,
    Schema,
    build_schema,
)
from pvd_reporting.outputs.workbook.template import write_template
from pvd_reporting.pipeline.template import run_template


@pytest.fixture(scope="module")
def blank(tmp_path_factory: pytest.TempPathFactory, schema: Schema) -> openpyxl.Workbook:
    path = write_template(tmp_path_factory.mktemp("tpl") / "modele.xlsx", schema, period="2025-T4")
    return openpyxl.load_workbook(path)


def _validations(ws: Worksheet) -> dict[str, list[DataValidation]]:
    """Column letter -> data validations covering row 2 of that column."""
    out: dict[str, list[DataValidation]] = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            if rng.min_row <= 2 <= rng.max_row:
                for col in range(rng.min_col, rng.max_col + 1):
                    out.setdefault(get_column_letter(col), []).append(dv)
    return out


def _dim(ws: Worksheet, col: int) -> ColumnDimension:
    """The column dimension covering a column (openpyxl groups equal neighbours)."""
    for dim in ws.column_dimensions.values():
        if dim.min is not None and dim.min <= col <= (dim.max or dim.min):
            return dim
    raise AssertionError(f"no column dimension covers column {col} of {ws.title}")
    raise AssertionError(f"pas de format pour la colonne {col}")


def test_sheets_in_order_and_lists_hidden(blank, schema: Schema) -> None:
    assert blank.sheetnames == list(schema.sheet_names)
    states = {ws.title: ws.sheet_state for ws in blank.worksheets}
    assert states[schema.lists_name] == "hidden"
    assert all(state == "visible" for name, state in states.items() if name != schema.lists_name)


def test_headers_match_schema(blank, schema: Schema) -> None:
    for table in schema.tables:
        ws = blank[table.name]
        assert [c.value for c in ws[1]][: len(table.columns)] == [f.label for f in table.columns]
    form = blank[schema.form.name]
    assert [form.cell(i + 1, 1).value for i in range(len(schema.form.fields))] == [
        f.label for f in schema.form.fields
    ]


def test_lists_sheet_holds_every_list(blank, schema: Schema) -> None:
    ws = blank[schema.lists_name]
    for c, (key, values) in enumerate(schema.lists.items(), start=1):
        assert ws.cell(1, c).value == key
        assert [ws.cell(r, c).value for r in range(2, len(values) + 2)] == list(values)


def test_jalons_fixed_rows(blank, schema: Schema) -> None:
    ws = blank[schema.table("jalons").name]
    first = FIRST_DATA_ROW + 1
    rows = [(ws.cell(r, 1).value, ws.cell(r, 2).value) for r in range(first, first + 8)]
    assert rows == list(schema.table("jalons").fixed_rows)
    assert [r[0] for r in rows] == [f"J{i}" for i in range(1, 9)]
    assert ws.cell(first, 1).protection.locked and ws.cell(first + 7, 2).protection.locked


def test_dropdowns_read_the_lists_sheet(blank, schema: Schema) -> None:
    for table in schema.tables:
        by_col = _validations(blank[table.name])
        for c, fld in enumerate(table.columns, start=1):
            if fld.kind not in (Kind.CHOICE, Kind.YESNO):
                continue
            lists = [dv for dv in by_col.get(get_column_letter(c), []) if dv.type == "list"]
            assert lists, f"{table.name}.{fld.label} sans liste déroulante"
            formula = lists[0].formula1.lstrip("=")
            assert formula.startswith(f"{schema.lists_name}!$"), formula
            assert '"' not in formula  # never an inline list
    form = blank[schema.form.name]
    for r, fld in enumerate(schema.form.fields, start=1):
        found = [dv for dv in form.data_validations.dataValidation if f"B{r}" in dv.sqref]
        if fld.kind == Kind.CHOICE:
            assert found[0].type == "list"
            assert found[0].formula1.lstrip("=").startswith(f"{schema.lists_name}!$")


def test_every_input_column_has_an_input_message(blank, schema: Schema) -> None:
    for table in schema.tables:
        by_col = _validations(blank[table.name])
        for c, fld in enumerate(table.columns, start=1):
            if table.fixed_rows and fld.key in ("code", "label"):
                continue
            prompts = [dv for dv in by_col.get(get_column_letter(c), []) if dv.prompt]
            assert prompts and prompts[0].prompt == fld.help
            assert len(prompts[0].promptTitle) <= 32
    ws = blank[schema.form.name]
    covered = {r for dv in ws.data_validations.dataValidation if dv.prompt
               for rng in dv.sqref.ranges for r in range(rng.min_row, rng.max_row + 1)}
    assert covered == set(range(1, len(schema.form.fields) + 1))


def test_date_columns_have_date_validation(blank, schema: Schema) -> None:
    ws = blank["Engagements"]
    col = get_column_letter(schema.table("engagements").keys.index("start_on") + 1)
    assert any(dv.type == "date" for dv in _validations(ws)[col])


def test_freeze_protection_and_locking(blank, schema: Schema) -> None:
    for table in schema.tables:
        ws = blank[table.name]
        assert ws.freeze_panes == "A2"
        assert ws.protection.sheet is True
        # In OOXML these flags say what is *forbidden*: False means allowed.
        assert ws.protection.insertRows is False
        assert ws.protection.sort is False and ws.protection.autoFilter is False
        assert ws.protection.formatCells is False
        assert ws.cell(1, 1).protection.locked is True
        for c, fld in enumerate(table.columns, start=1):
            if table.fixed_rows and fld.key in ("code", "label"):
                continue
            dim = _dim(ws, c)
            assert dim.protection.locked is False, f"{table.name}.{fld.label}"
            assert dim.width == pytest.approx(fld.width, abs=1)
    ws = blank[schema.form.name]
    assert ws.cell(1, 2).protection.locked is False
    assert ws.cell(1, 1).protection.locked is True


def test_a_hidden_spacer_under_each_header_where_every_check_starts(blank, schema: Schema) -> None:
    """A row inserted above the first data row takes the format of the row above it: the spacer's
    (no cell, no row format: the columns' unlocked formats), never the header's; and it lands inside
    every drop-down, colour and Contrôles range, which all begin on the spacer."""
    spacer = SPACER_ROW + 1
    refs = re.compile(r"\$[A-Z]+\$(\d+):\$[A-Z]+\$\d+")
    for table in schema.tables:
        ws = blank[table.name]
        dim = ws.row_dimensions[spacer]
        assert dim.hidden and not dim.customFormat, table.name
        assert not any(cell.value is not None or cell.has_style for cell in ws[spacer]), table.name
        starts = {rng.min_row for dv in ws.data_validations.dataValidation for rng in dv.sqref.ranges}
        assert starts == {spacer}, table.name
        # Colours: from the spacer; a check of the first data row alone (J1's date) or of the rows
        # after it (jalons in order) from there.
        starts = {rng.min_row for cf in ws.conditional_formatting for rng in cf.sqref.ranges}
        assert spacer in starts and starts <= {spacer, FIRST_DATA_ROW + 1, FIRST_DATA_ROW + 2}, table.name
        if not table.fixed_rows:
            assert ws.auto_filter.ref.startswith("A1:"), table.name
    controls = blank[schema.controls_name]
    # Each range a count reads begins on the spacer, or on the first data row for a check of that row.
    counted = {int(m) for row in controls.iter_rows(min_col=2, max_col=2) for c in row
               if isinstance(c.value, ArrayFormula) for m in refs.findall(c.value.text or "")}
    assert spacer in counted and counted <= {spacer, FIRST_DATA_ROW + 1}


def test_number_formats_by_kind(blank, schema: Schema) -> None:
    for table in schema.tables:
        ws = blank[table.name]
        for c, fld in enumerate(table.columns, start=1):
            fmt = _dim(ws, c).number_format
            if fld.kind == Kind.DATE:
                assert fmt == "dd/mm/yyyy"
            elif fld.kind == Kind.AMOUNT:
                assert "€" in fmt and "#,##0" in fmt
            elif fld.kind == Kind.INSEE:
                assert fmt == "@"  # keeps the leading zero of 08105
    form = blank[schema.form.name]
    row = [f.key for f in schema.form.fields].index("updated_on") + 1
    assert form.cell(row, 2).number_format == "dd/mm/yyyy"


def test_version_and_period_stamped(blank, schema: Schema) -> None:
    ws = blank[schema.readme_name]
    pairs = {row[0].value: row[1].value for row in ws.iter_rows(max_col=2) if row[0].value}
    assert pairs[VERSION_LABEL] == schema.version
    assert pairs[schema.form.field("period").label] == "2025-T4"
    props = {p.name: p.value for p in blank.custom_doc_props.props}
    assert props[VERSION_PROPERTY] == schema.version
    text = " ".join(str(row[1].value) for row in ws.iter_rows(max_col=2) if row[1].value)
    for table in schema.tables:
        assert table.purpose in text
    assert "jj/mm/aaaa" in text and "DDT" in text
    form = blank[schema.form.name]
    row = [f.key for f in schema.form.fields].index("period") + 1
    assert form.cell(row, 2).value == "2025-T4"


def test_blank_without_period(tmp_path: Path, schema: Schema) -> None:
    wb = openpyxl.load_workbook(write_template(tmp_path / "m.xlsx", schema))
    labels = [row[0].value for row in wb[schema.readme_name].iter_rows(max_col=1)]
    assert schema.form.field("period").label not in labels
    assert all(wb[schema.form.name].cell(r, 2).value is None for r in range(1, 15))


def test_prefill_from_reference(tmp_path: Path, schema: Schema, reference_csv: Path) -> None:
    territory = load_reference(reference_csv).by_id("pvd-44-67-1")
    assert territory is not None
    wb = openpyxl.load_workbook(write_template(tmp_path / "lb.xlsx", schema, territory=territory))
    form = wb[schema.form.name]
    values = {form.cell(r, 1).value: form.cell(r, 2).value for r in range(1, len(schema.form.fields) + 1)}
    assert values["Identifiant PVD"] == "pvd-44-67-1"
    assert values["Nom du territoire"] == "La Broque"
    assert values["SIREN de l'EPCI"] == "246700306"
    assert values["EPCI"] == "CC de la Vallée de la Bruche"
    assert values["Département"] == "67" and values["Région"] == "Grand Est"
    ws = wb["Communes"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2, max_col=4) if row[0].value]
    assert sorted(r[1] for r in rows) == ["Barembach", "La Broque", "Rothau", "Schirmeck"]
    assert all(r[3] == "Ville PVD" for r in rows)
    assert {r[0] for r in rows} == {"67020", "67066", "67414", "67448"}


def test_existing_file_needs_force(tmp_path: Path, schema: Schema) -> None:
    path = write_template(tmp_path / "m.xlsx", schema)
    with pytest.raises(OutputError, match="existe déjà"):
        write_template(path, schema)
    write_template(path, schema, force=True)
    assert [p.name for p in tmp_path.iterdir()] == ["m.xlsx"]  # no temporary file left


def test_missing_folder_is_an_output_error(tmp_path: Path, schema: Schema) -> None:
    with pytest.raises(OutputError, match="introuvable"):
        write_template(tmp_path / "absent" / "m.xlsx", schema)


def test_lisez_moi_gives_the_referent_address_from_the_configuration(tmp_path: Path) -> None:
    toml = tmp_path / "region.toml"
    toml.write_text('[relances]\nsender = "pvd@grand-est.gouv.example"\n', encoding="utf-8")
    schema = build_schema(load_config(toml))
    path = write_template(tmp_path / "modele.xlsx", schema)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(schema.readme_name).to_python()
    pairs = [[c for c in r if c != ""][:2] for r in rows]
    assert ["Adresse du référent", "pvd@grand-est.gouv.example"] in pairs
    # The date limite: [relances] delay_days (30 by default) after the quarter's last day.
    dated = write_template(tmp_path / "periode.xlsx", schema, period="2025-T4")
    rows = CalamineWorkbook.from_path(str(dated)).get_sheet_by_name(schema.readme_name).to_python()
    pairs = [[c for c in r if c != ""][:2] for r in rows]
    assert ["À envoyer avant le", "30/01/2026"] in pairs and ["Période de suivi", "2025-T4"] in pairs
    assert any("pvd@grand-est.gouv.example, avant le 30/01/2026." in str(r) for r in rows)
    plain = write_template(tmp_path / "sans.xlsx", build_schema(load_config(None)))
    text = str(CalamineWorkbook.from_path(str(plain)).get_sheet_by_name(schema.readme_name).to_python())
    assert "Adresse du référent" not in text


def test_lisez_moi_names_the_referent_and_template_warns_without_one(tmp_path: Path) -> None:
    toml = tmp_path / "region.toml"
    toml.write_text('[relances]\nsender = "Claire Dupont <pvd@grand-est.gouv.example>"\n', encoding="utf-8")
    path = write_template(tmp_path / "modele.xlsx", build_schema(load_config(toml)))
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Lisez-moi").to_python()
    pairs = [[c for c in r if c != ""][:2] for r in rows]
    assert ["Référent", "Claire Dupont"] in pairs and ["Adresse du référent", "pvd@grand-est.gouv.example"] in pairs
    named = run_template(output=tmp_path / "nomme.xlsx", config_path=toml)
    assert named.notices == []
    # No sender in the configuration: the workbook cannot say who to send it to, and template says so.
    plain = run_template(output=tmp_path / "sans.xlsx")
    assert len(plain.notices) == 1 and "ne nomme pas de référent ([relances] sender)" in plain.notices[0]
