"""Shared fixtures. Paths come from this file's location, never from the working directory."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pvd_reporting.format.config import Config, default_config
from pvd_reporting.format.schema import Schema, build_schema

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
SHARED_DATA = REPO.parent / "shared" / "data"
REFERENCE_CSV = SHARED_DATA / "pvd-communes-2021.csv"


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
def chromium() -> str:
    path = chromium_path()
    if not path:
        pytest.skip("Chromium absent")
    return path
