"""X-Forwarded-For / -Proto from trusted proxies only."""

import pytest

from bridge.forwarded import forwarded
from bridge.http_head import parse_request_head


def head(*headers: str) -> object:
    raw = "GET / HTTP/1.1\r\nHost: a\r\n" + "".join(f"{h}\r\n" for h in headers) + "\r\n"
    return parse_request_head(raw.encode(), 100)


PROXY = ("10.0.0.1", 50000)


@pytest.mark.parametrize(
    ("client", "headers", "trusted", "expected"),
    [
        (
            PROXY,
            ["X-Forwarded-For: 203.0.113.7", "X-Forwarded-Proto: https"],
            ["10.0.0.1"],
            (("203.0.113.7", 0), "https"),
        ),
        (
            ("198.51.100.9", 1),
            ["X-Forwarded-For: 203.0.113.7", "X-Forwarded-Proto: https"],
            ["10.0.0.1"],
            (("198.51.100.9", 1), "http"),
        ),  # not a trusted proxy: ignored
        (PROXY, ["X-Forwarded-For: 203.0.113.7"], [], (PROXY, "http")),  # nobody trusted by default
        (
            PROXY,
            ["X-Forwarded-For: 1.2.3.4, 203.0.113.7, 10.0.0.2"],
            ["10.0.0.1", "10.0.0.2"],
            (("203.0.113.7", 0), "http"),
        ),  # the client claims 1.2.3.4; the last untrusted hop is the truth
        (PROXY, ["X-Forwarded-Proto: wss"], ["*"], (PROXY, "https")),
        (PROXY, [], ["10.0.0.1"], (PROXY, "http")),
    ],
)
def test_forwarded(client: tuple, headers: list[str], trusted: list[str], expected: tuple) -> None:
    assert forwarded(client, head(*headers), trusted) == expected  # type: ignore[arg-type]
