"""Configuration (README, Configuration): the embedded default, a user's overlay, and a French error naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from pvd_reporting.errors import ConfigError
from pvd_reporting.format.config import default_config, load_config
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
