"""Drive the system's headless Chromium (Debian ``chromium`` + ``chromium-driver``) offline.

Used by the map browser tests and ``benchmarks/bench_maps.py``. Every non-``file:`` request is
blocked (a dead proxy, an unresolvable host map and DevTools URL blocking), so a page that
works here works on a machine with no internet.

When Chromium or its driver is missing, :func:`require_browser` skips the test with the
reason — unless ``CCI_GEO_REQUIRE_BROWSER=1`` (set by CI), in which case it fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
DRIVER_CANDIDATES = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")


def find_browser() -> tuple[str | None, str | None, str]:
    """Return ``(chromium, chromedriver, reason)``; paths are None when missing."""
    chromium = next((p for p in CHROMIUM_CANDIDATES if Path(p).exists()), None) or \
        shutil.which("chromium")
    driver = next((p for p in DRIVER_CANDIDATES if Path(p).exists()), None) or \
        shutil.which("chromedriver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return chromium, driver, "selenium is not installed (pip install -e '.[test]')"
    if chromium is None:
        return None, driver, "Chromium not found (Debian: apt-get install chromium)"
    if driver is None:
        return chromium, None, "chromedriver not found (Debian: apt-get install chromium-driver)"
    return chromium, driver, ""


def require_browser() -> tuple[str, str]:
    """Return the browser paths, or skip (fail when ``CCI_GEO_REQUIRE_BROWSER=1``)."""
    import pytest

    chromium, driver, reason = find_browser()
    if reason:
        if os.environ.get("CCI_GEO_REQUIRE_BROWSER") == "1":
            pytest.fail(f"CCI_GEO_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(f"browser tests need headless Chromium: {reason}")
    assert chromium is not None and driver is not None
    return chromium, driver


@contextlib.contextmanager
def offline_chromium(chromium: str, driver_path: str, *, width: int = 1400,
                     height: int = 1000) -> Iterator[object]:
    """Yield a selenium Chrome driver with every network request blocked."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="cci-geo-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", f"--window-size={width},{height}",
                 "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                 "--host-resolver-rules=MAP * ~NOTFOUND"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setBlockedURLs",
                               {"urls": ["http://*", "https://*", "ws://*", "wss://*"]})
        driver.set_page_load_timeout(60)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def load(driver: object, path: Path) -> float:
    """Open ``path`` and return the time from navigation start to the load event (seconds)."""
    driver.get(path.resolve().as_uri())  # type: ignore[attr-defined]
    for _ in range(200):
        t = driver.execute_script(  # type: ignore[attr-defined]
            "var t = performance.getEntriesByType('navigation')[0];"
            "return t && t.loadEventEnd > 0 ? t.loadEventEnd - t.startTime : null;")
        if t is not None:
            return float(t) / 1000.0
        time.sleep(0.05)
    msg = f"{path} never reached its load event"
    raise TimeoutError(msg)


def console_errors(driver: object) -> list[str]:
    """Return the browser console messages at level SEVERE."""
    return [e["message"] for e in driver.get_log("browser")  # type: ignore[attr-defined]
            if e.get("level") == "SEVERE"]
