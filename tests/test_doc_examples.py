"""The documentation's examples (docs/examples/) run as the docs say."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import Client as HttpClient
from django.test import override_settings

from realtime.running import Outcome
from realtime.testing import Client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def memory_layer() -> Iterator[None]:
    with override_settings(CHANNEL_LAYERS={"default": {"URL": f"memory://docs-{secrets.token_hex(4)}"}}):
        yield


@pytest.fixture
def cookie() -> list[list[bytes]]:
    browser = HttpClient()
    browser.force_login(User.objects.create_user("ada", password="x"))
    return [[b"cookie", f"sessionid={browser.cookies['sessionid'].value}".encode()]]


def test_rooms(cookie: list[list[bytes]]) -> None:
    ada, stranger = Client("docs.examples.rooms.channel_routing"), Client("docs.examples.rooms.channel_routing")
    ada.send_and_consume("websocket.connect", {"path": "/rooms/tea/", "headers": cookie})
    assert ada.receive() == {"accept": True}
    stranger.send_and_consume("websocket.connect", {"path": "/rooms/tea/", "headers": []})
    assert stranger.receive() == {"close": True}
    ada.send_and_consume("websocket.receive", {"path": "/rooms/tea/", "text": "hello"})
    assert ada.receive() == {"text": "ada: hello"}
    assert ada.send_and_consume("websocket.disconnect", {"path": "/rooms/tea/", "code": 1000}) is Outcome.CONSUMED


def test_streams(cookie: list[list[bytes]]) -> None:
    chat = Client("docs.examples.streams.channel_routing")
    chat.send_and_consume("websocket.connect", {"path": "/chat/", "headers": cookie})
    assert chat.receive() == {"accept": True}
    chat.send_and_consume("websocket.receive", {"path": "/chat/", "text": json.dumps({"text": "hi"})})
    assert json.loads(chat.receive()["text"]) == {"user": "ada", "text": "hi"}

    multi = Client("docs.examples.streams.channel_routing")
    multi.send_and_consume("websocket.connect", {"path": "/multi/"})
    assert multi.receive() == {"accept": True}
    assert json.loads(multi.receive()["text"]) == {"stream": "status", "payload": {"online": True}}
    frame = {"stream": "echo", "payload": {"n": 1}}
    multi.send_and_consume("websocket.receive", {"path": "/multi/", "text": json.dumps(frame)})
    assert json.loads(multi.receive()["text"]) == frame


def test_tutorial(cookie: list[list[bytes]]) -> None:
    routing = "docs.examples.tutorial.channel_routing"
    echo = Client(routing)
    echo.send_and_consume("websocket.connect", {"path": "/ws/echo/"})
    assert echo.receive() == {"accept": True}
    echo.send_and_consume("websocket.receive", {"path": "/ws/echo/", "text": "hello world"})
    assert echo.receive() == {"text": "hello world"}

    # The function-based chat: logged-in users only, every socket of the room gets each message.
    ada, tab, stranger = Client(routing), Client(routing), Client(routing)
    for client in (ada, tab):
        client.send_and_consume("websocket.connect", {"path": "/ws/chat/lobby/", "headers": cookie})
        assert client.receive() == {"accept": True}
    stranger.send_and_consume("websocket.connect", {"path": "/ws/chat/lobby/", "headers": []})
    assert stranger.receive() == {"close": True}
    ada.send_and_consume("websocket.receive", {"path": "/ws/chat/lobby/", "text": "hello"})
    assert ada.receive() == tab.receive() == {"text": "ada: hello"}
    assert stranger.receive(timeout=0.2) is None
    assert ada.send_and_consume("websocket.disconnect", {"path": "/ws/chat/lobby/", "code": 1000}) is Outcome.CONSUMED
    tab.send_and_consume("websocket.receive", {"path": "/ws/chat/lobby/", "text": "still here?"})
    assert tab.receive() == {"text": "ada: still here?"}
    assert ada.receive(timeout=0.2) is None

    # The same chat as a JsonWebsocketConsumer class, with JSON frames.
    ada, tab, stranger = Client(routing), Client(routing), Client(routing)
    for client in (ada, tab):
        client.send_and_consume("websocket.connect", {"path": "/ws/rooms/lobby/", "headers": cookie})
        assert client.receive() == {"accept": True}
    stranger.send_and_consume("websocket.connect", {"path": "/ws/rooms/lobby/", "headers": []})
    assert stranger.receive() == {"close": True}
    ada.send_and_consume("websocket.receive", {"path": "/ws/rooms/lobby/", "text": json.dumps({"text": "hi"})})
    for client in (ada, tab):
        assert json.loads(client.receive()["text"]) == {"user": "ada", "text": "hi"}
    assert stranger.receive(timeout=0.2) is None
    ada.send_and_consume("websocket.disconnect", {"path": "/ws/rooms/lobby/", "code": 1000})
    tab.send_and_consume("websocket.receive", {"path": "/ws/rooms/lobby/", "text": json.dumps({"text": "bye"})})
    assert json.loads(tab.receive()["text"]) == {"user": "ada", "text": "bye"}
    assert ada.receive(timeout=0.2) is None


@pytest.mark.django_db(transaction=True)  # the presence agent thread has its own connection
def test_presence(cookie: list[list[bytes]], capsys: pytest.CaptureFixture[str]) -> None:
    layers = {"default": {"URL": f"memory://docs-{secrets.token_hex(4)}", "CONFIG": {"presence_groups": ["room-*"]}}}
    with override_settings(CHANNEL_LAYERS=layers):
        from realtime import presence

        presence.subscribe("room-tea", "room-activity")
        routing = "docs.examples.presence.channel_routing"
        ada, visitor = Client(routing), Client(routing)
        ada.send_and_consume("websocket.connect", {"path": "/rooms/tea/", "headers": cookie})
        assert ada.receive() == {"accept": True}
        assert json.loads(ada.receive()["text"])["meta"] == {"name": "ada"}  # her own join
        visitor.send_and_consume("websocket.connect", {"path": "/rooms/tea/", "headers": []})
        assert visitor.receive() == {"accept": True}
        assert json.loads(ada.receive()["text"])["meta"] == {"name": ""}  # the visitor's
        ada.send_and_consume("websocket.receive", {"path": "/rooms/tea/", "text": "who?"})
        assert json.loads(ada.receive()["text"]) == {"here": ["", "ada"]}
        ada.consume("room-activity")
        assert capsys.readouterr().out.startswith("presence.join room-tea ")
        ada.layer.flush()
