"""Configuration (README, Configuration): the embedded default, a user's overlay, and a French error naming the key."""

from __future__ import annotations

import ast
import tomllib
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner

import pvd_reporting
from pvd_reporting.cli import cli
from pvd_reporting.errors import ConfigError
from pvd_reporting.format.config import (
    CATEGORIES_FILE,
    COMMON_FILE,
    DEFAULT_REGION,
    NATIONAL_CATEGORIES,
    REGIONS_FOLDER,
    default_config,
    known_labels,
    load_config,
    shipped_regions,
)
from pvd_reporting.format.matching import norm
from pvd_reporting.format.schema import build_schema


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "region.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_is_grand_est_with_the_convention_financers() -> None:
    config = default_config()
    assert config.region_name == "Grand Est"
    assert config.region_code == "44"
    assert config.ort_deadline_months == 18
    assert config.at_risk_days == 90
    assert config.cofinancing_min_etp == 80
    assert config.population_limit == 20000
    assert config.financers[0] == "État (DETR, DSIL, FNADT, Fonds vert)"
    assert config.financers[-1] == "Autofinancement"
    assert len(config.financers) == 9


def test_overlay_keeps_what_it_does_not_say(tmp_path: Path) -> None:
    path = write(tmp_path, '[region]\nname = "Bretagne"\ncode = "53"\n'
                           'financers = ["État", "Région Bretagne", "Autofinancement"]\n')
    # `financers` above falls inside [region]: a TOML subtlety users hit; it is reported.
    with pytest.raises(ConfigError, match="region"):
        load_config(path)
    path = write(tmp_path, 'financers = ["État", "Région Bretagne", "Autofinancement"]\n'
                           '[region]\nname = "Bretagne"\ncode = "53"\n[rules]\nat_risk_days = 60\n')
    config = load_config(path)
    assert config.region_name == "Bretagne"
    assert config.at_risk_days == 60
    assert config.ort_deadline_months == 18
    headers = [c.label for c in build_schema(config).table("engagements").columns]
    assert "Région Bretagne (€)" in headers
    assert "Région Grand Est (€)" not in headers


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[rules]\nat_risk_days = -3\n", "rules.at_risk_days"),
        ("[rules]\nat_risk_day = 30\n", "rules.at_risk_day"),
        ('[rules]\nort_deadline_months = "dix-huit"\n', "rules.ort_deadline_months"),
        ("[rules]\ncofinancing_min_etp = 120\n", "rules.cofinancing_min_etp"),
        ('[lists]\nstatut_action = ["Prévue", "Faite"]\n', "lists.statut_action"),
        ('[lists]\nthematique = []\n', "lists.thematique"),
        ('[lists]\ncouleurs = ["bleu"]\n', "lists.couleurs"),
        ('[region]\ncode = "GE"\n', "region.code"),
        ('financers = ["ANAH", "anah"]\n', "financers"),
        ("[autre]\nx = 1\n", "autre"),
    ],
)
def test_invalid_configuration_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert key in str(info.value)
    assert str(info.value).startswith("Configuration")


def test_unreadable_configuration(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="introuvable"):
        load_config(tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match="TOML invalide"):
        load_config(write(tmp_path, "[region\nname = 1"))


def test_fingerprint_changes_with_settings(tmp_path: Path) -> None:
    other = load_config(write(tmp_path, "[rules]\nat_risk_days = 60\n"))
    assert other.fingerprint != default_config().fingerprint
    assert default_config().fingerprint == default_config().fingerprint


def _strings(value: object) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*map(_strings, value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*map(_strings, value)) if value else set()
    return set()


