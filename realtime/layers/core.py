"""The channel layer's logic, in plain blocking calls: names, encoding, expiry, routing.

Normal channels live in one broker queue each, shared by every receiver; reply channels
live in their owner's inbox (one per process); groups deliver one copy per inbox and the
owner fans out locally (see :mod:`realtime.layers.inbox`). The transport below does the
I/O.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..exceptions import ChannelFull, GroupNotTracked, InvalidChannelName, InvalidMessage
from ..messages import Envelope, Kind, decode, encode, validate_content
from ..names import (
    is_reply_channel,
    new_owner_id,
    new_reply_channel,
    owner_of,
    validate_channel_name,
    validate_group_name,
)
from .config import LayerConfig
from .inbox import Inbox
from .transports import open_transport
from .transports.base import QueueReader, Transport

if TYPE_CHECKING:
    from ..presence.events import Member
    from ..presence.tracker import PresenceTracker

logger = logging.getLogger(__name__)

__all__ = ["ChannelReader", "SyncChannelLayer"]


def _live_content(body: bytes, queue: str) -> dict[str, Any] | None:
    """The content of a message taken from ``queue``, or ``None`` if it expired or is corrupt
    (logged: it cannot be delivered, and must not stop the receiver)."""
    try:
        envelope = decode(body)
    except InvalidMessage:
        logger.warning("dropped a corrupt message from %s", queue, exc_info=True)
        return None
    if envelope.expires_at > time.time() and envelope.content is not None:
        return envelope.content
    return None


class ChannelReader:
    """Reads several normal channels: how a worker takes its next message."""

    def __init__(self, reader: QueueReader, channels: dict[str, str]) -> None:
        self._reader = reader
        self._channels = channels

    def take(self, timeout: float) -> tuple[str, dict[str, Any]] | None:
        """The next ``(channel, message)``, or ``None`` after ``timeout`` seconds.

        Raises:
            BrokerUnavailable: the broker was lost; the next call reconnects.
        """
        deadline = time.monotonic() + timeout
        while True:
            taken = self._reader.take(max(0.0, deadline - time.monotonic()))
            if taken is None:
                return None
            queue, body = taken
            content = _live_content(body, queue)
            if content is not None:
                return self._channels[queue], content

    def close(self) -> None:
        """Stop reading."""
        self._reader.close()


class SyncChannelLayer:
    """The channel layer with blocking methods, for workers, tasks, views and commands."""

    def __init__(self, config: LayerConfig, transport: Transport | None = None) -> None:
        self.config = config
        self.transport = transport if transport is not None else open_transport(config)
        #: This process's owner id: the part after ``!`` in the reply channels it creates.
        self.owner = new_owner_id()
        self._inbox: Inbox | None = None
        self._inbox_lock = threading.Lock()
        self._presence: PresenceTracker | None = None
        self._presence_lock = threading.Lock()

    # -- names ---------------------------------------------------------------------

    def channel_queue(self, channel: str) -> str:
        """The broker queue that holds normal channel ``channel``."""
        return f"{self.config.prefix}.channel.{channel}"

    def inbox_queue(self, owner: str) -> str:
        """The broker queue (inbox) of the process whose owner id is ``owner``."""
        return f"{self.config.prefix}.inbox.{owner}"

    # -- channels ------------------------------------------------------------------

    def send(self, channel: str, message: dict[str, Any]) -> None:
        """Send ``message`` to ``channel``.

        Raises:
            InvalidChannelName: ``channel`` breaks the naming rules.
            InvalidMessage: ``message`` is not a dict of serialisable values.
            MessageTooLarge: the encoded message exceeds ``max_message_size``.
            ChannelFull: the channel (or, for a reply channel, its owner's inbox) is full.
            BrokerUnavailable: the broker could not be reached.
        """
        validate_channel_name(channel)
        validate_content(message)
        body = encode(
            Envelope(Kind.MESSAGE, channel, None, time.time() + self.config.expiry, message),
            self.config.max_message_size,
        )
        if is_reply_channel(channel):
            self._send_to_owner(channel, body)
        else:
            capacity = self.config.capacity_for(channel)
            try:
                self.transport.send(self.channel_queue(channel), body, ttl=self.config.expiry, capacity=capacity)
            except ChannelFull:
                raise ChannelFull(f"channel {channel!r} holds {capacity} undelivered messages") from None

    def receive(self, channel: str, timeout: float | None = None) -> dict[str, Any] | None:
        """Take the next message from ``channel``, waiting up to ``timeout`` seconds (``None``:
        forever). Returns ``None`` on timeout.

        Raises:
            InvalidChannelName: ``channel`` is invalid, or is a reply channel another process owns.
        """
        validate_channel_name(channel)
        if is_reply_channel(channel):
            if owner_of(channel) != self.owner:
                raise InvalidChannelName(
                    f"{channel!r} belongs to another process; only the process that created a reply "
                    "channel receives from it"
                )
            return self._own_inbox().receive(channel, timeout)
        return self._receive_normal(channel, timeout)

    def _receive_normal(self, channel: str, timeout: float | None) -> dict[str, Any] | None:
        queue = self.channel_queue(channel)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            body = self.transport.receive(queue, remaining, capacity=self.config.capacity_for(channel))
            if body is None:
                return None
            content = _live_content(body, queue)
            if content is not None:
                return content
            if deadline is not None and time.monotonic() >= deadline:
                return None

    def reader(self, channels: Iterable[str]) -> ChannelReader:
        """A long-lived reader of several normal channels, for a worker's consumer loop."""
        queues = {self.channel_queue(validate_channel_name(channel)): channel for channel in channels}
        if not queues or any(is_reply_channel(channel) for channel in queues.values()):
            raise InvalidChannelName(f"a reader reads one or more normal channels, not {sorted(queues.values())}")
        capacities = {queue: self.config.capacity_for(channel) for queue, channel in queues.items()}
        return ChannelReader(self.transport.open_reader(capacities), queues)

    def new_channel(self, prefix: str = "specific") -> str:
        """Create a reply channel owned by this process and return its name."""
        channel = new_reply_channel(prefix, self.owner)
        self._own_inbox().register(channel)
        return channel

    # -- groups --------------------------------------------------------------------

    def group_add(self, group: str, channel: str, *, meta: dict[str, Any] | None = None) -> None:
        """Add ``channel`` to ``group`` (renewing its expiry if already a member). In a group
        tracked for presence, ``meta`` is what :meth:`group_members` reports about the member.

        Raises:
            ChannelFull: the channel's owner has stalled and its inbox is full.
        """
        validate_group_name(group)
        validate_channel_name(channel)
        if is_reply_channel(channel):
            # The owner learns of the membership first, then the broker binds: a group send
            # that starts after group_add returns always finds both in place.
            self._notify_owner(Kind.GROUP_ADD, group, channel)
            self.transport.group_bind(
                group, self.inbox_queue(owner_of(channel)), channel, expiry=self.config.group_expiry, capacity=None
            )
        else:
            self.transport.group_bind(
                group,
                self.channel_queue(channel),
                channel,
                expiry=self.config.group_expiry,
                capacity=self.config.capacity_for(channel),
            )
        tracker = self._tracker_of(group)
        if tracker is not None:
            tracker.joined(group, channel, meta)

    def group_discard(self, group: str, channel: str) -> None:
        """Remove ``channel`` from ``group``; a no-op if it is not a member."""
        validate_group_name(group)
        validate_channel_name(channel)
        if is_reply_channel(channel):
            self.transport.group_unbind(group, self.inbox_queue(owner_of(channel)), channel)
            self._notify_owner(Kind.GROUP_DISCARD, group, channel)
        else:
            self.transport.group_unbind(group, self.channel_queue(channel), channel)
        tracker = self._tracker_of(group)
        if tracker is not None:
            tracker.left(group, channel)

    def group_send(self, group: str, message: dict[str, Any]) -> None:
        """Send ``message`` to every member of ``group``. Members whose channel is full miss it."""
        validate_group_name(group)
        validate_content(message)
        body = encode(
            Envelope(Kind.MESSAGE, None, group, time.time() + self.config.expiry, message), self.config.max_message_size
        )
        self.transport.group_send(group, body, ttl=self.config.expiry)

    def group_members(self, group: str) -> list[Member]:
        """The members of presence-tracked ``group``, across every process, oldest first.

        Raises:
            GroupNotTracked: presence is off for ``group`` (see ``presence_groups``).
        """
        validate_group_name(group)
        return self.presence_tracker().members(group)

    def group_count(self, group: str) -> int:
        """How many members :meth:`group_members` would list."""
        validate_group_name(group)
        return self.presence_tracker().count(group)

    def presence_tracker(self) -> PresenceTracker:
        """The presence of this layer's tracked groups.

        Raises:
            GroupNotTracked: the layer tracks no group (``presence_groups`` is empty).
        """
        if not self.config.presence_groups:
            raise GroupNotTracked(
                "presence is off: list the groups to track in the layer's 'presence_groups' option "
                "(CHANNEL_LAYERS[...]['CONFIG'])"
            )
        with self._presence_lock:
            if self._presence is None:
                from ..presence.tracker import PresenceTracker  # imports the models: Django must be set up

                self._presence = PresenceTracker(self.config, self.group_send)
            return self._presence

    def _tracker_of(self, group: str) -> PresenceTracker | None:
        if not self.config.presence_groups:
            return None
        tracker = self.presence_tracker()
        return tracker if tracker.tracks(group) else None

    def notify_processed(self, reply_channel: str, order: int) -> None:
        """Tell the owner of ``reply_channel`` that its message number ``order`` has been
        processed (how the gateway keeps one message per connection in flight)."""
        validate_channel_name(reply_channel)
        envelope = Envelope(Kind.PROCESSED, reply_channel, None, time.time() + self.config.expiry, {"order": order})
        self._send_to_owner(reply_channel, encode(envelope, self.config.max_message_size))

    def on_processed(self, handler: Callable[[str, int], None] | None) -> None:
        """Call ``handler(reply_channel, order)`` in the inbox thread for each processed notice
        about this process's reply channels."""
        self._own_inbox().on_processed = handler

    def on_message(self, handler: Callable[[str, dict[str, Any]], None] | None) -> None:
        """Deliver messages for this process's reply channels by calling ``handler(channel,
        message)`` in the inbox thread, in order, instead of holding them for :meth:`receive`."""
        self._own_inbox().on_message = handler

    def inbox_ready(self) -> bool:
        """True while the broker holds this process's inbox with its group memberships: after
        a broker failure, only once they are bound again.

        Raises:
            BrokerUnavailable: the broker cannot be reached.
        """
        return self._own_inbox().members_bound and self.transport.queue_exists(self.inbox_queue(self.owner))

    def release_channel(self, channel: str) -> None:
        """Give up a reply channel this process owns (its connection closed): later messages
        for it are dropped, and it leaves every group it was in."""
        for group in self._own_inbox().release(channel):
            self.transport.group_unbind(group, self.inbox_queue(self.owner), channel)
        if self.config.presence_groups:
            self.presence_tracker().released(channel)

    def _notify_owner(self, kind: Kind, group: str, channel: str) -> None:
        self._send_to_owner(
            channel,
            encode(Envelope(kind, channel, group, time.time() + self.config.expiry), self.config.max_message_size),
        )

    def _send_to_owner(self, channel: str, body: bytes) -> None:
        """Put ``body`` in the inbox of the process that owns reply channel ``channel``."""
        owner = owner_of(channel)
        try:
            self.transport.send_to_inbox(
                self.inbox_queue(owner), body, ttl=self.config.expiry, capacity=self.config.inbox_capacity
            )
        except ChannelFull:
            raise ChannelFull(
                f"the owner ({owner}) of {channel!r} has stalled: its inbox is full of undelivered messages"
            ) from None

    @property
    def dropped(self) -> dict[str, int]:
        """Messages for this process's reply channels that were not delivered, by reason:
        ``full`` (the channel held ``capacity`` messages), ``expired``, ``unknown_channel``
        (sent to a channel this process no longer has) and ``corrupt``."""
        return dict(self._inbox.dropped) if self._inbox is not None else {}

    # -- lifecycle -----------------------------------------------------------------

    def _own_inbox(self) -> Inbox:
        with self._inbox_lock:
            if self._inbox is None:
                self._inbox = Inbox(self.transport, self.inbox_queue(self.owner), self.config)
                if self.config.presence_groups:
                    self.presence_tracker().start(self.owner, self._inbox.owns)
            return self._inbox

    def flush(self) -> None:
        """Delete every message, channel and group of this layer (for tests and development)."""
        self._close_inbox()
        self.transport.flush()

    def close(self) -> None:
        """Stop owning reply channels (their inbox is deleted) and release connections."""
        self._close_inbox()
        self.transport.close()

    def _close_inbox(self) -> None:
        with self._inbox_lock:
            inbox, self._inbox = self._inbox, None
        if inbox is not None:
            if self._presence is not None:
                self._presence.stop()
            inbox.close()
