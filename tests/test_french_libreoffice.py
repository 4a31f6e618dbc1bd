"""What LibreOffice Calc set to French displays once it has saved a filled workbook, as .xlsx and
as .ods, then reopened it: amounts stay « 850 000 € », percents « 80 % », dates jj/mm/aaaa.

A bare space in a number format is read by a French Calc as its thousands separator: `#,##0 "€"`
became `#,##0,\\€` (thousands scaling, « 850€ ») and `0 %` became `0,%` (« 0% »). Three soffice
calls for the whole file, with one fresh fr-FR profile: save as .xlsx, save as .ods, export as displayed.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from engines import AS_SHOWN_CSV, french_profile, libreoffice
from test_template_filled import sample

from pvd_reporting.format.schema import FIRST_DATA_ROW, Schema
from pvd_reporting.outputs.workbook.template import write_filled, write_template

SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})


def _filled(folder: Path, schema: Schema) -> Path:
    """A filled workbook, its first action with amounts and dates of every display."""
    data = sample(schema)
    action = data.tables["engagements"][0].values
    action.update(cost=850_000.0, fin_1=340_000.0, fin_9=None, start_on=date(2024, 3, 1), end_on=date(2026, 6, 30))
    return write_filled(folder / "rempli.xlsx", schema, data)


def _typed(folder: Path, schema: Schema) -> Path:
    """The blank template with values typed as a person types them (no format of their own: the
    cell takes its column's)."""
    wb = openpyxl.load_workbook(write_template(folder / "modele.xlsx", schema, period="2025-T4"))
    table = schema.table("engagements")
    ws = wb[table.name]
    for r in TYPED_ROWS:
        ws.cell(r, table.keys.index("cost") + 1).value = 850_000
        ws.cell(r, table.keys.index("fin_1") + 1).value = 340_000
        # A date typed is a serial number in the cell (46096: 15/03/2026).
        ws.cell(r, table.keys.index("start_on") + 1).value = 46096
    contacts = schema.table("annuaire")
    wb[contacts.name].cell(3, contacts.keys.index("phone") + 1).value = 388123456
    form = wb[schema.form.name]
    form.cell([f.key for f in schema.form.fields].index("etp") + 1, 2).value = 0.8
    source = folder / "saisi.xlsx"
    wb.save(source)
    return source


@pytest.fixture(scope="module")
def calc(tmp_path_factory: pytest.TempPathFactory, schema: Schema, soffice: str) -> dict[str, Path]:
    """Both workbooks through one French Calc profile, each format in one soffice call: the filled
    one saved as .xlsx and as .ods, the typed one saved as .xlsx; then the two saved copies of the
    filled one and the typed one exported as Calc displays them, every sheet."""
    tmp = tmp_path_factory.mktemp("fr")
    profile = french_profile(tmp / "profile")
    (tmp / "src").mkdir()
    filled, typed = _filled(tmp / "src", schema), _typed(tmp / "src", schema)
    saved = {}
    for ext, files in (("xlsx", [filled, typed]), ("ods", [filled])):
        folder = tmp / ext
        folder.mkdir()
        saved[ext] = libreoffice(soffice, files, folder, to=ext, profile=profile)
    # Reopened: exported as Calc displays them.
    both = tmp / "both"
    both.mkdir()
    copies = [shutil.copy(saved["xlsx"][0], both / "saved-xlsx.xlsx"), shutil.copy(saved["ods"][0], both / "saved-ods.ods")]
    out = tmp / "csv"
    out.mkdir()
    libreoffice(soffice, [*map(Path, copies), typed], out, to=AS_SHOWN_CSV, profile=profile)
    return {"csv": out, "filled.xlsx": saved["xlsx"][0], "typed.xlsx": saved["xlsx"][1]}


@pytest.fixture(scope="module")
def shown(calc: dict[str, Path], schema: Schema) -> dict[str, dict[str, list[list[str]]]]:
    """Per saved format (xlsx, ods): sheet name -> rows of displayed text, after the round trip."""
    result: dict[str, dict[str, list[list[str]]]] = {"xlsx": {}, "ods": {}, "_saved": {}}
    for ext in ("xlsx", "ods"):
        for sheet in (schema.form.name, schema.table("engagements").name):
            text = (calc["csv"] / f"saved-{ext}-{sheet}.csv").read_text(encoding="utf-8").translate(SPACES)
            result[ext][sheet] = [line.split(";") for line in text.splitlines()]
    result["_saved"]["xlsx"] = [[str(calc["filled.xlsx"])]]
    return result


@pytest.mark.libreoffice
@pytest.mark.parametrize("ext", ["xlsx", "ods"])
def test_french_calc_keeps_what_was_typed(shown: dict[str, dict[str, list[list[str]]]], schema: Schema,
                                          ext: str) -> None:
    form = shown[ext][schema.form.name]
    etp = next(row[1] for row in form if row[0] == schema.form.field("etp").label)
    updated = next(row[1] for row in form if row[0] == schema.form.field("updated_on").label)
    assert etp == "80 %"
    assert updated == "10/12/2025"
    table = schema.table("engagements")
    rows = shown[ext][table.name]
    row = dict(zip(table.keys, rows[FIRST_DATA_ROW], strict=False))
    assert row["cost"].strip('"') == "850 000 €"
    assert row["fin_1"].strip('"') == "340 000 €"
    assert (row["start_on"], row["end_on"]) == ("01/03/2024", "30/06/2026")


@pytest.mark.libreoffice
def test_french_calc_saves_formats_excel_reads_the_same(shown: dict[str, dict[str, list[list[str]]]],
                                                        schema: Schema) -> None:
    """The codes Calc wrote in the .xlsx it saved: no thousands scaling, the percent still a percent."""
    wb = openpyxl.load_workbook(shown["_saved"]["xlsx"][0][0])
    table = schema.table("engagements")
    ws = wb[table.name]
    cost = ws.cell(FIRST_DATA_ROW + 1, table.keys.index("cost") + 1)
    assert cost.value == 850_000 and "€" in cost.number_format
    assert ",\\" not in cost.number_format and not cost.number_format.rstrip('"€ \\').endswith(",")
    form = wb[schema.form.name]
    etp = form.cell([f.key for f in schema.form.fields].index("etp") + 1, 2)
    assert etp.value == pytest.approx(0.8) and etp.number_format.replace("\\", "").replace(" ", "") == "0%"


# Rows typed into the blank template: the first prepared row, one far down, one past the prepared rows.
TYPED_ROWS = (FIRST_DATA_ROW + 1, 150, 230)


@pytest.fixture(scope="module")
def typed(calc: dict[str, Path]) -> tuple[Path, Path]:
    """The typed template as a French Calc displays it (a folder of CSV), and as it saved it."""
    return calc["csv"], calc["typed.xlsx"]


@pytest.mark.libreoffice
def test_typed_values_keep_their_display_in_every_row(typed: tuple[Path, Path], schema: Schema) -> None:
    """A row format would override the column formats: typed amounts would show « 850000 »."""
    folder, _ = typed
    table = schema.table("engagements")
    rows = (folder / f"saisi-{table.name}.csv").read_text(encoding="utf-8").translate(SPACES).splitlines()
    for r in TYPED_ROWS:
        row = dict(zip(table.keys, rows[r - 1].split(";"), strict=False))
        assert (row["cost"].strip('"'), row["fin_1"].strip('"'), row["start_on"]) == (
            "850 000 €", "340 000 €", "15/03/2026"), r
    form = (folder / f"saisi-{schema.form.name}.csv").read_text(encoding="utf-8").translate(SPACES).splitlines()
    etp = next(line.split(";")[1] for line in form if line.startswith(schema.form.field("etp").label))
    assert etp == "80 %"


@pytest.mark.libreoffice
def test_a_typed_phone_keeps_its_leading_zero(typed: tuple[Path, Path], schema: Schema) -> None:
    """A phone cell is text: what is typed in it (03 88…) is kept as typed, its 0 included."""
    _, saved = typed
    contacts = schema.table("annuaire")
    cell = openpyxl.load_workbook(saved)[contacts.name].cell(3, contacts.keys.index("phone") + 1)
    assert cell.number_format == "@"
