"""Running one consumer for one message, as a Celery worker (or ``realtime.testing``) does.

The consumer runs like a Django view: database connections are cleaned up around it
(:mod:`realtime.signals`), and it runs in a transaction for each database whose
``ATOMIC_REQUESTS`` is set. A consumer that raises is logged with its channel and
traceback; ``ConsumeLater`` puts the message back on its channel.
"""

from __future__ import annotations

import contextlib
import enum
import logging
from contextvars import ContextVar
from typing import Any

from django.db import connections, transaction

from .exceptions import ConsumeLater
from .layers.core import SyncChannelLayer
from .message import Message
from .routing import Match, Router
from .signals import consumer_finished, consumer_started

__all__ = ["OPTIONAL_CHANNELS", "ConsumerFailed", "Outcome", "current_message", "drop_unrouted", "run", "run_match"]

logger = logging.getLogger(__name__)

#: Channels a project need not route, which workers read all the same: an unrouted
#: ``websocket.connect`` is answered with the processed notice that makes the gateway accept,
#: and nothing is owed to a client that has left.
OPTIONAL_CHANNELS = frozenset({"websocket.connect", "websocket.disconnect", "http.disconnect"})


class Outcome(enum.Enum):
    """What became of a message."""

    CONSUMED = "consumed"
    FAILED = "failed"
    DEFERRED = "deferred"  # ConsumeLater: back on its channel
    UNROUTED = "unrouted"


_current_message: ContextVar[Message | None] = ContextVar("realtime_current_message", default=None)


def current_message() -> Message | None:
    """The message whose consumer is running in this thread or greenlet, if any (how a task
    started by a consumer knows whom to report to)."""
    return _current_message.get()


class ConsumerFailed(Exception):
    """A consumer raised; the original exception is the ``__cause__`` and was logged."""


def run(router: Router, layer: SyncChannelLayer, channel: str, content: dict[str, Any]) -> Outcome:
    """Route a message taken from ``channel`` and run its consumer; never raises for a
    consumer's error (it is logged), so the caller's loop keeps going."""
    match = router.match(channel, content)
    if match is None:
        return drop_unrouted(layer, channel, content)
    try:
        return run_match(match, Message(content, channel, layer))
    except ConsumerFailed:
        return Outcome.FAILED


def drop_unrouted(layer: SyncChannelLayer, channel: str, content: dict[str, Any]) -> Outcome:
    """Log and drop a message no route matches, releasing its connection's next message."""
    level = logging.DEBUG if channel in OPTIONAL_CHANNELS else logging.WARNING
    logger.log(level, "no consumer routed for a message on %r (keys: %s); dropped", channel, sorted(content))
    _notify_processed(layer, content)
    return Outcome.UNROUTED


def run_match(match: Match, message: Message) -> Outcome:
    """Run the routed consumer ``match`` on ``message``.

    Raises:
        ConsumerFailed: the consumer raised (already logged with channel, consumer and traceback).
    """
    consumer_started.send(sender=match.name, message=message)
    token = _current_message.set(message)
    try:
        with _atomic_requests():
            match.consumer(message, **match.kwargs)
    except ConsumeLater:
        message.channel_layer.send(message.channel.name, message.content)
        return Outcome.DEFERRED
    except Exception as exc:
        logger.exception("consumer %s failed on a message from %r", match.name, message.channel.name)
        _refuse_failed_connect(message)
        _notify_processed(message.channel_layer, message.content)
        raise ConsumerFailed(f"{match.name} failed on {message.channel.name!r}: {exc!r}") from exc
    finally:
        _current_message.reset(token)
        consumer_finished.send(sender=match.name, message=message)
    _notify_processed(message.channel_layer, message.content)
    return Outcome.CONSUMED


def _atomic_requests() -> contextlib.ExitStack:
    stack = contextlib.ExitStack()
    for alias, settings in connections.settings.items():  # no connection is opened to ask
        if settings.get("ATOMIC_REQUESTS"):
            stack.enter_context(transaction.atomic(using=alias))
    return stack


def _refuse_failed_connect(message: Message) -> None:
    """A connect consumer that raised refuses the connection: a failing permission check
    must not let the socket in (without this, the processed notice would accept it)."""
    if message.channel.name == "websocket.connect" and message.reply_channel is not None:
        try:
            message.reply_channel.send({"close": True})
        except Exception:
            logger.warning("could not refuse %s", message.reply_channel.name, exc_info=True)


def _notify_processed(layer: SyncChannelLayer, content: dict[str, Any]) -> None:
    """Tell the sender's gateway that this connection's message ``order`` is done, so it
    releases the connection's next message (docs/workers.rst, "Ordering")."""
    reply_channel, order = content.get("reply_channel"), content.get("order")
    if isinstance(reply_channel, str) and isinstance(order, int) and "!" in reply_channel:
        try:
            layer.notify_processed(reply_channel, order)
        except Exception:  # the gateway falls back to its timeout; the worker goes on
            logger.warning("could not send the processed notice for %s #%d", reply_channel, order, exc_info=True)
