"""Delayed sends: the Channels 1.x delay server's job, done by Celery's scheduling."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from celery import shared_task

from realtime.layers import DEFAULT_ALIAS, get_channel_layer

__all__ = ["deliver", "send_later"]


@shared_task(name="realtime.deliver", ignore_result=True, acks_late=False, serializer="msgpack")
def deliver(kind: str, target: str, content: dict[str, Any], alias: str = DEFAULT_ALIAS) -> None:
    """Send ``content`` now to a channel (``kind="channel"``) or a group (``kind="group"``)."""
    layer = get_channel_layer(alias).sync
    if kind == "group":
        layer.group_send(target, content)
    else:
        layer.send(target, content)


def send_later(
    kind: str,
    target: str,
    content: dict[str, Any],
    *,
    countdown: float | None = None,
    eta: datetime | None = None,
    expires: float | datetime | None = None,
    alias: str = DEFAULT_ALIAS,
) -> None:
    """Schedule a send with Celery: ``countdown`` seconds from now, or at ``eta``.

    The message's own expiry starts when it is sent; the scheduled task itself expires at
    ``expires`` (seconds from now, or a datetime), by default one layer expiry after its
    due time, so a backlog never delivers stale messages.
    """
    expiry = get_channel_layer(alias).config.expiry
    due = eta if eta is not None else datetime.now().astimezone() + timedelta(seconds=countdown or 0)
    deliver.apply_async(
        args=(kind, target, content, alias),
        countdown=countdown,
        eta=eta,
        expires=due + timedelta(seconds=expiry) if expires is None else expires,
        serializer="msgpack",
    )
