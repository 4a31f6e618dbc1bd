"""The built wheel, installed into a fresh virtual environment outside the repository, runs the
three commands on the examples: what a referent gets from `pipx install` or `uv tool install`.

The wheel is built from a copy of the sources (the checkout is never written to) with pip's
ordinary isolated build, which takes setuptools from the configured index. The fresh
environment installs only the wheel (`--no-deps`); its dependencies (plotly, kaleido,
xlsxwriter…) are those of the project's environment, added to its path by a `.pth` line, so
that the test needs no network and no second download of plotly. The package itself, its
configuration, Jinja template and data files can only come from the wheel: the project's
editable install is a `.pth` hook of its own environment, not processed from that line, and
the commands run from a folder outside the repository.
"""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("install")
    src = root / "src"
    src.mkdir()
    shutil.copy(REPO / "pyproject.toml", src)
    shutil.copy(REPO / "README.md", src)
    shutil.copytree(REPO / "pvd_reporting", src / "pvd_reporting",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    built = _run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", str(root / "dist")], src)
    wheels = list((root / "dist").glob("pvd_report-*.whl"))
    if not wheels:
        pytest.skip(f"the wheel could not be built here (no build backend offline?): {built.stderr[-400:]}")
    venv = root / "venv"
    # Without pip of its own (seconds to lay out): the project's pip installs the wheel into it.
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], root)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], root)
    deps = [p for p in (*site.getsitepackages(), sysconfig.get_paths()["purelib"]) if Path(p).is_dir()]
    (Path(purelib.stdout.strip()) / "pvd-deps.pth").write_text("\n".join(dict.fromkeys(deps)) + "\n")
    done = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
                 str(wheels[0])], root)
    assert done.returncode == 0, done.stderr
    return venv


def test_the_wheel_carries_the_package_and_its_data(installed: Path) -> None:
    python = installed / "bin" / "python"
    out = _run([str(python), "-c", "import pvd_reporting, pathlib; print(pathlib.Path(pvd_reporting.__file__).parent)"],
               installed.parent)
    package = Path(out.stdout.strip())
    assert installed in package.parents, "the package must come from the wheel, not the checkout"
    assert (package / "format" / "common.toml").is_file()
    assert (package / "format" / "national_categories.toml").is_file()
    assert len(list((package / "format" / "regions").glob("*.toml"))) == 18  # one per région
    assert (package / "outputs" / "dashboard" / "page.html.j2").is_file()
    # The page inlines its style and script from these files at render time.
    assert (package / "outputs" / "dashboard" / "static" / "page.js").is_file()
    # Every reminder body the drafts render, one template per motif.
    shipped_mail = {t.name for t in (package / "outputs" / "mail_templates").glob("*.txt.j2")}
    assert shipped_mail == {t.name for t in (REPO / "pvd_reporting" / "outputs" / "mail_templates").glob("*.txt.j2")}
    assert "to_fix.txt.j2" in shipped_mail
    # The ANCT list of 2021 and its licence notice: the default reference of template and consolidate.
    shipped = package / "format" / "data" / "pvd-communes-2021.csv"
    assert shipped.read_bytes() == (REPO / "pvd_reporting" / "format" / "data" / "pvd-communes-2021.csv").read_bytes()
    assert "Licence Ouverte 2.0" in (package / "format" / "data" / "LISEZ-MOI.md").read_text("utf-8")


def test_the_installed_command_runs_template_validate_and_consolidate(installed: Path, tmp_path: Path) -> None:
    command = str(installed / "bin" / "pvd-report")
    template = _run([command, "template", "-o", "modele.xlsx", "--period", "2025-T4"], tmp_path)
    assert template.returncode == 0, template.stderr
    assert (tmp_path / "modele.xlsx").is_file()
    prefilled = _run([command, "template", "--territory", "pvd-44-67-1", "-o", "la-broque.xlsx"], tmp_path)
    assert prefilled.returncode == 0, prefilled.stderr  # no --reference: the list inside the wheel
    assert "La Broque" in prefilled.stdout and "livrée avec pvd-report" in prefilled.stdout
    examples = REPO / "workbooks"
    validate = _run([command, "validate", str(examples)], tmp_path)
    assert validate.returncode in (0, 1), validate.stderr  # 1: some examples carry errors on purpose
    assert "classeurs contrôlés" in validate.stdout
    consolidate = _run([command, "consolidate", str(examples), "--output-dir", "sorties", "--no-images",
                        "--quiet"], tmp_path)
    assert consolidate.returncode == 0, consolidate.stderr
    assert "Territoires reçus : 11 sur 99 attendus" in consolidate.stdout
    out = tmp_path / "sorties"
    assert (out / "synthese-pvd-2025-T4.xlsx").is_file()
    page = (out / "tableau-de-bord-2025-T4.html").read_text("utf-8")
    assert "À retenir" in page
    assert (out / "anomalies-2025-T4.csv").is_file()

    # The national roll-up reads that history with the shipped régions and shapes.
    national = _run([command, "national", "sorties", "--output-dir", "national", "--quiet"], tmp_path)
    assert national.returncode == 0, national.stderr
    assert "Régions remontées : 1 sur 18" in national.stdout
    assert (tmp_path / "national" / "tableau-de-bord-national-2025-T4.html").is_file()
