"""The gateway's configuration: every limit named, with the reason for its default.

Read once, from the command line and Django settings (``REALTIME_GATEWAY``), into a
frozen object; nothing else in the gateway reads settings or the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from .origin import allowed_hosts_patterns

__all__ = ["GatewayConfig", "GatewayConfigurationError", "config_from_settings"]

_KIB = 1024
_MIB = 1024 * _KIB


class GatewayConfigurationError(ValueError):
    """``REALTIME_GATEWAY`` names an unknown option or an impossible value."""


@dataclass(frozen=True)
class GatewayConfig:
    """Limits and timeouts of one gateway process."""

    #: Largest WebSocket message (after reassembling fragments); bigger closes with 1009.
    #: 1 MiB, as the channel layer's message limit.
    max_message_size: int = _MIB
    #: Messages waiting to be written to one socket; a client that reads slower than it is
    #: sent to is closed with 1013 instead of growing the gateway's memory.
    send_queue: int = 100
    #: Seconds a client may take to send its request head (slowloris guard); each connection
    #: gets 80-100 % of it at random, so a burst of slow clients does not time out at once.
    header_timeout: float = 10.0
    #: Largest chunked request body read for a Django view, which needs a body's length
    #: before reading it; a bigger one is answered 413.
    max_buffered_body: int = 10 * _MIB
    #: Seconds a kept-alive HTTP connection may wait for its next request.
    keepalive_timeout: float = 75.0
    #: Largest request head: request line plus headers (daphne: 8 KiB lines).
    max_header_bytes: int = 16 * _KIB
    #: Most header lines in one request.
    max_headers: int = 100
    #: Seconds the connect consumer has to accept or refuse a handshake.
    accept_timeout: float = 10.0
    #: Seconds between pings to an idle client; it must answer within the same time.
    ping_interval: float = 20.0
    #: Seconds a connection may stay without a message either way (pings aside): a client
    #: that only listens stays connected while it is sent messages.
    idle_timeout: float = 600.0
    #: Open connections (HTTP and WebSocket) beyond which new ones are refused.
    max_connections: int = 20_000
    #: Seconds to wait for a worker's processed notice before sending a connection's next
    #: message anyway (a consumer killed mid-message).
    ordering_timeout: float = 30.0
    #: Seconds a graceful shutdown (SIGTERM) may take before the remaining sockets are dropped.
    shutdown_timeout: float = 10.0
    #: Listen backlog: connect bursts must not lose SYNs (daphne's 50 did).
    backlog: int = 2048
    #: Allowed ``Origin`` patterns; ``None`` means ``ALLOWED_HOSTS``.
    allowed_origins: tuple[str, ...] | None = None
    #: Path regexes whose HTTP requests go to ``http.request`` consumers over the channel
    #: layer (Channels 1.x mode); every other path is served by the Django views in-process.
    http_consumer_paths: tuple[str, ...] = ()
    #: Seconds an ``http.request`` consumer has to start its response (long polls included)
    #: before the client gets 504.
    http_response_timeout: float = 60.0
    #: Path answering readiness probes: 200 while the broker is reachable, else 503.
    health_path: str = "/healthz"
    #: Addresses of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed
    #: (``"*"``: any); from anyone else those headers are ignored.
    forwarded_allow_ips: tuple[str, ...] = ()
    #: Path serving the gateway's metrics in the Prometheus text format ("": none). Keep it
    #: off the public internet (the proxy should not forward it).
    metrics_path: str = "/metrics"

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value <= 0:
                raise GatewayConfigurationError(f"{item.name} must be > 0, got {value!r}")


def config_from_settings(**overrides: Any) -> GatewayConfig:
    """The config from ``settings.REALTIME_GATEWAY`` (a dict of the fields above), then
    ``overrides`` (from the command line); origins default to ``ALLOWED_HOSTS``.

    Raises:
        GatewayConfigurationError: for an unknown option.
    """
    from django.conf import settings

    options = {**getattr(settings, "REALTIME_GATEWAY", {}), **overrides}
    known = {item.name for item in fields(GatewayConfig)}
    unknown = set(options) - known
    if unknown:
        raise GatewayConfigurationError(f"unknown REALTIME_GATEWAY options {sorted(unknown)}; known: {sorted(known)}")
    if options.get("allowed_origins") is None:
        options["allowed_origins"] = allowed_hosts_patterns(settings.ALLOWED_HOSTS, settings.DEBUG)
    else:
        options["allowed_origins"] = tuple(options["allowed_origins"])
    options["http_consumer_paths"] = tuple(options.get("http_consumer_paths", ()))
    options["forwarded_allow_ips"] = tuple(options.get("forwarded_allow_ips", ()))
    return replace(GatewayConfig(), **options)
