"""Is a WebSocket handshake's ``Origin`` allowed? (pure; Django Channels' origin rules).

Patterns, as in Channels' ``OriginValidator``:

* ``"*"`` allows every origin, also a missing one;
* ``"https://example.com"`` or ``"http://example.com:8080"``: that scheme, host and port
  (default ports filled in: 80 for http/ws, 443 for https/wss);
* ``"example.com"``: that host, any scheme and port; ``".example.com"``: that domain and
  its subdomains (Django's ``ALLOWED_HOSTS`` syntax). ``"*.example.com"`` is not a pattern
  (it matches nothing), as in Django.

A missing ``Origin`` header, or ``Origin: null``, is refused unless ``"*"`` is allowed:
browsers always send one, and a page that hides it (sandboxed frames, ``file:``) must
not reach the application unnoticed.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import SplitResult, urlsplit

from django.utils.http import is_same_domain

__all__ = ["OriginPolicy", "allowed_hosts_patterns"]

_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}
# What Django allows when DEBUG is on and ALLOWED_HOSTS is empty.
_DEBUG_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def allowed_hosts_patterns(allowed_hosts: Iterable[str], debug: bool) -> tuple[str, ...]:
    """The origin patterns that ``ALLOWED_HOSTS`` implies (Channels' AllowedHostsOriginValidator)."""
    hosts = tuple(allowed_hosts)
    return _DEBUG_HOSTS if debug and not hosts else hosts


class OriginPolicy:
    """Decides on ``Origin`` header values against a fixed list of patterns."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(pattern.lower() for pattern in patterns)
        self._allow_all = "*" in self.patterns

    def allows(self, origin: str | None) -> bool:
        """True if a handshake with this ``Origin`` value (``None``: no header) may proceed."""
        if self._allow_all:
            return True
        if origin is None:
            return False
        try:
            parsed = urlsplit(origin.strip().lower())
            hostname = parsed.hostname
            port = _port(parsed)
        except ValueError:  # a malformed port or IPv6 literal
            return False
        if not hostname:  # "null", or not a URL at all
            return False
        return any(self._matches(parsed.scheme, hostname, port, pattern) for pattern in self.patterns)

    @staticmethod
    def _matches(scheme: str, hostname: str, port: int | None, pattern: str) -> bool:
        if "://" not in pattern:
            # A bare host or ".domain": any scheme and port, like ALLOWED_HOSTS.
            pattern_host = urlsplit("//" + pattern).hostname or pattern
            return is_same_domain(hostname, pattern_host)
        parsed_pattern = urlsplit(pattern)
        return (
            parsed_pattern.hostname is not None
            and parsed_pattern.scheme == scheme
            and _port(parsed_pattern) == port
            and is_same_domain(hostname, parsed_pattern.hostname)
        )


def _port(parsed: SplitResult) -> int | None:
    return parsed.port or _DEFAULT_PORTS.get(parsed.scheme)
