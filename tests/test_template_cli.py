"""`pvd-report template` through click's CliRunner: success, and every bad input exits 2 in French."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from pvd_reporting.cli import cli

REFERENCE_ROW = "id_pvd,insee_com,lib_com,lib_reg,insee_dep,lib_dep,pop,siren_epci,lib_epci\n"


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["template", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def test_help_in_french_with_example() -> None:
    code, out, _ = run("--help")
    assert code == 0
    assert "Exemples" in out and "pvd-report template --territory" in out


def test_default_output_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run("--period", "T4 2025")
    assert code == 0 and "modele-pvd.xlsx" in out
    wb = openpyxl.load_workbook(tmp_path / "modele-pvd.xlsx")
    assert wb["Territoire"]["B7"].value == "2025-T4"


def test_territory_prefill(tmp_path: Path, reference_csv: Path) -> None:
    out_path = tmp_path / "lb.xlsx"
    code, out, _ = run("--territory", "PVD-44-67-1", "--reference", reference_csv, "-o", out_path)
    assert code == 0 and "La Broque" in out
    assert openpyxl.load_workbook(out_path)["Territoire"]["B6"].value == "246700306"


def test_region_writes_one_workbook_per_territory(grand_est_templates: tuple[int, str, Path],
                                                  reference_csv: Path) -> None:
    # With no --reference: the shipped list (the session fixture runs the command once).
    code, out, out_dir = grand_est_templates
    assert code == 0 and "99 classeurs" in out and "Liste de référence : ANCT" in out
    names = sorted(p.name for p in out_dir.iterdir())
    assert len(names) == 99 and "pvd-44-67-1-barembach-la-broque-rothau-schirmeck.xlsx" in names
    # A territory of several Villes PVD is named after all of them; too long, after its EPCI.
    assert "pvd-44-08-4-fumay-givet-revin-vireux-molhain.xlsx" in names
    assert "pvd-44-52-1-cc-meuse-rognon.xlsx" in names
    # A second run refuses to overwrite, and writes nothing.
    before = {p.name: p.stat().st_mtime_ns for p in out_dir.iterdir()}
    code, _, err = run("--region", "grand est", "--reference", reference_csv, "--output-dir", out_dir)
    assert code == 2 and "existe déjà" in err and "--force" in err
    assert {p.name: p.stat().st_mtime_ns for p in out_dir.iterdir()} == before


def test_territory_without_id_is_named_by_siren(tmp_path: Path) -> None:
    ref = tmp_path / "ref.csv"
    ref.write_text(REFERENCE_ROW + ",50003,Agon-Coutainville,Normandie,50,Manche,2791,200067023,CC Coutances\n",
                   encoding="utf-8")
    code, _, _ = run("--region", "Normandie", "--reference", ref, "--output-dir", tmp_path / "o")
    assert code == 0
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["agon-coutainville-200067023.xlsx"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--region", "Grand Est", "--reference", "liste.csv"), "--output-dir"),
        (("--period", "2025-T9"), "Période illisible"),
        (("--period", "demain"), "Période illisible"),
        (("-o", "modele.ods"), ".xlsx"),
        (("--output-dir", "x"), "--region"),
    ],
)
def test_bad_usage_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...],
                           message: str) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(*args)
    assert code == 2 and message in err and err.startswith("Erreur : ")
    assert not list(tmp_path.iterdir())


def test_the_shipped_list_is_the_default_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The ANCT list of 2021 ships with the package: --territory and --region need no option, and
    # the console names the list used.
    monkeypatch.chdir(tmp_path)
    code, out, err = run("--territory", "pvd-44-67-1", "-o", "lb.xlsx")
    assert code == 0, err
    assert out.splitlines() == ["Modèle écrit pour La Broque : lb.xlsx",
                                "Liste de référence : ANCT, programme Petites villes de demain, liste des "
                                "communes, 2021 (livrée avec pvd-report)"]
    assert openpyxl.load_workbook(tmp_path / "lb.xlsx")["Territoire"]["B6"].value == "246700306"


def test_unknown_territory(tmp_path: Path, reference_csv: Path) -> None:
    code, _, err = run("--territory", "pvd-44-67-999", "--reference", reference_csv, "-o", tmp_path / "x.xlsx")
    assert code == 2 and "pvd-44-67-999" in err and "absent" in err


def test_unknown_region_lists_known_ones(tmp_path: Path, reference_csv: Path) -> None:
    code, _, err = run("--region", "Gascogne", "--reference", reference_csv, "--output-dir", tmp_path / "o")
    assert code == 2 and "Gascogne" in err and "Grand Est" in err and "Bretagne" in err
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


def test_unreadable_reference(tmp_path: Path) -> None:
    code, _, err = run("--territory", "pvd-44-67-1", "--reference", tmp_path / "absent.csv", "-o", tmp_path / "x.xlsx")
    assert code == 2 and "illisible" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    code, _, err = run("--territory", "pvd-44-67-1", "--reference", bad, "-o", tmp_path / "x.xlsx")
    assert code == 2 and "insee_com" in err


def test_output_not_writable(tmp_path: Path) -> None:
    code, _, err = run("-o", tmp_path / "absent" / "m.xlsx")
    assert code == 2 and "introuvable" in err
    (tmp_path / "dir.xlsx").mkdir()
    code, _, err = run("-o", tmp_path / "dir.xlsx")
    assert code == 2 and "dossier" in err


def test_existing_output_needs_force(tmp_path: Path) -> None:
    target = tmp_path / "m.xlsx"
    assert run("-o", target)[0] == 0
    code, _, err = run("-o", target)
    assert code == 2 and "--force" in err
    assert run("-o", target, "--force")[0] == 0


def test_bad_config(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[region\n", encoding="utf-8")
    code, _, err = run("--config", cfg, "-o", tmp_path / "m.xlsx")
    assert code == 2 and "TOML" in err


def test_file_names_transliterate_and_name_every_ville_pvd() -> None:
    from pvd_reporting.outputs.workbook.template import file_name_of

    assert file_name_of("pvd-44-54-9", "Jœuf", None) == "pvd-44-54-9-joeuf.xlsx"
    assert file_name_of("pvd-44-57-1", "L'Hôpital", None) == "pvd-44-57-1-l-hopital.xlsx"
    assert file_name_of(None, "ŒUVRE Æther Straße", "200067783") == "oeuvre-aether-strasse-200067783.xlsx"
    towns = ["Bouxwiller", "Ingwiller"]
    assert file_name_of("pvd-44-67-3", "Bouxwiller", None, towns=towns) == "pvd-44-67-3-bouxwiller-ingwiller.xlsx"
    many = ["Andelot-Blancheville", "Doulaincourt-Saucourt", "Bourmont-entre-Meuse-et-Mouzon"]
    assert file_name_of("pvd-44-52-1", "Andelot", None, towns=many, epci="CC Meuse Rognon") == \
        "pvd-44-52-1-cc-meuse-rognon.xlsx"
