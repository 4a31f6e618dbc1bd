"""Carry-forward (`template --from`): last quarter's workbook becomes next quarter's, nothing lost.

Sources are built with openpyxl (tests/factory.py), the carried workbooks written by the
project's xlsxwriter writer, and read back with openpyxl (another reader) and with the reader.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from factory import baseline_rows, make_workbook

from pvd_reporting.check.validate import validate_workbook
from pvd_reporting.cli import cli
from pvd_reporting.consolidate.batch import consolidate
from pvd_reporting.format.issues import WorkbookReport
from pvd_reporting.format.matching import norm
from pvd_reporting.format.schema import FIRST_DATA_ROW, TABLE_KEYS, VERSION_LABEL, Schema
from pvd_reporting.outputs.workbook.carry import NOT_UNDERSTOOD, next_period, write_carried
from pvd_reporting.read.safety import OLE_MAGIC

SOURCE_PERIOD, NEXT = "2025-T3", "2025-T4"

# The 1-based first data row of a table pvd-report writes (a factory workbook's is 2).
FIRST = FIRST_DATA_ROW + 1


def source(path: Path, schema: Schema, **territory: Any) -> Path:
    """A valid workbook of 2025-T3 (sent late, on 15/12/2025): a comité every quarter up to T4."""
    return make_workbook(path, schema, territory={"period": SOURCE_PERIOD, **territory})


def carry(src: Path, out: Path, schema: Schema, period: str = NEXT) -> Path:
    report = validate_workbook(src, schema)
    assert report.data is not None
    return write_carried(out, schema, report.data, period, issues=report.issues)


def form_cell(path: Path, schema: Schema, key: str) -> openpyxl.cell.Cell:
    wb = openpyxl.load_workbook(path)
    ws = wb[schema.form.name]
    label = norm(schema.form.field(key).label)
    row = next(r for r in ws.iter_rows(min_col=1, max_col=2) if norm(r[0].value) == label)
    return row[1]


def fill_update_date(path: Path, schema: Schema, day: date, out: Path | None = None) -> Path:
    """What the chef de projet does: type the date of the update, save (openpyxl, not our writer)."""
    wb = openpyxl.load_workbook(path)
    ws = wb[schema.form.name]
    label = norm(schema.form.field("updated_on").label)
    row = next(r for r in ws.iter_rows(min_col=1, max_col=2) if norm(r[0].value) == label)
    row[1].value = datetime(day.year, day.month, day.day)
    row[1].number_format = "DD/MM/YYYY"
    target = out or path
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return target


def issue_keys(report: WorkbookReport) -> set[tuple[str, str | None, str | None, object]]:
    # The column, not the cell: the factory's Territoire has a title row, the template none.
    return {(i.code, i.sheet, i.column, i.value) for i in report.issues}


def test_next_period() -> None:
    assert next_period("2025-T3") == "2025-T4"
    assert next_period("2025-T4") == "2026-T1"


def test_every_sheet_carried_period_set_update_blank_version_stamped(tmp_path: Path, schema: Schema) -> None:
    src = source(tmp_path / "t3.xlsx", schema)
    out = carry(src, tmp_path / "t4.xlsx", schema)
    assert form_cell(out, schema, "period").value == NEXT
    assert form_cell(out, schema, "updated_on").value is None
    assert form_cell(out, schema, "project_lead").value == "Claire Muller"
    wb = openpyxl.load_workbook(out)
    readme = {r[0].value: r[1].value for r in wb[schema.readme_name].iter_rows(max_col=2) if r[0].value}
    assert readme[VERSION_LABEL] == schema.version
    before, after = validate_workbook(src, schema).data, validate_workbook(out, schema).data
    for key in TABLE_KEYS:
        assert [r.values for r in after.tables[key]] == [r.values for r in before.tables[key]], key
    # Jalons with their dates and comments, read by another reader than the writer's.
    jalons = wb[schema.table("jalons").name]
    assert jalons[f"D{FIRST + 4}"].value == datetime(2025, 11, 20)  # J5 realised
    comites = wb[schema.table("comites").name]
    assert comites.max_row - FIRST_DATA_ROW == len(baseline_rows(schema)["comites"])


def test_value_not_understood_is_carried_as_typed_and_flagged(tmp_path: Path, schema: Schema) -> None:
    rows = baseline_rows(schema)
    rows["engagements"][0]["start_on"] = "32/13/2024"
    rows["annuaire"][2]["phone"] = "03 88 91"
    src = make_workbook(tmp_path / "t3.xlsx", schema, rows=rows,
                        territory={"period": SOURCE_PERIOD, "etp": "à temps plein", "chair": "Le maire"})
    out = carry(src, tmp_path / "t4.xlsx", schema)
    wb = openpyxl.load_workbook(out)
    eng = wb[schema.table("engagements").name]
    start = eng.cell(FIRST, schema.table("engagements").keys.index("start_on") + 1)
    assert start.value == "32/13/2024"
    assert start.comment is not None and start.comment.text == NOT_UNDERSTOOD
    phone = wb[schema.table("annuaire").name].cell(FIRST + 2, schema.table("annuaire").keys.index("phone") + 1)
    assert phone.value == "03 88 91" and phone.comment.text == NOT_UNDERSTOOD
    for key, typed in (("etp", "à temps plein"), ("chair", "Le maire")):
        cell = form_cell(out, schema, key)
        assert cell.value == typed and cell.comment.text == NOT_UNDERSTOOD
    # A value that was understood has no comment.
    assert eng.cell(FIRST, 1).comment is None
    # And the same issues are found again: nothing was silently dropped.
    filled = fill_update_date(out, schema, date(2025, 12, 20))
    assert issue_keys(validate_workbook(filled, schema)) == issue_keys(validate_workbook(src, schema))


def test_round_trip_validates_with_no_new_issue(tmp_path: Path, schema: Schema) -> None:
    src = source(tmp_path / "t3.xlsx", schema)
    assert validate_workbook(src, schema).issues == []
    out = carry(src, tmp_path / "t4.xlsx", schema)
    blank = validate_workbook(out, schema)
    assert [(i.code, i.cell) for i in blank.issues] == [("required-value", form_cell(out, schema, "updated_on").coordinate)]
    filled = fill_update_date(out, schema, date(2025, 12, 20))
    assert validate_workbook(filled, schema).issues == []


def test_consolidating_the_carried_workbook_gives_the_same_figures_and_rows(tmp_path: Path, schema: Schema) -> None:
    # The history of several quarters (Changements) is not on this branch: the same regional
    # figures and the same rows, at the same reference date, say there is no change but the period.
    src = source(tmp_path / "t3" / "t.xlsx", schema)
    out = fill_update_date(carry(src, tmp_path / "t4.xlsx", schema), schema, date(2025, 12, 20))
    as_of = date(2025, 12, 31)
    old = consolidate([validate_workbook(src, schema)], schema, as_of=as_of)
    new = consolidate([validate_workbook(out, schema)], schema, as_of=as_of)
    assert (old.region.period, new.region.period) == (SOURCE_PERIOD, NEXT)
    assert dataclasses.replace(new.region, period=SOURCE_PERIOD) == old.region
    skip = {"report", "contacts"}
    for a, b in zip(old.territories, new.territories, strict=True):
        assert {f.name: getattr(a, f.name) for f in dataclasses.fields(a) if f.name not in skip} == \
               {f.name: getattr(b, f.name) for f in dataclasses.fields(b) if f.name not in skip}
    for key in TABLE_KEYS:
        assert [r.values for _, r in new.rows[key]] == [r.values for _, r in old.rows[key]], key


def older_shape(path: Path, schema: Schema) -> Path:
    """A workbook of an earlier template: Ingénierie without « Échéance souhaitée », the Annuaire's
    « Téléphone » headed « Tél. », an « Observations » column the format never had, a note under
    no header, no version."""
    ing = [k for k in schema.table("ingenierie").keys if k != "wanted_by"]
    eng = [*schema.table("engagements").keys, "Observations"]
    make_workbook(path, schema, territory={"period": SOURCE_PERIOD}, version=None,
                  columns={"ingenierie": ing, "engagements": eng})
    wb = openpyxl.load_workbook(path)
    ann = wb[schema.table("annuaire").name]
    phone_col = schema.table("annuaire").keys.index("phone") + 1
    assert ann.cell(1, phone_col).value == schema.table("annuaire").column("phone").label
    ann.cell(1, phone_col).value = "Tél."
    ws = wb[schema.table("engagements").name]
    obs = len(eng)
    ws.cell(2, obs).value = "Subvention DSIL notifiée en juin"
    ws.cell(4, obs).value = "À confirmer"
    # A note typed beside the Comités table, under no header.
    wb[schema.table("comites").name].cell(3, len(schema.table("comites").columns) + 2).value = "voir le compte rendu"
    wb.save(path)
    return path


def test_older_format_carried_into_the_current_one_by_header(tmp_path: Path, schema: Schema) -> None:
    src = older_shape(tmp_path / "ancien.xlsx", schema)
    codes = {i.code for i in validate_workbook(src, schema).issues}
    assert {"template-version", "missing-column", "unknown-column", "unlabelled-value"} <= codes
    out = fill_update_date(carry(src, tmp_path / "t4.xlsx", schema), schema, date(2025, 12, 20))
    wb = openpyxl.load_workbook(out)
    for table in schema.tables:
        header = [c.value for c in wb[table.name][1]]
        assert header[: len(table.columns)] == [f.label for f in table.columns], table.name
    ann = wb[schema.table("annuaire").name]
    assert ann.cell(FIRST, schema.table("annuaire").keys.index("phone") + 1).value == "03 88 71 31 79"
    # The column the format does not know is kept, beside the others, each value on its row.
    eng = wb[schema.table("engagements").name]
    extra = len(schema.table("engagements").columns) + 1
    assert [eng.cell(r, extra).value for r in (1, FIRST, FIRST + 1, FIRST + 2)] == [
        "Observations", "Subvention DSIL notifiée en juin", None, "À confirmer"]
    # So is the value typed under no header, on its row, under the letter of its column.
    com = wb[schema.table("comites").name]
    beside = len(schema.table("comites").columns) + 1
    assert (com.cell(1, beside).value, com.cell(FIRST + 1, beside).value) == ("Sans en-tête (H)", "voir le compte rendu")
    report = validate_workbook(out, schema)
    assert {(i.code, i.value) for i in report.issues} == {("unknown-column", "Observations"),
                                                          ("unknown-column", "Sans en-tête (H)")}


# --- the command ---------------------------------------------------------------------------------


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["template", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture()
def inbox(tmp_path: Path, schema: Schema) -> Path:
    folder = tmp_path / "recus"
    source(folder / "bouxwiller.xlsx", schema, region="GRAND-EST")
    source(folder / "bouxwiller-ancien.xlsx", schema, updated_on=date(2025, 10, 2), project_lead="Ancien nom")
    make_workbook(folder / "t2" / "autre.xlsx", schema,
                  territory={"id_pvd": "pvd-44-67-5", "name": "Saint-Éloi", "period": "2025-T2",
                             "updated_on": date(2025, 7, 1)})
    make_workbook(folder / "bretagne.xlsx", schema, territory={"id_pvd": "pvd-53-29-1", "region": "Bretagne"})
    (folder / "chiffre.xlsx").write_bytes(OLE_MAGIC + bytes(1024))
    (folder / "casse.xlsx").write_bytes(b"PK\x03\x04 ceci n'est pas un classeur")
    return folder


def test_from_folder_carries_each_territory_and_reports_the_others(inbox: Path, tmp_path: Path,
                                                                   schema: Schema) -> None:
    out = tmp_path / "modeles"
    code, stdout, stderr = run("--from", inbox, "--output-dir", out, "--quiet")
    assert code == 0, stderr
    assert stdout.strip() == f"Période {NEXT} : 2 classeurs reconduits — {out}"
    assert sorted(p.name for p in out.iterdir()) == ["pvd-44-67-3-bouxwiller-ingwiller.xlsx",
                                                     "pvd-44-67-5-saint-eloi.xlsx"]
    assert "bouxwiller-ancien.xlsx : même territoire que" in stderr and "bouxwiller.xlsx" in stderr
    assert "le plus récent (2025-T3, mis à jour le 15/12/2025)" in stderr
    assert "bretagne.xlsx : écarté, classeur de la région « Bretagne »" in stderr
    assert "chiffre.xlsx : écarté" in stderr and "casse.xlsx : écarté" in stderr
    # The later workbook won; every carried one is for the quarter after the latest found.
    assert form_cell(out / "pvd-44-67-3-bouxwiller-ingwiller.xlsx", schema, "project_lead").value == "Claire Muller"
    assert form_cell(out / "pvd-44-67-5-saint-eloi.xlsx", schema, "period").value == NEXT


def test_no_overwrite_without_force(inbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "modeles"
    assert run("--from", inbox, "--output-dir", out, "--quiet")[0] == 0
    target = out / "pvd-44-67-5-saint-eloi.xlsx"
    target.write_bytes(b"mon travail")
    code, _, stderr = run("--from", inbox, "--output-dir", out, "--quiet")
    assert code == 2 and "existe déjà" in stderr and "--force" in stderr
    assert target.read_bytes() == b"mon travail"
    code, _, _ = run("--from", inbox, "--output-dir", out, "--quiet", "--force")
    assert code == 0 and target.read_bytes().startswith(b"PK")


def test_one_workbook_to_one_file_with_a_period(tmp_path: Path, schema: Schema) -> None:
    src = source(tmp_path / "t3.xlsx", schema)
    code, stdout, _ = run("--from", src, "-o", tmp_path / "t1.xlsx", "--period", "T1 2026")
    assert code == 0 and "Période 2026-T1 : 1 classeur reconduit" in stdout
    assert form_cell(tmp_path / "t1.xlsx", schema, "period").value == "2026-T1"


def test_a_folder_of_one_territory_to_one_file(tmp_path: Path, schema: Schema) -> None:
    """`--from FOLDER -o FILE`: a folder holding one territory's workbook is one territory."""
    folder = tmp_path / "recus"
    folder.mkdir()
    source(folder / "t3.xlsx", schema)
    code, stdout, stderr = run("--from", folder, "-o", tmp_path / "t1.xlsx", "--period", "2026-T1")
    assert code == 0, stderr
    assert "Période 2026-T1 : 1 classeur reconduit" in stdout
    assert form_cell(tmp_path / "t1.xlsx", schema, "period").value == "2026-T1"


