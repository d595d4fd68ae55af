"""The layer works in a gevent monkey-patched process (the gateway's), on every broker."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_layer_under_gevent(base_config) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.realtime.layers.gevent_owner", base_config.url, f"g{secrets.token_hex(4)}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["received"] == [{"text": "to greenlets"}] * 50
    assert report["ticks"] == 20  # the hub kept running while greenlets waited on the broker
    assert report["normal"] == {"n": 1}
