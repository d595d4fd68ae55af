"""The gateway as a real process, with its embedded worker on the in-memory layer.

A real WebSocket client (websocket-client) and raw sockets talk to ``realtime-gateway``
started on port 0; the consumers are the worker test project's (tests/workerproject).
"""

from __future__ import annotations

import http.client
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import websocket

from ..gateways import GatewayProcess, close_code


def start(tmp_path: Path, name: str, **settings: object) -> GatewayProcess:
    return GatewayProcess(
        "memory://", "dev", tmp_path / f"{name}.log", with_worker=True, gateway_settings=settings
    ).start()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    process = start(
        tmp_path_factory.mktemp("gateway"), "gateway", header_timeout=1.0, forwarded_allow_ips=["127.0.0.1"]
    )
    yield process
    process.stop()


def raw_exchange(gateway: GatewayProcess, data: bytes, timeout: float = 5) -> bytes:
    """Send ``data`` on a fresh connection; everything the gateway answers until it closes."""
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=timeout) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


# -- HTTP: Django views in-process ---------------------------------------------------------


def test_django_view_with_keep_alive(gateway: GatewayProcess) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=5)
    for _ in range(3):  # one connection, three requests
        connection.request("GET", "/hello/")
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b"Hello world")
        assert response.getheader("Content-Type") == "text/plain"
    connection.close()


def test_response_cookies(gateway: GatewayProcess) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=5)
    connection.request("GET", "/cookie/")
    response = connection.getresponse()
    assert (response.status, response.read()) == (200, b"cookie set")
    assert response.getheader("Set-Cookie").startswith("flavour=oatmeal; HttpOnly")
    connection.close()


def test_request_bodies_fixed_and_chunked(gateway: GatewayProcess) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=5)
    connection.request("POST", "/upload/", body=b"x" * 100_000)
    assert connection.getresponse().read() == b"POST 100000"
    connection.request("POST", "/upload/", body=iter([b"ab", b"cde"]), encode_chunked=True)
    assert connection.getresponse().read() == b"POST 5"
    connection.close()


def test_streaming_response_and_unknown_path(gateway: GatewayProcess) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=5)
    connection.request("GET", "/stream/")
    response = connection.getresponse()
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert response.read() == b"part 0\npart 1\npart 2\n"
    connection.request("GET", "/nowhere/")
    assert connection.getresponse().status == 404
    connection.close()


def test_health(gateway: GatewayProcess) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=5)
    connection.request("GET", "/healthz")
    response = connection.getresponse()
    assert (response.status, response.read()) == (200, b"ok\n")
    connection.close()


# -- HTTP: malformed requests -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /hello/ HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx", 400),
        (b"POST /upload/ HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        (b"GET /hello/ HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n", 400),
        (b"GET /hello/ HTTP/1.1\r\nHost: a\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n", 431),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"NONSENSE\r\n\r\n", 400),
    ],
    ids=["two-content-lengths", "content-length-and-chunked", "space-in-name", "huge-header", "long-line", "garbage"],
)
def test_malformed_requests_get_4xx_and_close(gateway: GatewayProcess, request_bytes: bytes, status: int) -> None:
    answer = raw_exchange(gateway, request_bytes)
    assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer[:200]
    assert b"Connection: close" in answer


def test_slow_request_head_gets_408(gateway: GatewayProcess) -> None:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as sock:
        sock.sendall(b"GET /hello/ HTTP/1.1\r\nHost: a\r\n")  # and never the blank line
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert 0.75 < time.monotonic() - started < 3  # 80-100 % of header_timeout (1 s)


# -- HTTP: consumers over the channel layer ------------------------------------------------------


def test_http_consumer_streams_its_response(gateway: GatewayProcess) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=5)
    connection.request("GET", "/consumer/stream/")
    response = connection.getresponse()
    assert response.status == 200
    assert response.read() == b"one\ntwo\nthree\n"
    connection.request("POST", "/consumer/echo/", body=b"payload")
    response = connection.getresponse()
    assert (response.status, response.read()) == (201, b"POST payload")
    connection.close()


# -- WebSocket ----------------------------------------------------------------------------


def test_accepted_without_connect_consumer_and_echoes_text_and_bytes(gateway: GatewayProcess) -> None:
    ws = gateway.websocket("/frames/")
    ws.send("hello")
    assert ws.recv() == "hello"
    ws.send_binary(b"\x00\xffbinary")
    assert ws.recv() == b"\x00\xffbinary"
    ws.close()


