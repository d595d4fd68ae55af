"""The gateway process: accepts connections and hands each to the HTTP or WebSocket side.

One greenlet per connection. The channel layer's inbox greenlet delivers messages for
this gateway's reply channels through :meth:`Gateway.deliver` to the connection that
owns them. SIGTERM and SIGINT start a graceful shutdown: stop accepting, close every
WebSocket with 1001 (each sends its ``websocket.disconnect``), let HTTP requests in
progress finish, and return within ``shutdown_timeout``.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import time
from collections.abc import Sequence
from typing import Any

import gevent
from django.db import connections
from gevent.event import Event
from gevent.server import StreamServer

from realtime.exceptions import RealtimeError
from realtime.layers.core import SyncChannelLayer

from .config import GatewayConfig
from .endpoint import Endpoint, Peer, Services
from .forwarded import forwarded
from .http import ClientGone, HttpStream, lingering_close, plain_response
from .http_consumer import ChannelRequest
from .http_django import WSGIApp, serve_wsgi
from .http_head import HeadError, RequestHead
from .metrics import gateway_registry
from .origin import OriginPolicy
from .ws_connection import GOING_AWAY, WebSocketConnection

__all__ = ["Gateway", "listen"]

logger = logging.getLogger(__name__)
access_log = logging.getLogger("bridge.access")

_PROMETHEUS_TEXT = b"text/plain; version=0.0.4; charset=utf-8"


def listen(address: str, backlog: int) -> socket.socket:
    """A listening socket for ``host:port`` (port 0: any free port) or ``unix:/path``."""
    if address.startswith("unix:"):
        path = address[len("unix:") :]
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        listener.bind(path)
    else:
        host, _, port = address.rpartition(":")
        host = host.strip("[]") or "0.0.0.0"
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, int(port)))
    listener.listen(backlog)
    listener.setblocking(False)
    return listener


class Gateway:
    """Serves HTTP and WebSocket clients on ``listeners`` over ``layer``."""

    def __init__(
        self,
        config: GatewayConfig,
        layer: SyncChannelLayer,
        app: WSGIApp,
        listeners: Sequence[socket.socket],
    ) -> None:
        self.config = config
        self.layer = layer
        self.app = app
        self.metrics = gateway_registry(layer, self._open_connections, lambda: len(self._endpoints))
        self.services = Services(
            config, layer, OriginPolicy(config.allowed_origins or ()), self._register, self.metrics
        )
        self._consumer_paths = [re.compile(pattern) for pattern in config.http_consumer_paths]
        self._servers = [StreamServer(listener, self._handle) for listener in listeners]
        self._endpoints: dict[str, Endpoint] = {}
        self._websockets: set[WebSocketConnection] = set()
        self._idle: set[socket.socket] = set()  # kept-alive HTTP connections between requests
        self._handlers: set[gevent.Greenlet] = set()
        self._stop = Event()
        layer.on_message(self.deliver)
        layer.on_processed(self.processed)

    @property
    def addresses(self) -> list[str]:
        """Where the gateway listens, as ``host:port`` or ``unix:/path``."""
        return [_address_text(server.socket.getsockname()) for server in self._servers]

    # -- running -------------------------------------------------------------------------

    def serve_forever(self) -> None:
        """Serve until SIGTERM / SIGINT (or :meth:`stop`), then shut down gracefully."""
        for server in self._servers:
            server.start()
        for signum in (signal.SIGTERM, signal.SIGINT):
            gevent.signal_handler(signum, self.stop)
        logger.info("gateway %s listening on %s", self.layer.owner, ", ".join(self.addresses))
        self._stop.wait()
        self._shutdown()

    def stop(self) -> None:
        """Begin the graceful shutdown."""
        self._stop.set()

    def _shutdown(self) -> None:
        started = time.monotonic()
        deadline = started + self.config.shutdown_timeout
        for server in self._servers:
            server.close()
        logger.info("shutting down: closing %d WebSockets with %d", len(self._websockets), GOING_AWAY)
        for connection in list(self._websockets):
            connection.close(GOING_AWAY)
        for sock in list(self._idle):
            _shut(sock)
        # Half the time for clients to answer the close; then the rest are dropped, which
        # still sends their disconnect messages, and the remaining time is for that.
        gevent.joinall(list(self._handlers), timeout=self.config.shutdown_timeout / 2)
        if self._websockets:
            logger.warning("dropping %d WebSockets that did not answer the close", len(self._websockets))
            for connection in list(self._websockets):
                connection.abort()
        gevent.joinall(list(self._handlers), timeout=max(0.0, deadline - time.monotonic()))
        if self._handlers:
            logger.warning(
                "killing %d connections still open after %.0f s", len(self._handlers), self.config.shutdown_timeout
            )
            gevent.killall(list(self._handlers), block=False)
        logger.info("gateway stopped in %.2f s", time.monotonic() - started)

    # -- the layer's side ------------------------------------------------------------------

    def deliver(self, channel: str, content: dict[str, Any]) -> None:
        """A message for one of this gateway's reply channels (inbox greenlet)."""
        endpoint = self._endpoints.get(channel)
        if endpoint is not None:
            endpoint.deliver(content)

    def processed(self, channel: str, order: int) -> None:
        """A worker's processed notice for one of this gateway's connections."""
        endpoint = self._endpoints.get(channel)
        if endpoint is not None:
            endpoint.processed(order)

    def _register(self, channel: str, endpoint: Endpoint | None) -> None:
        """Route ``channel``'s messages to ``endpoint``; ``None``: the channel is closed for good
        (it leaves its groups)."""
        if endpoint is not None:
            self._endpoints[channel] = endpoint
            return
        self._endpoints.pop(channel, None)
        try:
            self.layer.release_channel(channel)
        except RealtimeError as error:  # the broker is away; its bindings go with the inbox
            logger.warning("could not release %s: %s", channel, error)

    def _open_connections(self) -> list[tuple[dict[str, object], float]]:
        websockets = len(self._websockets)
        return [({"protocol": "http"}, len(self._handlers) - websockets), ({"protocol": "websocket"}, websockets)]

    def healthy(self) -> bool:
        """True while the broker is reachable and holds this gateway's inbox and memberships."""
        try:
            return self.layer.inbox_ready()
        except RealtimeError:
            return False

    # -- connections -----------------------------------------------------------------------

    def _handle(self, sock: socket.socket, address: Any) -> None:
        greenlet = gevent.getcurrent()
        if self._stop.is_set() or len(self._handlers) >= self.config.max_connections:
            _refuse_quietly(sock, 503, "too many connections")
            return
        self._handlers.add(greenlet)
        if sock.family == socket.AF_UNIX:
            peer = Peer(("", 0), ("", 0))
        else:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            peer = Peer(address[:2], sock.getsockname()[:2])
        stream = HttpStream(sock, self.config)
        try:
            self._serve(stream, peer)
        except HeadError as error:
            access_log.info('%s - "-" %d %s', peer.client[0], error.status, error.reason)
            self.metrics.inc("realtime_gateway_bad_requests_total", status=error.status)
            stream.refuse(error.status, error.reason)
        except (ClientGone, OSError):
            pass
        except Exception:
            logger.exception("connection from %s failed", peer.client[0])
            stream.refuse(500)
        finally:
            self._idle.discard(sock)
            self._handlers.discard(greenlet)
            connections.close_all()  # Django's connections are per greenlet: this one ends here
            lingering_close(sock)

    def _serve(self, stream: HttpStream, peer: Peer) -> None:
        keep_alive = True
        while keep_alive and not self._stop.is_set():
            gevent.sleep(0)  # a client whose next request is already here waits its turn
            self._idle.add(stream.sock)
            request = stream.next_request()
            self._idle.discard(stream.sock)
            if request is None:
                return
            head, raw = request
            started = time.monotonic()
            client, scheme = forwarded(peer.client, head, self.config.forwarded_allow_ips)
            request_peer = Peer(client, peer.server, scheme)  # the connection's peer may be a proxy
            if head.is_websocket_upgrade:
                outcome = self._serve_websocket(stream, raw + stream.detach(), request_peer)
                _log_access(request_peer, head, outcome, started)
                return
            status, keep_alive = self._serve_http(stream, head, request_peer)
            _log_access(request_peer, head, f"{status} {stream.sent_bytes}", started)

    def _serve_http(self, stream: HttpStream, head: RequestHead, peer: Peer) -> tuple[int, bool]:
        path = head.target.partition("?")[0]
        if path == self.config.health_path:
            mode, (status, keep_alive) = "health", self._serve_health(stream)
        elif path == self.config.metrics_path:
            metrics = self.metrics.render()
            mode, (status, keep_alive) = "metrics", self._serve_text(stream, 200, metrics, _PROMETHEUS_TEXT)
        elif any(pattern.search(path) for pattern in self._consumer_paths):
            request = ChannelRequest(stream, head, peer, self.services)
            keep_alive = request.serve()
            mode, status = "consumer", request.status
        else:
            status, keep_alive = serve_wsgi(stream, head, self.app, peer, self.config.max_buffered_body)
            mode = "django"
        self.metrics.inc("realtime_gateway_http_requests_total", mode=mode, status=f"{status // 100}xx")
        return status, keep_alive

    def _serve_health(self, stream: HttpStream) -> tuple[int, bool]:
        return self._serve_text(stream, *((200, "ok\n") if self.healthy() else (503, "broker unreachable\n")))

    @staticmethod
    def _serve_text(
        stream: HttpStream, status: int, text: str, content_type: bytes = b"text/plain"
    ) -> tuple[int, bool]:
        body = text.encode()
        stream.start_response(status, [(b"content-type", content_type), (b"content-length", b"%d" % len(body))])
        stream.write(body)
        return status, stream.end_response()

    def _serve_websocket(self, stream: HttpStream, initial: bytes, peer: Peer) -> str:
        connection = WebSocketConnection(stream.sock, peer, self.services)
        self._websockets.add(connection)
        try:
            return connection.run(initial)
        finally:
            self._websockets.discard(connection)


def _log_access(peer: Peer, head: RequestHead, outcome: str, started: float) -> None:
    access_log.info(
        '%s - "%s %s HTTP/%s" %s %.1fms',
        peer.client[0], head.method, head.target, head.http_version, outcome, (time.monotonic() - started) * 1000,
    )  # fmt: skip


def _refuse_quietly(sock: socket.socket, status: int, reason: str) -> None:
    try:
        sock.sendall(plain_response(status, reason))
    except OSError:
        pass
    lingering_close(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _address_text(name: Any) -> str:
    if isinstance(name, str):
        return f"unix:{name}"
    host = f"[{name[0]}]" if ":" in name[0] else name[0]
    return f"{host}:{name[1]}"
