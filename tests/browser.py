"""A headless Chromium driven by selenium, for the dashboard tests (one browser per test process)."""

from __future__ import annotations

import atexit
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


# One browser per test process (pytest-xdist worker), started on first use and reused: starting
# Chromium costs seconds, and each test gets it back blank, at the default size, its logs drained.
_shared: dict[str, Any] = {}
DEFAULT_SIZE = (1400, 1000)


def _start(binary: str) -> Any:
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
    driver.set_page_load_timeout(60)

    def quit_browser() -> None:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)

    atexit.register(quit_browser)
    return driver


@contextmanager
def headless_chromium(binary: str) -> Iterator[Any]:
    """A selenium Chrome driver with browser and performance (network) logs enabled: the process's
    one browser, blank, with nothing left in its logs from an earlier test."""
    driver = _shared.get(binary)
    if driver is None:
        driver = _shared[binary] = _start(binary)
    try:
        yield driver
    finally:
        try:
            driver.get("about:blank")
            driver.set_window_size(*DEFAULT_SIZE)
            driver.get_log("performance")
            driver.get_log("browser")
        except Exception:  # a test that broke the browser: the next one gets a new one
            _shared.pop(binary, None)
            try:
                driver.quit()
            except Exception:
                pass


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
