"""Every command has French help with an example; usage errors exit 2 in French."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pvd_reporting.cli import cli

COMMANDS = ("template", "validate", "consolidate")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_french_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Utilisation :" in out
    assert "Affiche cette aide et quitte." in out
    assert "Exemple" in out
    assert f"pvd-report {command}" in out
    # No English from click left over.
    for english in ("Usage:", "Show this message", "Options:\n  --help"):
        assert english not in out


def test_group_help_lists_the_three_commands() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output
    assert "Commandes" in result.output


def test_unknown_option_is_a_french_usage_error_with_exit_2() -> None:
    result = CliRunner().invoke(cli, ["validate", "--nope"])
    assert result.exit_code == 2
    assert "Option inconnue" in result.output
    assert "Traceback" not in result.output


def test_unknown_command_exit_2() -> None:
    result = CliRunner().invoke(cli, ["fusionner"])
    assert result.exit_code == 2
    assert "Commande inconnue" in result.output
