"""Malformed search-term reports through `adpilot import search-terms`: each refused in one line, cheaply.

    .venv/bin/python benchmarks/malformed_imports.py [--workdir DIR]

Each case runs `python -m app import search-terms FILE --account NAME` in a fresh process with its own
ADPILOT_HOME. Per case it prints the exit code, seconds, the child's peak RSS (ru_maxrss of RUSAGE_CHILDREN,
read after each child: the highest so far, so each case runs in its own wrapper process) and the error line.
Target: every case exits non-zero in one line, creates no store, and peaks under 500 MB.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = "Search term,Match type,Campaign,Ad group,Clicks,Impr.,Cost,Currency code\n"
ROW = "hiking boots,Exact match,Boots,Hiking,12,300,9.50,USD\n"
PEAK_LIMIT_MB = 500


def _row(term: str = "trail boots", clicks: str = "3", cost: str = "1.20", currency: str = "USD") -> str:
    return f"{term},Broad match,Boots,Hiking,{clicks},90,{cost},{currency}\n"


CASES: dict[str, Callable[[], str]] = {
    "6 MB line": lambda: HEADER + ROW + _row("x" * 6_000_000),
    "200k-column header": lambda: HEADER.rstrip("\n") + ",x" * 200_000 + "\n" + ROW,
    "10 MB search term": lambda: HEADER + _row('"' + "boots " * 1_700_000 + '"'),
    "1 MB lines of 0.9 MB terms": lambda: HEADER + "".join(_row("t" * 900_000 + str(i)) for i in range(40)),
    "clicks overflow": lambda: HEADER + ROW + _row(clicks="99999999999999999999999"),
    "cost overflow": lambda: HEADER + ROW + _row(cost="99999999999999999999.99"),
    "header only": lambda: HEADER,
    "duplicate columns": lambda: HEADER.replace("Impr.", "Clicks") + ROW,
    "markup as currency": lambda: HEADER + _row(currency="USD</text><script>alert(4)</script>"),
    "formula-looking 20k columns in a row": lambda: HEADER + ROW + "=HYPERLINK(1)," * 20_000 + "\n",
}

# Run as the wrapper of one case: the parent reads this process's RUSAGE_CHILDREN, i.e. one import only.
_CHILD = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - start
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(done.returncode, f"{seconds:.2f}", peak_kb, len(done.stderr.strip().splitlines()), sep="\\t")
print(done.stderr.strip().replace("\\n", " | ")[:160])
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="adpilot-malformed-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"{'case':38} {'exit':>4} {'lines':>5} {'seconds':>7} {'peak MB':>8}  store  error")
    worst = 0.0
    for number, (case, build) in enumerate(CASES.items()):
        path = workdir / f"case{number}.csv"
        path.write_text(build(), encoding="utf-8")
        home = workdir / f"home{number}"
        env = {**os.environ, "ADPILOT_HOME": str(home), "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
        command = [sys.executable, "-m", "app", "import", "search-terms", str(path), "--account", f"case{number}"]
        done = subprocess.run([sys.executable, "-c", _CHILD, *command], capture_output=True, text=True, env=env)
        figures, error = (done.stdout.splitlines() + ["", ""])[:2]
        code, seconds, peak_kb, lines = figures.split("\t")
        peak_mb = int(peak_kb) / 1024  # ru_maxrss is in KiB on Linux
        worst = max(worst, peak_mb)
        store = "made" if (home / "sandbox.sqlite").exists() else "none"
        print(f"{case:38} {code:>4} {lines:>5} {float(seconds):7.2f} {peak_mb:8.0f}  {store:5}  {error}")
    print(f"worst peak: {worst:.0f} MB (target < {PEAK_LIMIT_MB} MB)")
    print(f"this process (the generator) peaked at {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
