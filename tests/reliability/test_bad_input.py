"""Bad input at the gateway (RELIABILITY.md T2, T6, T13, T15, T16): each refused with its
defined answer, none reaching Django or the channel layer, counted through /metrics."""

from __future__ import annotations

import base64
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import websocket

from ..gateways import GatewayProcess, close_code
from .conftest import Record, scrape

UPGRADE = (
    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Key: " + base64.b64encode(os.urandom(16)).decode() + "\r\n"
)

# RELIABILITY.md, "HTTP head inputs that gevent's pywsgi accepts and a strict parser rejects".
SMUGGLING = {
    "cl-and-te": "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
    "two-content-lengths": "Content-Length: 5\r\nContent-Length: 30\r\n",
    "te-chunked-identity": "Transfer-Encoding: chunked, identity\r\nContent-Length: 5\r\n",
    "space-before-colon": "Content-Length : 5\r\n",
    "plus-length": "Content-Length: +5\r\n",
    "underscore-length": "Content-Length: 1_0\r\n",
    "obs-fold-te": "Transfer-Encoding:\r\n chunked\r\n",
    "no-colon": "X-No-Colon\r\n",
    "bare-cr": "X-Padding: innocent\rX-Secret-Auth: admin\r\n",
    **{f"byte-{byte:02x}": f"X-Padding: a{chr(byte)}b\r\n" for byte in (0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x85)},
    "101-headers": "".join(f"X-H{n}: v\r\n" for n in range(101)),
    "70k-header": "X-Big: " + "a" * 70_000 + "\r\n",
    "two-hosts": "Host: b\r\n",
}
REQUEST_LINES = {"10k-request-line": "GET /" + "a" * 10_000 + " HTTP/1.1\r\n"}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    process = GatewayProcess(
        "memory://", "badinput", tmp_path_factory.mktemp("badinput") / "gateway.log", with_worker=True
    ).start()
    yield process
    process.stop()


