"""realtime.js (realtime/static/realtime/realtime.js) in headless Chromium against a real gateway.

The gateway runs in development mode (embedded worker, in-memory layer, ``--static``) and
serves the worker test project's page ``/realtime-js/``, which loads the client and records
every event of its sockets in ``window.events`` (see templates/workerproject/realtime_js.html).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from .browser import Browser, require_chromium
from .gateways import GatewayProcess

# The first test may install Chromium with apt-get (tests/browser.py) before its gateway starts.
pytestmark = pytest.mark.timeout(600)

PAGE = "/realtime-js/"
FAST = {"initialDelay": 50, "maxDelay": 200}  # reconnect delays (ms) for the tests


def start_gateway(log_path: Path, port: int = 0) -> GatewayProcess:
    return GatewayProcess("memory://", "js", log_path, with_worker=True, static=True, port=port).start()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser(require_chromium()) as pages:
        yield pages


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    process = start_gateway(tmp_path_factory.mktemp("js") / "gateway.log")
    yield process
    assert process.stop() == 0


@pytest.fixture
def page(browser: Browser, gateway: GatewayProcess) -> WebDriver:
    """The test page, freshly loaded (no sockets left from the previous test)."""
    driver = browser.drivers[0] if browser.drivers else browser.new_page()
    driver.get(gateway.url + PAGE)
    return driver


def open_socket(page: WebDriver, name: str, path: str, **options: Any) -> str:
    url: str = page.execute_script("return openSocket(arguments[0], arguments[1], arguments[2])", name, path, options)
    return url


def events(page: WebDriver, socket: str, *types: str) -> list[Any]:
    """The details of ``socket``'s events of these types (all types if none), in order."""
    recorded: list[dict[str, Any]] = page.execute_script("return events")
    return [
        event["detail"] if types else (event["type"], event["detail"])
        for event in recorded
        if event["socket"] == socket and (not types or event["type"] in types)
    ]


def wait_for(page: WebDriver, socket: str, kind: str, count: int = 1, timeout: float = 10) -> list[Any]:
    """Wait until ``socket`` has had ``count`` events of type ``kind``; their details."""
    try:
        return WebDriverWait(page, timeout, poll_frequency=0.05).until(
            lambda _: found if len(found := events(page, socket, kind)) >= count else None
        )
    except TimeoutException as error:
        raise AssertionError(f"no {count} {kind!r} events for {socket}: {events(page, socket)}") from error


def js(page: WebDriver, script: str, *args: Any) -> Any:
    return page.execute_script(script, *args)


def test_echo_text_json_and_bytes_queued_before_open(page: WebDriver, gateway: GatewayProcess) -> None:
    # sent while still connecting (in the same task as the connect): queued, then flushed in order on open
    connect = """const url = openSocket('echo', '/frames/');
        return [url, sockets.echo.send('hello'), sockets.echo.sendJson({a: [1, 2], b: 'ü'})]"""
    assert js(page, connect) == [f"ws://127.0.0.1:{gateway.port}/frames/", False, False]
    wait_for(page, "echo", "open")
    assert js(page, "return sockets.echo.send(new Uint8Array([0, 1, 255]))") is True
    assert wait_for(page, "echo", "message", 3) == ["hello", '{"a":[1,2],"b":"ü"}', [0, 1, 255]]
    assert events(page, "echo", "json") == [{"a": [1, 2], "b": "ü"}]  # "hello" is no JSON
    js(page, "sockets.echo.close()")
    assert wait_for(page, "echo", "close")[0] == {
        "code": 1000,
        "reason": "",
        "wasClean": True,
        "willReconnect": False,
        "refused": False,
    }
    assert js(page, "return sockets.echo.send('late')") is False
    assert events(page, "echo", "error") == [{"type": "closed", "message": "the socket is closed: message dropped"}]


def test_demultiplexer_streams(page: WebDriver) -> None:
    open_socket(page, "streams", "/streams/")
    js(page, "openStream('streams', 'shout'); openStream('streams', 'other')")
    js(page, "sockets.streams.stream('shout').send({text: 'hi there'})")
    assert wait_for(page, "streams", "stream shout") == [{"shout": "HI THERE"}]
    assert events(page, "streams", "json") == [{"stream": "shout", "payload": {"shout": "HI THERE"}}]
    assert events(page, "streams", "stream other") == []


def test_refused_handshake_stops_reconnecting(page: WebDriver, gateway: GatewayProcess) -> None:
    open_socket(page, "refused", "/refuse/", refusedAfter=3, **FAST)
    wait_for(page, "refused", "error")
    refusal = {"type": "refused", "message": "closed before opening 3 times in a row"}
    assert events(page, "refused", "error") == [refusal]
    closes = events(page, "refused", "close")
    assert [(close["code"], close["willReconnect"], close["refused"]) for close in closes] == [
        (1006, True, False),
        (1006, True, False),
        (1006, False, True),
    ]
    assert [event["attempt"] for event in events(page, "refused", "reconnecting")] == [1, 2]
    assert js(page, "return sockets.refused.stopped && sockets.refused._timer === null") is True
    time.sleep(0.4)  # longer than FAST's maxDelay: no further attempt
    assert len(events(page, "refused")) == 6
    assert gateway.log().count('"GET /refuse/ HTTP/1.1" 403') == 3


