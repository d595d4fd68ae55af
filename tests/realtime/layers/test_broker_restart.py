"""A broker restart: owners re-create their inbox and memberships; senders reconnect.

Runs against brokers of its own (never the machine's shared services).
"""

from __future__ import annotations

import time

import pytest

from realtime.exceptions import BrokerUnavailable
from realtime.layers.config import LayerConfig
from realtime.layers.core import SyncChannelLayer

from ...brokers import PrivateBroker


def inbox_ready(layer: SyncChannelLayer) -> bool:
    try:
        return layer.inbox_ready()
    except BrokerUnavailable:
        return False


@pytest.mark.timeout(180)
def test_membership_and_reply_channel_survive_a_broker_restart(private_broker: PrivateBroker) -> None:
    config = LayerConfig(url=private_broker.url, prefix="restart", owner_timeout=2.0, connect_timeout=1.0)
    owner, worker = SyncChannelLayer(config), SyncChannelLayer(config)
    try:
        channel = owner.new_channel("websocket.send")
        worker.group_add("room", channel)
        worker.group_send("room", {"n": "before"})
        assert owner.receive(channel, timeout=5) == {"n": "before"}

        private_broker.kill()
        with pytest.raises(BrokerUnavailable):
            worker.group_send("room", {"n": "while down"})
        private_broker.start()
        restarted = time.monotonic()

        # Nobody adds the channel again: the owner binds its memberships itself, and says its
        # inbox is ready only once they are bound, so the first group message after that arrives.
        while not inbox_ready(owner):
            assert time.monotonic() - restarted < 30, "the owner's inbox was not ready within 30 s"
            time.sleep(0.001)
        print(f"inbox ready {time.monotonic() - restarted:.2f} s after the broker accepted connections")
        worker.group_send("room", {"n": "after"})
        assert owner.receive(channel, timeout=5) == {"n": "after"}

        worker.send(channel, {"direct": True})
        while (message := owner.receive(channel, timeout=5)) == {"n": "after"}:
            pass
        assert message == {"direct": True}
    finally:
        owner.close()
        worker.close()
