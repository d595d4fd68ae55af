"""Channel and HTTP sessions, users and ordering in consumers, through realtime.testing."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ImproperlyConfigured
from django.test import Client as HttpClient
from django.test import override_settings

from realtime import sessions
from realtime.auth import channel_session_user, channel_session_user_from_http, http_session_user
from realtime.message import Message
from realtime.routing import route
from realtime.running import Outcome
from realtime.sessions import (
    MAX_ORDER_WAITS,
    channel_and_http_session,
    channel_session,
    enforce_ordering,
    http_session,
    session_for_reply_channel,
)
from realtime.testing import Client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def memory_layer() -> Iterator[None]:
    """A layer of the test's own: messages put back by one test never reach the next."""
    with override_settings(CHANNEL_LAYERS={"default": {"URL": f"memory://sessions-{secrets.token_hex(4)}"}}):
        yield


@channel_session
def remember_room(message: Message) -> None:
    message.channel_session["room"] = message["path"].strip("/")


@channel_session
def say_room(message: Message) -> None:
    message.reply_channel.send({"text": message.channel_session.get("room", "none")})


@channel_session
def forget(message: Message) -> None:
    message.reply_channel.send({"text": "bye " + message.channel_session["room"]})


ROOMS = [
    route("websocket.connect", remember_room),
    route("websocket.receive", say_room),
    route("websocket.disconnect", forget),
]


@pytest.mark.parametrize("engine", ["db", "cache"])
def test_channel_session_carries_state_across_a_connections_messages(engine: str) -> None:
    with override_settings(CHANNEL_SESSION_ENGINE=f"django.contrib.sessions.backends.{engine}"):
        run_two_rooms()


def run_two_rooms() -> None:
    alice, bob = Client(ROOMS), Client(ROOMS)
    alice.send_and_consume("websocket.connect", {"path": "/lobby/"})
    bob.send_and_consume("websocket.connect", {"path": "/garden/"})
    alice.send_and_consume("websocket.receive", {"text": "?"})
    bob.send_and_consume("websocket.receive", {"text": "?"})
    assert alice.receive() == {"text": "lobby"}
    assert bob.receive() == {"text": "garden"}


def test_channel_session_is_deleted_after_disconnect() -> None:
    client = Client(ROOMS)
    client.send_and_consume("websocket.connect", {"path": "/lobby/"})
    session = session_for_reply_channel(client.reply_channel)
    assert session.exists(session.session_key)
    client.send_and_consume("websocket.disconnect", {"code": 1000})
    assert client.receive() == {"text": "bye lobby"}
    assert not session.exists(session.session_key)


def test_channel_session_needs_a_reply_channel() -> None:
    client = Client([route("test.plain", say_room)])
    client.layer.send("test.plain", {"text": "no reply channel"})
    assert client.consume("test.plain") is Outcome.FAILED


@override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies")
def test_signed_cookie_sessions_are_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="cannot use signed-cookie sessions"):
        session_for_reply_channel("websocket.send!abc.def")


REDIS_CACHE = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x"}}
LOCAL_CACHE = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DB, CACHED_DB, CACHE = (f"django.contrib.sessions.backends.{name}" for name in ("db", "cached_db", "cache"))


@pytest.mark.parametrize(
    ("session_engine", "caches", "channel_session_engine", "chosen"),
    [
        (DB, LOCAL_CACHE, None, DB),  # a per-process cache would lose sessions between workers
        (DB, REDIS_CACHE, None, CACHE),  # measured cheaper: bench/README.md, "Channel sessions"
        (CACHED_DB, REDIS_CACHE, None, CACHE),
        (CACHE, LOCAL_CACHE, None, CACHE),
        (DB, REDIS_CACHE, DB, DB),  # an explicit setting wins
        ("django.contrib.sessions.backends.signed_cookies", LOCAL_CACHE, CACHE, CACHE),
    ],
)
def test_channel_session_engine(
    session_engine: str, caches: dict, channel_session_engine: str | None, chosen: str
) -> None:
    with override_settings(SESSION_ENGINE=session_engine, CACHES=caches, CHANNEL_SESSION_ENGINE=channel_session_engine):
        assert sessions.channel_session_engine() == chosen


# -- HTTP sessions and users ---------------------------------------------------------------


@pytest.fixture
def logged_in() -> tuple[User, str]:
    """A user logged in through Django's login; their session key."""
    user = User.objects.create_user("ada", password="secret")
    browser = HttpClient()
    browser.force_login(user)
    return user, browser.cookies["sessionid"].value


def handshake(session_key: str | None = None, *, cookie: bool = True) -> dict:
    headers = [[b"host", b"example.com"]]
    query = b""
    if session_key and cookie:
        headers.append([b"cookie", f"csrftoken=x; sessionid={session_key}".encode()])
    elif session_key:
        query = f"session_key={session_key}".encode()
    return {"path": "/", "headers": headers, "query_string": query}


@http_session_user
def whoami(message: Message) -> None:
    message.reply_channel.send({"user": str(message.user), "session": message.http_session is not None})


@pytest.mark.parametrize("cookie", [True, False], ids=["cookie", "query-string"])
def test_http_session_user_from_the_handshake(logged_in: tuple[User, str], cookie: bool) -> None:
    client = Client([route("websocket.connect", whoami)])
    client.send_and_consume("websocket.connect", handshake(logged_in[1], cookie=cookie))
    assert client.receive() == {"user": "ada", "session": True}


