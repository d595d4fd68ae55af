"""A hung broker (RELIABILITY.md T10): SIGSTOP a private RabbitMQ under a gateway and a
worker, then SIGCONT. The gateway's event loop must not stall meanwhile (Django views
keep answering), and traffic must flow again after."""

from __future__ import annotations

import http.client
import statistics
import time
from pathlib import Path

import pytest
import websocket

from ..brokers import PrivateRabbitMQ
from ..gateways import GatewayProcess
from ..workers import Setup
from .conftest import Record


def hello_latencies(port: int, seconds: float) -> list[float]:
    """GET /hello/ on one keep-alive connection for ``seconds``; each request's latency."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    latencies, deadline = [], time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            started = time.monotonic()
            connection.request("GET", "/hello/")
            assert connection.getresponse().read() == b"Hello world"
            latencies.append(time.monotonic() - started)
            time.sleep(0.02)
    finally:
        connection.close()
    return latencies


def outcome_within(ws: websocket.WebSocket, seconds: float) -> str:
    """The socket's next text message, or ``closed <code>``; pings do not count, so a socket
    that gets neither within ``seconds`` fails the test instead of waiting forever."""
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        ws.settimeout(remaining)
        try:
            opcode, frame = ws.recv_data_frame(control_frame=True)
        except websocket.WebSocketTimeoutException:
            break
        if opcode == websocket.ABNF.OPCODE_TEXT:
            return frame.data.decode()
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return f"closed {int.from_bytes(frame.data[:2], 'big')}"
    raise AssertionError(f"the socket got neither its echo nor a close within {seconds} s")


@pytest.mark.timeout(240)
@pytest.mark.parametrize("hang_seconds", [10.0, pytest.param(30.0, marks=pytest.mark.slow)], ids=["10s", "30s"])
def test_t10_a_hung_broker_does_not_stall_the_gateway(
    private_rabbitmq: PrivateRabbitMQ, tmp_path: Path, record: Record, hang_seconds: float
) -> None:
    setup = Setup(private_rabbitmq.url, tmp_path)
    process = GatewayProcess(
        private_rabbitmq.url, setup.prefix, tmp_path / "gateway.log", gateway_settings={"ordering_timeout": 5.0}
    )
    try:
        setup.worker(concurrency=2)
        process.start()
        ws = process.websocket("/frames/", timeout=60)
        ws.send("before")
        assert ws.recv() == "before"

        private_rabbitmq.pause()
        hung = time.monotonic()
        ws.send("during")  # its publish waits for the broker in this socket's greenlet only
        latencies = hello_latencies(process.port, hang_seconds)
        private_rabbitmq.resume()
        resumed = time.monotonic()

        # After the hang the socket either gets "during" or is closed with 1013 (try again
        # later) by a publish that gave up; a new socket works either way.
        try:
            during = outcome_within(ws, 30)
        finally:
            ws.shutdown()
        assert during in ("during", "closed 1013"), during
        fresh = process.websocket("/frames/", timeout=60)
        fresh.send("after")
        assert fresh.recv() == "after"
        recovered = time.monotonic() - resumed
        fresh.close()
        record(hang_seconds=round(resumed - hung, 2), hello_requests=len(latencies),
               hello_p50_ms=round(statistics.median(latencies) * 1000, 2),
               hello_max_ms=round(max(latencies) * 1000, 2), during=during,
               recovered_seconds_after_resume=round(recovered, 2))  # fmt: skip
        assert max(latencies) < 0.1, f"the gateway stalled: a view took {max(latencies) * 1000:.0f} ms"
    finally:
        private_rabbitmq.resume()  # a failure during the hang must not leave it stopped
        process.stop()
        setup.workers and setup.workers[0].stop(timeout=10)
