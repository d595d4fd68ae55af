#!/usr/bin/env python
"""The gateway end to end: real ``python -m bridge.cli`` processes, driven over TCP.

Each *shape* is started for real, from the worker test project (``tests/workerproject``),
through ``tests.gateways.GatewayProcess`` and ``tests.workers.WorkerProcess``:

* ``inprocess`` - one gateway with ``--with-worker``: the consumers run in the gateway
  process on the in-memory layer (the development mode); no broker.
* ``rabbitmq`` - the production shape: gateways without ``--with-worker`` (two for
  ``broadcast``, the sockets spread over both; one otherwise) and one Celery worker
  (``-c 2 -P prefork``), all on RabbitMQ (``--amqp-url``).
* ``redis`` - the same processes as ``rabbitmq``, all on Redis (``--redis-url``, a database
  of its own: db 14 by default): the channel layer's Redis transport and Celery's.
* ``reference`` - the ceiling: no gateway, no Django, no broker. This script run as
  ``--serve reference``: a bare gevent ``StreamServer`` with h11 + wsproto (as the ``wsproto``
  server of ``bench/ws_protocols.py``, with the gateway's paths): ``/frames/`` echoes, ``/chat/<room>/``
  joins an in-process room and sends each message to every socket in it (the sender too),
  ``GET /hello/`` answers ``Hello world`` with keep-alive. Every scenario runs on it, and the
  tables on stderr show each shape's figure as a ratio to the reference's.

Scenarios (``--scenarios``):

* ``idle_memory`` - a fresh system per count N (``--connections``): 20 warm-up connections,
  then N idle WebSockets to one gateway (``/frames/``), opened ``--burst`` handshakes at a
  time. Gateway RSS (``/proc/<pid>/status`` VmRSS) before and with the N open, KiB per
  connection; how many are still open after the measurement, and an echo on a sample of 20.
* ``echo`` - S sockets (``--sockets``) on ``/frames/`` (the ``echo_frames`` consumer sends each
  frame back), each with one message in flight; about ``--messages`` round trips in all.
  Round trip p50/p90/p99/max, msgs/s, and the CPU time per message of the gateway, the
  worker (main and pool processes) and this client process (``/proc/<pid>/stat``).
* ``broadcast`` - R sockets (``--rooms``) in one room ``/chat/<room>/`` (``chat_join`` on
  connect, ``chat_send`` broadcasts each received text to the group); one of them sends
  ``--broadcasts`` messages, the next when every socket has the previous one (or after 10 s).
  Latency from the send until the last (and the first) socket has it; delivered fraction.
* ``hello`` - ``GET /hello/`` (a plain Django view, served in the gateway) with keep-alive:
  ``--http-clients`` connections x ``--http-requests`` requests each, one in flight per
  connection. Requests/s, latency, gateway CPU per request. Run on the first gateway shape
  and on ``reference``.

The client is this process: gevent (monkey-patched), one greenlet per socket, raw sockets
with the RFC 6455 handshake and masked frames (``RawWS`` of ``bench/ws_protocols.py``), a
reader greenlet per socket that answers the gateway's pings and close frames. The gateways get
``{"allowed_origins": ["*"], "max_connections": 20000, "accept_timeout": 10.0}`` (the test
project's 2 s accept timeout restored to the default). The file-descriptor limit is raised
to the hard limit before anything starts (the gateways inherit it).

Every wait has a time limit and every loop a count; the whole run is stopped after
``--time-limit`` seconds (a watchdog thread sends SIGTERM, and kills what was started if
the run is still going a minute later). Every process is stopped at the end, also on
errors, Ctrl-C and SIGTERM. Each run uses its own layer prefix
(``bench-<8 hex>``); what it left on RabbitMQ and Redis is removed and listed (on Redis only
keys and members under that prefix, found with SCAN: never FLUSHDB).

stdout: one JSON object per measurement (with the WARNING/ERROR entries the logs got
meanwhile, once they are quiet: the expected ones counted, the others by kind); stderr:
progress, then Markdown tables (with a "vs reference" column when the reference shape ran:
msg/s and req/s as a percentage of the reference's, KiB per connection and broadcast
latency as a multiple of it) and a list of problems (failed measurements, unexpected log
entries). Exit status 1 if a measurement failed (its object has an ``error`` field) or the
run was interrupted; unexpected log entries alone do not change it.

    .venv/bin/python bench/gateway.py                                  # everything, ~4 min
    .venv/bin/python bench/gateway.py --shapes inprocess --scenarios echo,hello
    .venv/bin/python bench/gateway.py --connections 1000 --rooms 10,100 > results.jsonl
"""

# ruff: noqa: E402  (the gevent client must monkey-patch before the other imports)
from __future__ import annotations

if __name__ == "__main__":
    from gevent import monkey

    monkey.patch_all()

import argparse
import functools
import itertools
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import gevent
from gevent import monkey
from gevent.event import Event
from gevent.lock import Semaphore
from gevent.pool import Pool
from gevent.queue import Empty, Queue

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
for _path in (ROOT, BENCH):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from ws_protocols import RawWS, ServerProcess, raise_nofile

# -- the reference server --------------------------------------------------------------
# The ceiling: this script run as ``gateway.py --serve reference`` (started through
# ``ws_protocols.ServerProcess``) serves the gateway's paths with h11 + wsproto on gevent
# alone. It starts below, before the imports of Celery, Django and the test project, so its
# process loads only gevent, h11 and wsproto.

# Seconds the reference server runs at most (it also exits when the bench process is gone).
REFERENCE_LIFETIME = 3600.0
HELLO = b"Hello world"


