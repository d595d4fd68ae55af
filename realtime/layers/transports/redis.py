"""Redis transport (``redis://``), on redis-py with Lua scripts.

Kombu's Redis transport cannot carry groups (its fanout is PUB/SUB keyed so that
bindings made by another process are ignored, unbinding does nothing) and ignores
per-message expiry and queue length, so this transport uses Redis primitives directly:

* every queue (normal channel or inbox) is a list: RPUSH to send, BLPOP to take, which
  hands each message to exactly one receiver;
* capacity is checked atomically in the send script (expired messages at the head are
  dropped first, so they do not hold capacity);
* a group is a sorted set of ``"<queue> <member>"`` scored by membership deadline; the
  fan-out script pushes one copy per distinct live queue;
* an owner keeps ``<inbox>.alive`` set with a short TTL while it runs; when it stops
  refreshing, sends to its reply channels are dropped and its memberships are removed by
  the next group send.

Keys are the queue names themselves plus ``<prefix>.group.<name>`` and
``<prefix>.queues`` (queue -> "kind:capacity"). Single-node Redis.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from ...exceptions import BrokerUnavailable, ChannelFull
from ..config import LayerConfig
from .base import InboxReader, QueueReader, Transport

__all__ = ["RedisTransport"]

_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
# A blocking pop waits at most this long per round trip, so socket timeouts stay short.
_BLOCK_SLICE = 1.0
# Seconds a call waits for a free pooled connection before giving up.
_POOL_WAIT = 10.0
# Messages an owner takes from its inbox per round trip after the first.
_INBOX_BATCH = 255

# KEYS: queue, queues-hash, alive-key ("" for a channel queue)
# ARGV: body, capacity, ttl_ms, now, kind
_SEND = """
local capacity = tonumber(ARGV[2])
if ARGV[5] == 'i' then
  if redis.call('EXISTS', KEYS[3]) == 0 then return 2 end
  -- the owner's own inbox_capacity governs its inbox, whatever the sender's setting
  local info = redis.call('HGET', KEYS[2], KEYS[1])
  if info then capacity = tonumber(string.match(info, ':(%d+)$')) end
end
if redis.call('LLEN', KEYS[1]) >= capacity then
  local now = tonumber(ARGV[4])
  while true do
    local head = redis.call('LINDEX', KEYS[1], 0)
    if not head then break end
    local envelope = cmsgpack.unpack(head)
    if tonumber(envelope[4]) > now then break end
    redis.call('LPOP', KEYS[1])
  end
  if redis.call('LLEN', KEYS[1]) >= capacity then return 0 end
end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if ARGV[5] == 'c' then redis.call('HSET', KEYS[2], KEYS[1], 'c:' .. ARGV[2]) end
return 1
"""

# KEYS: group-zset, queues-hash
# ARGV: body, now, ttl_ms
_FANOUT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local state = {}
local delivered = 0
for _, member in ipairs(members) do
  local queue = string.match(member, '^(%S+) ')
  if queue and state[queue] == nil then
    local info = redis.call('HGET', KEYS[2], queue)
    local kind, capacity
    if info then kind, capacity = string.match(info, '^(%a):(%d+)$') end
    if not kind or (kind == 'i' and redis.call('EXISTS', queue .. '.alive') == 0) then
      state[queue] = 'dead'
    else
      state[queue] = 'live'
      if redis.call('LLEN', queue) < tonumber(capacity) then
        redis.call('RPUSH', queue, ARGV[1])
        redis.call('PEXPIRE', queue, ARGV[3])
        delivered = delivered + 1
      end
    end
  end
end
for _, member in ipairs(members) do
  local queue = string.match(member, '^(%S+) ')
  if queue == nil or state[queue] == 'dead' then redis.call('ZREM', KEYS[1], member) end
end
return delivered
"""


@contextmanager
def _broker_errors(url: str) -> Iterator[None]:
    try:
        yield
    except _ERRORS as exc:
        raise BrokerUnavailable(f"Redis at {url} is unreachable: {exc}") from exc


