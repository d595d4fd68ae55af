r"""Tasks that report to the socket that asked for them: progress and the final state.

A task started while a consumer runs (``crunch.delay(...)`` in a ``websocket.receive``
consumer) reports to that connection's reply channel; one started elsewhere reports where
``report_to`` says (``crunch.apply_async(args, headers=report_to(user=request.user))``).
The address travels in a message header, so it survives retries. The socket gets text
frames of JSON::

    {"type": "task", "task_id": "...", "task": "proj.crunch", "state": "PROGRESS",
     "current": 3, "total": 10, "meta": {...}}

with ``state`` ``STARTED``, ``PROGRESS`` (from :func:`progress`), ``RETRY`` (``reason``),
``SUCCESS`` (``result``), ``FAILURE`` (``error``) or ``REVOKED``.

A task declared with ``@app.task(realtime_events=True)`` also sends these frames to the
sockets subscribed to it (:func:`subscribe`), by task id or by task name.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from celery import current_task, signals
from celery.app.task import Task

from realtime import Channel, Group
from realtime.auth import user_group
from realtime.running import current_message

__all__ = ["HEADER", "connect_signals", "progress", "report_to", "subscribe", "task_group", "task_name_group"]

logger = logging.getLogger(__name__)

#: The message header that carries where a task reports: ``{"channel": ...}`` or ``{"group": ...}``.
HEADER = "realtime_report_to"
# Tasks of this project itself (consumer runs, delayed sends) report nowhere.
_OWN_TASKS = ("realtime:", "realtime.")


def report_to(*, channel: str | None = None, group: str | None = None, user: Any = None) -> dict[str, Any]:
    """Headers for ``apply_async`` that make the task report to a reply channel, a group,
    or every socket of a logged-in ``user``.

    Raises:
        ValueError: not exactly one of ``channel``, ``group``, ``user`` given.
    """
    given = [(key, value) for key, value in (("channel", channel), ("group", group), ("user", user)) if value]
    if len(given) != 1:
        raise ValueError("report_to takes exactly one of channel=, group= or user=")
    key, value = given[0]
    if key == "user":
        key, value = "group", user_group(value)
    return {HEADER: {key: value}}


def progress(current: int | float, total: int | float | None = None, meta: dict[str, Any] | None = None) -> None:
    """Report the running task's progress to whoever asked for it (nothing if nobody did)."""
    task = current_task
    if task is None or not task.request.id:
        raise RuntimeError("progress() is called from inside a running task")
    _report(task, "PROGRESS", current=current, total=total, meta=meta or {})


def _audience(task: Task) -> dict[str, str] | None:
    request = task.request
    audience = getattr(request, HEADER, None) or (getattr(request, "headers", None) or {}).get(HEADER)
    if audience is None and request.is_eager:  # run in place (no message, no header): by the consumer?
        message = current_message()
        if message is not None and message.reply_channel is not None:
            audience = {"channel": message.reply_channel.name}
    return audience if isinstance(audience, dict) else None


def task_group(task_id: str) -> str:
    """The group that hears the lifecycle events of task ``task_id`` (see ``realtime_events``)."""
    return _group_name(f"realtime.task.{task_id}")


def task_name_group(name: str) -> str:
    """The group that hears the lifecycle events of every task named ``name``."""
    return _group_name(f"realtime.tasks.{name}")


def _group_name(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9\-_.]", "-", name)[:99]


def subscribe(channel: str, *, task_id: str | None = None, task_name: str | None = None) -> None:
    """Let ``channel`` (a socket's reply channel) hear the lifecycle events of one task, or of
    every task with that name. Only tasks declared with ``realtime_events=True`` send them."""
    group = task_group(task_id) if task_id else task_name_group(task_name or "")
    Group(group).add(channel)


def _report(task: Task, state: str, **fields: Any) -> None:
    _deliver(task.name, task.request.id, _audience(task), getattr(task, "realtime_events", False), state, fields)


def _deliver(
    name: str, task_id: str, audience: dict[str, str] | None, events: bool, state: str, fields: dict[str, Any]
) -> None:
    """Send one lifecycle frame to the task's audience and, for a task with
    ``realtime_events``, to its subscribers."""
    targets: list[Channel | Group] = []
    if audience is not None:
        targets.append(Channel(audience["channel"]) if "channel" in audience else Group(audience["group"]))
    if events:
        targets += [Group(task_group(task_id)), Group(task_name_group(name))]
    if not targets:
        return
    text = json.dumps({"type": "task", "task_id": task_id, "task": name, "state": state, **fields}, default=repr)
    for target in targets:
        try:
            target.send({"text": text})
        except Exception:  # a report must never fail the task
            logger.warning("could not report %s of %s to %s", state, task_id, target, exc_info=True)


def _add_audience(sender: str | None = None, headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    if headers is None or HEADER in headers or (sender or "").startswith(_OWN_TASKS):
        return
    message = current_message()
    if message is not None and message.reply_channel is not None:
        headers[HEADER] = {"channel": message.reply_channel.name}


def _started(sender: Task, **kwargs: Any) -> None:
    _report(sender, "STARTED")


def _retried(sender: Task, reason: Any = None, **kwargs: Any) -> None:
    _report(sender, "RETRY", reason=str(reason))


def _succeeded(sender: Task, result: Any = None, **kwargs: Any) -> None:
    _report(sender, "SUCCESS", result=result)


def _failed(sender: Task, exception: BaseException | None = None, **kwargs: Any) -> None:
    _report(sender, "FAILURE", error=repr(exception))


def _revoked(sender: Task, request: Any = None, **kwargs: Any) -> None:
    # The task never ran: its header is in the worker's request, not in a task context.
    audience = (getattr(request, "request_dict", None) or {}).get(HEADER)
    audience = audience if isinstance(audience, dict) else None
    if request is not None:
        _deliver(sender.name, request.id, audience, getattr(sender, "realtime_events", False), "REVOKED", {})


def connect_signals() -> None:
    """Connect the reporting to Celery's signals (``tasks.install`` does it)."""
    signals.before_task_publish.connect(_add_audience, weak=False, dispatch_uid="realtime.report.publish")
    signals.task_prerun.connect(_started, weak=False, dispatch_uid="realtime.report.started")
    signals.task_retry.connect(_retried, weak=False, dispatch_uid="realtime.report.retry")
    signals.task_success.connect(_succeeded, weak=False, dispatch_uid="realtime.report.success")
    signals.task_failure.connect(_failed, weak=False, dispatch_uid="realtime.report.failure")
    signals.task_revoked.connect(_revoked, weak=False, dispatch_uid="realtime.report.revoked")
