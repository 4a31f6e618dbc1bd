"""Control characters from a workbook never reach the terminal: a workbook whose file name,
territory name and a value hold an escape sequence (clear screen) and a bell, through the real
commands (click's CliRunner)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from factory import baseline_rows, make_workbook

from pvd_reporting.cli import cli
from pvd_reporting.cli.terminal import terminal_lines, terminal_text
from pvd_reporting.format.schema import Schema

MARK = b"XXCTRL"
# As Excel escapes a control character in the XML of a cell (ECMA-376 ST_Xstring).
HOSTILE = b"_x001B_[2J_x0007_"


@pytest.fixture(scope="module")
def inbox(schema: Schema, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("terminal")
    plain = root / "plain.xlsx"
    rows = baseline_rows(schema)
    bad = [dict(rows["engagements"][0], start_on=f"{MARK.decode()}32/13/2024"), *rows["engagements"][1:]]
    make_workbook(plain, schema, territory={"name": f"Bouxwiller {MARK.decode()}"}, rows={"engagements": bad})
    folder = root / "recus"
    folder.mkdir()
    with zipfile.ZipFile(plain) as source, \
            zipfile.ZipFile(folder / "boux\x1b[2J\x07.xlsx", "w", zipfile.ZIP_DEFLATED) as hostile:
        for item in source.infolist():
            hostile.writestr(item, source.read(item.filename).replace(MARK, HOSTILE))
    return folder


def check_clean(output: str) -> None:
    assert "\x1b" not in output and "\x07" not in output


@pytest.mark.parametrize("fmt", ["text", "json", "csv"])
def test_validate_prints_no_control_character(inbox: Path, fmt: str) -> None:
    result = CliRunner().invoke(cli, ["validate", str(inbox), "--format", fmt])
    assert result.exit_code == 1, result.output
    check_clean(result.output)
    # The message is still there, its value shown without the sequence.
    assert "Date illisible" in result.output and "32/13/2024" in result.output
    assert "boux.xlsx" in result.output


def test_consolidate_prints_no_control_character(inbox: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["consolidate", str(inbox), "--output-dir", str(tmp_path / "s"),
                                      "--no-reference", "--quiet", "--no-images", "--workers", "1"])
    assert result.exit_code == 0, result.output
    check_clean(result.output)
    assert "Territoires reçus : 1" in result.output


def test_the_cleaning_function() -> None:
    assert terminal_text("Barr\x1b[2J\x07 (67)") == "Barr (67)"
    assert terminal_text("a\x1b]0;titre\x07b\x9b31mc\u202ed") == "abcd"
    assert terminal_text("Claire\nMuller\r\tPVD") == "Claire Muller PVD"
    assert terminal_lines("ligne 1\x1b[1m\nligne 2\x00") == "ligne 1\nligne 2"


def test_a_file_name_with_a_line_break_stays_on_its_line(inbox: Path, tmp_path: Path) -> None:
    """A file named to forge a line of the run's own (« …\\r\\nTerritoires reçus : 999 ») is shown
    on the line that names it, wherever consolidate names it: the console cannot be made to lie."""
    folder = tmp_path / "recus"
    folder.mkdir()
    source = next(inbox.iterdir()).read_bytes()
    forged = "Territoires reçus : 999 sur 999 attendus"
    (folder / f"a\r\n{forged}\n.xlsx").write_bytes(source)
    (folder / "b.xlsx").write_bytes(source)  # the same workbook again: one of the two is named
    result = CliRunner().invoke(cli, ["consolidate", str(folder), "--output-dir", str(tmp_path / "s"),
                                      "--no-reference", "--no-images", "--workers", "1"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(forged in line for line in lines)  # the name is shown…
    assert not [line for line in lines if line.strip().startswith(forged)]  # …never as a line of its own
    assert "\r" not in result.output
