"""Generic WebSocket consumers and the demultiplexer, through realtime.testing."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client as HttpClient
from django.test import override_settings

from realtime.generic import JsonWebsocketConsumer, WebsocketConsumer, WebsocketDemultiplexer
from realtime.message import Message
from realtime.routing import route, route_class
from realtime.running import Outcome
from realtime.testing import Client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def memory_layer() -> Iterator[None]:
    with override_settings(CHANNEL_LAYERS={"default": {"URL": f"memory://generic-{secrets.token_hex(4)}"}}):
        yield


class Room(WebsocketConsumer):
    groups = ["room"]
    channel_session = True

    def connect(self, message: Message, **kwargs: Any) -> None:
        self.message.channel_session["joined"] = message["path"]
        super().connect(message, **kwargs)

    def receive(self, text: str | None = None, bytes: bytes | None = None, **kwargs: Any) -> None:
        if text == "close":
            self.close(4001)
        elif bytes is not None:
            self.send(bytes=bytes[::-1])
        else:
            self.group_send("room", text=f"{self.message.channel_session['joined']}: {text}")

    def disconnect(self, message: Message, **kwargs: Any) -> None:
        self.group_send("room", text=f"left with {message['code']}")


def test_websocket_consumer_lifecycle() -> None:
    alice, bob = Client([route_class(Room)]), Client([route_class(Room)])
    alice.send_and_consume("websocket.connect", {"path": "/a/"})
    bob.send_and_consume("websocket.connect", {"path": "/b/"})
    assert alice.receive() == {"accept": True}
    assert bob.receive() == {"accept": True}
    alice.send_and_consume("websocket.receive", {"text": "hi"})
    assert alice.receive() == bob.receive() == {"text": "/a/: hi"}
    bob.send_and_consume("websocket.receive", {"bytes": b"\x01\x02"})
    assert bob.receive() == {"bytes": b"\x02\x01"}
    bob.send_and_consume("websocket.receive", {"text": "close"})
    assert bob.receive() == {"close": 4001}
    bob.send_and_consume("websocket.disconnect", {"code": 4001})
    assert alice.receive() == {"text": "left with 4001"}
    assert bob.receive(timeout=0.2) is None  # it left the group before the message


class Echo(JsonWebsocketConsumer):
    def receive(self, content: Any = None, **kwargs: Any) -> None:
        self.send({"echo": content})


def test_json_consumer() -> None:
    client = Client([route_class(Echo)])
    client.send_and_consume("websocket.receive", {"text": json.dumps({"n": 1})})
    assert json.loads(client.receive()["text"]) == {"echo": {"n": 1}}


class Private(JsonWebsocketConsumer):
    http_user = True
    strict_ordering = True
    groups = ["members"]

    def connect(self, message: Message, **kwargs: Any) -> None:
        if not message.user.is_authenticated:
            self.close()  # refuses the handshake
            return
        super().connect(message, **kwargs)

    def receive(self, content: Any = None, **kwargs: Any) -> None:
        self.send({"user": self.message.user.username, "said": content})


def test_http_user_consumer_refuses_anonymous_and_knows_the_user() -> None:
    stranger = Client([route_class(Private)])
    stranger.send_and_consume("websocket.connect", {"path": "/", "headers": []})
    assert stranger.receive() == {"close": True}
    Private.group_send("members", {"secret": 1})
    assert stranger.receive(timeout=0.2) is None  # refused sockets never join the groups

    user = User.objects.create_user("grace", password="x")
    browser = HttpClient()
    browser.force_login(user)
    cookie = f"sessionid={browser.cookies['sessionid'].value}".encode()
    member = Client([route_class(Private)])
    member.send_and_consume("websocket.connect", {"path": "/", "headers": [[b"cookie", cookie]]})
    assert member.receive() == {"accept": True}
    member.send_and_consume("websocket.receive", {"text": '"hello"'})
    assert json.loads(member.receive()["text"]) == {"user": "grace", "said": "hello"}
    Private.group_send("members", {"secret": 2})
    assert json.loads(member.receive()["text"]) == {"secret": 2}


class Upper(JsonWebsocketConsumer):
    def connect(self, message: Message, **kwargs: Any) -> None:
        self.send({"ready": "upper"})

    def receive(self, content: Any = None, **kwargs: Any) -> None:
        self.send({"text": content["text"].upper()})


class Count(JsonWebsocketConsumer):
    def receive(self, content: Any = None, **kwargs: Any) -> None:
        self.send({"length": len(content["text"])})


class Streams(WebsocketDemultiplexer):
    consumers = {"upper": Upper, "count": Count}
    mapping = {"legacy": "test.legacy"}


def legacy(message: Message) -> None:
    message.reply_channel.send(Streams.encode("legacy", {"got": message["n"]}))


def frames(client: Client) -> list[dict]:
    received = []
    while (message := client.receive(timeout=0.2)) is not None:
        received.append(json.loads(message["text"]) if "text" in message else message)
    return received


def test_demultiplexer_routes_streams_and_wraps_replies() -> None:
    client = Client([route_class(Streams), route("test.legacy", legacy)])
    client.send_and_consume("websocket.connect", {"path": "/"})
    assert frames(client) == [{"accept": True}, {"stream": "upper", "payload": {"ready": "upper"}}]
    client.send_and_consume("websocket.receive", {"text": json.dumps({"stream": "upper", "payload": {"text": "hi"}})})
    client.send_and_consume("websocket.receive", {"text": json.dumps({"stream": "count", "payload": {"text": "four"}})})
    assert frames(client) == [
        {"stream": "upper", "payload": {"text": "HI"}},
        {"stream": "count", "payload": {"length": 4}},
    ]
    # Channels 1.0's mapping: the payload travels on to a channel of its own.
    client.send_and_consume("websocket.receive", {"text": json.dumps({"stream": "legacy", "payload": {"n": 7}})})
    client.consume("test.legacy")
    assert frames(client) == [{"stream": "legacy", "payload": {"got": 7}}]


@pytest.mark.parametrize(
    "frame",
    [{"stream": "nope", "payload": {}}, {"payload": {}}, {"stream": "count", "payload": [1]}, [1, 2]],
    ids=["unknown-stream", "no-stream", "payload-not-object", "not-an-object"],
)
def test_demultiplexer_refuses_malformed_frames(frame: object) -> None:
    client = Client([route_class(Streams)])
    assert client.send_and_consume("websocket.receive", {"text": json.dumps(frame)}) is Outcome.FAILED
    assert client.receive(timeout=0.2) is None


def test_json_consumer_closes_on_binary_and_malformed_json_and_goes_on() -> None:
    """RELIABILITY.md T4: every bad payload closes with a defined code; the next good one works."""
    client = Client([route_class(Echo)])
    bad = ["{", "[1,", "NaN!", '{"a": 1', "\udcff".encode("utf-8", "surrogatepass").decode("latin-1"), "[" * 10_000]
    for text in bad * 100:
        assert client.send_and_consume("websocket.receive", {"text": text}) is Outcome.CONSUMED
        assert client.receive() == {"close": 1007}
    assert client.send_and_consume("websocket.receive", {"bytes": b"{}"}) is Outcome.CONSUMED
    assert client.receive() == {"close": 1003}
    client.send_and_consume("websocket.receive", {"text": json.dumps({"n": 2})})
    assert json.loads(client.receive()["text"]) == {"echo": {"n": 2}}
