"""Every région out of the box: the 18 shipped configurations, `--region` on template, validate
and consolidate, and the région the workbooks name chosen when no option says."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factory import make_workbook
from python_calamine import CalamineWorkbook

from pvd_reporting.cli import cli
from pvd_reporting.errors import ConfigError
from pvd_reporting.format.config import (
    NATIONAL_CATEGORIES,
    REGIONS_FOLDER,
    default_config,
    known_labels,
    known_region,
    load_config,
    region_config,
    shipped_regions,
)
from pvd_reporting.format.matching import norm
from pvd_reporting.format.reference import REGIONS
from pvd_reporting.format.schema import build_schema, money_header

OVERSEAS = {"Guadeloupe", "Martinique", "Guyane", "La Réunion", "Mayotte"}
# Single local authorities (docs/national.md): the one column, and the category it stands for.
SINGLE = {"Corse": "Région", "Martinique": "Région", "Guyane": "Région", "Mayotte": "Département"}
LOCAL = ("Région", "Département")


def _shipped_financers() -> dict[str, list[dict[str, str]]]:
    folder = resources.files("pvd_reporting.format").joinpath(REGIONS_FOLDER)
    return {name: tomllib.loads(folder.joinpath(file).read_text("utf-8"))["financers"]
            for name, file in shipped_regions().items()}


def test_eighteen_regions_thirteen_metropolitan_five_overseas() -> None:
    names = list(shipped_regions())
    assert len(names) == 18 and set(names) == set(REGIONS.values())
    assert OVERSEAS <= set(names) and len(set(names) - OVERSEAS) == 13
    for name in names:
        config = region_config(name)
        assert config.region_name == name
        assert REGIONS[config.region_code] == name


@pytest.mark.parametrize("name", sorted(REGIONS.values()))
def test_each_region_has_one_column_per_category_it_needs(name: str) -> None:
    config = region_config(name)
    categories = list(config.financer_categories)
    assert len(categories) == len(config.financers)
    assert categories[0] == "État" and categories[-1] == "Autofinancement"
    assert set(categories) <= set(NATIONAL_CATEGORIES)
    # One column per category, all of them but the local authority a single one stands for.
    assert len(set(categories)) == len(categories)
    missing = set(NATIONAL_CATEGORIES) - set(categories)
    assert missing == ({c for c in LOCAL if c != SINGLE[name]} if name in SINGLE else set())
    # Labels unique, even without case or accents.
    assert len({norm(f) for f in config.financers}) == len(config.financers)
    # A région's own column is named after it; a single authority's column is not a « Région X ».
    region_column = config.financers[categories.index("Région")] if "Région" in categories else None
    if name in SINGLE:
        assert not any(f.startswith(f"Région {name}") or f == "Région" for f in config.financers)
        local = config.financers[categories.index(SINGLE[name])]
        assert name in local and local in config.lists["partenaire"]
        assert not {"Région", "Département"} & set(config.lists["partenaire"])
    else:
        assert region_column == f"Région {name}"
    headers = [f.label for f in build_schema(config).financer_fields]
    assert headers == [money_header(f) for f in config.financers] and all(h.endswith(" (€)") for h in headers)


def test_shipped_files_say_each_category_and_agree_on_labels() -> None:
    # A plain name is read by the labels these files declare: each must say its category, and
    # one label must mean one category in every file.
    seen: dict[str, str] = {}
    for name, financers in _shipped_financers().items():
        for item in financers:
            assert isinstance(item, dict) and set(item) == {"name", "category"}, (name, item)
            assert seen.setdefault(norm(item["name"]), item["category"]) == item["category"], (name, item)
    assert known_labels() == {**{norm(c): c for c in NATIONAL_CATEGORIES}, **seen}


def test_single_authorities_have_no_separate_region_or_departement() -> None:
    assert "Région Corse" not in region_config("Corse").financers
    assert "Région Martinique" not in region_config("Martinique").financers
    assert "Région Guyane" not in region_config("Guyane").financers
    assert "Région Mayotte" not in region_config("Mayotte").financers
    assert region_config("Mayotte").category("Département de Mayotte") == "Département"
    assert region_config("Corse").category("Collectivité de Corse") == "Région"
    # Alsace's European collectivity is a département's column, beside the Région's.
    grand_est = region_config("Grand Est")
    alsace = next(f for f in grand_est.financers if "Alsace" in f)
    assert grand_est.category(alsace) == "Département"
    with pytest.raises(KeyError):
        grand_est.category("Région Bretagne")


def test_grand_est_is_the_default_unchanged() -> None:
    shipped, default = region_config("Grand Est"), default_config()
    assert replace(shipped, source=default.source) == default
    assert default.fingerprint == shipped.fingerprint


def test_region_names_as_people_type_them() -> None:
    assert known_region("grand-est") == known_region("GRAND EST") == "Grand Est"
    assert known_region("provence alpes cote d'azur") == "Provence-Alpes-Côte d'Azur"
    paca = "Provence-Alpes-Côte d'Azur"
    assert [known_region(n) for n in ("PACA", "Région Sud", "Provence-Alpes-Côte d\u2019Azur", "93")] == [paca] * 4
    assert known_region("Réunion") == known_region("4") == "La Réunion"
    assert known_region("44") == known_region("Région Grand Est") == "Grand Est"
    assert known_region("45") is None
    assert region_config("PACA").region_name == paca
    assert known_region("Atlantide") is None
    with pytest.raises(ConfigError, match="Région inconnue : « Atlantide ».*Bretagne"):
        region_config("Atlantide")


def test_config_overlays_the_region(tmp_path: Path) -> None:
    path = tmp_path / "bretagne.toml"
    path.write_text("[rules]\nat_risk_days = 60\n", encoding="utf-8")
    config = load_config(path, "Bretagne")
    assert config.at_risk_days == 60 and config.financers[1] == "Région Bretagne"
    assert config.category("Région Bretagne") == "Région"


def _headers(path: Path, sheet: str) -> list[str]:
    wb = CalamineWorkbook.from_path(str(path))
    return [str(h) for h in wb.get_sheet_by_name(sheet).to_python()[0] if h]


def _cells(path: Path) -> dict[str, list[list[Any]]]:
    wb = CalamineWorkbook.from_path(str(path))
    return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}


def test_template_region_writes_the_regions_columns(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["template", "--region", "bourgogne-franche-comte", "-o", str(tmp_path / "bfc.xlsx")])
    assert result.exit_code == 0, result.output
    headers = _headers(tmp_path / "bfc.xlsx", "Engagements")
    assert "Région Bourgogne-Franche-Comté (€)" in headers and "Région Grand Est (€)" not in headers
    # Grand Est, named or not, is the same workbook.
    assert runner.invoke(cli, ["template", "-o", str(tmp_path / "a.xlsx")]).exit_code == 0
    assert runner.invoke(cli, ["template", "--region", "Grand Est", "-o", str(tmp_path / "b.xlsx")]).exit_code == 0
    assert _cells(tmp_path / "a.xlsx") == _cells(tmp_path / "b.xlsx")
    result = runner.invoke(cli, ["template", "--region", "Atlantide", "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 2 and "Région inconnue" in result.output


def test_template_region_without_id_pvd_groups_by_epci(tmp_path: Path, reference_csv: Path) -> None:
    out = tmp_path / "bretagne"
    result = CliRunner().invoke(cli, ["template", "--region", "Bretagne", "--reference", str(reference_csv),
                                      "--output-dir", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    files = sorted(out.iterdir())
    assert len(files) == 50  # 50 EPCI for Bretagne's communes without id_pvd
    auray = out / "auray-quiberon-200043123.xlsx"  # named after all its Villes PVD
    form = {row[0]: row[1] for row in _cells(auray)["Territoire"] if row and row[0]}
    assert form["Identifiant PVD"] == "" and form["SIREN de l'EPCI"] == "200043123"
    assert form["Région"] == "Bretagne"
    communes = [row[0] for row in _cells(auray)["Communes"][1:] if row and row[0]]
    assert communes == ["56007", "56186"]  # the two PVD communes of that EPCI, one territory
    assert "Région Bretagne (€)" in _headers(auray, "Engagements")


def test_validate_and_consolidate_read_the_region_the_workbooks_name(tmp_path: Path) -> None:
    bretagne = build_schema(region_config("Bretagne"))
    folder = tmp_path / "classeurs"
    folder.mkdir()
    make_workbook(folder / "auray.xlsx", bretagne, territory={
        "id_pvd": None, "name": "Auray", "department": "56", "siren": "200043123",
        "epci": "CC Auray Quiberon Terre Atlantique"})
    runner = CliRunner()
    result = runner.invoke(cli, ["validate", str(folder / "auray.xlsx"), "--format", "json"])
    assert "missing-column" not in result.output and "unknown-column" not in result.output, result.output
    # Told another région, its financer columns are not the workbook's: they are not read.
    result = runner.invoke(cli, ["validate", str(folder / "auray.xlsx"), "--region", "Grand Est", "--format", "json"])
    assert "unknown-column" in result.output and "Colonne « Région Bretagne (€) » inconnue" in result.output
    out = tmp_path / "sorties"
    result = runner.invoke(cli, ["consolidate", str(folder), "-o", str(out), "--no-images", "--no-cache", "-q"])
    assert result.exit_code == 0, result.output
    assert "Consolidation Bretagne" in result.output
    assert "Région Bretagne (€)" in _headers(out / "synthese-pvd-2025-T4.xlsx", "Engagements")


def test_carry_forward_keeps_the_region_the_workbook_names(tmp_path: Path) -> None:
    bretagne = build_schema(region_config("Bretagne"))
    source = make_workbook(tmp_path / "auray.xlsx", bretagne, territory={
        "id_pvd": None, "name": "Auray", "department": "56", "siren": "200043123"})
    result = CliRunner().invoke(cli, ["template", "--from", str(source), "-o", str(tmp_path / "auray-2026-T1.xlsx")])
    assert result.exit_code == 0, result.output
    assert "Région Bretagne (€)" in _headers(tmp_path / "auray-2026-T1.xlsx", "Engagements")
    rows = _cells(tmp_path / "auray-2026-T1.xlsx")["Engagements"]
    header = rows[0].index("Région Bretagne (€)")
    assert sum(r[header] or 0 for r in rows[1:] if isinstance(r[header], float)) == 450_000  # carried, not lost
