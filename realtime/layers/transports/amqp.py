"""RabbitMQ transport (``amqp://``), on Kombu connections.

Mapping (measured choices in docs/transports.rst):

* a normal channel is a durable classic queue with ``x-max-length`` and
  ``x-overflow: reject-publish``; sends use publisher confirms, so a full queue is a
  nack, which becomes :class:`ChannelFull` (without confirms RabbitMQ drops silently);
* an inbox is a durable, auto-delete queue consumed by its owner: when the owner's
  connection dies the queue and all its bindings go at once (RabbitMQ 4 refuses
  transient non-exclusive queues, and an exclusive queue could not be bound by others);
* a group is an auto-delete fanout exchange bound from one direct ``<prefix>.groups``
  exchange; each membership is its own binding (routing key = member channel), so
  adding and removing members never races, and RabbitMQ still delivers one copy per queue.

Each pooled connection has a confirm-mode channel for every send and a plain channel for
declarations, bindings and gets (a 404 there revives the channel, and no consumer lives
on it).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Sized
from typing import Any

import amqp
import kombu
from amqp.exceptions import ChannelError, MessageNacked, NotFound, PreconditionFailed

from ...exceptions import BrokerUnavailable, ChannelFull, LayerConfigurationError
from ..config import LayerConfig
from .amqp_links import CONNECTION_ERRORS, Link, close_quietly, connect, links_for
from .base import InboxReader, QueueReader, Transport

__all__ = ["AmqpTransport"]

logger = logging.getLogger(__name__)

_NO_ROUTE = 312
# Messages the broker may push to an owner ahead of its reads; acked on receipt.
_INBOX_PREFETCH = 256


class AmqpTransport(Transport):
    """Channel-layer transport over RabbitMQ."""

    def __init__(self, config: LayerConfig) -> None:
        self._config = config
        self._groups_exchange = f"{config.prefix}.groups"
        self._links = links_for(config)
        self._known_queues: set[str] = set()
        self._known_exchanges: set[str] = set()

    def _run(self, operation: Any) -> Any:
        """Run ``operation(link)``; on a broken connection retry once on a fresh one."""
        for attempt in (1, 2):
            link = self._links.acquire()
            try:
                result = operation(link)
            except CONNECTION_ERRORS as exc:
                self._links.discard(link)
                if attempt == 2:
                    raise BrokerUnavailable(f"RabbitMQ connection lost: {exc}") from exc
                continue
            except BaseException:
                self._links.release(link)
                raise
            self._links.release(link)
            return result
        raise AssertionError("unreachable")

    # -- declarations ---------------------------------------------------------------

    def _declare_channel_queue(self, link: Link, queue: str, capacity: int) -> None:
        if queue in link.declared:
            return
        arguments = {
            "x-max-length": capacity,
            "x-overflow": "reject-publish",
            "x-expires": int(self._config.queue_expiry * 1000),
        }
        try:
            link.plain.queue_declare(queue, durable=True, auto_delete=False, arguments=arguments)
        except PreconditionFailed as exc:
            raise LayerConfigurationError(
                f"queue {queue!r} exists with other arguments than {arguments} (was the channel's capacity "
                f"changed?); delete the queue or restore the setting: {exc}"
            ) from exc
        link.declared.add(queue)
        self._known_queues.add(queue)

    def _declare_groups_exchange(self, link: Link) -> None:
        if self._groups_exchange not in link.declared:
            link.plain.exchange_declare(self._groups_exchange, "direct", durable=True, auto_delete=False)
            link.declared.add(self._groups_exchange)

    def _group_exchange(self, group: str) -> str:
        return f"{self._config.prefix}.group.{group}"

    # -- sends -----------------------------------------------------------------------

    def _publish_confirmed(self, link: Link, queue: str, body: bytes, ttl: float) -> bool:
        """Publish through the default exchange; False if no queue of that name exists."""
        message = amqp.Message(body, delivery_mode=1, expiration=str(max(1, int(ttl * 1000))))
        try:
            link.confirmed.basic_publish_confirm(message, exchange="", routing_key=queue, mandatory=True)
        except MessageNacked:
            raise ChannelFull(f"queue {queue!r} is full") from None
        except ChannelError as exc:
            if exc.reply_code == _NO_ROUTE:
                return False
            raise
        return True

    def send(self, queue: str, body: bytes, *, ttl: float, capacity: int) -> None:
        def operation(link: Link) -> None:
            self._declare_channel_queue(link, queue, capacity)
            if not self._publish_confirmed(link, queue, body, ttl):
                link.declared.discard(queue)  # deleted behind our back (e.g. a flush): declare again
                self._declare_channel_queue(link, queue, capacity)
                self._publish_confirmed(link, queue, body, ttl)

        self._run(operation)

    def send_to_inbox(self, inbox: str, body: bytes, *, ttl: float, capacity: int) -> None:
        # No queue means the owner is gone: its reply channels no longer exist.
        self._run(lambda link: self._publish_confirmed(link, inbox, body, ttl))

    def group_send(self, group: str, body: bytes, *, ttl: float) -> None:
        message = amqp.Message(body, delivery_mode=1, expiration=str(max(1, int(ttl * 1000))))

        def operation(link: Link) -> None:
            self._declare_groups_exchange(link)
            # Confirmed like every send: an unconfirmed publish into a connection whose broker
            # just died "succeeds" and is lost; with the confirm, the caller hears of the outage.
            try:
                link.confirmed.basic_publish_confirm(message, exchange=self._groups_exchange, routing_key=group)
            except MessageNacked:
                # A member's queue was full (reject-publish): the broker nacks the publish, yet
                # every other member got its copy. A group send never raises ChannelFull.
                logger.debug("group %s: a member's queue is full; it misses this message", group)

        self._run(operation)

    # -- receives --------------------------------------------------------------------

    def receive(self, queue: str, timeout: float | None, *, capacity: int) -> bytes | None:
        def operation(link: Link) -> bytes | None:
            self._declare_channel_queue(link, queue, capacity)
            message = link.plain.basic_get(queue, no_ack=True)
            if message is not None:
                return bytes(message.body)
            if timeout is not None and timeout <= 0:
                return None
            return self._wait_for_one(link, queue, timeout)

        result: bytes | None = self._run(operation)
        return result

    def _wait_for_one(self, link: Link, queue: str, timeout: float | None) -> bytes | None:
        """Consume one message with prefetch 1, acknowledge it as it is handed over, cancel,
        and put back any further message the broker pushed before the cancel took effect."""
        raw = link.connection.connection
        channel = link.receiving
        deadline = None if timeout is None else time.monotonic() + timeout
        received: list[amqp.Message] = []
        tag = channel.basic_consume(queue, callback=received.append, no_ack=False)
        try:
            while not received:
                remaining = 1.0 if deadline is None else deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    raw.drain_events(timeout=min(remaining, 1.0))
                except TimeoutError:
                    continue
            if received:
                channel.basic_ack(received[0].delivery_tag)
        finally:
            channel.basic_cancel(tag)  # deliveries racing the cancel arrive before its reply
        for extra in received[1:]:
            channel.basic_reject(extra.delivery_tag, requeue=True)
        return bytes(received[0].body) if received else None

    def open_reader(self, queues: dict[str, int]) -> QueueReader:
        def declare(link: Link) -> None:
            for queue, capacity in queues.items():
                self._declare_channel_queue(link, queue, capacity)

        self._run(declare)
        return _AmqpReader(self._config, list(queues))

    def open_inbox(self, inbox: str, *, capacity: int) -> InboxReader:
        self._known_queues.add(inbox)
        return _AmqpInbox(self._config, inbox, capacity)

    # -- groups ----------------------------------------------------------------------

    def _declare_group(self, link: Link, group: str) -> str:
        """Declare ``group``'s fanout exchange, fed by the groups exchange; its name."""
        exchange = self._group_exchange(group)
        link.plain.exchange_declare(exchange, "fanout", durable=False, auto_delete=True)
        link.plain.exchange_bind(destination=exchange, source=self._groups_exchange, routing_key=group)
        return exchange

    def group_bind(self, group: str, queue: str, member: str, *, expiry: float, capacity: int | None) -> None:

        def operation(link: Link) -> None:
            self._declare_groups_exchange(link)
            if capacity is not None:
                self._declare_channel_queue(link, queue, capacity)
            for _ in range(3):
                try:
                    exchange = self._declare_group(link, group)
                    link.plain.queue_bind(queue, exchange, routing_key=member)
                except NotFound as exc:
                    if "no queue" in str(exc):
                        return  # the inbox's owner is gone
                    continue  # the last member left and the exchange was deleted meanwhile
                self._known_exchanges.add(exchange)
                return
            raise BrokerUnavailable(f"could not bind {member!r} to group {group!r}: its exchange keeps disappearing")

        self._run(operation)

    def bind_inbox_members(self, inbox: str, memberships: list[tuple[str, str]], *, expiry: float) -> None:
        # One exchange declaration and exchange binding per group, then the member bindings
        # without waiting for each reply (AMQP no-wait); a passive declaration at the end is
        # the one round trip that reports any failed binding. On a failure (an exchange
        # deleted meanwhile, the inbox gone), bind one at a time with group_bind's retries.
        by_group: dict[str, list[str]] = {}
        for group, member in memberships:
            by_group.setdefault(group, []).append(member)

        def operation(link: Link) -> None:
            self._declare_groups_exchange(link)
            for group, members in by_group.items():
                exchange = self._declare_group(link, group)
                for member in members:
                    link.plain.queue_bind(inbox, exchange, routing_key=member, nowait=True)
                self._known_exchanges.add(exchange)
            link.plain.queue_declare(inbox, passive=True)

        try:
            self._run(operation)
        except ChannelError:
            super().bind_inbox_members(inbox, memberships, expiry=expiry)

    def group_unbind(self, group: str, queue: str, member: str) -> None:
        def operation(link: Link) -> None:
            try:
                link.plain.queue_unbind(queue, self._group_exchange(group), routing_key=member)
            except NotFound:
                pass  # no such exchange or queue: nothing is bound

        self._run(operation)

    # -- housekeeping -----------------------------------------------------------------

    def queue_exists(self, queue: str) -> bool:
        def operation(link: Link) -> bool:
            try:
                link.plain.queue_declare(queue, passive=True)
            except NotFound:
                return False
            return True

        result: bool = self._run(operation)
        return result

    def flush(self) -> None:
        """Delete the queues and exchanges this process declared (AMQP cannot list the rest)."""

        def operation(link: Link) -> None:
            for queue in sorted(self._known_queues):
                link.plain.queue_delete(queue)
            for exchange in sorted(self._known_exchanges | {self._groups_exchange}):
                link.plain.exchange_delete(exchange)
            link.declared.clear()

        self._run(operation)
        self._links.forget_declarations()
        self._known_queues.clear()
        self._known_exchanges.clear()

    def close(self) -> None:
        self._links.close()


