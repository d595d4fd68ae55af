"""What a Celery pool process runs for one channel message: a consumer, as a Celery task.

Every routed consumer is registered as a Celery task named ``realtime:<consumer>``, so a
consumer run is a task run: it uses the worker's pool and time limits, sends task
events (Flower shows it under the consumer's name), and passes through Celery's and
Django's task hooks. The message travels from the worker's reader to the pool as the
task's arguments ``(channel, content)``, msgpack-encoded (``bytes`` frames survive).
"""

from __future__ import annotations

from typing import Any

from celery import Celery, current_task

from realtime.layers import get_channel_layer
from realtime.message import Message
from realtime.routing import Router
from realtime.running import ConsumerFailed, Outcome, run_match
from realtime.task_options import task_options_of

__all__ = ["TASK_PREFIX", "consume", "register_consumer_tasks", "task_name_for"]

TASK_PREFIX = "realtime:"

_router: Router | None = None


def task_name_for(consumer_name: str) -> str:
    """The Celery task name under which the consumer ``consumer_name`` runs."""
    return f"{TASK_PREFIX}{consumer_name}"


def _process_router() -> Router:
    global _router
    if _router is None:
        _router = Router.from_settings()
    return _router


def consume(channel: str, content: dict[str, Any]) -> str:
    """Run the consumer routed for ``content`` on ``channel`` (in a pool process).

    Raises:
        ConsumerFailed: the consumer raised; it was logged with channel and traceback.
    """
    match = _process_router().match(channel, content)
    if match is None:  # the worker's reader routed it with the same table: only if settings differ
        raise ConsumerFailed(f"no consumer routed for a message on {channel!r}")
    try:
        outcome: Outcome = run_match(match, Message(content, channel, get_channel_layer().sync))
    except ConsumerFailed as failed:
        # A consumer that opted into retries (autoretry_for) gets Celery's retry for them.
        retry_for = getattr(current_task, "autoretry_for", ())
        if retry_for and isinstance(failed.__cause__, retry_for):
            raise failed.__cause__ from None
        raise
    return outcome.value


def register_consumer_tasks(app: Celery, router: Router) -> dict[str, str]:
    """Register one Celery task per routed consumer; returns consumer name -> task name."""
    names: dict[str, str] = {}
    for route in router.routes:
        name = task_name_for(route.name)
        if name not in app.tasks:
            app.task(
                name=name,
                ignore_result=True,
                # The reader took the message from the broker before the run (at-most-once);
                # "late" acknowledgement only tells the reader that the run has ended.
                acks_late=True,
                serializer="msgpack",
                throws=(ConsumerFailed,),  # logged already, with channel and traceback
                **task_options_of(route.consumer),
            )(consume)
        names[route.name] = name
    return names
