"""The gateway's metrics (served at ``/metrics`` in the Prometheus text format)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from realtime.layers.core import SyncChannelLayer
from realtime.metrics import Registry

__all__ = ["gateway_registry"]

Samples = Callable[[], Iterable[tuple[dict[str, object], float]]]


def gateway_registry(layer: SyncChannelLayer, connections: Samples, reply_channels: Callable[[], int]) -> Registry:
    """A registry with every gateway metric declared; ``connections`` reads the open ones and
    ``reply_channels`` the number of reply channels routed to them."""
    registry = Registry()
    registry.gauge("realtime_gateway_connections", "Open client connections, by protocol.", connections)
    registry.gauge(
        "realtime_gateway_reply_channels",
        "Reply channels routed to this gateway's connections (equal to the open ones unless some leak).",
        lambda: [({}, reply_channels())],
    )
    registry.gauge(
        "realtime_layer_dropped_messages_total",
        "Messages for this gateway's reply channels that were not delivered, by reason.",
        lambda: [({"reason": reason}, count) for reason, count in sorted(layer.dropped.items())],
        kind="counter",
    )
    registry.counter("realtime_gateway_handshakes_total", "WebSocket handshakes, by outcome.")
    registry.counter("realtime_gateway_websocket_messages_total", "WebSocket messages, by direction (in, out).")
    registry.counter("realtime_gateway_websocket_closes_total", "Closed WebSockets, by close code.")
    registry.counter(
        "realtime_gateway_publish_failures_total",
        "Client messages that could not go to the workers, by channel and reason (full, broker, too_big, error).",
    )
    registry.counter("realtime_gateway_send_queue_overflows_total", "Sockets closed for reading too slowly (1013).")
    registry.counter("realtime_gateway_http_requests_total", "HTTP requests, by mode and status class.")
    registry.counter("realtime_gateway_bad_requests_total", "Requests refused before routing, by status.")
    return registry