def _wait_for_delivery(connection: kombu.Connection, pending: Sized, timeout: float, heartbeat: float) -> bool:
    """Read from ``connection`` (keeping its heartbeats going) until a consumer callback has
    put a delivery in ``pending``; False after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not pending:
        connection.heartbeat_check()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        try:
            connection.connection.drain_events(timeout=min(remaining, heartbeat / 2))
        except TimeoutError:
            continue
    return True


class _AmqpReader(QueueReader):
    """Consumes several channel queues on its own heartbeat connection, prefetch 1 each.

    A message is acknowledged when :meth:`take` hands it over, so one that was pushed to
    this reader but never taken goes back to its queue if the reader dies (at-most-once).
    Each connection has its own buffer of deliveries: closing a lost connection still reads
    what the broker had pushed to it, and those go back to their queues, not to the caller.
    """

    def __init__(self, config: LayerConfig, queues: list[str]) -> None:
        self._config = config
        self._queues = queues
        self._heartbeat = max(1.0, config.owner_timeout / 2)
        self._pending: deque[amqp.Message] = deque()
        self._connection: kombu.Connection | None = None

    def _open(self) -> None:
        connection = connect(self._config, heartbeat=self._heartbeat)
        pending: deque[amqp.Message] = deque()
        try:
            channel = connection.connection.channel()
            channel.basic_qos(0, 1, False)
            # By consumer tag: a group message's routing key is the group, not the queue.
            self._queue_of = {
                channel.basic_consume(queue, callback=pending.append, no_ack=False): queue for queue in self._queues
            }
        except CONNECTION_ERRORS as exc:
            close_quietly(connection)
            raise BrokerUnavailable(f"could not consume {self._queues}: {exc}") from exc
        self._connection, self._channel, self._pending = connection, channel, pending

    def take(self, timeout: float) -> tuple[str, bytes] | None:
        if self._connection is None:
            self._open()
        assert self._connection is not None
        try:
            if not _wait_for_delivery(self._connection, self._pending, timeout, self._heartbeat):
                return None
            message = self._pending.popleft()
            self._channel.basic_ack(message.delivery_tag)
        except CONNECTION_ERRORS as exc:
            self.close()  # what it held is unacknowledged: the broker gives it to another reader
            raise BrokerUnavailable(f"lost the connection consuming {self._queues}: {exc}") from exc
        return self._queue_of[message.delivery_info["consumer_tag"]], bytes(message.body)

    def close(self) -> None:
        if self._connection is not None:
            close_quietly(self._connection)
            self._connection = None


class _AmqpInbox(InboxReader):
    """Consumes one inbox on its own heartbeat connection; reconnects and re-declares."""

    def __init__(self, config: LayerConfig, name: str, capacity: int) -> None:
        self._config = config
        self._name = name
        self._arguments = {
            "x-max-length": capacity,
            "x-overflow": "reject-publish",
            # Safety net if the owner dies before consuming; auto-delete covers the rest.
            "x-expires": int(config.owner_timeout * 1000),
        }
        self._heartbeat = max(1.0, config.owner_timeout / 2)
        self._pending: deque[amqp.Message] = deque()
        self._connection: kombu.Connection | None = None
        self._reconnected = False
        self._open()

    def _open(self) -> None:
        connection = connect(self._config, heartbeat=self._heartbeat)
        # This connection's own: what closing it after a failure reads is dropped (at-most-once).
        pending: deque[amqp.Message] = deque()
        try:
            channel = connection.connection.channel()
            channel.queue_declare(self._name, durable=True, auto_delete=True, arguments=self._arguments)
            channel.basic_qos(0, _INBOX_PREFETCH, False)
            self._consumer_tag = channel.basic_consume(self._name, callback=pending.append, no_ack=False)
        except CONNECTION_ERRORS as exc:
            close_quietly(connection)
            raise BrokerUnavailable(f"could not open inbox {self._name!r}: {exc}") from exc
        self._connection, self._channel, self._pending = connection, channel, pending

    def read(self, timeout: float) -> list[bytes]:
        if self._connection is None:
            self._open()
            self._reconnected = True
            return []  # the owner binds its members again before anything waits
        assert self._connection is not None
        try:
            if not _wait_for_delivery(self._connection, self._pending, timeout, self._heartbeat):
                return []
            taken = list(self._pending)
            self._pending.clear()
            self._channel.basic_ack(taken[-1].delivery_tag, multiple=True)
        except CONNECTION_ERRORS as exc:
            self._drop_connection()
            raise BrokerUnavailable(f"inbox {self._name!r} lost its connection: {exc}") from exc
        return [bytes(message.body) for message in taken]

    def pop_reconnected(self) -> bool:
        reconnected, self._reconnected = self._reconnected, False
        return reconnected

    def _drop_connection(self) -> None:
        if self._connection is not None:
            close_quietly(self._connection)
            self._connection = None

    def close(self) -> None:
        if self._connection is not None:
            try:
                # Cancel first: deleting a consumed queue makes the broker cancel the consumer,
                # which would abort the connection's close.
                self._channel.basic_cancel(self._consumer_tag)
                self._channel.queue_delete(self._name)
            except Exception:  # the broker may be gone; auto-delete removes the queue anyway
                pass
        self._drop_connection()
