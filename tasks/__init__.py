"""The Celery side: consumers run in Celery workers, and tasks talk to channels.

In the project's Celery module::

    app = Celery("proj")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    tasks.install(app)

then ``celery -A proj worker -Q channels`` runs the consumers of every routed channel.
"""

from __future__ import annotations

from celery import Celery

from realtime.layers.transports.amqp_links import share_connection_pools

from .bootstep import ChannelConsumer
from .canvas import notify_group, notify_group_error
from .connections import same_amqp_broker
from .periodic import periodic_send
from .reporting import connect_signals, progress, report_to, subscribe

__all__ = ["install", "notify_group", "notify_group_error", "periodic_send", "progress", "report_to", "subscribe"]


def install(app: Celery) -> None:
    """Make ``app``'s workers run channel consumers and accept the msgpack bodies they use,
    and let the channel layer send over ``app``'s pooled connections when both use the same
    RabbitMQ broker.

    msgpack (not pickle) carries channel messages to the pool because they may hold
    ``bytes``; it cannot execute code, so accepting it is safe.
    """
    app.steps["consumer"].add(ChannelConsumer)
    share_connection_pools(lambda url: app.pool if same_amqp_broker(app, url) else None)
    accept = list(app.conf.accept_content)
    if "msgpack" not in accept and "application/x-msgpack" not in accept:
        app.conf.accept_content = [*accept, "msgpack"]
    from . import delayed  # noqa: F401 - registers the delayed-send task with every app

    connect_signals()
