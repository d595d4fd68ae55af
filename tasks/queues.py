"""Which worker queue serves which channel (pure).

Like Celery's ``task_routes``: ``CHANNEL_LAYERS[alias]["QUEUES"]`` maps channel name
patterns to worker queues, first match wins; every other channel is served by the
``channels`` queue. A worker started with ``-Q channels-chat`` runs the consumers of the
channels routed to ``channels-chat``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping

__all__ = ["DEFAULT_WORKER_QUEUE", "queues_from_settings", "served_channels", "worker_queue_for"]

DEFAULT_WORKER_QUEUE = "channels"


def worker_queue_for(channel: str, queues: Mapping[str, str]) -> str:
    """The worker queue that serves ``channel`` under the mapping ``queues``."""
    for pattern, queue in queues.items():
        if fnmatch.fnmatchcase(channel, pattern):
            return queue
    return DEFAULT_WORKER_QUEUE


def served_channels(channels: Iterable[str], queues: Mapping[str, str], consumed: Iterable[str]) -> list[str]:
    """The channels, among ``channels``, that a worker consuming ``consumed`` queues serves."""
    wanted = set(consumed)
    return sorted(channel for channel in channels if worker_queue_for(channel, queues) in wanted)


def queues_from_settings(alias: str = "default") -> dict[str, str]:
    """``CHANNEL_LAYERS[alias]["QUEUES"]``: channel pattern -> worker queue."""
    from django.conf import settings

    return dict((getattr(settings, "CHANNEL_LAYERS", None) or {}).get(alias, {}).get("QUEUES", {}))
