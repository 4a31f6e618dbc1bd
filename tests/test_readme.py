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
    helps = "".join(CliRunner().invoke(cli, [c, "--help"]).output
                    for c in ("template", "validate", "consolidate", "national"))
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


CYCLE = README.split("## Le cycle trimestriel")[1].split("\n## ")[0]


def _block_after(text: str, command: str) -> list[str]:
    block = text.split(f"$ {command}\n")[1]
    return block.split("\n```")[0].split("\n$ ")[0].splitlines()


def test_cycle_consolidate_transcript_matches(reference_csv: Path, tmp_path: Path, monkeypatch) -> None:
    command = "pvd-report consolidate workbooks/ --reference pvd-communes-2021.csv --output-dir sorties/"
    shown = _block_after(CYCLE, command)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pvd-communes-2021.csv").write_bytes(reference_csv.read_bytes())
    (tmp_path / "workbooks").symlink_to(WORKBOOKS)
    result = CliRunner().invoke(cli, [*command.split()[1:], "--no-images", "--quiet"])
    assert result.exit_code == 0, result.output
    printed = result.stdout.replace(f"{tmp_path.resolve()}/", "/…/").splitlines()
    assert printed == shown
    drafts = _block_after(CYCLE, "ls sorties/relances-2025-T4/")
    assert sorted(p.name for p in (tmp_path / "sorties" / "relances-2025-T4").iterdir()) == drafts


def test_cycle_validate_transcript_matches(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    carried = Path("modeles-2026-T1") / "pvd-44-52-15-langres.xlsx"
    carried.parent.mkdir()
    result = CliRunner().invoke(cli, ["template", "--from", str(WORKBOOKS / "2025-T4" / "pvd-44-52-15-langres.xlsx"),
                                      "-o", str(carried)])
    assert result.exit_code == 0, result.output
    command = f"pvd-report validate {carried} --annotate retours/"
    result = CliRunner().invoke(cli, command.split()[1:])
    assert result.exit_code == 1
    assert result.output.rstrip("\n").splitlines() == _block_after(CYCLE, command)


def test_national_transcript_matches(tmp_path: Path, monkeypatch) -> None:
    section = README.split("## Pour l'ANCT : la synthèse nationale")[1].split("\n## ")[0]
    consolidate = "pvd-report consolidate workbooks/ --output-dir regions/grand-est/ --quiet"
    national = "pvd-report national regions/ --output-dir national/"
    assert f"$ {consolidate}\n$ {national}\n" in section
    monkeypatch.chdir(tmp_path)
    (tmp_path / "workbooks").symlink_to(WORKBOOKS)
    result = CliRunner().invoke(cli, [*consolidate.split()[1:], "--no-images"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, national.split()[1:])
    assert result.exit_code == 0, result.output
    printed = result.stdout.replace(f"{tmp_path.resolve()}/", "/…/")
    assert printed.splitlines() == _block_after(section, national)
