"""Faults with real processes on RabbitMQ (RELIABILITY.md T11, T12, T18): a worker killed
mid-message, a gateway killed with sockets in a group, and ordering under four worker
processes. Each test writes its figures as JSON."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import websocket

from ..brokers import AMQP_URL, require
from ..gateways import GatewayProcess
from ..workers import Setup
from .conftest import Record


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    require(AMQP_URL)
    setup = Setup(AMQP_URL, tmp_path)
    yield setup
    setup.close()


def gateway(setup: Setup, name: str, **settings: object) -> GatewayProcess:
    return GatewayProcess(setup.url, setup.prefix, setup.tmp_path / f"{name}.log", gateway_settings=settings).start()


@pytest.mark.timeout(180)
def test_t18_ten_thousand_messages_keep_their_order_on_four_processes(setup: Setup, record: Record) -> None:
    setup.worker(concurrency=4)
    process = gateway(setup, "ordering")
    try:
        ws = process.websocket("/frames/", timeout=30)
        count, received = 10_000, []

        def read() -> None:
            received.extend(ws.recv() for _ in range(count))

        reader = threading.Thread(target=read)
        reader.start()
        started = time.monotonic()
        for number in range(count):
            ws.send(str(number))
        reader.join(150)
        elapsed = time.monotonic() - started
        ws.close()
        numbers = [int(text) for text in received]
        reordered = sum(1 for before, after in itertools.pairwise(numbers) if after < before)
        record(sent=count, received=len(numbers), reorderings=reordered, transfer_seconds=round(elapsed, 2),
               msgs_per_second=round(len(numbers) / elapsed))  # fmt: skip
        assert numbers == list(range(count))
    finally:
        process.stop()


@pytest.mark.timeout(600)
def test_t11_workers_killed_mid_message_for_five_minutes_lose_only_those_messages(setup: Setup, record: Record) -> None:
    """Every minute for 5 minutes a worker is SIGKILLed while a consumer sleeps, and a new one
    is started, while another socket echoes ten messages a second throughout. Each kill
    loses the message it was running, which is never run twice, and at most ``concurrency``
    echoes; both sockets stay open and carry on."""
    worker = setup.worker(concurrency=2)
    process = gateway(setup, "crash", ordering_timeout=2.0)
    sleeper, echo = process.websocket("/sleepy/", timeout=30), process.websocket("/frames/", timeout=30)
    echoed: list[str] = []
    stop = threading.Event()

    def read_echoes() -> None:
        echo.settimeout(1)
        while not stop.is_set():
            try:
                echoed.append(echo.recv())
            except websocket.WebSocketTimeoutException:
                continue

    def send_echoes() -> None:
        for number in itertools.count():
            if stop.wait(0.1):
                return
            echo.send(str(number))
            sent.append(str(number))

    sent: list[str] = []
    threads = [threading.Thread(target=read_echoes), threading.Thread(target=send_echoes)]
    try:
        for thread in threads:
            thread.start()
        started, recoveries, answers = time.monotonic(), [], []
        while time.monotonic() - started < 250:  # a kill at 0, 60, 120, 180 and 240 s
            cycle = time.monotonic()
            sleeper.send("3")
            assert sleeper.recv() == "started 3"
            worker.kill()  # SIGKILL, the worker and its pool, mid-message
            killed = time.monotonic()
            worker = setup.worker(concurrency=2)
            sleeper.send("0")  # the socket is still open; the next message flows once a worker is back
            answers += [sleeper.recv(), sleeper.recv()]
            recoveries.append(round(time.monotonic() - killed, 2))
            listen_quietly(sleeper, until=cycle + 60)
        time.sleep(3)  # the last echoes come back
        stop.set()
        for thread in threads:
            thread.join(5)
        lost_echoes = len(set(sent) - set(echoed))
        record(kills=len(recoveries), lost=["finished 3"] * len(recoveries), seconds_to_next_answer=recoveries,
               echoes_sent=len(sent), echoes_lost=lost_echoes, echoes_twice=len(echoed) - len(set(echoed)))  # fmt: skip
        assert answers == ["started 0", "finished 0"] * len(recoveries)  # never "finished 3", never run twice
        assert len(recoveries) >= 4  # a slow restart may push the fifth out
        assert lost_echoes <= 2 * len(recoveries)  # at most concurrency per kill
        assert len(echoed) == len(set(echoed))
    finally:
        stop.set()
        sleeper.close()
        echo.close()
        process.stop()


def listen_quietly(ws: websocket.WebSocket, until: float) -> None:
    """Read ``ws`` until the monotonic time ``until``, answering the gateway's pings; nothing
    may arrive."""
    while (remaining := until - time.monotonic()) > 0:
        ws.settimeout(min(remaining, 1.0))
        try:
            unexpected = ws.recv()
        except websocket.WebSocketTimeoutException:
            continue
        raise AssertionError(f"unexpected message {unexpected!r}")
    ws.settimeout(30)


@pytest.mark.timeout(180)
def test_t12_a_killed_gateway_leaves_no_inbox_and_groups_go_on(setup: Setup, record: Record) -> None:
    setup.worker(concurrency=2)
    doomed, survivor = gateway(setup, "doomed"), gateway(setup, "survivor")
    try:
        doomed_sockets = [doomed.websocket("/chat/faults/", timeout=30) for _ in range(50)]
        kept = [survivor.websocket("/chat/faults/", timeout=30) for _ in range(5)]
        time.sleep(0.5)
        assert len(_inboxes(setup)) == 2
        assert doomed.process is not None
        doomed.process.kill()  # SIGKILL with 50 sockets in the group
        killed = time.monotonic()
        while len(_inboxes(setup)) > 1:
            assert time.monotonic() - killed < 30, "the dead gateway's inbox is still there after 30 s"
            time.sleep(0.1)
        gone_after = time.monotonic() - killed
        started = time.monotonic()
        setup.layer.group_send("chat-faults", {"text": "still here"})  # neither raises nor blocks
        send_seconds = time.monotonic() - started
        assert [ws.recv() for ws in kept] == ["still here"] * 5
        record(inbox_gone_seconds=round(gone_after, 3), group_send_seconds=round(send_seconds, 4), survivors=len(kept))
        for ws in kept:
            ws.close()
        for ws in doomed_sockets:
            ws.shutdown()
    finally:
        survivor.stop()
        doomed.stop()


def _inboxes(setup: Setup) -> list[str]:
    """The gateways' inbox queues of this test's namespace (rabbitmqctl)."""
    import subprocess

    listing = subprocess.run(
        ["rabbitmqctl", "list_queues", "-q", "--no-table-headers", "name"], capture_output=True, text=True, timeout=30
    ).stdout.split()
    return [name for name in listing if name.startswith(f"{setup.prefix}.inbox.")]


@pytest.mark.timeout(180)
def test_t11_opt_in_at_least_once_runs_the_killed_task_again(setup: Setup, record: Record) -> None:
    """The opt-in of RELIABILITY.md T11, for work that must not be lost: an ordinary Celery
    task with acks_late and reject_on_worker_lost (consumers themselves stay at-most-once)."""
    from celery import Celery

    worker = setup.worker(concurrency=2)
    client = Celery("client", broker=setup.url, set_as_current=False)
    client.send_task("workerproject.durable", ("t11", 3.0), queue=f"{setup.prefix}-celery")
    client.close()
    assert setup.expect("test.durable", timeout=20)["event"] == "started"
    worker.kill()  # SIGKILL mid-task: the message was never acknowledged
    killed = time.monotonic()
    setup.worker(concurrency=2)
    events = [setup.expect("test.durable", timeout=60)["event"] for _ in range(2)]
    record(mode="acks_late + reject_on_worker_lost", runs_started=2, finished=events.count("finished"),
           lost=0, duplicate_starts=1, seconds_from_kill_to_finish=round(time.monotonic() - killed, 2))  # fmt: skip
    assert events == ["started", "finished"]  # run again from the start, to the end
