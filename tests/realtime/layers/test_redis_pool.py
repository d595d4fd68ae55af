"""More concurrent calls than the Redis pool holds wait for a connection, never fail."""

from __future__ import annotations

import secrets
import threading

from realtime.layers.config import LayerConfig
from realtime.layers.core import SyncChannelLayer

from ...brokers import REDIS_URL, require


def test_a_burst_wider_than_the_pool_waits_for_connections() -> None:
    require(REDIS_URL)
    layer = SyncChannelLayer(LayerConfig(url=REDIS_URL, prefix=f"t{secrets.token_hex(4)}", options={"pool_limit": 2}))
    errors: list[BaseException] = []

    def send(number: int) -> None:
        try:
            for _ in range(20):
                layer.send("burst", {"n": number})
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(20)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert errors == []
        received = sum(1 for _ in iter(lambda: layer.receive("burst", timeout=0), None))
        assert received == 400
    finally:
        layer.flush()
        layer.close()
