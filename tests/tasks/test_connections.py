"""The channel layer sends over the Celery app's pooled connections to the same broker."""

from __future__ import annotations

import secrets

import pytest
from celery import Celery

import tasks
from realtime.layers.config import LayerConfig
from realtime.layers.core import SyncChannelLayer
from realtime.layers.transports import amqp_links
from tasks.connections import same_amqp_broker

from ..brokers import AMQP_URL, require


@pytest.fixture
def no_shared_pools(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(amqp_links, "_providers", [])


def test_same_broker_is_host_port_vhost_and_user() -> None:
    app = Celery("t", broker="amqp://guest:guest@127.0.0.1:5672//", set_as_current=False)
    assert same_amqp_broker(app, "amqp://guest:guest@127.0.0.1:5672//")
    assert same_amqp_broker(app, "pyamqp://guest:guest@127.0.0.1//")
    assert not same_amqp_broker(app, "amqp://guest:guest@127.0.0.1:5673//")
    assert not same_amqp_broker(app, "amqp://guest:guest@127.0.0.1:5672/other")
    assert not same_amqp_broker(app, "redis://127.0.0.1:6379/0")
    assert not same_amqp_broker(Celery("r", broker="redis://127.0.0.1:6379/0", set_as_current=False), AMQP_URL)


@pytest.mark.usefixtures("no_shared_pools")
def test_layer_uses_the_celery_pool_after_install() -> None:
    require(AMQP_URL)
    app = Celery("shared", broker=AMQP_URL, set_as_current=False)
    tasks.install(app)
    layer = SyncChannelLayer(LayerConfig(url=AMQP_URL, prefix=f"s{secrets.token_hex(4)}"))
    try:
        assert isinstance(layer.transport._links, amqp_links.SharedLinks)
        reply = layer.new_channel()
        layer.group_add("shared", reply)
        layer.send("shared.channel", {"n": 1})
        layer.group_send("shared", {"n": 2})
        assert layer.receive("shared.channel", timeout=5) == {"n": 1}
        assert layer.receive(reply, timeout=5) == {"n": 2}
        borrowed = list(layer.transport._links._links.values())
        assert borrowed and all(link.connection.connected for link in borrowed)
        # The connections went back to Celery's pool: it hands them out again.
        with app.pool.acquire(block=True, timeout=5) as connection:
            assert any(link.connection is connection for link in borrowed)
    finally:
        layer.flush()
        layer.close()
        app.close()


@pytest.mark.usefixtures("no_shared_pools")
def test_other_brokers_keep_the_layers_own_pool() -> None:
    app = Celery("other", broker="amqp://guest:guest@127.0.0.1:5999//", set_as_current=False)
    tasks.install(app)
    layer = SyncChannelLayer(LayerConfig(url=AMQP_URL, prefix="unused"))
    assert type(layer.transport._links) is amqp_links.Links
    layer.close()
