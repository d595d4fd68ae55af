"""Where the test brokers are, and whether they must be there.

Tests that need RabbitMQ or Redis skip, clearly reported, when the broker is
unreachable; with ``REALTIME_REQUIRE_BROKERS=1`` (set by ``.ci/run``) they fail instead.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

AMQP_URL = os.environ.get("REALTIME_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
REDIS_URL = os.environ.get("REALTIME_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BROKERS_REQUIRED = os.environ.get("REALTIME_REQUIRE_BROKERS") == "1"

TRANSPORT_URLS = {"memory": "memory://tests", "amqp": AMQP_URL, "redis": REDIS_URL}


def reachable(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "memory":
        return True
    port = parts.port or {"amqp": 5672, "redis": 6379}[parts.scheme]
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def require(url: str) -> None:
    """Skip (or, when brokers are required, fail) unless the broker at ``url`` answers."""
    if reachable(url):
        return
    message = f"broker not reachable at {url}"
    if BROKERS_REQUIRED:
        pytest.fail(f"{message} (REALTIME_REQUIRE_BROKERS=1)", pytrace=False)
    pytest.skip(message)
