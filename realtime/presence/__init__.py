"""Presence: who is in a group, across every gateway, and join/leave events.

Enable it per group with the layer option ``presence_groups`` (glob patterns), run
``manage.py migrate`` (the members live in the Django database), then::

    Group("room-1").add(message.reply_channel, meta={"name": "Ada"})
    Group("room-1").members()   # [Member(group, channel, user, meta, joined_at), ...]
    Group("room-1").count()
    presence.subscribe("room-1", message.reply_channel)   # join/leave events to a socket or channel

Members of a gateway that stops beating are left out of ``members()`` after
``owner_timeout`` and announced as leaving (``reason: gateway_lost``) within a third more.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from ..channel import Channel
from ..layers import DEFAULT_ALIAS, get_channel_layer
from .events import Member, public_view

__all__ = ["Member", "public", "subscribe", "unsubscribe"]


def public(member: Member) -> dict[str, Any]:
    """``{"member", "user", "meta"}``: what a client may see of a member, as in the events
    (``member`` is a stable id that reveals nothing of the channel)."""
    return public_view(member, settings.SECRET_KEY)


def subscribe(group: str, channel: Channel | str, alias: str = DEFAULT_ALIAS) -> None:
    """Send ``group``'s join and leave events to ``channel`` (until it leaves or unsubscribes).

    A consumer gets ``{"type": "presence.join" | "presence.leave", "group", "channel",
    "member", "user", "meta", "reason"}``; a WebSocket gets the same without the channel, as
    JSON text.

    Raises:
        GroupNotTracked: ``group`` matches none of the layer's ``presence_groups``.
    """
    layer = get_channel_layer(alias).sync
    layer.group_add(layer.presence_tracker().events_group(group), str(channel))


def unsubscribe(group: str, channel: Channel | str, alias: str = DEFAULT_ALIAS) -> None:
    """Stop sending ``group``'s presence events to ``channel``."""
    layer = get_channel_layer(alias).sync
    layer.group_discard(layer.presence_tracker().events_group(group), str(channel))
