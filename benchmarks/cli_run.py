"""One `adpilot` command in a fresh process, as a user runs it: wall time, the child's own peak RSS, its output."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Settings a developer's shell may hold: a benchmark runs offline on its own home unless it sets them itself.
CONFIG_PREFIXES = ("OPENAI_", "LANGFUSE_", "ADPILOT_")


@dataclass(frozen=True)
class CliRun:
    seconds: float
    peak_mib: float
    stdout: str
    code: int = 0


def run_adpilot(
    args: list[str],
    home: str | Path,
    today: str,
    *,
    env: Mapping[str, str] | None = None,
    allowed: tuple[int, ...] = (),
) -> CliRun:
    """`python -m app ARGS` with ADPILOT_HOME and ADPILOT_TODAY set (and `env`, on an environment without the
    shell's adpilot, OpenAI and Langfuse settings); exits with the command's error if it fails with a code that is
    not `allowed` (`adpilot eval` exits 1 below its thresholds, with its figures on stdout)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_PREFIXES)}
    env = {**inherited, "ADPILOT_HOME": str(home), "ADPILOT_TODAY": today, "PYTHONPATH": str(REPO), **(env or {})}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "app", *args], stdout=out, stderr=err, env=env, cwd=home)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        code = os.waitstatus_to_exitcode(status)
        if code and code not in allowed:
            sys.exit(f"adpilot {' '.join(args)} failed ({code}): {err.read().strip()[-500:]}")
        return CliRun(seconds, usage.ru_maxrss / 1024, out.read(), code)  # ru_maxrss is in KiB on Linux
