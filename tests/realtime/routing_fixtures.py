"""Consumers and routing lists that tests/realtime/test_routing.py imports by dotted path.

Nothing here uses ``@consumer``: importing this module must not register routes.
"""

from __future__ import annotations

from typing import Any

from realtime.routing import include, route

NOT_A_CONSUMER = 42
NOT_A_ROUTING_LIST = {"websocket.connect": "not a list"}


def poll_consumer(message: Any) -> None:
    """Consumes http.request."""


def chat_connect(message: Any, room: str) -> None:
    """Consumes websocket.connect, with the room taken from the path."""


def chat_disconnect(message: Any) -> None:
    """Consumes websocket.disconnect."""


class ChatConsumer:
    """Shaped like a Channels 1.x generic consumer: ``channel_names()`` returns a set."""

    method_mapping = {"websocket.connect": "connect", "websocket.receive": "receive"}

    def __init__(self, message: Any, **kwargs: Any) -> None:
        self.message = message

    @classmethod
    def channel_names(cls) -> set[str]:
        return set(cls.method_mapping)


class NoChannelNames:
    """A consumer class that cannot say which channels it consumes."""

    def __init__(self, message: Any) -> None:
        self.message = message


# The example of the Channels 1.x "Getting Started" guide, section Routing.
http_routing = [
    route("http.request", poll_consumer, path=r"^/poll/$", method=r"^POST$"),
]

chat_routing = [
    route("websocket.connect", chat_connect, path=r"^/(?P<room>[a-zA-Z0-9_]+)/$"),
    route("websocket.disconnect", chat_disconnect),
]

routing = [
    include("tests.realtime.routing_fixtures.chat_routing", path=r"^/chat"),
    include(http_routing),
]