def test_grand_est_content_lives_in_one_file() -> None:
    folder = resources.files("pvd_reporting.format")
    shipped = {f"{REGIONS_FOLDER}/{e.name}": e for e in folder.joinpath(REGIONS_FOLDER).iterdir()}
    shipped |= {e.name: e for e in folder.iterdir() if e.name.endswith(".toml")}
    values = {path: _strings(tomllib.loads(e.read_text("utf-8"))) for path, e in shipped.items()
              if path.endswith(".toml")}
    grand_est = f"{REGIONS_FOLDER}/{shipped_regions()[DEFAULT_REGION]}"
    # What Grand Est says that no other région says: its name, its Région's and Alsace's columns.
    own = values[grand_est] - set().union(*(v for p, v in values.items() if p != grand_est))
    assert {"Grand Est", "Région Grand Est", "Département / Collectivité européenne d'Alsace"} <= own
    assert not (folder / "default_config.toml").is_file()
    # The default is that file over the common settings, nothing else.
    default = default_config()
    assert default.region_name == DEFAULT_REGION and default.raw == load_config(None, DEFAULT_REGION).raw
    common = tomllib.loads(folder.joinpath(COMMON_FILE).read_text("utf-8"))
    own_file = tomllib.loads(shipped[grand_est].read_text("utf-8"))
    assert default.raw == {**common, **own_file, "lists": {**common["lists"], **own_file["lists"]}}


def test_national_categories_come_from_their_file() -> None:
    text = resources.files("pvd_reporting.format").joinpath(CATEGORIES_FILE).read_text("utf-8")
    assert NATIONAL_CATEGORIES == tuple(tomllib.loads(text)["categories"])
    # No module lists them again.
    for source in Path(pvd_reporting.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text("utf-8"))):
            if isinstance(node, ast.Tuple | ast.List | ast.Set):
                named = [e.value for e in node.elts if isinstance(e, ast.Constant) and e.value in NATIONAL_CATEGORIES]
                assert len(named) < 3, (source, named)


def test_financer_with_a_known_label_or_a_category_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, 'financers = ["État", "Région Bretagne", "fonds europeens", '
                           '{ name = "Fonds vert", category = "État" }, "Autofinancement"]\n')
    config = load_config(path, "Bretagne")
    assert config.financers == ("État", "Région Bretagne", "fonds europeens", "Fonds vert", "Autofinancement")
    assert config.financer_categories == ("État", "Région", "Europe", "État", "Autofinancement")


@pytest.mark.parametrize("financer", ["Fonds vert", "FEDER", "Conseil départemental", "Mécène local"])
def test_financer_without_a_category_is_refused(tmp_path: Path, financer: str) -> None:
    # No guess: « Fonds vert » is the État's, « Mécène local » another's; the user says which.
    path = write(tmp_path, f'financers = ["État", "{financer}", "Autofinancement"]\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith("Configuration : la colonne de financeur « " + financer + " »")
    assert f'{{ name = "{financer}", category = "…" }}' in message
    assert all(f"« {c} »" in message for c in NATIONAL_CATEGORIES)
    path = write(tmp_path, f'financers = [{{ name = "{financer}", category = "Mécénat" }}]\n')
    with pytest.raises(ConfigError, match=f"« financers.category » de la colonne « {financer} ».*« Autofinancement »"):
        load_config(path)


def test_cli_refuses_a_config_with_a_financer_without_category(tmp_path: Path) -> None:
    path = write(tmp_path, 'financers = ["État", "Fonds vert", "Autofinancement"]\n')
    result = CliRunner().invoke(cli, ["template", "--config", str(path), "-o", str(tmp_path / "m.xlsx")])
    assert result.exit_code == 2
    assert "la colonne de financeur « Fonds vert » n'a pas de catégorie nationale" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert not (tmp_path / "m.xlsx").exists()


def test_the_configuration_doc_says_what_the_code_does(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "configuration.md").read_text("utf-8")
    example = doc.split("```toml\n")[1].split("```")[0]
    config = load_config(write(tmp_path, example), "Bretagne")
    assert config.financer_categories == ("État", "État", "Région", "Département", "Autres", "Autofinancement")
    refusal = doc.split("```text\n")[1].split("\n```")[0]
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, 'financers = ["Fonds vert"]\n'))
    assert str(info.value) == refusal
    table = doc.split("| catégorie | par exemple |\n| --- | --- |\n")[1].split("\n\n")[0]
    rows = [[cell.strip() for cell in row.strip("|").split("|")] for row in table.splitlines()]
    assert tuple(category for category, _ in rows) == NATIONAL_CATEGORIES
    # Each example is a shipped column of that category.
    assert all(known_labels()[norm(label)] == category for category, labels in rows for label in labels.split(" ; "))
