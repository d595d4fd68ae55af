"""WebSocket consumer classes (Channels 1.x ``channels.generic.websockets``).

Route them with ``route_class(ChatConsumer, path=r"^/chat/$")``; each message makes an
instance that calls ``connect``, ``receive`` or ``disconnect``::

    class ChatConsumer(JsonWebsocketConsumer):
        http_user = True            # message.user from the browser's login
        strict_ordering = True

        def connection_groups(self, **kwargs):
            return ["chat"]         # joined on connect, left on disconnect

        def receive(self, content, **kwargs):
            self.group_send("chat", {"user": self.message.user.username, "text": content["text"]})
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from ..auth import (
    channel_and_http_session_user_from_http,
    channel_session_user,
    channel_session_user_from_http,
    user_group,
)
from ..channel import Channel, Group
from ..consumers import BaseConsumer
from ..message import Message
from ..sessions import channel_session, enforce_ordering

__all__ = ["JsonWebsocketConsumer", "WebsocketConsumer", "WebsocketDemultiplexer", "WebsocketMultiplexer"]

logger = logging.getLogger(__name__)

# RFC 6455, 7.4.1: a binary frame to a JSON endpoint; text that is not JSON.
UNSUPPORTED_DATA = 1003
INVALID_PAYLOAD = 1007


def _frame(text: str | None, bytes: bytes | None, close: bool | int) -> dict[str, Any]:
    frame: dict[str, Any] = {}
    if text is not None:
        frame["text"] = text
    elif bytes is not None:
        frame["bytes"] = bytes
    if close:
        frame["close"] = close
    if not frame:
        raise ValueError("send needs text, bytes or close")
    return frame


class WebsocketConsumer(BaseConsumer):
    """Handles ``websocket.connect`` / ``receive`` / ``disconnect`` for one path.

    Options (class attributes): ``channel_session`` (``self.message.channel_session``),
    ``channel_session_user`` (and ``self.message.user``), ``http_user`` (the login of the
    browser's session, copied at connect), ``http_user_and_session`` (also
    ``self.message.http_session`` on every message), ``strict_ordering`` /
    ``slight_ordering`` (:func:`~realtime.sessions.enforce_ordering`), ``groups``.
    """

    method_mapping: ClassVar[dict[str, str]] = {
        "websocket.connect": "raw_connect",
        "websocket.receive": "raw_receive",
        "websocket.disconnect": "raw_disconnect",
    }
    channel_session: ClassVar[bool] = False
    channel_session_user: ClassVar[bool] = False
    http_user: ClassVar[bool] = False
    http_user_and_session: ClassVar[bool] = False
    strict_ordering: ClassVar[bool] = False
    slight_ordering: ClassVar[bool] = False
    groups: ClassVar[list[str] | None] = None
    _closed = False

    def get_handler(self, message: Message) -> Callable[..., Any]:
        """The handler, wrapped in the session, user and ordering decorators asked for."""
        handler = super().get_handler(message)
        if self.http_user_and_session:
            handler = channel_and_http_session_user_from_http(handler)
        elif self.http_user:
            handler = channel_session_user_from_http(handler)
        elif self.channel_session_user:
            handler = channel_session_user(handler)
        elif self.channel_session:
            handler = channel_session(handler)
        if self.strict_ordering:
            return enforce_ordering(handler)
        if self.slight_ordering:
            return enforce_ordering(handler, slight=True)
        return handler

    def connection_groups(self, **kwargs: Any) -> list[str]:
        """Groups the socket joins once ``connect`` has run without closing it, and leaves on
        disconnect (default ``groups``)."""
        return list(self.groups or [])

    def raw_connect(self, message: Message, **kwargs: Any) -> None:
        self.connect(message, **kwargs)
        if not self._closed:  # a refused socket never joins the groups
            for group in self._groups(message, **kwargs):
                Group(group, channel_layer=message.channel_layer).add(self._reply_channel)

    def _groups(self, message: Message, **kwargs: Any) -> list[str]:
        """``connection_groups``, and the user's group when the consumer knows the user."""
        groups = self.connection_groups(**kwargs)
        user = message.user
        if user is not None and user.is_authenticated and "multiplexer" not in kwargs:
            groups.append(user_group(user))
        return groups

    def connect(self, message: Message, **kwargs: Any) -> None:
        """Accept the connection (inside a demultiplexer, which accepts it itself: nothing);
        override to check ``message.user`` and ``self.close()`` instead."""
        if "multiplexer" not in kwargs:
            self._reply_channel.send({"accept": True})

    def raw_receive(self, message: Message, **kwargs: Any) -> None:
        if "text" in message:
            self.receive(text=message["text"], **kwargs)
        else:
            self.receive(bytes=message["bytes"], **kwargs)

    def receive(self, text: str | None = None, bytes: bytes | None = None, **kwargs: Any) -> None:
        """A message from the client (override)."""

    def send(self, text: str | None = None, bytes: bytes | None = None, close: bool | int = False) -> None:
        """Send a frame to this socket (and/or close it with ``close``: True or a code)."""
        self._closed = self._closed or bool(close)
        self._reply_channel.send(_frame(text, bytes, close))

    @classmethod
    def group_send(cls, name: str, text: str | None = None, bytes: bytes | None = None, close: bool = False) -> None:
        """Send a frame to every socket in group ``name``."""
        Group(name).send(_frame(text, bytes, close))

    def close(self, status: bool | int = True) -> None:
        """Close the socket (before accepting: refuse it) with ``status`` (True: 1000)."""
        self._closed = True
        self._reply_channel.send({"close": status})

    def raw_disconnect(self, message: Message, **kwargs: Any) -> None:
        for group in self._groups(message, **kwargs):
            Group(group, channel_layer=message.channel_layer).discard(self._reply_channel)
        self.disconnect(message, **kwargs)

    def disconnect(self, message: Message, **kwargs: Any) -> None:
        """The socket closed; ``message["code"]`` says how (override)."""

    @property
    def _reply_channel(self) -> Channel:
        if self.message.reply_channel is None:
            raise ValueError(f"{type(self).__name__} got a message without reply_channel")
        return self.message.reply_channel