class RoomMember:
    """A reference server's WebSocket as the room's senders write to it: one write at a time
    (a lock), none after its close frame."""

    __slots__ = ("lock", "open", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lock = Semaphore()
        self.open = True

    def send(self, data: bytes, last: bool = False) -> None:
        with self.lock:
            if self.open:
                self.open = not last
                self.sock.sendall(data)


def reference_handler() -> Callable[[socket.socket, Any], None]:
    """The reference server's connection handler. HTTP/1.1 with keep-alive (h11):
    ``GET /hello/`` answers ``Hello world`` (text/plain), other plain requests 404; a
    WebSocket upgrade (wsproto, any path) echoes every message back, except on
    ``/chat/<room>/``: the socket joins the room (an in-process set) on connect and each
    message it sends goes verbatim to every socket in the room, itself included."""
    import h11
    from wsproto.connection import Connection, ConnectionState, ConnectionType
    from wsproto.events import BytesMessage, CloseConnection, Message, Ping, TextMessage
    from wsproto.utilities import LocalProtocolError, generate_accept_token

    rooms: dict[bytes, set[RoomMember]] = {}
    hello_headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"%d" % len(HELLO))]

    def next_request(conn: h11.Connection, sock: socket.socket) -> h11.Request | None:
        """The next whole request (a body is read and dropped); ``None`` when the client is gone."""
        request = None
        for _ in range(64):  # a request head fits in a few reads
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(sock.recv(65536))
            elif isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.EndOfMessage) and request is not None:
                return request
            elif not isinstance(event, h11.Data):
                return None  # ConnectionClosed
        return None

    def handle(sock: socket.socket, address: Any) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=16 * 1024)
        try:
            while (request := next_request(conn, sock)) is not None:
                headers = dict(request.headers)  # lower-case names
                if headers.get(b"upgrade", b"").lower() == b"websocket" and headers.get(b"sec-websocket-key"):
                    accept = generate_accept_token(headers[b"sec-websocket-key"])
                    upgrade = [(b"upgrade", b"websocket"), (b"connection", b"Upgrade")]
                    upgrade.append((b"sec-websocket-accept", accept))
                    sock.sendall(conn.send(h11.InformationalResponse(status_code=101, headers=upgrade)))
                    websocket(sock, request.target, bytes(conn.trailing_data[0]))
                    return
                if request.method == b"GET" and request.target == b"/hello/":
                    response = h11.Response(status_code=200, headers=hello_headers)
                    sock.sendall(conn.send(response) + conn.send(h11.Data(data=HELLO)) + conn.send(h11.EndOfMessage()))
                else:
                    response = h11.Response(status_code=404, headers=[(b"content-length", b"0")])
                    sock.sendall(conn.send(response) + conn.send(h11.EndOfMessage()))
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    return  # the client asked to close (or sent something h11 cannot keep alive)
                conn.start_next_cycle()
        except (OSError, h11.ProtocolError, LocalProtocolError):
            pass
        finally:
            sock.close()

    def websocket(sock: socket.socket, path: bytes, trailing: bytes) -> None:
        ws = Connection(ConnectionType.SERVER, trailing_data=trailing)
        me = RoomMember(sock)
        room = rooms.setdefault(path, set()) if path.startswith(b"/chat/") else None
        if room is not None:
            room.add(me)
        parts: list[Any] = []
        try:
            while True:
                for event in ws.events():
                    if isinstance(event, Message):
                        parts.append(event.data)
                        if not event.message_finished:
                            continue
                        if isinstance(event, TextMessage):
                            data = ws.send(TextMessage(data="".join(parts)))
                        else:
                            data = ws.send(BytesMessage(data=b"".join(parts)))
                        parts = []
                        if room is None:
                            me.send(data)
                            continue
                        for member in list(room):  # the frame is the same for every socket
                            try:
                                member.send(data)
                            except OSError:
                                pass  # that socket is going; its own greenlet cleans up
                    elif isinstance(event, Ping):
                        if ws.state is ConnectionState.OPEN:
                            me.send(ws.send(event.response()))
                    elif isinstance(event, CloseConnection):
                        if room is not None:
                            room.discard(me)
                        if ws.state in (ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING):
                            me.send(ws.send(event.response()), last=True)
                        return
                if ws.state is ConnectionState.CLOSED:
                    return
                ws.receive_data(sock.recv(65536) or None)
        finally:
            if room is not None:
                room.discard(me)
                if not room:
                    rooms.pop(path, None)

    return handle


def serve_reference() -> None:
    """The reference server's process: listen on 127.0.0.1 (a free port), write ``PORT <n>``
    on stdout, serve until SIGTERM, until the bench process is gone or ``REFERENCE_LIFETIME``."""
    from gevent.server import StreamServer

    raise_nofile()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    server = StreamServer(listener, reference_handler())
    parent, started = os.getppid(), time.monotonic()

    def watchdog() -> None:
        while os.getppid() == parent and time.monotonic() - started < REFERENCE_LIFETIME:
            gevent.sleep(1)
        os._exit(0)

    gevent.spawn(watchdog)
    gevent.signal_handler(signal.SIGTERM, lambda: os._exit(0))
    server.start()
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__" and sys.argv[1:] == ["--serve", "reference"]:
    serve_reference()
    sys.exit(0)

from benchstats import fmt
from worker_roundtrip import stats_ms

from tests.gateways import GatewayProcess
from tests.workers import WORKER_CHANNELS, WorkerProcess

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
# Not db 0 (the tests' and other sessions'); the run removes only its own keys from it.
REDIS_URL = "redis://127.0.0.1:6379/14"
SHAPES = ("inprocess", "rabbitmq", "redis", "reference")
# The shapes with a broker: gateways without --with-worker plus a Celery worker.
BROKER_SHAPES = ("rabbitmq", "redis")
SCENARIOS = ("idle_memory", "echo", "broadcast", "hello")
# The path of the echo_frames consumer (the reference server echoes on it too).
ECHO_PATH = "/frames/"
GATEWAY_SETTINGS = {"allowed_origins": ["*"], "max_connections": 20_000, "accept_timeout": 10.0}
WORKER_PROCESSES = 2
# Seconds: one reply / one broadcast / one HTTP response / one handshake at most.
REPLY_TIMEOUT = 10.0
HANDSHAKE_TIMEOUT = 15.0
# Seconds the client waits for the gateway's answer to its close frames.
CLOSE_TIMEOUT = 15.0
WARMUP_CONNECTIONS = 20
SAMPLE = 20
# Seconds the run has to clean up after --time-limit before the watchdog kills it.
GRACE = 60.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

Record = dict[str, Any]


# -- processes -------------------------------------------------------------------------


