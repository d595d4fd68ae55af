"""Running consumers in-process: realtime.running through realtime.testing.Client."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from django.db import connection, connections
from django.test import override_settings

from realtime.consumers import BaseConsumer
from realtime.exceptions import ConsumeLater
from realtime.routing import route, route_class
from realtime.running import Outcome
from realtime.signals import consumer_finished, consumer_started
from realtime.testing import Client

calls: list[tuple[str, dict]] = []


def echo(message, **kwargs) -> None:
    calls.append(("echo", kwargs))
    message.reply_channel.send({"text": message["text"], **kwargs})


def defer_once(message) -> None:
    if ("deferred", {}) not in calls:
        calls.append(("deferred", {}))
        raise ConsumeLater()
    calls.append(("ran", {}))


def failing(message) -> None:
    raise RuntimeError("consumer exploded")


def atomic_probe(message) -> None:
    message.reply_channel.send({"atomic": connection.in_atomic_block})


class Chat(BaseConsumer):
    method_mapping = {"chat.events": "fallback"}

    def chat_message(self, message) -> None:
        message.reply_channel.send({"by": "chat_message"})

    def fallback(self, message) -> None:
        message.reply_channel.send({"by": "fallback"})


ROUTING = [
    route("websocket.receive", echo, path=r"^/room/(?P<room>[a-z]+)/$"),
    route("test.defer", defer_once),
    route("test.fail", failing),
    route("test.atomic", atomic_probe),
    route_class(Chat),
]


@pytest.fixture(autouse=True)
def memory_layer():
    calls.clear()
    with override_settings(CHANNEL_LAYERS={"default": {"URL": "memory://running-tests"}}):
        yield
        from realtime.layers import get_channel_layer

        get_channel_layer().sync.flush()


def test_filters_become_keyword_arguments() -> None:
    client = Client(ROUTING)
    assert client.send_and_consume("websocket.receive", {"path": "/room/lobby/", "text": "hi"}) is Outcome.CONSUMED
    assert client.receive() == {"text": "hi", "room": "lobby"}


def test_unrouted_message_is_logged_and_dropped(caplog: pytest.LogCaptureFixture) -> None:
    client = Client(ROUTING)
    with caplog.at_level(logging.WARNING, logger="realtime.running"):
        assert client.send_and_consume("websocket.receive", {"path": "/elsewhere/"}) is Outcome.UNROUTED
    assert "no consumer routed for a message on 'websocket.receive'" in caplog.text
    assert calls == []


def test_consume_later_puts_the_message_back() -> None:
    client = Client(ROUTING)
    assert client.send_and_consume("test.defer", {"n": 1}) is Outcome.DEFERRED
    assert client.consume("test.defer") is Outcome.CONSUMED
    assert calls == [("deferred", {}), ("ran", {})]


def test_failing_consumer_is_logged_with_channel_consumer_and_traceback(caplog: pytest.LogCaptureFixture) -> None:
    client = Client(ROUTING)
    with caplog.at_level(logging.ERROR, logger="realtime.running"):
        assert client.send_and_consume("test.fail") is Outcome.FAILED
    record = caplog.records[-1]
    assert "consumer tests.realtime.test_running.failing failed on a message from 'test.fail'" in record.getMessage()
    assert record.exc_info is not None and "consumer exploded" in str(record.exc_info[1])


def test_type_dispatch_and_method_mapping() -> None:
    client = Client(ROUTING)
    client.send_and_consume("chat.events", {"type": "chat.message"})
    assert client.receive() == {"by": "chat_message"}
    client.send_and_consume("chat.events", {})
    assert client.receive() == {"by": "fallback"}
    assert client.send_and_consume("chat.events", {"type": "_private"}) is Outcome.FAILED


def test_processed_notices_follow_every_outcome_but_deferral() -> None:
    client = Client(ROUTING)
    notices: list[int] = []
    client.layer.on_processed(lambda channel, order: notices.append(order))
    client.send_and_consume("websocket.receive", {"path": "/room/a/", "text": "x"})  # order 0: consumed
    client.send_and_consume("test.fail")  # order 1: failed
    client.send_and_consume("websocket.receive", {"path": "/nowhere/"})  # order 2: unrouted
    calls.clear()
    client.send_and_consume("test.defer")  # order 3: deferred, no notice yet
    deadline = time.monotonic() + 5
    while len(notices) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # a notice for the deferred message would have arrived by now
    assert notices == [0, 1, 2]


def test_signals_are_sent_around_each_run() -> None:
    seen: list[str] = []

    def started(sender, **kwargs) -> None:
        seen.append(f"started {sender}")

    def finished(sender, **kwargs) -> None:
        seen.append(f"finished {sender}")

    consumer_started.connect(started)
    consumer_finished.connect(finished)
    try:
        Client(ROUTING).send_and_consume("test.fail")
    finally:
        consumer_started.disconnect(started)
        consumer_finished.disconnect(finished)
    name = "tests.realtime.test_running.failing"
    assert seen == [f"started {name}", f"finished {name}"]


@pytest.mark.django_db(transaction=True)  # no test-wide transaction around it
def test_consumer_runs_in_a_transaction_when_atomic_requests_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client(ROUTING)
    client.send_and_consume("test.atomic")
    outside = client.receive()
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    client.send_and_consume("test.atomic")
    assert outside == {"atomic": False}
    assert client.receive() == {"atomic": True}


def test_a_consumer_that_uses_no_database_builds_no_connection() -> None:
    """Under gevent every greenlet has its own connections: asking whether to wrap the run
    in a transaction must not build them for nothing (about 0.1 ms and a reference cycle)."""
    built: list[object] = []

    def consume_in_a_new_thread() -> None:
        Client(ROUTING).send_and_consume("websocket.receive", {"path": "/room/a/", "text": "hi"})
        built.extend(connections.all(initialized_only=True))

    thread = threading.Thread(target=consume_in_a_new_thread)
    thread.start()
    thread.join()
    assert built == []
