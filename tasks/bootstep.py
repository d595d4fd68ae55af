"""The worker bootstep that feeds channel messages to the Celery pool.

A reader thread takes messages from the channels this worker serves, but only while
one of its ``concurrency`` slots is free: the broker keeps the rest, for this or another
worker, and a crash loses at most ``concurrency`` messages (at-most-once, like Celery's
early acknowledgement). Each message is handed to the Celery strategy of its consumer's
task, in the worker's main thread: through the event loop's hub (prefork), or directly
(threads and gevent pools). Celery "acknowledges" the request when the run ends (the
consumer tasks are ``acks_late``; the broker message was taken long before), which frees
the slot.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import uuid
from collections import deque
from typing import Any

import msgpack
from celery import bootsteps
from django.conf import settings

from realtime.exceptions import RealtimeError
from realtime.layers import get_channel_layer
from realtime.layers.core import ChannelReader
from realtime.routing import Router
from realtime.running import OPTIONAL_CHANNELS, drop_unrouted

from .execution import register_consumer_tasks
from .metrics import MetricsServer, worker_registry
from .queues import queues_from_settings, served_channels

__all__ = ["ChannelConsumer"]

logger = logging.getLogger(__name__)

# Seconds one take() waits before the reader looks at its stop flag again.
_TAKE_TIMEOUT = 0.5
_RETRY_DELAY = 1.0
_NO_EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}


class _TaskMessage:
    """The kombu-message shape a Celery strategy expects, for a message the reader took."""

    content_type = "application/x-msgpack"
    content_encoding = "binary"

    def __init__(self, task_name: str, channel: str, content: dict[str, Any], hostname: str, retry_queue: str) -> None:
        task_id = str(uuid.uuid4())
        self.properties: dict[str, Any] = {}
        self.headers = {
            "lang": "py",
            "task": task_name,
            "id": task_id,
            "root_id": task_id,
            "parent_id": None,
            "group": None,
            "retries": 0,
            "eta": None,
            "expires": None,
            "timelimit": [None, None],
            "argsrepr": repr((channel,)),
            "kwargsrepr": "{}",
            "origin": hostname,
            "ignore_result": True,
        }
        # The pool process decodes ``body``; the request in this process reads ``payload``.
        self.payload: tuple[list[Any], dict[str, Any], dict[str, Any]] = ([channel, content], {}, _NO_EMBED)
        self.body = msgpack.packb(self.payload, use_bin_type=True)
        # Where Celery sends the run again if the consumer retries (autoretry_for): the
        # ordinary task queue, through the default exchange.
        self.delivery_info = {"exchange": "", "routing_key": retry_queue, "priority": 0, "redelivered": False}

    def ack(self, *args: Any, **kwargs: Any) -> None:
        """Already taken from the broker."""

    ack_log_error = reject_log_error = reject = ack


class ChannelConsumer(bootsteps.StartStopStep):
    """Runs the consumers of the channels routed to this worker's queues (``-Q channels``)."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        app = parent.app
        self.router = Router.from_settings()
        # Registered before the pool forks, so every pool process knows the tasks.
        self.task_names = register_consumer_tasks(app, self.router)
        consumed = list(app.amqp.queues.consume_from or app.amqp.queues)
        channels = self.router.channels | OPTIONAL_CHANNELS  # read even unrouted: see OPTIONAL_CHANNELS
        self.channels = served_channels(channels, queues_from_settings(), consumed)
        self._reader: ChannelReader | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._handoffs: deque[tuple[str, dict[str, Any]]] = deque()
        self._slots = threading.Semaphore(1)
        self._wakeup: tuple[int, int] | None = None
        self.metrics = worker_registry()
        self._metrics_server: MetricsServer | None = None

    def start(self, parent: Any) -> None:
        if not self.channels:
            logger.info(
                "realtime: this worker serves no channels (its queues: %s)", parent.app.amqp.queues.consume_from
            )
            return
        self._consumer = parent
        parent.reset_rate_limits()  # its buckets were made before the consumer tasks existed
        self._limit = max(1, int(parent.pool.limit or 1))
        self._slots = threading.Semaphore(self._limit)
        self._layer = get_channel_layer().sync
        self._reader = self._layer.reader(self.channels)
        if parent.hub is not None:
            read_end, write_end = os.pipe()
            os.set_blocking(read_end, False)
            self._wakeup = (read_end, write_end)
            parent.hub.add_reader(read_end, self._on_wakeup)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._read_loop, name="realtime-channel-reader", daemon=True)
        self._thread.start()
        address = getattr(settings, "REALTIME_WORKER_METRICS", None)
        if address and self._metrics_server is None:
            self._metrics_server = MetricsServer(self.metrics, address)
            self._metrics_server.start()
        logger.info("realtime: serving channels %s with %d slots", ", ".join(self.channels), self._limit)

    def stop(self, parent: Any) -> None:
        self._stopping.set()
        if self._metrics_server is not None:
            self._metrics_server.stop()
            self._metrics_server = None
        if self._thread is not None:
            self._thread.join(timeout=_TAKE_TIMEOUT * 4)
            self._thread = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._wakeup is not None:
            if parent.hub is not None:
                parent.hub.remove_reader(self._wakeup[0])
            for fd in self._wakeup:
                os.close(fd)
            self._wakeup = None
        # Taken from the broker but not yet handed over: the pool still runs them (warm shutdown).
        while self._handoffs:
            self._dispatch(*self._handoffs.popleft())

    shutdown = stop

    # -- reader thread ---------------------------------------------------------------

    def _read_loop(self) -> None:
        assert self._reader is not None
        while not self._stopping.is_set():
            if not self._slots.acquire(timeout=_TAKE_TIMEOUT):
                continue
            try:
                taken = self._reader.take(_TAKE_TIMEOUT)
            except RealtimeError:
                self._slots.release()
                logger.exception("realtime: reading channels failed; retrying in %.0f s", _RETRY_DELAY)
                self._stopping.wait(_RETRY_DELAY)
                continue
            if taken is None:
                self._slots.release()
                continue
            if self._wakeup is None:
                self._dispatch(*taken)
            else:
                self._handoffs.append(taken)
                os.write(self._wakeup[1], b"\0")

    # -- main thread -----------------------------------------------------------------

    def _on_wakeup(self) -> None:
        assert self._wakeup is not None
        try:
            os.read(self._wakeup[0], 4096)
        except BlockingIOError:
            pass
        while self._handoffs:
            self._dispatch(*self._handoffs.popleft())

    def _dispatch(self, channel: str, content: dict[str, Any]) -> None:
        self.metrics.inc("realtime_worker_messages_total", channel=channel)
        match = self.router.match(channel, content)
        if match is None:
            self.metrics.inc("realtime_worker_unrouted_total", channel=channel)
            drop_unrouted(self._layer, channel, content)
            self._slots.release()
            return
        task_name = self.task_names[match.name]
        message = _TaskMessage(
            task_name, channel, content, self._consumer.hostname, self._consumer.app.conf.task_default_queue
        )
        ended = functools.partial(self._run_ended, match.name)
        try:
            self._consumer.strategies[task_name](message, None, ended, ended, None)
        except Exception:  # a bad message must not stop the worker's loop
            self._slots.release()
            self.metrics.inc("realtime_worker_handoff_failures_total")
            logger.exception("realtime: could not hand a message on %r to the pool", channel)

    def _run_ended(self, consumer: str, *args: Any) -> None:
        """Celery's acknowledgement (or rejection) of a consumer run: called once, when it ends."""
        self.metrics.inc("realtime_worker_runs_total", consumer=consumer)
        self._slots.release()
