"""An HTTP request served by an ``http.request`` consumer over the channel layer (ASGI 1).

The request becomes one ``http.request`` message with an ``http.response!`` reply
channel. Any worker or task may answer on it, so a consumer can hold a long poll (for
instance by adding the reply channel to a group) and complete it later. The response
arrives as ``{"status", "headers", "content", "more_content"}`` and then, while
``more_content`` is true, ``{"content", "more_content"}`` chunks. A client that leaves
before the end produces ``http.disconnect``.
"""

from __future__ import annotations

import logging
import socket
from typing import Any
from urllib.parse import unquote

import gevent
from gevent.queue import Empty, Queue

from realtime.exceptions import ChannelFull, RealtimeError

from .endpoint import Peer, Services
from .http import ClientGone, HttpStream, read_whole_body
from .http_head import RequestHead

__all__ = ["ChannelRequest", "InvalidResponse", "request_message", "response_head"]

logger = logging.getLogger(__name__)

_GONE = object()  # queued when the client closes the connection


class InvalidResponse(ValueError):
    """A response message the gateway cannot send (a consumer's mistake)."""


def request_message(
    reply_channel: str,
    head: RequestHead,
    body: bytes,
    client: tuple[str, int],
    server: tuple[str, int],
    scheme: str = "http",
) -> dict[str, Any]:
    """The ``http.request`` message (ASGI 1) for a request with a complete ``body``."""
    path, _, query = head.target.partition("?")
    return {
        "reply_channel": reply_channel,
        "http_version": head.http_version,
        "method": head.method,
        "scheme": scheme,
        "path": unquote(path),
        "query_string": query.encode("latin-1"),
        "root_path": "",
        "headers": [[name, value] for name, value in head.headers],
        "body": body,
        "client": list(client),
        "server": list(server),
    }


def response_head(content: dict[str, Any]) -> tuple[int, list[tuple[bytes, bytes]]]:
    """Status and headers of the first response message.

    Raises:
        InvalidResponse: a missing or wrong ``status``, or malformed ``headers``.
    """
    status = content.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise InvalidResponse(f"the first response message needs an int 'status', got {status!r}")
    headers = []
    for pair in content.get("headers", []):
        if len(pair) != 2:
            raise InvalidResponse(f"a header is a [name, value] pair, not {pair!r}")
        name, value = (item.encode("latin-1") if isinstance(item, str) else item for item in pair)
        if not isinstance(name, bytes) or not isinstance(value, bytes):
            raise InvalidResponse(f"header names and values are bytes or str, not {pair!r}")
        headers.append((name, value))
    return status, headers


def _content(message: dict[str, Any]) -> bytes:
    content = message.get("content", b"")
    if isinstance(content, str):
        return content.encode("utf-8")
    if not isinstance(content, bytes):
        raise InvalidResponse(f"'content' must be bytes, not {type(content).__name__}")
    return content


class ChannelRequest:
    """One request answered by consumers: publish it, then stream the reply channel out."""

    def __init__(self, stream: HttpStream, head: RequestHead, peer: Peer, services: Services) -> None:
        self.stream = stream
        self.head = head
        self.peer = peer
        self.config = services.config
        self.layer = services.layer
        self._register = services.register
        self._replies: Queue = Queue()
        #: The status sent to the client, for the access log.
        self.status = 0

    def serve(self) -> bool:
        """Answer the request; True if the connection may carry another one.

        Raises:
            ClientGone: the client left (its consumers were told with ``http.disconnect``).
        """
        body = read_whole_body(self.stream, self.config.max_message_size)
        if body is None:
            return self._refuse(413, "request body too large")
        reply_channel = self.layer.new_channel("http.response")
        self._register(reply_channel, self)
        watcher = gevent.spawn(self._watch_client)
        try:
            message = request_message(
                reply_channel, self.head, body, self.peer.client, self.peer.server, self.peer.scheme
            )
            if not self._publish("http.request", message):
                return self._refuse(503, "the server is busy; try again later")
            return self._respond()
        except ClientGone:
            self._publish("http.disconnect", {"reply_channel": reply_channel, "path": message["path"]})
            raise
        finally:
            watcher.kill()
            self._register(reply_channel, None)

    def deliver(self, content: dict[str, Any]) -> None:
        """A message on the reply channel (called from the inbox greenlet; never blocks)."""
        if self._replies.qsize() >= self.config.send_queue:
            logger.warning("response chunks for %s arrive faster than the client reads; dropped", self.head.target)
            self._replies.put(_GONE)
        else:
            self._replies.put(content)

    def processed(self, order: int) -> None:
        """Processed notices do not concern HTTP requests."""

    def _respond(self) -> bool:
        first = True
        while True:
            message = self._next_reply()
            if message is None:
                return self._refuse(504, "no response from the application in time") if first else False
            try:
                if first:
                    self.status, headers = response_head(message)
                    content = _content(message)
                    self.stream.start_response(self.status, headers)
                    first = False
                else:
                    content = _content(message)
            except InvalidResponse as error:
                logger.error("invalid response message for %s: %s", self.head.target, error)
                return self._refuse(500, "invalid response from the application") if first else False
            self.stream.write(content)
            if not message.get("more_content", False):
                return self.stream.end_response()

    def _next_reply(self) -> dict[str, Any] | None:
        try:
            message = self._replies.get(timeout=self.config.http_response_timeout)
        except Empty:
            return None
        if message is _GONE:
            raise ClientGone()
        return message

    def _publish(self, channel: str, content: dict[str, Any]) -> bool:
        try:
            self.layer.send(channel, content)
            return True
        except ChannelFull:
            logger.warning("%s is full; %s %s answered 503", channel, self.head.method, self.head.target)
        except RealtimeError:
            logger.exception("could not publish %s for %s", channel, self.head.target)
        return False

    def _refuse(self, status: int, reason: str) -> bool:
        self.status = status
        self.stream.refuse(status, reason)
        return False

    def _watch_client(self) -> None:
        """Notice a client that closes while its response is pending."""
        while True:
            try:
                data = self.stream.sock.recv(1, socket.MSG_PEEK)
            except TimeoutError:
                continue
            except OSError:
                data = b""
            if not data:
                self._replies.put(_GONE)
            return  # data: a pipelined request; it stays in the socket for later
