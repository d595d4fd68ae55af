"""The owner's side of reply channels: one inbox per process, sorted into channels locally.

A background thread (a greenlet under gevent) reads the inbox, applies membership
changes, fans group messages out to the local members and keeps each reply channel's
undelivered messages in a bounded buffer that :meth:`Inbox.receive` takes from.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from ..exceptions import InvalidMessage, RealtimeError
from ..messages import Envelope, Kind, decode
from .config import LayerConfig
from .membership import Memberships
from .transports.base import Transport

__all__ = ["Inbox"]

logger = logging.getLogger(__name__)

# How long one read waits before the loop looks at its stop flag and expired memberships.
_READ_TIMEOUT = 0.25
# Seconds between sweeps for expired group memberships.
_SWEEP_INTERVAL = 5.0
# Seconds to wait before reading again after the broker failed. Short: group messages sent
# between the broker's return and the rebinding of this inbox's members reach nobody.
_RETRY_DELAY = 0.1


class Inbox:
    """Reads one owner's inbox and holds the undelivered messages of its reply channels."""

    def __init__(self, transport: Transport, name: str, config: LayerConfig) -> None:
        self.name = name
        self.memberships = Memberships()
        #: Messages not delivered, by reason ("full", "expired", "unknown_channel", "corrupt").
        self.dropped: Counter[str] = Counter()
        #: Called with (reply_channel, order) for each processed notice; set by the owner.
        self.on_processed: Callable[[str, int], None] | None = None
        #: If set, called with (channel, message) for each message instead of buffering it
        #: for receive(): how a gateway takes messages for its sockets.
        self.on_message: Callable[[str, dict[str, Any]], None] | None = None
        self._reported: Counter[str] = Counter()
        # Actions decided under the lock, run after it is released (inbox thread only).
        self._deferred: deque[Callable[[], object]] = deque()
        self._transport = transport
        self._config = config
        self._buffers: dict[str, deque[tuple[float, dict[str, Any]]]] = {}
        self._ready = threading.Condition()
        self._stopping = threading.Event()
        self._members_bound = True
        self._reader = transport.open_inbox(name, capacity=config.inbox_capacity)
        self._thread = threading.Thread(target=self._run, name=f"realtime-inbox-{name}", daemon=True)
        self._thread.start()

    @property
    def members_bound(self) -> bool:
        """False from a broker failure until this inbox's group memberships are bound again:
        group messages sent meanwhile miss its channels."""
        return self._members_bound

    def register(self, channel: str) -> None:
        """Start holding messages for ``channel`` (a reply channel this process owns)."""
        with self._ready:
            self._buffers.setdefault(channel, deque())

    def owns(self, channel: str) -> bool:
        """True while ``channel`` is registered here (its connection is open)."""
        return channel in self._buffers

    def release(self, channel: str) -> list[str]:
        """Stop holding messages for ``channel`` and forget its memberships; returns its groups."""
        with self._ready:
            self._buffers.pop(channel, None)
            return self.memberships.remove_channel(channel)

    def receive(self, channel: str, timeout: float | None) -> dict[str, Any] | None:
        """The next message on ``channel``, or ``None`` after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._ready:
            self._buffers.setdefault(channel, deque())
            while True:
                buffer = self._buffers.get(channel)
                now = time.time()
                while buffer:
                    expires_at, content = buffer.popleft()
                    if expires_at > now:
                        return content
                    self.dropped["expired"] += 1
                remaining = None if deadline is None else deadline - time.monotonic()
                if self._stopping.is_set() or (remaining is not None and remaining <= 0):
                    return None
                self._ready.wait(remaining)

    def close(self) -> None:
        """Stop reading; the inbox and its bindings are deleted by the reader thread."""
        self._stopping.set()
        with self._ready:
            self._ready.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join()

    def _run(self) -> None:
        next_sweep = time.time() + _SWEEP_INTERVAL
        try:
            while not self._stopping.is_set():
                try:
                    bodies = self._reader.read(_READ_TIMEOUT)
                except RealtimeError:
                    if self._members_bound:  # the outage's first failure: said once
                        logger.exception("reading inbox %s failed; retrying every %.1f s", self.name, _RETRY_DELAY)
                    self._members_bound = False  # a restarted broker has lost the bindings
                    self._stopping.wait(_RETRY_DELAY)
                    continue
                if self._reader.pop_reconnected() or not self._members_bound:
                    self._bind_members_again()
                now = time.time()
                if bodies:
                    with self._ready:
                        for body in bodies:
                            self._dispatch(body, now)
                        self._ready.notify_all()
                    self._run_deferred()
                if now >= next_sweep:
                    self._sweep_memberships(now)
                    self._report_drops()
                    next_sweep = now + _SWEEP_INTERVAL
        finally:
            self._reader.close()

    def _dispatch(self, body: bytes, now: float) -> None:
        try:
            envelope = decode(body)
        except InvalidMessage:
            logger.warning("dropped a corrupt message in inbox %s", self.name, exc_info=True)
            self.dropped["corrupt"] += 1
            return
        if envelope.expires_at <= now:
            self.dropped["expired"] += 1
        elif envelope.kind is Kind.MESSAGE:
            self._deliver(envelope, now)
        elif envelope.kind is Kind.PROCESSED:
            order = (envelope.content or {}).get("order")
            handler = self.on_processed
            if handler is not None and envelope.channel is not None and isinstance(order, int):
                self._deferred.append(functools.partial(handler, envelope.channel, order))
        elif envelope.channel is None or envelope.group is None:
            self.dropped["corrupt"] += 1
        elif envelope.kind is Kind.GROUP_ADD:
            if envelope.channel in self._buffers:
                self.memberships.add(envelope.group, envelope.channel, now + self._config.group_expiry)
            else:  # the channel closed before its membership arrived
                unbind = self._transport.group_unbind
                self._deferred.append(functools.partial(unbind, envelope.group, self.name, envelope.channel))
        else:
            self.memberships.discard(envelope.group, envelope.channel)

    def _run_deferred(self) -> None:
        """Run what dispatching asked for, outside the lock: handlers and broker calls must not
        hold up receivers."""
        while self._deferred:
            action = self._deferred.popleft()
            try:
                action()
            except Exception:  # a failing handler must not stop the inbox
                logger.exception("inbox %s: %r failed", self.name, action)

    def _deliver(self, envelope: Envelope, now: float) -> None:
        assert envelope.content is not None
        if envelope.group is not None:
            targets = self.memberships.members(envelope.group, now)
        else:
            targets = [envelope.channel] if envelope.channel is not None else []
        handler = self.on_message
        for channel in targets:
            buffer = self._buffers.get(channel)
            if buffer is None:
                self.dropped["unknown_channel"] += 1
            elif handler is not None:
                self._deferred.append(functools.partial(handler, channel, envelope.content))
            else:
                while buffer and buffer[0][0] <= now:  # expired messages hold no room
                    buffer.popleft()
                    self.dropped["expired"] += 1
                if len(buffer) >= self._config.capacity_for(channel):
                    self.dropped["full"] += 1
                else:
                    buffer.append((envelope.expires_at, envelope.content))

    def _report_drops(self) -> None:
        # Drops happen at the owner, where no sender hears of them: say so, at most once
        # per sweep interval.
        with self._ready:
            new = self.dropped - self._reported
            self._reported = self.dropped.copy()
        if new:
            details = ", ".join(f"{reason}: {count}" for reason, count in sorted(new.items()))
            logger.warning("inbox %s dropped %d messages (%s)", self.name, new.total(), details)

    def _bind_members_again(self) -> None:
        with self._ready:
            memberships = self.memberships.items()
        logger.info(
            "inbox %s re-created after a broker failure; binding %d memberships again", self.name, len(memberships)
        )
        started = time.monotonic()
        try:
            self._transport.bind_inbox_members(self.name, memberships, expiry=self._config.group_expiry)
        except RealtimeError:
            logger.warning("inbox %s: binding memberships again failed; retrying", self.name, exc_info=True)
            self._members_bound = False
            return
        self._members_bound = True
        logger.info("inbox %s: %d memberships bound again in %.3f s", self.name, len(memberships),
                    time.monotonic() - started)  # fmt: skip

    def _sweep_memberships(self, now: float) -> None:
        with self._ready:
            expired = self.memberships.pop_expired(now)
        for group, channel in expired:
            try:
                self._transport.group_unbind(group, self.name, channel)
            except RealtimeError:
                logger.warning("could not unbind expired member %s of %s", channel, group, exc_info=True)
