#!/usr/bin/env python
"""Latency and throughput of the channel layer, between two processes.

Scenarios (each one between two separate processes started with the "spawn" method,
except ``memory``, whose two sides are threads of this process):

* ``send_receive_latency`` - A sends to a normal channel, B receives and at once sends
  the message back to A's reply channel (named in the message); one message at a time.
  Round-trip p50/p90/p99/max and a one-way estimate (RTT/2).
* ``throughput`` - A sends N messages to a normal channel as fast as it can, B receives
  them. Sender msgs/s, end-to-end msgs/s (first send to last receive, from the
  ``time.time()`` stamped in each message) and delivered count.
* ``reply_throughput`` - the same, B sending to A's reply channel.
* ``group_fanout`` - A owns 100 reply channels in one group; B calls ``group_send`` M=200
  times, one at a time (B waits until A has the message on all 100 channels, told over a
  multiprocessing pipe, before sending the next). Latency from ``group_send`` to the last
  of A's 100 channels, p50/p99, and the delivered fraction.

Each scenario is preceded by ``--warmup`` unmeasured messages. The throughput scenarios
use a layer config with ``capacity``/``worker_capacity``/``inbox_capacity`` raised to
100000 (so the sender is never paced by ChannelFull and the owner never drops for a full
reply channel); the two latency scenarios use the default config and are paced (one
message in flight). Every JSON object says which in ``capacity`` and ``pacing``.

One JSON object per scenario and transport goes to stdout, a summary table (Markdown) to
stderr. Every run uses its own prefix (``bench-<random>``); both sides ``flush()`` and
``close()`` their layer at the end of each scenario, and the script then checks the
broker for objects still under the prefix (``leftovers_after_flush``) and removes them.

    .venv/bin/python bench/layer_latency.py [--transports amqp,redis,memory] [--messages N]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import multiprocessing
import os
import secrets
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchstats import fmt, ms, percentile  # noqa: E402

from realtime.exceptions import ChannelFull  # noqa: E402
from realtime.layers.config import LayerConfig  # noqa: E402
from realtime.layers.core import SyncChannelLayer  # noqa: E402

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
SCENARIOS = ("send_receive_latency", "throughput", "reply_throughput", "group_fanout")
RAISED_CAPACITY = 100_000
GROUP = "g"
GROUP_MEMBERS = 100
GROUP_MESSAGES = 200
# Seconds a receiver waits for the next message before declaring the rest lost.
IDLE_TIMEOUT = 5.0
# Seconds A waits for one group message to reach all its members.
GROUP_DEADLINE = 2.0
# Seconds to wait for the other side at a synchronisation point.
PEER_TIMEOUT = 120.0


# -- helpers ---------------------------------------------------------------------------


class _IgnoredDeliveries(logging.Handler):
    """Counts py-amqp's "Received method (60, 60) during closing channel N" warnings: a
    basic.deliver that reached a consumer channel the layer was closing (the message goes
    back to the queue). Counted here and reported in the JSON instead of flooding stderr."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "during closing channel" in str(record.msg):
            self.count += 1
        else:
            sys.stderr.write(f"amqp: {record.getMessage()}\n")


_IGNORED = _IgnoredDeliveries()


def count_amqp_close_warnings() -> None:
    amqp_logger = logging.getLogger("amqp")
    if _IGNORED not in amqp_logger.handlers:
        amqp_logger.addHandler(_IGNORED)
        amqp_logger.propagate = False


def layer_config(url: str, prefix: str, raised: bool) -> LayerConfig:
    if raised:
        return LayerConfig(
            url=url,
            prefix=prefix,
            capacity=RAISED_CAPACITY,
            worker_capacity=RAISED_CAPACITY,
            inbox_capacity=RAISED_CAPACITY,
        )
    return LayerConfig(url=url, prefix=prefix)


def capacity_note(raised: bool) -> dict[str, Any]:
    config = LayerConfig()
    if raised:
        value = RAISED_CAPACITY
        return {"mode": "raised", "capacity": value, "worker_capacity": value, "inbox_capacity": value}
    return {
        "mode": "default",
        "capacity": config.capacity,
        "worker_capacity": config.worker_capacity,
        "inbox_capacity": config.inbox_capacity,
    }


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


