"""Celery beat entries that send to a channel or a group on a schedule::

app.conf.beat_schedule = {
    "clock": periodic_send(group="clock", content={"text": "tick"}, schedule=60.0),
    "digest": periodic_send(group="news", content={"text": "digest"}, schedule=crontab(hour=8)),
}
"""

from __future__ import annotations

from typing import Any

from celery.schedules import BaseSchedule

from realtime.messages import validate_content
from realtime.names import validate_channel_name, validate_group_name

__all__ = ["periodic_send"]


def periodic_send(
    *, content: dict[str, Any], schedule: float | BaseSchedule, channel: str | None = None, group: str | None = None
) -> dict[str, Any]:
    """A ``beat_schedule`` entry that sends ``content`` to ``channel`` or ``group`` each time
    ``schedule`` (seconds, a ``schedule`` or a ``crontab``) comes round. With a fixed period,
    a run that a worker picks up more than one period late is skipped, not sent late.

    Raises:
        ValueError: not exactly one of ``channel`` and ``group``.
        InvalidChannelName, InvalidGroupName, InvalidMessage: a bad name or content, now.
    """
    if (channel is None) == (group is None):
        raise ValueError("periodic_send takes exactly one of channel= or group=")
    validate_content(content)
    if channel is not None:
        kind, target = "channel", validate_channel_name(channel)
    else:
        kind, target = "group", validate_group_name(group)
    options: dict[str, Any] = {"serializer": "msgpack"}
    every = schedule if isinstance(schedule, (int, float)) else getattr(schedule, "run_every", None)
    if every is not None:  # a crontab has no fixed period: its runs do not expire
        options["expires"] = float(every) if isinstance(every, (int, float)) else every.total_seconds()
    return {"task": "realtime.deliver", "schedule": schedule, "args": (kind, target, content), "options": options}
