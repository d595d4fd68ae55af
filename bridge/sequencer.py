"""One message per connection in flight: how the gateway orders a connection's messages.

The gateway hands a connection's next message (``websocket.connect`` is order 0, then each
``websocket.receive``) to the workers only after the worker that ran the previous one has
sent a processed notice for it, or after ``timeout`` if the notice never comes (a
consumer killed mid-message: at-most-once loses it). So ``connect`` is fully processed
before the first ``receive`` and receives run in the order sent, however many worker
processes there are, with no lock. Different connections run in parallel. Pure: no I/O.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["Sequencer"]

T = TypeVar("T")


@dataclass
class _Connection(Generic[T]):
    waiting: deque[tuple[int, T]] = field(default_factory=deque)
    in_flight: int | None = None
    deadline: float = 0.0


class Sequencer(Generic[T]):
    """Releases each connection's items one at a time, in order."""

    def __init__(self, timeout: float) -> None:
        #: Seconds to wait for a processed notice before releasing the next item anyway.
        self.timeout = timeout
        self._connections: dict[str, _Connection[T]] = {}

    def submit(self, connection: str, order: int, item: T, now: float) -> T | None:
        """Queue ``item`` (number ``order``); returns it if it may be sent now."""
        state = self._connections.setdefault(connection, _Connection())
        if state.in_flight is None:
            state.in_flight, state.deadline = order, now + self.timeout
            return item
        state.waiting.append((order, item))
        return None

    def processed(self, connection: str, order: int, now: float) -> T | None:
        """Record the notice for ``order``; returns the connection's next item, if any."""
        state = self._connections.get(connection)
        if state is None or state.in_flight != order:
            return None  # late or duplicate notice: the timeout already moved on
        return self._release_next(connection, state, now)

    def overdue(self, now: float) -> list[T]:
        """Items released because their predecessor's notice did not come in time."""
        released = []
        for connection, state in list(self._connections.items()):
            if state.in_flight is not None and state.deadline <= now:
                item = self._release_next(connection, state, now)
                if item is not None:
                    released.append(item)
        return released

    def forget(self, connection: str) -> list[T]:
        """Drop a closed connection; returns the items it still had waiting."""
        state = self._connections.pop(connection, None)
        return [item for _, item in state.waiting] if state else []

    def waiting(self, connection: str) -> int:
        """How many of the connection's items wait behind the one in flight."""
        state = self._connections.get(connection)
        return len(state.waiting) if state else 0

    def _release_next(self, connection: str, state: _Connection[T], now: float) -> T | None:
        if not state.waiting:
            del self._connections[connection]
            return None
        order, item = state.waiting.popleft()
        state.in_flight, state.deadline = order, now + self.timeout
        return item
