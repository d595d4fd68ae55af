"""Sessions for consumers (Channels 1.x ``channels.sessions``).

``@channel_session`` gives a consumer ``message.channel_session``: a Django session keyed
by the connection's reply channel, so state set by the ``connect`` consumer is there for
every later message of the connection, whichever worker process runs it.
``@http_session`` gives ``message.http_session``: the browser's Django session, found from
the handshake's session cookie or a ``session_key`` query parameter.
``@enforce_ordering`` runs a connection's messages in ``order``.

Channel sessions live in :func:`channel_session_engine` (``CHANNEL_SESSION_ENGINE``), expire
after ``CHANNEL_SESSION_AGE`` seconds (default one day, as group memberships) and are
deleted once the ``websocket.disconnect`` consumer has run.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable
from http.cookies import SimpleCookie
from importlib import import_module
from types import ModuleType
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs

from django.conf import settings
from django.contrib.sessions.backends.base import CreateError, SessionBase
from django.core.exceptions import ImproperlyConfigured

from .exceptions import ConsumeLater
from .message import Message

__all__ = [
    "channel_and_http_session",
    "channel_session",
    "channel_session_engine",
    "enforce_ordering",
    "http_session",
    "session_for_reply_channel",
]

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

_DEFAULT_AGE = 86400
# Channel-session keys this module keeps for itself.
_NEXT_ORDER = "__realtime_next_order"
_WAITS = "__realtime_order_waits"
_HTTP_SESSION_KEY = "__realtime_http_session_key"
# How often a message that arrived ahead of its turn is put back before it runs anyway
# (its predecessor was lost: a worker killed mid-message). Channels 1.x: 10.
MAX_ORDER_WAITS = 10


_BACKENDS = "django.contrib.sessions.backends."
# Caches every process of a deployment shares (a per-process cache would lose sessions).
_SHARED_CACHES = (
    "django.core.cache.backends.redis.RedisCache",
    "django.core.cache.backends.memcached.PyMemcacheCache",
    "django.core.cache.backends.memcached.PyLibMCCache",
    "django_redis.cache.RedisCache",
)


def channel_session_engine() -> str:
    """The engine of channel sessions: ``CHANNEL_SESSION_ENGINE`` if set; else the ``cache``
    engine when ``SESSION_ENGINE`` is ``db`` or ``cached_db`` and the session cache is
    shared (Redis, Memcached), measured 2.7 times cheaper per message than ``db`` on
    PostgreSQL (bench/README.md, "Channel sessions"); else ``SESSION_ENGINE``."""
    explicit = getattr(settings, "CHANNEL_SESSION_ENGINE", None)
    if explicit:
        return str(explicit)
    engine = str(settings.SESSION_ENGINE)
    if engine in (_BACKENDS + "db", _BACKENDS + "cached_db"):
        cache = settings.CACHES.get(getattr(settings, "SESSION_CACHE_ALIAS", "default"), {})
        if cache.get("BACKEND") in _SHARED_CACHES:
            return _BACKENDS + "cache"
    return engine


def _engine(path: str, setting: str) -> ModuleType:
    if path == _BACKENDS + "signed_cookies":
        raise ImproperlyConfigured(
            f"{setting} is signed_cookies: a consumer cannot use signed-cookie sessions, because only an HTTP "
            "response can change them and a WebSocket has none; use a server-side engine (db, cache, cached_db)"
        )
    return import_module(path)


def _channel_session_key(reply_channel: str) -> str:
    return "chn" + hashlib.sha1(reply_channel.encode("utf-8")).hexdigest()[:29]


def session_for_reply_channel(reply_channel: str) -> SessionBase:
    """The channel session of ``reply_channel`` (not loaded until used)."""
    store = _engine(channel_session_engine(), "CHANNEL_SESSION_ENGINE").SessionStore
    return cast(SessionBase, store(session_key=_channel_session_key(reply_channel)))


def _open_channel_session(reply_channel: str) -> SessionBase:
    """The loaded channel session, created on the connection's first message. One read per
    message: the load itself tells whether the session exists."""
    session = session_for_reply_channel(reply_channel)
    session.keys()  # loads; a session that does not exist forgets its key
    if session.session_key is not None:
        return session
    session = session_for_reply_channel(reply_channel)
    try:
        session.save(must_create=True)  # before anything reads it, so that it keeps its key
    except CreateError:  # another worker created it a moment ago: take that one
        return session_for_reply_channel(reply_channel)
    session.set_expiry(getattr(settings, "CHANNEL_SESSION_AGE", _DEFAULT_AGE))
    return session


def channel_session(func: F) -> F:
    """Give the consumer ``message.channel_session``, saved after it returns if changed.

    Raises:
        ValueError: the message has no ``reply_channel``.
        ImproperlyConfigured: the session engine is ``signed_cookies``.
    """

    @functools.wraps(func)
    def inner(message: Message, *args: Any, **kwargs: Any) -> Any:
        if getattr(message, "channel_session", None) is not None:  # an outer decorator did it
            return func(message, *args, **kwargs)
        if message.reply_channel is None:
            raise ValueError(
                f"@channel_session needs a reply_channel; the message on {message.channel.name!r} has none"
            )
        session = _open_channel_session(message.reply_channel.name)
        message.channel_session = session
        try:
            return func(message, *args, **kwargs)
        finally:
            message.channel_session = None
            if message.channel.name == "websocket.disconnect":
                session.delete()  # the connection is gone; its reply channel never comes back
            elif session.modified and not session.is_empty():
                session.save()

    return cast(F, inner)


def _http_session_key(message: Message) -> str | None:
    """The Django session key a handshake carries: ``?session_key=`` or the session cookie."""
    query = message.content.get("query_string") or b""
    if isinstance(query, bytes):
        query = query.decode("latin-1")
    keys = parse_qs(query).get("session_key")
    if keys:
        return keys[0]
    for name, value in message.content.get("headers") or []:
        if bytes(name).lower() == b"cookie":
            cookie: SimpleCookie = SimpleCookie()
            try:
                cookie.load(bytes(value).decode("latin-1"))
            except Exception:  # a malformed cookie header is no session
                return None
            morsel = cookie.get(settings.SESSION_COOKIE_NAME)
            if morsel is not None:
                return morsel.value
    return None


def _load_http_session(session_key: str | None) -> SessionBase | None:
    if not session_key:
        return None
    session = cast(
        SessionBase, _engine(settings.SESSION_ENGINE, "SESSION_ENGINE").SessionStore(session_key=session_key)
    )
    return session if session.exists(session_key) else None


def http_session(func: F) -> F:
    """Give the consumer ``message.http_session``: the browser's Django session, or ``None``
    (no session cookie or ``session_key``, or an unknown one). Only handshake messages
    (``websocket.connect``, ``http.request``) carry the cookie; see
    :func:`channel_and_http_session` for later messages."""

    @functools.wraps(func)
    def inner(message: Message, *args: Any, **kwargs: Any) -> Any:
        if message.http_session is not None:
            return func(message, *args, **kwargs)
        return _run_with_http_session(_http_session_key(message), func, message, *args, **kwargs)

    return cast(F, inner)


def _run_with_http_session(
    session_key: str | None, func: Callable[..., Any], message: Message, *args: Any, **kwargs: Any
) -> Any:
    """Run ``func`` with ``message.http_session`` loaded from ``session_key``; save it if changed."""
    session = _load_http_session(session_key)
    message.http_session = session
    try:
        return func(message, *args, **kwargs)
    finally:
        message.http_session = None
        if session is not None and session.modified:
            session.save()


def channel_and_http_session(func: F) -> F:
    """Both sessions on every message of a connection: the HTTP session's key, found at
    ``connect``, is kept in the channel session for the messages after it."""

    @channel_session
    @functools.wraps(func)
    def inner(message: Message, *args: Any, **kwargs: Any) -> Any:
        key = _http_session_key(message)
        if key is not None:
            message.channel_session[_HTTP_SESSION_KEY] = key
        else:
            key = message.channel_session.get(_HTTP_SESSION_KEY)
        return _run_with_http_session(key, func, message, *args, **kwargs)

    return cast(F, inner)


def enforce_ordering(func: F | None = None, *, slight: bool = False) -> Any:
    """Run a connection's messages in their ``order`` (Channels 1.x).

    Strict (the default): message *n* runs only after message *n - 1*; one that arrives
    early is put back on its channel (``ConsumeLater``), at most ``MAX_ORDER_WAITS`` times,
    after which its predecessor is taken as lost and it runs. With ``slight=True`` only
    ``websocket.connect`` (order 0) must have run first. The gateway already hands a
    connection's messages to the workers one at a time and in order, so this decorator
    only acts when that guarantee was broken (a worker killed mid-message).

    Raises:
        ValueError: the message has no ``order``.
    """

    def decorator(consumer: F) -> F:
        @channel_session
        @functools.wraps(consumer)
        def inner(message: Message, *args: Any, **kwargs: Any) -> Any:
            order = message.content.get("order")
            if not isinstance(order, int):
                raise ValueError(f"@enforce_ordering needs an integer 'order'; the message has {order!r}")
            session = message.channel_session
            next_order = session.get(_NEXT_ORDER, 0)
            if order > next_order and not (slight and next_order > 0):
                waits = session.get(_WAITS, 0)
                if waits < MAX_ORDER_WAITS:
                    session[_WAITS] = waits + 1
                    raise ConsumeLater()
                logger.warning("%s: message %d never came; running %d", message.reply_channel, next_order, order)
            result = consumer(message, *args, **kwargs)
            if order >= next_order:
                session[_NEXT_ORDER] = order + 1
                session[_WAITS] = 0
            return result

        return cast(F, inner)

    return decorator(func) if func is not None else decorator
