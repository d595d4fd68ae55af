#!/usr/bin/env python
"""Round trip through a real Celery worker: bench process -> consumer -> bench process.

For each worker process count P (``--processes``), the script starts one prefork worker of
the worker test project (``celery -A tests.workerproject worker -c P``, via
``tests.workers.WorkerProcess``) on the chosen broker and measures:

* ``round_trip`` - the bench process sends ``{"path": "/echo/", "text": ..., "reply_channel":
  R}`` to the normal channel ``websocket.receive``; the worker's channel reader hands it to
  the pool, where the routed ``echo`` consumer sends ``{"text", "pid"}`` to R (a reply
  channel of the bench process); the bench process receives it. One message in flight.
  p50/p90/p99/max over N messages, after ``--warmup`` unmeasured ones.
* ``throughput`` - S "connections" (S reply channels, one thread each) in a closed loop:
  each thread sends its next message as soon as it has the reply to the previous one.
  Total messages/s over about N messages, and per-message latency p50/p99; for each S
  in ``--sockets``.
* ``celery_task`` - the reference: an ordinary Celery task, without the realtime bootstep.
  A Celery client app ``send_task``s ``workerproject.broadcast(group, text)`` to the
  worker's ``<prefix>-celery`` queue; the task calls ``Group(group).send({"text": text})``;
  the bench process's reply channel is in that group. Latency from ``send_task`` to the
  group message received, one in flight, N/4 messages.

Every message carries its own text, so a late reply is never taken for the next one
(``stale_replies`` counts those). Every wait is bounded (``REPLY_TIMEOUT`` per message,
``--time-limit`` per scenario); a message with no reply in time counts as ``lost``.

One JSON object per scenario goes to stdout, progress and a Markdown table to stderr.
Each run uses its own prefix (``bench-<8 hex>``); at the end the workers are stopped, the
bench layer ``flush()``es and ``close()``s, the ``<prefix>-celery`` queue is deleted and the
broker is checked for anything left under the prefix.

    .venv/bin/python bench/worker_roundtrip.py [--broker amqp|redis] [--messages N]
        [--processes 1,4] [--sockets 1,10]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchstats import fmt, ms, percentile  # noqa: E402
from celery import Celery  # noqa: E402

from realtime.layers.config import LayerConfig  # noqa: E402
from realtime.layers.core import SyncChannelLayer  # noqa: E402
from tests.workers import WorkerProcess  # noqa: E402

BROKER_URLS = {"amqp": "amqp://guest:guest@127.0.0.1:5672//", "redis": "redis://127.0.0.1:6379/0"}
CHANNEL = "websocket.receive"
PATH = "/echo/"
TASK = "workerproject.broadcast"
GROUP = "bench-reference"
# Seconds to wait for one reply before counting the message as lost.
REPLY_TIMEOUT = 10.0
# Seconds to wait for a worker to say "ready".
WORKER_START_TIMEOUT = 60.0


# -- helpers ---------------------------------------------------------------------------


def stats_ms(values: list[float]) -> dict[str, float | None]:
    return {
        "p50": ms(percentile(values, 50)),
        "p90": ms(percentile(values, 90)),
        "p99": ms(percentile(values, 99)),
        "max": ms(max(values) if values else None),
        "mean": ms(sum(values) / len(values) if values else None),
    }


def log_summary(text: str) -> dict[str, Any]:
    """Counts of the worker log's WARNING/ERROR lines, and the first few of them."""
    flagged = [line for line in text.splitlines() if re.search(r"\b(WARNING|ERROR|CRITICAL)\b|Traceback", line)]
    return {"flagged_lines": len(flagged), "first": [line[-200:] for line in flagged[:3]]}


class Waiter:
    """Takes replies from one reply channel, skipping stale ones (texts of earlier messages)."""

    def __init__(self, layer: SyncChannelLayer, channel: str) -> None:
        self.layer = layer
        self.channel = channel
        self.stale = 0

    def wait_for(self, text: str, timeout: float = REPLY_TIMEOUT) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            message = self.layer.receive(self.channel, timeout=remaining)
            if message is None:
                return None
            if message.get("text") == text:
                return message
            self.stale += 1


