"""The demo project as the README's first command runs it: ``manage.py runserver``, the
gateway with an embedded worker on the in-memory layer (and ``rungateway --with-worker``),
on a database of the test's own; and in headless Chromium, two users chatting in one room
and the long-task page reaching 100 %."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from .browser import Browser, require_chromium
from .gateways import ROOT, GatewayProcess

COMMANDS = {
    "runserver": ["manage.py", "runserver", "--noreload", "127.0.0.1:0"],
    "rungateway": ["manage.py", "rungateway", "--with-worker", "--static", "--bind", "127.0.0.1:0"],
}


def start_demo(tmp_path: Path, command: str) -> GatewayProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "demo.settings", "REALTIME_BROKER_URL": "memory://"}
    env["DEMO_DATABASE"] = str(tmp_path / "demo.sqlite3")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    process = GatewayProcess("memory://", "demo", tmp_path / "demo.log")
    process.args = [sys.executable, *COMMANDS[command]]
    process.env = env
    return process.start()


@pytest.fixture(params=sorted(COMMANDS))
def demo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GatewayProcess]:
    process = start_demo(tmp_path, request.param)
    yield process
    assert process.stop() == 0


def status_of(url: str) -> int:
    request = urllib.request.Request(url, method="GET")
    opener = urllib.request.build_opener(NoRedirect())
    try:
        with opener.open(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        with error:
            return error.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_pages(demo: GatewayProcess) -> None:
    with urllib.request.urlopen(f"{demo.url}/hello/", timeout=5) as response:
        assert response.read() == b"Hello world"
        assert response.headers["Content-Type"] == "text/plain"
    for path in ["/", "/echo/", "/tasks/", "/accounts/login/", "/accounts/signup/", "/static/realtime/realtime.js"]:
        assert status_of(demo.url + path) == 200, path
    assert status_of(f"{demo.url}/rooms/lobby/") == 302  # log in first


def test_benchmark_contract_echo_and_chat(demo: GatewayProcess) -> None:
    echo = demo.websocket("/ws/echo/")
    echo.send("ping")
    assert echo.recv() == "ping"
    echo.close()
    room = [demo.websocket("/ws/chat/lobby/") for _ in range(2)]
    outsider = demo.websocket("/ws/chat/elsewhere/")
    time.sleep(0.2)
    room[1].send("hello room")
    assert [ws.recv() for ws in room] == ["hello room", "hello room"]
    outsider.send("only here")
    assert outsider.recv() == "only here"
    for ws in [*room, outsider]:
        ws.close()


# -- in the browser ----------------------------------------------------------------------


def wait_for(page: WebDriver, condition: str, timeout: float = 15) -> None:
    """Wait until the JavaScript expression ``condition`` is true in ``page``."""
    WebDriverWait(page, timeout).until(lambda page: page.execute_script(f"return Boolean({condition})"))


def sign_up(page: WebDriver, url: str, username: str) -> None:
    page.get(f"{url}/accounts/signup/")
    page.find_element(By.ID, "id_username").send_keys(username)
    page.find_element(By.ID, "id_password1").send_keys("a long demo password")
    page.find_element(By.ID, "id_password2").send_keys("a long demo password")
    page.find_element(By.CSS_SELECTOR, "form button").click()
    wait_for(page, f"document.querySelector('nav .who').textContent.includes({username!r})")


def log_text(page: WebDriver) -> str:
    return str(page.execute_script("return document.getElementById('log').textContent"))


@pytest.mark.timeout(600)  # the first browser test may install Chromium (tests/browser.py)
def test_two_users_chat_and_a_task_reports_progress(tmp_path: Path) -> None:
    chromium = require_chromium()
    demo = start_demo(tmp_path, "runserver")
    try:
        with Browser(chromium) as browser:
            ada, grace = browser.new_page(), browser.new_page()
            sign_up(ada, demo.url, "ada")
            sign_up(grace, demo.url, "grace")
            for page in (ada, grace):
                page.get(f"{demo.url}/rooms/tea/")
                wait_for(page, "document.getElementById('status').textContent === 'connected'")
            for page in (ada, grace):  # presence: each sees both
                wait_for(page, "document.getElementById('here').textContent === 'ada, grace'")
            ada.find_element(By.ID, "text").send_keys("hello grace")
            ada.find_element(By.CSS_SELECTOR, "#form button").click()
            for page in (ada, grace):
                wait_for(page, "document.getElementById('log').textContent.includes('ada: hello grace')")
            grace.get(f"{demo.url}/rooms/tea/")  # the message was saved: it is in the history
            assert "ada: hello grace" in log_text(grace)
            grace.get(f"{demo.url}/tasks/")  # she leaves the room
            wait_for(ada, "document.getElementById('here').textContent === 'ada'")

            ada.get(f"{demo.url}/tasks/")
            wait_for(ada, "document.getElementById('status').textContent === 'connected'")
            steps = ada.find_element(By.ID, "steps")
            steps.clear()
            steps.send_keys("5")
            ada.find_element(By.CSS_SELECTOR, "#form button").click()
            wait_for(ada, "document.getElementById('percent').textContent === '100 %'")
            wait_for(ada, "document.getElementById('log').textContent.includes('SUCCESS: finished 5 steps')")
    finally:
        assert demo.stop() == 0
