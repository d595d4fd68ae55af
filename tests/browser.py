"""Headless Chromium for the browser tests: Debian's ``chromium`` and ``chromium-driver``,
installed with apt-get when missing, driven by Selenium.

Without them (and no way to install them) the tests are skipped, or fail when
``REALTIME_REQUIRE_BROKERS=1`` (CI), as tests whose broker is missing do.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from .brokers import BROKERS_REQUIRED

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PACKAGES = ["chromium", "chromium-driver"]
INSTALL_TIMEOUT = 240  # seconds for each apt-get command (update, install: a few hundred MB)


@dataclass(frozen=True)
class Chromium:
    binary: Path
    driver: Path


class ChromiumUnavailable(Exception):
    pass


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False)


def install_chromium() -> None:
    """``apt-get install -y chromium chromium-driver``, after ``apt-get update`` if it fails."""
    if shutil.which("apt-get") is None:
        raise ChromiumUnavailable("apt-get is not available to install it")
    if os.geteuid() != 0:
        raise ChromiumUnavailable("installing it with apt-get needs root")
    install = ["apt-get", "install", "-y", "-q", "-o", "DPkg::Lock::Timeout=120", *PACKAGES]
    try:
        result = _run(install)
        if result.returncode != 0:
            update = _run(["apt-get", "update", "-q", "-o", "DPkg::Lock::Timeout=120"])
            result = _run(install) if update.returncode == 0 else update
    except subprocess.TimeoutExpired as error:
        raise ChromiumUnavailable(f"apt-get took longer than {INSTALL_TIMEOUT} s") from error
    if result.returncode != 0:
        raise ChromiumUnavailable(f"apt-get failed ({result.returncode}): {(result.stdout + result.stderr)[-1500:]}")


def find_chromium() -> Chromium:
    """Debian's Chromium and its driver, installed first if missing."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        install_chromium()
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        raise ChromiumUnavailable(f"apt-get installed {' '.join(PACKAGES)} but {CHROMIUM} or {CHROMEDRIVER} is missing")
    return Chromium(CHROMIUM, CHROMEDRIVER)


@functools.cache
def _chromium() -> Chromium | str:
    try:
        return find_chromium()
    except ChromiumUnavailable as error:
        return f"headless Chromium is not available: {error}"


def require_chromium() -> Chromium:
    """Debian's Chromium (installed once per test run if missing); skips the test without it, or
    fails it when ``REALTIME_REQUIRE_BROKERS=1``."""
    found = _chromium()
    if isinstance(found, str):
        if BROKERS_REQUIRED:
            pytest.fail(f"{found} (REALTIME_REQUIRE_BROKERS=1)", pytrace=False)
        pytest.skip(found)
    return found


class Browser:
    """Starts headless Chromium windows (one ``webdriver.Chrome`` each) and quits them all."""

    def __init__(self, chromium: Chromium) -> None:
        self.chromium = chromium
        self.drivers: list[webdriver.Chrome] = []
        self._profiles = tempfile.TemporaryDirectory(prefix="realtime-chromium-")

    def new_page(self, url: str | None = None) -> webdriver.Chrome:
        options = webdriver.ChromeOptions()
        options.binary_location = str(self.chromium.binary)
        for argument in [
            "--headless=new",
            "--no-sandbox",  # we run as root
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            f"--user-data-dir={tempfile.mkdtemp(dir=self._profiles.name)}",
        ]:
            options.add_argument(argument)
        driver = webdriver.Chrome(options=options, service=Service(str(self.chromium.driver)))
        self.drivers.append(driver)
        driver.set_script_timeout(10)
        if url is not None:
            driver.get(url)
        return driver

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        while self.drivers:
            self.drivers.pop().quit()
        self._profiles.cleanup()