def exchange(port: int, data: bytes) -> tuple[bytes, bool]:
    """Send ``data``; the answer and whether the gateway closed the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
            return answer, True
        except TimeoutError:
            return answer, False


def passed_through(gateway: GatewayProcess) -> float:
    """Requests that reached Django, the consumers or a handshake decision so far."""
    metrics = scrape(gateway.url)
    django = sum(
        v for k, v in metrics.items() if k.startswith("realtime_gateway_http_requests_total") and "django" in k
    )
    handshakes = sum(v for k, v in metrics.items() if k.startswith("realtime_gateway_handshakes_total"))
    return django + handshakes


@pytest.mark.parametrize("upgrade", [False, True], ids=["http", "websocket-upgrade"])
def test_t6_smuggling_corpus_is_refused_and_closed(gateway: GatewayProcess, upgrade: bool, record: Record) -> None:
    before = passed_through(gateway)
    outcomes = {}
    cases = {name: f"GET /hello/ HTTP/1.1\r\nHost: a\r\n{header}" for name, header in SMUGGLING.items()}
    cases.update({name: line + "Host: a\r\n" for name, line in REQUEST_LINES.items()})
    for name, head in cases.items():
        answer, closed = exchange(gateway.port, (head + (UPGRADE if upgrade else "") + "\r\n").encode("latin-1"))
        status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None
        outcomes[name] = {"status": status, "closed": closed}
    record(inputs=len(cases), outcomes=outcomes, reached_application=passed_through(gateway) - before)
    refused = {name for name, got in outcomes.items() if got["status"] in (400, 414, 431, 501) and got["closed"]}
    assert refused == set(cases), {name: outcomes[name] for name in set(cases) - refused}
    assert passed_through(gateway) == before  # none reached Django or the layer


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://127.0.0.1", True),
        ("https://localhost:8443", True),  # ALLOWED_HOSTS patterns: any scheme and port
        ("http://evil.example", False),
        ("http://127.0.0.1.evil.example", False),
        ("null", False),
        (None, False),
        ("", False),
        ("http://localhost:notaport", False),
    ],
)
def test_t16_origin_checked_before_anything_is_published(
    gateway: GatewayProcess, origin: str | None, allowed: bool, record: Record
) -> None:
    before = scrape(gateway.url)
    headers = [] if origin is None else [f"Origin: {origin}"]
    try:
        ws = websocket.create_connection(f"ws://127.0.0.1:{gateway.port}/frames/", header=headers, suppress_origin=True)
    except websocket.WebSocketBadStatusException as refused:
        status = refused.status_code
    else:
        status = 101
        ws.close()
    after = scrape(gateway.url)
    accepted = after.get('realtime_gateway_handshakes_total{outcome="accepted"}', 0) - before.get(
        'realtime_gateway_handshakes_total{outcome="accepted"}', 0
    )
    record(origin=origin, status=status, accepted=accepted)
    assert status == (101 if allowed else 403)
    if not allowed:
        assert accepted == 0
        key = 'realtime_gateway_handshakes_total{outcome="origin_refused"}'
        assert after.get(key, 0) == before.get(key, 0) + 1  # refused before websocket.connect was published


def test_t2_oversized_messages_close_with_1009(gateway: GatewayProcess, record: Record) -> None:
    limit = 1024 * 1024
    codes = {}
    for name, frames in {
        "single-frame": [(websocket.ABNF.OPCODE_TEXT, "x" * (limit + 1), True)],
        "fragmented": [
            (websocket.ABNF.OPCODE_TEXT, "x" * (limit // 2), False),
            (websocket.ABNF.OPCODE_CONT, "x" * (limit // 2 + 1), True),
        ],
    }.items():
        ws = websocket.create_connection(f"ws://127.0.0.1:{gateway.port}/frames/", origin="http://127.0.0.1")
        started = time.monotonic()
        for opcode, data, fin in frames:
            ws.send_frame(websocket.ABNF.create_frame(data, opcode, fin=int(fin)))
        codes[name] = (close_code(ws), round(time.monotonic() - started, 3))
        ws.shutdown()
    # A header that declares 2^63 bytes: refused at once, nothing buffered.
    ws = websocket.create_connection(f"ws://127.0.0.1:{gateway.port}/frames/", origin="http://127.0.0.1")
    ws.sock.sendall(bytes([0x81, 0x80 | 127]) + (2**63 - 1).to_bytes(8, "big") + os.urandom(4))
    codes["declared-2^63"] = (close_code(ws), 0)
    ws.shutdown()
    record(close_codes=codes)
    assert {name: code for name, (code, _) in codes.items()} == dict.fromkeys(codes, 1009)


def test_t15_application_close_code_arrives_intact(gateway: GatewayProcess, record: Record) -> None:
    ws = websocket.create_connection(f"ws://127.0.0.1:{gateway.port}/close/", origin="http://127.0.0.1")
    ws.send("4403")
    assert ws.recv() == "bye"
    code = close_code(ws)
    ws.shutdown()
    record(close_code=code)
    assert code == 4403


def test_t13_full_worker_channels(tmp_path: Path, record: Record) -> None:
    """No worker and channels that hold 2 messages: the third handshake gets 503, and a
    message to a full websocket.receive closes its socket with 1013."""
    process = GatewayProcess(
        "memory://",
        "capacity",
        tmp_path / "gateway.log",
        gateway_settings={"accept_timeout": 1.0, "ordering_timeout": 0.2},
    )
    process.env["REALTIME_TEST_LAYER_CONFIG"] = '{"worker_capacity": 2}'
    process.start()
    try:
        statuses = []
        for _ in range(3):  # nobody consumes websocket.connect: 2 fit, the third does not
            try:
                websocket.create_connection(f"ws://127.0.0.1:{process.port}/frames/", origin="http://127.0.0.1")
            except websocket.WebSocketBadStatusException as refused:
                statuses.append(refused.status_code)
        record(handshake_statuses=statuses)
        assert statuses == [403, 403, 503]  # two time out unanswered (no worker), the third finds the channel full
        log = process.log()
        assert "channel 'websocket.connect' holds 2 undelivered messages" in log
    finally:
        process.stop()
