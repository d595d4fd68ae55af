"""Naming rules (pure)."""

import pytest

from realtime.exceptions import InvalidChannelName, InvalidGroupName
from realtime.names import (
    is_reply_channel,
    new_owner_id,
    new_reply_channel,
    owner_of,
    validate_channel_name,
    validate_group_name,
)


@pytest.mark.parametrize("name", ["http.request", "chat-messages", "a_b.C-9", "x" * 199, "websocket.send!gw01.abc-_.x"])
def test_valid_channel_names(name: str) -> None:
    assert validate_channel_name(name) == name


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("", "must not be empty"),
        ("a b", "may only contain"),
        ("x" * 200, "200 characters"),
        ("reply!", "prefix!owner.id"),
        ("reply!owner", "prefix!owner.id"),
        ("reply!own.er!x", "prefix!owner.id"),
        (42, "must be a str, not int"),
    ],
)
def test_invalid_channel_names_say_why(name: object, says: str) -> None:
    with pytest.raises(InvalidChannelName, match=says):
        validate_channel_name(name)


def test_invalid_channel_name_error_is_a_type_error_naming_the_value() -> None:
    with pytest.raises(TypeError, match="'bad name'"):
        validate_channel_name("bad name")


@pytest.mark.parametrize(
    ("name", "says"), [("g" * 100, "100 characters"), ("a!b", "may only contain"), (None, "NoneType")]
)
def test_invalid_group_names(name: object, says: str) -> None:
    with pytest.raises(InvalidGroupName, match=says):
        validate_group_name(name)


def test_valid_group_name_at_the_limit() -> None:
    assert validate_group_name("g" * 99) == "g" * 99


def test_reply_channels_carry_their_owner() -> None:
    owner = new_owner_id()
    channel = new_reply_channel("websocket.send", owner)
    assert is_reply_channel(channel) and not is_reply_channel("http.request")
    assert owner_of(channel) == owner
    assert "." not in owner


def test_reply_channel_tokens_do_not_repeat() -> None:
    owner = new_owner_id()
    assert len({new_reply_channel("p", owner) for _ in range(1000)}) == 1000
