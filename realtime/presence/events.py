"""Presence events: who joined or left a group, as a message (pure, no I/O)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..exceptions import InvalidGroupName
from ..names import MAX_GROUP_NAME_LENGTH

__all__ = ["EVENTS_PREFIX", "Member", "event_message", "events_group", "public_view"]

#: Group ``g``'s join and leave events go to the group ``presence.g``.
EVENTS_PREFIX = "presence."


@dataclass(frozen=True)
class Member:
    """A channel in a tracked group."""

    group: str
    #: The member's channel (a secret for a reply channel: never show it to clients).
    channel: str
    #: The primary key (as text) of the signed-in user whose message added the channel, if any.
    user: str | None
    #: What the code that added the channel attached (``Group.add(channel, meta=…)``).
    meta: dict[str, Any]
    joined_at: datetime

    def member_id(self, secret: str) -> str:
        """A stable id for the member that reveals nothing of its channel (safe for clients)."""
        return hmac.new(secret.encode(), self.channel.encode(), hashlib.sha256).hexdigest()[:20]


def events_group(group: str) -> str:
    """The group that receives ``group``'s presence events.

    Raises:
        InvalidGroupName: the name is too long to leave room for the prefix.
    """
    name = EVENTS_PREFIX + group
    if len(name) > MAX_GROUP_NAME_LENGTH:
        raise InvalidGroupName(
            f"presence events of {group!r} need a group name of at most "
            f"{MAX_GROUP_NAME_LENGTH - len(EVENTS_PREFIX)} characters"
        )
    return name


def public_view(member: Member, secret: str) -> dict[str, Any]:
    """What a client may see of ``member``: its id, user and meta (never its channel)."""
    return {"member": member.member_id(secret), "user": member.user, "meta": member.meta}


def event_message(kind: str, member: Member, reason: str, secret: str) -> dict[str, Any]:
    """The message a subscriber receives: ``kind`` is ``join`` or ``leave``; ``reason`` is
    ``join``, ``discard``, ``disconnect``, ``expired`` or ``gateway_lost``.

    A consumer reads its keys; a subscribed WebSocket gets ``text``, the same facts as JSON
    without the channel name.
    """
    public = {"type": f"presence.{kind}", "group": member.group, **public_view(member, secret), "reason": reason}
    return {**public, "channel": member.channel, "text": json.dumps(public, separators=(",", ":"))}
