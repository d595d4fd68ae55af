"""One WebSocket connection's protocol, without I/O: bytes in, events and bytes out.

wsproto parses and builds frames (RFC 6455); this module adds what a gateway needs on top:
the connection's life as a state table, a message size limit (close 1009), and the close
codes RFC 6455 prescribes for a peer's errors (1002 protocol error, 1007 invalid UTF-8).
The I/O shell feeds :meth:`WebSocketSession.receive_data` with what the socket read and
writes what :meth:`WebSocketSession.data_to_send` returns.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from urllib.parse import urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.connection import Connection, ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from .frame_guard import DeclaredSizeGuard

__all__ = [
    "Closed",
    "HandshakeRequest",
    "IllegalTransition",
    "MessageReceived",
    "State",
    "WebSocketSession",
]

# RFC 6455 section 7.4.1.
TOO_BIG = 1009
PROTOCOL_ERROR = 1002
ABNORMAL = 1006


class State(enum.Enum):
    """A connection's life."""

    HANDSHAKE = "handshake"  # the upgrade request arrived; the application decides
    OPEN = "open"
    CLOSING = "closing"  # we sent a close frame and wait for the peer's
    CLOSED = "closed"


class Event(enum.Enum):
    """What moves a connection from one state to the next."""

    REQUEST = "request"
    ACCEPT = "accept"
    REJECT = "reject"
    CLOSE = "close"  # we close
    PEER_CLOSE = "peer close"
    ABORT = "abort"  # the peer broke the protocol, or the socket went away


# Every legal transition; anything else raises IllegalTransition naming state and event.
_TRANSITIONS: dict[tuple[State | None, Event], State] = {
    (None, Event.REQUEST): State.HANDSHAKE,
    (None, Event.ABORT): State.CLOSED,  # a malformed upgrade request
    (State.HANDSHAKE, Event.ACCEPT): State.OPEN,
    (State.HANDSHAKE, Event.REJECT): State.CLOSED,
    (State.HANDSHAKE, Event.ABORT): State.CLOSED,
    (State.OPEN, Event.CLOSE): State.CLOSING,
    (State.OPEN, Event.PEER_CLOSE): State.CLOSED,
    (State.OPEN, Event.ABORT): State.CLOSED,
    (State.CLOSING, Event.PEER_CLOSE): State.CLOSED,
    (State.CLOSING, Event.ABORT): State.CLOSED,
    (State.CLOSING, Event.CLOSE): State.CLOSING,
    (State.CLOSED, Event.CLOSE): State.CLOSED,
    (State.CLOSED, Event.ABORT): State.CLOSED,
}


class IllegalTransition(RuntimeError):
    """The gateway asked for something the connection's state does not allow (a bug)."""


@dataclass(frozen=True, slots=True)
class HandshakeRequest:
    """The upgrade request: the application accepts or rejects it."""

    path: str
    query_string: bytes
    headers: list[tuple[bytes, bytes]]
    origin: str | None


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """A complete message from the client."""

    data: str | bytes


@dataclass(frozen=True, slots=True)
class Closed:
    """The connection is over; ``code`` is what the application is told (1005 if the peer
    gave none, 1006 if it vanished)."""

    code: int
    reason: str = ""


SessionEvent = HandshakeRequest | MessageReceived | Closed


