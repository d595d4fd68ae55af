"""A broker restart under traffic (RELIABILITY.md T9): group sends flow to 20 sockets in 4
groups (1,000 sockets in 10 groups with --slow) while a private RabbitMQ is SIGKILLed and
started again. Counted: what was lost, duplicates (never), how long until sends succeed
again, and that a send after recovery reaches every socket."""

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

# (groups, sockets per group, group sends a second): the CI version, and RELIABILITY.md's size.
SIZES = [
    pytest.param((4, 5, 50), id="20-sockets"),
    pytest.param((10, 100, 200), id="1000-sockets", marks=pytest.mark.slow),
]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("size", SIZES)
def test_t9_group_traffic_across_a_broker_restart(
    private_rabbitmq: PrivateRabbitMQ, tmp_path: Path, record: Record, size: tuple[int, int, int]
) -> None:
    groups, per_group, rate = size
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
        failed_sends, first_success_after_restart = 0, None
        restarted: float | None = None
        restarter: threading.Thread | None = None

        def restart() -> None:
            private_rabbitmq.kill()
            private_rabbitmq.start()  # accepting connections again a few seconds later

        started, sequence = time.monotonic(), 0
        while time.monotonic() - started < 16:
            elapsed = time.monotonic() - started
            if restarter is None and elapsed >= 3:  # sends go on while the broker is down
                restarter = threading.Thread(target=restart)
                restarter.start()
            if restarted is None and restarter is not None and not restarter.is_alive():
                restarted = time.monotonic()
            group, text = sequence % groups, f"m{sequence}"
            try:
                publisher.group_send(f"chat-t9g{group}", {"text": text})
                sent[group].append(text)
                if restarted is not None and first_success_after_restart is None:
                    first_success_after_restart = time.monotonic() - restarted
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
        record(sockets=groups * per_group, sends_ok=sum(map(len, sent.values())), sends_refused=failed_sends,
               copies_expected=expected, copies_received=copies, copies_lost=expected - copies,
               duplicates=duplicates, seconds_to_first_send_after_restart=first_success_after_restart,
               final_send_reached=f"{final_reached}/{per_group}")  # fmt: skip
        assert duplicates == 0
        assert final_reached == per_group  # memberships were bound again without anyone re-joining
        assert first_success_after_restart is not None and first_success_after_restart < 30
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
