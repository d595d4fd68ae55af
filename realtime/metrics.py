"""Counters and gauges in the Prometheus text format (pure; no client library needed).

The gateway serves its registry at ``/metrics``; a worker serves its own when
``REALTIME_WORKER_METRICS_PORT`` is set. Names follow Prometheus conventions: counters end
in ``_total``, labels are sorted.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable

__all__ = ["Registry"]

Labels = tuple[tuple[str, str], ...]


def _labels(labels: dict[str, object]) -> Labels:
    return tuple(sorted((key, str(value)) for key, value in labels.items()))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Registry:
    """Named counters (incremented) and gauges (read when rendered)."""

    def __init__(self) -> None:
        self._help: dict[str, tuple[str, str]] = {}  # name -> (type, help)
        self._counters: dict[str, Counter[Labels]] = {}
        self._gauges: dict[str, Callable[[], Iterable[tuple[dict[str, object], float]]]] = {}
        self._lock = threading.Lock()

    def counter(self, name: str, help: str) -> None:
        """Declare a counter (it renders as 0 until incremented)."""
        self._help[name] = ("counter", help)
        self._counters.setdefault(name, Counter())

    def gauge(
        self,
        name: str,
        help: str,
        read: Callable[[], Iterable[tuple[dict[str, object], float]]],
        kind: str = "gauge",
    ) -> None:
        """Declare a metric whose ``(labels, value)`` samples ``read()`` returns at render time
        (``kind="counter"`` for a count kept elsewhere)."""
        self._help[name] = (kind, help)
        self._gauges[name] = read

    def inc(self, name: str, amount: float = 1, **labels: object) -> None:
        """Add ``amount`` to counter ``name`` for ``labels``."""
        with self._lock:
            self._counters[name][_labels(labels)] += amount  # type: ignore[assignment]

    def value(self, name: str, **labels: object) -> float:
        """A counter's current value (for tests and status lines)."""
        return float(self._counters[name][_labels(labels)])

    def render(self) -> str:
        """Everything, in the Prometheus text exposition format (version 0.0.4)."""
        lines: list[str] = []
        with self._lock:
            counters = {name: dict(samples) for name, samples in self._counters.items()}
        for name, (kind, help) in sorted(self._help.items()):
            lines += [f"# HELP {name} {help}", f"# TYPE {name} {kind}"]
            samples: list[tuple[dict[str, object], float]]
            if name in counters:
                samples = [(dict(labels), value) for labels, value in counters[name].items()] or [({}, 0)]
            else:
                samples = list(self._gauges[name]())
            for labels, value in sorted(samples, key=lambda sample: sorted(sample[0].items())):
                text = ",".join(f'{key}="{_escape(str(val))}"' for key, val in sorted(labels.items()))
                lines.append(f"{name}{{{text}}} {value:g}" if text else f"{name} {value:g}")
        return "\n".join(lines) + "\n"
