"""Origin checks: the matrix of Django Channels' origin validator tests (RELIABILITY.md, T16)."""

import pytest

from bridge.origin import OriginPolicy, allowed_hosts_patterns


@pytest.mark.parametrize(
    ("patterns", "origin", "allowed"),
    [
        (["http://example.com"], "http://example.com", True),
        (["http://example.com"], "http://example.com:80", True),
        (["http://example.com"], "https://example.com", False),
        (["http://example.com"], "http://example.com:8080", False),
        (["http://example.com"], "http://sub.example.com", False),
        (["https://example.com:8443"], "https://example.com:8443", True),
        (["https://example.com:8443"], "https://example.com", False),
        (["example.com"], "https://example.com:4443", True),
        (["example.com"], "http://example.com", True),
        (["example.com"], "http://evil-example.com", False),
        ([".example.com"], "https://a.b.example.com", True),
        ([".example.com"], "https://example.com", True),
        ([".example.com"], "https://example.com.evil.org", False),
        (["*.example.com"], "https://a.example.com", False),  # not a Django pattern
        (["*"], "https://anything.org", True),
        (["*"], None, True),
        (["*"], "null", True),
        (["example.com"], None, False),
        (["example.com"], "null", False),
        (["example.com"], "", False),
        (["example.com"], "not a url", False),
        (["example.com"], "http://example.com:notaport", False),
        (["EXAMPLE.com"], "http://Example.COM", True),
        (["http://[::1]:8000"], "http://[::1]:8000", True),
        (["[::1]"], "http://[::1]:8000", True),
        ([], "http://example.com", False),
    ],
)
def test_origin_matrix(patterns: list[str], origin: str | None, allowed: bool) -> None:
    assert OriginPolicy(patterns).allows(origin) is allowed


def test_allowed_hosts_become_patterns_with_django_debug_defaults() -> None:
    assert allowed_hosts_patterns([], debug=True) == ("localhost", "127.0.0.1", "[::1]")
    assert allowed_hosts_patterns([], debug=False) == ()
    assert allowed_hosts_patterns(["example.com"], debug=True) == ("example.com",)
    policy = OriginPolicy(allowed_hosts_patterns([], debug=True))
    assert policy.allows("http://localhost:8000") and not policy.allows("http://evil.com")