@pytest.mark.parametrize("args, message", [
    (("-o", "x.xlsx"), "-o FICHIER ne sert que pour un seul territoire ; 2 territoires à reconduire"),
    ((), "ajoutez --output-dir DOSSIER"),
    (("--region", "Grand Est"), "ajoutez --output-dir DOSSIER"),
    (("--territory", "pvd-44-67-1"), "--from et --territory s'excluent"),
])
def test_bad_usage_exits_2_in_french(inbox: Path, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    code, _, stderr = run("--from", inbox, *args)
    assert code == 2 and message in stderr


def test_paths_go_with_from(inbox: Path) -> None:
    code, _, stderr = run(inbox, "--output-dir", "x")
    assert code == 2 and "ne servent qu'avec --from" in stderr
    code, _, stderr = run("--from", "--output-dir", "x")
    assert code == 2 and "--from demande au moins un classeur" in stderr


def test_several_paths_after_from(inbox: Path, tmp_path: Path) -> None:
    code, stdout, _ = run("--from", inbox / "bouxwiller.xlsx", inbox / "t2", "--output-dir", tmp_path / "m", "-q")
    assert code == 0 and "2 classeurs reconduits" in stdout


def test_never_writes_into_the_sources(inbox: Path) -> None:
    code, _, stderr = run("--from", inbox, "--output-dir", inbox / "t2", "--force")
    assert code == 2 and "dossier d'entrée" in stderr


def test_region_completed_with_prefilled_workbooks(inbox: Path, tmp_path: Path, reference_csv: Path,
                                                   schema: Schema) -> None:
    out = tmp_path / "modeles"
    code, stdout, stderr = run("--from", inbox / "bouxwiller.xlsx", "--output-dir", out, "--quiet",
                               "--reference", reference_csv, "--region", "Grand Est")
    assert code == 0, stderr
    names = sorted(p.name for p in out.iterdir())
    # Named after both its Villes PVD, as --region names it (not after the most populous one).
    assert len(names) == 99 and "pvd-44-67-3-bouxwiller-ingwiller.xlsx" in names
    assert "1 classeur reconduit, 98 pré-remplis depuis la liste de référence" in stdout
    carried = next(n for n in names if n.startswith("pvd-44-67-3-"))
    assert form_cell(out / carried, schema, "project_lead").value == "Claire Muller"
    other = out / "pvd-44-67-1-barembach-la-broque-rothau-schirmeck.xlsx"
    assert form_cell(other, schema, "period").value == NEXT
    assert form_cell(other, schema, "project_lead").value is None


def test_a_source_later_than_the_period_asked_is_not_carried(inbox: Path, tmp_path: Path) -> None:
    code, stdout, stderr = run("--from", inbox, "--output-dir", tmp_path / "m", "--period", "2025-T2", "-q")
    assert code == 0, stderr
    assert "bouxwiller.xlsx : période 2025-T3 postérieure à 2025-T2, non reconduit." in stderr
    assert "Période 2025-T2 : 1 classeur reconduit" in stdout
    assert [p.name for p in (tmp_path / "m").iterdir()] == ["pvd-44-67-5-saint-eloi.xlsx"]


def test_nothing_to_carry_exits_2(inbox: Path, tmp_path: Path) -> None:
    code, stdout, stderr = run("--from", inbox / "chiffre.xlsx", "-o", tmp_path / "x.xlsx")
    assert code == 2 and "Aucun classeur reconduit" in stderr and "chiffré" in stderr
    assert not (tmp_path / "x.xlsx").exists() and stdout == ""
