"""Slowloris (RELIABILITY.md T7, CI version): 2,000 connections trickle a request head one
byte at a time; each is closed by the header deadline, and a normal client is served
meanwhile."""

from __future__ import annotations

import json
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..gateways import GatewayProcess
from .conftest import Record

SLOW_CLIENTS = 2000
HEADER_TIMEOUT = 2.0
NORMAL_CLIENT = """
import http.client, json, sys, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
latencies, end = [], time.monotonic() + seconds
while time.monotonic() < end:
    started = time.monotonic()
    connection.request("GET", "/hello/")
    assert connection.getresponse().read() == b"Hello world"
    latencies.append(time.monotonic() - started)
    time.sleep(0.01)
print(json.dumps(latencies))
"""


@pytest.mark.timeout(120)
def test_t7_slow_heads_are_cut_off_and_others_are_served(tmp_path: Path, record: Record) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))  # the gateway inherits it
    process = GatewayProcess(
        "memory://", "slowloris", tmp_path / "gateway.log", with_worker=True,
        gateway_settings={"header_timeout": HEADER_TIMEOUT, "max_connections": 5000},
    ).start()  # fmt: skip
    selector = selectors.DefaultSelector()
    opened: dict[socket.socket, float] = {}
    try:
        for _ in range(SLOW_CLIENTS):
            sock = socket.create_connection(("127.0.0.1", process.port), timeout=5)
            sock.sendall(b"GET /hello/ HTTP/1.1\r\nX-Slow: ")
            sock.setblocking(False)
            opened[sock] = time.monotonic()
            selector.register(sock, selectors.EVENT_READ)
        closed_after: list[float] = []
        # A well-behaved client in a process of its own (this one is busy attacking), every
        # 10 ms while the attack lasts.
        measuring = subprocess.Popen(
            [sys.executable, "-c", NORMAL_CLIENT, str(process.port), str(HEADER_TIMEOUT + 1)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + HEADER_TIMEOUT + 10
        next_trickle = time.monotonic()
        while opened and time.monotonic() < deadline:
            if time.monotonic() >= next_trickle:  # one more byte each, every 0.5 s
                for sock in opened:
                    try:
                        sock.send(b"a")
                    except OSError:
                        pass
                next_trickle = time.monotonic() + 0.5
            for key, _ in selector.select(timeout=0.05):
                sock = key.fileobj  # type: ignore[assignment]
                try:
                    data = sock.recv(4096)
                except (BlockingIOError, ConnectionError):
                    data = b""
                if not data or data.startswith(b"HTTP/1.1 408"):
                    closed_after.append(time.monotonic() - opened.pop(sock))
                    selector.unregister(sock)
                    sock.close()
        latencies = json.loads(measuring.communicate(timeout=30)[0])
        p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) > 1 else latencies[0]
        record(slow_clients=SLOW_CLIENTS, cut_off=len(closed_after), still_open=len(opened),
               slowest_cut_off_s=round(max(closed_after), 2), header_timeout_s=HEADER_TIMEOUT,
               normal_requests=len(latencies), normal_p99_ms=round(p99 * 1000, 2))  # fmt: skip
        assert not opened, f"{len(opened)} slow clients still open"
        assert max(closed_after) < HEADER_TIMEOUT + 1.5
        assert p99 < 0.05
    finally:
        for sock in opened:
            sock.close()
        selector.close()
        process.stop()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
