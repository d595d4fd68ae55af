"""Channel and group naming rules (pure).

A *normal* channel (``http.request``, ``chat-messages``) is read by any worker. A
*reply* channel (``websocket.send!gw1a2b.Xy3…``) is read only by the process that owns
it: the part after ``!`` starts with the owner's id, so a sender can route the message
to that owner's inbox with one publish. (Channels 1.x concepts, "Channel Types".)
"""

from __future__ import annotations

import re
import secrets

from .exceptions import InvalidChannelName, InvalidGroupName

__all__ = [
    "MAX_CHANNEL_NAME_LENGTH",
    "MAX_GROUP_NAME_LENGTH",
    "is_reply_channel",
    "new_owner_id",
    "new_reply_channel",
    "owner_of",
    "validate_channel_name",
    "validate_group_name",
]

# Channels 1.x and 4.x: channel names are shorter than 200 characters,
# group names shorter than 100.
MAX_CHANNEL_NAME_LENGTH = 199
MAX_GROUP_NAME_LENGTH = 99

_NAME = r"[a-zA-Z0-9\-_.]+"
_NORMAL_CHANNEL = re.compile(rf"{_NAME}\Z")
# prefix ! owner . local-part; the owner id itself never contains a dot.
_REPLY_CHANNEL = re.compile(r"(?P<prefix>[a-zA-Z0-9\-_.]+)!(?P<owner>[a-zA-Z0-9\-_]+)\.[a-zA-Z0-9\-_.]+\Z")
_GROUP = re.compile(rf"{_NAME}\Z")

# 128 bits of randomness make a reply channel unguessable (RELIABILITY.md, T15).
_REPLY_TOKEN_BYTES = 16
_OWNER_TOKEN_BYTES = 6


def is_reply_channel(name: str) -> bool:
    """True if ``name`` is a reply (process-specific) channel, i.e. contains ``!``."""
    return "!" in name


def validate_channel_name(name: object) -> str:
    """Return ``name`` if it is a valid channel name.

    Raises:
        InvalidChannelName: naming the offending value and the rule it breaks.
    """
    if not isinstance(name, str):
        raise InvalidChannelName(f"channel name must be a str, not {type(name).__name__}: {name!r}")
    if len(name) > MAX_CHANNEL_NAME_LENGTH:
        raise InvalidChannelName(
            f"channel name is {len(name)} characters, the limit is {MAX_CHANNEL_NAME_LENGTH}: {name[:40]!r}…"
        )
    if "!" in name:
        if not _REPLY_CHANNEL.match(name):
            raise InvalidChannelName(
                f"reply channel name must look like 'prefix!owner.id' using only a-z A-Z 0-9 - _ . : {name!r}"
            )
    elif not _NORMAL_CHANNEL.match(name):
        raise InvalidChannelName(f"channel name may only contain a-z A-Z 0-9 - _ . and must not be empty: {name!r}")
    return name


def validate_group_name(name: object) -> str:
    """Return ``name`` if it is a valid group name.

    Raises:
        InvalidGroupName: naming the offending value and the rule it breaks.
    """
    if not isinstance(name, str):
        raise InvalidGroupName(f"group name must be a str, not {type(name).__name__}: {name!r}")
    if len(name) > MAX_GROUP_NAME_LENGTH:
        raise InvalidGroupName(
            f"group name is {len(name)} characters, the limit is {MAX_GROUP_NAME_LENGTH}: {name[:40]!r}…"
        )
    if not _GROUP.match(name):
        raise InvalidGroupName(f"group name may only contain a-z A-Z 0-9 - _ . and must not be empty: {name!r}")
    return name


def owner_of(reply_channel: str) -> str:
    """The owner id named by a (validated) reply channel."""
    match = _REPLY_CHANNEL.match(reply_channel)
    if match is None:
        raise InvalidChannelName(f"not a reply channel: {reply_channel!r}")
    return match.group("owner")


def new_owner_id() -> str:
    """A fresh random id for a process that owns reply channels."""
    return secrets.token_hex(_OWNER_TOKEN_BYTES)


def new_reply_channel(prefix: str, owner: str) -> str:
    """A fresh, unguessable reply channel ``prefix!owner.token`` owned by ``owner``."""
    name = f"{prefix}!{owner}.{secrets.token_urlsafe(_REPLY_TOKEN_BYTES)}"
    return validate_channel_name(name)
