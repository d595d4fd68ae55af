"""What the gateway shares with the connections it serves over the channel layer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from realtime.layers.core import SyncChannelLayer
from realtime.metrics import Registry

from .config import GatewayConfig
from .origin import OriginPolicy

__all__ = ["Endpoint", "Peer", "Services"]


class Endpoint(Protocol):
    """What owns a reply channel: a WebSocket, or an HTTP request answered by consumers."""

    def deliver(self, content: dict[str, Any]) -> None:
        """A message sent to the reply channel (called from the inbox greenlet; must not block)."""

    def processed(self, order: int) -> None:
        """A worker finished the connection's message number ``order``."""


@dataclass(frozen=True, slots=True)
class Peer:
    """The two ends of one request, as ``(host, port)``, and the scheme the client used
    (``https`` behind a TLS-terminating proxy that says so)."""

    client: tuple[str, int]
    server: tuple[str, int]
    scheme: str = "http"


@dataclass(frozen=True, slots=True)
class Services:
    """The gateway's parts every connection uses."""

    config: GatewayConfig
    layer: SyncChannelLayer
    origins: OriginPolicy
    #: ``register(channel, endpoint)`` routes the reply channel's messages to ``endpoint``;
    #: ``register(channel, None)`` releases the channel for good.
    register: Callable[[str, Endpoint | None], None]
    metrics: Registry
