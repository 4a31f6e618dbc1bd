"""Shared fixtures. Paths come from this file's location, never from the working directory."""

from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import pvd_reporting.check  # noqa: F401 — the rules' kinds in the issue catalogue, as every command has them
from pvd_reporting.cache import ENV_VAR as CACHE_ENV_VAR
from pvd_reporting.format.config import Config, default_config
from pvd_reporting.format.reference import SHIPPED_REFERENCE
from pvd_reporting.format.schema import Schema, build_schema

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent


@pytest.fixture(scope="session", autouse=True)
def _cache_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`consolidate` caches by default: the suite never writes into the real user cache (this
    also covers module-scoped fixtures, set up before any test's own folder)."""
    root = tmp_path_factory.mktemp("user-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV_VAR, str(root / "session"))
        yield root


@pytest.fixture(autouse=True)
def user_cache(_cache_root: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own default cache folder (created only when used), so no test sees another's
    entries; subprocesses inherit it through the environment."""
    folder = _cache_root / hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:12]
    monkeypatch.setenv(CACHE_ENV_VAR, str(folder))
    return folder


@pytest.fixture(scope="session")
def config() -> Config:
    return default_config()


@pytest.fixture(scope="session")
def schema(config: Config) -> Schema:
    return build_schema(config)


@pytest.fixture(scope="session")
def reference_csv() -> Path:
    """The ANCT list of 2021 as the package ships it: no test depends on ../shared."""
    return SHIPPED_REFERENCE


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture(scope="session")
def soffice() -> str:
    path = soffice_path()
    if not path:
        pytest.skip("LibreOffice (soffice) absent")
    return path


@pytest.fixture(scope="session")
def ssconvert() -> str:
    """Gnumeric's converter: `ssconvert --recalc` computes formulas with Excel's rules."""
    path = shutil.which("ssconvert")
    if not path:
        pytest.skip("Gnumeric (ssconvert) absent")
    return path


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if not path:
        pytest.skip("Chromium absent")
    return path


@pytest.fixture(scope="session")
def grand_est_templates(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    """`template --region "Grand Est" --period 2025-T4` run once for the session, with no
    --reference (the shipped list): its exit code, its output and the folder of 99 workbooks.
    Tests read the folder; none writes into it."""
    from click.testing import CliRunner

    from pvd_reporting.cli import cli

    folder = tmp_path_factory.mktemp("grand-est") / "modeles"
    result = CliRunner().invoke(cli, ["template", "--region", "Grand Est", "--period", "2025-T4",
                                      "--output-dir", str(folder), "--quiet"])
    return result.exit_code, result.output, folder


_LO_PROFILE: list[Path] = []


def lo_profile() -> str:
    """The LibreOffice profile (UserInstallation URI) of this test process, made on first use and
    reused: creating a profile costs seconds at every start. One per pytest-xdist worker, since two
    soffice processes must never share one; conversions run side by side need their own."""
    if not _LO_PROFILE:
        folder = Path(tempfile.mkdtemp(prefix="pvd-lo-"))
        atexit.register(shutil.rmtree, folder, True)
        _LO_PROFILE.append(folder)
    return _LO_PROFILE[0].as_uri()


# The test files that take longest (seconds of one worker each, most of it LibreOffice, Gnumeric
# or Chromium), longest first, as measured in a whole run: with `make test` on pytest-xdist each
# file stays on one worker and is handed out in this order (--no-loadscope-reorder), so that a
# long file started last does not leave the other cores idle at the end of the suite.
LONGEST_FIRST = ("test_live_checks.py", "test_dashboard_comite.py", "test_output_folder.py", "test_speed_same_outputs.py",
                 "test_demo.py", "test_published_record.py", "test_french_libreoffice.py", "test_print.py",
                 "test_carry_libreoffice.py", "test_browser_session.py", "test_national.py",
                 "test_acceptance_consolidate.py", "test_reminders.py", "test_cycle_edges.py",
                 "test_template_libreoffice.py", "test_acceptance_validate.py", "test_briefing.py", "test_install.py",
                 "test_region_map.py", "test_consolidate_cli.py", "test_history.py", "test_skeleton.py",
                 "test_summary.py", "test_carry.py", "test_cache.py", "test_cache_program.py", "test_lint.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    # A stable sort: within a file, and among the other files, the order stays as collected.
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
