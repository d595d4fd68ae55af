"""Celery's controls for one consumer: rate limits, time limits and retries.

A consumer runs as a Celery task in the worker; ``@task_options`` gives that task
Celery's options::

    @task_options(rate_limit="20/s", time_limit=10, soft_time_limit=8)
    def resize(message): ...

    @task_options(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
    def push_to_crm(message): ...

A consumer with ``autoretry_for`` is **at-least-once** for those errors: a run that raised
one may have done part of its work before it runs again, and the retry runs after the
connection's later messages (the worker's ordering moves on when the first run ends).
Retries travel through the ordinary Celery queue (``task_default_queue``), so the
worker must consume it too (``-Q channels,celery``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["task_options", "task_options_of"]

T = TypeVar("T", bound=Callable[..., Any])

ALLOWED = frozenset(
    {
        "rate_limit",
        "time_limit",
        "soft_time_limit",
        "autoretry_for",
        "retry_backoff",
        "retry_backoff_max",
        "retry_jitter",
        "max_retries",
        "default_retry_delay",
    }
)
_ATTRIBUTE = "realtime_task_options"


def task_options(**options: Any) -> Callable[[T], T]:
    """Set Celery task options on a consumer (function or class).

    Raises:
        TypeError: an option that is not one of :data:`ALLOWED` (the others would break
            how consumers run: acknowledgement, serializer, result).
    """
    unknown = set(options) - ALLOWED
    if unknown:
        raise TypeError(f"task_options does not take {sorted(unknown)}; it takes {sorted(ALLOWED)}")

    def decorate(consumer: T) -> T:
        setattr(consumer, _ATTRIBUTE, dict(options))
        return consumer

    return decorate


def task_options_of(consumer: object) -> dict[str, Any]:
    """The options ``@task_options`` set on ``consumer`` (none: ``{}``)."""
    return dict(getattr(consumer, _ATTRIBUTE, {}))
