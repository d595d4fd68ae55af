"""The message object consumers receive (Channels 1.x ``channels.message.Message``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .channel import Channel
from .layers.core import SyncChannelLayer

__all__ = ["Message"]


class Message(Mapping[str, Any]):
    """A message taken from a channel: its ``content`` dict, the ``channel`` it came on, its
    ``reply_channel`` (if the content names one) and the ``channel_layer`` it travelled on.

    Reads like its content: ``message["text"]``, ``"path" in message``.
    """

    #: Set while the consumer runs by :func:`~realtime.sessions.channel_session`,
    #: :func:`~realtime.sessions.http_session` and the :mod:`realtime.auth` decorators.
    channel_session: Any = None
    http_session: Any = None
    user: Any = None

    def __init__(self, content: dict[str, Any], channel: str, channel_layer: SyncChannelLayer) -> None:
        self.content = content
        self.channel = Channel(channel, channel_layer=channel_layer)
        self.channel_layer = channel_layer
        reply_channel = content.get("reply_channel")
        self.reply_channel = Channel(reply_channel, channel_layer=channel_layer) if reply_channel else None

    def __getitem__(self, key: str) -> Any:
        return self.content[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.content)

    def __len__(self) -> int:
        return len(self.content)

    def copy(self) -> Message:
        """A message with a shallow copy of the content, on the same channel and layer, with
        the same sessions and user (consumers it is passed to share them)."""
        copy = Message(dict(self.content), self.channel.name, self.channel_layer)
        copy.channel_session, copy.http_session, copy.user = self.channel_session, self.http_session, self.user
        return copy

    def __repr__(self) -> str:
        return f"<Message on {self.channel.name!r} keys={sorted(self.content)}>"
