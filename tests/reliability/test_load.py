"""Holding sockets and a soak (RELIABILITY.md T8, T17) against a gateway with its embedded
worker: 5-minute CI versions (1,000 sockets held; 1,000 sockets with 50 broadcasts a
second), and the full sizes with ``--slow`` (5,000 sockets for 10 minutes; the soak for
30 minutes)."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..gateways import ROOT, GatewayProcess
from .conftest import Record, scrape


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def run_client(args: list[str], timeout: float) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "tests.reliability.load_client", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def start(tmp_path: Path, name: str) -> GatewayProcess:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 20000), hard))  # gateway and client inherit it
    return GatewayProcess(
        "memory://", name, tmp_path / f"{name}.log", with_worker=True,
        gateway_settings={"max_connections": 20000, "allowed_origins": ["*"]},
    ).start()  # fmt: skip


def hold(tmp_path: Path, record: Record, sockets: int, seconds: int) -> None:
    process = start(tmp_path, "hold")
    try:
        assert process.process is not None
        before = rss_mib(process.process.pid)
        figures = run_client(["hold", str(process.port), str(sockets), str(seconds)], timeout=seconds + 300)
        after = rss_mib(process.process.pid)
        closes = {k: v for k, v in scrape(process.url).items() if k.startswith("realtime_gateway_websocket_closes")}
        record(**figures, gateway_rss_before_mib=round(before, 1), gateway_rss_held_mib=round(after, 1),
               kib_per_socket=round((after - before) * 1024 / sockets, 1), closes=closes)  # fmt: skip
        assert figures["opened"] == sockets and figures["still_open"] == sockets
        assert figures["errors"] == {}
        assert not {key: count for key, count in closes.items() if 'code="1000"' not in key}, closes
        assert figures["echo_p99_ms"] < 50
        assert (after - before) * 1024 / sockets < 40  # KiB per held socket
    finally:
        process.stop()


def soak(tmp_path: Path, record: Record, sockets: int, seconds: int, rooms: int, rate: int) -> None:
    """T17: delivery ratio, gateway RSS growth after a warm-up of a sixth of the run, and no
    connection or reply channel left behind once every client has gone."""
    process = start(tmp_path, "soak")
    try:
        assert process.process is not None
        pid = process.process.pid
        client = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.load_client", "soak",
             str(process.port), str(sockets), str(seconds), str(rooms), str(rate)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        started = time.monotonic()
        time.sleep(seconds / 6)
        warm = rss_mib(pid)
        peak = warm
        while client.poll() is None and time.monotonic() - started < seconds + 300:
            peak = max(peak, rss_mib(pid))
            time.sleep(5)
        out, err = client.communicate(timeout=60)
        assert client.returncode == 0, err[-3000:]
        figures = json.loads(out)
        end = rss_mib(pid)
        leftovers = wait_for_leftovers(process.url)
        record(**figures, gateway_rss_warm_mib=round(warm, 1), gateway_rss_peak_mib=round(peak, 1),
               gateway_rss_end_mib=round(end, 1), rss_growth_after_warm_up=round((peak - warm) / warm, 4),
               leftovers_after_close=leftovers)  # fmt: skip
        assert figures["opened"] == sockets and figures["errors"] == {}
        assert figures["delivered_ratio"] >= 0.9999
        assert (peak - warm) / warm < 0.10
        assert leftovers == {"websockets": 0, "reply_channels": 0}
    finally:
        process.stop()


def wait_for_leftovers(url: str, timeout: float = 10) -> dict[str, float]:
    """Open WebSockets and routed reply channels, once they reach 0 or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        samples = scrape(url)
        leftovers = {
            "websockets": samples['realtime_gateway_connections{protocol="websocket"}'],
            "reply_channels": samples["realtime_gateway_reply_channels"],
        }
        if not any(leftovers.values()) or time.monotonic() > deadline:
            return leftovers
        time.sleep(0.2)


@pytest.mark.timeout(700)
def test_t8_hold_1000_sockets_for_five_minutes(tmp_path: Path, record: Record) -> None:
    hold(tmp_path, record, sockets=1000, seconds=300)


@pytest.mark.timeout(700)
def test_t17_soak_for_five_minutes(tmp_path: Path, record: Record) -> None:
    soak(tmp_path, record, sockets=1000, seconds=300, rooms=20, rate=50)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_t8_hold_5000_sockets_for_ten_minutes(tmp_path: Path, record: Record) -> None:
    hold(tmp_path, record, sockets=5000, seconds=600)


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_t17_soak_for_thirty_minutes(tmp_path: Path, record: Record) -> None:
    soak(tmp_path, record, sockets=1000, seconds=1800, rooms=20, rate=50)


def test_load_client_runs_quickly(tmp_path: Path) -> None:
    """The client itself, in a few seconds (so that a broken client fails fast)."""
    process = start(tmp_path, "quick")
    try:
        figures = run_client(["soak", str(process.port), "6", "2", "2", "10"], timeout=60)
        assert figures["opened"] == 6 and figures["delivered_ratio"] == 1.0
    finally:
        process.stop()
