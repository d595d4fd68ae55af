"""What a broker transport must provide to the channel layer.

A transport moves opaque ``bytes`` between named queues and fans them out to groups;
the layer above it owns naming, encoding, expiry and membership. Three kinds of
broker object exist:

* a *channel queue* per normal channel, read by any worker (competing receivers);
* an *inbox* per owning process (a gateway), holding the messages of all its reply
  channels and its membership changes, read only by its owner;
* a *group*, which delivers one copy of each group message to every queue that has at
  least one member bound, however many members that queue has.
"""

from __future__ import annotations

import abc

__all__ = ["InboxReader", "QueueReader", "Transport"]


class QueueReader(abc.ABC):
    """A worker's long-lived reader of several channel queues. Used from one thread only."""

    @abc.abstractmethod
    def take(self, timeout: float) -> tuple[str, bytes] | None:
        """Take the next message from any of the queues (fairly), or ``None`` after ``timeout``
        seconds. A taken message is never delivered again (at-most-once)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop reading; messages not yet taken stay in their queues."""


class InboxReader(abc.ABC):
    """The owner's end of its inbox. Used from one thread only."""

    @abc.abstractmethod
    def read(self, timeout: float) -> list[bytes]:
        """Take the next messages (at least one, in order), or ``[]`` after ``timeout`` seconds
        (or at once after re-creating the inbox, so that :meth:`pop_reconnected` is seen).

        Taken messages are never delivered again (at-most-once). Also keeps the owner
        visibly alive to the broker (heartbeats, liveness keys).
        """

    def pop_reconnected(self) -> bool:
        """True once after the reader re-created the inbox following a broker failure: the
        broker lost its group bindings, and the owner must bind its members again."""
        return False

    @abc.abstractmethod
    def close(self) -> None:
        """Stop reading and delete the inbox and its group bindings."""


class Transport(abc.ABC):
    """Broker operations the layer needs. Thread-safe."""

    @abc.abstractmethod
    def send(self, queue: str, body: bytes, *, ttl: float, capacity: int) -> None:
        """Append ``body`` to ``queue``, creating the queue if needed.

        Raises:
            ChannelFull: if ``queue`` already holds ``capacity`` messages.
            BrokerUnavailable: if the broker cannot be reached.
        """

    @abc.abstractmethod
    def send_to_inbox(self, inbox: str, body: bytes, *, ttl: float, capacity: int) -> None:
        """Append ``body`` to an owner's inbox; dropped silently if the owner is gone.

        Raises:
            ChannelFull: if the inbox already holds ``capacity`` messages.
        """

    @abc.abstractmethod
    def receive(self, queue: str, timeout: float | None, *, capacity: int) -> bytes | None:
        """Take one message from a channel queue, or ``None`` after ``timeout`` seconds.

        With several receivers on one queue each message goes to exactly one of them.
        """

    @abc.abstractmethod
    def open_reader(self, queues: dict[str, int]) -> QueueReader:
        """A reader of the channel queues ``queues`` (name -> capacity), creating them if needed."""

    @abc.abstractmethod
    def open_inbox(self, inbox: str, *, capacity: int) -> InboxReader:
        """Create the inbox ``inbox`` and return its reader."""

    @abc.abstractmethod
    def group_send(self, group: str, body: bytes, *, ttl: float) -> None:
        """Deliver ``body`` once to every queue with a member in ``group``. Never raises
        ChannelFull: a full queue misses the message."""

    @abc.abstractmethod
    def group_bind(self, group: str, queue: str, member: str, *, expiry: float, capacity: int | None) -> None:
        """Record ``member`` (a channel) of ``group`` as delivered through ``queue``.

        ``capacity`` is given for a channel queue, which is created if missing; it is
        ``None`` for an inbox, and binding to an inbox whose owner is gone does nothing.
        """

    def bind_inbox_members(self, inbox: str, memberships: list[tuple[str, str]], *, expiry: float) -> None:
        """:meth:`group_bind` every ``(group, member)`` of an owner's inbox at once: how an
        owner restores its memberships after a broker restart, while group sends to them are
        lost. Transports that can batch do it in a few round trips."""
        for group, member in memberships:
            self.group_bind(group, inbox, member, expiry=expiry, capacity=None)

    @abc.abstractmethod
    def group_unbind(self, group: str, queue: str, member: str) -> None:
        """Remove the record made by :meth:`group_bind`."""

    @abc.abstractmethod
    def queue_exists(self, queue: str) -> bool:
        """True if ``queue`` (a channel queue or an inbox) currently exists."""

    @abc.abstractmethod
    def flush(self) -> None:
        """Delete every queue, inbox and group this layer's namespace holds (see docs for
        per-transport reach)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections. The transport cannot be used afterwards."""
