"""One client connection's HTTP/1.1 bytes: request heads, bodies and responses (I/O).

Every request head is read under a deadline and checked by :mod:`bridge.http_head`
before h11 sees it; a fresh h11 connection then frames that one request's body and its
response, so keep-alive and pipelining never mix two requests' state.
"""

from __future__ import annotations

import io
import random
import socket
import time
from collections.abc import Iterable
from http import HTTPStatus

import h11

from .config import GatewayConfig
from .http_head import HeadError, RequestHead, find_head_end, parse_request_head

__all__ = ["ClientGone", "HttpStream", "RequestBody", "lingering_close", "plain_response", "read_whole_body"]

_READ_SIZE = 65536
# Seconds to wait for the client's end of the connection after ours is closed.
_LINGER = 1.0
# Bytes of an unread request body drained after the response to keep the connection;
# a bigger remainder closes it instead.
_DRAIN_LIMIT = 65536


class ClientGone(Exception):
    """The client closed the connection, or stopped sending in time."""


def plain_response(status: int, body: str = "", *, close: bool = True) -> bytes:
    """A complete text/plain HTTP/1.1 response, for refusals written outside h11."""
    content = (body or HTTPStatus(status).phrase).encode() + b"\n"
    head = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        "Content-Type: text/plain; charset=utf-8",
        f"Content-Length: {len(content)}",
    ]
    if close:
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + content


def lingering_close(sock: socket.socket) -> None:
    """Close our side, then read until the client closes (or ``_LINGER`` passes) before
    releasing the socket: closing with unread bytes makes the kernel send a reset, and a
    reset can destroy the last response or close frame before the client reads it."""
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(_LINGER)
        deadline = time.monotonic() + _LINGER
        while sock.recv(_READ_SIZE) and time.monotonic() < deadline:
            pass
    except OSError:
        pass
    finally:
        sock.close()


class HttpStream:
    """Reads requests from and writes responses to one client socket."""

    def __init__(self, sock: socket.socket, config: GatewayConfig) -> None:
        self.sock = sock
        self.config = config
        self._buffer = b""
        self._h11: h11.Connection | None = None
        self._detached = False
        self._method = ""
        #: Bytes of the response body written so far (for the access log).
        self.sent_bytes = 0

    # -- requests ----------------------------------------------------------------------

    def next_request(self) -> tuple[RequestHead, bytes] | None:
        """The next request's validated head and its raw bytes, or ``None`` when the client
        closed or went quiet between requests.

        Raises:
            HeadError: the head is malformed, too big, or did not arrive in time (408).
        """
        first = not self._buffer
        if first and not self._fill(self.config.keepalive_timeout):
            return None
        # Spread over the last fifth of the timeout: connections opened together (a slowloris
        # burst) would otherwise all time out in the same instant and stall everyone else.
        deadline = time.monotonic() + self.config.header_timeout * random.uniform(0.8, 1.0)
        while (end := find_head_end(self._buffer, self.config.max_header_bytes)) is None:
            if not self._fill(deadline - time.monotonic()):
                raise HeadError(408, "request head not received in time") if self._buffer else ClientGone()
        raw, self._buffer = self._buffer[:end], self._buffer[end:]
        head = parse_request_head(raw, self.config.max_headers)
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=self.config.max_header_bytes)
        self._h11.receive_data(raw)
        event = self._h11.next_event()
        assert isinstance(event, h11.Request), event  # parse_request_head accepted it
        self.sent_bytes = 0
        self._method = head.method
        return head, raw

    def detach(self) -> bytes:
        """Hand the socket over to another protocol (a WebSocket) for good: returns the
        bytes read past the request head (the client's first frames). The stream keeps no
        request state and answers nothing from now on."""
        data, self._buffer = self._buffer, b""
        self._h11 = None
        self._detached = True
        return data

    def read_body(self) -> bytes:
        """The next piece of the current request's body; ``b""`` at its end.

        Raises:
            ClientGone: the client closed or stalled mid-body.
            HeadError: the body's framing is malformed (400).
        """
        connection = self._connection
        while True:
            try:
                event = connection.next_event()
            except h11.RemoteProtocolError as error:
                raise HeadError(400, str(error)) from None
            if isinstance(event, h11.Data):
                return bytes(event.data)
            if isinstance(event, h11.EndOfMessage):
                return b""
            if event is h11.NEED_DATA:
                if not self._buffer and not self._fill(self.config.header_timeout):
                    raise ClientGone()
                data, self._buffer = self._buffer, b""
                connection.receive_data(data)
            else:  # ConnectionClosed before the body ended
                raise ClientGone()

    # -- responses ---------------------------------------------------------------------

    def start_response(self, status: int, headers: Iterable[tuple[bytes, bytes]], reason: bytes = b"") -> None:
        """Send the response head."""
        reason = reason or _phrase(status)
        self._send(h11.Response(status_code=status, headers=list(headers), reason=reason))

    def write(self, data: bytes) -> None:
        """Send part of the response body (nothing for a HEAD request)."""
        if data and self._method != "HEAD":
            self.sent_bytes += len(data)
            self._send(h11.Data(data=data))

    def end_response(self) -> bool:
        """Finish the response; True if the connection may carry another request."""
        connection = self._connection
        self._send(h11.EndOfMessage())
        if connection.their_state is h11.SEND_BODY:
            self._drain_body()
        if connection.our_state is h11.DONE and connection.their_state is h11.DONE:
            self._buffer = bytes(connection.trailing_data[0]) + self._buffer
            return True
        return False

    @property
    def response_started(self) -> bool:
        return self._h11 is not None and self._h11.our_state is not h11.SEND_RESPONSE

    def refuse(self, status: int, reason: str = "") -> None:
        """Answer with an error ``status`` (if no response has started) and end the connection."""
        if not self.response_started and not self._detached:
            try:
                self.sock.sendall(plain_response(status, reason))
            except OSError:
                pass

    # -- internals ---------------------------------------------------------------------

    @property
    def _connection(self) -> h11.Connection:
        assert self._h11 is not None, "no request in progress"
        return self._h11

    def _send(self, event: h11.Event) -> None:
        data = self._connection.send(event)
        if data:
            self.sock.sendall(data)

    def _fill(self, timeout: float) -> bool:
        """Read more bytes into the buffer; False if the client closed or ``timeout`` passed."""
        if timeout <= 0:
            return False
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(_READ_SIZE)
        except (TimeoutError, ConnectionError):
            return False
        self._buffer += data
        return bool(data)

    def _drain_body(self) -> None:
        drained = 0
        while drained <= _DRAIN_LIMIT:
            try:
                data = self.read_body()
            except (ClientGone, HeadError):
                return
            if not data:
                return
            drained += len(data)


def read_whole_body(stream: HttpStream, limit: int) -> bytes | None:
    """The current request's whole body, or ``None`` once it exceeds ``limit`` bytes."""
    parts, size = [], 0
    while chunk := stream.read_body():
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)


def _phrase(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode("latin-1")
    except ValueError:
        return b""


class RequestBody(io.RawIOBase):
    """The current request's body as a file (``wsgi.input``), read on demand."""

    def __init__(self, stream: HttpStream) -> None:
        self._stream = stream
        self._pending = b""
        self._ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending and not self._ended:
            self._pending = self._stream.read_body()
            self._ended = not self._pending
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size
