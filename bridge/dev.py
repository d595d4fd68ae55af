"""Consumers run inside the gateway's process: the one-command development mode.

Like Channels 1.x's ``runserver``, the gateway then needs no broker and no worker: a
greenlet reads every routed channel on the in-memory layer and runs each message's
consumer in a pool of greenlets, through the same code path as a Celery worker. Only
this mode imports the project's consumers into the gateway.
"""

from __future__ import annotations

import logging
from typing import Any

import gevent
from django.db import connections
from gevent.pool import Pool

from realtime.exceptions import RealtimeError
from realtime.layers.core import SyncChannelLayer
from realtime.routing import Router
from realtime.running import OPTIONAL_CHANNELS, run

__all__ = ["EmbeddedWorker"]

logger = logging.getLogger(__name__)

# Seconds one read waits before looking at the stop flag again.
_POLL = 0.25


class EmbeddedWorker:
    """Runs routed consumers in greenlets of the current process."""

    def __init__(self, layer: SyncChannelLayer, router: Router, concurrency: int = 50) -> None:
        self.layer = layer
        self.router = router
        self._pool = Pool(concurrency)
        self._greenlet: gevent.Greenlet | None = None
        self._running = False

    def start(self) -> None:
        """Start consuming; returns at once."""
        if not self.router.channels:
            logger.warning("no consumers are routed; the embedded worker only answers handshakes")
        self._running = True
        self._greenlet = gevent.spawn(self._consume)
        logger.info("embedded worker consuming %s", ", ".join(sorted(self._channels)))

    @property
    def _channels(self) -> frozenset[str]:
        return self.router.channels | OPTIONAL_CHANNELS  # unrouted connects must be answered too

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking messages and let running consumers finish for up to ``timeout`` seconds."""
        self._running = False
        if self._greenlet is not None:
            self._greenlet.join(timeout)
        self._pool.join(timeout)

    def _run(self, channel: str, content: dict[str, Any]) -> None:
        try:
            run(self.router, self.layer, channel, content)
        finally:
            connections.close_all()  # this greenlet's own connections: the next run has a new greenlet

    def _consume(self) -> None:
        reader = self.layer.reader(self._channels)
        try:
            while self._running:
                try:
                    taken = reader.take(_POLL)
                except RealtimeError:
                    logger.exception("the embedded worker could not read; retrying")
                    gevent.sleep(_POLL)
                    continue
                if taken is not None:
                    self._pool.spawn(self._run, *taken)  # waits while the pool is full
        finally:
            reader.close()
