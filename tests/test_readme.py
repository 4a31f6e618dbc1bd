"""Keep the README true: its codes, options and transcripts follow the code."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from pvd_reporting.cli import cli
from pvd_reporting.format.issues import ISSUE_TYPES

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
WORKBOOKS = Path(__file__).resolve().parent.parent / "workbooks"


def test_readme_lists_every_issue_code_and_no_other() -> None:
    listed = set(re.findall(r"^\| `([a-z-]+)` \|", README, flags=re.M))
    assert listed == set(ISSUE_TYPES)


def test_readme_shows_the_two_commands() -> None:
    assert "make demo" in README and "make test" in README


def test_every_option_the_readme_names_exists() -> None:
    helps = "".join(CliRunner().invoke(cli, [c, "--help"]).output for c in ("template", "validate", "consolidate"))
    for option in set(re.findall(r"`(--[a-z-]+)", README)):
        assert option in helps, option


def test_validate_transcript_matches_what_the_command_prints(monkeypatch) -> None:
    monkeypatch.chdir(WORKBOOKS.parent)
    block = README.split("$ pvd-report validate workbooks/2025-T4/pvd-44-52-15-langres.xlsx workbooks/2025-T4/pvd-44-67-1-la-broque.xlsx\n")[1]
    shown = block.split("$ echo $?")[0].rstrip("\n")
    result = CliRunner().invoke(cli, ["validate", "workbooks/2025-T4/pvd-44-52-15-langres.xlsx",
                                      "workbooks/2025-T4/pvd-44-67-1-la-broque.xlsx"])
    assert result.exit_code == 1
    assert result.output.rstrip("\n") == shown
