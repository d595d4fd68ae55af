#!/usr/bin/env python
"""Cost per consumer message of channel sessions, for several Django session engines.

A ``@channel_session`` consumer run loads the Django session keyed by the connection's
reply channel (``"chn"`` + 29 hex digits of the SHA-1 of its name), lets the consumer read
and write it, and saves it if it changed; the connection's first message creates it and
its disconnect deletes it. Each measured operation is what one consumer run does to its
session (timed with ``perf_counter`` around the whole operation):

* ``create`` - (c) connect: load (a miss), set the expiry and ~5 keys,
  ``save(must_create=True)``;
* ``read`` - (a) most receive messages: load + read one key, no save;
* ``read_new_conn`` - (a) preceded by ``connections.close_all()``: what every message
  pays with ``CONN_MAX_AGE = 0`` (Django's default), since ``close_old_connections`` runs
  around each consumer run (``realtime/signals.py``); engines with a database only,
  ``--ops`` / 4 operations;
* ``write`` - (b) connect's second save, or ``enforce_ordering`` on every message: load +
  set a key + ``save()``;
* ``exists`` - ``SessionStore.exists(key)`` alone: Channels 1.x's decorator (and
  ``realtime.sessions.channel_session``) calls it on every message, before the load;
* ``delete`` - (d) disconnect: load + ``delete()``.

Engines (``--engines``, default all): ``sqlite`` (``db`` backend, SQLite file, default
rollback journal), ``sqlite-wal`` (the same with ``PRAGMA journal_mode=WAL``),
``postgresql`` (``db`` backend on a temporary database created on ``--pg-dsn`` and
dropped at the end; skipped if the server cannot be reached), ``redis`` (``cache`` backend
with Django's ``RedisCache`` on ``--redis-url``), ``cached_db`` (``RedisCache`` +
PostgreSQL, or the SQLite file without PostgreSQL) and ``locmem`` (``cache`` backend with
``LocMemCache``: one dict per process, so sessions are not shared between worker
processes; a reference, not a candidate).

Each engine is measured with 1 worker process, then with ``--workers`` (default 4)
processes at once, each on its own sessions, started together at every pattern (a
barrier). Processes are started with multiprocessing's ``spawn`` method and configure
Django themselves (``settings.configure``); the first one runs ``migrate sessions``. Before
every pattern each process runs ``--warmup`` unmeasured operations on other sessions.

Besides latency (p50/p90/p99/max µs) and ops/s (all operations / the slowest worker's
time), each pattern reports CPU per operation: the worker processes' own
(``time.process_time``), the PostgreSQL backends' of the workers' connections
(``/proc/<pid>/schedstat``, so the server must be local; not for ``read_new_conn``) and the
Redis server's (``INFO cpu`` before and after, so it includes any other client of that
server at the time). SQLite and LocMemCache run inside the worker: their cost is all in
the worker's CPU.

Output: one JSON object per engine, worker count and pattern on stdout; progress and two
Markdown tables (latency and ops/s; CPU) on stderr. Everything created is removed: the
temporary SQLite directory, the PostgreSQL database, and the Redis keys under the run's
prefix (``bench-<8 hex>``, used as the cache ``KEY_PREFIX``; any still there after the
``delete`` pattern are reported as ``leftovers``). Exit status 1 if a run failed (its JSON
object has ``error``).

    .venv/bin/python bench/sessions.py                      # all engines, 2000 ops, 1 and 4 workers (~90 s)
    .venv/bin/python bench/sessions.py --engines redis,postgresql --ops 5000 --workers 8
    .venv/bin/python bench/sessions.py > results.jsonl       # JSON on stdout, tables on stderr

Needs ``psycopg`` and ``redis`` (``.venv/bin/pip install -e '.[bench,redis]'``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import platform
import queue
import secrets
import sqlite3
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchstats import fmt, percentile  # noqa: E402

if TYPE_CHECKING:
    from django.contrib.sessions.backends.base import SessionBase

DEFAULT_PG_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
ENGINES = ("sqlite", "sqlite-wal", "postgresql", "redis", "cached_db", "locmem")
PATTERNS = ("create", "read", "read_new_conn", "write", "exists", "delete")
LABELS = {
    "create": "(c) create",
    "read": "(a) read",
    "write": "(b) read-write",
    "delete": "(d) delete",
    "exists": "exists()",
    "read_new_conn": "(a) read, new DB connection",
}
SESSION_AGE = 86400
ORDER_KEY = "__realtime_next_order"
# What a chat-like consumer keeps in its channel session: the user (as
# django.contrib.auth.login stores it), a room, and enforce_ordering's counter.
SESSION_DATA: dict[str, Any] = {
    "_auth_user_id": "42",
    "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
    "_auth_user_hash": "5f" * 32,
    "room": "lobby",
    ORDER_KEY: 0,
}
# Seconds to wait for the other workers at a barrier, and for a whole run.
BARRIER_TIMEOUT = 300.0

Store = Callable[..., "SessionBase"]


def us(seconds: float | None) -> float | None:
    """Seconds as microseconds, rounded to 0.1 µs."""
    return None if seconds is None else round(seconds * 1e6, 1)


def session_key(reply_channel: str) -> str:
    """The channel session key of a reply channel, as Channels 1.x makes it."""
    return "chn" + hashlib.sha1(reply_channel.encode("utf-8")).hexdigest()[:29]


# -- engine specs (built in the parent, used by the spawned workers) -------------------


def engine_spec(name: str, prefix: str, tmp: str, pg_db: dict[str, Any] | None, redis_url: str) -> dict[str, Any] | str:
    """Settings for one engine, or the reason it is skipped."""
    sqlite_db = {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(tmp, "sessions.sqlite3")}
    sqlite_wal = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(tmp, "sessions-wal.sqlite3"),
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;"},
    }
    redis_cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": redis_url,
        "KEY_PREFIX": prefix,
    }
    # LocMemCache keeps 300 entries by default and culls a third beyond that: room for every session.
    locmem = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": prefix,
        "OPTIONS": {"MAX_ENTRIES": 1_000_000},
    }
    backends = "django.contrib.sessions.backends."
    if name == "sqlite":
        return {"engine": backends + "db", "store": "SQLite file, rollback journal", "db": sqlite_db}
    if name == "sqlite-wal":
        return {"engine": backends + "db", "store": "SQLite file, WAL", "db": sqlite_wal}
    if name == "postgresql":
        if pg_db is None:
            return "PostgreSQL not reachable"
        return {"engine": backends + "db", "store": "PostgreSQL", "db": pg_db}
    if name == "redis":
        return {"engine": backends + "cache", "store": "RedisCache", "cache": redis_cache}
    if name == "cached_db":
        if pg_db is None:
            store = "RedisCache + SQLite (WAL)"
            return {"engine": backends + "cached_db", "store": store, "db": sqlite_wal, "cache": redis_cache}
        return {"engine": backends + "cached_db", "store": "RedisCache + PostgreSQL", "db": pg_db, "cache": redis_cache}
    if name == "locmem":
        return {"engine": backends + "cache", "store": "LocMemCache (per process)", "cache": locmem}
    raise ValueError(f"unknown engine {name!r}")


# -- the worker process ----------------------------------------------------------------


def setup_django(spec: dict[str, Any]) -> None:
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-sessions-not-secret",
        USE_TZ=True,
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.sessions"],
        DATABASES={"default": spec["db"]} if "db" in spec else {},
        CACHES={"default": spec.get("cache") or {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        SESSION_ENGINE=spec["engine"],
    )
    django.setup()


def open_session(store: Store, key: str) -> tuple[SessionBase, bool]:
    """Load the session now and keep its key: a miss makes the db and cache backends drop
    the key (``_session_key = None``), and a later ``save()`` would then invent a random one
    (Channels 1.x's ``session_for_reply_channel`` restores it the same way)."""
    session = store(session_key=key)
    found = bool(session._get_session())
    session._session_key = key
    return session, found


def op_create(store: Store, key: str) -> bool:
    session, found = open_session(store, key)
    session.set_expiry(SESSION_AGE)
    session.update(SESSION_DATA)
    session.save(must_create=True)
    return not found


def op_read(store: Store, key: str) -> bool:
    session, found = open_session(store, key)
    return found and session.get("room") == "lobby"


def op_read_new_conn(store: Store, key: str) -> bool:
    from django.db import connections

    connections.close_all()
    return op_read(store, key)


def op_write(store: Store, key: str) -> bool:
    session, found = open_session(store, key)
    session[ORDER_KEY] = session.get(ORDER_KEY, 0) + 1
    session.save()
    return found


def op_exists(store: Store, key: str) -> bool:
    return bool(store(session_key=key).exists(key))


def op_delete(store: Store, key: str) -> bool:
    session, found = open_session(store, key)
    session.delete()
    return found


OPS: dict[str, Callable[[Store, str], bool]] = {
    "create": op_create,
    "read": op_read,
    "read_new_conn": op_read_new_conn,
    "write": op_write,
    "exists": op_exists,
    "delete": op_delete,
}


def patterns_for(spec: dict[str, Any], wanted: list[str]) -> list[str]:
    return [p for p in wanted if p != "read_new_conn" or "db" in spec]


def db_facts() -> dict[str, Any]:
    from django.db import connection

    if not connection.settings_dict.get("ENGINE"):
        return {}
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            return {"sqlite_journal_mode": journal, "sqlite_synchronous": cursor.fetchone()[0]}
        if connection.vendor == "postgresql":
            cursor.execute("SHOW synchronous_commit")
            return {"pg_synchronous_commit": cursor.fetchone()[0]}
    return {}


def pg_backend_pid() -> int | None:
    """The pid of this process's PostgreSQL backend (the connection is opened if need be)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def backend_cpu(pid: int | None) -> float | None:
    """Seconds on CPU of a local process (``/proc/<pid>/schedstat``), if readable."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def redis_cpu(client: Any) -> float | None:
    """The Redis server's CPU seconds so far (``INFO cpu``: user + sys, all its clients)."""
    if client is None:
        return None
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def worker_main(
    spec: dict[str, Any],
    index: int,
    keys: list[str],
    warm_keys: list[str],
    wanted: list[str],
    migrate: bool,
    barrier: Any,
    results: Any,
) -> None:
    """Run every pattern over ``keys`` (after ``warm_keys``), in lockstep with the others."""
    out: dict[str, Any] = {"index": index, "patterns": {}}
    try:
        setup_django(spec)
        from django.core.management import call_command
        from django.db import connections

        if migrate and "db" in spec:
            call_command("migrate", "sessions", verbosity=0, interactive=False)
        out["facts"] = db_facts() if "db" in spec else {}
        store = import_module(spec["engine"]).SessionStore
        redis_client = None
        if index == 0 and "RedisCache" in spec.get("cache", {}).get("BACKEND", ""):
            import redis

            redis_client = redis.Redis.from_url(spec["cache"]["LOCATION"])
        for pattern in patterns_for(spec, wanted):
            op = OPS[pattern]
            measured = keys[: max(1, len(keys) // 4)] if pattern == "read_new_conn" else keys
            warm = warm_keys[: max(1, len(warm_keys) // 4)] if pattern == "read_new_conn" else warm_keys
            for key in warm:
                try:
                    op(store, key)
                except Exception:
                    pass  # counted when measured
            pg_pid = pg_backend_pid() if pattern != "read_new_conn" else None
            barrier.wait(BARRIER_TIMEOUT)  # everyone warm
            redis0 = redis_cpu(redis_client) if index == 0 else None
            pg0 = backend_cpu(pg_pid)
            barrier.wait(BARRIER_TIMEOUT)  # go
            latencies: list[float] = []
            errors = unexpected = 0
            first_error = None
            cpu0 = time.process_time()
            start = time.perf_counter()
            for key in measured:
                t0 = time.perf_counter()
                try:
                    ok = op(store, key)
                except Exception as exc:
                    ok = True
                    errors += 1
                    first_error = first_error or f"{type(exc).__name__}: {exc}"
                latencies.append(time.perf_counter() - t0)
                unexpected += not ok
            elapsed = time.perf_counter() - start
            cpu = time.process_time() - cpu0
            pg1 = backend_cpu(pg_pid)
            barrier.wait(BARRIER_TIMEOUT)  # everyone done
            redis1 = redis_cpu(redis_client) if index == 0 else None
            out["patterns"][pattern] = {
                "latencies": latencies,
                "elapsed": elapsed,
                "cpu": cpu,
                "pg_cpu": None if pg0 is None or pg1 is None else pg1 - pg0,
                "redis_cpu": None if redis0 is None or redis1 is None else redis1 - redis0,
                "errors": errors,
                "first_error": first_error,
                "unexpected": unexpected,
            }
        connections.close_all()
        if redis_client is not None:
            redis_client.close()
    except BaseException:
        out["error"] = traceback.format_exc()
        barrier.abort()
    results.put(out)


# -- the parent ------------------------------------------------------------------------


def run_engine(
    name: str, spec: dict[str, Any], workers: int, args: argparse.Namespace, prefix: str, migrate: bool
) -> list[dict[str, Any]]:
    """One engine with ``workers`` processes; one record per pattern."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers)
    results = ctx.Queue()
    per_worker = max(1, args.ops // workers)
    procs = []
    for i in range(workers):
        base = f"websocket.send!{prefix}-{name}-{workers}w-{i}"
        keys = [session_key(f"{base}-{n}") for n in range(per_worker)]
        warm = [session_key(f"{base}-warm-{n}") for n in range(args.warmup)]
        proc = ctx.Process(
            target=worker_main,
            args=(spec, i, keys, warm, args.patterns, migrate and i == 0, barrier, results),
            name=f"bench-sessions-{i}",
            daemon=True,
        )
        proc.start()
        procs.append(proc)
    outs: list[dict[str, Any]] = []
    deadline = time.monotonic() + args.time_limit
    while len(outs) < workers and time.monotonic() < deadline:
        try:
            outs.append(results.get(timeout=1.0))
        except queue.Empty:
            if not any(p.is_alive() for p in procs):
                break
    for proc in procs:
        proc.join(timeout=10)
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=5)
    base_record = {
        "engine": name,
        "session_engine": spec["engine"],
        "store": spec["store"],
        "workers": workers,
        "ops_per_worker": per_worker,
        "warmup": args.warmup,
        "prefix": prefix,
    }
    failures = [o["error"] for o in outs if "error" in o]
    if failures or len(outs) < workers:
        for failure in failures:
            print(failure, file=sys.stderr)
        reason = failures[0].strip().splitlines()[-1] if failures else f"{workers - len(outs)} workers gave no result"
        return [{**base_record, "pattern": None, "error": reason}]
    facts = outs[0].get("facts", {})
    records = []
    for pattern in patterns_for(spec, args.patterns):
        parts = [o["patterns"][pattern] for o in outs]
        latencies = [x for p in parts for x in p["latencies"]]
        wall = max(p["elapsed"] for p in parts)
        record = {
            **base_record,
            **facts,
            "pattern": pattern,
            "ops": len(latencies),
            "latency_us": {
                "p50": us(percentile(latencies, 50)),
                "p90": us(percentile(latencies, 90)),
                "p99": us(percentile(latencies, 99)),
                "max": us(max(latencies, default=None)),
                "mean": us(sum(latencies) / len(latencies) if latencies else None),
            },
            "ops_per_s": round(len(latencies) / wall, 1) if wall else None,
            "seconds": round(wall, 3),
            "client_cpu_us_per_op": us(sum(p["cpu"] for p in parts) / len(latencies) if latencies else None),
            "server_cpu_us_per_op": server_cpu(parts, len(latencies)),
            "errors": sum(p["errors"] for p in parts),
            "unexpected": sum(p["unexpected"] for p in parts),
        }
        first = next((p["first_error"] for p in parts if p["first_error"]), None)
        if first:
            record["first_error"] = first
        records.append(record)
    return records


def server_cpu(parts: list[dict[str, Any]], ops: int) -> dict[str, float | None] | None:
    """Server CPU per operation: the workers' PostgreSQL backends and the Redis server."""
    if not ops:
        return None
    found: dict[str, float | None] = {}
    pg = [p["pg_cpu"] for p in parts]
    if any(v is not None for v in pg):
        found["postgresql"] = us(sum(v for v in pg if v is not None) / ops) if None not in pg else None
    redis = [p["redis_cpu"] for p in parts if p["redis_cpu"] is not None]
    if redis:
        found["redis"] = us(redis[0] / ops)
    return found or None


def pg_create(dsn: str, prefix: str) -> tuple[dict[str, Any] | None, str]:
    """Create a temporary database; its Django settings (or None) and the server version or
    the reason it failed."""
    try:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict
    except ImportError as exc:
        return None, f"psycopg not installed ({exc})"
    name = "bench_sessions_" + prefix.split("-")[1]
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            version = row[0] if row else "?"
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}".strip()
    info = conninfo_to_dict(dsn)
    db = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": info.get("user", ""),
        "PASSWORD": info.get("password", ""),
        "HOST": info.get("host", ""),
        "PORT": info.get("port", ""),
    }
    return db, f"PostgreSQL {version}"


def pg_drop(dsn: str, name: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_keys(url: str, prefix: str, remove: bool) -> list[str]:
    """Redis keys under the run's cache prefix (removed if ``remove``)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys and remove:
            client.delete(*keys)
        return sorted(key.decode() for key in keys)
    finally:
        client.close()


def redis_version(url: str) -> str:
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        try:
            return f"Redis {client.info('server')['redis_version']}"
        finally:
            client.close()
    except Exception as exc:
        return f"Redis unreachable ({type(exc).__name__})"


def versions(pg: str, redis_url: str) -> dict[str, str]:
    import django

    found = {
        "python": platform.python_version(),
        "django": django.get_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": pg,
        "redis_server": redis_version(redis_url),
    }
    for module in ("psycopg", "redis"):
        try:
            found[module] = import_module(module).__version__
        except ImportError:
            found[module] = "not installed"
    return found


# -- output ----------------------------------------------------------------------------


def cell(record: dict[str, Any] | None, with_rate: bool = True) -> str:
    if record is None:
        return "-"
    lat = record["latency_us"]
    text = f"{fmt(lat['p50'])} / {fmt(lat['p99'])}"
    if with_rate:
        text += f" ({fmt(record['ops_per_s'])}/s)"
    if record["errors"] or record["unexpected"]:
        text += f" {record['errors']} errors, {record['unexpected']} unexpected"
    return text


def summary(records: list[dict[str, Any]], patterns: list[str]) -> str:
    header = ["Engine", "Store", "W"] + [f"{LABELS[p]} p50 / p99 µs (ops/s)" for p in patterns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for r in records:
        row = rows.setdefault((r["engine"], r["workers"]), {"store": r["store"], "by": {}, "error": None})
        if r.get("pattern"):
            row["by"][r["pattern"]] = r
        else:
            row["error"] = r.get("error")
    for (engine, workers), row in rows.items():
        cells = [engine, row["store"], str(workers)]
        if row["error"]:
            cells += [f"FAILED: {row['error'][:80]}"] + [""] * (len(patterns) - 1)
        else:
            cells += [cell(row["by"].get(p)) for p in patterns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cpu_cell(record: dict[str, Any] | None) -> str:
    if record is None or record.get("client_cpu_us_per_op") is None:
        return "-"
    text = fmt(record["client_cpu_us_per_op"])
    for server, value in (record.get("server_cpu_us_per_op") or {}).items():
        text += f" + {fmt(value)} {'pg' if server == 'postgresql' else server}"
    return text


def cpu_summary(records: list[dict[str, Any]], patterns: list[str]) -> str:
    header = ["Engine", "W"] + [f"{LABELS[p]}" for p in patterns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for r in records:
        if r.get("pattern"):
            rows.setdefault((r["engine"], r["workers"]), {})[r["pattern"]] = r
    for (engine, workers), by in rows.items():
        lines.append("| " + " | ".join([engine, str(workers)] + [cpu_cell(by.get(p)) for p in patterns]) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default=",".join(ENGINES), help=f"comma-separated subset of {','.join(ENGINES)}")
    parser.add_argument("--patterns", default=",".join(PATTERNS), help="comma-separated subset (default all)")
    parser.add_argument("--ops", type=int, default=2000, help="measured operations per pattern, all workers together")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured operations per worker first (default 100)")
    parser.add_argument("--workers", type=int, default=4, help="processes of the concurrent run (default 4; 1: none)")
    parser.add_argument("--pg-dsn", default=DEFAULT_PG_DSN, help=f"PostgreSQL server (default {DEFAULT_PG_DSN})")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help=f"Redis (default {DEFAULT_REDIS_URL})")
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per run at most (default 120)")
    args = parser.parse_args()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    args.patterns = [p.strip() for p in args.patterns.split(",") if p.strip()]
    for value, allowed, what in ((engines, ENGINES, "engine"), (args.patterns, PATTERNS, "pattern")):
        unknown = set(value) - set(allowed)
        if unknown:
            parser.error(f"unknown {what}(s): {', '.join(sorted(unknown))}")
    if args.ops < 1 or args.workers < 1 or args.warmup < 0:
        parser.error("--ops and --workers must be >= 1, --warmup >= 0")

    prefix = f"bench-{secrets.token_hex(4)}"
    started = time.monotonic()
    records: list[dict[str, Any]] = []
    failed = False
    needs_pg = bool({"postgresql", "cached_db"} & set(engines))
    pg_db, pg_note = pg_create(args.pg_dsn, prefix) if needs_pg else (None, "not used")
    env = versions(pg_note, args.redis_url)
    print(f"# prefix {prefix}, {os.cpu_count()} CPUs, {json.dumps(env)}", file=sys.stderr, flush=True)
    print(json.dumps({"scenario": "environment", "prefix": prefix, "cpus": os.cpu_count(), **env}), flush=True)
    try:
        with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as tmp:
            migrated: set[str] = set()
            for name in engines:
                spec = engine_spec(name, prefix, tmp, pg_db, args.redis_url)
                if isinstance(spec, str):
                    record = {"engine": name, "pattern": None, "skipped": spec}
                    print(json.dumps(record), flush=True)
                    print(f"# {name}: skipped ({spec})", file=sys.stderr, flush=True)
                    continue
                for workers in sorted({1, args.workers}):
                    t0 = time.monotonic()
                    db_name = spec["db"]["NAME"] if "db" in spec else None
                    migrate = db_name is not None and db_name not in migrated
                    try:
                        got = run_engine(name, spec, workers, args, prefix, migrate)
                    except Exception as exc:
                        traceback.print_exc()
                        error = f"{type(exc).__name__}: {exc}"
                        got = [
                            {
                                "engine": name,
                                "store": spec["store"],
                                "workers": workers,
                                "pattern": None,
                                "error": error,
                            }
                        ]
                    if db_name is not None and migrate and not any("error" in r for r in got):
                        migrated.add(db_name)
                    if "cache" in spec and "Redis" in spec["store"]:
                        left = redis_keys(args.redis_url, prefix, remove=True)
                        for r in got:
                            r["leftovers"] = len(left)
                    for r in got:
                        failed = failed or "error" in r
                        print(json.dumps(r), flush=True)
                    records += got
                    print(f"# {name} W={workers}: {time.monotonic() - t0:.1f} s", file=sys.stderr, flush=True)
    finally:
        notes = []
        if pg_db is not None:
            try:
                pg_drop(args.pg_dsn, pg_db["NAME"])
                notes.append(f"dropped PostgreSQL database {pg_db['NAME']}")
            except Exception as exc:
                notes.append(f"could not drop PostgreSQL database {pg_db['NAME']}: {exc}")
        try:
            left = redis_keys(args.redis_url, prefix, remove=True)
            notes.append(f"Redis keys under {prefix}: at the end {len(left)} (removed)")
        except Exception as exc:
            notes.append(f"Redis cleanup failed: {type(exc).__name__}: {exc}")
    print(f"\n# total {time.monotonic() - started:.1f} s; " + "; ".join(notes) + "\n", file=sys.stderr)
    shown = [p for p in PATTERNS if p in args.patterns]
    print(summary(records, shown), file=sys.stderr)
    print(
        "\nCPU µs per operation: worker process + server (pg: the workers' PostgreSQL backends; redis: the whole"
        " Redis server)\n",
        file=sys.stderr,
    )
    print(cpu_summary(records, shown), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
