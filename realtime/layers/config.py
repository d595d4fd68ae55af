"""The channel layer's configuration: read once from Django settings into a frozen object."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ..exceptions import LayerConfigurationError
from ..names import is_reply_channel

__all__ = ["DEFAULT_ALIAS", "LayerConfig", "config_from_settings"]

DEFAULT_ALIAS = "default"
_MIB = 1024 * 1024
_CHANNELS_BACKENDS = ("realtime.layers.ChannelLayer", "realtime.layers.layer.ChannelLayer")


@dataclass(frozen=True)
class LayerConfig:
    """Every setting of one channel layer, with the reason for each default."""

    #: Broker URL: ``amqp://``, ``redis://`` or ``memory://``. Default: Celery's broker URL.
    url: str = "memory://"
    #: Namespace for every broker object the layer creates, so it never collides with Celery's.
    prefix: str = "realtime"
    #: Seconds a message may wait undelivered (Channels' default is 60 s).
    expiry: float = 60.0
    #: Seconds a group membership lasts unless renewed (Channels' default: one day).
    group_expiry: float = 86400.0
    #: Undelivered messages one reply channel may hold at its owner (Channels' default is 100).
    capacity: int = 100
    #: Undelivered messages one normal (worker) channel may hold at the broker: a burst of
    #: 100 sockets x 10 messages must fit while workers catch up.
    worker_capacity: int = 1000
    #: Undelivered messages one owning process (a gateway) may hold at the broker; reached only
    #: when the owner has stalled, so senders see ChannelFull instead of the broker filling up.
    inbox_capacity: int = 10_000
    #: Per-channel capacity overrides, as (glob pattern, capacity) pairs; first match wins.
    channel_capacity: tuple[tuple[str, int], ...] = ()
    #: Seconds a normal channel's broker queue may go without any receiver before RabbitMQ
    #: deletes it (its messages expired long before); a later send re-creates it.
    queue_expiry: float = 86400.0
    #: Largest encoded message accepted (1 MiB, as the WebSocket frame limit).
    max_message_size: int = _MIB
    #: Seconds to wait for the broker on each connection attempt.
    connect_timeout: float = 2.0
    #: Connection attempts before BrokerUnavailable (bounded: never hang on a dead broker).
    connect_retries: int = 3
    #: Seconds after which an owner that stopped answering is treated as gone (AMQP heartbeat
    #: and the Redis liveness key), so its memberships and inbox are cleaned up.
    owner_timeout: float = 10.0
    #: Groups whose members are tracked for presence (``Group(...).members()``, join and leave
    #: events), as glob patterns; none by default, since tracking writes to the database.
    presence_groups: tuple[str, ...] = ()
    #: Extra options for the transport (e.g. Redis connection pool size).
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("expiry", "group_expiry", "queue_expiry", "connect_timeout", "owner_timeout"):
            if not getattr(self, name) > 0:
                raise LayerConfigurationError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("capacity", "worker_capacity", "inbox_capacity", "max_message_size", "connect_retries"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise LayerConfigurationError(f"{name} must be a positive int, got {value!r}")

    def capacity_for(self, channel: str) -> int:
        """The capacity that applies to ``channel``: an override, else the per-kind default."""
        for pattern, capacity in self.channel_capacity:
            if fnmatch.fnmatchcase(channel, pattern):
                return capacity
        return self.capacity if is_reply_channel(channel) else self.worker_capacity


def config_from_settings(alias: str = DEFAULT_ALIAS) -> LayerConfig:
    """Build the config of layer ``alias`` from ``settings.CHANNEL_LAYERS``.

    ``CHANNEL_LAYERS = {"default": {"URL": "amqp://…", "CONFIG": {"expiry": 30}}}``; without
    a ``URL`` the layer uses the Celery broker URL, and without that the in-memory transport.

    Raises:
        LayerConfigurationError: for an unknown alias, backend or option.
    """
    from django.conf import settings

    layers: dict[str, Any] = getattr(settings, "CHANNEL_LAYERS", None) or {}
    if alias not in layers and alias != DEFAULT_ALIAS:
        raise LayerConfigurationError(f"no channel layer {alias!r} in CHANNEL_LAYERS (have: {sorted(layers)})")
    entry = layers.get(alias, {})
    backend = entry.get("BACKEND")
    if backend is not None and backend not in _CHANNELS_BACKENDS:
        raise LayerConfigurationError(
            f"CHANNEL_LAYERS[{alias!r}]['BACKEND'] is {backend!r}: this project has one layer class; "
            "choose the transport with 'URL' (amqp://, redis:// or memory://) and drop 'BACKEND'"
        )
    options = dict(entry.get("CONFIG", {}))
    known = {f.name for f in fields(LayerConfig)} - {"url"}
    unknown = set(options) - known
    if unknown:
        raise LayerConfigurationError(
            f"unknown CHANNEL_LAYERS[{alias!r}]['CONFIG'] keys {sorted(unknown)}; known: {sorted(known)}"
        )
    if "presence_groups" in options:
        options["presence_groups"] = tuple(options["presence_groups"])
    if "channel_capacity" in options:
        options["channel_capacity"] = tuple(dict(options["channel_capacity"]).items())
    url = entry.get("URL") or celery_broker_url() or "memory://"
    return replace(LayerConfig(), url=url, **options)


def celery_broker_url() -> str | None:
    """The broker URL of the project's Celery app, if it has one configured."""
    from django.conf import settings

    url = getattr(settings, "CELERY_BROKER_URL", None)
    if url:
        return str(url)
    from celery import current_app

    configured = current_app.conf.broker_url
    return str(configured) if configured else None