def status_kib(pid: int, name: str = "VmRSS") -> int | None:
    """A ``/proc/<pid>/status`` field in KiB (``None`` if the process is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of ``pids`` (``/proc/<pid>/stat``; 1/CLK_TCK resolution)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (from ``/proc``: safe from any thread, no subprocess)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found.append(int(entry.name))
    return found


@dataclass
class Server:
    """One listening process of a system: a gateway, or the reference server."""

    name: str
    port: int
    pid: int
    log_path: Path | None


@dataclass
class Context:
    """What the whole run shares: brokers, prefix, log directory, and every process started."""

    amqp_url: str
    redis_url: str
    prefix: str
    log_dir: Path
    started: list[GatewayProcess | WorkerProcess | ServerProcess] = field(default_factory=list)
    counter: Iterator[int] = field(default_factory=itertools.count)
    timed_out: bool = False

    def broker_url(self, shape: str) -> str:
        """The broker of a shape (``memory://`` in the gateway process for ``inprocess``)."""
        return {"rabbitmq": self.amqp_url, "redis": self.redis_url}.get(shape, "memory://")

    def pids(self) -> list[int]:
        """Every live process started (worker pool processes included), for the watchdog."""
        pids = []
        for process in self.started:
            popen = process.proc if isinstance(process, ServerProcess) else process.process
            if popen is not None and popen.poll() is None:
                pids += [popen.pid, *children(popen.pid)]
        return pids


class System:
    """A running shape: its gateways (or the reference server) and, on a broker, a worker."""

    def __init__(self, shape: str, ctx: Context, gateways: int = 1) -> None:
        self.shape = shape
        self.ctx = ctx
        self.gateways: list[Server] = []
        self.worker: WorkerProcess | None = None
        self.processes: list[GatewayProcess | WorkerProcess | ServerProcess] = []
        self.start_s = 0.0
        self._start(gateways)

    def _start(self, gateways: int) -> None:
        t0 = time.monotonic()
        number = next(self.ctx.counter)
        if self.shape == "reference":
            server = ServerProcess("reference", script=os.path.abspath(__file__))
            self._track(server)
            self.gateways.append(Server(f"reference{number}", server.port, server.pid, None))
        else:
            if self.shape in BROKER_SHAPES:
                self._start_worker(f"w{number}")
            for index in range(gateways):
                self._start_gateway(f"{self.shape}{number}-g{index}")
        self.start_s = round(time.monotonic() - t0, 2)

    def _track(self, process: GatewayProcess | WorkerProcess | ServerProcess) -> None:
        self.processes.append(process)
        self.ctx.started.append(process)

    def _start_worker(self, name: str) -> None:
        prefix = self.ctx.prefix
        self.worker = WorkerProcess(
            self.ctx.broker_url(self.shape),
            prefix,
            self.ctx.log_dir / f"{name}.log",
            queues=f"channels,{prefix}-celery",
            concurrency=WORKER_PROCESSES,
            pool="prefork",
            name=f"{name}-{prefix}",
        )
        self._track(self.worker)
        self.worker.start(timeout=60)

    def _start_gateway(self, name: str) -> None:
        gateway = GatewayProcess(
            self.ctx.broker_url(self.shape),
            self.ctx.prefix,
            self.ctx.log_dir / f"{name}.log",
            with_worker=self.shape == "inprocess",
            gateway_settings=GATEWAY_SETTINGS,
        )
        self._track(gateway)
        gateway.start(timeout=30)
        assert gateway.process is not None
        self.gateways.append(Server(name, gateway.port, gateway.process.pid, gateway.log_path))

    # -- measuring ---------------------------------------------------------------------

    def log_paths(self) -> list[Path]:
        paths = [server.log_path for server in self.gateways if server.log_path is not None]
        return paths + ([self.worker.log_path] if self.worker is not None else [])

    def log_marks(self) -> dict[Path, int]:
        """The size of every log now."""
        return {path: path.stat().st_size if path.exists() else 0 for path in self.log_paths()}

    def log_since(self, marks: dict[Path, int]) -> str:
        """What the logs got after ``marks``."""
        texts = []
        for path in self.log_paths():
            with open(path, "rb") as log:
                log.seek(marks.get(path, 0))
                texts.append(log.read().decode(errors="replace"))
        return "\n".join(texts)

    def settle(self, quiet: float = 0.5, limit: float = 60.0) -> float:
        """Wait until no log has grown for ``quiet`` seconds (the gateways have published the
        last disconnects, the worker has run them), at most ``limit``; the seconds it took."""
        t0 = time.monotonic()
        marks, still_since = self.log_marks(), t0
        while time.monotonic() - t0 < limit:
            gevent.sleep(0.1)
            now = self.log_marks()
            if now != marks:
                marks, still_since = now, time.monotonic()
            elif time.monotonic() - still_since >= quiet:
                break
        return round(still_since - t0, 2)

    def cpu_pids(self) -> dict[str, list[int]]:
        pids = {"gateway": [server.pid for server in self.gateways]}
        if self.worker is not None and self.worker.process is not None:
            pids["worker"] = [self.worker.process.pid, *children(self.worker.process.pid)]
        return pids

    def stop(self) -> dict[str, Any]:
        """Stop every process (gateways first); their exit statuses."""
        codes: dict[str, Any] = {}
        for process in sorted(self.processes, key=lambda p: isinstance(p, WorkerProcess)):
            try:
                if isinstance(process, ServerProcess):
                    process.stop()
                    codes["reference"] = process.proc.returncode
                else:
                    name = "worker" if isinstance(process, WorkerProcess) else process.log_path.stem
                    codes[name] = process.stop()
            except Exception as exc:
                codes[str(process)] = f"{type(exc).__name__}: {exc}"
        return codes


class CpuMeter:
    """CPU seconds used by the system's processes and this client between start and stop."""

    def __init__(self, system: System) -> None:
        self.pids = system.cpu_pids()
        self.before = {role: cpu_seconds(pids) for role, pids in self.pids.items()}
        self.client_before = time.process_time()

    def per_item_us(self, items: int) -> dict[str, float | None]:
        used = {role: cpu_seconds(pids) - self.before[role] for role, pids in self.pids.items()}
        used["client"] = time.process_time() - self.client_before
        return {f"{role}_cpu_us": round(seconds / items * 1e6, 1) if items else None for role, seconds in used.items()}


# -- logs ------------------------------------------------------------------------------

_ENTRY_START = re.compile(r"^\[?\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
_FLAGGED = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b")
# Flagged log entries the bench causes by design, not gateway problems.
EXPECTED = {
    # /frames/ has no connect consumer: the worker drops the connect and the gateway accepts.
    "connect_unrouted": re.compile(r"no consumer routed for a message on 'websocket\.connect'"),
    # The test project's disconnect_log sends every disconnect to test.disconnects, which no
    # one reads here: after 1000 (its capacity) the consumer fails with ChannelFull.
    "disconnect_log_full": re.compile(r"consumer \S*disconnect_log failed(?s:.*)ChannelFull"),
}


def log_entries(text: str) -> Iterator[str]:
    """Log records, each with its continuation lines (tracebacks)."""
    entry: list[str] = []
    for line in text.splitlines():
        if _ENTRY_START.match(line) and entry:
            yield "\n".join(entry)
            entry = []
        entry.append(line)
    if entry:
        yield "\n".join(entry)


# What varies between otherwise equal log entries: time stamps, reply channels, task ids.
_VARIABLE = (
    (re.compile(r"^\[?\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+:? ?"), ""),
    (re.compile(r"websocket\.send![\w.\-]+"), "<reply channel>"),
    (re.compile(r"\[[0-9a-f-]{36}\]"), "[<id>]"),
)


def entry_kind(entry: str) -> str:
    """An entry's first line without what varies, to count entries of one kind."""
    first = entry.split("\n", 1)[0]
    for pattern, replacement in _VARIABLE:
        first = pattern.sub(replacement, first)
    return first[:200]


def log_report(text: str) -> dict[str, Any]:
    """WARNING/ERROR/CRITICAL entries: the expected ones counted by name, the others by kind
    (the first two quoted with their traceback)."""
    expected: Counter[str] = Counter()
    unexpected: Counter[str] = Counter()
    quoted: list[str] = []
    for entry in log_entries(text):
        first = entry.split("\n", 1)[0]
        if not _FLAGGED.search(first) and "Traceback" not in first:
            continue
        name = next((name for name, pattern in EXPECTED.items() if pattern.search(entry)), None)
        if name is not None:
            expected[name] += 1
            continue
        unexpected[entry_kind(entry)] += 1
        if len(quoted) < 2:
            quoted.append(entry[:800])
    return {
        "expected": dict(expected),
        "unexpected": sum(unexpected.values()),
        "unexpected_kinds": dict(unexpected.most_common(5)),
        "first_unexpected": quoted,
    }


# -- the WebSocket client --------------------------------------------------------------


class Peer:
    """One client WebSocket: ``RawWS`` plus a reader greenlet that answers pings and the
    server's close frame, and hands each data frame to ``on_data`` (if set) or to ``inbox``."""

    def __init__(self, port: int, path: str) -> None:
        self.ws = RawWS(port, path, timeout=HANDSHAKE_TIMEOUT)
        self.inbox: Queue[str] = Queue()
        self.on_data: Callable[[str, float], None] | None = None
        self.close_code: int | None = None
        self.closing = False  # we sent a close frame
        self.reader = gevent.spawn(self._read)

    def _read(self) -> None:
        try:
            while True:
                frame = self.ws.recv_frame(timeout=3600)
                if frame is None:
                    return
                opcode, payload = frame
                if opcode in (1, 2):
                    text = payload.decode("utf-8", "replace")
                    if self.on_data is not None:
                        self.on_data(text, time.perf_counter())
                    else:
                        self.inbox.put(text)
                elif opcode == 9:
                    self.ws.send(10, payload)
                elif opcode == 8:
                    self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                    if not self.closing:
                        self.ws.send(8, payload[:2])  # the server closes: answer (RFC 6455, 5.5.1)
                    return
        except (OSError, TimeoutError):
            return

    @property
    def open(self) -> bool:
        return not self.reader.dead

    def send_text(self, text: str) -> None:
        self.ws.send(1, text.encode())

    def recv(self, timeout: float = REPLY_TIMEOUT) -> str | None:
        try:
            return self.inbox.get(timeout=timeout)
        except Empty:
            return None

    def send_close(self) -> None:
        self.closing = True
        try:
            self.ws.send(8, (1000).to_bytes(2, "big"))
        except OSError:
            pass

    def abort(self) -> None:
        self.reader.kill(block=False)
        self.ws.close()


def open_peers(targets: list[tuple[int, str]], burst: int, limit: float) -> tuple[list[Peer], dict[str, int]]:
    """Open a WebSocket to each ``(port, path)``, at most ``burst`` handshakes at a time and
    none started after ``limit`` seconds; the peers that opened and the errors, counted."""
    deadline = time.monotonic() + limit
    errors: Counter[str] = Counter()

    def connect(target: tuple[int, str]) -> Peer | None:
        if time.monotonic() > deadline:
            errors["time limit"] += 1
            return None
        try:
            return Peer(*target)
        except Exception as exc:
            errors[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1
            return None

    pool = Pool(burst)
    peers = [peer for peer in pool.imap_unordered(connect, targets) if peer is not None]
    return peers, dict(errors)


def close_peers(peers: list[Peer]) -> dict[str, int]:
    """Send a close frame on every socket, wait (bounded) for the gateway's, then close all."""
    for peer in peers:
        if peer.open:
            peer.send_close()
    gevent.joinall([peer.reader for peer in peers], timeout=CLOSE_TIMEOUT)
    codes = Counter(str(peer.close_code) for peer in peers)
    for peer in peers:
        peer.abort()
    return dict(codes)


def echo_check(peers: list[Peer], tag: str) -> int:
    """Send one message on each peer (all at once); how many came back right in time."""

    def one(index: int, peer: Peer) -> bool:
        text = f"{tag}-{index}"
        try:
            peer.send_text(text)
        except OSError:
            return False
        return peer.recv() == text

    jobs = [gevent.spawn(one, index, peer) for index, peer in enumerate(peers)]
    gevent.joinall(jobs, timeout=REPLY_TIMEOUT + 5)
    return sum(1 for job in jobs if job.value)


# -- scenarios -------------------------------------------------------------------------


def idle_memory(system: System, count: int, args: argparse.Namespace) -> Record:
    """N idle connections to one fresh gateway: RSS growth per connection, all still open?"""
    server = system.gateways[0]
    warm, _ = open_peers([(server.port, ECHO_PATH)] * WARMUP_CONNECTIONS, args.burst, 30)
    warm_ok = echo_check(warm, "warm")
    close_peers(warm)
    gevent.sleep(1.0)
    rss_before = status_kib(server.pid)
    t0 = time.monotonic()
    peers, errors = open_peers([(server.port, ECHO_PATH)] * count, args.burst, args.phase_limit)
    connect_s = time.monotonic() - t0
    gevent.sleep(1.0)
    rss_open = status_kib(server.pid)
    still_open = sum(peer.open for peer in peers)
    sample = random.Random(count).sample(peers, min(SAMPLE, len(peers)))
    sample_ok = echo_check(sample, "sample")
    t1 = time.monotonic()
    close_codes = close_peers(peers)
    close_s = time.monotonic() - t1
    settle_s = system.settle()
    rss_after = status_kib(server.pid)
    record: Record = {
        "connections": count,
        "opened": len(peers),
        "connect_errors": errors,
        "connect_s": round(connect_s, 2),
        "connects_per_s": round(len(peers) / connect_s, 1) if connect_s else None,
        "still_open": still_open,
        "sample_echo_ok": f"{sample_ok}/{len(sample)}",
        "warmup_echo_ok": f"{warm_ok}/{len(warm)}",
        "rss_before_kib": rss_before,
        "rss_open_kib": rss_open,
        "rss_after_close_kib": rss_after,
        "kib_per_connection": round((rss_open - rss_before) / len(peers), 2)
        if peers and rss_open and rss_before
        else None,
        "close_s": round(close_s, 2),
        "close_codes": close_codes,
        "closed_settle_s": settle_s,
    }
    if len(peers) < count or still_open < len(peers) or sample_ok < len(sample):
        record["error"] = f"opened {len(peers)}/{count}, still open {still_open}, sample echo {sample_ok}/{len(sample)}"
    return record


def warm_up(peers: list[Peer], each: int) -> None:
    def one(index: int, peer: Peer) -> None:
        for number in range(each):
            text = f"w{index}-{number}"
            peer.send_text(text)
            if peer.recv() != text:
                return

    gevent.joinall([gevent.spawn(one, index, peer) for index, peer in enumerate(peers)], timeout=60)


def echo(system: System, sockets: int, args: argparse.Namespace) -> Record:
    """S sockets, one message in flight each, about ``--messages`` round trips in all."""
    server = system.gateways[0]
    peers, errors = open_peers([(server.port, ECHO_PATH)] * sockets, args.burst, args.phase_limit)
    if len(peers) < sockets:
        close_peers(peers)
        return {"sockets": sockets, "error": f"opened {len(peers)}/{sockets}: {errors}"}
    warm_up(peers, max(2, args.warmup // sockets))
    latencies: list[float] = []
    counts = Counter[str]()
    issued = 0
    last = 0.0
    deadline = time.monotonic() + args.phase_limit

    def loop(index: int, peer: Peer) -> None:
        nonlocal issued, last
        while issued < args.messages and time.monotonic() < deadline:
            issued += 1
            text = f"e{index}-{issued}"
            t0 = time.perf_counter()
            peer.send_text(text)
            reply = peer.recv()
            if reply is None:
                counts["lost"] += 1
                return
            last = time.perf_counter()
            counts["wrong"] += reply != text
            latencies.append(last - t0)

    meter = CpuMeter(system)
    start = time.perf_counter()
    jobs = [gevent.spawn(loop, index, peer) for index, peer in enumerate(peers)]
    gevent.joinall(jobs, timeout=args.phase_limit + REPLY_TIMEOUT + 5)
    elapsed = max(0.0, last - start)
    cpu = meter.per_item_us(len(latencies))
    close_codes = close_peers(peers)
    record: Record = {
        "sockets": sockets,
        "sent": issued,
        "received": len(latencies),
        "lost": counts["lost"],
        "wrong": counts["wrong"],
        "time_limit_hit": issued < args.messages,
        "seconds_measured": round(elapsed, 3),
        "msgs_per_s": round(len(latencies) / elapsed, 1) if elapsed > 0 else None,
        "latency_ms": stats_ms(latencies),
        **cpu,
        "close_codes": close_codes,
    }
    if counts["lost"] or counts["wrong"] or any(not job.dead for job in jobs):
        record["error"] = f"lost {counts['lost']}, wrong {counts['wrong']}"
    return record


class Arrivals:
    """Which socket has which broadcast: per sequence number, copies and first/last time."""

    def __init__(self, members: int) -> None:
        self.members = members
        self.sent: dict[int, float] = {}
        self.copies: Counter[int] = Counter()
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.unexpected = 0
        self.complete = Event()
        self.waiting_for = -1

    def expect(self, seq: int) -> None:
        self.waiting_for = seq
        self.complete.clear()
        self.sent[seq] = time.perf_counter()

    def arrive(self, text: str, when: float) -> None:
        try:
            seq = int(text)
        except ValueError:
            seq = -(10**9)
        if seq not in self.sent:
            self.unexpected += 1
            return
        self.copies[seq] += 1
        self.first.setdefault(seq, when)
        self.last[seq] = when
        if seq == self.waiting_for and self.copies[seq] >= self.members:
            self.complete.set()


def broadcast(system: System, members: int, args: argparse.Namespace) -> Record:
    """R sockets in one room; one sends, paced: the next when all R have the previous."""
    room = f"r{members}x{secrets.token_hex(3)}"
    ports = itertools.cycle(server.port for server in system.gateways)
    targets = [(next(ports), f"/chat/{room}/") for _ in range(members)]
    t0 = time.monotonic()
    peers, errors = open_peers(targets, args.burst, args.phase_limit)
    connect_s = time.monotonic() - t0
    if len(peers) < members:
        close_peers(peers)
        return {"members": members, "error": f"opened {len(peers)}/{members}: {errors}"}
    arrivals = Arrivals(members)
    for peer in peers:
        peer.on_data = arrivals.arrive
    warmup = 5
    deadline = time.monotonic() + args.phase_limit
    meter = CpuMeter(system)
    sent = 0
    for seq in range(-warmup, args.broadcasts):
        if time.monotonic() > deadline:
            break
        arrivals.expect(seq)
        peers[0].send_text(str(seq))
        arrivals.complete.wait(REPLY_TIMEOUT)
        sent += seq >= 0
    measured = list(range(sent))
    if any(arrivals.copies[seq] < members for seq in measured):
        gevent.sleep(1.0)  # late copies still count as delivered
    cpu = meter.per_item_us(sent * members)
    close_codes = close_peers(peers)
    complete = [seq for seq in measured if arrivals.copies[seq] >= members]
    delivered = sum(min(arrivals.copies[seq], members) for seq in measured)
    record: Record = {
        "members": members,
        "gateways": len(system.gateways),
        "connect_s": round(connect_s, 2),
        "broadcasts": args.broadcasts,
        "sent": sent,
        "complete": len(complete),
        "delivered": delivered,
        "delivered_fraction": round(delivered / (sent * members), 6) if sent else None,
        "unexpected_frames": arrivals.unexpected,
        "time_limit_hit": sent < args.broadcasts,
        "latency_last_ms": stats_ms([arrivals.last[seq] - arrivals.sent[seq] for seq in complete]),
        "latency_first_ms": stats_ms(
            [arrivals.first[seq] - arrivals.sent[seq] for seq in measured if seq in arrivals.first]
        ),
        **{key.replace("_cpu_us", "_cpu_us_per_copy"): value for key, value in cpu.items()},
        "close_codes": close_codes,
    }
    if len(complete) < sent or sent == 0:
        record["error"] = f"{sent - len(complete)} of {sent} broadcasts did not reach all {members} sockets"
    return record


class HttpClient:
    """A keep-alive HTTP/1.1 connection for ``GET /hello/`` (Content-Length or chunked bodies)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=REPLY_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request = f"GET /hello/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
        self.buf = bytearray()
        #: Responses per framing: ``content-length`` or ``chunked``.
        self.framing: Counter[str] = Counter()

    def _line(self) -> bytes:
        while (end := self.buf.find(b"\r\n")) < 0:
            self._fill()
        line = bytes(self.buf[:end])
        del self.buf[: end + 2]
        return line

    def _take(self, length: int) -> bytes:
        while len(self.buf) < length:
            self._fill()
        data = bytes(self.buf[:length])
        del self.buf[:length]
        return data

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the gateway closed the connection")
        self.buf += chunk

    def get(self) -> tuple[int, bytes]:
        """One request; its status and body."""
        self.sock.sendall(self.request)
        status = int(self._line().split()[1])
        headers = {}
        while line := self._line():
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            self.framing["content-length"] += 1
            return status, self._take(int(headers["content-length"]))
        if headers.get("transfer-encoding", "").lower() != "chunked":
            raise ValueError(f"neither content-length nor chunked: {headers!r}")
        self.framing["chunked"] += 1
        parts = []
        while size := int(self._line().split(b";")[0], 16):
            parts.append(self._take(size))
            self._line()
        while self._line():  # trailers, then the empty line
            pass
        return status, b"".join(parts)

    def close(self) -> None:
        self.sock.close()


def hello(system: System, args: argparse.Namespace) -> Record:
    """``--http-clients`` keep-alive connections, ``--http-requests`` GET /hello/ each."""
    port = system.gateways[0].port
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    framing: Counter[str] = Counter()
    order: list[int] = []  # which connection each answer went to, in the order they came
    deadline = time.monotonic() + args.phase_limit

    def client(index: int, requests: int, measure: bool) -> None:
        try:
            http = HttpClient(port)
        except OSError as exc:
            errors[f"connect: {type(exc).__name__}"] += 1
            return
        try:
            for _ in range(requests):
                if time.monotonic() > deadline:
                    errors["time limit"] += 1
                    return
                t0 = time.perf_counter()
                status, body = http.get()
                if measure:
                    latencies.append(time.perf_counter() - t0)
                    order.append(index)
                if status != 200 or body != b"Hello world":
                    errors[f"{status} {body[:40]!r}"] += 1
        except (OSError, ValueError) as exc:
            errors[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1
        finally:
            http.close()
            if measure:
                framing.update(http.framing)

    gevent.joinall([gevent.spawn(client, index, 20, False) for index in range(args.http_clients)], timeout=60)
    meter = CpuMeter(system)
    start = time.perf_counter()
    jobs = [gevent.spawn(client, index, args.http_requests, True) for index in range(args.http_clients)]
    gevent.joinall(jobs, timeout=args.phase_limit + REPLY_TIMEOUT + 5)
    elapsed = time.perf_counter() - start
    total = args.http_clients * args.http_requests
    record: Record = {
        "clients": args.http_clients,
        "requests_per_client": args.http_requests,
        "requests": total,
        "answered": len(latencies),
        "errors": dict(errors),
        "response_framing": dict(framing),
        "seconds_measured": round(elapsed, 3),
        "requests_per_s": round(len(latencies) / elapsed, 1) if elapsed > 0 else None,
        "latency_ms": stats_ms(latencies),
        **streaks(order),
        **cpu_per_request(meter, len(latencies)),
    }
    if errors or len(latencies) < total:
        record["error"] = f"answered {len(latencies)}/{total}; {dict(errors)}"
    return record


def streaks(order: list[int]) -> dict[str, float | int]:
    """Runs of consecutive answers to the same connection: how long the others waited meanwhile."""
    runs = [len(list(run)) for _, run in itertools.groupby(order)]
    return {"longest_streak": max(runs, default=0), "mean_streak": round(len(order) / len(runs), 1) if runs else 0}


def cpu_per_request(meter: CpuMeter, requests: int) -> dict[str, float | None]:
    return {key.replace("_cpu_us", "_cpu_us_per_request"): value for key, value in meter.per_item_us(requests).items()}


# -- the run ---------------------------------------------------------------------------


class Runner:
    """Starts the systems each scenario needs, runs it, records, and stops what it started."""

    def __init__(self, ctx: Context, args: argparse.Namespace) -> None:
        self.ctx = ctx
        self.args = args
        self.records: list[Record] = []
        self.started = time.monotonic()

    def progress(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {text}", file=sys.stderr, flush=True)

    def measure(self, system: System, scenario: str, run: Callable[[], Record], **labels: Any) -> None:
        """Run one measurement; record it with what the logs got meanwhile, once they are quiet."""
        self.progress(f"{system.shape}: {scenario} " + " ".join(f"{key}={value}" for key, value in labels.items()))
        marks = system.log_marks()
        t0 = time.monotonic()
        try:
            record = run()
        except Exception as exc:
            traceback.print_exc()
            record = {"error": f"{type(exc).__name__}: {exc}"}
        settled = system.settle()
        record = {"scenario": scenario, "shape": system.shape, **labels, **record}
        record["seconds"] = round(time.monotonic() - t0, 2)
        record["settle_s"] = settled
        record["log"] = log_report(system.log_since(marks))
        self.emit(record)

    def emit(self, record: Record) -> None:
        self.records.append(record)
        print(json.dumps(record), flush=True)

    def start(self, shape: str, gateways: int = 1) -> System:
        system = System(shape, self.ctx, gateways)
        self.progress(f"{shape}: started {len(system.gateways)} server(s) in {system.start_s} s")
        return system

    def stop(self, system: System) -> None:
        marks = system.log_marks()
        t0 = time.monotonic()
        codes = system.stop()
        record = {
            "scenario": "stop",
            "shape": system.shape,
            "exit_codes": codes,
            "seconds": round(time.monotonic() - t0, 2),
            "log": log_report(system.log_since(marks)),
        }
        if any(code != 0 for code in codes.values()) and system.shape != "reference":
            record["error"] = f"exit statuses {codes}"
        self.emit(record)

    def run_shape(self, shape: str) -> None:
        args = self.args
        if "idle_memory" in args.scenarios:
            for count in args.connections:
                self.with_system(shape, 1, functools.partial(self.run_idle, count=count))
        if "echo" in args.scenarios:
            self.with_system(shape, 1, self.run_echo)
        if "broadcast" in args.scenarios:
            self.with_system(shape, 2 if shape in BROKER_SHAPES else 1, self.run_broadcast)
        if "hello" in args.scenarios and shape in (self.hello_shape(), "reference"):
            self.with_system(shape, 1, self.run_hello)

    def hello_shape(self) -> str | None:
        return next((shape for shape in self.args.shapes if shape != "reference"), None)

    def with_system(self, shape: str, gateways: int, body: Callable[[System], None]) -> None:
        """Start a system of ``shape``, run ``body`` on it, stop it (a failed start is recorded)."""
        try:
            system = self.start(shape, gateways)
        except Exception as exc:
            traceback.print_exc()
            self.emit({"scenario": "start", "shape": shape, "error": f"{type(exc).__name__}: {str(exc)[-1500:]}"})
            for process in self.ctx.started:
                process.stop()
            return
        try:
            body(system)
        finally:
            self.stop(system)

    def run_idle(self, system: System, count: int) -> None:
        self.measure(system, "idle_memory", lambda: idle_memory(system, count, self.args), connections=count)

    def run_echo(self, system: System) -> None:
        for sockets in self.args.sockets:
            self.measure(system, "echo", lambda s=sockets: echo(system, s, self.args), sockets=sockets)

    def run_broadcast(self, system: System) -> None:
        for members in self.args.rooms:
            self.measure(system, "broadcast", lambda m=members: broadcast(system, m, self.args), members=members)

    def run_hello(self, system: System) -> None:
        self.measure(system, "hello", lambda: hello(system, self.args))


def cleanup_rabbitmq(url: str, prefix: str) -> list[str]:
    """Delete what the run left on RabbitMQ: the worker's channel queues (declared here so
    that ``flush()`` deletes them), the Celery queue and exchange, then anything else
    ``rabbitmqctl`` still lists under the prefix. Returns what was found after ``flush()``."""
    from celery import Celery
    from kombu import Connection

    from realtime.layers.config import LayerConfig
    from realtime.layers.core import SyncChannelLayer

    layer = SyncChannelLayer(LayerConfig(url=url, prefix=prefix))
    try:
        layer.reader(WORKER_CHANNELS).close()
        layer.flush()
    finally:
        layer.close()
    client = Celery("cleanup", broker=url, set_as_current=False)
    with client.connection_for_write() as connection:
        connection.default_channel.queue_delete(f"{prefix}-celery")
        connection.default_channel.exchange_delete(f"{prefix}-celery")
    client.close()
    found = rabbitmq_names("queues", prefix) + rabbitmq_names("exchanges", prefix)
    with Connection(url) as connection:
        for kind, name in found:
            channel = connection.channel()
            try:
                if kind == "queue":
                    channel.queue_delete(name)
                else:
                    channel.exchange_delete(name)
            finally:
                channel.close()
    return [f"{kind} {name} (removed)" for kind, name in found]


def cleanup_redis(url: str, prefix: str) -> list[str]:
    """Delete what the run left on Redis, by name, never FLUSHDB: the channel layer's keys
    (``<prefix>.*``, through ``flush()``), the Celery queue ``<prefix>-celery`` (its priority
    lists too) and kombu's binding tables of its exchange; then, found with SCAN, any other
    key with the prefix in its name, the members naming the prefix of kombu's shared binding
    tables (the worker's ``celery.pidbox`` queue, named after it), and unacked messages of
    the prefix's queues. Returns what was found after the Celery queue was deleted."""
    import redis

    from realtime.layers.config import LayerConfig
    from realtime.layers.core import SyncChannelLayer

    layer = SyncChannelLayer(LayerConfig(url=url, prefix=prefix))
    try:
        layer.flush()
    finally:
        layer.close()
    queue, sep = f"{prefix}-celery", "\x06\x16"
    client = redis.Redis.from_url(url)
    found: list[str] = []
    try:
        client.delete(
            queue, *(f"{queue}{sep}{priority}" for priority in (3, 6, 9)),
            f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}",
        )  # fmt: skip
        client.zrem("_kombu.binding_deadlines", queue)
        mark = prefix.encode()
        for key in list(client.scan_iter(match=f"*{prefix}*", count=1000)):
            client.delete(key)
            found.append(f"key {key.decode(errors='replace')!r} (removed)")
        for key in list(client.scan_iter(match="_kombu.binding*", count=1000)):
            kind = client.type(key)
            if kind == b"set":
                members = [m for m in client.sscan_iter(key, count=1000) if mark in m]
                if members:
                    client.srem(key, *members)
            elif kind == b"zset":
                members = [m for m, _ in client.zscan_iter(key, count=1000) if mark in m]
                if members:
                    client.zrem(key, *members)
            else:
                continue
            found += [f"member {m.decode(errors='replace')!r} of {key.decode()!r} (removed)" for m in members]
        tags = [tag for tag, message in client.hscan_iter("unacked", count=1000) if mark in message]
        if tags:
            client.hdel("unacked", *tags)
            client.zrem("unacked_index", *tags)
            found.append(f"{len(tags)} unacked messages of the prefix's queues (removed)")
    finally:
        client.close()
    return found


def rabbitmq_names(what: str, prefix: str) -> list[tuple[str, str]]:
    """``rabbitmqctl list_<what>`` names that start with ``prefix``."""
    result = subprocess.run(
        ["rabbitmqctl", "-q", "--no-table-headers", f"list_{what}", "name"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    kind = what.rstrip("s")
    return [(kind, name) for name in result.stdout.split() if name.startswith((f"{prefix}.", f"{prefix}-"))]


# -- output ----------------------------------------------------------------------------


def table(columns: str, rows: list[list[Any]]) -> str:
    header = columns.split("|")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell if isinstance(cell, str) else fmt(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def mib(kib: int | None) -> float | None:
    return None if kib is None else round(kib / 1024, 1)


def lat(record: Record, key: str, *quantiles: str) -> list[Any]:
    stats = record.get(key) or {}
    return [stats.get(q) for q in quantiles]


def idle_row(r: Record) -> list[Any]:
    return [
        r["shape"], r["connections"], f"{r.get('opened', '-')}/{r.get('still_open', '-')}",
        r.get("sample_echo_ok", "-"), r.get("connect_s"), r.get("connects_per_s"),
        mib(r.get("rss_before_kib")), mib(r.get("rss_open_kib")), r.get("kib_per_connection"),
        mib(r.get("rss_after_close_kib")),
    ]  # fmt: skip


def echo_row(r: Record) -> list[Any]:
    received = f"{r.get('received', 0)}/{r.get('sent', 0)}"
    return [
        r["shape"], r["sockets"], *lat(r, "latency_ms", "p50", "p90", "p99", "max"), r.get("msgs_per_s"),
        received, r.get("gateway_cpu_us"), r.get("worker_cpu_us"), r.get("client_cpu_us"),
    ]  # fmt: skip


def broadcast_row(r: Record) -> list[Any]:
    fraction = r.get("delivered_fraction")
    delivered = "-" if fraction is None else f"{fraction:.2%} of {r['sent']}x{r['members']}"
    return [
        r["shape"], r.get("gateways", "-"), r["members"], *lat(r, "latency_last_ms", "p50", "p99", "max"),
        *lat(r, "latency_first_ms", "p50"), delivered, r.get("gateway_cpu_us_per_copy"), r.get("connect_s"),
    ]  # fmt: skip


def hello_row(r: Record) -> list[Any]:
    size = f"{r.get('clients', '-')} x {r.get('requests_per_client', '-')}"
    answered = f"{r.get('answered', 0)}/{r.get('requests', 0)}"
    return [
        r["shape"], size, *lat(r, "latency_ms", "p50", "p99", "max"), r.get("requests_per_s"), answered,
        r.get("longest_streak"), r.get("gateway_cpu_us_per_request"), r.get("client_cpu_us_per_request"),
    ]  # fmt: skip


# Per scenario: the table's columns ("|"-separated) and the function making a row.
TABLES: dict[str, tuple[str, Callable[[Record], list[Any]]]] = {
    "idle_memory": (
        "Shape|N|opened/still open|sample echo|connect s|conn/s|RSS before MiB|RSS open MiB|KiB/conn"
        "|RSS after close MiB",
        idle_row,
    ),
    "echo": (
        "Shape|Sockets|p50 ms|p90 ms|p99 ms|max ms|msg/s|received|gateway CPU µs/msg|worker CPU µs/msg"
        "|client CPU µs/msg",
        echo_row,
    ),
    "broadcast": (
        "Shape|Gateways|Sockets|last p50 ms|last p99 ms|last max ms|first p50 ms|delivered|gateway CPU µs/copy"
        "|connect s",
        broadcast_row,
    ),
    "hello": (
        "Shape|Clients x requests|p50 ms|p99 ms|max ms|req/s|answered|longest streak|gateway CPU µs/req"
        "|client CPU µs/req",
        hello_row,
    ),
}


# Per scenario: the figure compared with the reference shape's at the same size (the record
# field naming the size), the column the ratio follows, and how it reads: ``share`` (a
# throughput, as a percentage of the reference's) or ``times`` (a cost, as a multiple of it).
VERSUS: dict[str, tuple[Callable[[Record], float | None], str | None, str, str]] = {
    "idle_memory": (lambda r: r.get("kib_per_connection"), "connections", "KiB/conn", "times"),
    "echo": (lambda r: r.get("msgs_per_s"), "sockets", "msg/s", "share"),
    "broadcast": (lambda r: (r.get("latency_last_ms") or {}).get("p50"), "members", "last p50 ms", "times"),
    "hello": (lambda r: r.get("requests_per_s"), None, "req/s", "share"),
}


def versus(record: Record, reference: list[Record]) -> str:
    """``record``'s figure against the reference's at the same size: "7.1 %" or "2.3x"."""
    value, size, _, kind = VERSUS[record["scenario"]]
    ref = next((r for r in reference if size is None or r.get(size) == record.get(size)), None)
    mine, theirs = value(record), value(ref) if ref is not None else None
    if not mine or not theirs:
        return "-"
    ratio = mine / theirs
    if kind == "share":
        return f"{ratio * 100:.0f} %" if ratio >= 0.1 else f"{ratio * 100:.1f} %"
    return f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.1f}x"


def summary(records: list[Record]) -> str:
    parts = []
    for scenario, (header, row) in TABLES.items():
        measured = [r for r in records if r["scenario"] == scenario and has_figures(r)]
        if not measured:
            continue
        columns, rows = header.split("|"), [row(r) for r in measured]
        reference = [r for r in measured if r["shape"] == "reference"]
        if reference:  # a ratio column after the figure compared
            after = columns.index(VERSUS[scenario][2]) + 1
            columns.insert(after, VERSUS[scenario][2].removesuffix(" ms") + " vs reference")
            for cells, record in zip(rows, measured, strict=True):
                cells.insert(after, versus(record, reference))
        parts.append(f"### {scenario}\n\n{table('|'.join(columns), rows)}")
    problems = [problem(r) for r in records if "error" in r or r.get("log", {}).get("unexpected")]
    if problems:
        parts.append("### problems\n\n" + "\n".join(f"- {p}" for p in problems))
    return "\n\n".join(parts)


def has_figures(record: Record) -> bool:
    """Measured, even if it failed in part (e.g. some connections refused)."""
    return any(key in record for key in ("opened", "received", "sent", "answered"))


def problem(record: Record) -> str:
    label = f"{record['shape']} {record['scenario']}"
    for key in ("connections", "sockets", "members", "clients"):
        if key in record:
            label += f" {key}={record[key]}"
    text = f"{label}: {record.get('error', '')}"
    log = record.get("log") or {}
    if log.get("unexpected"):
        kinds = "; ".join(f"{count} x `{kind}`" for kind, count in log["unexpected_kinds"].items())
        text += f" {log['unexpected']} unexpected log entries: {kinds}"
    return text


def environment(ctx: Context, args: argparse.Namespace) -> Record:
    import resource

    versions = {"python": sys.version.split()[0]}
    for name in ("gevent", "greenlet", "wsproto", "h11", "celery", "kombu", "amqp", "redis", "Django"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "scenario": "environment",
        "prefix": ctx.prefix,
        "cpus": os.cpu_count(),
        "nofile": resource.getrlimit(resource.RLIMIT_NOFILE),
        "shapes": args.shapes,
        "brokers": {"rabbitmq": args.amqp_url, "redis": args.redis_url},
        "gateway_settings": GATEWAY_SETTINGS,
        "worker_processes": WORKER_PROCESSES,
        **versions,
    }


# -- main ------------------------------------------------------------------------------


def install_watchdog(ctx: Context, limit: float) -> None:
    """A real OS thread: after ``limit`` seconds, SIGTERM to this process (the run stops and
    cleans up as on Ctrl-C); if it is still running a minute later, kill everything it
    started and exit with status 2."""
    start_thread = monkey.get_original("_thread", "start_new_thread")
    sleep = monkey.get_original("time", "sleep")

    def watchdog() -> None:
        sleep(limit)
        ctx.timed_out = True
        print(f"\nthe run exceeded --time-limit {limit:.0f} s; stopping it", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGTERM)
        sleep(GRACE)
        print("still running: killing what it started", file=sys.stderr, flush=True)
        for pid in ctx.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os._exit(2)

    start_thread(watchdog, ())


def install_sigterm() -> None:
    """SIGTERM interrupts the main greenlet like Ctrl-C, so the ``finally`` blocks stop everything."""
    main = gevent.getcurrent()
    gevent.signal_handler(signal.SIGTERM, lambda: main.throw(KeyboardInterrupt("SIGTERM")))


def int_list(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive ints, got {text!r}")
    return values


def name_list(choices: tuple[str, ...]) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        names = [part.strip() for part in text.split(",") if part.strip()]
        unknown = set(names) - set(choices)
        if not names or unknown:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(choices)}; got {text!r}")
        return names

    return parse


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--shapes", type=name_list(SHAPES), default=list(SHAPES), help="default inprocess,rabbitmq,redis,reference")
    add("--scenarios", type=name_list(SCENARIOS), default=list(SCENARIOS), help="default: all four")
    add("--connections", type=int_list, default=[1000, 5000], help="idle_memory counts (default 1000,5000)")
    add("--sockets", type=int_list, default=[1, 10, 100], help="echo sockets (default 1,10,100)")
    add("--messages", type=int, default=2000, help="echo: measured round trips per socket count (default 2000)")
    add("--warmup", type=int, default=100, help="echo: unmeasured round trips, spread over the sockets (default 100)")
    add("--rooms", type=int_list, default=[10, 100, 1000], help="broadcast: sockets in the room (default 10,100,1000)")
    add("--broadcasts", type=int, default=100, help="broadcast: measured messages per room size (default 100)")
    add("--http-clients", type=int, default=10, help="hello: keep-alive connections (default 10)")
    add("--http-requests", type=int, default=2000, help="hello: requests per connection (default 2000)")
    add("--burst", type=int, default=100, help="handshakes in flight at most while connecting (default 100)")
    add("--amqp-url", default=AMQP_URL, help=f"RabbitMQ (default {AMQP_URL})")
    add("--redis-url", default=REDIS_URL, help=f"Redis, a database the run may use (default {REDIS_URL})")
    add("--phase-limit", type=float, default=60.0, help="seconds per measurement at most (default 60)")
    add("--time-limit", type=float, default=900.0, help="seconds for the whole run at most (default 900)")
    add("--log-dir", type=Path, help="keep the processes' logs here (default: a temporary directory, removed)")
    args = parser.parse_args()
    for name in ("messages", "broadcasts", "http_clients", "http_requests", "burst"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def check_fd_limit(args: argparse.Namespace) -> None:
    import resource

    raise_nofile()
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    needed = max([*args.connections, *args.rooms, *args.sockets]) + 200
    if soft < needed:
        raise SystemExit(f"the open-file limit is {soft}; {needed} are needed (raise the hard limit: ulimit -Hn)")


def main() -> int:
    args = parse_args()
    check_fd_limit(args)
    prefix = f"bench-{secrets.token_hex(4)}"
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as tmp:
        log_dir = args.log_dir / prefix if args.log_dir else Path(tmp)
        log_dir.mkdir(parents=True, exist_ok=True)
        ctx = Context(args.amqp_url, args.redis_url, prefix, log_dir)
        install_watchdog(ctx, args.time_limit)
        install_sigterm()
        runner = Runner(ctx, args)
        runner.emit(environment(ctx, args))
        runner.progress(f"prefix {prefix}, {os.cpu_count()} CPUs, logs in {log_dir}")
        try:
            for shape in args.shapes:
                runner.run_shape(shape)
        except KeyboardInterrupt:
            runner.progress("interrupted")
            notes.append("interrupted: --time-limit exceeded" if ctx.timed_out else "interrupted")
        finally:
            for process in ctx.started:
                process.stop()
            if "rabbitmq" in args.shapes:
                try:
                    notes += cleanup_rabbitmq(args.amqp_url, prefix)
                except Exception as exc:
                    notes.append(f"RabbitMQ cleanup failed: {type(exc).__name__}: {exc}")
            if "redis" in args.shapes:
                try:
                    notes += cleanup_redis(args.redis_url, prefix)
                except Exception as exc:
                    notes.append(f"Redis cleanup failed: {type(exc).__name__}: {exc}")
    runner.progress("done")
    print("\n" + summary(runner.records), file=sys.stderr)
    if notes:
        print("\nLeft under the prefix after the run, or other notes:", file=sys.stderr)
        print("\n".join(f"- {note}" for note in notes), file=sys.stderr)
    failed = any("error" in record for record in runner.records) or any(n.startswith("interrupted") for n in notes)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
