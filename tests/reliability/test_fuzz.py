"""Fuzzing the protocol code (RELIABILITY.md T5): tests/fuzz/fuzz_protocols.py under atheris,
20 s in every run and 10 minutes with ``--slow``; 0 crashes allowed."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from ..gateways import ROOT
from .conftest import Record

CORPUS = ROOT / "tests" / "fuzz" / "corpus"


def fuzz(seconds: int, record: Record) -> None:
    CORPUS.mkdir(exist_ok=True)
    result = subprocess.run(
        [sys.executable, "tests/fuzz/fuzz_protocols.py", f"-max_total_time={seconds}", "-print_final_stats=1",
         "-artifact_prefix=tests/fuzz/", str(CORPUS)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=seconds + 120,
    )  # fmt: skip
    stats = dict(re.findall(r"stat::(\w+):\s+(\d+)", result.stderr))
    record(fuzz_seconds=seconds, executions=int(stats.get("number_of_executed_units", 0)),
           corpus_units_added=int(stats.get("new_units_added", 0)), exit_status=result.returncode)  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]


def test_t5_fuzz_briefly(record: Record) -> None:
    fuzz(20, record)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_t5_fuzz_for_ten_minutes(record: Record) -> None:
    fuzz(600, record)
