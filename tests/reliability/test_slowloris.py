"""Slowloris (RELIABILITY.md T7, CI version): 2,000 connections trickle a request head one
byte at a time and 500 WebSocket clients go silent after their handshake. The header
deadline cuts off the first, the keepalive ping the second, and a normal client is served
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

SLOW_HEADS = 2000
SILENT_SOCKETS = 500
HEADER_TIMEOUT = 10.0  # the default
PING_INTERVAL = 2.0
#: Each slow head sends one byte every TRICKLE_INTERVAL; a tenth of them at a time, as many
#: independent attackers would (2,000 in one instant measures the attacker's burst instead).
TRICKLE_INTERVAL = 0.5
TRICKLE_SLICES = 10
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


def open_silent_sockets(port: int, count: int) -> dict[socket.socket, float]:
    """``count`` WebSocket handshakes (sent together, then read), after which the client
    never sends a byte, not even a pong; each with the time its handshake was sent."""
    handshake = (
        f"GET /echo/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    ).encode()
    sockets = {}
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(handshake)
        sockets[sock] = time.monotonic()
    for sock in sockets:
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(4096) or b"EOF"
        assert answer.startswith(b"HTTP/1.1 101 "), answer
    return sockets


def open_slow_heads(port: int, count: int) -> dict[socket.socket, float]:
    """``count`` requests stopped in the middle of a header, each with its opening time."""
    sockets = {}
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET /hello/ HTTP/1.1\r\nX-Slow: ")
        sockets[sock] = time.monotonic()
    return sockets


def attack(
    slow_heads: dict[socket.socket, float], silent: dict[socket.socket, float], seconds: float
) -> dict[str, list[float]]:
    """Trickle the slow heads and read both kinds until the gateway closed them all (or
    ``seconds`` passed): how long each kind lived, and under ``"open"`` the survivors' ages."""
    started = time.monotonic()
    trickled = list(slow_heads)
    lifetimes: dict[str, list[float]] = {"slow_heads": [], "silent": [], "open": []}
    selector = selectors.DefaultSelector()
    for kind, sockets in (("slow_heads", slow_heads), ("silent", silent)):
        for sock, opened in sockets.items():
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ, (kind, opened))
    turn, next_trickle = 0, started
    try:
        while selector.get_map() and time.monotonic() - started < seconds:
            if time.monotonic() >= next_trickle:
                for sock in trickled[turn::TRICKLE_SLICES]:
                    try:
                        sock.send(b"a")
                    except OSError:
                        pass  # closed by the gateway: noticed below
                turn = (turn + 1) % TRICKLE_SLICES
                next_trickle += TRICKLE_INTERVAL / TRICKLE_SLICES
            for key, _ in selector.select(timeout=max(0.0, next_trickle - time.monotonic())):
                try:
                    data = key.fileobj.recv(4096)  # type: ignore[union-attr]
                except BlockingIOError:
                    continue
                except ConnectionError:
                    data = b""
                if not data or data.startswith(b"HTTP/1.1 408"):  # pings to the silent ones go unanswered
                    kind, opened = key.data
                    lifetimes[kind].append(time.monotonic() - opened)
                    selector.unregister(key.fileobj)
        lifetimes["open"] = [
            time.monotonic() - opened for _, opened in (key.data for key in selector.get_map().values())
        ]
    finally:
        selector.close()
        for sock in [*slow_heads, *silent]:
            sock.close()
    return lifetimes


@pytest.mark.timeout(120)
def test_t7_slow_heads_and_silent_sockets_are_cut_off_and_others_are_served(tmp_path: Path, record: Record) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))  # the gateway inherits it
    settings = {"header_timeout": HEADER_TIMEOUT, "ping_interval": PING_INTERVAL, "max_connections": 5000}
    process = GatewayProcess("memory://", "slowloris", tmp_path / "gateway.log", with_worker=True,
                             gateway_settings=settings).start()  # fmt: skip
    try:
        silent = open_silent_sockets(process.port, SILENT_SOCKETS)
        slow_heads = open_slow_heads(process.port, SLOW_HEADS)
        # A well-behaved client in a process of its own (this one is busy attacking), every
        # 10 ms while the attack lasts.
        measuring = subprocess.Popen(
            [sys.executable, "-c", NORMAL_CLIENT, str(process.port), str(HEADER_TIMEOUT + 1)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        lifetimes = attack(slow_heads, silent, seconds=HEADER_TIMEOUT + 10)
        latencies = json.loads(measuring.communicate(timeout=30)[0])
    finally:
        process.stop()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    p99 = statistics.quantiles(latencies, n=100)[98]
    record(slow_heads=SLOW_HEADS, silent_sockets=SILENT_SOCKETS, header_timeout_s=HEADER_TIMEOUT,
           ping_interval_s=PING_INTERVAL, heads_cut_off=len(lifetimes["slow_heads"]),
           silent_cut_off=len(lifetimes["silent"]), still_open=len(lifetimes["open"]),
           slowest_head_cut_off_s=round(max(lifetimes["slow_heads"], default=0), 2),
           slowest_silent_cut_off_s=round(max(lifetimes["silent"], default=0), 2),
           normal_requests=len(latencies), normal_p99_ms=round(p99 * 1000, 2))  # fmt: skip
    assert not lifetimes["open"], f"{len(lifetimes['open'])} attacking sockets still open"
    assert max(lifetimes["slow_heads"]) < HEADER_TIMEOUT + 1
    assert max(lifetimes["silent"]) < 2 * PING_INTERVAL + 1  # a ping, then one more interval
    assert p99 < 0.05
