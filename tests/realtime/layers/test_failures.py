"""Bad input never reaches the broker; an unreachable broker is a prompt, typed error."""

from __future__ import annotations

import time

import pytest

from realtime.exceptions import BrokerUnavailable, InvalidChannelName, InvalidMessage, MessageTooLarge
from realtime.layers.config import LayerConfig
from realtime.layers.core import SyncChannelLayer
from realtime.layers.transports.memory import MemoryTransport


def test_rejected_sends_leave_the_broker_untouched() -> None:
    transport = MemoryTransport("memory://untouched")
    layer = SyncChannelLayer(LayerConfig(url="memory://untouched", max_message_size=64), transport)
    with pytest.raises(InvalidChannelName):
        layer.send("bad name", {})
    with pytest.raises(InvalidMessage):
        layer.send("ok", {"s": {1}})
    with pytest.raises(MessageTooLarge):
        layer.send("ok", {"b": b"x" * 64})
    with pytest.raises(InvalidChannelName):
        layer.group_add("g", "bad name")
    assert transport._broker.queues == {} and transport._broker.groups == {}


@pytest.mark.parametrize("url", ["amqp://guest:guest@127.0.0.1:1//", "redis://127.0.0.1:1/0"])
def test_unreachable_broker_raises_broker_unavailable_promptly(url: str) -> None:
    layer = SyncChannelLayer(LayerConfig(url=url, connect_timeout=1.0, connect_retries=2))
    for operation in (
        lambda: layer.send("x", {}),
        lambda: layer.group_send("g", {}),
        lambda: layer.receive("x", timeout=0.1),
        lambda: layer.new_channel(),
    ):
        started = time.monotonic()
        with pytest.raises(BrokerUnavailable, match="unreachable"):
            operation()
        assert time.monotonic() - started < 5
    layer.close()