def test_gives_up_after_max_attempts_and_bounds_the_queue(page: WebDriver) -> None:
    """Nothing listens on port 1: every attempt fails before opening."""
    open_socket(page, "down", "ws://127.0.0.1:1/", refusedAfter=0, maxAttempts=2, queueSize=1, **FAST)
    assert js(page, "return [sockets.down.send('kept'), sockets.down.send('dropped')]") == [False, False]
    wait_for(page, "down", "error", 2)
    assert events(page, "down", "error") == [
        {"type": "queue-full", "message": "the send queue is full: message dropped"},
        {"type": "gave-up", "message": "no open after 2 reconnects"},
    ]
    assert [close["willReconnect"] for close in events(page, "down", "close")] == [True, True, False]
    assert js(page, "return [sockets.down.stopped, sockets.down._queue.length]") == [True, 0]


@pytest.mark.parametrize(("code", "options", "reconnects"), [(4004, {}, False), (4001, {"retryCodes": [4001]}, True)])
def test_application_close_code(page: WebDriver, code: int, options: dict[str, Any], reconnects: bool) -> None:
    open_socket(page, "app", "/close/", **FAST, **options)
    wait_for(page, "app", "open")
    js(page, "sockets.app.send(arguments[0])", str(code))
    assert wait_for(page, "app", "message") == ["bye"]
    close = wait_for(page, "app", "close")[0]
    assert (close["code"], close["wasClean"], close["willReconnect"]) == (code, True, reconnects)
    if reconnects:
        wait_for(page, "app", "open", 2)
    else:
        assert js(page, "return sockets.app.stopped") is True
        assert events(page, "app", "reconnecting") == []


def test_reconnects_after_gateway_restart_and_flushes_queue(browser: Browser, tmp_path: Path) -> None:
    first = start_gateway(tmp_path / "first.log")
    second: GatewayProcess | None = None
    try:
        page = browser.drivers[0] if browser.drivers else browser.new_page()
        page.get(first.url + PAGE)
        open_socket(page, "echo", "/frames/", refusedAfter=0, **FAST)
        wait_for(page, "echo", "open")
        js(page, "sockets.echo.send('before')")
        assert wait_for(page, "echo", "message") == ["before"]
        assert first.stop() == 0
        close = wait_for(page, "echo", "close")[0]
        assert (close["code"], close["willReconnect"]) == (1001, True)  # the gateway went away
        wait_for(page, "echo", "close", 3)  # and attempts fail while it is down
        assert js(page, "return [sockets.echo.send('queued'), sockets.echo.sendJson({n: 2})]") == [False, False]
        second = start_gateway(tmp_path / "second.log", port=first.port)
        wait_for(page, "echo", "open", 2, timeout=15)
        assert wait_for(page, "echo", "message", 3) == ["before", "queued", '{"n":2}']
        js(page, "sockets.echo.close()")
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_two_pages_in_one_chat_room(page: WebDriver, browser: Browser, gateway: GatewayProcess) -> None:
    other = browser.drivers[1] if len(browser.drivers) > 1 else browser.new_page()
    other.get(gateway.url + PAGE)
    for driver in (page, other):
        open_socket(driver, "chat", "/chat/jsroom/")
        wait_for(driver, "chat", "open")
    js(other, "sockets.chat.send('hello room')")
    assert wait_for(page, "chat", "message") == ["hello room"]
    assert wait_for(other, "chat", "message") == ["hello room"]


def test_leaving_for_the_back_forward_cache_closes_and_coming_back_reconnects(
    page: WebDriver, gateway: GatewayProcess
) -> None:
    from .reliability.conftest import scrape

    def open_websockets() -> float:
        return scrape(gateway.url)['realtime_gateway_connections{protocol="websocket"}']

    others = open_websockets()  # other tests' pages may hold some
    open_socket(page, "kept", "/accept/")
    wait_for(page, "kept", "open")
    assert open_websockets() == others + 1
    page.get(gateway.url + "/hello/")  # the test page goes into the back/forward cache
    deadline = time.monotonic() + 5
    while open_websockets() != others:  # the gateway saw it close: the user left
        assert time.monotonic() < deadline, "the socket stayed open after the page was left"
        time.sleep(0.1)
    page.back()  # restored from the cache: the socket connects again
    wait_for(page, "kept", "open", count=2)
    js(page, "sockets.kept.send('back again')")
    assert wait_for(page, "kept", "message") == ["back again"]