def _member(queue: str, channel: str) -> str:
    return f"{queue} {channel}"


class RedisTransport(Transport):
    """Channel-layer transport over one Redis server."""

    def __init__(self, config: LayerConfig) -> None:
        self._config = config
        self._queues_key = f"{config.prefix}.queues"
        # Any: redis-py annotates replies as str | bytes for both decode modes; this client never
        # decodes, so every reply is bytes.
        # A blocking pool: a burst of more concurrent calls than pool_limit (a gateway
        # accepting 100 handshakes at once) waits for a free connection instead of failing
        # with "Too many connections".
        pool = redis.BlockingConnectionPool.from_url(
            config.url,
            socket_connect_timeout=config.connect_timeout,
            socket_timeout=_BLOCK_SLICE + config.connect_timeout,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), config.connect_retries - 1),
            max_connections=int(config.options.get("pool_limit", 64)),
            timeout=_POOL_WAIT,
        )
        self._client: Any = redis.Redis(connection_pool=pool)
        self._send_script = self._client.register_script(_SEND)
        self._fanout_script = self._client.register_script(_FANOUT)

    def _errors(self) -> Any:
        return _broker_errors(self._config.url)

    def _push(self, queue: str, body: bytes, ttl: float, capacity: int, kind: str) -> int:
        alive = f"{queue}.alive" if kind == "i" else ""
        with self._errors():
            result = self._send_script(
                keys=[queue, self._queues_key, alive],
                args=[body, capacity, max(1, int(ttl * 1000)), time.time(), kind],
            )
        if result == 0:
            raise ChannelFull(f"queue {queue!r} is full")
        return int(result)

    def send(self, queue: str, body: bytes, *, ttl: float, capacity: int) -> None:
        self._push(queue, body, ttl, capacity, "c")

    def send_to_inbox(self, inbox: str, body: bytes, *, ttl: float, capacity: int) -> None:
        self._push(inbox, body, ttl, capacity, "i")

    def receive(self, queue: str, timeout: float | None, *, capacity: int) -> bytes | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if deadline is None:
                wait = _BLOCK_SLICE
            else:
                wait = min(_BLOCK_SLICE, deadline - time.monotonic())
                if wait <= 0:
                    with self._errors():
                        popped: bytes | None = self._client.lpop(queue)
                    return popped
            with self._errors():
                result = self._client.blpop([queue], timeout=wait)
            if result is not None:
                return bytes(result[1])

    def open_reader(self, queues: dict[str, int]) -> QueueReader:
        with self._errors():
            self._client.hset(self._queues_key, mapping={queue: f"c:{capacity}" for queue, capacity in queues.items()})
        return _RedisReader(self, list(queues))

    def open_inbox(self, inbox: str, *, capacity: int) -> InboxReader:
        return _RedisInbox(self, inbox, capacity)

    def group_send(self, group: str, body: bytes, *, ttl: float) -> None:
        with self._errors():
            self._fanout_script(
                keys=[self._group_key(group), self._queues_key],
                args=[body, time.time(), max(1, int(ttl * 1000))],
            )

    def group_bind(self, group: str, queue: str, member: str, *, expiry: float, capacity: int | None) -> None:
        with self._errors():
            if capacity is not None:
                self._client.hset(self._queues_key, queue, f"c:{capacity}")
            elif not self._client.exists(f"{queue}.alive"):
                return  # the inbox's owner is gone
            self._client.zadd(self._group_key(group), {_member(queue, member): time.time() + expiry})

    def bind_inbox_members(self, inbox: str, memberships: list[tuple[str, str]], *, expiry: float) -> None:
        with self._errors():
            if not self._client.exists(f"{inbox}.alive"):
                return  # the inbox's owner is gone
            deadline = time.time() + expiry
            pipeline = self._client.pipeline(transaction=False)
            for group, member in memberships:
                pipeline.zadd(self._group_key(group), {_member(inbox, member): deadline})
            pipeline.execute()

    def group_unbind(self, group: str, queue: str, member: str) -> None:
        with self._errors():
            self._client.zrem(self._group_key(group), _member(queue, member))

    def queue_exists(self, queue: str) -> bool:
        with self._errors():
            info: bytes | None = self._client.hget(self._queues_key, queue)
            if info is None:
                return False
            return not info.startswith(b"i:") or bool(self._client.exists(f"{queue}.alive"))

    def flush(self) -> None:
        with self._errors():
            keys = list(self._client.scan_iter(match=f"{self._config.prefix}.*", count=1000))
            for start in range(0, len(keys), 500):
                self._client.delete(*keys[start : start + 500])

    def close(self) -> None:
        self._client.close()

    def _group_key(self, group: str) -> str:
        return f"{self._config.prefix}.group.{group}"

    # -- used by the inbox reader ------------------------------------------------

    def _announce(self, inbox: str, capacity: int) -> None:
        ttl_ms = int(self._config.owner_timeout * 1000)
        pipe = self._client.pipeline(transaction=False)
        pipe.set(f"{inbox}.alive", b"1", px=ttl_ms)
        pipe.hset(self._queues_key, inbox, f"i:{capacity}")
        with self._errors():
            pipe.execute()

    def _retire(self, inbox: str) -> None:
        pipe = self._client.pipeline(transaction=False)
        pipe.delete(f"{inbox}.alive", inbox)
        pipe.hdel(self._queues_key, inbox)
        with self._errors():
            pipe.execute()