class JsonWebsocketConsumer(WebsocketConsumer):
    """Text frames carry JSON: ``receive(content)`` gets it decoded, ``send(content)`` encodes.

    Inside a :class:`WebsocketDemultiplexer`, ``send`` wraps the content in its stream.
    A client that sends a binary frame is closed with 1003 (unsupported data), one that
    sends text that is not JSON with 1007 (inconsistent data); ``receive`` is not called.
    """

    def raw_receive(self, message: Message, **kwargs: Any) -> None:
        if "text" not in message:
            self._refuse(UNSUPPORTED_DATA, "a binary frame")
            return
        try:
            content = self.decode_json(message["text"])
        except (ValueError, RecursionError) as error:  # JSONDecodeError, too deep, or an override's refusal
            self._refuse(INVALID_PAYLOAD, f"text that is not JSON ({error})")
            return
        self.receive(content, **kwargs)

    def _refuse(self, code: int, what: str) -> None:
        logger.info("%s: %s from %s; closing with %d", type(self).__name__, what, self.message.reply_channel, code)
        multiplexer: WebsocketMultiplexer | None = self.kwargs.get("multiplexer")
        if multiplexer is not None:
            multiplexer.close()
        else:
            self.close(code)

    def receive(self, content: Any = None, **kwargs: Any) -> None:  # type: ignore[override]
        """A decoded JSON message from the client (override)."""

    def send(self, content: Any = None, close: bool | int = False) -> None:  # type: ignore[override]
        multiplexer: WebsocketMultiplexer | None = self.kwargs.get("multiplexer")
        if multiplexer is not None:
            multiplexer.send(content)
            if close:
                multiplexer.close()
        else:
            super().send(text=self.encode_json(content), close=close)

    @classmethod
    def group_send(cls, name: str, content: Any = None, close: bool = False) -> None:  # type: ignore[override]
        super().group_send(name, text=cls.encode_json(content), close=close)

    @classmethod
    def decode_json(cls, text: str) -> Any:
        return json.loads(text)

    @classmethod
    def encode_json(cls, content: Any) -> str:
        return json.dumps(content)


