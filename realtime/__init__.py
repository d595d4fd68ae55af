"""Realtime Django on Celery, Kombu and gevent: channels, groups and the channel layer."""

from __future__ import annotations

from .channel import Channel, Group
from .exceptions import (
    BrokerUnavailable,
    ChannelFull,
    GroupNotTracked,
    InvalidChannelName,
    InvalidGroupName,
    InvalidMessage,
    MessageTooLarge,
)
from .layers import get_channel_layer

__all__ = [
    "BrokerUnavailable",
    "Channel",
    "ChannelFull",
    "Group",
    "GroupNotTracked",
    "InvalidChannelName",
    "InvalidGroupName",
    "InvalidMessage",
    "MessageTooLarge",
    "get_channel_layer",
]

__version__ = "0.1.0"
