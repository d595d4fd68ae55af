"""Strict request-head validation against the smuggling corpus of RELIABILITY.md (T6)."""

from __future__ import annotations

import pytest

from bridge.http_head import HeadError, RequestHead, find_head_end, parse_request_head

OK = b"GET /chat/?a=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n"


def head(*lines: bytes) -> bytes:
    return b"\r\n".join([b"POST / HTTP/1.1", b"Host: example.com", *lines]) + b"\r\n\r\n"


def test_a_good_head_parses() -> None:
    parsed = parse_request_head(OK, max_headers=100)
    assert parsed == RequestHead(
        "GET",
        "/chat/?a=1",
        "1.1",
        [(b"host", b"example.com"), (b"upgrade", b"websocket"), (b"connection", b"keep-alive, Upgrade")],
    )
    assert parsed.is_websocket_upgrade
    assert not parse_request_head(head(b"Content-Length: 0"), 100).is_websocket_upgrade
    assert parse_request_head(head(b"X-Tab: a\tb"), 100).header(b"x-tab") == b"a\tb"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (head(b"Content-Length: 4", b"Transfer-Encoding: chunked"), 400),  # smuggling: CL + TE
        (head(b"Content-Length: 5", b"Content-Length: 30"), 400),  # conflicting CL
        (head(b"Transfer-Encoding: chunked, identity", b"Content-Length: 5"), 501),
        (head(b"Transfer-Encoding: chunked, identity"), 501),
        (head(b"Content-Length : 5"), 400),  # space before the colon
        (head(b"Content-Length: +5"), 400),
        (head(b"Content-Length: 1_0"), 400),
        (head(b"Transfer-Encoding:", b" chunked"), 400),  # obs-fold
        (head(b"X-No-Colon"), 400),
        (head(b"X-Padding: innocent\rX-Secret-Auth: admin"), 400),  # bare CR
        # the daphne CVE-2026-44546 bytes (str.splitlines breaks lines at them), and NUL, DEL
        *[(head(b"X-Bad: a" + bytes([byte]) + b"b"), 400) for byte in b"\x0b\x0c\x1c\x1d\x1e\x85\x00\x7f"],
        (head(b"Host: other.example.com"), 400),  # two Host headers
        (b"GET / HTTP/1.1\r\n\r\n", 400),  # HTTP/1.1 without Host
        (b"GARBAGE\r\n\r\n", 400),
    ],
)
def test_smuggling_corpus_is_refused(raw: bytes, status: int) -> None:
    with pytest.raises(HeadError) as error:
        parse_request_head(raw, max_headers=100)
    assert error.value.status == status


def test_too_many_headers() -> None:
    raw = head(*[f"X-{n}: v".encode() for n in range(101)])
    with pytest.raises(HeadError) as error:
        parse_request_head(raw, max_headers=100)
    assert error.value.status == 431


def test_finding_the_end_of_a_head_within_limits() -> None:
    assert find_head_end(OK[:20], 16 * 1024) is None
    assert find_head_end(OK + b"extra", 16 * 1024) == len(OK)
    with pytest.raises(HeadError) as error:
        find_head_end(b"GET /" + b"a" * 10_000, 64 * 1024)
    assert error.value.status == 414
    with pytest.raises(HeadError) as error:
        find_head_end(b"GET / HTTP/1.1\r\n" + b"X: " + b"v" * 70_000, 16 * 1024)
    assert error.value.status == 431
    with pytest.raises(HeadError) as error:
        find_head_end(OK, len(OK) - 1)
    assert error.value.status == 431
