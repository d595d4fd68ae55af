"""The channel-layer contract: the same semantics on every transport (memory, RabbitMQ, Redis).

Where a transport differs (docs/transports.rst), the test says so and checks the
documented behaviour.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync

from realtime.exceptions import ChannelFull, InvalidChannelName, InvalidGroupName, InvalidMessage, MessageTooLarge
from realtime.layers.layer import ChannelLayer
from realtime.layers.transports.amqp import _INBOX_PREFETCH

from ...conftest import LayerFactory

ROOT = Path(__file__).resolve().parents[3]


def wait_for(predicate, timeout: float = 5.0, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


# -- send / receive -------------------------------------------------------------------


def test_message_round_trips_with_every_value_type(layer) -> None:
    message = {
        "text": "héllo",
        "bytes": b"\x00\xff",
        "n": 2**40,
        "f": 1.5,
        "ok": True,
        "none": None,
        "list": [1, "a", {"k": [b""]}],
    }
    layer.send("test.values", message)
    assert layer.receive("test.values", timeout=5) == message


def test_normal_channel_is_fifo(layer) -> None:
    for index in range(50):
        layer.send("test.fifo", {"i": index})
    assert [layer.receive("test.fifo", timeout=5)["i"] for _ in range(50)] == list(range(50))


def test_reply_channel_is_fifo(layer) -> None:
    channel = layer.new_channel("websocket.send")
    for index in range(50):
        layer.send(channel, {"i": index})
    assert [layer.receive(channel, timeout=5)["i"] for _ in range(50)] == list(range(50))


def test_reply_channel_names_its_owner_and_is_unguessable(layer) -> None:
    first, second = layer.new_channel("websocket.send"), layer.new_channel("websocket.send")
    assert first.startswith(f"websocket.send!{layer.owner}.")
    assert first != second
    assert len(first.rsplit(".", 1)[1]) >= 22  # 128 bits, url-safe base64


def test_receive_times_out_with_none(layer) -> None:
    started = time.monotonic()
    assert layer.receive("test.empty", timeout=0.3) is None
    assert 0.25 <= time.monotonic() - started < 3


def test_sender_in_another_layer_reaches_reply_channel(make_layer: LayerFactory) -> None:
    owner, sender = make_layer(), make_layer()
    channel = owner.new_channel("websocket.send")
    sender.send(channel, {"text": "hi"})
    assert owner.receive(channel, timeout=5) == {"text": "hi"}


def test_only_the_owner_receives_from_a_reply_channel(make_layer: LayerFactory) -> None:
    owner, other = make_layer(), make_layer()
    channel = owner.new_channel()
    with pytest.raises(InvalidChannelName, match="another process"):
        other.receive(channel, timeout=0.1)


def test_at_most_once_with_concurrent_receivers(make_layer: LayerFactory) -> None:
    sender = make_layer()
    receivers = [make_layer() for _ in range(4)]
    total = 400
    got: list[int] = []
    lock = threading.Lock()

    def drain(receiver) -> None:
        while True:
            message = receiver.receive("test.compete", timeout=1.0)
            if message is None:
                return
            with lock:
                got.append(message["i"])

    threads = [threading.Thread(target=drain, args=(receiver,)) for receiver in receivers]
    for thread in threads:
        thread.start()
    for index in range(total):
        sender.send("test.compete", {"i": index})
    for thread in threads:
        thread.join(timeout=30)
    duplicates = [i for i, count in Counter(got).items() if count > 1]
    assert duplicates == []
    assert sorted(got) == list(range(total))


# -- expiry ---------------------------------------------------------------------------


def test_expired_message_on_normal_channel_is_never_delivered(make_layer: LayerFactory) -> None:
    layer = make_layer(expiry=0.3)
    layer.send("test.expiry", {"old": True})
    time.sleep(0.6)
    layer.send("test.expiry", {"fresh": True})
    assert layer.receive("test.expiry", timeout=2) == {"fresh": True}
    assert layer.receive("test.expiry", timeout=0.2) is None


def test_expired_message_on_reply_channel_is_never_delivered(make_layer: LayerFactory) -> None:
    layer = make_layer(expiry=0.3)
    channel = layer.new_channel()
    layer.send(channel, {"old": True})
    time.sleep(0.6)
    assert layer.receive(channel, timeout=0.3) is None


# -- capacity -------------------------------------------------------------------------


def test_full_normal_channel_raises_channel_full_at_the_sender(make_layer: LayerFactory) -> None:
    layer = make_layer(worker_capacity=5)
    for index in range(5):
        layer.send("test.full", {"i": index})
    with pytest.raises(ChannelFull):
        layer.send("test.full", {"i": 5})
    assert layer.receive("test.full", timeout=5) == {"i": 0}
    layer.send("test.full", {"i": 6})  # room again


def test_channel_capacity_override_by_pattern(make_layer: LayerFactory) -> None:
    layer = make_layer(channel_capacity=(("test.small*", 2),))
    layer.send("test.small1", {})
    layer.send("test.small1", {})
    with pytest.raises(ChannelFull):
        layer.send("test.small1", {})
    for _ in range(3):
        layer.send("test.big", {})


def test_expired_messages_free_capacity(make_layer: LayerFactory) -> None:
    layer = make_layer(worker_capacity=2, expiry=0.3)
    layer.send("test.refill", {})
    layer.send("test.refill", {})
    time.sleep(0.8)
    layer.send("test.refill", {"after": True})
    assert layer.receive("test.refill", timeout=2) == {"after": True}


def test_reply_channel_capacity_is_enforced_at_its_owner(make_layer: LayerFactory) -> None:
    owner, sender = make_layer(capacity=3), make_layer()
    channel = owner.new_channel()
    for index in range(5):
        sender.send(channel, {"i": index})  # the owner, not the sender, applies the limit
    assert wait_for(lambda: owner.dropped.get("full") == 2)
    assert [owner.receive(channel, timeout=2)["i"] for _ in range(3)] == [0, 1, 2]
    assert owner.receive(channel, timeout=0.2) is None


def test_stalled_owner_makes_sends_raise_channel_full(transport_name: str, make_layer: LayerFactory) -> None:
    sender = make_layer()  # its own inbox_capacity (10,000) does not matter: the owner's (5) does
    # An owner that opened its inbox and then stopped reading (hung gateway).
    stalled = sender.transport.open_inbox(sender.inbox_queue("stalled0"), capacity=5)
    try:
        sent = 0
        with pytest.raises(ChannelFull):
            for sent in range(1, 1000):
                sender.send("websocket.send!stalled0.x", {"i": sent})
        accepted = sent - 1
        if transport_name == "amqp":
            # RabbitMQ's max-length counts ready messages only; up to the prefetch window is
            # already in flight to the (stalled) owner.
            assert 5 <= accepted <= 5 + _INBOX_PREFETCH
        else:
            assert accepted == 5
    finally:
        stalled.close()


def test_flush_by_another_layer_leaves_live_owners_working(make_layer: LayerFactory) -> None:
    owner, other = make_layer(), make_layer()
    channel = owner.new_channel()
    other.flush()
    # The owner re-creates its inbox if the flush removed it (memory: on its next read;
    # Redis: when it next refreshes its liveness key).
    assert wait_for(lambda: other.transport.queue_exists(owner.inbox_queue(owner.owner)))
    other.send(channel, {"after": "flush"})
    assert owner.receive(channel, timeout=5) == {"after": "flush"}


def test_send_to_a_gone_owner_is_dropped_silently(layer) -> None:
    layer.send("websocket.send!deadbeef0000.x", {"text": "nobody"})


# -- groups ---------------------------------------------------------------------------


def test_group_send_reaches_every_member_once_across_owners(make_layer: LayerFactory) -> None:
    first, second, worker = make_layer(), make_layer(), make_layer()
    a1, a2, b1 = first.new_channel(), first.new_channel(), second.new_channel()
    for channel in (a1, a2, b1):
        worker.group_add("room", channel)
    worker.group_send("room", {"text": "all"})
    assert first.receive(a1, timeout=5) == {"text": "all"}
    assert first.receive(a2, timeout=5) == {"text": "all"}
    assert second.receive(b1, timeout=5) == {"text": "all"}
    for owner, channel in ((first, a1), (first, a2), (second, b1)):
        assert owner.receive(channel, timeout=0.2) is None  # exactly one copy each


def test_group_discard_stops_delivery(make_layer: LayerFactory) -> None:
    owner, worker = make_layer(), make_layer()
    stay, leave = owner.new_channel(), owner.new_channel()
    worker.group_add("room", stay)
    worker.group_add("room", leave)
    worker.group_discard("room", leave)
    worker.group_discard("room", leave)  # discarding twice is fine
    worker.group_send("room", {"n": 1})
    assert owner.receive(stay, timeout=5) == {"n": 1}
    assert owner.receive(leave, timeout=0.3) is None


def test_group_add_then_immediate_group_send_from_another_process(make_layer: LayerFactory) -> None:
    owner, adder, sender = make_layer(), make_layer(), make_layer()
    for round_ in range(30):
        channel = owner.new_channel()
        adder.group_add(f"race{round_}", channel)
        sender.group_send(f"race{round_}", {"round": round_})
        assert owner.receive(channel, timeout=5) == {"round": round_}, f"lost in round {round_}"


def test_normal_channel_can_be_a_group_member(make_layer: LayerFactory) -> None:
    layer = make_layer()
    layer.group_add("jobs", "test.worker-channel")
    layer.group_send("jobs", {"job": 1})
    assert layer.receive("test.worker-channel", timeout=5) == {"job": 1}


def test_group_send_to_an_empty_group_is_a_no_op(layer) -> None:
    layer.group_send("nobody-here", {"text": "x"})


def test_membership_expires_after_group_expiry(make_layer: LayerFactory) -> None:
    owner = make_layer(group_expiry=0.5)
    worker = make_layer(group_expiry=0.5)
    channel = owner.new_channel()
    worker.group_add("short", channel)
    time.sleep(1.0)
    worker.group_send("short", {"late": True})
    assert owner.receive(channel, timeout=0.5) is None


def test_closing_the_owner_removes_its_inbox_and_memberships(make_layer: LayerFactory) -> None:
    owner, worker = make_layer(), make_layer()
    channel = owner.new_channel()
    inbox = owner.inbox_queue(owner.owner)
    worker.group_add("room", channel)
    assert worker.transport.queue_exists(inbox)
    owner.close()
    assert wait_for(lambda: not worker.transport.queue_exists(inbox))
    worker.group_send("room", {"after": "close"})  # neither raises nor blocks
    worker.send(channel, {"after": "close"})


@pytest.mark.parametrize("transport_name", ["amqp", "redis"], indirect=True)
def test_groups_across_owner_processes_and_cleanup_when_one_dies(transport_name, base_config, make_layer) -> None:
    worker = make_layer()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.realtime.layers.owner_process", base_config.url, base_config.prefix, "2"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        owned = [json.loads(process.stdout.readline())["channels"] for process in processes]
        for channels in owned:
            for channel in channels:
                worker.group_add("cross", channel)
        worker.group_send("cross", {"text": "to all"})
        for process, channels in zip(processes, owned, strict=True):
            lines = [json.loads(process.stdout.readline()) for _ in channels]
            assert sorted(line["channel"] for line in lines) == sorted(channels)
            assert all(line["message"] == {"text": "to all"} for line in lines)

        victim_channels = owned[0]
        victim_inbox = worker.inbox_queue(victim_channels[0].split("!")[1].split(".")[0])
        processes[0].send_signal(signal.SIGKILL)
        processes[0].wait(timeout=10)
        started = time.monotonic()
        # RabbitMQ deletes the auto-delete inbox as soon as the TCP connection drops; Redis
        # notices when the owner's liveness key (owner_timeout = 1 s here) runs out.
        assert wait_for(lambda: not worker.transport.queue_exists(victim_inbox), timeout=5)
        gone_after = time.monotonic() - started
        assert gone_after < (0.5 if transport_name == "amqp" else 2.5)
        worker.group_send("cross", {"text": "survivors"})
        for channel in owned[1]:
            worker.send(channel, {"direct": True})
        lines = [json.loads(processes[1].stdout.readline()) for _ in range(4)]
        assert Counter(line["channel"] for line in lines) == Counter({channel: 2 for channel in owned[1]})
        for channel in victim_channels:
            worker.send(channel, {"to": "the dead"})  # dropped, no error
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
            process.stdout.close()


# -- validation, before anything touches the broker ------------------------------------


@pytest.mark.parametrize(
    "name",
    ["", "has space", "ü", "a" * 200, "x!", "!owner.id", "prefix!owner", "prefix!own.er!x", 42, None, b"bytes"],
)
def test_invalid_channel_names_are_rejected(layer, name) -> None:
    with pytest.raises(InvalidChannelName) as error:
        layer.send(name, {})
    assert isinstance(error.value, TypeError)
    assert repr(name)[:20] in str(error.value) or "characters" in str(error.value)
    with pytest.raises(InvalidChannelName):
        layer.receive(name, timeout=0)
    with pytest.raises(InvalidChannelName):
        layer.group_add("ok", name)


@pytest.mark.parametrize("name", ["", "a b", "g!x", "a" * 100, 7])
def test_invalid_group_names_are_rejected(layer, name) -> None:
    with pytest.raises(InvalidGroupName):
        layer.group_send(name, {})
    with pytest.raises(InvalidGroupName):
        layer.group_add(name, "test.ok")


@pytest.mark.parametrize(
    "message",
    [["not", "a", "dict"], {"s": {1, 2}}, {"o": object()}, {1: "int key"}, {"n": {2: "nested int key"}}, "text"],
)
def test_messages_that_cannot_be_serialised_are_rejected(layer, message) -> None:
    with pytest.raises(InvalidMessage):
        layer.send("test.bad", message)
    with pytest.raises(InvalidMessage):
        layer.group_send("g", message)


def test_oversized_message_raises_message_too_large(make_layer: LayerFactory) -> None:
    layer = make_layer(max_message_size=1024)
    layer.send("test.size", {"b": b"x" * 900})
    with pytest.raises(MessageTooLarge, match="1024"):
        layer.send("test.size", {"b": b"x" * 1024})
    with pytest.raises(MessageTooLarge):
        layer.group_send("g", {"b": b"x" * 1024})
    assert layer.receive("test.size", timeout=5) == {"b": b"x" * 900}


# -- the Channels 4 async API -----------------------------------------------------------


def test_async_api_works_from_asyncio_and_async_to_sync(base_config) -> None:
    layer = ChannelLayer(base_config)

    async def scenario() -> tuple[dict, dict]:
        channel = await layer.new_channel()
        await layer.group_add("chat", channel)
        await layer.group_send("chat", {"type": "chat.message", "text": "hi"})
        from_group = await asyncio.wait_for(layer.receive(channel), timeout=5)
        await layer.send("test.async", {"type": "direct"})
        direct = await asyncio.wait_for(layer.receive("test.async"), timeout=5)
        await layer.group_discard("chat", channel)
        return from_group, direct

    try:
        assert asyncio.run(scenario()) == ({"type": "chat.message", "text": "hi"}, {"type": "direct"})
        async_to_sync(layer.send)("test.sync-bridge", {"via": "async_to_sync"})
        assert async_to_sync(layer.receive)("test.sync-bridge") == {"via": "async_to_sync"}
        assert layer.valid_channel_name("ok.name") and layer.valid_group_name("ok")
        assert "groups" in layer.extensions and "flush" in layer.extensions
    finally:
        async_to_sync(layer.flush)()
        async_to_sync(layer.close)()


def test_flush_empties_channels_and_groups(make_layer: LayerFactory) -> None:
    layer = make_layer()
    layer.send("test.flush", {"x": 1})
    layer.group_add("g", "test.flush-member")
    layer.flush()
    layer.group_send("g", {"x": 2})
    assert layer.receive("test.flush", timeout=0.2) is None
    assert layer.receive("test.flush-member", timeout=0.2) is None


# -- worker readers and processed notices ----------------------------------------------


def test_reader_takes_from_several_channels_fairly(make_layer: LayerFactory) -> None:
    layer = make_layer()
    reader = layer.reader(["test.busy", "test.quiet"])
    try:
        for index in range(20):
            layer.send("test.busy", {"i": index})
        layer.send("test.quiet", {"quiet": True})
        taken = [reader.take(timeout=5) for _ in range(21)]
        assert ("test.quiet", {"quiet": True}) in taken[:4]  # not starved behind the busy channel
        assert [message["i"] for channel, message in taken if channel == "test.busy"] == list(range(20))
        assert reader.take(timeout=0.2) is None
    finally:
        reader.close()


def test_readers_share_work_at_most_once(make_layer: LayerFactory) -> None:
    sender = make_layer()
    readers = [make_layer().reader(["test.shared"]) for _ in range(3)]
    got: list[int] = []
    lock = threading.Lock()

    def drain(reader) -> None:
        while (taken := reader.take(timeout=1.0)) is not None:
            with lock:
                got.append(taken[1]["i"])

    threads = [threading.Thread(target=drain, args=(reader,)) for reader in readers]
    for thread in threads:
        thread.start()
    for index in range(300):
        sender.send("test.shared", {"i": index})
    for thread in threads:
        thread.join(timeout=30)
    for reader in readers:
        reader.close()
    assert sorted(got) == list(range(300))


def test_reader_names_the_channel_of_a_group_message(make_layer: LayerFactory) -> None:
    layer = make_layer()
    reader = layer.reader(["test.member"])
    try:
        layer.group_add("jobs", "test.member")
        layer.group_send("jobs", {"via": "group"})
        assert reader.take(timeout=5) == ("test.member", {"via": "group"})
    finally:
        reader.close()


def test_reader_skips_expired_messages(make_layer: LayerFactory) -> None:
    layer = make_layer(expiry=0.3)
    reader = layer.reader(["test.stale"])
    try:
        layer.send("test.stale", {"old": True})
        time.sleep(0.6)
        layer.send("test.stale", {"new": True})
        assert reader.take(timeout=5) == ("test.stale", {"new": True})
    finally:
        reader.close()


def test_reader_refuses_reply_channels(layer) -> None:
    with pytest.raises(InvalidChannelName):
        layer.reader(["websocket.send!owner.x"])


def test_processed_notices_reach_the_owner(make_layer: LayerFactory) -> None:
    owner, worker = make_layer(), make_layer()
    channel = owner.new_channel("websocket.send")
    notices: list[tuple[str, int]] = []
    owner.on_processed(lambda reply_channel, order: notices.append((reply_channel, order)))
    worker.notify_processed(channel, 0)
    worker.notify_processed(channel, 1)
    assert wait_for(lambda: notices == [(channel, 0), (channel, 1)])


# -- owners that push messages to their connections (the gateway) ---------------------


def test_owner_can_take_messages_by_callback(make_layer: LayerFactory) -> None:
    owner, worker = make_layer(), make_layer()
    first, second = owner.new_channel("websocket.send"), owner.new_channel("websocket.send")
    pushed: list[tuple[str, dict]] = []
    owner.on_message(lambda channel, message: pushed.append((channel, message)))
    worker.group_add("room", first)
    worker.group_add("room", second)
    worker.send(first, {"n": 1})
    worker.group_send("room", {"n": 2})
    assert wait_for(lambda: len(pushed) == 3)
    assert pushed[0] == (first, {"n": 1})
    assert sorted(pushed[1:]) == sorted([(first, {"n": 2}), (second, {"n": 2})])


def test_released_channel_leaves_its_groups(make_layer: LayerFactory) -> None:
    owner, worker = make_layer(), make_layer()
    stays, leaves = owner.new_channel(), owner.new_channel()
    worker.group_add("room", stays)
    worker.group_add("room", leaves)
    owner.release_channel(leaves)
    worker.group_send("room", {"n": 1})
    worker.send(leaves, {"direct": True})
    assert owner.receive(stays, timeout=5) == {"n": 1}
    assert wait_for(lambda: owner.dropped.get("unknown_channel", 0) >= 1)  # the direct send
    assert owner.dropped.get("unknown_channel") == 1  # the group copy never came for it


def test_a_corrupt_message_is_skipped_by_receivers(make_layer: LayerFactory) -> None:
    layer = make_layer()
    queue = layer.channel_queue("test.corrupt")
    layer.transport.send(queue, b"\xc1 not an envelope", ttl=60, capacity=10)
    layer.send("test.corrupt", {"good": True})
    assert layer.receive("test.corrupt", timeout=5) == {"good": True}
    layer.transport.send(queue, b"\xc1 not an envelope", ttl=60, capacity=10)
    layer.send("test.corrupt", {"good": 2})
    reader = layer.reader(["test.corrupt"])
    try:
        assert reader.take(timeout=5) == ("test.corrupt", {"good": 2})
    finally:
        reader.close()


def test_an_owner_binds_many_memberships_at_once(make_layer: LayerFactory) -> None:
    """What an owner does after a broker restart (in a few round trips on RabbitMQ): one copy
    of each group message per inbox; an inbox that is gone is skipped without an error."""
    layer = make_layer()
    transport = layer.transport
    inbox = layer.inbox_queue("batchowner")
    reader = transport.open_inbox(inbox, capacity=1000)
    try:
        memberships = [(f"room{n % 5}", f"specific!batchowner.m{n}") for n in range(50)]
        transport.bind_inbox_members(inbox, memberships, expiry=60)
        transport.bind_inbox_members(layer.inbox_queue("goneowner"), memberships, expiry=60)
        for group in ("room3", "room4", "nobody"):
            transport.group_send(group, group.encode(), ttl=60)
        received: list[bytes] = []
        deadline = time.monotonic() + 5
        while len(received) < 2 and time.monotonic() < deadline:
            received += reader.read(0.5)
        received += reader.read(0.3)
        assert sorted(received) == [b"room3", b"room4"]
    finally:
        reader.close()