class WebSocketSession:
    """The server side of one WebSocket connection."""

    def __init__(self, max_message_size: int) -> None:
        self.max_message_size = max_message_size
        self.state: State | None = None
        #: The handshake's machinery until accepted, then only the frame connection.
        self._ws: WSConnection | Connection = WSConnection(ConnectionType.SERVER)
        self._out = bytearray()
        self._parts: list[str | bytes] = []
        self._size = 0
        self._guard = DeclaredSizeGuard(max_message_size)

    def receive_data(self, data: bytes | None) -> list[SessionEvent]:
        """Feed bytes read from the socket (``None``: the socket closed); returns what happened."""
        if self.state is State.CLOSED:
            return []
        events: list[SessionEvent] = []
        if data and self.state is State.OPEN and self._guard.feed(data):
            self.close(TOO_BIG, "message too big")  # declared too big: no need to wait for it
            return events
        try:
            self._ws.receive_data(data)  # a malformed handshake raises here already
            for event in self._ws.events():
                self._handle(event, events)
        except RemoteProtocolError as error:
            events.extend(self._fail(error))
        if data is None and self.state is not State.CLOSED:
            self._move(Event.ABORT)
            events.append(Closed(ABNORMAL))
        return events

    def accept(self) -> None:
        """Complete the handshake (101 Switching Protocols)."""
        self._move(Event.ACCEPT)
        assert isinstance(self._ws, WSConnection)
        self._out += self._ws.send(AcceptConnection())
        assert self._ws.connection is not None
        self._ws = self._ws.connection  # the handshake's h11 state and request go

    def reject(self, status: int = 403) -> None:
        """Refuse the handshake with an HTTP ``status``."""
        self._move(Event.REJECT)
        self._out += self._ws.send(RejectConnection(status_code=status, headers=[(b"content-length", b"0")]))

    def send(self, data: str | bytes) -> None:
        """Send one message (ignored once the connection is closing)."""
        if self.state is State.OPEN:
            self._out += self._ws.send(TextMessage(data) if isinstance(data, str) else BytesMessage(data))
        elif self.state is not State.CLOSING and self.state is not State.CLOSED:
            raise IllegalTransition(f"cannot send a message in state {self.state}")

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Start a clean close with ``code``; the peer's answer completes it."""
        opened = self.state is State.OPEN
        self._move(Event.CLOSE)
        if opened:
            self._out += self._ws.send(CloseConnection(code=code, reason=reason or None))

    def ping(self) -> None:
        """Send a ping (keepalive); wsproto answers the peer's pings by itself."""
        if self.state is State.OPEN:
            self._out += self._ws.send(Ping())

    def data_to_send(self) -> bytes:
        """Bytes to write to the socket now."""
        out, self._out = bytes(self._out), bytearray()
        return out

    # -- internals -------------------------------------------------------------------

    def _move(self, event: Event) -> None:
        try:
            self.state = _TRANSITIONS[(self.state, event)]
        except KeyError:
            raise IllegalTransition(f"{event.value!r} is not allowed in state {self.state}") from None

    def _handle(self, event: object, events: list[SessionEvent]) -> None:
        if isinstance(event, Request):
            self._move(Event.REQUEST)
            events.append(_handshake_request(event))
        elif isinstance(event, (TextMessage, BytesMessage)):
            self._collect(event, events)
        elif isinstance(event, Ping):
            if self._ws.state is ConnectionState.OPEN:  # not once our close is sent (RFC 6455, 5.5.1)
                self._out += self._ws.send(event.response())
        elif isinstance(event, CloseConnection):
            if self._ws.state is ConnectionState.REMOTE_CLOSING:
                self._out += self._ws.send(event.response())  # echo the peer's close (RFC 6455, 5.5.1)
            elif self._ws.state is ConnectionState.OPEN:
                # wsproto reports a frame it cannot parse (bad UTF-8, a protocol error) as a
                # close from the peer; the peer sent none, so tell it why we close.
                self._out += self._ws.send(CloseConnection(code=event.code))
            self._move(Event.PEER_CLOSE)
            events.append(Closed(event.code, event.reason or ""))

    def _collect(self, event: TextMessage | BytesMessage, events: list[SessionEvent]) -> None:
        if self.state is not State.OPEN:
            return  # closing: discard until the peer's close frame
        self._size += len(event.data)
        if self._size > self.max_message_size:
            self._parts.clear()
            self._size = 0
            self.close(TOO_BIG, "message too big")
            return
        self._parts.append(event.data if isinstance(event.data, str) else bytes(event.data))
        if event.message_finished:
            if isinstance(event, TextMessage):
                events.append(MessageReceived("".join(self._parts)))  # type: ignore[arg-type]
            else:
                events.append(MessageReceived(b"".join(self._parts)))  # type: ignore[arg-type]
            self._parts.clear()
            self._size = 0

    def _fail(self, error: RemoteProtocolError) -> list[SessionEvent]:
        """The peer broke the protocol: answer as wsproto suggests (a 400, or a close with
        1002/1007) and end the connection."""
        hint = error.event_hint
        try:
            if hint is not None:
                self._out += self._ws.send(hint)
        except LocalProtocolError:
            pass  # wsproto cannot send in its state; the socket is closed anyway
        code = hint.code if isinstance(hint, CloseConnection) else PROTOCOL_ERROR
        self._move(Event.ABORT)
        return [Closed(code, str(error))]


def _handshake_request(request: Request) -> HandshakeRequest:
    target = urlsplit(request.target)
    headers = [(bytes(name).lower(), bytes(value)) for name, value in request.extra_headers]
    origin = next((value.decode("latin-1") for name, value in headers if name == b"origin"), None)
    return HandshakeRequest(target.path, target.query.encode("latin-1"), headers, origin)
