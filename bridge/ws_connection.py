"""One WebSocket connection's I/O: socket bytes to channel messages and back.

The reading greenlet feeds the socket into a :class:`~bridge.websocket.WebSocketSession`
and publishes ``websocket.connect`` / ``receive`` / ``disconnect``, each only after the
worker has processed the previous one (so a connection's consumers run in order and a
client that sends faster than its consumers run is slowed down by TCP, not buffered).
Messages to the reply channel arrive from the layer's inbox greenlet through
:meth:`WebSocketConnection.deliver` and go to a bounded outbox that a short-lived writer
greenlet empties.
"""

from __future__ import annotations

import logging
import random
import socket
import time
from collections import deque
from typing import Any

import gevent
from gevent.event import AsyncResult, Event
from gevent.lock import Semaphore

from realtime.exceptions import BrokerUnavailable, ChannelFull, MessageTooLarge, RealtimeError

from .endpoint import Peer, Services
from .messages import (
    Accept,
    Action,
    Close,
    InvalidReply,
    SendBytes,
    SendText,
    connect_message,
    disconnect_message,
    interpret_reply,
    receive_message,
)
from .websocket import TOO_BIG, Closed, HandshakeRequest, MessageReceived, State, WebSocketSession

__all__ = ["WebSocketConnection"]

logger = logging.getLogger(__name__)

_READ_SIZE = 65536
# RFC 6455 section 7.4.1.
GOING_AWAY = 1001
INTERNAL_ERROR = 1011
TRY_AGAIN_LATER = 1013
# Seconds a client may take to read what is queued for it once it is being closed.
_CLOSE_GRACE = 5.0
# Backoff between attempts to publish a disconnect to a full channel (seconds).
_RETRY_DELAY = 0.05
_MAX_RETRY_DELAY = 1.0


