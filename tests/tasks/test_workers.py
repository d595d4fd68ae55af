"""Consumers in real Celery worker processes, on RabbitMQ and Redis."""

from __future__ import annotations

import os
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from ..brokers import AMQP_URL, free_port, require
from ..workers import BROKERS, Setup


@pytest.fixture(scope="module", params=sorted(BROKERS))
def shared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """One 4-process prefork worker per broker, shared by the tests that do not stop it."""
    require(BROKERS[request.param])
    setup = Setup(BROKERS[request.param], tmp_path_factory.mktemp(request.param))
    setup.worker(concurrency=4)
    yield setup
    setup.close()


@pytest.fixture(params=sorted(BROKERS))
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    """A setup whose workers the test starts (and may kill) itself."""
    require(BROKERS[request.param])
    setup = Setup(BROKERS[request.param], tmp_path)
    yield setup
    setup.close()


def test_consumer_replies_on_the_reply_channel(shared: Setup) -> None:
    reply = shared.layer.new_channel("websocket.send")
    shared.layer.send("websocket.receive", {"path": "/echo/", "text": "héllo", "reply_channel": reply})
    assert shared.expect(reply)["text"] == "héllo"


def test_ordinary_task_sends_to_a_group(shared: Setup) -> None:
    reply = shared.layer.new_channel("websocket.send")
    shared.layer.group_add("news", reply)
    client = Celery("client", broker=shared.url, set_as_current=False)
    client.send_task("workerproject.broadcast", ("news", "from a task"), queue=f"{shared.prefix}-celery")
    client.close()
    assert shared.expect(reply) == {"text": "from a task"}


def test_delayed_send_from_a_consumer(shared: Setup) -> None:
    reply = shared.layer.new_channel("websocket.send")
    shared.layer.send("websocket.receive", {"path": "/later/", "text": "x", "reply_channel": reply})
    scheduled = shared.expect(reply, lambda m: m["text"] == "scheduled")
    shared.expect(reply, lambda m: m == {"text": "later"}, timeout=10)
    assert time.time() - scheduled["at"] >= 0.95  # countdown=1


def test_decorated_consumer_is_discovered(shared: Setup) -> None:
    reply = shared.layer.new_channel("websocket.send")
    shared.layer.send("test.decorated", {"kind": "found", "reply_channel": reply})
    assert shared.expect(reply) == {"decorated": "found"}


def test_type_dispatch_to_a_class_consumer(shared: Setup) -> None:
    reply = shared.layer.new_channel("websocket.send")
    shared.layer.send("test.events", {"type": "chat.message", "text": "hi", "reply_channel": reply})
    assert shared.expect(reply) == {"handled_by": "chat_message", "text": "hi"}
    shared.layer.send("test.events", {"reply_channel": reply})
    assert shared.expect(reply) == {"handled_by": "other"}


def test_failing_and_unroutable_messages_are_logged_and_the_worker_goes_on(shared: Setup) -> None:
    reply = shared.layer.new_channel("websocket.send")
    for n in range(6):  # more than the worker's 4 slots: each failure must free its slot
        shared.layer.send("test.fail", {"n": n})
        shared.layer.send("websocket.receive", {"path": "/nowhere/", "text": "x"})
    shared.layer.send("websocket.receive", {"path": "/echo/", "text": "still here", "reply_channel": reply})
    assert shared.expect(reply)["text"] == "still here"
    log = shared.workers[0].log()
    assert "consumer tests.workerproject.consumers.failing failed on a message from 'test.fail'" in log
    assert "ValueError: boom from the failing consumer" in log
    assert "no consumer routed for a message on 'websocket.receive'" in log


def test_warm_shutdown_finishes_the_running_consumer(fresh: Setup) -> None:
    worker = fresh.worker(concurrency=2)
    reply = fresh.layer.new_channel("websocket.send")
    fresh.layer.send("websocket.receive", {"path": "/slow/", "seconds": 1.5, "reply_channel": reply})
    fresh.expect(reply, lambda m: m["text"] == "started")
    worker.signal(signal.SIGTERM)
    fresh.expect(reply, lambda m: m == {"text": "finished"})
    assert worker.stop() == 0


def test_a_killed_worker_never_runs_its_message_twice(fresh: Setup) -> None:
    worker = fresh.worker(concurrency=2)
    reply = fresh.layer.new_channel("websocket.send")
    fresh.layer.send("websocket.receive", {"path": "/slow/", "seconds": 3, "reply_channel": reply})
    started = fresh.expect(reply, lambda m: m["text"] == "started")
    worker.kill()
    fresh.worker(concurrency=2)
    time.sleep(4)  # long enough for a re-run to start and finish
    assert fresh.layer.receive(reply, timeout=0.5) is None, "the message ran again (or finished after the kill)"
    fresh.layer.send("websocket.receive", {"path": "/echo/", "text": "after", "reply_channel": reply})
    assert fresh.expect(reply)["pid"] != started["pid"]


def test_a_channel_routed_to_its_own_queue_waits_for_its_workers(fresh: Setup) -> None:
    fresh.worker(queues="channels")
    reply = fresh.layer.new_channel("websocket.send")
    fresh.layer.send("chat-messages", {"text": "heavy", "reply_channel": reply})
    assert fresh.layer.receive(reply, timeout=1.5) is None  # `channels` workers do not serve it
    fresh.worker(queues="channels-chat")
    assert fresh.expect(reply) == {"text": "chat heavy"}


