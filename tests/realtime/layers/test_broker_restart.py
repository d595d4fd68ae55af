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

        # Nobody adds the channel again: the owner binds its memberships itself.
        received = None
        while received is None:
            assert time.monotonic() - restarted < 30, "group delivery did not recover within 30 s"
            try:
                worker.group_send("room", {"n": "after"})
            except BrokerUnavailable:
                time.sleep(0.2)
                continue
            received = owner.receive(channel, timeout=0.5)
        assert received == {"n": "after"}
        print(f"group delivery recovered {time.monotonic() - restarted:.2f} s after the broker accepted connections")

        worker.send(channel, {"direct": True})
        while (message := owner.receive(channel, timeout=5)) == {"n": "after"}:
            pass
        assert message == {"direct": True}
    finally:
        owner.close()
        worker.close()
