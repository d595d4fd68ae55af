"""Where the test brokers are, and whether they must be there.

Tests that need RabbitMQ or Redis skip, clearly reported, when the broker is
unreachable; with ``REALTIME_REQUIRE_BROKERS=1`` (set by ``.ci/run``) they fail instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

AMQP_URL = os.environ.get("REALTIME_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
REDIS_URL = os.environ.get("REALTIME_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BROKERS_REQUIRED = os.environ.get("REALTIME_REQUIRE_BROKERS") == "1"

TRANSPORT_URLS = {"memory": "memory://tests", "amqp": AMQP_URL, "redis": REDIS_URL}


def reachable(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "memory":
        return True
    port = parts.port or {"amqp": 5672, "redis": 6379}.get(parts.scheme, 0)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def require(url: str) -> None:
    """Skip (or, when brokers are required, fail) unless the broker at ``url`` answers."""
    if reachable(url):
        return
    message = f"broker not reachable at {url}"
    if BROKERS_REQUIRED:
        pytest.fail(f"{message} (REALTIME_REQUIRE_BROKERS=1)", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class PrivateBroker:
    """A broker process of the test's own (never the machine's shared service), on its own
    port and data directory, that a test may kill and start again."""

    url: str
    start_timeout = 60.0
    #: The user to run the broker as (None: this process's user).
    user: str | None = None

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    def command(self) -> tuple[list[str], dict[str, str]]:
        raise NotImplementedError

    def start(self) -> None:
        args, env = self.command()
        log = open(self.workdir / "broker.log", "ab")  # noqa: SIM115 - lives as long as the process
        self._process = subprocess.Popen(
            args,
            env={**os.environ, **env},
            cwd=self.workdir,
            stdout=log,
            stderr=log,
            start_new_session=True,  # kill() takes the whole process group
            user=self.user,
            group=self.user,
        )
        log.close()
        try:
            wait_for_port(self.port, self.start_timeout)
        except TimeoutError:
            self.kill()
            raise TimeoutError(f"{args[0]} did not start; see {self.workdir / 'broker.log'}") from None

    def kill(self) -> None:
        """SIGKILL the broker and everything it started, as a crash would."""
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=30)
            self._process = None
            # The group's other processes (the Erlang VM) exit a moment later.
            deadline = time.monotonic() + 30
            while reachable(f"tcp://127.0.0.1:{self.port}") and time.monotonic() < deadline:
                time.sleep(0.05)

    def pause(self) -> None:
        """SIGSTOP the broker and everything it started: a hung broker, connections open."""
        assert self._process is not None
        os.killpg(self._process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`."""
        assert self._process is not None
        os.killpg(self._process.pid, signal.SIGCONT)

    def close(self) -> None:
        """Stop the broker for good."""
        self.kill()


class PrivateRedis(PrivateBroker):
    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> tuple[list[str], dict[str, str]]:
        redis_server = shutil.which("redis-server") or "redis-server"
        args = [redis_server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        return [*args, "--dir", str(self.workdir)], {}


class PrivateRabbitMQ(PrivateBroker):
    """A RabbitMQ node named after its port, with its own config, data and log directories."""

    def __init__(self, workdir: Path) -> None:
        # Debian's rabbitmq-server drops to the rabbitmq user, who cannot enter pytest's
        # private tmp directories: the node gets a directory of its own under /tmp.
        workdir = Path(tempfile.mkdtemp(prefix="rt-rabbitmq-"))
        workdir.chmod(0o755)
        super().__init__(workdir)
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}//"
        (workdir / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\nloopback_users = none\n")
        (workdir / "enabled_plugins").write_text("[].\n")
        if os.geteuid() == 0:  # RabbitMQ refuses to run as root: run it as its own user
            self.user = "rabbitmq"
            shutil.chown(workdir, self.user, self.user)
            for path in workdir.iterdir():
                shutil.chown(path, self.user, self.user)

    def close(self) -> None:
        super().close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def command(self) -> tuple[list[str], dict[str, str]]:
        env = {
            "RABBITMQ_NODENAME": f"rt-test-{self.port}@localhost",
            "RABBITMQ_CONFIG_FILE": str(self.workdir / "rabbitmq.conf"),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_MNESIA_BASE": str(self.workdir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.workdir / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.workdir / "enabled_plugins"),
            "RABBITMQ_FEATURE_FLAGS_FILE": str(self.workdir / "feature_flags"),
            "RABBITMQ_PLUGINS_EXPAND_DIR": str(self.workdir / "plugins-expand"),
            "RABBITMQ_PID_FILE": str(self.workdir / "rabbitmq.pid"),
        }
        env["HOME"] = str(self.workdir)  # its own Erlang cookie
        # Debian's /usr/sbin/rabbitmq-server re-executes itself through `su`, in a new session
        # that kill() could not reach; start the real script directly.
        script = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
        return [str(script) if script.exists() else shutil.which("rabbitmq-server") or "rabbitmq-server"], env
