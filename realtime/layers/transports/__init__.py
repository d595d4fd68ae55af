"""Broker transports for the channel layer, chosen by the URL's scheme."""

from __future__ import annotations

from urllib.parse import urlsplit

from ...exceptions import LayerConfigurationError
from ..config import LayerConfig
from .base import InboxReader, Transport

__all__ = ["InboxReader", "Transport", "open_transport"]

_SCHEMES = {
    "memory": "memory",
    "amqp": "amqp",
    "pyamqp": "amqp",
    "amqps": "amqp",
    "redis": "redis",
    "rediss": "redis",
}


def open_transport(config: LayerConfig) -> Transport:
    """The transport for ``config.url``.

    Raises:
        LayerConfigurationError: the URL's scheme is not one the layer supports.
    """
    scheme = urlsplit(config.url).scheme
    kind = _SCHEMES.get(scheme)
    if kind == "memory":
        from .memory import MemoryTransport

        return MemoryTransport(config.url)
    if kind == "amqp":
        from .amqp import AmqpTransport

        return AmqpTransport(config)
    if kind == "redis":
        try:
            from .redis import RedisTransport
        except ImportError as exc:
            raise LayerConfigurationError(
                f"channel layer URL {config.url!r} needs the redis package: pip install 'django-realtime[redis]'"
            ) from exc
        return RedisTransport(config)
    raise LayerConfigurationError(
        f"channel layer URL {config.url!r}: scheme {scheme!r} is not supported (use amqp://, redis:// or memory://)"
    )
