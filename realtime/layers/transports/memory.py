"""In-process transport (``memory://``): the embedded default for one-process runs and tests.

All layers of one process that name the same ``memory://name`` share one broker, so a
gateway and a worker thread in one process talk through it like Channels 1.x's
``runserver``. Nothing crosses a process boundary.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ...exceptions import ChannelFull
from .base import InboxReader, QueueReader, Transport

__all__ = ["MemoryTransport"]


@dataclass
class _Queue:
    capacity: int
    ready: threading.Condition
    items: deque[tuple[float, bytes]] = field(default_factory=deque)

    def drop_expired(self, now: float) -> None:
        while self.items and self.items[0][0] <= now:
            self.items.popleft()


class _Broker:
    """Queues and groups shared by every memory transport of one name."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        #: Notified on every put, for readers of several queues.
        self.activity = threading.Condition(self.lock)
        self.queues: dict[str, _Queue] = {}
        # group -> {(queue, member): membership deadline}
        self.groups: dict[str, dict[tuple[str, str], float]] = {}

    def queue(self, name: str, capacity: int) -> _Queue:
        queue = self.queues.get(name)
        if queue is None:
            queue = self.queues[name] = _Queue(capacity, threading.Condition(self.lock))
        return queue

    def put(self, queue: _Queue, body: bytes, ttl: float) -> bool:
        now = time.monotonic()
        queue.drop_expired(now)
        if len(queue.items) >= queue.capacity:
            return False
        queue.items.append((now + ttl, body))
        queue.ready.notify()
        self.activity.notify_all()
        return True


_brokers: dict[str, _Broker] = {}
_brokers_lock = threading.Lock()


def _broker_for(url: str) -> _Broker:
    name = urlsplit(url).netloc + urlsplit(url).path
    with _brokers_lock:
        return _brokers.setdefault(name, _Broker())


class _MemoryInbox(InboxReader):
    def __init__(self, broker: _Broker, name: str, queue: _Queue) -> None:
        self._broker, self._name, self._queue = broker, name, queue

    def read(self, timeout: float) -> list[bytes]:
        deadline = time.monotonic() + timeout
        with self._broker.lock:
            while True:
                now = time.monotonic()
                self._queue.drop_expired(now)
                if self._queue.items:
                    taken = [body for _, body in self._queue.items]
                    self._queue.items.clear()
                    return taken
                if self._broker.queues.get(self._name) is not self._queue:
                    # Flushed by another layer: the owner lives on, so its inbox comes back
                    # (as on Redis, where the owner re-announces it).
                    self._broker.queues[self._name] = self._queue
                if now >= deadline:
                    return []
                self._queue.ready.wait(deadline - now)

    def close(self) -> None:
        with self._broker.lock:
            if self._broker.queues.get(self._name) is self._queue:
                del self._broker.queues[self._name]
            for members in self._broker.groups.values():
                for key in [key for key in members if key[0] == self._name]:
                    del members[key]
            self._queue.ready.notify_all()


class _MemoryReader(QueueReader):
    def __init__(self, broker: _Broker, queues: dict[str, int]) -> None:
        self._broker = broker
        self._names = list(queues)
        self._capacities = queues
        self._next = 0

    def take(self, timeout: float) -> tuple[str, bytes] | None:
        deadline = time.monotonic() + timeout
        with self._broker.lock:
            while True:
                now = time.monotonic()
                # Start one queue further each time, so a busy queue cannot starve the others.
                for offset in range(len(self._names)):
                    name = self._names[(self._next + offset) % len(self._names)]
                    queue = self._broker.queue(name, self._capacities[name])
                    queue.drop_expired(now)
                    if queue.items:
                        self._next = (self._next + offset + 1) % len(self._names)
                        return name, queue.items.popleft()[1]
                if now >= deadline:
                    return None
                self._broker.activity.wait(deadline - now)

    def close(self) -> None:
        """Nothing to release."""


class MemoryTransport(Transport):
    """A transport whose broker is a dict in this process."""

    def __init__(self, url: str = "memory://") -> None:
        self._broker = _broker_for(url)

    def send(self, queue: str, body: bytes, *, ttl: float, capacity: int) -> None:
        with self._broker.lock:
            if not self._broker.put(self._broker.queue(queue, capacity), body, ttl):
                raise ChannelFull(f"queue {queue!r} is full")

    def send_to_inbox(self, inbox: str, body: bytes, *, ttl: float, capacity: int) -> None:
        with self._broker.lock:
            target = self._broker.queues.get(inbox)
            if target is not None and not self._broker.put(target, body, ttl):
                raise ChannelFull(f"queue {inbox!r} is full")

    def receive(self, queue: str, timeout: float | None, *, capacity: int) -> bytes | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._broker.lock:
            target = self._broker.queue(queue, capacity)
            while True:
                now = time.monotonic()
                target.drop_expired(now)
                if target.items:
                    return target.items.popleft()[1]
                if deadline is not None and now >= deadline:
                    return None
                target.ready.wait(None if deadline is None else deadline - now)

    def open_reader(self, queues: dict[str, int]) -> QueueReader:
        return _MemoryReader(self._broker, dict(queues))

    def open_inbox(self, inbox: str, *, capacity: int) -> InboxReader:
        with self._broker.lock:
            return _MemoryInbox(self._broker, inbox, self._broker.queue(inbox, capacity))

    def group_send(self, group: str, body: bytes, *, ttl: float) -> None:
        now = time.monotonic()
        with self._broker.lock:
            members = self._broker.groups.get(group, {})
            for key in [key for key, deadline in members.items() if deadline <= now]:
                del members[key]
            for name in {queue for queue, _ in members}:
                target = self._broker.queues.get(name)
                if target is not None:
                    self._broker.put(target, body, ttl)

    def group_bind(self, group: str, queue: str, member: str, *, expiry: float, capacity: int | None) -> None:
        with self._broker.lock:
            if capacity is not None:
                self._broker.queue(queue, capacity)
            elif queue not in self._broker.queues:
                return  # the inbox's owner is gone
            self._broker.groups.setdefault(group, {})[(queue, member)] = time.monotonic() + expiry

    def group_unbind(self, group: str, queue: str, member: str) -> None:
        with self._broker.lock:
            self._broker.groups.get(group, {}).pop((queue, member), None)

    def queue_exists(self, queue: str) -> bool:
        with self._broker.lock:
            return queue in self._broker.queues

    def flush(self) -> None:
        with self._broker.lock:
            for queue in self._broker.queues.values():
                queue.items.clear()
                queue.ready.notify_all()
            self._broker.queues.clear()
            self._broker.groups.clear()

    def close(self) -> None:
        """Nothing to release: the broker lives as long as the process."""
