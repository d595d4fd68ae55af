"""The Channels 4 style channel layer: ``async def`` methods, with ``.sync`` for blocking code."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from ..names import validate_channel_name, validate_group_name
from .config import LayerConfig
from .core import SyncChannelLayer
from .transports.base import Transport

__all__ = ["ChannelLayer"]

T = TypeVar("T")

# An async receive waits in slices this long, so a cancelled receive stops waiting soon.
_RECEIVE_SLICE = 0.2


async def _in_thread(function: Callable[..., T], *args: Any) -> T:
    # Broker I/O blocks; run it off the event loop so other coroutines keep going.
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(function, *args))


class ChannelLayer:
    """A channel layer with the Channels 4 API.

    ``await layer.group_send("chat", {"type": "chat.message"})`` and
    ``async_to_sync(layer.group_send)(...)`` work as in Channels; blocking code calls the
    same methods on ``layer.sync`` (a :class:`SyncChannelLayer`) without an event loop.
    """

    extensions = ["groups", "flush"]

    def __init__(self, config: LayerConfig, transport: Transport | None = None) -> None:
        self.config = config
        self.sync = SyncChannelLayer(config, transport)

    @property
    def expiry(self) -> float:
        return self.config.expiry

    @property
    def group_expiry(self) -> float:
        return self.config.group_expiry

    @property
    def capacity(self) -> int:
        return self.config.capacity

    def valid_channel_name(self, name: str, receive: bool = False) -> bool:
        """True for a valid channel name. Raises InvalidChannelName (a TypeError) otherwise."""
        validate_channel_name(name)
        return True

    def valid_group_name(self, name: str) -> bool:
        """True for a valid group name. Raises InvalidGroupName (a TypeError) otherwise."""
        validate_group_name(name)
        return True

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        """Send ``message`` to ``channel`` (see :meth:`SyncChannelLayer.send`)."""
        await _in_thread(self.sync.send, channel, message)

    async def receive(self, channel: str) -> dict[str, Any]:
        """Wait for and return the next message on ``channel``.

        Cancelling the wait may lose a message that arrives at that instant: delivery is
        at-most-once.
        """
        validate_channel_name(channel)
        while True:
            message = await _in_thread(self.sync.receive, channel, _RECEIVE_SLICE)
            if message is not None:
                return message

    async def new_channel(self, prefix: str = "specific") -> str:
        """Create a reply channel owned by this process."""
        return await _in_thread(self.sync.new_channel, prefix)

    async def group_add(self, group: str, channel: str) -> None:
        """Add ``channel`` to ``group``."""
        await _in_thread(self.sync.group_add, group, channel)

    async def group_discard(self, group: str, channel: str) -> None:
        """Remove ``channel`` from ``group``."""
        await _in_thread(self.sync.group_discard, group, channel)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """Send ``message`` to every member of ``group``."""
        await _in_thread(self.sync.group_send, group, message)

    async def flush(self) -> None:
        """Delete every message, channel and group of this layer."""
        await _in_thread(self.sync.flush)

    async def close(self) -> None:
        """Release this layer's connections and inbox."""
        await _in_thread(self.sync.close)
