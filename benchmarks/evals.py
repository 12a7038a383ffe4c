"""`adpilot eval --json` as a user runs it: one fresh process on an empty home, timed, with its quality figures.

    .venv/bin/python benchmarks/evals.py [--model offline|configured] [--set FILE ...]

The command builds its own sandbox from each set's seed, rows and "today", and runs every item on a fresh chat
thread. Printed: the process's wall time and peak RSS, then per part (the golden set, the held-out part that the
planner's rules were not written against, and both) the items, task success, tool-call precision and recall,
answer-fact accuracy, latency p50/p95 per turn, tokens, cost per correct answer and error types, and the
thresholds the run fell below (the command exits 1 then; the figures are still printed).
With `--model configured` the OPENAI_* settings of this shell are passed on; otherwise none are.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from cli_run import run_adpilot  # benchmarks/cli_run.py, beside this script

TODAY = "2026-11-20"  # the sets fix their own "today"; this only keeps the command's start-up reproducible


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=("offline", "configured"), default="offline")
    parser.add_argument("--set", dest="sets", type=Path, action="append", default=[], help="a golden set file")
    args = parser.parse_args()
    command = ["eval", "--model", args.model, "--json"]
    for path in args.sets:
        command += ["--set", str(path.resolve())]
    passed = {k: v for k, v in os.environ.items() if k.startswith("OPENAI_")} if args.model == "configured" else {}
    with tempfile.TemporaryDirectory() as home:
        run = run_adpilot(command, home, TODAY, env=passed, allowed=(1,))
    document = json.loads(run.stdout)
    print(f"adpilot {' '.join(command)}  (model: {document['model']})")
    print(f"process: {run.seconds:.1f} s wall, peak RSS {run.peak_mib:.0f} MiB, exit code {run.code}")
    header = (
        f"{'part':<9} {'items':>5} {'success':>8} {'tool P':>7} {'tool R':>7} {'facts':>7} "
        f"{'p50 s':>6} {'p95 s':>6} {'tokens in/out':>14} {'$/correct':>10}"
    )
    print(header)
    for part in document["parts"]:
        per_correct = part["cost_per_correct_usd"]
        print(
            f"{part['part']:<9} {part['items']:>5} {part['task_success']:>8.3f} {part['tool_precision']:>7.3f} "
            f"{part['tool_recall']:>7.3f} {part['fact_accuracy']:>7.3f} {part['latency_p50']:>6.2f} "
            f"{part['latency_p95']:>6.2f} {part['tokens_in']:>7,}/{part['tokens_out']:<6,} "
            f"{'n/a' if per_correct is None else f'{per_correct:.4f}':>10}"
        )
    for part in document["parts"]:
        kinds = ", ".join(f"{kind} {n}" for kind, n in part["errors"].items()) or "none"
        print(f"  {part['part']} errors: {kinds}")
    print("below threshold: " + ("; ".join(document["below_threshold"]) or "none"))


if __name__ == "__main__":
    main()