class _RedisReader(QueueReader):
    """BLPOP over several lists; the key order rotates, since BLPOP serves the first
    non-empty key and a busy channel would otherwise starve the others."""

    def __init__(self, transport: RedisTransport, queues: list[str]) -> None:
        self._transport = transport
        self._queues = queues
        self._next = 0

    def take(self, timeout: float) -> tuple[str, bytes] | None:
        order = self._queues[self._next :] + self._queues[: self._next]
        self._next = (self._next + 1) % len(self._queues)
        with self._transport._errors():
            result = self._transport._client.blpop(order, timeout=max(0.01, min(timeout, _BLOCK_SLICE)))
        if result is None:
            return None
        return result[0].decode(), bytes(result[1])

    def close(self) -> None:
        """Nothing to release: the client's pool belongs to the transport."""


class _RedisInbox(InboxReader):
    """Pops an owner's inbox list and keeps its liveness key fresh."""

    def __init__(self, transport: RedisTransport, name: str, capacity: int) -> None:
        self._transport = transport
        self._client = transport._client
        self._name = name
        self._capacity = capacity
        self._refresh_every = transport._config.owner_timeout / 3
        self._next_refresh = 0.0
        self._broken = False
        self._reconnected = False
        self._keep_alive()

    def _keep_alive(self) -> None:
        now = time.monotonic()
        if now >= self._next_refresh:
            self._transport._announce(self._name, self._capacity)
            self._next_refresh = now + self._refresh_every

    def read(self, timeout: float) -> list[bytes]:
        try:
            self._keep_alive()
            if self._broken:  # announced again: the owner binds its members before anything waits
                self._broken, self._reconnected = False, True
                return []
            result = self._client.blpop([self._name], timeout=min(timeout, self._refresh_every, _BLOCK_SLICE))
            taken: list[bytes] = []
            if result is not None:
                more: list[bytes] = self._client.lpop(self._name, _INBOX_BATCH) or []
                taken = [bytes(result[1]), *more]
        except _ERRORS as exc:
            self._broken = True
            self._next_refresh = 0.0
            raise BrokerUnavailable(f"inbox {self._name!r} lost its Redis connection: {exc}") from exc
        return taken

    def pop_reconnected(self) -> bool:
        reconnected, self._reconnected = self._reconnected, False
        return reconnected

    def close(self) -> None:
        try:
            self._transport._retire(self._name)
        except BrokerUnavailable:
            pass  # the liveness key expires by itself
