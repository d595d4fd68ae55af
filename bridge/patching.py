"""gevent's monkey-patching: the one place the gateway's processes call it, before any I/O."""

from __future__ import annotations

import sys

__all__ = ["monkey_patch"]


def monkey_patch() -> None:
    """Make the standard library cooperative (sockets, threads, ``time.sleep``) for gevent.

    Called first by ``realtime-gateway``, and by the ``rungateway`` / ``runserver`` commands
    as soon as they start; calling it again does nothing.
    """
    from gevent import monkey

    if monkey.is_module_patched("socket"):
        return
    monkey.patch_all()
    if "django.db" in sys.modules:
        _make_database_connections_greenlet_local()


def _make_database_connections_greenlet_local() -> None:
    """``manage.py`` imports Django before a command can patch: ``django.db.connections``
    then keeps its connections in a real ``threading.local``, which every greenlet of the
    thread would share (Django refuses that). A fresh store, made now, is per greenlet."""
    from asgiref.local import Local
    from django.db import connections

    connections._connections = Local(connections.thread_critical)
