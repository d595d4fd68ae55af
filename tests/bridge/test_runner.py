"""The gateway process's own set-up."""

from __future__ import annotations

import subprocess
import sys

from ..gateways import ROOT


def test_garbage_collector_is_tuned_for_many_long_lived_sockets() -> None:
    """Full collections at most every 100 middle ones, start-up objects out of them."""
    script = (
        "import gc; from bridge.runner import tune_garbage_collector; "
        "before = gc.get_threshold(); tune_garbage_collector(); "
        "print(before, gc.get_threshold(), gc.get_freeze_count() > 0)"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["(700,", "10,", "10)", "(700,", "10,", "100)", "True"]
