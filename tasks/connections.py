"""Whether the channel layer and a Celery app talk to the same RabbitMQ broker."""

from __future__ import annotations

import kombu
from celery import Celery

__all__ = ["same_amqp_broker"]

_AMQP_TRANSPORTS = {"amqp", "pyamqp", "amqps"}


def _identity(connection: kombu.Connection) -> tuple[object, ...]:
    port = connection.port or connection.transport.default_port
    return connection.hostname, port, connection.virtual_host, connection.userid


def same_amqp_broker(app: Celery, url: str) -> bool:
    """True if ``url`` and ``app``'s broker are the same RabbitMQ host, port, vhost and user."""
    layer, celery = kombu.Connection(url), app.connection_for_write()
    try:
        if {layer.transport_cls, celery.transport_cls} - _AMQP_TRANSPORTS:
            return False
        return _identity(layer) == _identity(celery)
    finally:
        celery.release()
