"""The worker's metrics, served in the Prometheus text format when
``REALTIME_WORKER_METRICS = "127.0.0.1:9108"`` (host:port) is set.

Counts are kept in the worker's main process, where its reader takes channel messages;
the outcome of each consumer run (success, failure, retry, run time) is a Celery task
event, which Flower and Celery's own exporters already show.
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from realtime.metrics import Registry

__all__ = ["MetricsServer", "worker_registry"]

logger = logging.getLogger(__name__)


def worker_registry() -> Registry:
    """A registry with every worker metric declared."""
    registry = Registry()
    registry.counter("realtime_worker_messages_total", "Channel messages taken, by channel.")
    registry.counter("realtime_worker_unrouted_total", "Messages dropped for want of a route, by channel.")
    registry.counter("realtime_worker_runs_total", "Consumer runs ended (any outcome), by consumer.")
    registry.counter("realtime_worker_handoff_failures_total", "Messages that could not be handed to the pool.")
    return registry


class MetricsServer:
    """Serves a registry at ``GET /metrics`` from a daemon thread."""

    def __init__(self, registry: Registry, address: str) -> None:
        host, _, port = address.rpartition(":")
        registry_ = registry

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/metrics":
                    self.send_error(404)
                    return
                body = registry_.render().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # scrapes are not worth a log line each

        self._server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="realtime-metrics", daemon=True)

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()
        logger.info("realtime: worker metrics on http://%s/metrics", self.address)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