# -- scenarios -------------------------------------------------------------------------


class Bench:
    """The bench process's side: one channel layer, the Celery client, the scenarios."""

    def __init__(self, broker: str, url: str, prefix: str, args: argparse.Namespace) -> None:
        self.broker = broker
        self.url = url
        self.prefix = prefix
        self.args = args
        self.layer = SyncChannelLayer(LayerConfig(url=url, prefix=prefix))
        self.client = Celery("client", broker=url, set_as_current=False)
        self.task_queue = f"{prefix}-celery"
        self.worker: WorkerProcess | None = None
        self.worker_start_s: float | None = None
        self.processes = 0
        #: Channels the workers said they serve (their reader declared these channels' queues).
        self.served: set[str] = set()

    def base(self, scenario: str, **extra: Any) -> dict[str, Any]:
        return {
            "scenario": scenario,
            "broker": self.broker,
            "processes": self.processes,
            "pool": "prefork",
            "prefix": self.prefix,
            **extra,
        }

    def echo(self, reply: str, text: str) -> None:
        self.layer.send(CHANNEL, {"path": PATH, "text": text, "reply_channel": reply})

    def finish(self, record: dict[str, Any], dropped_before: Counter[str]) -> dict[str, Any]:
        record["dropped_at_owner"] = dict(Counter(self.layer.dropped) - dropped_before)
        assert self.worker is not None
        record["worker_start_s"] = self.worker_start_s
        record["worker_log"] = log_summary(self.worker.log())
        return record

    # -- worker ----------------------------------------------------------------------

    def start_worker(self, processes: int, log_dir: Path) -> None:
        self.processes = processes
        name = f"w{processes}"
        self.worker = WorkerProcess(
            self.url,
            self.prefix,
            log_dir / f"{name}.log",
            queues=f"channels,{self.task_queue}",
            concurrency=processes,
            pool="prefork",
            name=f"{name}-{self.prefix}",
        )
        t0 = time.monotonic()
        self.worker.start(timeout=WORKER_START_TIMEOUT)
        self.worker_start_s = round(time.monotonic() - t0, 2)
        served = re.search(r"realtime: serving channels (.+) with \d+ slots", self.worker.log())
        if served:
            self.served.update(channel.strip() for channel in served.group(1).split(","))

    def stop_worker(self) -> int | None:
        if self.worker is None:
            return None
        code = self.worker.stop()
        return code

    # -- 1. round trip ---------------------------------------------------------------

    def round_trip(self) -> dict[str, Any]:
        n, warmup = self.args.messages, self.args.warmup
        reply = self.layer.new_channel("websocket.send")
        waiter = Waiter(self.layer, reply)
        dropped_before = Counter(self.layer.dropped)
        deadline = time.monotonic() + self.args.time_limit
        latencies: list[float] = []
        send_calls: list[float] = []
        pids: Counter[int] = Counter()
        lost = sent = 0
        for seq in range(warmup + n):
            if time.monotonic() > deadline:
                break
            text = f"rt-{seq}"
            t0 = time.perf_counter()
            self.echo(reply, text)
            t1 = time.perf_counter()
            message = waiter.wait_for(text)
            t2 = time.perf_counter()
            if seq < warmup:
                continue
            sent += 1
            if message is None:
                lost += 1
                continue
            latencies.append(t2 - t0)
            send_calls.append(t1 - t0)
            pids[int(message.get("pid", -1))] += 1
        record = self.base(
            "round_trip",
            sockets=1,
            messages=n,
            warmup=warmup,
            sent=sent,
            received=len(latencies),
            lost=lost,
            stale_replies=waiter.stale,
            time_limit_hit=sent < n,
            latency_ms=stats_ms(latencies),
            send_call_ms=stats_ms(send_calls),
            pids=len(pids),
            per_pid=sorted(pids.values(), reverse=True),
        )
        return self.finish(record, dropped_before)

    # -- 2. closed-loop throughput ---------------------------------------------------

    def throughput(self, sockets: int) -> dict[str, Any]:
        n = self.args.messages
        warmup_each = max(1, self.args.warmup // sockets)
        replies = [self.layer.new_channel("websocket.send") for _ in range(sockets)]
        dropped_before = Counter(self.layer.dropped)
        lock = threading.Lock()
        issued = 0
        marks: dict[str, float] = {}
        deadline_box: list[float] = []
        results: list[dict[str, Any]] = [{} for _ in range(sockets)]

        def started() -> None:  # the barrier's action: runs once, when every thread is warm
            marks["start"] = time.perf_counter()
            deadline_box.append(time.monotonic() + self.args.time_limit)

        barrier = threading.Barrier(sockets, action=started)

        def take_ticket() -> int | None:
            nonlocal issued
            with lock:
                if issued >= n or time.monotonic() > deadline_box[0]:
                    return None
                issued += 1
                return issued

        def connection(index: int) -> None:
            reply = replies[index]
            waiter = Waiter(self.layer, reply)
            out = results[index]
            latencies: list[float] = []
            pids: Counter[int] = Counter()
            lost = 0
            last = None
            try:
                for w in range(warmup_each):
                    text = f"tw-{index}-{w}"
                    self.echo(reply, text)
                    waiter.wait_for(text)
                barrier.wait(timeout=REPLY_TIMEOUT * (warmup_each + 1))
                while (ticket := take_ticket()) is not None:
                    text = f"tp-{index}-{ticket}"
                    t0 = time.perf_counter()
                    self.echo(reply, text)
                    message = waiter.wait_for(text)
                    last = time.perf_counter()
                    if message is None:
                        lost += 1
                    else:
                        latencies.append(last - t0)
                        pids[int(message.get("pid", -1))] += 1
            except Exception as exc:  # reported in the record, not lost in a thread
                out["error"] = f"{type(exc).__name__}: {exc}"
                barrier.abort()
            out.update(latencies=latencies, pids=pids, lost=lost, last=last, stale=waiter.stale)

        threads = [threading.Thread(target=connection, args=(i,), daemon=True) for i in range(sockets)]
        for thread in threads:
            thread.start()
        join_deadline = time.monotonic() + self.args.time_limit + REPLY_TIMEOUT * (warmup_each + 3)
        for thread in threads:
            thread.join(max(0.0, join_deadline - time.monotonic()))
        hung = sum(thread.is_alive() for thread in threads)
        errors = [r["error"] for r in results if "error" in r]
        latencies = [x for r in results for x in r.get("latencies", [])]
        lasts = [r["last"] for r in results if r.get("last") is not None]
        pids: Counter[int] = sum((r.get("pids", Counter()) for r in results), Counter())
        elapsed = (max(lasts) - marks["start"]) if lasts and "start" in marks else None
        record = self.base(
            "throughput",
            sockets=sockets,
            messages=n,
            warmup=warmup_each * sockets,
            sent=issued,
            received=len(latencies),
            lost=sum(r.get("lost", 0) for r in results),
            stale_replies=sum(r.get("stale", 0) for r in results),
            time_limit_hit=issued < n,
            seconds_measured=None if elapsed is None else round(elapsed, 3),
            msgs_per_s=None if not elapsed else round(len(latencies) / elapsed, 1),
            latency_ms=stats_ms(latencies),
            pids=len(pids),
            per_pid=sorted(pids.values(), reverse=True),
        )
        if errors or hung:
            record["error"] = "; ".join(errors) or f"{hung} connection threads still running"
        return self.finish(record, dropped_before)

    # -- 3. reference: an ordinary Celery task ---------------------------------------

    def celery_task(self) -> dict[str, Any]:
        n = max(1, self.args.messages // 4)
        warmup = max(1, self.args.warmup // 4)
        reply = self.layer.new_channel("websocket.send")
        group = f"{GROUP}-{self.processes}"
        self.layer.group_add(group, reply)
        waiter = Waiter(self.layer, reply)
        dropped_before = Counter(self.layer.dropped)
        deadline = time.monotonic() + self.args.time_limit
        latencies: list[float] = []
        send_calls: list[float] = []
        lost = sent = 0
        try:
            for seq in range(warmup + n):
                if time.monotonic() > deadline:
                    break
                text = f"ct-{seq}"
                t0 = time.perf_counter()
                self.client.send_task(TASK, (group, text), queue=self.task_queue)
                t1 = time.perf_counter()
                message = waiter.wait_for(text)
                t2 = time.perf_counter()
                if seq < warmup:
                    continue
                sent += 1
                if message is None:
                    lost += 1
                    continue
                latencies.append(t2 - t0)
                send_calls.append(t1 - t0)
        finally:
            self.layer.group_discard(group, reply)
        record = self.base(
            "celery_task",
            sockets=1,
            messages=n,
            warmup=warmup,
            sent=sent,
            received=len(latencies),
            lost=lost,
            stale_replies=waiter.stale,
            time_limit_hit=sent < n,
            latency_ms=stats_ms(latencies),
            send_call_ms=stats_ms(send_calls),
        )
        return self.finish(record, dropped_before)

    # -- cleanup ---------------------------------------------------------------------

    def cleanup(self) -> list[str]:
        """Flush and close the layer, delete the Celery queue, and report (and remove) what
        the broker still holds under the prefix."""
        notes: list[str] = []
        for step in (self.layer.flush, self.layer.close):
            try:
                step()
            except Exception as exc:
                notes.append(f"{step.__name__} failed: {type(exc).__name__}: {exc}")
        try:
            with self.client.connection_for_write() as conn:
                conn.default_channel.queue_delete(self.task_queue)
        except Exception as exc:
            notes.append(f"deleting queue {self.task_queue} failed: {type(exc).__name__}: {exc}")
        try:
            notes += leftovers(self.broker, self.url, self.prefix, self.served | {CHANNEL})
        except Exception as exc:
            notes.append(f"leftover check failed: {type(exc).__name__}: {exc}")
        self.client.close()
        return notes


def leftovers(broker: str, url: str, prefix: str, channels: set[str]) -> list[str]:
    """What the broker still holds under ``prefix`` after the bench layer's flush(), which
    it then removes. Redis: every key containing the prefix. RabbitMQ (which cannot list
    from a client): the queues of ``channels`` (those the workers served) and the Celery
    queue and exchange ``<prefix>-celery``."""
    if broker == "redis":
        import redis

        client = redis.Redis.from_url(url)
        try:
            keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
            if keys:
                client.delete(*keys)
            return [f"redis key {key.decode()} (removed)" for key in keys]
        finally:
            client.close()
    from kombu import Connection

    found = []
    with Connection(url) as conn:
        queues = [f"{prefix}-celery"] + [f"{prefix}.channel.{channel}" for channel in sorted(channels)]
        for queue in queues:
            channel = conn.channel()
            try:
                channel.queue_declare(queue=queue, passive=True)
            except conn.channel_errors:
                continue
            finally:
                channel.close()
            conn.default_channel.queue_delete(queue)
            found.append(f"amqp queue {queue} (removed)")
        channel = conn.channel()
        try:
            channel.exchange_declare(exchange=f"{prefix}-celery", type="direct", passive=True)
        except conn.channel_errors:
            pass
        else:
            conn.default_channel.exchange_delete(f"{prefix}-celery")
            found.append(f"amqp exchange {prefix}-celery (removed)")
        finally:
            channel.close()
    return found


# -- output ----------------------------------------------------------------------------


def summary(records: list[dict[str, Any]]) -> str:
    header = "| Broker | P | Scenario | S | p50 ms | p90 ms | p99 ms | max ms | msg/s | received | pids |"
    lines = [header, "|" + "|".join(["---"] * (header.count("|") - 1)) + "|"]
    for r in records:
        row = [r["broker"], str(r.get("processes", "-")), r["scenario"], str(r.get("sockets", "-"))]
        lat = r.get("latency_ms") or {}
        row += [fmt(lat.get("p50")), fmt(lat.get("p90")), fmt(lat.get("p99")), fmt(lat.get("max"))]
        row += [fmt(r.get("msgs_per_s"))]
        received = f"{r['received']}/{r['messages']}" if "received" in r else "-"
        if "error" in r:
            received += f" FAILED: {r['error'][:60]}"
        row += [received, fmt(r.get("pids")) if r["scenario"] != "celery_task" else "-"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def int_list(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive ints, got {text!r}")
    return values


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--broker", choices=sorted(BROKER_URLS), default="amqp")
    parser.add_argument("--url", help="broker URL (default: the local amqp:// or redis:// of --broker)")
    parser.add_argument("--messages", type=int, default=2000, help="measured messages per scenario (default 2000)")
    parser.add_argument("--processes", type=int_list, default=[1, 4], help="worker -c values (default 1,4)")
    parser.add_argument("--sockets", type=int_list, default=[1, 10], help="closed-loop connections (default 1,10)")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured messages first (default 100)")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per scenario at most (default 60)")
    args = parser.parse_args()
    if args.messages < 1:
        parser.error("--messages must be >= 1")

    url = args.url or BROKER_URLS[args.broker]
    prefix = f"bench-{secrets.token_hex(4)}"
    print(f"# prefix {prefix}, {os.cpu_count()} CPUs, broker {args.broker} ({url})", file=sys.stderr, flush=True)
    records: list[dict[str, Any]] = []
    failed = False
    started = time.monotonic()
    bench = Bench(args.broker, url, prefix, args)
    with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as tmp:
        log_dir = Path(tmp)
        try:
            for processes in args.processes:
                try:
                    bench.start_worker(processes, log_dir)
                except Exception as exc:
                    failed = True
                    traceback.print_exc()
                    record = {"scenario": "worker_start", "broker": args.broker, "processes": processes}
                    records.append({**record, "error": f"{type(exc).__name__}: {exc}"})
                    print(json.dumps(records[-1]), flush=True)
                    bench.stop_worker()
                    continue
                print(f"# worker -c {processes} ready in {bench.worker_start_s} s", file=sys.stderr, flush=True)
                plan: list[tuple[str, tuple[Any, ...]]] = [("round_trip", ())]
                plan += [("throughput", (s,)) for s in args.sockets]
                plan += [("celery_task", ())]
                for scenario, params in plan:
                    t0 = time.monotonic()
                    try:
                        record = getattr(bench, scenario)(*params)
                    except Exception as exc:
                        traceback.print_exc()
                        record = bench.base(scenario, error=f"{type(exc).__name__}: {exc}")
                    failed = failed or "error" in record
                    record["seconds"] = round(time.monotonic() - t0, 2)
                    records.append(record)
                    print(json.dumps(record), flush=True)
                    label = f"{scenario}{' S=' + str(params[0]) if params else ''}"
                    print(f"# -c {processes} {label}: {record['seconds']} s", file=sys.stderr, flush=True)
                code = bench.stop_worker()
                print(f"# worker -c {processes} stopped, exit status {code}", file=sys.stderr, flush=True)
                if code != 0 and bench.worker is not None:
                    print(bench.worker.log()[-2000:], file=sys.stderr)
        finally:
            bench.stop_worker()
            notes = bench.cleanup()
    print(f"\n# total {time.monotonic() - started:.1f} s\n", file=sys.stderr)
    print(summary(records), file=sys.stderr)
    if notes:
        print("\nStill under the prefix after the workers stopped and the bench layer's flush():", file=sys.stderr)
        print("\n".join(f"- {note}" for note in notes), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
