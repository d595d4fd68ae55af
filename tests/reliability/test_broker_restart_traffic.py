"""Broker restarts under traffic (RELIABILITY.md T9): group sends flow to 20 sockets in 4
groups for 5 minutes while a private RabbitMQ is SIGKILLed and started again every minute
(with --slow: 1,000 sockets in 10 groups at 200 sends a second, across one restart).
Counted: what was lost, duplicates (never), how long until sends succeed again after each
restart, and that a send after the last recovery reaches every socket."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import websocket

from realtime.exceptions import BrokerUnavailable
from realtime.layers.config import LayerConfig
from realtime.layers.core import SyncChannelLayer

from ..brokers import PrivateRabbitMQ
from ..gateways import GatewayProcess
from ..workers import Setup
from .conftest import Record

# (groups, sockets per group, group sends a second, seconds of traffic, seconds between
# restarts): the CI version, and RELIABILITY.md's size.
SIZES = [
    pytest.param((4, 5, 50, 300, 60), id="20-sockets-5-restarts"),
    pytest.param((10, 100, 200, 16, 60), id="1000-sockets", marks=pytest.mark.slow),
]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("size", SIZES)
def test_t9_group_traffic_across_broker_restarts(
    private_rabbitmq: PrivateRabbitMQ, tmp_path: Path, record: Record, size: tuple[int, int, int, int, int]
) -> None:
    groups, per_group, rate, seconds, restart_every = size
    setup = Setup(private_rabbitmq.url, tmp_path)
    gateway = GatewayProcess(private_rabbitmq.url, setup.prefix, tmp_path / "gateway.log")
    publisher = SyncChannelLayer(LayerConfig(url=private_rabbitmq.url, prefix=setup.prefix, connect_timeout=1.0))
    sockets: dict[int, list[websocket.WebSocket]] = {}
    received: dict[int, list[Counter[str]]] = {}
    stop = threading.Event()
    try:
        setup.worker(concurrency=2)
        gateway.start()
        for group in range(groups):
            sockets[group] = [gateway.websocket(f"/chat/t9g{group}/", timeout=60) for _ in range(per_group)]
            received[group] = [Counter() for _ in range(per_group)]
        time.sleep(0.5)

        def read(group: int, index: int) -> None:
            ws = sockets[group][index]
            ws.settimeout(0.5)
            while not stop.is_set():
                try:
                    received[group][index][ws.recv()] += 1
                except websocket.WebSocketTimeoutException:
                    continue
                except Exception:  # the test ends, or the socket was closed
                    return

        readers = [threading.Thread(target=read, args=(g, i)) for g in range(groups) for i in range(per_group)]
        for reader in readers:
            reader.start()

        sent: dict[int, list[str]] = {group: [] for group in range(groups)}
        failed_sends = 0
        # Per restart: seconds from the broker accepting connections again to the first send
        # that went through (None until then).
        recoveries: list[float | None] = []
        restarted: float | None = None
        restarter: threading.Thread | None = None

        def restart() -> None:
            private_rabbitmq.kill()
            private_rabbitmq.start()  # accepting connections again a few seconds later

        started, sequence, next_restart = time.monotonic(), 0, 3.0
        while time.monotonic() - started < seconds:
            elapsed = time.monotonic() - started
            if elapsed >= next_restart and (restarter is None or not restarter.is_alive()):
                restarter = threading.Thread(target=restart)  # sends go on while the broker is down
                restarter.start()
                restarted, next_restart = None, next_restart + restart_every
                recoveries.append(None)
            if restarted is None and restarter is not None and not restarter.is_alive():
                restarted = time.monotonic()
            group, text = sequence % groups, f"m{sequence}"
            try:
                publisher.group_send(f"chat-t9g{group}", {"text": text})
                sent[group].append(text)
                if restarted is not None and recoveries[-1] is None:
                    recoveries[-1] = round(time.monotonic() - restarted, 2)
            except BrokerUnavailable:
                failed_sends += 1
            sequence += 1
            time.sleep(1 / rate)
        time.sleep(1.0)
        final = "after recovery"
        publisher.group_send("chat-t9g0", {"text": final})
        time.sleep(1.0)
        stop.set()
        for reader in readers:
            reader.join(5)

        expected = sum(len(sent[group]) * per_group for group in range(groups))
        copies = sum(counter[text] for g in range(groups) for counter in received[g] for text in sent[g])
        duplicates = sum(
            count - 1 for g in range(groups) for counter in received[g] for count in counter.values() if count > 1
        )
        final_reached = sum(1 for counter in received[0] if counter[final] == 1)
        assert restarter is not None
        restarter.join(60)
        record(sockets=groups * per_group, traffic_seconds=seconds, restarts=len(recoveries),
               sends_ok=sum(map(len, sent.values())), sends_refused=failed_sends,
               copies_expected=expected, copies_received=copies, copies_lost=expected - copies,
               duplicates=duplicates, seconds_to_first_send_after_each_restart=recoveries,
               final_send_reached=f"{final_reached}/{per_group}")  # fmt: skip
        assert duplicates == 0
        assert final_reached == per_group  # memberships were bound again without anyone re-joining
        assert recoveries and all(seconds is not None and seconds < 30 for seconds in recoveries)
        assert expected - copies <= expected * 0.2  # what the broker held at the kill, and sends before re-binding
    finally:
        stop.set()
        for group_sockets in sockets.values():
            for ws in group_sockets:
                ws.shutdown()
        publisher.close()
        gateway.stop()
        for worker in setup.workers:
            worker.stop(timeout=10)
