"""WebSocket protocol layer benchmark: gevent-websocket vs. h11 + wsproto on gevent.

Two echo servers, each in its own process (this script re-run with ``--serve NAME``),
listening on 127.0.0.1 port 0 (the port is reported back on the child's stdout):

* ``gws``: gevent ``pywsgi.WSGIServer`` + ``geventwebsocket.handler.WebSocketHandler``;
* ``wsproto``: gevent ``StreamServer`` (after ``gevent.monkey.patch_all()``); each
  connection greenlet parses the upgrade request with ``h11`` and then runs
  ``wsproto.connection.Connection(SERVER)`` for the frames, with a 1 MiB message limit
  (close 1009) enforced in the server loop.

Both set TCP_NODELAY on accepted sockets and listen with a backlog of 1024. Paths:
``/`` echoes every message back; ``/close4403`` closes right after the handshake with
code 4403, reason "forbidden"; ``/close4403raw`` (gws only) does the same by writing the
close frame itself (a workaround, see the README).

The client side runs in this process: ``websocket-client`` (sync), one thread per socket,
for the timings, and a small raw-socket client (hand-built masked frames) for the
correctness probes. With ``--client gevent`` (the default) this process is monkey-patched,
so the threads are greenlets; ``--client threads`` uses OS threads (100 of them thrash
on the GIL, see the README). One JSON object per measurement goes to stdout, progress and a
Markdown table to stderr. Every loop is bounded in count and time.

    .venv/bin/python bench/ws_protocols.py
    .venv/bin/python bench/ws_protocols.py --servers wsproto --duration 2 > results.jsonl
"""

# ruff: noqa: E402  (the gevent client must monkey-patch before the other imports)
from __future__ import annotations

import sys


def _client_choice(argv: list[str]) -> str:
    for i, arg in enumerate(argv):
        if arg == "--client" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--client="):
            return arg.split("=", 1)[1]
    return "gevent"


# The bench process's client: with the default --client gevent, patch before anything
# imports socket/threading (the server children patch in serve()).
if __name__ == "__main__" and "--serve" not in sys.argv and _client_choice(sys.argv) == "gevent":
    from gevent import monkey

    monkey.patch_all()

import argparse
import base64
import json
import os
import resource
import select
import signal
import socket
import statistics
import struct
import subprocess
import threading
import time
from importlib import metadata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

MAX_MESSAGE = 1024 * 1024  # wsproto server's message limit (bytes of the message)
BACKLOG = 1024
SERVER_LIFETIME = 900  # a server process exits after this many seconds at most
LABELS = {"gws": "gevent-websocket", "wsproto": "h11 + wsproto"}


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --------------------------------------------------------------------------- servers


def serve(kind: str) -> None:
    """Run one echo server (in the child process) until SIGTERM or the parent dies."""
    from gevent import monkey

    monkey.patch_all()

    import gevent
    from gevent import socket as gsocket

    raise_nofile()
    listener = gsocket.socket(gsocket.AF_INET, gsocket.SOCK_STREAM)
    listener.setsockopt(gsocket.SOL_SOCKET, gsocket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(BACKLOG)

    if kind == "gws":
        server = make_gws_server(listener)
    elif kind == "wsproto":
        server = make_wsproto_server(listener)
    else:
        raise SystemExit(f"unknown server {kind}")

    parent = os.getppid()
    started = time.monotonic()

    def watchdog() -> None:
        while os.getppid() == parent and time.monotonic() - started < SERVER_LIFETIME:
            gevent.sleep(1)
        os._exit(0)

    gevent.spawn(watchdog)
    gevent.signal_handler(signal.SIGTERM, lambda: os._exit(0))
    server.start()
    sys.stdout.write(f"PORT {listener.getsockname()[1]}\n")
    sys.stdout.flush()
    server.serve_forever()


def make_gws_server(listener):
    from gevent.pywsgi import WSGIServer
    from geventwebsocket.exceptions import WebSocketError
    from geventwebsocket.handler import WebSocketHandler

    class NoDelayWSGIServer(WSGIServer):
        def handle(self, sock, address):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().handle(sock, address)

    def app(environ, start_response):
        ws = environ.get("wsgi.websocket")
        if ws is None:
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"websocket only\n"]
        path = environ.get("PATH_INFO", "/")
        if path == "/close4403":
            ws.close(4403, "forbidden")  # the library's own API
            return []
        if path == "/close4403raw":
            ws.send_frame(struct.pack("!H", 4403) + b"forbidden", ws.OPCODE_CLOSE)
            ws.closed = True
            return []
        try:
            while True:
                message = ws.receive()
                if message is None:
                    break
                ws.send(message)
        except WebSocketError:
            pass
        return []

    return NoDelayWSGIServer(listener, app, handler_class=WebSocketHandler, log=None)


