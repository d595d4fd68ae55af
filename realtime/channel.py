"""The Channels 1.x API: ``Channel("name").send(...)`` and ``Group("name").add/discard/send``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .layers import DEFAULT_ALIAS, SyncChannelLayer, get_channel_layer
from .messages import validate_content
from .names import validate_channel_name, validate_group_name

__all__ = ["Channel", "Group"]


def _send_later(
    kind: str, target: str, content: dict[str, Any], countdown: float | None, eta: datetime | None, alias: str
) -> None:
    validate_content(content)  # refuse a bad message now, not when the task runs
    from tasks.delayed import send_later

    send_later(kind, target, content, countdown=countdown, eta=eta, alias=alias)


class Channel:
    """A named channel to send to (Channels 1.x ``channels.Channel``)."""

    def __init__(self, name: str, alias: str = DEFAULT_ALIAS, channel_layer: SyncChannelLayer | None = None) -> None:
        self.name = validate_channel_name(name)
        self._alias = alias
        self._layer = channel_layer

    @property
    def channel_layer(self) -> SyncChannelLayer:
        return self._layer if self._layer is not None else get_channel_layer(self._alias).sync

    def send(
        self,
        content: dict[str, Any],
        immediately: bool = False,
        *,
        countdown: float | None = None,
        eta: datetime | None = None,
    ) -> None:
        """Send ``content`` on this channel; later with ``countdown`` (seconds) or ``eta``
        (scheduled by Celery, so it needs a Celery worker running).

        ``immediately`` is accepted for Channels 1.x compatibility; sends are always immediate.
        """
        if countdown is None and eta is None:
            self.channel_layer.send(self.name, content)
        else:
            _send_later("channel", self.name, content, countdown, eta, self._alias)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"Channel({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Channel) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


class Group:
    """A named broadcast group (Channels 1.x ``channels.Group``)."""

    def __init__(self, name: str, alias: str = DEFAULT_ALIAS, channel_layer: SyncChannelLayer | None = None) -> None:
        self.name = validate_group_name(name)
        self._alias = alias
        self._layer = channel_layer

    @property
    def channel_layer(self) -> SyncChannelLayer:
        return self._layer if self._layer is not None else get_channel_layer(self._alias).sync

    def add(self, channel: Channel | str) -> None:
        """Add a channel (a ``Channel`` or its name) to the group."""
        self.channel_layer.group_add(self.name, str(channel))

    def discard(self, channel: Channel | str) -> None:
        """Remove a channel from the group; a no-op if it is not a member."""
        self.channel_layer.group_discard(self.name, str(channel))

    def send(
        self,
        content: dict[str, Any],
        immediately: bool = False,
        *,
        countdown: float | None = None,
        eta: datetime | None = None,
    ) -> None:
        """Send ``content`` to every channel in the group; later with ``countdown`` or ``eta``."""
        if countdown is None and eta is None:
            self.channel_layer.group_send(self.name, content)
        else:
            _send_later("group", self.name, content, countdown, eta, self._alias)

    def __repr__(self) -> str:
        return f"Group({self.name!r})"
