"""The Channels 1.x API: ``Channel("name").send(...)`` and ``Group("name").add/discard/send``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from .layers import DEFAULT_ALIAS, SyncChannelLayer, get_channel_layer
from .messages import validate_content
from .names import validate_channel_name, validate_group_name

if TYPE_CHECKING:
    from .presence.events import Member

__all__ = ["Channel", "Group"]


class _Addressee:
    """A named channel or group on a layer (the default one unless given)."""

    kind: ClassVar[str]

    def __init__(self, name: str, alias: str, channel_layer: SyncChannelLayer | None) -> None:
        self.name = name
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
        expires: float | datetime | None = None,
    ) -> None:
        """Send ``content`` now, or later with ``countdown`` (seconds) or ``eta`` (scheduled by
        Celery, so a Celery worker must be running). A later send that cannot happen by
        ``expires`` (seconds from now, or a datetime) is dropped; by default one layer
        expiry after it is due.

        ``immediately`` is accepted for Channels 1.x compatibility; sends are always immediate.
        """
        if countdown is None and eta is None:
            self._send_now(content)
            return
        validate_content(content)  # refuse a bad message now, not when the task runs
        from tasks.delayed import send_later

        send_later(self.kind, self.name, content, countdown=countdown, eta=eta, expires=expires, alias=self._alias)

    def _send_now(self, content: dict[str, Any]) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class Channel(_Addressee):
    """A named channel to send to (Channels 1.x ``channels.Channel``)."""

    kind = "channel"

    def __init__(self, name: str, alias: str = DEFAULT_ALIAS, channel_layer: SyncChannelLayer | None = None) -> None:
        super().__init__(validate_channel_name(name), alias, channel_layer)

    def _send_now(self, content: dict[str, Any]) -> None:
        self.channel_layer.send(self.name, content)

    def __str__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Channel) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


class Group(_Addressee):
    """A named broadcast group (Channels 1.x ``channels.Group``)."""

    kind = "group"

    def __init__(self, name: str, alias: str = DEFAULT_ALIAS, channel_layer: SyncChannelLayer | None = None) -> None:
        super().__init__(validate_group_name(name), alias, channel_layer)

    def add(self, channel: Channel | str, *, meta: dict[str, Any] | None = None) -> None:
        """Add a channel (a ``Channel`` or its name) to the group. If the group is tracked for
        presence, ``meta`` (a JSON-able dict) is reported with the member."""
        self.channel_layer.group_add(self.name, str(channel), meta=meta)

    def discard(self, channel: Channel | str) -> None:
        """Remove a channel from the group; a no-op if it is not a member."""
        self.channel_layer.group_discard(self.name, str(channel))

    def members(self) -> list[Member]:
        """Who is in the group now, across every gateway, oldest first (presence-tracked
        groups only: see :mod:`realtime.presence`).

        Raises:
            GroupNotTracked: the layer's ``presence_groups`` do not match this group.
        """
        return self.channel_layer.group_members(self.name)

    def count(self) -> int:
        """How many members :meth:`members` would list."""
        return self.channel_layer.group_count(self.name)

    def _send_now(self, content: dict[str, Any]) -> None:
        self.channel_layer.group_send(self.name, content)
