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
