"""The channel messages of a WebSocket connection, and what its reply messages ask for (pure).

The gateway turns a connection into ``websocket.connect`` / ``websocket.receive`` /
``websocket.disconnect`` messages (ASGI 1, as in Channels 1.x), and messages sent to the
connection's reply channel into actions on the socket. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "Accept",
    "Close",
    "InvalidReply",
    "SendBytes",
    "SendText",
    "connect_message",
    "disconnect_message",
    "interpret_reply",
    "receive_message",
]

# RFC 6455 section 7.4 and the IANA registry: the codes an endpoint may send (not 1004,
# 1005, 1006 or 1015, which never go on the wire), and 3000-4999 for applications.
_SENDABLE_CODES = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014})
_APPLICATION_CODES = range(3000, 5000)
_NORMAL_CLOSE = 1000


class InvalidReply(ValueError):
    """A reply-channel message the gateway cannot act on (a consumer's mistake)."""


@dataclass(frozen=True, slots=True)
class Accept:
    """Complete the handshake."""


@dataclass(frozen=True, slots=True)
class SendText:
    text: str


@dataclass(frozen=True, slots=True)
class SendBytes:
    data: bytes


@dataclass(frozen=True, slots=True)
class Close:
    """Close the connection with ``code`` (before the handshake completes: refuse it, HTTP 403)."""

    code: int = _NORMAL_CLOSE


Action = Accept | SendText | SendBytes | Close


def connect_message(
    reply_channel: str,
    path: str,
    query_string: bytes,
    headers: list[tuple[bytes, bytes]],
    client: tuple[str, int] | None,
    server: tuple[str, int] | None,
) -> dict[str, Any]:
    """The ``websocket.connect`` message (order 0) for a handshake request."""
    return {
        "reply_channel": reply_channel,
        "path": path,
        "query_string": query_string,
        "headers": [[name.lower(), value] for name, value in headers],
        "client": list(client) if client else None,
        "server": list(server) if server else None,
        "order": 0,
    }


def receive_message(reply_channel: str, path: str, order: int, data: str | bytes) -> dict[str, Any]:
    """The ``websocket.receive`` message for the ``order``-th data frame (text or bytes)."""
    key = "text" if isinstance(data, str) else "bytes"
    return {"reply_channel": reply_channel, "path": path, "order": order, key: data}


def disconnect_message(reply_channel: str, path: str, order: int, code: int) -> dict[str, Any]:
    """The ``websocket.disconnect`` message, last in the connection's order."""
    return {"reply_channel": reply_channel, "path": path, "order": order, "code": code}


def interpret_reply(content: dict[str, Any]) -> list[Action]:
    """What a reply-channel message asks for, in the order to do it: accept, data, close.

    Raises:
        InvalidReply: both ``text`` and ``bytes``, a value of the wrong type, or a close
            code an application may not send.
    """
    actions: list[Action] = []
    if content.get("accept") is True:
        actions.append(Accept())
    if "text" in content and "bytes" in content:
        raise InvalidReply("a reply message carries either 'text' or 'bytes', not both")
    if "text" in content:
        if not isinstance(content["text"], str):
            raise InvalidReply(f"'text' must be a str, not {type(content['text']).__name__}")
        actions.append(SendText(content["text"]))
    if "bytes" in content:
        if not isinstance(content["bytes"], bytes):
            raise InvalidReply(f"'bytes' must be bytes, not {type(content['bytes']).__name__}")
        actions.append(SendBytes(content["bytes"]))
    close = content.get("close", False)
    if close is True:
        actions.append(Close())
    elif isinstance(close, int) and not isinstance(close, bool):
        if close not in _SENDABLE_CODES and close not in _APPLICATION_CODES:
            raise InvalidReply(f"close code {close} cannot be sent: not a sendable code (RFC 6455, 7.4) nor 3000-4999")
        actions.append(Close(close))
    elif close is not False:
        raise InvalidReply(f"'close' must be True or a close code, not {close!r}")
    return actions
