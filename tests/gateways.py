"""Real gateway processes (``realtime-gateway``) of the worker test project, for end-to-end tests."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import websocket

from .workers import stop_process

ROOT = Path(__file__).resolve().parents[1]
_LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+)")


class GatewayProcess:
    """``realtime-gateway --bind 127.0.0.1:PORT`` (any free port by default) on a given broker and layer prefix."""

    def __init__(
        self,
        broker_url: str,
        prefix: str,
        log_path: Path,
        *,
        with_worker: bool = False,
        static: bool = False,
        gateway_settings: dict[str, Any] | None = None,
        port: int = 0,
    ) -> None:
        self.log_path = log_path
        self.args = [sys.executable, "-m", "bridge.cli", "--bind", f"127.0.0.1:{port}"]
        if with_worker:
            self.args.append("--with-worker")
        if static:
            self.args.append("--static")
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.workerproject.settings",
            "REALTIME_TEST_BROKER_URL": broker_url,
            "REALTIME_TEST_PREFIX": prefix,
            "REALTIME_TEST_GATEWAY": json.dumps(gateway_settings or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self, timeout: float = 30) -> GatewayProcess:
        """Start the gateway and wait until it listens."""
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while not (match := _LISTENING.search(self.log())):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gateway did not start:\n{self.log()[-3000:]}")
            time.sleep(0.05)
        self.port = int(match.group(1))
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def websocket(
        self, path: str, *, origin: str | None = None, timeout: float = 10, **options: Any
    ) -> websocket.WebSocket:
        """A connected WebSocket client (the handshake must succeed)."""
        return websocket.create_connection(
            f"ws://127.0.0.1:{self.port}{path}",
            origin=origin or f"http://127.0.0.1:{self.port}",
            timeout=timeout,
            **options,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM (graceful shutdown), then SIGKILL if it does not exit in time."""
        return stop_process(self.process, timeout, self.kill)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()


def close_code(ws: websocket.WebSocket) -> int:
    """Read until the server's close frame; its status code."""
    while True:
        opcode, frame = ws.recv_data_frame(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return int.from_bytes(frame.data[:2], "big")
