"""The gateway in production shape: ``realtime-gateway`` processes and Celery workers on a
real broker (RabbitMQ and Redis)."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from celery import Celery

from ..brokers import require
from ..gateways import GatewayProcess
from ..workers import BROKERS, Setup


class Deployment:
    """A broker namespace with workers and gateways on it."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.gateways: list[GatewayProcess] = []

    def gateway(self) -> GatewayProcess:
        name = f"gateway{len(self.gateways)}"
        process = GatewayProcess(self.setup.url, self.setup.prefix, self.setup.tmp_path / f"{name}.log")
        self.gateways.append(process.start())
        return process

    def send_task(self, name: str, *args: object) -> None:
        client = Celery("client", broker=self.setup.url, set_as_current=False)
        client.send_task(name, args, queue=f"{self.setup.prefix}-celery")
        client.close()

    def wait_for(self, channel: str, predicate: Callable[[dict], bool], timeout: float = 10) -> dict:
        """The first message on ``channel`` that satisfies ``predicate`` (earlier tests' are skipped)."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            message = self.setup.layer.receive(channel, timeout=remaining)
            if message is not None and predicate(message):
                return message
        raise AssertionError(f"no matching message on {channel} within {timeout} s")

    def close(self) -> None:
        for process in self.gateways:
            process.stop()
        self.setup.close()


@pytest.fixture(scope="module", params=sorted(BROKERS))
def deployment(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Two gateways and one 4-process worker on each broker."""
    require(BROKERS[request.param])
    deployment = Deployment(Setup(BROKERS[request.param], tmp_path_factory.mktemp(request.param)))
    deployment.setup.worker(concurrency=4)
    deployment.gateway()
    deployment.gateway()
    yield deployment
    deployment.close()


def test_echo_through_a_celery_worker(deployment: Deployment) -> None:
    ws = deployment.gateways[0].websocket("/accept/")
    ws.send("through the broker")
    assert ws.recv() == "through the broker"
    ws.close()


def test_group_broadcast_across_two_gateways(deployment: Deployment) -> None:
    first = [deployment.gateways[0].websocket("/chat/both/") for _ in range(2)]
    second = [deployment.gateways[1].websocket("/chat/both/") for _ in range(2)]
    time.sleep(0.3)  # the connect consumers have run
    second[0].send("one publish, every gateway")
    assert [ws.recv() for ws in first + second] == ["one publish, every gateway"] * 4
    for ws in first + second:
        ws.close()


def test_messages_of_a_connection_run_in_order_on_four_processes(deployment: Deployment) -> None:
    sockets = [deployment.gateways[n % 2].websocket("/ordered/") for n in range(8)]
    for ws in sockets:
        assert ws.recv() == "connected"  # the slow connect consumer ran before any receive
    for number in range(20):
        for ws in sockets:
            ws.send(str(number))
    for ws in sockets:
        assert [ws.recv() for _ in range(20)] == [str(number) for number in range(20)]
        ws.close()


def test_disconnect_reaches_the_consumer_with_the_close_code(deployment: Deployment) -> None:
    ws = deployment.gateways[1].websocket("/frames/")
    ws.close(status=4321)
    message = deployment.wait_for("test.disconnects", lambda m: m["path"] == "/frames/")
    assert message["code"] == 4321


def test_long_poll_completed_by_a_task(deployment: Deployment) -> None:
    answers: list[tuple[int, bytes]] = []

    def poll() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", deployment.gateways[0].port, timeout=20)
        connection.request("GET", "/consumer/poll/")
        response = connection.getresponse()
        answers.append((response.status, response.read()))
        connection.close()

    pollers = [threading.Thread(target=poll) for _ in range(3)]
    for poller in pollers:
        poller.start()
    for _ in pollers:
        deployment.setup.expect("test.polls")
    deployment.send_task("workerproject.complete_long_polls", "news arrived")
    for poller in pollers:
        poller.join(20)
    assert answers == [(200, b"news arrived")] * 3


def test_a_client_leaving_a_long_poll_produces_http_disconnect(deployment: Deployment) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", deployment.gateways[1].port, timeout=20)
    connection.request("GET", "/consumer/poll/")
    deployment.setup.expect("test.polls")
    connection.close()
    message = deployment.wait_for("test.disconnects", lambda m: m["code"] == "http")
    assert message["path"] == "/consumer/poll/"