def make_wsproto_server(listener):
    import h11
    from gevent.server import StreamServer
    from wsproto.connection import Connection, ConnectionState, ConnectionType
    from wsproto.events import BytesMessage, CloseConnection, Message, Ping, TextMessage
    from wsproto.utilities import generate_accept_token

    closing_limit_s = 5.0  # after we sent a Close, wait at most this long for the peer's
    drain_limit = 64 * MAX_MESSAGE  # ... and discard at most this many bytes meanwhile

    def reject(conn, sock, status: int) -> None:
        body = b"websocket only\n"
        data = conn.send(
            h11.Response(
                status_code=status,
                headers=[("content-length", str(len(body))), ("connection", "close")],
            )
        )
        sock.sendall(data + conn.send(h11.Data(data=body)) + conn.send(h11.EndOfMessage()))

    def handshake(sock):
        """h11 part: read the upgrade request, answer 101. Returns (path, trailing bytes)."""
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=16 * 1024)
        request = None
        for _ in range(64):  # bounded: a request head fits in a few reads
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(sock.recv(65536))
                continue
            if isinstance(event, h11.Request):
                request = event
                continue
            if isinstance(event, h11.EndOfMessage) and request is not None:
                break
            return None  # ConnectionClosed, PAUSED without a request, anything else
        else:
            return None
        headers = {}
        for name, value in request.headers:  # h11 gives lower-case names
            headers[name] = headers[name] + b", " + value if name in headers else value
        connection_tokens = {t.strip().lower() for t in headers.get(b"connection", b"").split(b",")}
        key = headers.get(b"sec-websocket-key", b"").strip()
        if (
            request.method != b"GET"
            or headers.get(b"upgrade", b"").lower() != b"websocket"
            or b"upgrade" not in connection_tokens
            or headers.get(b"sec-websocket-version") != b"13"
            or not key
        ):
            reject(conn, sock, 400)
            return None
        sock.sendall(
            conn.send(
                h11.InformationalResponse(
                    status_code=101,
                    headers=[
                        (b"upgrade", b"websocket"),
                        (b"connection", b"Upgrade"),
                        (b"sec-websocket-accept", generate_accept_token(key)),
                    ],
                )
            )
        )
        trailing, _closed = conn.trailing_data
        return request.target, bytes(trailing)

    def handle(sock, address):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            accepted = handshake(sock)
            if accepted is not None:
                frames(sock, *accepted)
        except (OSError, h11.ProtocolError):
            pass
        finally:
            sock.close()

    def frames(sock, path: bytes, trailing: bytes) -> None:
        """wsproto part: echo every message; 1 MiB limit; close handshake bounded in time."""
        ws = Connection(ConnectionType.SERVER, trailing_data=trailing)
        closing_since = None
        drained = 0
        parts: list = []
        size = 0

        def start_close(code: int, reason: str) -> None:
            nonlocal closing_since
            sock.sendall(ws.send(CloseConnection(code=code, reason=reason)))
            closing_since = time.monotonic()
            sock.settimeout(closing_limit_s)

        if path == b"/close4403":
            start_close(4403, "forbidden")
        while True:
            for event in ws.events():
                if isinstance(event, Message):
                    if closing_since is not None:
                        drained += len(event.data)
                        continue
                    size += len(event.data)  # text: characters (= bytes for ASCII)
                    if size > MAX_MESSAGE:
                        parts, size = [], 0
                        start_close(1009, "message too big")
                        continue
                    parts.append(event.data)
                    if event.message_finished:
                        if isinstance(event, TextMessage):
                            reply = TextMessage(data="".join(parts))
                        else:
                            reply = BytesMessage(data=b"".join(parts))
                        parts, size = [], 0
                        sock.sendall(ws.send(reply))
                elif isinstance(event, Ping):
                    if ws.state is ConnectionState.OPEN:
                        sock.sendall(ws.send(event.response()))
                elif isinstance(event, CloseConnection):
                    # The peer's Close (state REMOTE_CLOSING: answer it), a parse
                    # failure (state still OPEN: event.code is 1002/1007, send it), or
                    # our own close completed / EOF (state CLOSED: nothing to send).
                    if ws.state in (ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING):
                        sock.sendall(ws.send(event.response()))
                    return
            if ws.state is ConnectionState.CLOSED:
                return
            if closing_since is not None and (
                time.monotonic() - closing_since > closing_limit_s or drained > drain_limit
            ):
                return
            try:
                data = sock.recv(65536)
            except TimeoutError:
                return
            ws.receive_data(data or None)

    return StreamServer(listener, handle)


