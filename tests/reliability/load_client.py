"""A gevent WebSocket load client for the hold and soak tests (run as a process of its own).

    python -m tests.reliability.load_client hold PORT SOCKETS SECONDS
    python -m tests.reliability.load_client soak PORT SOCKETS SECONDS ROOMS RATE

``hold``: SOCKETS sockets on ``/frames/``, each sends a message every 10-20 s and checks
its echo. ``soak``: SOCKETS sockets spread over ROOMS rooms of ``/chat/<room>/``; one
socket per room sends RATE / ROOMS messages a second, every socket counts what it gets.
Prints one JSON object of figures.
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402

import gevent  # noqa: E402
import websocket  # noqa: E402
from gevent.pool import Pool  # noqa: E402

ORIGIN = "http://127.0.0.1"


def connect(port: int, path: str, opened: list, failures: Counter) -> None:
    try:
        opened.append((path, websocket.create_connection(f"ws://127.0.0.1:{port}{path}", origin=ORIGIN, timeout=60)))
    except Exception as error:  # counted, not raised: the figures say how many
        failures[type(error).__name__] += 1


def open_all(port: int, paths: list[str]) -> tuple[list, Counter, float]:
    opened: list = []
    failures: Counter = Counter()
    started = time.monotonic()
    pool = Pool(100)  # handshakes in flight at most
    for path in paths:
        pool.spawn(connect, port, path, opened, failures)
    pool.join()
    return opened, failures, time.monotonic() - started


def percentile(values: list[float], share: float) -> float:
    return round(sorted(values)[min(len(values) - 1, int(len(values) * share))] * 1000, 2) if values else 0.0


def hold(port: int, sockets: int, seconds: float) -> dict:
    pairs, failures, connect_seconds = open_all(port, ["/frames/"] * sockets)
    opened = [ws for _, ws in pairs]
    latencies: list[float] = []
    errors: Counter = Counter()
    end = time.monotonic() + seconds
    held = 0

    def echo_now_and_then(ws: websocket.WebSocket, number: int) -> None:
        nonlocal held
        sent = 0
        while True:
            gevent.sleep(random.uniform(10, 20))
            if time.monotonic() > end:
                # Closed at once: a socket nobody reads stops answering pings, and the gateway
                # would rightly drop it (1006) before a later close reached it.
                held += ws.connected
                ws.close()
                return
            text = f"{number}-{sent}"
            started = time.monotonic()
            try:
                ws.send(text)
                if ws.recv() != text:
                    errors["wrong_echo"] += 1
                    return
            except Exception as error:
                errors[type(error).__name__] += 1
                return
            latencies.append(time.monotonic() - started)
            sent += 1

    gevent.joinall([gevent.spawn(echo_now_and_then, ws, n) for n, ws in enumerate(opened)])
    return {"sockets": sockets, "opened": len(opened), "open_failures": dict(failures),
            "connect_seconds": round(connect_seconds, 2), "still_open": held, "echoes": len(latencies),
            "errors": dict(errors), "echo_p50_ms": percentile(latencies, 0.5),
            "echo_p99_ms": percentile(latencies, 0.99)}  # fmt: skip


def soak(port: int, sockets: int, seconds: float, rooms: int, rate: float) -> dict:
    pairs, failures, _ = open_all(port, [f"/chat/soak{n % rooms}/" for n in range(sockets)])
    opened = [ws for _, ws in pairs]
    by_room: dict[int, list] = {}
    for path, ws in pairs:
        by_room.setdefault(int(path.strip("/").removeprefix("chat/soak")), []).append(ws)
    received: Counter = Counter()
    sent: Counter = Counter()
    errors: Counter = Counter()
    end = time.monotonic() + seconds

    def listen(ws: websocket.WebSocket, room: int) -> None:
        ws.settimeout(1)
        while time.monotonic() < end + 3:
            try:
                ws.recv()
                received[room] += 1
            except websocket.WebSocketTimeoutException:
                continue
            except Exception as error:
                errors[type(error).__name__] += 1
                return

    def speak(ws: websocket.WebSocket, room: int) -> None:
        interval = rooms / rate
        while time.monotonic() < end:
            try:
                ws.send(f"{room}-{sent[room]}")
                sent[room] += 1
            except Exception as error:
                errors[type(error).__name__] += 1
                return
            gevent.sleep(interval)

    gevent.sleep(1)  # the connect consumers have added everyone to their rooms
    workers = [gevent.spawn(listen, ws, room) for room, members in by_room.items() for ws in members]
    workers += [gevent.spawn(speak, members[0], room) for room, members in by_room.items()]
    gevent.joinall(workers)
    expected = sum(sent[room] * len(members) for room, members in by_room.items())
    delivered = sum(received.values())
    for ws in opened:
        ws.close()
    return {"sockets": sockets, "opened": len(opened), "open_failures": dict(failures), "rooms": rooms,
            "sent": sum(sent.values()), "copies_expected": expected, "copies_delivered": delivered,
            "delivered_ratio": round(delivered / expected, 6) if expected else 0.0, "errors": dict(errors),
            "median_room": statistics.median(len(m) for m in by_room.values()) if by_room else 0}  # fmt: skip


if __name__ == "__main__":
    mode, port = sys.argv[1], int(sys.argv[2])
    numbers = [float(value) for value in sys.argv[3:]]
    if mode == "hold":
        figures = hold(port, int(numbers[0]), numbers[1])
    else:
        figures = soak(port, int(numbers[0]), numbers[1], int(numbers[2]), numbers[3])
    print(json.dumps(figures))
