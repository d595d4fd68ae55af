"""Django users in consumers (Channels 1.x ``channels.auth``).

``@http_session_user`` sets ``message.user`` from the browser's session (the handshake's
cookie); ``@channel_session_user`` from the channel session, where
``@channel_session_user_from_http`` copies the login at ``connect`` with
:func:`transfer_user`. A client without a login gets ``AnonymousUser``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, TypeVar, cast

from django.contrib import auth
from django.contrib.sessions.backends.base import SessionBase

from .message import Message
from .sessions import channel_and_http_session, channel_session, http_session

__all__ = [
    "channel_and_http_session_user_from_http",
    "channel_session_user",
    "channel_session_user_from_http",
    "http_session_user",
    "transfer_user",
    "user_group",
]

F = TypeVar("F", bound=Callable[..., Any])

_AUTH_KEYS = (auth.SESSION_KEY, auth.BACKEND_SESSION_KEY, auth.HASH_SESSION_KEY)


def user_group(user: Any) -> str:
    """The group of a logged-in user's sockets: generic consumers with ``http_user`` join it,
    and tasks started with ``report_to(user=...)`` report to it."""
    return f"realtime.user.{user.pk}"


def _user_of(session: SessionBase | None) -> Any:
    if session is None:
        from django.contrib.auth.models import AnonymousUser  # models: not at import, before apps are ready

        return AnonymousUser()
    # auth.get_user checks the session's backend and password hash, as a view's request.user does.
    return auth.get_user(SimpleNamespace(session=session))


def transfer_user(from_session: SessionBase, to_session: SessionBase) -> None:
    """Copy the login (user id, backend, session hash) from one session to another."""
    for key in _AUTH_KEYS:
        if key in from_session:
            to_session[key] = from_session[key]


def _with_user(session_of: Callable[[Message], SessionBase | None]) -> Callable[[F], F]:
    def decorator(func: F) -> F:
        @functools.wraps(func)
        def inner(message: Message, *args: Any, **kwargs: Any) -> Any:
            message.user = _user_of(session_of(message))
            try:
                return func(message, *args, **kwargs)
            finally:
                message.user = None

        return cast(F, inner)

    return decorator


def http_session_user(func: F) -> F:
    """``message.http_session`` and ``message.user`` (from it)."""
    return http_session(_with_user(lambda message: message.http_session)(func))


def channel_session_user(func: F) -> F:
    """``message.channel_session`` and ``message.user`` (from it)."""
    return channel_session(_channel_user(func))


def _transferring(func: F) -> F:
    @functools.wraps(func)
    def inner(message: Message, *args: Any, **kwargs: Any) -> Any:
        if message.http_session is not None:
            transfer_user(message.http_session, message.channel_session)
        return func(message, *args, **kwargs)

    return cast(F, inner)


def _channel_user(func: F) -> F:
    return _with_user(lambda message: message.channel_session)(func)


def channel_session_user_from_http(func: F) -> F:
    """For ``connect`` consumers: the login of the browser's session is copied into the
    channel session (:func:`transfer_user`), then as :func:`channel_session_user`."""
    return http_session(channel_session(_transferring(_channel_user(func))))


def channel_and_http_session_user_from_http(func: F) -> F:
    """Both sessions on every message (:func:`~realtime.sessions.channel_and_http_session`)
    and ``message.user``, the login copied into the channel session."""
    return channel_and_http_session(_transferring(_channel_user(func)))
