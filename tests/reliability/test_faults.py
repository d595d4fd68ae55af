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


@pytest.mark.timeout(180)
def test_t11_a_worker_killed_mid_message_loses_only_that_message(setup: Setup, record: Record) -> None:
    worker = setup.worker(concurrency=2)
    process = gateway(setup, "crash", ordering_timeout=2.0)
    try:
        ws = process.websocket("/sleepy/", timeout=30)
        ws.send("3")
        assert ws.recv() == "started 3"
        worker.kill()  # SIGKILL, the worker and its pool, mid-message
        killed = time.monotonic()
        setup.worker(concurrency=2)
        ws.send("0")  # the socket is still open; the next message flows once a worker is back
        answers = [ws.recv(), ws.recv()]
        recovered = time.monotonic() - killed
        ws.close()
        record(lost=["finished 3"], later=answers, seconds_to_next_answer=round(recovered, 2))
        assert answers == ["started 0", "finished 0"]  # never "finished 3": at-most-once, nothing run twice
    finally:
        process.stop()


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
