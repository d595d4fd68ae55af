"""The Channels 1.x API: Channel and Group."""

import pytest
from django.test import override_settings

from realtime import Channel, Group, get_channel_layer
from realtime.exceptions import InvalidChannelName, InvalidGroupName


@pytest.fixture
def layer():
    with override_settings(CHANNEL_LAYERS={"default": {"URL": "memory://channel-api"}}):
        layer = get_channel_layer().sync
        yield layer
        layer.flush()


def test_channel_send_reaches_receive(layer) -> None:
    Channel("chat-messages").send({"room": "a", "message": "hi"})
    assert layer.receive("chat-messages", timeout=1) == {"room": "a", "message": "hi"}


def test_group_add_send_discard_with_channel_objects_and_names(layer) -> None:
    first, second = layer.new_channel("websocket.send"), layer.new_channel("websocket.send")
    Group("chat").add(Channel(first))
    Group("chat").add(second)
    Group("chat").send({"text": "[user] hello"})
    assert layer.receive(first, timeout=1) == {"text": "[user] hello"}
    assert layer.receive(second, timeout=1) == {"text": "[user] hello"}
    Group("chat").discard(second)
    Group("chat").send({"text": "again"})
    assert layer.receive(first, timeout=1) == {"text": "again"}
    assert layer.receive(second, timeout=0.1) is None


def test_names_are_checked_when_the_object_is_made() -> None:
    with pytest.raises(InvalidChannelName):
        Channel("bad name")
    with pytest.raises(InvalidGroupName):
        Group("bad!group")


def test_channel_equality_and_str() -> None:
    assert Channel("a") == Channel("a") and hash(Channel("a")) == hash(Channel("a"))
    assert str(Channel("a.b")) == "a.b"