class ServerProcess:
    """One server child: ``python ws_protocols.py --serve KIND`` (or another ``script`` that
    serves ``--serve KIND`` the same way); port read from stdout."""

    def __init__(self, kind: str, start_timeout: float = 20.0, script: str | None = None) -> None:
        self.kind = kind
        self.proc = subprocess.Popen(
            [sys.executable, script or os.path.abspath(__file__), "--serve", kind],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        self.pid = self.proc.pid
        line = b""
        deadline = time.monotonic() + start_timeout
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                self.stop()
                raise RuntimeError(f"{kind} server did not report its port")
            chunk = os.read(self.proc.stdout.fileno(), 100)
            if not chunk:
                self.stop()
                raise RuntimeError(f"{kind} server exited with {self.proc.wait(5)}")
            line += chunk
        self.port = int(line.split()[1])

    def status(self, field: str) -> int:
        """A /proc/<pid>/status field in KiB (VmRSS, VmHWM)."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise KeyError(field)

    def reset_peak(self) -> bool:
        """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs)."""
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    def cpu_seconds(self) -> float:
        """CPU time of the server's (only) thread, from schedstat (ns resolution)."""
        with open(f"/proc/{self.pid}/schedstat") as f:
            return int(f.read().split()[0]) / 1e9

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout:
            self.proc.stdout.close()


# --------------------------------------------------------------------------- clients


