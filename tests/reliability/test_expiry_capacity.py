"""Expiry and capacity on every transport (RELIABILITY.md T13, T14), and unguessable
reply channels (T15)."""

from __future__ import annotations

import re
import time

from realtime.exceptions import ChannelFull
from realtime.names import new_owner_id, new_reply_channel

from ..conftest import LayerFactory
from .conftest import Record


def test_t14_no_message_is_delivered_after_its_expiry(
    make_layer: LayerFactory, transport_name: str, record: Record
) -> None:
    layer = make_layer(expiry=0.2)
    reply = layer.new_channel()
    for number in range(100):
        layer.send("t14.expiry", {"old": number})
        layer.send(reply, {"old": number})
    time.sleep(0.4)
    for number in range(100):
        layer.send("t14.expiry", {"fresh": number})
        layer.send(reply, {"fresh": number})
    time.sleep(0.05)  # the owner has the reply channel's messages; drain before they expire too
    got = [
        message
        for channel in (reply, "t14.expiry")
        for message in iter(lambda c=channel: layer.receive(c, timeout=0), None)  # type: ignore[misc]
    ]
    old = [message for message in got if "old" in message]
    record(
        transport=transport_name, ttl_ms=200, sent_old=200, delivered_old=len(old), delivered_fresh=len(got) - len(old)
    )
    assert old == []
    assert len(got) == 200


def test_t13_a_full_channel_refuses_exactly_the_excess(
    make_layer: LayerFactory, transport_name: str, record: Record
) -> None:
    layer = make_layer(worker_capacity=10)
    refused = 0
    for number in range(15):
        try:
            layer.send("t13.full", {"n": number})
        except ChannelFull:
            refused += 1
    members = [layer.new_channel() for _ in range(3)]
    full = make_layer(worker_capacity=1)  # a normal channel member that holds 1
    for member in members:
        layer.group_add("t13", member)
    full.group_add("t13", "t13.member")
    for _ in range(3):
        layer.group_send("t13", {"x": 1})  # never raises, even with a full member
    record(transport=transport_name, capacity=10, sent=15, channel_full_raised=refused)
    assert refused == 5


def test_t15_reply_channels_are_unguessable(record: Record) -> None:
    owner = new_owner_id()
    names = {new_reply_channel("websocket.send", owner) for _ in range(10_000)}
    tokens = [re.fullmatch(rf"websocket\.send!{owner}\.(.+)", name).group(1) for name in names]  # type: ignore[union-attr]
    bits = min(len(token) for token in tokens) * 6  # base64url: 6 bits a character
    record(names=len(names), distinct=len(set(tokens)), random_bits=bits)
    assert len(names) == 10_000
    assert bits >= 128