def test_connect_consumer_accepts(gateway: GatewayProcess) -> None:
    ws = gateway.websocket("/accept/")
    ws.send("ok")
    assert ws.recv() == "ok"
    ws.close()


@pytest.mark.parametrize("path", ["/refuse/", "/failing/"])
def test_connect_consumer_refuses(gateway: GatewayProcess, path: str) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        gateway.websocket(path)
    assert refused.value.status_code == 403


def test_unanswered_connect_is_refused_after_the_timeout(gateway: GatewayProcess) -> None:
    started = time.monotonic()
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        gateway.websocket("/silent/")
    assert refused.value.status_code == 403
    assert 1.9 < time.monotonic() - started < 4  # accept_timeout is 2 s in the test project


@pytest.mark.parametrize("origin", ["http://evil.example", "null"])
def test_foreign_origin_is_refused(gateway: GatewayProcess, origin: str) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        gateway.websocket("/frames/", origin=origin)
    assert refused.value.status_code == 403


def test_consumer_closes_with_its_code(gateway: GatewayProcess) -> None:
    ws = gateway.websocket("/close/")
    ws.send("4004")
    assert ws.recv() == "bye"
    assert close_code(ws) == 4004
    ws.shutdown()


def test_too_big_message_closes_with_1009(gateway: GatewayProcess) -> None:
    ws = gateway.websocket("/frames/")
    ws.send("x" * (1024 * 1024 + 1))
    assert close_code(ws) == 1009
    ws.shutdown()


def test_invalid_utf8_closes_with_1007(gateway: GatewayProcess) -> None:
    ws = gateway.websocket("/frames/")
    ws.send(b"\xff\xfe", opcode=websocket.ABNF.OPCODE_TEXT)
    assert close_code(ws) == 1007
    ws.shutdown()


def test_group_broadcast_reaches_every_member(gateway: GatewayProcess) -> None:
    members = [gateway.websocket("/chat/lobby/") for _ in range(3)]
    outsider = gateway.websocket("/chat/other/")
    time.sleep(0.2)  # the connect consumers have added them
    members[0].send("hi all")
    assert [ws.recv() for ws in members] == ["hi all"] * 3
    outsider.settimeout(0.5)
    with pytest.raises(websocket.WebSocketTimeoutException):
        outsider.recv()
    for ws in [*members, outsider]:
        ws.close()


def test_messages_keep_their_order(gateway: GatewayProcess) -> None:
    ws = gateway.websocket("/frames/")
    for number in range(200):
        ws.send(str(number))
    assert [ws.recv() for _ in range(200)] == [str(number) for number in range(200)]
    ws.close()


