"""Canvas callbacks that tell a channel group how a chain, chord or group of tasks ended.

::

    workflow = chord(resize.s(image) for image in images)(notify_group("album-7"))
    (fetch.s(url) | parse.s() | notify_group("feeds")).on_error(notify_group_error("feeds")).delay()

The group's sockets get a text frame ``{"type": "tasks.done", "result": ...}`` or
``{"type": "tasks.failed", "task_id": ..., "error": ...}``.
"""

from __future__ import annotations

import json
from typing import Any

from celery import shared_task
from celery.canvas import Signature

from realtime import Group

__all__ = ["notify_group", "notify_group_error"]


@shared_task(name="realtime.notify_group", ignore_result=True)
def _notify_group(result: Any, group: str) -> None:
    Group(group).send({"text": json.dumps({"type": "tasks.done", "result": result}, default=repr)})


@shared_task(name="realtime.notify_group_error", ignore_result=True)
def _notify_group_error(request: Any, exc: BaseException, traceback: Any, group: str) -> None:
    frame = {"type": "tasks.failed", "task_id": getattr(request, "id", None), "error": repr(exc)}
    Group(group).send({"text": json.dumps(frame)})


def notify_group(group: str) -> Signature:
    """A callback signature: the result of what it follows, sent to ``group``."""
    return _notify_group.s(group=group)


def notify_group_error(group: str) -> Signature:
    """An error callback (``.on_error(...)``, ``link_error=``): the failure, sent to ``group``."""
    return _notify_group_error.s(group=group)