class RawWS:
    """Minimal blocking client over a plain socket: handshake, hand-built masked frames."""

    def __init__(self, port: int, path: str = "/", timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk or len(self.buf) > 16384:
                raise RuntimeError(f"handshake failed: {self.buf[:200]!r}")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError(f"handshake refused: {head[:200]!r}")

    @staticmethod
    def frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([(0x80 if fin else 0) | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        key = int.from_bytes(mask * (n // 4 + 1), "big") >> (8 * (4 - n % 4))
        masked = (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big") if n else b""
        return head + mask + masked

    def send(self, opcode: int, payload: bytes) -> None:
        self.sock.sendall(self.frame(opcode, payload))

    def _read(self, n: int, deadline: float) -> bytes | None:
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(max(65536, n - len(self.buf)))
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def recv_frame(self, timeout: float = 10.0):
        """(opcode, payload), or None on EOF/reset. Raises TimeoutError."""
        deadline = time.monotonic() + timeout
        head = self._read(2, deadline)
        if head is None:
            return None
        n = head[1] & 0x7F
        if n == 126:
            ext = self._read(2, deadline)
            n = struct.unpack("!H", ext)[0] if ext else None
        elif n == 127:
            ext = self._read(8, deadline)
            n = struct.unpack("!Q", ext)[0] if ext else None
        if n is None:
            return None
        if head[1] & 0x80 and self._read(4, deadline) is None:  # a server must not mask
            return None
        payload = self._read(n, deadline) if n else b""
        if payload is None:
            return None
        return head[0] & 0x0F, payload

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def describe_close(payload: bytes) -> dict:
    """What a client makes of a close frame's payload (RFC 6455 section 5.5.1)."""
    if len(payload) == 0:
        return {"close_code": None, "close_code_seen_as": 1005, "reason": ""}
    if len(payload) == 1:
        return {"close_code": None, "close_code_seen_as": 1002, "raw": payload.hex()}
    return {
        "close_code": struct.unpack("!H", payload[:2])[0],
        "reason": payload[2:].decode("utf-8", "replace"),
        "raw_payload": payload[:40].decode("latin-1"),
    }


def read_until_close(ws: RawWS, timeout: float, max_frames: int = 16, stop_on_data: bool = False) -> dict:
    """Read frames until a Close, EOF or the deadline (or a data frame); describe what came."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    for _ in range(max_frames):
        try:
            frame = ws.recv_frame(max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            return {"result": "timeout", "frames": seen}
        if frame is None:
            return {"result": "eof_without_close", "frames": seen}
        opcode, payload = frame
        if opcode == 8:
            try:  # answer the Close, as a client should
                ws.send(8, payload[:2])
            except OSError:
                pass
            return {"result": "close", "frames": seen, **describe_close(payload)}
        seen.append(f"opcode {opcode}, {len(payload)} bytes")
        if stop_on_data and opcode in (1, 2):
            return {"result": "data_frame", "frames": seen}
    return {"result": "no_close_after_frames", "frames": seen}


def wsclient_connect(port: int, path: str = "/", timeout: float = 15.0):
    import websocket

    return websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=timeout)


def wsclient_close(ws) -> None:
    try:
        ws.close(timeout=1)
    except Exception:
        try:
            ws.shutdown()
        except Exception:
            pass


# --------------------------------------------------------------------------- measurements


def percentile(values: list[float], q: float) -> float | None:
    from benchstats import percentile as pct

    return pct(values, q)


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 3)


def echo_latency(server: ServerProcess, messages: int, warmup: int, limit_s: float) -> dict:
    ws = wsclient_connect(server.port)
    lat: list[float] = []
    wrong = 0
    try:
        for i in range(warmup):
            ws.send(f"w{i:019d}")
            ws.recv()
        cpu0 = server.cpu_seconds()
        deadline = time.monotonic() + limit_s
        for i in range(messages):
            if time.monotonic() > deadline:
                break
            text = f"m{i:019d}"  # 20 bytes, unique
            t0 = time.perf_counter()
            ws.send(text)
            reply = ws.recv()
            lat.append(time.perf_counter() - t0)
            wrong += reply != text
        cpu = server.cpu_seconds() - cpu0
    finally:
        wsclient_close(ws)
    return {
        "messages": len(lat),
        "wrong_replies": wrong,
        "p50_ms": ms(percentile(lat, 50)),
        "p90_ms": ms(percentile(lat, 90)),
        "p99_ms": ms(percentile(lat, 99)),
        "max_ms": ms(max(lat)) if lat else None,
        "server_cpu_us_per_msg": round(cpu / len(lat) * 1e6, 1) if lat else None,
    }


def closed_loop(server: ServerProcess, sockets: int, duration: float, max_per_socket: int) -> dict:
    conns = []
    try:
        for _ in range(sockets):
            conns.append(wsclient_connect(server.port))
    except Exception as exc:
        for ws in conns:
            wsclient_close(ws)
        return {"error": f"connect {len(conns)}/{sockets}: {exc!r}"}
    barrier = threading.Barrier(sockets + 1, timeout=30)
    counts = [0] * sockets
    wrong = [0] * sockets
    errors: list[str] = []
    lats: list[list[float]] = [[] for _ in range(sockets)]
    stop_at = [0.0]

    def run(idx: int) -> None:
        ws = conns[idx]
        text = f"s{idx:04d}-{'x' * 14}"  # 20 bytes
        lat = lats[idx]
        try:
            barrier.wait()
            end = stop_at[0]
            for _ in range(max_per_socket):
                t0 = time.perf_counter()
                if t0 >= end:
                    break
                ws.send(text)
                reply = ws.recv()
                lat.append(time.perf_counter() - t0)
                counts[idx] += 1
                wrong[idx] += reply != text
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(sockets)]
    for t in threads:
        t.start()
    cpu0, own0 = server.cpu_seconds(), time.process_time()
    t_start = time.perf_counter()
    stop_at[0] = t_start + duration
    barrier.wait()
    for t in threads:
        t.join(duration + 30)
    elapsed = time.perf_counter() - t_start
    cpu, own = server.cpu_seconds() - cpu0, time.process_time() - own0
    for ws in conns:
        wsclient_close(ws)
    total = sum(counts)
    all_lat = [x for lat in lats for x in lat]
    return {
        "sockets": sockets,
        "duration_s": round(elapsed, 2),
        "messages": total,
        "msgs_per_s": round(total / elapsed, 1) if elapsed else None,
        "p50_ms": ms(percentile(all_lat, 50)),
        "p99_ms": ms(percentile(all_lat, 99)),
        "wrong_replies": sum(wrong),
        "errors": errors[:3],
        "server_cpu_s": round(cpu, 2),
        "server_cpu_us_per_msg": round(cpu / total * 1e6, 1) if total else None,
        "client_cpu_s": round(own, 2),
    }


def big_echo(server: ServerProcess, size: int, repeats: int, limit_s: float) -> dict:
    ws = wsclient_connect(server.port, timeout=30)
    payload = os.urandom(size)
    times: list[float] = []
    wrong = 0
    deadline = time.monotonic() + limit_s
    try:
        ws.send_binary(payload)  # warm-up
        ws.recv()
        cpu0 = server.cpu_seconds()
        for _ in range(repeats):
            if time.monotonic() > deadline:
                break
            t0 = time.perf_counter()
            ws.send_binary(payload)
            reply = ws.recv()
            times.append(time.perf_counter() - t0)
            wrong += reply != payload
        cpu = server.cpu_seconds() - cpu0
    finally:
        wsclient_close(ws)
    return {
        "bytes": size,
        "repeats": len(times),
        "median_ms": ms(statistics.median(times)) if times else None,
        "min_ms": ms(min(times)) if times else None,
        "max_ms": ms(max(times)) if times else None,
        "wrong_replies": wrong,
        "server_cpu_ms_per_echo": round(cpu / len(times) * 1000, 1) if times else None,
    }


def probe_close_4403(server: ServerProcess, path: str) -> dict:
    ws = RawWS(server.port, path)
    try:
        got = read_until_close(ws, timeout=5)
    finally:
        ws.close()
    ok = got.get("close_code") == 4403 and got.get("reason") == "forbidden"
    return {"path": path, "expected": "4403 forbidden", "ok": ok, **got}


def probe_oversize(server: ServerProcess, size: int) -> dict:
    rss0 = server.status("VmRSS")
    peak_reset = server.reset_peak()
    ws = RawWS(server.port, "/", timeout=30)
    frame = RawWS.frame(2, os.urandom(size))
    send_error: list[str] = []

    def sender() -> None:
        try:
            ws.sock.sendall(frame)
        except OSError as exc:
            send_error.append(repr(exc))

    t0 = time.perf_counter()
    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    try:
        got = read_until_close(ws, timeout=20, max_frames=4, stop_on_data=True)
        answer_s = time.perf_counter() - t0
        if got["result"] != "close":  # e.g. echoed: close it ourselves
            try:
                ws.send(8, struct.pack("!H", 1000))
                read_until_close(ws, timeout=2)
            except (OSError, TimeoutError):
                pass
    finally:
        thread.join(10)
        ws.close()
    time.sleep(0.3)
    rss1 = server.status("VmRSS")
    peak = server.status("VmHWM")
    return {
        "frame_bytes": size,
        "server_limit_bytes": MAX_MESSAGE if server.kind == "wsproto" else None,
        "expected": "close 1009",
        "ok": got.get("close_code") == 1009,
        **got,
        "answer_s": round(answer_s, 3),
        "client_send_error": send_error[:1],
        "server_rss_before_kib": rss0,
        "server_peak_growth_kib": peak - rss0 if peak_reset else None,
        "server_rss_after_kib": rss1,
        "server_rss_retained_kib": rss1 - rss0,
    }


def probe_invalid_utf8(server: ServerProcess) -> dict:
    ws = RawWS(server.port, "/")
    try:
        ws.send(1, b"bad \xff\xfe utf-8 \xc3\x28")
        got = read_until_close(ws, timeout=5, max_frames=4)
    finally:
        ws.close()
    return {"expected": "close 1007 (or 1002)", "ok": got.get("close_code") in (1002, 1007), **got}


def probe_idle(kind: str, count: int, limit_s: float) -> dict:
    """Fresh server: warm up, then open `count` idle connections; RSS growth per socket."""
    server = ServerProcess(kind)
    conns: list[RawWS] = []
    try:
        for _ in range(20):
            RawWS(server.port).close()
        time.sleep(0.5)
        rss0 = server.status("VmRSS")
        deadline = time.monotonic() + limit_s
        error = None
        try:
            for _ in range(count):
                if time.monotonic() > deadline:
                    error = "time limit"
                    break
                conns.append(RawWS(server.port, timeout=10))
        except Exception as exc:
            error = repr(exc)
        time.sleep(0.5)
        rss1 = server.status("VmRSS")
        opened = len(conns)
        for ws in conns:
            ws.close()
        time.sleep(1.0)
        rss2 = server.status("VmRSS")
    finally:
        for ws in conns:
            ws.close()
        server.stop()
    return {
        "connections": opened,
        "error": error,
        "server_rss_before_kib": rss0,
        "server_rss_open_kib": rss1,
        "server_rss_after_close_kib": rss2,
        "kib_per_connection": round((rss1 - rss0) / opened, 1) if opened else None,
    }


# --------------------------------------------------------------------------- main


def emit(obj: dict) -> None:
    print(json.dumps(obj), flush=True)


def versions() -> dict:
    out = {"python": sys.version.split()[0]}
    for name in ("gevent", "greenlet", "gevent-websocket", "wsproto", "h11", "websocket-client", "wsaccel"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def fmt_close(r: dict) -> str:
    if "error" in r:
        return "error"
    after = f" (after {r['answer_s'] * 1000:.0f} ms)" if "answer_s" in r else ""
    if r.get("result") == "data_frame":
        return f"✗ no close: echoed ({'; '.join(r['frames'])}){after}"
    if r.get("result") != "close":
        frames = "; ".join(r.get("frames", [])) or "none"
        return f"✗ no close ({r.get('result')}; frames: {frames})"
    code = r.get("close_code")
    reason = r.get("reason") or ""
    reason = reason if len(reason) <= 24 else reason[:21] + "..."
    if code is None:
        text = f"close without status code (client sees {r.get('close_code_seen_as')})"
    else:
        text = f"{code} {reason!r}"
    return ("✓ " if r.get("ok") else "✗ ") + text + after


def table(results: dict, kinds: list[str]) -> str:
    def cell(kind, key, fn):
        r = results.get(kind, {}).get(key)
        if r is None:
            return "-"
        if "error" in r and r["error"] and key != "idle":
            return f"error: {r['error'][:60]}"
        try:
            return fn(r)
        except Exception:
            return "?"

    rows = [
        ("Echo 20 B, 1 socket: p50 / p99 ms", "latency", lambda r: f"{r['p50_ms']:.3f} / {r['p99_ms']:.3f}"),
        ("  server CPU µs per message", "latency", lambda r: f"{r['server_cpu_us_per_msg']}"),
    ]
    for key in sorted(k for k in results.get(kinds[0], {}) if k.startswith("loop")):
        n = int(key[4:])
        rows.append(
            (
                f"Closed loop, {n} sockets: msg/s (p50 / p99 ms)",
                key,
                lambda r: f"{r['msgs_per_s']:,.0f} ({r['p50_ms']:.2f} / {r['p99_ms']:.2f})",
            )
        )
        rows.append((f"  server CPU µs per message ({n} sockets)", key, lambda r: f"{r['server_cpu_us_per_msg']}"))
    rows += [
        ("Echo 1 MiB binary: median of 10, ms", "big", lambda r: f"{r['median_ms']:.1f}"),
        ("  server CPU ms per 1 MiB echo", "big", lambda r: f"{r['server_cpu_ms_per_echo']}"),
        ('(a) server closes with 4403 "forbidden"', "close4403", fmt_close),
        ("(a') same, close frame written by the app", "close4403raw", fmt_close),
        ("(b) 2 MiB frame, 1 MiB limit: client gets", "oversize", fmt_close),
        (
            "(b) server RSS peak growth / retained, MiB",
            "oversize",
            lambda r: f"{r['server_peak_growth_kib'] / 1024:.1f} / {r['server_rss_retained_kib'] / 1024:.1f}",
        ),
        ("(c) invalid UTF-8 text frame", "utf8", fmt_close),
        (
            "(d) idle connection: server RSS KiB per socket",
            "idle",
            lambda r: f"{r['kib_per_connection']} ({r['connections']} sockets)",
        ),
    ]
    head = "| Measurement | " + " | ".join(LABELS[k] for k in kinds) + " |"
    lines = [head, "|---" * (len(kinds) + 1) + "|"]
    for label, key, fn in rows:
        lines.append(f"| {label} | " + " | ".join(cell(k, key, fn) for k in kinds) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--servers", default="gws,wsproto", help="comma-separated gws, wsproto")
    parser.add_argument("--messages", type=int, default=2000, help="latency: messages (default 2000)")
    parser.add_argument("--sockets", default="10,100", help="closed-loop socket counts (default 10,100)")
    parser.add_argument("--duration", type=float, default=5.0, help="closed-loop seconds each (default 5)")
    parser.add_argument("--big-repeats", type=int, default=10, help="1 MiB echoes (default 10)")
    parser.add_argument("--idle", type=int, default=1000, help="idle connections (default 1000)")
    parser.add_argument("--time-limit", type=float, default=300, help="whole run, seconds (default 300)")
    parser.add_argument(
        "--client",
        choices=("gevent", "threads"),
        default="gevent",
        help="client threads: greenlets (monkey-patched) or OS threads (default gevent)",
    )
    args = parser.parse_args()

    if args.serve:
        serve(args.serve)
        return 0

    raise_nofile()
    kinds = [k for k in args.servers.split(",") if k]
    for k in kinds:
        if k not in LABELS:
            parser.error(f"unknown server {k}")
    socket_counts = [int(x) for x in args.sockets.split(",") if x]

    servers: list[ServerProcess] = []

    def watchdog() -> None:  # backstop: every phase has its own count and time bounds
        sleep(args.time_limit)
        print(f"whole run exceeded --time-limit {args.time_limit}s; stopping", file=sys.stderr, flush=True)
        for server in servers:
            if server.proc.poll() is None:
                server.proc.kill()
        os._exit(2)

    if args.client == "gevent":
        from gevent import monkey

        start_thread = monkey.get_original("_thread", "start_new_thread")
        sleep = monkey.get_original("time", "sleep")
    else:
        import _thread

        start_thread, sleep = _thread.start_new_thread, time.sleep
    start_thread(watchdog, ())  # a real OS thread even when the rest is greenlets
    t_run = time.monotonic()
    env = versions()
    env["client"] = args.client
    env["cpus"] = os.cpu_count()
    with open("/proc/sys/net/core/somaxconn") as f:
        env["somaxconn"] = int(f.read())
    emit({"measurement": "environment", **env})
    results: dict[str, dict] = {k: {} for k in kinds}
    failed = False

    def run(kind: str, key: str, name: str, fn, *fargs) -> None:
        nonlocal failed
        print(f"[{time.monotonic() - t_run:6.1f}s] {LABELS[kind]}: {name}", file=sys.stderr, flush=True)
        try:
            r = fn(*fargs)
        except Exception as exc:
            r = {"error": repr(exc)}
        if r.get("error") and key != "idle":
            failed = True
        results[kind][key] = r
        emit({"server": kind, "measurement": name, **r})

    try:
        for kind in kinds:
            server = ServerProcess(kind)
            servers.append(server)
            emit({"server": kind, "measurement": "server_started", "pid": server.pid, "port": server.port})
            run(kind, "latency", "echo_latency_20B", echo_latency, server, args.messages, 100, 30)
            for n in socket_counts:
                run(kind, f"loop{n:03d}", f"closed_loop_{n}", closed_loop, server, n, args.duration, 200_000)
            run(kind, "big", "echo_1MiB", big_echo, server, MAX_MESSAGE, args.big_repeats, 60)
            run(kind, "close4403", "probe_close_4403", probe_close_4403, server, "/close4403")
            if kind == "gws":
                run(kind, "close4403raw", "probe_close_4403_app_frame", probe_close_4403, server, "/close4403raw")
            run(kind, "oversize", "probe_2MiB_frame", probe_oversize, server, 2 * MAX_MESSAGE)
            run(kind, "utf8", "probe_invalid_utf8", probe_invalid_utf8, server)
            server.stop()
            run(kind, "idle", "probe_idle_memory", probe_idle, kind, args.idle, 60)
    finally:
        for server in servers:
            server.stop()

    print(f"\nTotal {time.monotonic() - t_run:.1f} s\n", file=sys.stderr)
    print(table(results, kinds), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
