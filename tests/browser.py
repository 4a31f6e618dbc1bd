"""A headless Chromium driven by selenium, for the dashboard tests (one browser per test module)."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--no-first-run",
    "--disable-sync", "--window-size=1400,1000",
)
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:", "chrome-error:")


def chromedriver_path() -> str | None:
    return shutil.which("chromedriver")


@contextmanager
def headless_chromium(binary: str) -> Iterator[Any]:
    """A selenium Chrome driver with browser and performance (network) logs enabled."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="pvd-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = Service(executable_path=chromedriver_path() or "chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    try:
        driver.set_page_load_timeout(60)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def requested_urls(driver: Any, document_prefix: str = "") -> list[str]:
    """Every URL asked for since the last call (the performance log is drained), by documents
    whose URL starts with `document_prefix` — the browser's own start-up pages are not ours."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            params = message["params"]
            if params.get("documentURL", "").startswith(document_prefix):
                urls.append(params["request"]["url"])
    return urls


def console_errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def file_url(path: Path) -> str:
    return path.resolve().as_uri()
