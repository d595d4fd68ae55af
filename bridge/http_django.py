"""An HTTP request served by the project's Django views, in the gateway's process (WSGI).

No broker hop: plain Django stays as fast as under any WSGI server. The response is
streamed as the application yields it, and ``close()`` is always called on it, so
Django's ``request_finished`` fires and database connections are returned.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from typing import Any

from .endpoint import Peer
from .http import HttpStream, RequestBody, read_whole_body
from .http_head import RequestHead
from .wsgi import status_line, wsgi_environ

__all__ = ["WSGIApp", "serve_wsgi"]

logger = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _Response:
    """What the application passed to ``start_response``; sent with the first body bytes."""

    def __init__(self, stream: HttpStream) -> None:
        self.stream = stream
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.reason = b""
        self.sent = False

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., None]:
        if exc_info is not None and self.sent:
            raise exc_info[1].with_traceback(exc_info[2])
        self.status, self.reason = status_line(status)
        # Django's Set-Cookie values start with a space (SimpleCookie's output); h11 rightly
        # refuses surrounding whitespace, which WSGI servers strip.
        self.headers = [(name.encode("latin-1"), value.strip().encode("latin-1")) for name, value in headers]
        return self.write

    def set_length(self, length: int) -> None:
        if not any(name.lower() == b"content-length" for name, _ in self.headers):
            self.headers.append((b"content-length", b"%d" % length))

    def write(self, data: bytes) -> None:
        if not self.sent:
            self.stream.start_response(self.status, self.headers, self.reason)
            self.sent = True
        self.stream.write(data)


def serve_wsgi(
    stream: HttpStream,
    head: RequestHead,
    app: WSGIApp,
    peer: Peer,
    max_buffered_body: int,
) -> tuple[int, bool]:
    """Run ``app`` for the request; returns the status sent and whether the connection may
    carry another request."""
    if head.header(b"transfer-encoding") is None:
        environ = wsgi_environ(head, io.BufferedReader(RequestBody(stream)), peer.client, peer.server, peer.scheme)
    else:  # chunked: Django reads no more than CONTENT_LENGTH, so read the body first
        body = read_whole_body(stream, max_buffered_body)
        if body is None:
            stream.refuse(413, "request body too large")
            return 413, False
        environ = wsgi_environ(head, io.BytesIO(body), peer.client, peer.server, peer.scheme)
        environ["CONTENT_LENGTH"] = str(len(body))
    response = _Response(stream)
    try:
        result = app(environ, response.start_response)
    except Exception:
        logger.exception("the WSGI application failed on %s %s", head.method, head.target)
        stream.refuse(500)
        return 500, False
    try:
        if getattr(result, "streaming", None) is False or (isinstance(result, (list, tuple)) and len(result) <= 1):
            # A body known in full (Django's non-streaming responses say so): Content-Length,
            # not chunked encoding.
            body = b"".join(result)
            response.set_length(len(body))
            response.write(body)
        else:
            for chunk in result:
                if chunk:
                    response.write(chunk)
            if not response.sent:
                response.write(b"")
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return response.status, stream.end_response()
