r"""Strict validation of an HTTP/1.1 request head (pure).

Every request the gateway serves, plain HTTP or a WebSocket upgrade, passes through
here first. h11 refuses most malformed heads; on top of it this refuses what h11
accepts but a server should not (RELIABILITY.md, "HTTP head inputs"):

* ``Content-Length`` together with ``Transfer-Encoding`` (request smuggling; RFC 9112
  section 6.1 lets a server reject it, and a gateway in front of Django should);
* obsolete line folding (RFC 9112 section 5.2 allows rejecting it; h11 unfolds it);
* more than one ``Host`` header (RFC 9112 section 3.2);
* control bytes in a header line, and ``\x85``: Python's ``str.splitlines`` breaks lines
  at ``\x0b \x0c \x1c \x1d \x1e \x85``, which let headers be smuggled into
  applications that split on it (the daphne CVE-2026-44546 class). ``\x85`` is legal
  ``obs-text`` in RFC 9110, but no legitimate client sends it;
* heads larger than the limits (431), request lines longer than the limit (414).

Every refusal names the status code to answer with; the connection is then closed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import h11

__all__ = ["HeadError", "RequestHead", "find_head_end", "parse_request_head"]

_END = b"\r\n\r\n"
# CTLs other than TAB, DEL, and NEL (see the module docstring).
_FORBIDDEN_BYTES = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f\x85]")
# Longest request line accepted (method, target, version): 8 KiB, as common servers do.
MAX_REQUEST_LINE = 8 * 1024


class HeadError(ValueError):
    """The request head is refused; answer with ``status`` and close."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RequestHead:
    """A validated request head."""

    method: str
    target: str
    http_version: str
    headers: list[tuple[bytes, bytes]]  # names lower-cased, in order

    def header(self, name: bytes) -> bytes | None:
        """The first value of header ``name`` (lower case), or ``None``."""
        return next((value for key, value in self.headers if key == name), None)

    @property
    def is_websocket_upgrade(self) -> bool:
        upgrade = (self.header(b"upgrade") or b"").lower()
        connection = [token.strip() for token in (self.header(b"connection") or b"").lower().split(b",")]
        return upgrade == b"websocket" and b"upgrade" in connection


def find_head_end(buffer: bytes, max_head_bytes: int) -> int | None:
    """The length of the complete head at the start of ``buffer`` (including the blank
    line), or ``None`` if more bytes are needed.

    Raises:
        HeadError: 414 or 431 when the head cannot fit the limits.
    """
    end = buffer.find(_END)
    line_end = buffer.find(b"\r\n")
    if (line_end == -1 and len(buffer) > MAX_REQUEST_LINE) or line_end > MAX_REQUEST_LINE:
        raise HeadError(414, "request line too long")
    if end == -1:
        if len(buffer) > max_head_bytes:
            raise HeadError(431, "request header fields too large")
        return None
    if end + len(_END) > max_head_bytes:
        raise HeadError(431, "request header fields too large")
    return end + len(_END)


def parse_request_head(head: bytes, max_headers: int) -> RequestHead:
    """Validate a complete request head (as found by :func:`find_head_end`).

    Raises:
        HeadError: 400, 431 or 501 with the reason.
    """
    lines = head[: -len(_END)].split(b"\r\n")
    if len(lines) - 1 > max_headers:
        raise HeadError(431, f"more than {max_headers} header fields")
    if any(line[:1] in (b" ", b"\t") for line in lines[1:]):
        raise HeadError(400, "obsolete line folding")
    if any(_FORBIDDEN_BYTES.search(line) for line in lines):
        raise HeadError(400, "control character in the request head")
    connection = h11.Connection(h11.SERVER, max_incomplete_event_size=len(head) + 1)
    connection.receive_data(head)
    try:
        event = connection.next_event()
    except h11.RemoteProtocolError as error:
        status = error.error_status_hint if error.error_status_hint in (400, 414, 431, 501) else 400
        raise HeadError(status, str(error)) from None
    if not isinstance(event, h11.Request):
        raise HeadError(400, "incomplete request head")
    headers = [(bytes(name), bytes(value)) for name, value in event.headers]
    names = [name for name, _ in headers]
    if names.count(b"host") > 1:
        raise HeadError(400, "more than one Host header")
    if b"content-length" in names and b"transfer-encoding" in names:
        raise HeadError(400, "both Content-Length and Transfer-Encoding")
    return RequestHead(
        method=event.method.decode("ascii"),
        target=event.target.decode("ascii"),
        http_version=event.http_version.decode("ascii"),
        headers=headers,
    )