class WebSocketConnection:
    """A client's WebSocket, from the upgrade request until the socket closes."""

    def __init__(self, sock: socket.socket, peer: Peer, services: Services) -> None:
        self.sock = sock
        self.peer = peer
        self.config = config = services.config
        self.layer = services.layer
        self.services = services
        self.session = WebSocketSession(config.max_message_size)
        self.reply_channel = ""
        self.path = ""
        #: How the connection ended, for the disconnect message and the log.
        self.close_code = 1006
        self._order = 0
        self._processed = -1
        self._progress = Event()
        self._handshake: AsyncResult = AsyncResult()
        self._outbox: deque[Action] = deque()
        self._writer: gevent.Greenlet | None = None
        self._write_lock = Semaphore()
        self._hurry = False  # shutting down: no more waiting for processed notices
        #: When the last message went either way (pings aside), for ``idle_timeout``.
        self._last_message = time.monotonic()

    # -- the reading side (the connection's own greenlet) -------------------------------

    def run(self, initial: bytes) -> str:
        """Serve the connection; ``initial`` holds the upgrade request and any bytes after it.
        Returns a short outcome for the access log."""
        try:
            refused, pending = self._open(initial)
            if refused is not None:
                return refused
            self._read_loop(pending)
            self._finish(self.close_code)
            return f"101 closed {self.close_code}"
        finally:
            if self.reply_channel:
                self.services.register(self.reply_channel, None)

    def _open(self, initial: bytes) -> tuple[str | None, list[Any]]:
        """The handshake. Returns the outcome if the connection was not accepted, and the
        events that came after the upgrade request. The request and the connect message,
        every header in them, end with this call instead of living as long as the socket."""
        events = self.session.receive_data(initial)
        request = next((event for event in events if isinstance(event, HandshakeRequest)), None)
        if request is None:
            self._flush()
            self._count_handshake("bad_request")
            return "400 bad handshake", []
        self.path = request.path
        if not self.services.origins.allows(request.origin):
            self._reject(403)
            self._count_handshake("origin_refused")
            return f"403 origin {request.origin!r} refused", []
        self.reply_channel = self.layer.new_channel("websocket.send")
        self.services.register(self.reply_channel, self)
        message = connect_message(
            self.reply_channel, request.path, request.query_string, request.headers, self.peer.client, self.peer.server
        )
        if self._publish("websocket.connect", message) is not None:
            self._reject(503)
            self._count_handshake("unavailable")
            return "503 connect not published", []
        decision = self._handshake.wait(self.config.accept_timeout)
        if not isinstance(decision, Accept):
            code = decision.code if isinstance(decision, Close) else 403
            self._reject(403)
            self._count_handshake("refused" if decision else "timeout")
            self._finish(code)
            return ("403 refused by the connect consumer" if decision else "403 no answer to connect in time"), []
        self._count_handshake("accepted")
        self.session.accept()
        self._flush()
        self._start_writer()
        return None, [event for event in events if event is not request]

    def _read_loop(self, events: list[Any]) -> None:
        ping_outstanding = False
        while True:
            self._handle(events)
            self._flush()
            if self.session.state is State.CLOSED:
                break
            if time.monotonic() - self._last_message > self.config.idle_timeout:
                self.close(GOING_AWAY)
            try:
                self.sock.settimeout(self.config.ping_interval)
                data = self.sock.recv(_READ_SIZE)
                ping_outstanding = False
            except TimeoutError:
                if ping_outstanding:  # no answer for a whole interval: the client is gone
                    data = b""
                else:
                    ping_outstanding = True
                    self.session.ping()
                    continue
            except OSError:
                data = b""
            events = self.session.receive_data(data or None)

    def _handle(self, events: list[Any]) -> None:
        """Publish the client's messages in order and note its close."""
        for event in events:
            if isinstance(event, MessageReceived):
                self._last_message = time.monotonic()
                self._order += 1
                self._wait_turn(self._order)
                content = receive_message(self.reply_channel, self.path, self._order, event.data)
                refused = self._publish("websocket.receive", content)
                if refused is not None:
                    self.close(refused)
                else:
                    self.services.metrics.inc("realtime_gateway_websocket_messages_total", direction="in")
            elif isinstance(event, Closed):
                self.close_code = event.code
        events.clear()  # nothing handled stays referenced through the next, maybe long, wait

    def _wait_turn(self, order: int) -> None:
        """Wait until message ``order - 1`` was processed, or ``ordering_timeout`` passed."""
        deadline = time.monotonic() + self.config.ordering_timeout
        while self._processed < order - 1 and not self._hurry:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                logger.warning(
                    "%s: no processed notice for message %d in %.0f s; sending the next one",
                    self.reply_channel, order - 1, self.config.ordering_timeout,
                )  # fmt: skip
                return
            self._progress.clear()
            self._progress.wait(remaining)

    def _publish(self, channel: str, content: dict[str, Any]) -> int | None:
        """Send ``content`` to ``channel``; on failure, the close code that tells the client why."""
        try:
            self.layer.send(channel, content)
            return None
        except MessageTooLarge as error:  # within the frame limit, but not with the message around it
            logger.warning("%s: %s", self.reply_channel, error)
            reason, code = "too_big", TOO_BIG
        except (ChannelFull, BrokerUnavailable) as error:
            logger.warning("%s: %s", self.reply_channel, error)
            reason, code = ("full" if isinstance(error, ChannelFull) else "broker"), TRY_AGAIN_LATER
        except RealtimeError:
            logger.exception("could not publish %s for %s", channel, self.reply_channel)
            reason, code = "error", INTERNAL_ERROR
        self.services.metrics.inc("realtime_gateway_publish_failures_total", channel=channel, reason=reason)
        return code

    def _count_handshake(self, outcome: str) -> None:
        self.services.metrics.inc("realtime_gateway_handshakes_total", outcome=outcome)

    def _finish(self, code: int) -> None:
        """Send the disconnect message, last in the connection's order.

        Many sockets closing at once (a gateway shutting down, a network blip) can fill the
        workers' channel: the disconnect is retried until ``ordering_timeout`` while the
        workers catch up, since consumers rely on it to clean up.
        """
        self.services.metrics.inc("realtime_gateway_websocket_closes_total", code=code)
        self._order += 1
        self._wait_turn(self._order)
        message = disconnect_message(self.reply_channel, self.path, self._order, code)
        deadline = time.monotonic() + self.config.ordering_timeout
        delay = _RETRY_DELAY
        while True:
            try:
                self.layer.send("websocket.disconnect", message)
                return
            except (ChannelFull, BrokerUnavailable) as error:
                if time.monotonic() + delay > deadline:
                    logger.warning("%s: websocket.disconnect lost: %s", self.reply_channel, error)
                    return
            except RealtimeError:
                logger.exception("could not publish websocket.disconnect for %s", self.reply_channel)
                return
            gevent.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, _MAX_RETRY_DELAY)

    def _reject(self, status: int) -> None:
        self.session.reject(status)
        self._flush()

    # -- the layer's side (called from the inbox greenlet; never blocks) ----------------

    def deliver(self, content: dict[str, Any]) -> None:
        """Act on a message sent to this connection's reply channel."""
        try:
            actions = interpret_reply(content)
        except InvalidReply as error:
            logger.error("%s: invalid reply message dropped: %s", self.reply_channel, error)
            return
        if self.session.state is State.HANDSHAKE and not self._handshake.ready():
            if actions and not isinstance(actions[0], Close):
                # Sending data before accepting accepts (Channels 1.x).
                self._handshake.set(Accept())
                actions = [action for action in actions if not isinstance(action, Accept)]
            elif actions:
                self._handshake.set(actions[0])
                return
        actions = [action for action in actions if not isinstance(action, Accept)]
        if len(self._outbox) + len(actions) > self.config.send_queue:
            self._overflow()
            return
        self._outbox.extend(actions)
        self._start_writer()

    def processed(self, order: int) -> None:
        """A worker finished message ``order``; a connect nobody answered is accepted."""
        if order == 0 and not self._handshake.ready():
            self._handshake.set(Accept())
        if order > self._processed:
            self._processed = order
            self._progress.set()

    def close(self, code: int) -> None:
        """Close the connection with ``code`` after what is already queued."""
        if self.session.state is State.HANDSHAKE and not self._handshake.ready():
            self._handshake.set(Close(code))
            return
        self._outbox.append(Close(code))
        self._start_writer()

    def _overflow(self) -> None:
        """The client reads slower than it is sent to: drop its queue and close it."""
        logger.warning("%s: send queue full (%d); closing", self.reply_channel, self.config.send_queue)
        self.services.metrics.inc("realtime_gateway_send_queue_overflows_total")
        self._outbox.clear()
        self._outbox.append(Close(TRY_AGAIN_LATER))
        self._start_writer()
        gevent.spawn_later(_CLOSE_GRACE, self._abort)

    # -- writing ------------------------------------------------------------------------

    def _start_writer(self) -> None:
        if self._outbox and self._writer is None and self.session.state is State.OPEN:
            self._writer = gevent.spawn(self._drain)

    def _drain(self) -> None:
        try:
            while self._outbox and self.session.state is State.OPEN:
                action = self._outbox.popleft()
                if isinstance(action, SendText | SendBytes):
                    self.session.send(action.text if isinstance(action, SendText) else action.data)
                    self.services.metrics.inc("realtime_gateway_websocket_messages_total", direction="out")
                    self._last_message = time.monotonic()
                elif isinstance(action, Close):
                    self.session.close(action.code)
                self._flush()
        except OSError:
            self._abort()
        finally:
            self._writer = None

    def _flush(self) -> None:
        """Write what the session has queued; the lock keeps frames whole and in order."""
        with self._write_lock:
            data = self.session.data_to_send()
            if data:
                self.sock.sendall(data)

    def abort(self) -> None:
        """Drop the connection now (a client that did not answer a close in time): its
        disconnect is still sent, without waiting for its earlier messages' consumers."""
        self._hurry = True
        self._progress.set()
        self._abort()

    def _abort(self) -> None:
        if self.session.state is not State.CLOSED:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
