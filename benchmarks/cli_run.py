"""One `adpilot` command in a fresh process, as a user runs it: wall time, the child's own peak RSS, its output."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class CliRun:
    seconds: float
    peak_mib: float
    stdout: str


def run_adpilot(args: list[str], home: str | Path, today: str) -> CliRun:
    """`python -m app ARGS` with ADPILOT_HOME and ADPILOT_TODAY set; exits with the command's error if it fails."""
    env = {**os.environ, "ADPILOT_HOME": str(home), "ADPILOT_TODAY": today, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "app", *args], stdout=out, stderr=err, env=env, cwd=home)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        code = os.waitstatus_to_exitcode(status)
        if code:
            sys.exit(f"adpilot {' '.join(args)} failed ({code}): {err.read().strip()[-500:]}")
        return CliRun(seconds, usage.ru_maxrss / 1024, out.read())  # ru_maxrss is in KiB on Linux
