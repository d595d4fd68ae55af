"""The layer under gevent monkey-patching, as the gateway runs it: prints one JSON line."""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402

from realtime.layers.config import LayerConfig  # noqa: E402
from realtime.layers.core import SyncChannelLayer  # noqa: E402


def main(url: str, prefix: str) -> None:
    layer = SyncChannelLayer(LayerConfig(url=url, prefix=prefix))
    channels = [layer.new_channel("websocket.send") for _ in range(50)]
    for channel in channels:
        layer.group_add("gevent-room", channel)
    # Greenlets receive concurrently while the main greenlet sends: nothing may block the hub.
    receivers = [gevent.spawn(layer.receive, channel, 10) for channel in channels]
    ticks = []
    ticker = gevent.spawn(lambda: [ticks.append(gevent.sleep(0.01)) for _ in range(20)])
    layer.group_send("gevent-room", {"text": "to greenlets"})
    gevent.joinall([*receivers, ticker], timeout=15)
    layer.send("gevent.normal", {"n": 1})
    normal = layer.receive("gevent.normal", timeout=5)
    print(json.dumps({"received": [r.value for r in receivers], "ticks": len(ticks), "normal": normal}))
    layer.flush()
    layer.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
