"""Each documented per-transport difference (docs/transports.rst), tested."""

from __future__ import annotations

import time

import pytest

from realtime.layers.config import LayerConfig
from realtime.layers.core import SyncChannelLayer

from ...conftest import LayerFactory


def test_memory_transports_share_a_broker_only_by_name() -> None:
    first = SyncChannelLayer(LayerConfig(url="memory://one"))
    same = SyncChannelLayer(LayerConfig(url="memory://one"))
    other = SyncChannelLayer(LayerConfig(url="memory://two"))
    first.send("diff.share", {"x": 1})
    assert other.receive("diff.share", timeout=0.1) is None
    assert same.receive("diff.share", timeout=1) == {"x": 1}
    for layer in (first, same, other):
        layer.flush()
        layer.close()


def test_normal_channel_membership_expiry(transport_name: str, make_layer: LayerFactory) -> None:
    layer = make_layer(group_expiry=0.3)
    layer.group_add("diff-expiry", "diff.member")
    time.sleep(0.6)
    layer.group_send("diff-expiry", {"late": True})
    received = layer.receive("diff.member", timeout=0.5)
    if transport_name == "amqp":
        # RabbitMQ bindings have no TTL and a normal channel has no owner to sweep them.
        assert received == {"late": True}
    else:
        assert received is None


def test_flush_reach(transport_name: str, make_layer: LayerFactory) -> None:
    declarer, flusher = make_layer(), make_layer()
    declarer.send("diff.flush", {"x": 1})
    flusher.flush()
    left = declarer.receive("diff.flush", timeout=0.3)
    if transport_name == "amqp":
        # AMQP cannot list queues: flush deletes what this process declared.
        assert left == {"x": 1}
    else:
        assert left is None


@pytest.mark.parametrize("transport_name", ["amqp"], indirect=True)
def test_idle_channel_queue_expires_and_the_next_send_recreates_it(transport_name: str, make_layer) -> None:
    layer = make_layer(queue_expiry=0.5)
    queue = layer.channel_queue("diff.idle")
    layer.send("diff.idle", {"first": True})
    assert layer.receive("diff.idle", timeout=2) == {"first": True}
    time.sleep(1.5)  # no polling: a passive declare renews the queue's lease
    assert not layer.transport.queue_exists(queue)
    layer.send("diff.idle", {"second": True})  # the cached declaration is stale: re-declared
    assert layer.receive("diff.idle", timeout=2) == {"second": True}
