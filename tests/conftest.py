"""Shared fixtures: a channel layer per transport, with a private namespace per test."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from realtime.layers.config import LayerConfig
from realtime.layers.core import SyncChannelLayer

from .brokers import TRANSPORT_URLS, require

LayerFactory = Callable[..., SyncChannelLayer]


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
