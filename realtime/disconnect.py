"""Close sockets from anywhere: every socket of a user (on logout, a ban) or of a group,
on every gateway, from a view, a task or a consumer::

    disconnect_user(request.user)          # after logout; the browser sees close 4001
    disconnect_group("room-7", code=4003)
"""

from __future__ import annotations

from typing import Any

from .auth import user_group
from .channel import Group

__all__ = ["DISCONNECTED", "disconnect_group", "disconnect_user"]

#: The close code sockets get by default (an application code: clients should not reconnect).
DISCONNECTED = 4001


def disconnect_group(name: str, code: int = DISCONNECTED) -> None:
    """Close every socket in group ``name`` with ``code`` (3000-4999, or 1000-1003, 1007-1014)."""
    Group(name).send({"close": code})


def disconnect_user(user: Any, code: int = DISCONNECTED) -> None:
    """Close every socket of ``user`` (those in its user group: generic consumers that know
    the user join it, function consumers add ``user_group(user)`` themselves)."""
    disconnect_group(user_group(user), code)
