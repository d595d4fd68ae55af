"""Real Celery worker processes of the worker test project, and the setup tests run them in."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from celery import Celery

from realtime.layers.config import LayerConfig
from realtime.layers.core import SyncChannelLayer

from .brokers import AMQP_URL, REDIS_URL

ROOT = Path(__file__).resolve().parents[1]


class WorkerProcess:
    """``celery -A tests.workerproject worker`` on a given broker and layer prefix."""

    def __init__(
        self,
        broker_url: str,
        prefix: str,
        log_path: Path,
        *,
        queues: str = "channels,celery",
        concurrency: int = 4,
        pool: str = "prefork",
        name: str = "w1",
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.log_path = log_path
        self.args = [
            sys.executable, "-m", "celery", "-A", "tests.workerproject", "worker",
            "-Q", queues, "-c", str(concurrency), "-P", pool, "-n", f"{name}@%h", "--loglevel=INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat", *extra_args,
        ]  # fmt: skip
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.workerproject.settings",
            "REALTIME_TEST_BROKER_URL": broker_url,
            "REALTIME_TEST_PREFIX": prefix,
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> WorkerProcess:
        """Start the worker and wait until it says it is ready."""
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while " ready." not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{self.log()[-3000:]}")
            time.sleep(0.1)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes, as a crash would."""
        assert self.process is not None
        children = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        self.process.kill()
        for pid in children.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=30)

    def stop(self, timeout: float = 30) -> int:
        """Warm shutdown (SIGTERM), then SIGKILL if it does not exit in time."""
        return stop_process(self.process, timeout, self.kill)


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float, kill: Callable[[], None]) -> int:
    """SIGTERM ``process`` and wait up to ``timeout`` seconds, then ``kill()``; its exit status
    (-9 when killed, 0 if it never started)."""
    if process is None or process.poll() is not None:
        return process.returncode if process else 0
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill()
        return -9


BROKERS = {"amqp": AMQP_URL, "redis": REDIS_URL}
# Every channel the worker test project serves (tests/workerproject), and those its
# consumers send to for the tests to read.
WORKER_CHANNELS = [
    "chat-messages",
    "http.disconnect",
    "http.request",
    "test.decorated",
    "test.disconnects",
    "test.durable",
    "test.events",
    "test.fail",
    "test.flaky",
    "test.limited",
    "test.rate",
    "test.polls",
    "websocket.connect",
    "websocket.disconnect",
    "websocket.receive",
]


class Setup:
    """A broker, a layer prefix private to the test, and workers started on them."""

    def __init__(self, url: str, tmp_path: Path) -> None:
        self.url = url
        self.prefix = f"w{secrets.token_hex(4)}"
        self.tmp_path = tmp_path
        self.layer = SyncChannelLayer(LayerConfig(url=url, prefix=self.prefix))
        self.workers: list[WorkerProcess] = []

    def worker(self, **options: object) -> WorkerProcess:
        name = f"w{len(self.workers)}"
        queues = str(options.pop("queues", "channels"))
        worker = WorkerProcess(
            self.url,
            self.prefix,
            self.tmp_path / f"{name}.log",
            queues=f"{queues},{self.prefix}-celery",
            name=f"{name}-{self.prefix}",
            **options,  # type: ignore[arg-type]
        )
        self.workers.append(worker)
        return worker.start()

    def expect(self, channel: str, predicate: Callable[[dict], bool] = lambda m: True, timeout: float = 10) -> dict:
        message = self.layer.receive(channel, timeout=timeout)
        assert message is not None, f"nothing on {channel} within {timeout} s"
        assert predicate(message), message
        return message

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        # On RabbitMQ flush() deletes what this process declared: declare what the workers did.
        self.layer.reader(WORKER_CHANNELS).close()
        self.layer.flush()
        self.layer.close()
        client = Celery("cleanup", broker=self.url, set_as_current=False)
        with client.connection_for_write() as connection:
            connection.default_channel.queue_delete(f"{self.prefix}-celery")
            if self.url.startswith("amqp"):
                connection.default_channel.exchange_delete(f"{self.prefix}-celery")
        client.close()