class WebsocketMultiplexer:
    """Sends on one stream of a demultiplexed socket: ``{"stream": ..., "payload": ...}``."""

    def __init__(self, stream: str, reply_channel: Channel) -> None:
        self.stream = stream
        self.reply_channel = reply_channel

    def send(self, payload: Any) -> None:
        self.reply_channel.send(self.encode(self.stream, payload))

    def close(self) -> None:
        self.reply_channel.send({"close": True})

    @classmethod
    def encode(cls, stream: str, payload: Any) -> dict[str, Any]:
        return {"text": json.dumps({"stream": stream, "payload": payload})}

    @classmethod
    def group_send(cls, name: str, stream: str, payload: Any, close: bool = False) -> None:
        """Send ``payload`` on ``stream`` to every socket in group ``name``."""
        frame = cls.encode(stream, payload)
        if close:
            frame["close"] = True
        Group(name).send(frame)


class WebsocketDemultiplexer(JsonWebsocketConsumer):
    """One socket, several streams: frames ``{"stream": name, "payload": {...}}`` go to the
    JSON consumer mapped to ``name`` in ``consumers``, whose replies are wrapped with the
    stream; ``connect`` and ``disconnect`` reach every one of them. Or, as in Channels 1.0,
    ``mapping`` names a channel per stream: the payload is sent there as a message, with
    the socket's ``reply_channel`` added (reply with :meth:`encode`).
    """

    consumers: ClassVar[Mapping[str, Callable[..., Any]]] = {}
    mapping: ClassVar[Mapping[str, str]] = {}
    multiplexer_class: ClassVar[type[WebsocketMultiplexer]] = WebsocketMultiplexer

    @classmethod
    def encode(cls, stream: str, payload: Any) -> dict[str, Any]:
        """The reply-channel message that sends ``payload`` on ``stream``."""
        return cls.multiplexer_class.encode(stream, payload)

    def connect(self, message: Message, **kwargs: Any) -> None:
        super().connect(message, **kwargs)
        for stream, consumer in self.consumers.items():
            consumer(message, multiplexer=self.multiplexer_class(stream, self._reply_channel), **kwargs)

    def receive(self, content: Any = None, **kwargs: Any) -> None:  # type: ignore[override]
        if not isinstance(content, dict) or "stream" not in content or "payload" not in content:
            raise ValueError("a multiplexed frame is {'stream': ..., 'payload': {...}}")
        stream, payload = content["stream"], content["payload"]
        consumer = self.consumers.get(stream)
        if consumer is None and stream not in self.mapping:
            raise ValueError(f"no consumer for stream {stream!r}; streams: {sorted({*self.consumers, *self.mapping})}")
        if not isinstance(payload, dict):
            raise ValueError(f"the payload of stream {stream!r} must be an object")
        if consumer is None:
            Channel(self.mapping[stream], channel_layer=self.channel_layer).send(
                {**payload, "reply_channel": self._reply_channel.name}
            )
            return
        inner = self.message.copy()
        inner.content["text"] = self.encode_json(payload)
        consumer(inner, multiplexer=self.multiplexer_class(stream, self._reply_channel), **kwargs)

    def disconnect(self, message: Message, **kwargs: Any) -> None:
        for stream, consumer in self.consumers.items():
            consumer(message, multiplexer=self.multiplexer_class(stream, self._reply_channel), **kwargs)
