"""Shared fixtures: a channel layer per transport, with a private namespace per test."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from realtime.layers.config import LayerConfig
from realtime.layers.core import SyncChannelLayer

from .brokers import BROKERS_REQUIRED, TRANSPORT_URLS, PrivateBroker, PrivateRabbitMQ, PrivateRedis, require

LayerFactory = Callable[..., SyncChannelLayer]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", help="also run the tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` are skipped unless ``--slow`` is given."""
    if config.getoption("--slow"):
        return
    skip_slow = pytest.mark.skip(reason="slow; run with --slow")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip_slow)


@pytest.fixture(params=sorted(TRANSPORT_URLS))
def transport_name(request: pytest.FixtureRequest) -> str:
    """Each contract test runs once per transport: amqp, memory, redis."""
    name: str = request.param
    require(TRANSPORT_URLS[name])
    return name


@pytest.fixture
def base_config(transport_name: str) -> LayerConfig:
    """A config on ``transport_name`` whose broker objects are private to this test."""
    return LayerConfig(url=TRANSPORT_URLS[transport_name], prefix=f"t{secrets.token_hex(4)}", owner_timeout=1.0)


@pytest.fixture
def make_layer(base_config: LayerConfig) -> Iterator[LayerFactory]:
    """Build layers (each a separate "process": own owner id and connections) sharing one
    namespace; all are flushed and closed after the test."""
    layers: list[SyncChannelLayer] = []

    def make(**overrides: Any) -> SyncChannelLayer:
        layer = SyncChannelLayer(replace(base_config, **overrides))
        layers.append(layer)
        return layer

    yield make
    for layer in layers:
        layer.flush()  # on RabbitMQ each layer deletes what it declared
        layer.close()


@pytest.fixture
def layer(make_layer: LayerFactory) -> SyncChannelLayer:
    return make_layer()


PRIVATE_BROKERS = {"amqp": ("rabbitmq-server", PrivateRabbitMQ), "redis": ("redis-server", PrivateRedis)}


def _run_private_broker(name: str, tmp_path: Path) -> Iterator[PrivateBroker]:
    program, kind = PRIVATE_BROKERS[name]
    if shutil.which(program) is None:
        if BROKERS_REQUIRED:
            pytest.fail(f"{program} is not installed (REALTIME_REQUIRE_BROKERS=1)", pytrace=False)
        pytest.skip(f"{program} is not installed")
    broker = kind(tmp_path)
    broker.start()
    try:
        yield broker
    finally:
        broker.close()


@pytest.fixture(params=sorted(PRIVATE_BROKERS))
def private_broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PrivateBroker]:
    """A RabbitMQ node, then a Redis server, of the test's own: it may kill and restart them."""
    yield from _run_private_broker(request.param, tmp_path)


@pytest.fixture
def private_rabbitmq(tmp_path: Path) -> Iterator[PrivateBroker]:
    """A RabbitMQ node of the test's own: it may kill, pause and restart it."""
    yield from _run_private_broker("amqp", tmp_path)
