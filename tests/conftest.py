"""Shared fixtures. Paths come from this file's location, never from the working directory."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pvd_reporting.consolidate.cache import ENV_VAR as CACHE_ENV_VAR
from pvd_reporting.format.config import Config, default_config
from pvd_reporting.format.schema import Schema, build_schema

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
SHARED_DATA = REPO.parent / "shared" / "data"
REFERENCE_CSV = SHARED_DATA / "pvd-communes-2021.csv"


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
    if not REFERENCE_CSV.exists():
        pytest.skip("../shared/data/pvd-communes-2021.csv absent")
    return REFERENCE_CSV


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
