"""The demo project as the README's first command runs it: ``manage.py runserver``, the
gateway with an embedded worker on the in-memory layer (and ``rungateway --with-worker``)."""

from __future__ import annotations

import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .gateways import GatewayProcess

COMMANDS = {
    "runserver": ["manage.py", "runserver", "--noreload", "127.0.0.1:0"],
    "rungateway": ["manage.py", "rungateway", "--with-worker", "--bind", "127.0.0.1:0"],
}


@pytest.fixture(params=sorted(COMMANDS))
def demo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GatewayProcess]:
    process = GatewayProcess("memory://", "demo", tmp_path / "demo.log")
    process.args = [sys.executable, *COMMANDS[request.param]]
    process.env = {**process.env, "DJANGO_SETTINGS_MODULE": "demo.settings", "REALTIME_BROKER_URL": "memory://"}
    yield process.start()
    assert process.stop() == 0


def test_pages(demo: GatewayProcess) -> None:
    with urllib.request.urlopen(f"{demo.url}/hello/", timeout=5) as response:
        assert response.read() == b"Hello world"
        assert response.headers["Content-Type"] == "text/plain"
    with urllib.request.urlopen(f"{demo.url}/", timeout=5) as response:
        assert b'socket("/ws/chat/lobby/", "chat")' in response.read()


def test_echo_and_chat_room(demo: GatewayProcess) -> None:
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
