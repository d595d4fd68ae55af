"""A broker restart under a running gateway and worker: open sockets keep working.

Runs against brokers of its own (never the machine's shared services).
"""

from __future__ import annotations

import http.client
import time
from pathlib import Path

import pytest

from ..brokers import PrivateBroker
from ..gateways import GatewayProcess
from ..workers import Setup


def health(gateway: GatewayProcess) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def wait_for_health(gateway: GatewayProcess, status: int, timeout: float) -> float:
    """Seconds until ``/healthz`` answers ``status``."""
    started = time.monotonic()
    while health(gateway) != status:
        assert time.monotonic() - started < timeout, f"/healthz did not answer {status} within {timeout} s"
        time.sleep(0.2)
    return time.monotonic() - started


@pytest.mark.timeout(240)
def test_sockets_and_groups_survive_a_broker_restart(private_broker: PrivateBroker, tmp_path: Path) -> None:
    setup = Setup(private_broker.url, tmp_path)
    gateway = GatewayProcess(private_broker.url, setup.prefix, tmp_path / "gateway.log")
    members = []
    try:
        setup.worker(concurrency=2)
        gateway.start()
        members += [gateway.websocket("/chat/restart/", timeout=30) for _ in range(2)]
        time.sleep(0.3)
        members[0].send("before")
        assert [ws.recv() for ws in members] == ["before", "before"]

        private_broker.kill()
        wait_for_health(gateway, 503, timeout=30)
        private_broker.start()
        recovered = wait_for_health(gateway, 200, timeout=60)

        # Nobody joins the room again: the gateway binds its members itself, the worker
        # reconnects, and the sockets opened before the restart carry on.
        members[1].send("after")
        assert [ws.recv() for ws in members] == ["after", "after"]
        print(f"gateway healthy again {recovered:.1f} s after the broker restarted")
        assert "re-created after a broker failure; binding 2 memberships again" in gateway.log()
    finally:
        for ws in members:
            ws.shutdown()
        gateway.stop()
        setup.close()