class Control:
    """The synchronisation pipe between A and B (works across processes and threads)."""

    def __init__(self, conn: Connection, alive: Any = None) -> None:
        self.conn = conn
        self._alive = alive

    def send(self, tag: str, data: Any = None) -> None:
        self.conn.send((tag, data))

    def expect(self, tag: str, timeout: float = PEER_TIMEOUT) -> Any:
        deadline = time.monotonic() + timeout
        while not self.conn.poll(min(1.0, max(0.0, deadline - time.monotonic()))):
            if self._alive is not None and not self._alive():
                raise RuntimeError(f"the other side died while we waited for {tag!r}")
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no {tag!r} from the other side within {timeout} s")
        got, data = self.conn.recv()
        if got == "error":
            raise RuntimeError(f"the other side failed:\n{data}")
        if got != tag:
            raise RuntimeError(f"expected {tag!r} from the other side, got {got!r}")
        return data


def message(seq: int, text: str, warm: bool, **extra: Any) -> dict[str, Any]:
    return {"type": "bench.message", "seq": seq, "warm": warm, "ts": time.time(), "text": text, **extra}


# -- roles (run by either side) --------------------------------------------------------


def role_sender(layer: SyncChannelLayer, ctl: Control, target: str, n: int, warmup: int, size: int) -> dict[str, Any]:
    """Send ``warmup`` then, once the receiver has them, ``n`` messages as fast as possible."""
    text = "x" * size
    for i in range(warmup):
        layer.send(target, message(i, text, True))
    ctl.expect("warm")
    full = 0
    start = time.perf_counter()
    for i in range(n):
        try:
            layer.send(target, message(i, text, False))
        except ChannelFull:
            full += 1
    elapsed = time.perf_counter() - start
    return {"sent": n - full, "channel_full": full, "send_seconds": elapsed}


def role_receiver(layer: SyncChannelLayer, ctl: Control, channel: str, n: int, warmup: int) -> dict[str, Any]:
    """Take the warm-up, tell the sender, then take up to ``n`` measured messages."""
    warm = 0
    while warm < warmup:
        got = layer.receive(channel, timeout=IDLE_TIMEOUT)
        if got is None:
            break
        warm += bool(got.get("warm"))
    ctl.send("warm")
    seen: set[int] = set()
    duplicates = out_of_order = stray = 0
    highest = -1
    transit: list[float] = []
    first_ts = min_ts = last_receive = None
    while len(seen) < n:
        got = layer.receive(channel, timeout=IDLE_TIMEOUT)
        now = time.time()
        if got is None:
            break
        if got.get("warm"):
            stray += 1
            continue
        seq = got["seq"]
        if seq in seen:
            duplicates += 1
        seen.add(seq)
        if seq < highest:
            out_of_order += 1
        highest = max(highest, seq)
        transit.append(now - got["ts"])
        min_ts = got["ts"] if min_ts is None else min(min_ts, got["ts"])
        if seq == 0:
            first_ts = got["ts"]
        last_receive = now
    return {
        "warm_received": warm,
        "received": len(seen),
        "duplicates": duplicates,
        "out_of_order": out_of_order,
        "late_warmup": stray,
        "first_send_ts": first_ts if first_ts is not None else min_ts,
        "last_receive_ts": last_receive,
        "transit": transit,
    }


def role_echo(layer: SyncChannelLayer, ctl: Control, channel: str) -> dict[str, Any]:
    """Send every message on ``channel`` back to the reply channel it names, until "stop"."""
    echoed = 0
    while True:
        got = layer.receive(channel, timeout=30.0)
        if got is None:
            raise TimeoutError(f"echo: nothing on {channel!r} for 30 s")
        if got.get("stop"):
            return {"echoed": echoed}
        layer.send(got["reply"], {"type": "bench.pong", "seq": got["seq"], "ts": got["ts"], "text": got["text"]})
        echoed += 1


def role_group_sender(layer: SyncChannelLayer, ctl: Control, total: int, warmup: int, size: int) -> dict[str, Any]:
    """``group_send`` one message, wait until A has it everywhere, repeat."""
    text = "x" * size
    calls: list[float] = []
    for i in range(total):
        start = time.perf_counter()
        layer.group_send(GROUP, message(i, text, i < warmup))
        if i >= warmup:
            calls.append(time.perf_counter() - start)
        ctl.expect("next", GROUP_DEADLINE + 30)
    return {"group_send_call_p50_ms": ms(percentile(calls, 50))}


