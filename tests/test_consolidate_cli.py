"""`pvd-report consolidate` end to end on generated workbooks (tests/factory.py)."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from factory import baseline_rows, make_workbook
from openpyxl import load_workbook

from pvd_reporting.cli import cli
from pvd_reporting.consolidate.reading import read_all
from pvd_reporting.format.schema import Schema


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def inbox(schema: Schema, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli") / "classeurs"
    jalons = baseline_rows(schema)["jalons"]
    signed = [dict(r, done_on=date(2025, 6, 30)) if r["code"] == "J8" else r for r in jalons]
    make_workbook(folder / "bouxwiller.xlsx", schema)
    make_workbook(folder / "bouxwiller-ancien.xlsx", schema, territory={"updated_on": date(2025, 11, 2)})
    make_workbook(folder / "autre.xlsx", schema, territory={"id_pvd": "pvd-44-67-5", "name": "Autre"},
                  rows={"jalons": signed})
    make_workbook(folder / "t3.xlsx", schema, territory={"id_pvd": "pvd-44-67-6", "period": "2025-T3"})
    (folder / "casse.xlsx").write_bytes(b"PK\x03\x04 ceci n'est pas un classeur")
    return folder


def _run(*args: str) -> Result:
    # Only what the test built is expected, unless it names a list (the shipped one is the default).
    own = () if "--reference" in args else ("--no-reference",)
    return CliRunner().invoke(cli, ["consolidate", *args, *own, "--quiet", "--no-images", "--workers", "1"])


def test_consolidate_writes_every_output_and_never_touches_the_input(inbox: Path, tmp_path: Path) -> None:
    before = _hashes(inbox)
    out = tmp_path / "sorties"
    result = _run(str(inbox), "--output-dir", str(out), "--as-of", "1 janvier 2026")
    assert result.exit_code == 0, result.output
    assert _hashes(inbox) == before
    names = {p.name for p in out.iterdir()}
    assert {"synthese-pvd-2025-T4.xlsx", "anomalies-2025-T4.json", "anomalies-2025-T4.csv"} <= names
    assert not [n for n in names if n.startswith(".")]
    text = result.output
    assert "Territoires reçus : 2" in text and "ORT signées : 1" in text and "à risque : 1" in text
    # --no-reference (added by _run): only the territories received are expected, no list named.
    assert "attendus" not in text and "Liste de référence" not in text
    assert "synthese-pvd-2025-T4.xlsx" in text
    wb = load_workbook(out / "synthese-pvd-2025-T4.xlsx")
    terr = wb["Territoires"]
    headers = [c.value for c in terr[1]]
    rows = [dict(zip(headers, r, strict=True)) for r in terr.iter_rows(min_row=2, values_only=True)]
    status = {r["Identifiant PVD"]: (r["Statut ORT"], r["Jours restants"]) for r in rows}
    # J1 01/10/2024 + 18 months = 01/04/2026: 90 days after 01/01/2026.
    assert status == {"pvd-44-67-3": ("À risque", 90), "pvd-44-67-5": ("ORT signée", None)}
    report = json.loads((out / "anomalies-2025-T4.json").read_text("utf-8"))
    codes = {Path(w["path"]).name: [i["code"] for i in w["issues"]] for w in report["workbooks"]}
    assert codes["bouxwiller-ancien.xlsx"][-1] == "duplicate-submission"
    assert "duplicate-submission" not in codes["bouxwiller.xlsx"]
    assert codes["t3.xlsx"] == []  # an earlier quarter: history of this one, not a mismatch
    assert codes["casse.xlsx"][0] in {"unreadable-file", "file-too-large"}
    assert report["stats"]["workbooks"] == 5


def test_the_shipped_list_is_the_default_reference(inbox: Path, tmp_path: Path) -> None:
    # With no option, the ANCT list of 2021 that ships with the package names the territories
    # expected (99 in Grand Est) and the console says which list it used.
    result = CliRunner().invoke(cli, ["consolidate", str(inbox), "-o", str(tmp_path / "o"), "--quiet",
                                      "--no-images", "--workers", "1"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1].startswith("  Territoires reçus : 2 sur 99 attendus") and "manquants : 97" in lines[1]
    assert lines[2] == ("  Liste de référence : ANCT, programme Petites villes de demain, liste des communes, "
                        "2021 (livrée avec pvd-report)")
    # --no-reference (see _run) excludes --reference.
    result = CliRunner().invoke(cli, ["consolidate", str(inbox), "-o", str(tmp_path / "x"), "--no-reference",
                                      "--reference", "liste.csv"])
    assert result.exit_code == 2 and "s'excluent" in result.output and not (tmp_path / "x").exists()


def test_default_as_of_is_the_end_of_the_quarter(inbox: Path, tmp_path: Path) -> None:
    result = _run(str(inbox), "-o", str(tmp_path / "o"))
    assert result.exit_code == 0
    assert "situation au 31/12/2025" in result.output
    wb = load_workbook(tmp_path / "o" / "synthese-pvd-2025-T4.xlsx")
    values = [r for r in wb["Territoires"].iter_rows(min_row=2, values_only=True) if r[0] == "pvd-44-67-3"]
    assert "Dans les temps" in values[0]  # 91 days left


def test_strict_exits_1_when_a_workbook_has_errors(inbox: Path, tmp_path: Path) -> None:
    assert _run(str(inbox), "-o", str(tmp_path / "o"), "--strict").exit_code == 1


def test_nothing_to_consolidate_exits_2(inbox: Path, tmp_path: Path) -> None:
    empty = tmp_path / "vide"
    empty.mkdir()
    result = _run(str(empty), "-o", str(tmp_path / "o"))
    assert result.exit_code == 2 and "Aucun classeur" in result.output
    result = _run(str(inbox), "-o", str(tmp_path / "o"), "--period", "2024-T1")
    assert result.exit_code == 2 and "2024-T1" in result.output
    result = _run(str(tmp_path / "absent"), "-o", str(tmp_path / "o"))
    assert result.exit_code == 2 and "introuvable" in result.output
    result = _run(str(inbox), "--as-of", "32/13/2025", "-o", str(tmp_path / "o"))
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_output_inside_the_input_folder_is_refused(inbox: Path) -> None:
    before = _hashes(inbox)
    result = _run(str(inbox), "-o", str(inbox / "sorties"))
    assert result.exit_code == 2, result.output
    assert "dossier de sortie" in result.output
    assert _hashes(inbox) == before and not (inbox / "sorties").exists()


def test_no_contacts_reaches_the_summary(inbox: Path, tmp_path: Path, schema: Schema) -> None:
    result = _run(str(inbox), "-o", str(tmp_path / "o"), "--no-contacts")
    assert result.exit_code == 0
    wb = load_workbook(tmp_path / "o" / "synthese-pvd-2025-T4.xlsx")
    text = " ".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row)
    contacts = baseline_rows(schema)["annuaire"]
    for contact in contacts:
        for key in ("name", "email", "phone"):
            assert str(contact[key]) not in text


def test_read_all_in_parallel_keeps_the_input_order(inbox: Path, schema: Schema) -> None:
    paths = sorted(inbox.glob("*.xlsx"))
    progress: list[int] = []
    parallel = read_all(paths, schema, workers=2, on_progress=progress.append)
    serial = read_all(paths, schema, workers=1)
    assert [r.path for r in parallel] == [str(p) for p in paths]
    assert [r.to_dict() for r in parallel] == [r.to_dict() for r in serial]
    assert sum(progress) == len(paths)
    assert parallel[0].data is None or parallel[0].path.endswith("autre.xlsx")


def test_atomic_write_leaves_nothing_behind_on_failure(tmp_path: Path) -> None:
    from pvd_reporting.atomic import atomic_write, atomic_write_text, prepare_output_dir
    from pvd_reporting.errors import OutputError

    target = atomic_write_text(tmp_path / "a.txt", "un")
    assert target.read_text("utf-8") == "un"

    def broken(tmp: Path) -> None:
        tmp.write_text("à moitié")
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError, match="Impossible d'écrire"):
        atomic_write(tmp_path / "a.txt", broken)
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    assert (tmp_path / "a.txt").read_text("utf-8") == "un"
    with pytest.raises(OutputError):
        prepare_output_dir(tmp_path, [tmp_path])
    blocker = tmp_path / "fichier"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="Impossible de créer"):
        prepare_output_dir(blocker / "sous-dossier")
