"""RabbitMQ connections for the channel layer: opening them, and pooling them.

A *link* is one Kombu connection with the two channels the layer publishes and declares
on. Links come from the layer's own small pool, or, when a Celery app has shared its
connection pool for the same broker (``tasks.install`` does), from Celery's pool: the
layer's sends then travel over the connections Celery already holds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import amqp
import kombu
import kombu.exceptions
from kombu.connection import ConnectionPool

from ...exceptions import BrokerUnavailable
from ..config import LayerConfig

__all__ = [
    "CONNECTION_ERRORS",
    "Link",
    "Links",
    "close_quietly",
    "connect",
    "links_for",
    "share_connection_pools",
]

CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    amqp.exceptions.ConnectionError,
    amqp.exceptions.RecoverableConnectionError,
    kombu.exceptions.OperationalError,
)
# Most connections the layer's own pool opens (each thread/greenlet holds one at a time).
_DEFAULT_POOL_LIMIT = 16

PoolProvider = Callable[[str], ConnectionPool | None]
_providers: list[PoolProvider] = []


def share_connection_pools(provider: PoolProvider) -> None:
    """Register ``provider(url)``, which returns a Kombu connection pool to use for the
    broker at ``url`` (or ``None``). ``tasks.install(app)`` registers Celery's."""
    _providers.append(provider)


def connect(config: LayerConfig, heartbeat: float = 0) -> kombu.Connection:
    """A connected Kombu connection, or BrokerUnavailable after the config's bounded retry."""
    connection = kombu.Connection(config.url, connect_timeout=config.connect_timeout, heartbeat=heartbeat)
    _ensure(connection, config)
    return connection


def _ensure(connection: kombu.Connection, config: LayerConfig, *, owned: bool = True) -> None:
    try:
        # interval_start=0: kombu's default first pause (2 s) would make a dead broker slow to report.
        connection.ensure_connection(
            max_retries=config.connect_retries, interval_start=0, interval_step=0.25, interval_max=1.0
        )
    except CONNECTION_ERRORS as exc:
        if owned:  # a pooled connection goes back to its pool instead
            close_quietly(connection)
        raise BrokerUnavailable(f"RabbitMQ at {connection.as_uri()} is unreachable: {exc}") from exc


def close_quietly(connection: kombu.Connection) -> None:
    """Close ``connection``; if the polite close fails (broker gone, consumer cancelled by the
    broker), still close the socket."""
    raw = connection.connection if connection.connected else None
    try:
        connection.release()
    except Exception:  # a broken connection may fail to close politely; it is dropped either way
        pass
    if raw is not None:
        raw.collect()


class Link:
    """A connection with a confirm-mode channel (every send) and a plain channel
    (declarations, bindings, gets: a 404 there revives the channel, and no consumer
    lives on it)."""

    def __init__(self, connection: kombu.Connection) -> None:
        self.connection = connection
        self.raw = connection.connection
        self.confirmed = self.raw.channel()
        self.confirmed.confirm_select()
        self.plain = self.raw.channel()
        self._receiving: amqp.Channel | None = None
        #: Queues and exchanges declared on this connection (declarations are cached).
        self.declared: set[str] = set()

    @property
    def receiving(self) -> amqp.Channel:
        """A channel with prefetch 1 for consuming one message at a time, opened on first use."""
        if self._receiving is None or not self._receiving.is_open:
            self._receiving = self.raw.channel()
            self._receiving.basic_qos(0, 1, False)
        return self._receiving


class Links:
    """Where links come from: the layer's own pool."""

    def __init__(self, config: LayerConfig) -> None:
        self._config = config
        self._limit = int(config.options.get("pool_limit", _DEFAULT_POOL_LIMIT))
        self._idle: list[Link] = []
        self._all: set[Link] = set()
        self._open = 0
        self._ready = threading.Condition()

    def acquire(self) -> Link:
        with self._ready:
            while not self._idle and self._open >= self._limit:
                self._ready.wait()
            if self._idle:
                return self._idle.pop()
            self._open += 1
        try:
            link = Link(connect(self._config))
        except BaseException:
            with self._ready:
                self._open -= 1
                self._ready.notify()
            raise
        with self._ready:
            self._all.add(link)
        return link

    def release(self, link: Link) -> None:
        with self._ready:
            self._idle.append(link)
            self._ready.notify()

    def discard(self, link: Link) -> None:
        """Drop a link whose connection broke."""
        close_quietly(link.connection)
        with self._ready:
            self._all.discard(link)
            self._open -= 1
            self._ready.notify()

    def forget_declarations(self) -> None:
        with self._ready:
            for link in self._all:
                link.declared.clear()

    def close(self) -> None:
        with self._ready:
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._all.difference_update(idle)
        for link in idle:
            close_quietly(link.connection)


class SharedLinks(Links):
    """Links on connections borrowed from another pool (Celery's), for as long as one call."""

    def __init__(self, config: LayerConfig, pool: ConnectionPool) -> None:
        super().__init__(config)
        self._pool = pool
        self._links: dict[int, Link] = {}

    def acquire(self) -> Link:
        connection = self._pool.acquire(block=True, timeout=self._config.connect_timeout * 5)
        try:
            _ensure(connection, self._config, owned=False)
            link = self._links.get(id(connection))
            if link is None or link.connection is not connection or link.raw is not connection.connection:
                # New to us, or reconnected since: its channels are gone.
                link = self._links[id(connection)] = Link(connection)
            return link
        except BaseException:
            connection.release()
            raise

    def release(self, link: Link) -> None:
        link.connection.release()

    def discard(self, link: Link) -> None:
        self._links.pop(id(link.connection), None)
        try:
            link.connection.collect()  # drop the broken transport; the pool reconnects lazily
        finally:
            link.connection.release()

    def forget_declarations(self) -> None:
        for link in self._links.values():
            link.declared.clear()

    def close(self) -> None:
        """The connections belong to the pool's owner."""
        self._links.clear()


def links_for(config: LayerConfig) -> Links:
    """The layer's own pool, or a shared one for the same broker if one was registered."""
    for provider in _providers:
        pool = provider(config.url)
        if pool is not None:
            return SharedLinks(config, pool)
    return Links(config)
