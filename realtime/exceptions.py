"""Errors raised by the realtime library.

Each error says who is at fault: the caller (a bad name, a message that cannot be
sent), the receiving side (a full channel), or the infrastructure (the broker).
"""

from __future__ import annotations

__all__ = [
    "BrokerUnavailable",
    "ChannelFull",
    "ConsumeLater",
    "GroupNotTracked",
    "InvalidChannelName",
    "InvalidGroupName",
    "InvalidMessage",
    "LayerConfigurationError",
    "MessageTooLarge",
    "RealtimeError",
    "RoutingError",
]


class RealtimeError(Exception):
    """Base class of every error this library raises on purpose."""


class InvalidChannelName(RealtimeError, TypeError):
    """The caller passed a channel name that breaks the naming rules.

    A ``TypeError`` too, as in Django Channels, so existing ``except TypeError``
    code keeps working.
    """


class InvalidGroupName(InvalidChannelName):
    """The caller passed a group name that breaks the naming rules."""


class InvalidMessage(RealtimeError, TypeError):
    """The message is not a dict of serialisable values (str keys; dict, list,
    str, bytes, int, float, bool or None values)."""


class MessageTooLarge(RealtimeError, ValueError):
    """The encoded message is bigger than the layer's ``max_message_size``."""


class ChannelFull(RealtimeError):
    """The channel already holds its capacity of undelivered messages.

    Raised to the sender; the message was not queued. Retry later or drop it.
    """


class BrokerUnavailable(RealtimeError, ConnectionError):
    """The broker could not be reached within the layer's bounded retry."""


class LayerConfigurationError(RealtimeError):
    """``CHANNEL_LAYERS`` (or the broker URL) does not describe a usable layer."""


class GroupNotTracked(RealtimeError, LookupError):
    """Presence was asked of a group that the layer's ``presence_groups`` do not match."""


class RoutingError(RealtimeError, ValueError):
    """The routing configuration cannot be used: a bad pattern, an import that fails, or
    patterns that cannot be joined by ``include``."""


class ConsumeLater(Exception):
    """Raised by a consumer to put its message back on its channel and handle it later."""