@pytest.mark.parametrize("session_key", [None, "not-a-session"])
def test_no_or_unknown_session_is_anonymous(session_key: str | None) -> None:
    client = Client([route("websocket.connect", whoami)])
    client.send_and_consume("websocket.connect", handshake(session_key))
    assert client.receive() == {"user": str(AnonymousUser()), "session": False}


@channel_session_user_from_http
def user_connect(message: Message) -> None:
    message.reply_channel.send({"connect": str(message.user)})


@channel_session_user
def user_receive(message: Message) -> None:
    message.reply_channel.send({"receive": str(message.user), "authenticated": message.user.is_authenticated})


USERS = [route("websocket.connect", user_connect), route("websocket.receive", user_receive)]


def test_login_is_transferred_to_the_channel_session(logged_in: tuple[User, str]) -> None:
    client = Client(USERS)
    client.send_and_consume("websocket.connect", handshake(logged_in[1]))
    assert client.receive() == {"connect": "ada"}
    client.send_and_consume("websocket.receive", {"text": "no cookies here"})
    assert client.receive() == {"receive": "ada", "authenticated": True}


def test_a_user_who_changed_password_is_logged_out(logged_in: tuple[User, str]) -> None:
    user, key = logged_in
    client = Client(USERS)
    client.send_and_consume("websocket.connect", handshake(key))
    assert client.receive() == {"connect": "ada"}
    user.set_password("new secret")
    user.save()
    client.send_and_consume("websocket.receive", {"text": "x"})
    assert client.receive() == {"receive": str(AnonymousUser()), "authenticated": False}


@channel_and_http_session
def both_sessions(message: Message) -> None:
    message.reply_channel.send({"http": message.http_session is not None and message.http_session.session_key})


def test_channel_and_http_session_keeps_the_http_session_for_later_messages(logged_in: tuple[User, str]) -> None:
    client = Client([route("websocket.connect", both_sessions), route("websocket.receive", both_sessions)])
    client.send_and_consume("websocket.connect", handshake(logged_in[1]))
    client.send_and_consume("websocket.receive", {"text": "x"})
    assert client.receive() == {"http": logged_in[1]}
    assert client.receive() == {"http": logged_in[1]}


@http_session
def count_visits(message: Message) -> None:
    message.http_session["visits"] = message.http_session.get("visits", 0) + 1


def test_http_session_changes_are_saved(logged_in: tuple[User, str]) -> None:
    client = Client([route("websocket.connect", count_visits)])
    client.send_and_consume("websocket.connect", handshake(logged_in[1]))
    client.send_and_consume("websocket.connect", handshake(logged_in[1]))
    from django.contrib.sessions.backends.db import SessionStore

    assert SessionStore(session_key=logged_in[1])["visits"] == 2


# -- ordering ---------------------------------------------------------------------------------

ran: list[int] = []


@enforce_ordering
def strict(message: Message) -> None:
    ran.append(message["order"])


@enforce_ordering(slight=True)
def slight(message: Message) -> None:
    ran.append(message["order"])


@pytest.fixture
def record() -> Iterator[list[int]]:
    ran.clear()
    yield ran


def send_in_order(client: Client, channel: str, order: int) -> None:
    client.send(channel, {"order": order, "text": str(order)})


def consume_all(client: Client, channel: str, limit: int = 50) -> list[Outcome]:
    """Consume ``channel`` until it is empty (messages put back included)."""
    outcomes: list[Outcome] = []
    for _ in range(limit):
        try:
            outcomes.append(client.consume(channel))
        except AssertionError:  # nothing left
            return outcomes
    raise AssertionError(f"{channel} still not empty after {limit} messages")


def test_strict_ordering_puts_early_messages_back(record: list[int]) -> None:
    client = Client([route(["websocket.connect", "websocket.receive"], strict)])
    send_in_order(client, "websocket.connect", 0)
    assert client.consume("websocket.connect") is Outcome.CONSUMED
    send_in_order(client, "websocket.receive", 2)
    send_in_order(client, "websocket.receive", 1)
    assert consume_all(client, "websocket.receive") == [Outcome.DEFERRED, Outcome.CONSUMED, Outcome.CONSUMED]
    assert record == [0, 1, 2]


def test_strict_ordering_gives_up_on_a_lost_message(record: list[int]) -> None:
    client = Client([route(["websocket.connect", "websocket.receive"], strict)])
    send_in_order(client, "websocket.connect", 0)
    client.consume("websocket.connect")
    send_in_order(client, "websocket.receive", 2)  # 1 was lost
    assert consume_all(client, "websocket.receive") == [Outcome.DEFERRED] * MAX_ORDER_WAITS + [Outcome.CONSUMED]
    assert record == [0, 2]


def test_slight_ordering_only_waits_for_connect(record: list[int]) -> None:
    client = Client([route(["websocket.connect", "websocket.receive"], slight)])
    send_in_order(client, "websocket.receive", 1)
    assert client.consume("websocket.receive") is Outcome.DEFERRED  # connect has not run
    send_in_order(client, "websocket.connect", 0)
    assert client.consume("websocket.connect") is Outcome.CONSUMED
    send_in_order(client, "websocket.receive", 3)
    assert consume_all(client, "websocket.receive") == [Outcome.CONSUMED, Outcome.CONSUMED]
    assert record == [0, 1, 3]


def test_ordering_needs_an_order() -> None:
    client = Client([route("websocket.receive", strict)])
    assert client.send_and_consume("websocket.receive", {"order": None}) is Outcome.FAILED
