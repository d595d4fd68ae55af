"""Signals sent around each consumer run, like Django's request_started / request_finished."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import close_old_connections
from django.dispatch import Signal

__all__ = ["connection_cleanup_paused", "consumer_finished", "consumer_started"]

#: Sent before a consumer runs (``sender``: the consumer's name; ``message``: the Message).
consumer_started = Signal()
#: Sent after a consumer ran, also when it raised.
consumer_finished = Signal()

_STARTED_UID = "realtime.close_old_connections.started"
_FINISHED_UID = "realtime.close_old_connections.finished"

# A consumer run is handled like a request: database connections past their lifetime or
# left broken are closed before and after, as Django does around each view.
consumer_started.connect(close_old_connections, dispatch_uid=_STARTED_UID)
consumer_finished.connect(close_old_connections, dispatch_uid=_FINISHED_UID)


@contextmanager
def connection_cleanup_paused() -> Iterator[None]:
    """Run consumers without closing database connections around them, as Django's test
    client does for requests: a test's connection (and its transaction) must survive."""
    consumer_started.disconnect(dispatch_uid=_STARTED_UID)
    consumer_finished.disconnect(dispatch_uid=_FINISHED_UID)
    try:
        yield
    finally:
        consumer_started.connect(close_old_connections, dispatch_uid=_STARTED_UID)
        consumer_finished.connect(close_old_connections, dispatch_uid=_FINISHED_UID)