def peer_main(role: str, url: str, prefix: str, raised: bool, params: dict[str, Any], conn: Connection) -> None:
    """Side B: build a layer, play ``role``, report, and clean up when A says so."""
    ctl = Control(conn)
    layer = None
    count_amqp_close_warnings()
    ignored_before = _IGNORED.count
    try:
        layer = SyncChannelLayer(layer_config(url, prefix, raised))
        ctl.send("ready")
        if role == "echo":
            result = role_echo(layer, ctl, params["channel"])
        elif role == "receiver":
            result = role_receiver(layer, ctl, params["channel"], params["n"], params["warmup"])
        elif role == "sender":
            result = role_sender(layer, ctl, params["target"], params["n"], params["warmup"], params["size"])
        elif role == "group_sender":
            result = role_group_sender(layer, ctl, params["total"], params["warmup"], params["size"])
        else:
            raise ValueError(f"unknown role {role!r}")
        result["amqp_ignored_deliveries"] = _IGNORED.count - ignored_before
        ctl.send("result", result)
        ctl.expect("cleanup", PEER_TIMEOUT * 5)
    except BaseException:
        ctl.send("error", traceback.format_exc())
    finally:
        if layer is not None:
            for cleanup in (layer.flush, layer.close):
                try:
                    cleanup()
                except Exception as exc:
                    print(f"# B: cleanup {cleanup.__qualname__} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        with contextlib.suppress(OSError):
            ctl.send("closed")


class Peer(Control):
    """Side B, in a spawned process (or a thread for ``memory://``)."""

    def __init__(self, transport: str, role: str, url: str, prefix: str, raised: bool, params: dict[str, Any]) -> None:
        here, there = multiprocessing.Pipe()
        args = (role, url, prefix, raised, params, there)
        if transport == "memory":
            self.worker: Any = threading.Thread(target=peer_main, args=args, name=f"bench-{role}", daemon=True)
        else:
            self.worker = multiprocessing.get_context("spawn").Process(
                target=peer_main, args=args, name=f"bench-{role}", daemon=True
            )
        super().__init__(here, alive=self.worker.is_alive)
        self.worker.start()
        self.expect("ready")

    def finish(self) -> None:
        """Tell B to flush and close its layer; wait until it has."""
        try:
            if self.worker.is_alive():
                self.send("cleanup")
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and self.conn.poll(min(1.0, deadline - time.monotonic())):
                    if self.conn.recv()[0] == "closed":
                        break
        except (OSError, EOFError):
            pass
        self.worker.join(timeout=30)
        if isinstance(self.worker, multiprocessing.process.BaseProcess) and self.worker.is_alive():
            self.worker.terminate()
            self.worker.join(timeout=5)


# -- leftovers ---------------------------------------------------------------------------


def leftovers(transport: str, url: str, prefix: str, names: dict[str, set[str]], remove: bool = True) -> list[str]:
    """Broker objects under ``prefix`` that survived flush()+close(); removed if ``remove``."""
    found: list[str] = []
    if transport == "redis":
        import redis

        client = redis.Redis.from_url(url)
        try:
            keys = list(client.scan_iter(match=f"{prefix}.*", count=1000))
            found = sorted(f"key {key.decode()}" for key in keys)
            if keys and remove:
                client.delete(*keys)
        finally:
            client.close()
    elif transport == "amqp":
        import amqp
        import kombu

        with kombu.Connection(url) as connection:
            raw = connection.connection
            for kind in ("queue", "exchange"):
                for name in sorted(names[kind]):
                    channel = raw.channel()
                    try:
                        if kind == "queue":
                            channel.queue_declare(name, passive=True)
                        else:
                            channel.exchange_declare(name, "direct", passive=True)
                    except amqp.exceptions.NotFound:
                        continue  # the failed passive declare closed the channel
                    found.append(f"{kind} {name}")
                    if remove:
                        getattr(channel, f"{kind}_delete")(name)
                    channel.close()
    elif transport == "memory":
        from realtime.layers.transports import memory  # read-only look at the in-process broker

        broker = memory._brokers.get(url.split("://", 1)[1])
        if broker is not None:
            with broker.lock:
                found = [f"queue {q}" for q in broker.queues] + [f"group {g}" for g, m in broker.groups.items() if m]
    return found


# -- scenarios (side A) ------------------------------------------------------------------


def abort(layer: SyncChannelLayer, peer: Peer | None) -> None:
    """Best-effort cleanup after a failed scenario (the original error is re-raised)."""
    for cleanup in (peer.finish if peer is not None else None, layer.flush, layer.close):
        if cleanup is None:
            continue
        try:
            cleanup()
        except Exception as exc:
            print(f"# cleanup {cleanup.__qualname__} failed: {type(exc).__name__}: {exc}", file=sys.stderr)


class Run:
    def __init__(self, transport: str, url: str, prefix: str, args: argparse.Namespace) -> None:
        self.transport, self.url, self.prefix, self.args = transport, url, prefix, args
        # Names created under the prefix, for the AMQP leftover check (AMQP cannot list them).
        self.names: dict[str, set[str]] = {"queue": set(), "exchange": set()}

    def layer(self, raised: bool) -> SyncChannelLayer:
        return SyncChannelLayer(layer_config(self.url, self.prefix, raised))

    def peer(self, role: str, raised: bool, **params: Any) -> Peer:
        return Peer(self.transport, role, self.url, self.prefix, raised, params)

    def base(self, scenario: str, raised: bool, pacing: str) -> dict[str, Any]:
        return {
            "transport": self.transport,
            "scenario": scenario,
            "messages": self.args.messages,
            "size": self.args.size,
            "warmup": self.args.warmup,
            "prefix": self.prefix,
            "sides": "two threads in one process" if self.transport == "memory" else "two processes (spawn)",
            "capacity": capacity_note(raised),
            "pacing": pacing,
        }

    def finish(
        self, record: dict[str, Any], layer: SyncChannelLayer, peer: Peer | None, peer_result: dict[str, Any]
    ) -> dict[str, Any]:
        self.names["queue"].update(layer.transport.__dict__.get("_known_queues", ()))
        if self.transport == "amqp":
            record["amqp_deliveries_on_closing_channel"] = {
                "A": _IGNORED.count - self.ignored_before,
                "B": peer_result.get("amqp_ignored_deliveries", 0),
            }
        if peer is not None:
            peer.finish()
        layer.flush()
        layer.close()
        record["leftovers_after_flush"] = leftovers(self.transport, self.url, self.prefix, self.names)
        return record

    def start(self) -> None:
        """Called before each scenario."""
        self.ignored_before = _IGNORED.count

    def send_receive_latency(self) -> dict[str, Any]:
        args = self.args
        channel = "bench.ping"
        self.names["queue"].add(f"{self.prefix}.channel.{channel}")
        layer = self.layer(raised=False)
        peer = None
        try:
            reply = layer.new_channel("bench.reply")
            self.names["queue"].add(layer.inbox_queue(layer.owner))
            peer = self.peer("echo", raised=False, channel=channel)
            text = "x" * args.size
            rtts: list[float] = []
            lost = 0
            for i in range(args.warmup + args.messages):
                start = time.perf_counter()
                layer.send(channel, message(i, text, i < args.warmup, reply=reply))
                while True:
                    got = layer.receive(reply, timeout=IDLE_TIMEOUT)
                    if got is None or got["seq"] == i:
                        break  # else: a late answer to an earlier (timed-out) ping
                elapsed = time.perf_counter() - start
                if got is None:
                    lost += 1
                elif i >= args.warmup:
                    rtts.append(elapsed)
            layer.send(channel, {"stop": True})
            echo = peer.expect("result")
            record = self.base("send_receive_latency", False, "ping-pong: one message in flight")
            record.update(
                {
                    "round_trips": len(rtts),
                    "lost": lost,
                    "echoed_by_b": echo["echoed"],
                    "rtt_ms": {q: ms(percentile(rtts, p)) for q, p in (("p50", 50), ("p90", 90), ("p99", 99))}
                    | {"max": ms(max(rtts, default=None)), "mean": ms(sum(rtts) / len(rtts) if rtts else None)},
                    "one_way_estimate_ms": {
                        q: ms(percentile(rtts, p) / 2 if rtts else None)
                        for q, p in (("p50", 50), ("p90", 90), ("p99", 99))
                    },
                }
            )
            return self.finish(record, layer, peer, echo)
        except BaseException:
            abort(layer, peer)
            raise

    def _throughput_record(self, scenario: str, sender: dict[str, Any], receiver: dict[str, Any]) -> dict[str, Any]:
        n = self.args.messages
        record = self.base(scenario, True, "none: one sender as fast as it can (capacities raised instead)")
        span = None
        if receiver["first_send_ts"] is not None and receiver["last_receive_ts"] is not None:
            span = receiver["last_receive_ts"] - receiver["first_send_ts"]
        transit = receiver.pop("transit")
        record.update(
            {
                "sender_msgs_per_s": rounded(sender["sent"] / sender["send_seconds"])
                if sender["send_seconds"]
                else None,
                "end_to_end_msgs_per_s": rounded(receiver["received"] / span) if span else None,
                "delivered": receiver["received"],
                "lost": n - receiver["received"],
                "channel_full_on_send": sender["channel_full"],
                "duplicates": receiver["duplicates"],
                "out_of_order": receiver["out_of_order"],
                "send_seconds": rounded(sender["send_seconds"], 3),
                "end_to_end_seconds": rounded(span, 3),
                "transit_ms": {
                    "p50": ms(percentile(transit, 50)),
                    "p99": ms(percentile(transit, 99)),
                    "max": ms(max(transit, default=None)),
                },
                "warmup_received": receiver["warm_received"],
            }
        )
        return record

    def throughput(self) -> dict[str, Any]:
        args = self.args
        channel = "bench.stream"
        self.names["queue"].add(f"{self.prefix}.channel.{channel}")
        layer = self.layer(raised=True)
        peer = self.peer("receiver", raised=True, channel=channel, n=args.messages, warmup=args.warmup)
        try:
            sender = role_sender(layer, peer, channel, args.messages, args.warmup, args.size)
            receiver = peer.expect("result", PEER_TIMEOUT * 5)
            return self.finish(self._throughput_record("throughput", sender, receiver), layer, peer, receiver)
        except BaseException:
            abort(layer, peer)
            raise

    def reply_throughput(self) -> dict[str, Any]:
        args = self.args
        layer = self.layer(raised=True)
        peer = None
        try:
            reply = layer.new_channel("bench.reply")
            self.names["queue"].add(layer.inbox_queue(layer.owner))
            peer = self.peer("sender", raised=True, target=reply, n=args.messages, warmup=args.warmup, size=args.size)
            receiver = role_receiver(layer, peer, reply, args.messages, args.warmup)
            sender = peer.expect("result", PEER_TIMEOUT * 5)
            record = self._throughput_record("reply_throughput", sender, receiver)
            inbox = layer._inbox
            record["dropped_at_owner"] = dict(inbox.dropped) if inbox is not None else {}
            return self.finish(record, layer, peer, sender)
        except BaseException:
            abort(layer, peer)
            raise

    def group_fanout(self) -> dict[str, Any]:
        args = self.args
        total = args.warmup + GROUP_MESSAGES
        self.names["exchange"].update({f"{self.prefix}.groups", f"{self.prefix}.group.{GROUP}"})
        layer = self.layer(raised=False)
        peer = None
        try:
            members = [layer.new_channel("bench.member") for _ in range(GROUP_MEMBERS)]
            self.names["queue"].add(layer.inbox_queue(layer.owner))
            for member in members:
                layer.group_add(GROUP, member)
            peer = self.peer("group_sender", raised=False, total=total, warmup=args.warmup, size=args.size)
            latencies: list[float] = []
            copies = incomplete = 0
            for i in range(total):
                deadline = time.monotonic() + GROUP_DEADLINE
                got_here = 0
                sent_at = None
                for member in members:
                    while True:
                        got = layer.receive(member, timeout=max(0.0, deadline - time.monotonic()))
                        if got is None or got["seq"] >= i:
                            break  # else: a late copy of an earlier message
                    if got is not None and got["seq"] == i:
                        got_here += 1
                        sent_at = got["ts"]
                done = time.time()
                peer.send("next", i)
                if i < args.warmup:
                    continue
                copies += got_here
                if got_here == GROUP_MEMBERS and sent_at is not None:
                    latencies.append(done - sent_at)
                else:
                    incomplete += 1
            sender = peer.expect("result")
            inbox = layer._inbox
            record = self.base(
                "group_fanout", False, "closed loop: B sends the next group_send once A has the message on every member"
            )
            record.update(
                {
                    "messages": GROUP_MESSAGES,
                    "members": GROUP_MEMBERS,
                    "group_messages": GROUP_MESSAGES,
                    "latency_all_members_ms": {
                        "p50": ms(percentile(latencies, 50)),
                        "p99": ms(percentile(latencies, 99)),
                        "max": ms(max(latencies, default=None)),
                    },
                    "delivered_fraction": round(copies / (GROUP_MESSAGES * GROUP_MEMBERS), 4),
                    "incomplete_messages": incomplete,
                    "group_send_call_p50_ms": sender["group_send_call_p50_ms"],
                    "dropped_at_owner": dict(inbox.dropped) if inbox is not None else {},
                }
            )
            return self.finish(record, layer, peer, sender)
        except BaseException:
            abort(layer, peer)
            raise


# -- output ----------------------------------------------------------------------------


def summary(records: list[dict[str, Any]]) -> str:
    header = (
        "| Transport | Scenario | p50 ms | p90 ms | p99 ms | max ms | one-way p50 ms | "
        "sender msg/s | end-to-end msg/s | delivered |"
    )
    lines = [header, "|" + "|".join(["---"] * (header.count("|") - 1)) + "|"]
    for r in records:
        s = r["scenario"]
        row = [r["transport"], s]
        if "error" in r:
            row += ["-"] * 7 + [f"FAILED: {r['error'][:60]}"]
        elif s == "send_receive_latency":
            rtt = r["rtt_ms"]
            row += [
                fmt(rtt["p50"]),
                fmt(rtt["p90"]),
                fmt(rtt["p99"]),
                fmt(rtt["max"]),
                fmt(r["one_way_estimate_ms"]["p50"]),
            ]
            row += ["-", "-", f"{r['round_trips']}/{r['messages']} RTT"]
        elif s in ("throughput", "reply_throughput"):
            row += ["-"] * 5
            row += [fmt(r["sender_msgs_per_s"]), fmt(r["end_to_end_msgs_per_s"]), f"{r['delivered']}/{r['messages']}"]
        elif s == "group_fanout":
            lat = r["latency_all_members_ms"]
            row += [fmt(lat["p50"]), "-", fmt(lat["p99"]), fmt(lat["max"]), "-", "-", "-"]
            row += [f"{r['delivered_fraction']:.2%} of {r['group_messages']}x{r['members']}"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--transports", default="amqp,redis", help="comma-separated amqp,redis,memory (default amqp,redis)"
    )
    parser.add_argument("--messages", type=int, default=2000, help="measured messages per scenario (default 2000)")
    parser.add_argument("--size", type=int, default=100, help="payload text size in bytes (default 100)")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured messages first (default 100)")
    parser.add_argument("--amqp-url", default=DEFAULT_AMQP_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help="comma-separated subset of: " + ",".join(SCENARIOS)
    )
    args = parser.parse_args()

    transports = [t.strip() for t in args.transports.split(",") if t.strip()]
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for t in transports:
        if t not in ("amqp", "redis", "memory"):
            parser.error(f"unknown transport {t!r}")
    for s in scenarios:
        if s not in SCENARIOS:
            parser.error(f"unknown scenario {s!r}")

    prefix = f"bench-{secrets.token_hex(4)}"
    count_amqp_close_warnings()
    print(f"# prefix {prefix}, {os.cpu_count()} CPUs, transports {transports}", file=sys.stderr)
    records: list[dict[str, Any]] = []
    started = time.monotonic()
    failed = False
    for transport in transports:
        url = {"amqp": args.amqp_url, "redis": args.redis_url, "memory": f"memory://{prefix}"}[transport]
        run = Run(transport, url, prefix, args)
        for scenario in scenarios:
            t0 = time.monotonic()
            run.start()
            try:
                record = getattr(run, scenario)()
            except Exception as exc:
                failed = True
                traceback.print_exc()
                error = f"{type(exc).__name__}: {exc}"
                record = {"transport": transport, "scenario": scenario, "prefix": prefix, "error": error}
                try:
                    record["leftovers_after_flush"] = leftovers(transport, url, prefix, run.names)
                except Exception as cleanup_exc:
                    record["leftovers_after_flush"] = [f"(leftover check failed: {cleanup_exc})"]
            record["seconds"] = round(time.monotonic() - t0, 2)
            records.append(record)
            print(json.dumps(record), flush=True)
            print(f"# {transport} {scenario}: {record['seconds']} s", file=sys.stderr, flush=True)

    print(f"\n# total {time.monotonic() - started:.1f} s\n", file=sys.stderr)
    print(summary(records), file=sys.stderr)
    notes = [
        f"- {r['transport']} {r['scenario']}: {', '.join(r['leftovers_after_flush'])}"
        for r in records
        if r.get("leftovers_after_flush")
    ]
    if notes:
        print("\nLeft under the prefix after both sides' flush()+close() (removed by this script):", file=sys.stderr)
        print("\n".join(notes), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
