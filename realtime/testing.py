"""Testing consumers without a broker or a worker (Channels 1.x ``channels.test``).

``Client`` plays both the gateway and the worker in the test's own process: it sends
messages as a connection would (with its own reply channel and ``order``), runs the
routed consumer exactly as a Celery worker does, and lets the test read what the
consumer sent back::

    from django.test import override_settings
    from realtime.testing import Client

    @override_settings(CHANNEL_LAYERS={"default": {"URL": "memory://"}})
    def test_echo():
        client = Client()
        client.send_and_consume("websocket.receive", {"path": "/echo/", "text": "hi"})
        assert client.receive() == {"text": "hi"}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .layers import get_channel_layer
from .layers.core import SyncChannelLayer
from .routing import Router
from .running import Outcome, run
from .signals import connection_cleanup_paused

__all__ = ["Client"]


class Client:
    """A connection and a worker in one: send, consume, and read the replies."""

    def __init__(self, routing: Sequence[Any] | str | None = None, *, reply_prefix: str = "websocket.send") -> None:
        """``routing``: a routing list (default: the project's ``ROUTING`` and decorated consumers)."""
        self.layer: SyncChannelLayer = get_channel_layer().sync
        self.router = Router.from_settings() if routing is None else Router(routing)
        #: The reply channel of this client's "connection".
        self.reply_channel = self.layer.new_channel(reply_prefix)
        self._order = 0

    def send(self, channel: str, content: dict[str, Any] | None = None) -> None:
        """Put a message on ``channel`` as this connection would: with ``reply_channel`` and the
        next ``order`` unless ``content`` sets them."""
        message = {"reply_channel": self.reply_channel, "order": self._order, **(content or {})}
        self._order += 1
        self.layer.send(channel, message)

    def consume(self, channel: str) -> Outcome:
        """Take the next message from ``channel`` and run its consumer, as a worker would.

        Raises:
            AssertionError: there is no message on ``channel``.
        """
        message = self.layer.receive(channel, timeout=0)
        assert message is not None, f"no message on {channel!r} to consume"
        with connection_cleanup_paused():
            return run(self.router, self.layer, channel, message)

    def send_and_consume(self, channel: str, content: dict[str, Any] | None = None) -> Outcome:
        """:meth:`send`, then :meth:`consume` it."""
        self.send(channel, content)
        return self.consume(channel)

    def receive(self, timeout: float = 1.0) -> dict[str, Any] | None:
        """The next message a consumer sent to this client's reply channel, or ``None`` after
        ``timeout`` seconds (replies pass through the owner's inbox thread, so allow a moment)."""
        return self.layer.receive(self.reply_channel, timeout=timeout)