def test_the_worker_time_limit_stops_a_consumer(fresh: Setup) -> None:
    worker = fresh.worker(concurrency=2, extra_args=("--time-limit=1",))
    reply = fresh.layer.new_channel("websocket.send")
    fresh.layer.send("websocket.receive", {"path": "/slow/", "seconds": 3, "reply_channel": reply})
    fresh.expect(reply, lambda m: m["text"] == "started")
    assert fresh.layer.receive(reply, timeout=3.5) is None  # killed before "finished"
    assert "Hard time limit (1" in worker.log() and "realtime:tests.workerproject.consumers.slow" in worker.log()
    fresh.layer.send("websocket.receive", {"path": "/echo/", "text": "alive", "reply_channel": reply})
    assert fresh.expect(reply)["text"] == "alive"


def test_consumer_runs_are_celery_task_events(fresh: Setup) -> None:
    fresh.worker(concurrency=2, extra_args=("-E",))
    client = Celery("monitor", broker=fresh.url, set_as_current=False)
    events: list[dict] = []
    with client.connection_for_read() as connection:
        receiver = client.events.Receiver(connection, handlers={"*": events.append})
        capture = threading.Thread(target=receiver.capture, kwargs={"limit": None, "timeout": None}, daemon=True)
        capture.start()
        time.sleep(1.0)  # the receiver's queue is bound
        reply = fresh.layer.new_channel("websocket.send")
        fresh.layer.send("websocket.receive", {"path": "/echo/", "text": "seen", "reply_channel": reply})
        fresh.expect(reply)
        deadline = time.monotonic() + 10
        wanted = {"task-received", "task-started", "task-succeeded"}
        name = "realtime:tests.workerproject.consumers.echo"
        while not wanted <= {event["type"] for event in events} and time.monotonic() < deadline:
            time.sleep(0.1)
        receiver.should_stop = True
        capture.join(timeout=5)
    client.close()
    assert wanted <= {event["type"] for event in events}, events
    # Flower lists the run under the consumer's name (task-started/-succeeded carry only the id).
    assert any(event["type"] == "task-received" and event.get("name") == name for event in events)


@pytest.mark.parametrize("pool", ["threads", "gevent"])
def test_other_pools_run_consumers(pool: str, tmp_path: Path) -> None:
    require(AMQP_URL)
    setup = Setup(AMQP_URL, tmp_path)
    try:
        setup.worker(pool=pool, concurrency=4)
        reply = setup.layer.new_channel("websocket.send")
        setup.layer.send("websocket.receive", {"path": "/echo/", "text": pool, "reply_channel": reply})
        message = setup.expect(reply)
        assert message["text"] == pool and message["pid"] != os.getpid()
    finally:
        setup.close()


def test_consumer_time_limit(shared: Setup) -> None:
    reply = shared.layer.new_channel("websocket.send")
    shared.layer.send("test.limited", {"reply_channel": reply})
    assert shared.expect(reply) == {"text": "started"}
    assert shared.layer.receive(reply, timeout=3.5) is None  # killed after 1 s
    deadline = time.monotonic() + 10
    while (
        "Time limit (1s) exceeded" not in shared.workers[0].log() and "TimeLimitExceeded" not in shared.workers[0].log()
    ):
        assert time.monotonic() < deadline, shared.workers[0].log()[-2000:]
        time.sleep(0.1)


def test_consumer_rate_limit(shared: Setup) -> None:
    reply = shared.layer.new_channel("websocket.send")
    for _ in range(5):
        shared.layer.send("test.rate", {"reply_channel": reply})
    times = sorted(shared.expect(reply)["at"] for _ in range(5))
    assert times[-1] - times[0] >= 0.7  # 4/s: five runs take at least a second's worth of tokens


def test_consumer_autoretry(shared: Setup) -> None:
    reply = shared.layer.new_channel("websocket.send")
    shared.layer.send("test.flaky", {"reply_channel": reply})
    assert shared.expect(reply, timeout=15) == {"text": "ok after 2 retries"}


def test_worker_metrics(fresh: Setup) -> None:
    address = f"127.0.0.1:{free_port()}"
    fresh.worker(concurrency=2, env={"REALTIME_TEST_WORKER_METRICS": address})
    reply = fresh.layer.new_channel("websocket.send")
    for _ in range(3):
        fresh.layer.send("websocket.receive", {"path": "/echo/", "text": "x", "reply_channel": reply})
        fresh.expect(reply)
    fresh.layer.send("websocket.receive", {"path": "/nowhere/", "text": "x"})
    expected = [
        'realtime_worker_messages_total{channel="websocket.receive"} 4',
        'realtime_worker_unrouted_total{channel="websocket.receive"} 1',
        # A run is counted when the pool reports it ended, which may come after its reply.
        'realtime_worker_runs_total{consumer="tests.workerproject.consumers.echo"} 3',
    ]
    deadline = time.monotonic() + 10
    while True:
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as response:
            text = response.read().decode()
        if all(line in text for line in expected) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    for line in expected:
        assert line in text


def test_a_worker_answers_connects_even_without_a_connect_route(fresh: Setup) -> None:
    fresh.worker(concurrency=2, env={"REALTIME_TEST_ROUTING": "tests.workerproject.routing.receive_only_routing"})
    reply = fresh.layer.new_channel("websocket.send")
    notices: list[tuple[str, int]] = []
    fresh.layer.on_processed(lambda channel, order: notices.append((channel, order)))
    fresh.layer.send("websocket.connect", {"path": "/", "reply_channel": reply, "order": 0})
    deadline = time.monotonic() + 10
    while not notices:
        assert time.monotonic() < deadline, "no processed notice: the gateway would refuse the connection"
        time.sleep(0.05)
    assert notices == [(reply, 0)]
