"""`pvd-report validate`: stdout, stderr and exit code together (csvkit style)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from factory import baseline_rows, cell_of, make_workbook

from pvd_reporting.check.validate import validate_paths
from pvd_reporting.cli import cli
from pvd_reporting.format.schema import Schema
from pvd_reporting.outputs.report import CSV_COLUMNS, CSV_HEADERS


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory, schema: Schema) -> Path:
    """`ok.xlsx` valid; `bad.xlsx` with 4 errors: two unreadable dates (one looking like a
    formula), financings above the cost, a duplicate action."""
    root = tmp_path_factory.mktemp("inbox")
    make_workbook(root / "ok.xlsx", schema)
    rows = [dict(r) for r in baseline_rows(schema)["engagements"]]
    rows[0]["start_on"] = "32/13/2024"
    rows[1]["cost"] = 40_000.0
    rows[2]["action_id"] = "A1"
    rows[3]["end_on"] = "@2026"
    make_workbook(root / "bad.xlsx", schema, rows={"engagements": rows})
    return root


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["validate", *args])
    assert "Traceback" not in result.output + result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_valid_workbook_exits_0(inbox: Path) -> None:
    code, out, _err = run(str(inbox / "ok.xlsx"))
    assert code == 0
    assert "✔ valide" in out
    assert "1 classeur contrôlé : 1 valide, 0 erreur, 0 avertissement" in out


def test_errors_exit_1_with_one_line_per_issue(inbox: Path, schema: Schema) -> None:
    path = inbox / "bad.xlsx"
    code, out, _err = run(str(path))
    assert code == 1
    start = cell_of(path, schema, "engagements", 0, "start_on")
    assert f"Engagements!{start} — Date illisible : « 32/13/2024 »" in out
    cost = cell_of(path, schema, "engagements", 1, "cost")
    assert f"Engagements!{cost} — Les financements (45 000 €) dépassent le coût total HT (40 000 €)" in out
    assert "✘ 4 erreurs" in out
    assert "\x1b[" not in out  # not a terminal: no colour


def test_folder_summary_and_exit_1(inbox: Path) -> None:
    code, out, _err = run(str(inbox))
    assert code == 1
    assert "2 classeurs contrôlés : 1 valide, 4 erreurs, 0 avertissement" in out


def test_json_equals_library_report(inbox: Path, schema: Schema) -> None:
    code, out, _err = run(str(inbox), "--format", "json")
    assert code == 1
    report, _notices = validate_paths([inbox], schema)
    assert json.loads(out) == report.to_dict()
    assert json.loads(out)["stats"] == {"workbooks": 2, "valid": 1, "errors": 4, "warnings": 0}


def test_csv_parses_back(inbox: Path) -> None:
    code, out, _err = run(str(inbox), "--format", "csv")
    assert code == 1
    assert out.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff")), delimiter=";"))
    assert tuple(rows[0]) == tuple(CSV_HEADERS[c] for c in CSV_COLUMNS)
    assert [r["Code"] for r in rows] == ["invalid-date", "financing-exceeds-cost", "duplicate-action", "invalid-date"]
    assert {r["Fichier"] for r in rows} == {str(inbox / "bad.xlsx")}
    assert rows[0]["Valeur"] == "32/13/2024" and rows[0]["Gravité"] == "Erreur"
    assert rows[3]["Valeur"] == "'@2026"  # never a formula in a spreadsheet


def test_no_path_is_a_usage_error() -> None:
    code, out, err = run()
    assert code == 2
    assert "Indiquez au moins un fichier" in out + err


def test_nothing_to_check_exits_2(tmp_path: Path) -> None:
    (tmp_path / "~$lock.xlsx").write_bytes(b"lock")
    (tmp_path / ".hidden.xlsx").write_bytes(b"hidden")
    code, out, err = run(str(tmp_path))
    assert code == 2
    assert out == ""
    assert "Aucun classeur à contrôler" in err
    assert "~$lock.xlsx" in err and ".hidden.xlsx" in err


def test_lock_and_hidden_files_are_notices_not_errors(tmp_path: Path, schema: Schema) -> None:
    make_workbook(tmp_path / "a.xlsx", schema)
    (tmp_path / "~$lock.xlsx").write_bytes(b"lock")
    (tmp_path / ".hidden.xlsx").write_bytes(b"hidden")
    code, out, err = run(str(tmp_path), "--format", "json")
    assert code == 0
    assert json.loads(out)["stats"]["workbooks"] == 1
    assert "~$lock.xlsx" in err and ".hidden.xlsx" in err


def test_missing_path_exits_2(tmp_path: Path) -> None:
    code, _out, err = run(str(tmp_path / "absent.xlsx"))
    assert code == 2
    assert "absent.xlsx" in err


def test_bad_config_exits_2(inbox: Path, tmp_path: Path) -> None:
    code, _out, err = run(str(inbox / "ok.xlsx"), "--config", str(tmp_path / "absent.toml"))
    assert code == 2
    assert "configuration" in err.lower()


def test_annotate_refuses_an_input_folder(inbox: Path) -> None:
    before = sorted(p.name for p in inbox.iterdir())
    code, _out, err = run(str(inbox), "--annotate", str(inbox))
    assert code == 2
    assert "dossier d'entrée" in err
    code, _out, err = run(str(inbox / "bad.xlsx"), "--annotate", str(inbox))
    assert code == 2
    code, _out, err = run(str(inbox.parent), "--annotate", str(inbox / "retours"))
    assert code == 2
    assert sorted(p.name for p in inbox.iterdir()) == before


def test_annotate_writes_one_workbook_per_file_with_issues(inbox: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "retours"
    code, _out, _err = run(str(inbox), "--annotate", str(out_dir), "--format", "json")
    assert code == 1
    assert sorted(p.name for p in out_dir.iterdir()) == ["bad-annotations.xlsx"]
    first = (out_dir / "bad-annotations.xlsx").read_bytes()
    code, _out, _err = run(str(inbox), "--annotate", str(out_dir), "--format", "json")
    assert sorted(p.name for p in out_dir.iterdir()) == ["bad-annotations-2.xlsx", "bad-annotations.xlsx"]
    assert (out_dir / "bad-annotations.xlsx").read_bytes() == first


def test_reference_list_warns_on_unknown_commune(tmp_path: Path, schema: Schema, reference_csv: Path) -> None:
    rows = [dict(r) for r in baseline_rows(schema)["communes"]]
    rows[1]["name"] = "Ingviller"
    path = make_workbook(tmp_path / "c.xlsx", schema, rows={"communes": rows})
    code, out, _err = run(str(path), "--reference", str(reference_csv), "--format", "json")
    assert code == 0  # a warning only
    issues = json.loads(out)["workbooks"][0]["issues"]
    assert [(i["code"], i["cell"]) for i in issues] == [
        ("unknown-commune", cell_of(path, schema, "communes", 1, "name"))
    ]


def test_unreadable_reference_exits_2(inbox: Path, tmp_path: Path) -> None:
    code, _out, err = run(str(inbox / "ok.xlsx"), "--reference", str(tmp_path / "absent.csv"))
    assert code == 2
    assert "référence" in err
