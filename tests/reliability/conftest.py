"""The reliability suite (RELIABILITY.md, T1-T19): each test writes its figures as JSON."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

RESULTS = Path(__file__).resolve().parent / "results"

Record = Callable[..., None]


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Iterator[Record]:
    """``record(**figures)`` adds figures to ``results/<test id>.json`` (written at the end)."""
    figures: dict[str, Any] = {"test": request.node.nodeid, "started": time.time()}

    def add(**values: Any) -> None:
        figures.update(values)

    yield add
    figures["seconds"] = round(time.time() - figures["started"], 3)
    RESULTS.mkdir(exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=1, default=str))


def scrape(url: str) -> dict[str, float]:
    """A gateway's /metrics as ``{'name{labels}': value}``."""
    import urllib.request

    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples = (line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {name: float(value) for name, value in samples}
