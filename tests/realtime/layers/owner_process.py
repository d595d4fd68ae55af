"""A separate process that owns reply channels, for cross-process layer tests.

Usage: ``python -m tests.realtime.layers.owner_process URL PREFIX COUNT``. Prints one JSON
line ``{"channels": [...]}``, then one line ``{"channel": ..., "message": ...}`` per
message it receives on those channels, until killed.
"""

from __future__ import annotations

import json
import sys

from realtime.layers.config import LayerConfig
from realtime.layers.core import SyncChannelLayer


def main(url: str, prefix: str, count: int) -> None:
    layer = SyncChannelLayer(LayerConfig(url=url, prefix=prefix, owner_timeout=1.0))
    channels = [layer.new_channel("websocket.send") for _ in range(count)]
    print(json.dumps({"channels": channels}), flush=True)
    while True:
        for channel in channels:
            message = layer.receive(channel, timeout=0.02)
            if message is not None:
                print(json.dumps({"channel": channel, "message": message}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
