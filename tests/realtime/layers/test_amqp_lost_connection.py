"""A lost AMQP connection is closed politely, and the close reads whatever the broker had
already pushed: those deliveries belong to the dead connection and must not be handed on
after the reconnection (the broker gives them again; taking them would ack a stranger's
delivery tag or run a message twice)."""

from __future__ import annotations

import time

import pytest
from amqp.exceptions import ConnectionForced

from realtime.exceptions import BrokerUnavailable

from ...conftest import LayerFactory


def _fail_next_heartbeat_check(connection: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a broker that hung past the heartbeat timeout looks like to its client."""

    def missed(*args: object, **kwargs: object) -> None:
        raise ConnectionForced("Too many heartbeats missed")

    monkeypatch.setattr(connection, "heartbeat_check", missed)


@pytest.mark.parametrize("transport_name", ["amqp"], indirect=True)
def test_a_reader_takes_a_message_pushed_to_its_lost_connection_once(
    transport_name: str, make_layer: LayerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    layer = make_layer()
    reader = layer.reader(["lost.work"])
    assert reader.take(0.1) is None  # consuming
    layer.send("lost.work", {"n": 1})
    time.sleep(0.3)  # pushed to the reader's socket, not read yet
    _fail_next_heartbeat_check(reader._reader._connection, monkeypatch)
    with pytest.raises(BrokerUnavailable):
        reader.take(1)
    assert reader.take(5) == ("lost.work", {"n": 1})
    assert reader.take(0.5) is None
    reader.close()


@pytest.mark.parametrize("transport_name", ["amqp"], indirect=True)
def test_an_inbox_drops_what_was_pushed_to_its_lost_connection(
    transport_name: str, make_layer: LayerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    layer = make_layer()
    inbox = layer.transport.open_inbox(layer.inbox_queue(layer.owner), capacity=100)
    assert inbox.read(0.1) == []
    layer.transport.send_to_inbox(layer.inbox_queue(layer.owner), b"late", ttl=60, capacity=100)
    time.sleep(0.3)
    _fail_next_heartbeat_check(inbox._connection, monkeypatch)
    with pytest.raises(BrokerUnavailable):
        inbox.read(1)
    # The auto-delete inbox went with its connection, and what it held with it.
    assert inbox.read(0.5) == [] and inbox.pop_reconnected()
    assert inbox.read(0.5) == []
    inbox.close()