def test_slow_reader_is_closed_and_others_are_served(gateway: GatewayProcess) -> None:
    slow = gateway.websocket("/flood/")
    slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.send("2000")  # 2000 messages of 10 kB, never read
    time.sleep(1.5)
    other = gateway.websocket("/frames/")
    other.send("still here")
    assert other.recv() == "still here"
    other.close()
    codes = []
    try:  # what the slow client finds once it reads: a close 1013, or a reset socket
        while True:
            opcode, frame = slow.recv_data_frame(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                codes.append(int.from_bytes(frame.data[:2], "big"))
                break
    except (websocket.WebSocketConnectionClosedException, ConnectionError):
        codes.append(1006)
    slow.shutdown()
    assert codes in ([1013], [1006])
    assert "send queue full" in gateway.log()


# -- process ---------------------------------------------------------------------------------


def test_connection_limit(tmp_path: Path) -> None:
    process = start(tmp_path, "limited", max_connections=2)
    try:
        open_sockets = [process.websocket("/frames/") for _ in range(2)]
        answer = raw_exchange(process, b"GET /hello/ HTTP/1.1\r\nHost: a\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 503 ")
        for ws in open_sockets:
            ws.close()
    finally:
        process.stop()


def test_idle_sockets_are_closed_but_listeners_that_are_sent_messages_stay(tmp_path: Path) -> None:
    process = start(tmp_path, "idle", idle_timeout=1.5, ping_interval=0.5)
    try:
        silent = process.websocket("/chat/quiet/")
        silent_closed: list[tuple[int, float]] = []  # reading answers the pings; it says nothing
        reader = threading.Thread(target=lambda: silent_closed.append((close_code(silent), time.monotonic())))
        reader.start()
        listener, speaker = process.websocket("/chat/busy/"), process.websocket("/chat/busy/")
        time.sleep(0.2)
        started = time.monotonic()
        heard = 0
        while time.monotonic() - started < 4:  # well past idle_timeout
            speaker.send("news")
            assert listener.recv() == "news"
            assert speaker.recv() == "news"
            heard += 1
            time.sleep(0.3)
        assert heard >= 10
        reader.join(timeout=5)
        assert silent_closed and silent_closed[0][0] == 1001
        assert silent_closed[0][1] - started < 2.5
        silent.shutdown()
        for ws in (listener, speaker):
            ws.close()
    finally:
        process.stop()


def test_graceful_shutdown_closes_websockets_with_1001(tmp_path: Path) -> None:
    process = start(tmp_path, "shutdown")
    sockets = [process.websocket("/frames/") for _ in range(5)]
    codes: list[int] = []
    readers = [threading.Thread(target=lambda ws=ws: codes.append(close_code(ws))) for ws in sockets]
    for reader in readers:
        reader.start()
    started = time.monotonic()
    process.signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    for reader in readers:
        reader.join(5)
    for ws in sockets:
        ws.shutdown()
    assert codes == [1001] * 5
    assert time.monotonic() - started < 10
    assert "gateway stopped" in process.log()


def test_message_within_the_frame_limit_but_too_big_for_the_layer_closes_with_1009(gateway: GatewayProcess) -> None:
    ws = gateway.websocket("/frames/")
    ws.send("x" * (1024 * 1024 - 10))  # the layer's limit counts the message around the text too
    assert close_code(ws) == 1009
    ws.shutdown()


def test_shutdown_drops_clients_that_do_not_answer_the_close(tmp_path: Path) -> None:
    process = start(tmp_path, "deaf", shutdown_timeout=2.0)
    deaf = [process.websocket("/frames/") for _ in range(3)]  # never read: the close stays unanswered
    started = time.monotonic()
    process.signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    assert time.monotonic() - started < 4
    assert "dropping 3 WebSockets that did not answer the close" in process.log()
    assert "Traceback" not in process.log()
    for ws in deaf:
        ws.shutdown()


def test_metrics(gateway: GatewayProcess) -> None:
    ws = gateway.websocket("/frames/")
    ws.send("counted")
    assert ws.recv() == "counted"
    with pytest.raises(websocket.WebSocketBadStatusException):
        gateway.websocket("/refuse/")
    raw_exchange(gateway, b"GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n")
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=5)
    connection.request("GET", "/metrics")
    response = connection.getresponse()
    text = response.read().decode()
    connection.close()
    ws.close()
    assert response.getheader("Content-Type").startswith("text/plain; version=0.0.4")
    samples = dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
    assert float(samples['realtime_gateway_handshakes_total{outcome="accepted"}']) >= 1
    assert float(samples['realtime_gateway_handshakes_total{outcome="refused"}']) >= 1
    assert float(samples['realtime_gateway_websocket_messages_total{direction="in"}']) >= 1
    assert float(samples['realtime_gateway_websocket_messages_total{direction="out"}']) >= 1
    assert float(samples['realtime_gateway_bad_requests_total{status="400"}']) >= 1
    assert float(samples['realtime_gateway_connections{protocol="websocket"}']) >= 1
    assert "realtime_layer_dropped_messages_total" in text


def test_a_project_without_any_connect_route_accepts_connections(tmp_path: Path) -> None:
    process = GatewayProcess("memory://", "noconnect", tmp_path / "gateway.log", with_worker=True)
    process.env["REALTIME_TEST_ROUTING"] = "tests.workerproject.routing.receive_only_routing"
    process.start()
    try:
        started = time.monotonic()
        ws = process.websocket("/anything/")
        assert time.monotonic() - started < 1  # accepted by the worker's notice, not a timeout
        ws.send("hi")
        assert ws.recv() == "hi"
        ws.close()
    finally:
        process.stop()


def test_client_address_and_scheme_from_a_trusted_proxy(gateway: GatewayProcess) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=5)
    connection.request("GET", "/whoami/", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"})
    assert connection.getresponse().read() == b"203.0.113.7 https"
    connection.request("GET", "/whoami/")
    assert connection.getresponse().read() == b"127.0.0.1 http"
    connection.close()
    assert '203.0.113.7 - "GET /whoami/ HTTP/1.1" 200' in gateway.log()
