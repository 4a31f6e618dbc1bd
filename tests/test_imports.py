"""The validate path never imports pandas or plotly (README, Vitesse: `validate one.xlsx` under 0.5 s)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from factory import make_workbook

from pvd_reporting.format.schema import Schema

TESTS = Path(__file__).resolve().parent

_SCRIPT = """
import sys
from click.testing import CliRunner
from pvd_reporting.cli import cli
result = CliRunner().invoke(cli, ["validate", sys.argv[1], "--format", "json"])
assert result.exit_code == 0, result.output
heavy = sorted(m for m in ("pandas", "plotly") if m in sys.modules)
assert not heavy, heavy
print("ok")
"""


def test_validate_imports_no_heavy_library(tmp_path: Path, schema: Schema) -> None:
    path = make_workbook(tmp_path / "ok.xlsx", schema)
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(path)], capture_output=True, text=True, cwd=TESTS.parent,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
