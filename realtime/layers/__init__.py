"""The channel layer: one API over RabbitMQ, Redis and an in-process transport.

``get_channel_layer()`` returns the process-wide layer configured by ``CHANNEL_LAYERS``
(by default on the Celery broker, else in memory).
"""

from __future__ import annotations

import os
import threading

from django.core.signals import setting_changed

from .config import DEFAULT_ALIAS, LayerConfig, config_from_settings
from .core import SyncChannelLayer
from .layer import ChannelLayer

__all__ = [
    "DEFAULT_ALIAS",
    "ChannelLayer",
    "LayerConfig",
    "SyncChannelLayer",
    "get_channel_layer",
    "reset_channel_layers",
]

_layers: dict[str, ChannelLayer] = {}
_layers_lock = threading.Lock()


def get_channel_layer(alias: str = DEFAULT_ALIAS) -> ChannelLayer:
    """The layer named ``alias`` in ``CHANNEL_LAYERS``, created on first use and then shared."""
    with _layers_lock:
        layer = _layers.get(alias)
        if layer is None:
            layer = _layers[alias] = ChannelLayer(config_from_settings(alias))
        return layer


def reset_channel_layers() -> None:
    """Close every layer of this process; the next ``get_channel_layer()`` builds a new one."""
    with _layers_lock:
        layers = list(_layers.values())
        _layers.clear()
    for layer in layers:
        layer.sync.close()


def _forget_after_fork() -> None:
    # A forked child (Celery prefork) must not share its parent's sockets or inbox thread.
    _layers.clear()


def _on_setting_changed(setting: str, **kwargs: object) -> None:
    if setting in ("CHANNEL_LAYERS", "CELERY_BROKER_URL"):
        reset_channel_layers()


os.register_at_fork(after_in_child=_forget_after_fork)
setting_changed.connect(_on_setting_changed)
