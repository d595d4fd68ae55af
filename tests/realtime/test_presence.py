"""Presence on the in-memory layer with the test database: members, events, and the agent's
sweeps (leaves of closed channels, of owners that stopped beating, of expired members).
The same behaviour across gateways on RabbitMQ and Redis is in tests/tasks/test_presence_sites.py."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client as HttpClient
from django.test import override_settings
from django.utils import timezone

from realtime import Group, get_channel_layer, presence
from realtime.auth import user_group
from realtime.exceptions import GroupNotTracked, InvalidGroupName
from realtime.generic import JsonWebsocketConsumer
from realtime.models import PresenceMember, PresenceOwner
from realtime.names import new_reply_channel
from realtime.routing import route_class
from realtime.testing import Client

pytestmark = pytest.mark.django_db(transaction=True)  # the agent thread has its own connection

OWNER_TIMEOUT = 0.6  # the agent beats every 0.2 s


def layer_with(**config):
    settings = {"default": {"URL": "memory://presence", "CONFIG": {"presence_groups": ["room-*"], **config}}}
    return override_settings(CHANNEL_LAYERS=settings)


@pytest.fixture
def layer():
    with layer_with(owner_timeout=OWNER_TIMEOUT):
        layer = get_channel_layer().sync
        yield layer
        layer.flush()


def events(layer, channel: str, timeout: float = 3.0) -> list[dict]:
    """Every presence event that reaches ``channel`` within ``timeout`` after the first."""
    received, deadline = [], time.monotonic() + timeout
    while (message := layer.receive(channel, timeout=max(0.0, deadline - time.monotonic()))) is not None:
        received.append(message)
        deadline = time.monotonic() + 0.5
    return received


def test_members_lists_the_channels_with_their_meta(layer) -> None:
    ada, grace = layer.new_channel("websocket.send"), layer.new_channel("websocket.send")
    Group("room-1").add(ada, meta={"name": "Ada"})
    Group("room-1").add(grace)
    Group("room-2").add(grace)
    assert [(m.channel, m.meta, m.user) for m in Group("room-1").members()] == [
        (ada, {"name": "Ada"}, None),
        (grace, {}, None),
    ]
    assert Group("room-1").count() == 2 and Group("room-2").count() == 1
    Group("room-1").add(ada, meta={"name": "Ada L."})  # a renewal: still one member, new meta
    assert [m.meta for m in Group("room-1").members()] == [{"name": "Ada L."}, {}]
    Group("room-1").discard(ada)
    assert [m.channel for m in Group("room-1").members()] == [grace]


def test_untracked_groups_and_disabled_presence_refuse_with_an_explanation(layer) -> None:
    with pytest.raises(GroupNotTracked, match="presence_groups"):
        Group("lobby").members()
    with pytest.raises(GroupNotTracked, match="presence_groups"):
        presence.subscribe("lobby", "watcher")
    with pytest.raises(InvalidGroupName, match="at most 90"):
        presence.subscribe("room-" + "x" * 90, "watcher")
    with override_settings(CHANNEL_LAYERS={"default": {"URL": "memory://no-presence"}}):
        with pytest.raises(GroupNotTracked, match="presence is off"):
            Group("room-1").count()
        get_channel_layer().sync.flush()


def test_subscribers_get_joins_and_leaves_and_sockets_never_see_channel_names(layer) -> None:
    presence.subscribe("room-1", "watcher")
    socket = layer.new_channel("websocket.send")
    presence.subscribe("room-1", socket)
    ada = layer.new_channel("websocket.send")
    Group("room-1").add(ada, meta={"name": "Ada"})
    Group("room-1").add(ada)  # a renewal announces nothing and keeps the meta
    Group("room-1").discard(ada)
    Group("room-1").discard(ada)  # no longer a member: nothing either
    seen = events(layer, "watcher")
    assert [(e["type"], e["reason"], e["channel"], e["meta"]) for e in seen] == [
        ("presence.join", "join", ada, {"name": "Ada"}),
        ("presence.leave", "discard", ada, {"name": "Ada"}),
    ]
    assert seen[0]["member"] == seen[1]["member"] and ada not in seen[0]["member"]
    texts = [json.loads(message["text"]) for message in events(layer, socket)]
    assert [(t["type"], t["meta"]) for t in texts] == [
        ("presence.join", {"name": "Ada"}),
        ("presence.leave", {"name": "Ada"}),
    ]
    assert all(ada not in message for message in map(json.dumps, texts))


def test_a_closed_channel_leaves_every_group_with_one_announcement(layer) -> None:
    presence.subscribe("room-1", "watcher")
    ada = layer.new_channel("websocket.send")
    Group("room-1").add(ada)
    Group("room-2").add(ada)
    layer.release_channel(ada)  # what the gateway does when the socket closes
    seen = events(layer, "watcher")
    assert [(e["type"], e["reason"]) for e in seen] == [("presence.join", "join"), ("presence.leave", "disconnect")]
    assert Group("room-1").count() == 0 and Group("room-2").count() == 0


def test_a_member_added_after_its_channel_closed_is_removed(layer) -> None:
    layer.new_channel("websocket.send")  # this process owns channels (a gateway): its agent runs
    presence.subscribe("room-1", "watcher")
    closed = new_reply_channel("websocket.send", layer.owner)  # never open here
    Group("room-1").add(closed)
    assert [(e["type"], e["reason"]) for e in events(layer, "watcher")] == [
        ("presence.join", "join"),
        ("presence.leave", "disconnect"),
    ]
    assert Group("room-1").count() == 0


def test_members_of_an_owner_that_stopped_beating_are_hidden_then_announced_once(layer) -> None:
    layer.new_channel("websocket.send")  # this process owns channels: its agent beats and sweeps
    presence.subscribe("room-1", "watcher")
    dead = "0123456789ab"
    PresenceOwner.objects.create(owner=dead, last_seen=timezone.now() - timedelta(seconds=2 * OWNER_TIMEOUT))
    now = timezone.now()
    # The row a gateway killed with SIGKILL leaves behind:
    PresenceMember.objects.create(
        namespace="realtime",
        group="room-1",
        channel=new_reply_channel("websocket.send", dead),
        owner=dead,
        joined_at=now,
        expires_at=now + timedelta(days=1),
    )
    assert Group("room-1").members() == []
    seen = events(layer, "watcher")
    assert [(e["type"], e["reason"]) for e in seen] == [("presence.leave", "gateway_lost")]
    assert not PresenceMember.objects.exists()


def test_expired_members_are_announced() -> None:
    with layer_with(owner_timeout=OWNER_TIMEOUT, group_expiry=0.5):
        layer = get_channel_layer().sync
        try:
            Group("room-1").add(layer.new_channel("websocket.send"))
            time.sleep(0.6)
            assert Group("room-1").members() == []
            presence.subscribe("room-1", "watcher")  # now: subscriptions expire too
            seen = events(layer, "watcher")
            assert [(e["type"], e["reason"]) for e in seen] == [("presence.leave", "expired")]
        finally:
            layer.flush()


def test_closing_the_layer_announces_its_members_leaving(layer) -> None:
    with layer_with(owner_timeout=OWNER_TIMEOUT):
        presence.subscribe("room-1", "watcher")
        Group("room-1").add(layer.new_channel("websocket.send"))
        layer.close()  # a gateway's graceful shutdown
        assert Group("room-1").count() == 0
        assert not PresenceOwner.objects.filter(owner=layer.owner).exists()


def test_an_owner_that_missed_its_heartbeats_says_so(layer, caplog: pytest.LogCaptureFixture) -> None:
    layer.new_channel("websocket.send")
    PresenceOwner.objects.filter(owner=layer.owner).update(last_seen=timezone.now() - timedelta(seconds=OWNER_TIMEOUT))
    deadline = time.monotonic() + 3
    while "missed its heartbeats" not in caplog.text:
        assert time.monotonic() < deadline, caplog.text
        time.sleep(0.05)


class Tab(JsonWebsocketConsumer):
    http_user = True


def test_tracking_users_groups_tells_who_is_online_in_any_tab() -> None:
    """As docs/celery.rst says: generic consumers with http_user put each socket in its
    user's group, and the signed-in user is recorded with the member."""
    with layer_with(owner_timeout=OWNER_TIMEOUT, presence_groups=["realtime.user.*"]):
        ada = User.objects.create_user("ada", password="x")
        browser = HttpClient()
        browser.force_login(ada)
        cookie = f"sessionid={browser.cookies['sessionid'].value}".encode()
        tabs = [Client([route_class(Tab)]) for _ in range(2)]
        try:
            assert Group(user_group(ada)).count() == 0
            for tab in tabs:
                tab.send_and_consume("websocket.connect", {"path": "/", "headers": [[b"cookie", cookie]]})
            assert Group(user_group(ada)).count() == 2
            assert {member.user for member in Group(user_group(ada)).members()} == {str(ada.pk)}
        finally:
            tabs[0].layer.flush()
