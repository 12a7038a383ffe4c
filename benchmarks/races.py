"""Races between real adpilot processes on one ADPILOT_HOME, counted over bounded rounds.

    .venv/bin/python benchmarks/races.py [--rounds 5] [--source DIR]

Only CLI commands and the store's own `apply` are used, so `--source` can point at an older checkout (its
packages first on the path) to count the same races before a fix. Per round, after one `adpilot demo`:
- answers: approve X, reject Y, approve Z and reject Z, four processes at once. A round fails when Y's
  rejection or X's application is lost, when both answers to Z exit 0, or when Z is both applied and rejected;
- creative: two processes apply the same creative at the store; a round fails when two ads result.
Prints each race's failed rounds, and seconds per round.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

TODAY = "2026-11-20"

APPLY_CREATIVE = """
    import sys, time
    from pathlib import Path
    from ads.changes import parse_change
    from sandbox.store import SandboxStore
    change = parse_change(Path(sys.argv[1]).read_text())
    account = SandboxStore(Path(sys.argv[2])).open_account(change.account)
    time.sleep(max(0.0, float(sys.argv[3]) - time.time()))  # both processes start applying at one moment
    [result] = account.apply([change], validate_only=False)
    print(result.status)
"""

COUNT_ADS = """
    import sys
    from pathlib import Path
    from ads.changes import parse_change
    from sandbox.store import SandboxStore
    change = parse_change(Path(sys.argv[1]).read_text())
    ads = SandboxStore(Path(sys.argv[2])).open_account(change.account).structure().ads
    print(sum(1 for a in ads if a.ad_group_id == change.ad_group_id and a.copy_ == change.ad))
"""


class Home:
    def __init__(self, path: Path, source: Path) -> None:
        self.path = path
        self.env = {**os.environ, "ADPILOT_HOME": str(path / "home"), "ADPILOT_TODAY": TODAY, "PYTHONPATH": str(source)}

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "app", *args],
            env=self.env,
            cwd=self.path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str) -> tuple[int, str, str]:
        process = self.start(*args)
        out, err = process.communicate(timeout=600)
        return process.returncode, out, err

    def script(self, code: str, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code), *args],
            env=self.env,
            cwd=self.path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def answers_round(home: Home) -> bool:
    """True when the round kept every answer and gave the contested change exactly one."""
    pending = [p for p in json.loads(home.run("approvals", "list", "--json")[1]) if p["kind"] != "set_budget"]
    approve, reject, contested = (p["id"] for p in pending[:3])
    processes = [
        home.start("approvals", "approve", approve),
        home.start("approvals", "reject", reject, "--reason", "off brand"),
        home.start("approvals", "approve", contested),
        home.start("approvals", "reject", contested, "--reason", "too broad"),
    ]
    codes = [p.wait(timeout=600) for p in processes]
    entries = json.loads(home.run("changes", "log", "--json")[1])
    statuses = {(e["change_id"], e["status"]) for e in entries}
    contested_outcomes = {s for cid, s in statuses if cid == contested} & {"applied", "rejected"}
    return (
        (approve, "applied") in statuses
        and (reject, "rejected") in statuses
        and (reject, "applied") not in statuses
        and sorted(codes[2:]) == [0, 1]
        and len(contested_outcomes) == 1
    )


def creative_round(home: Home, change_json: str, index: int) -> bool:
    path = home.path / f"creative-{index}.json"
    path.write_text(change_json)
    store = str(home.path / "home" / "sandbox.sqlite")
    at = str(time.time() + 8)  # after both processes have imported adpilot
    for process in [home.script(APPLY_CREATIVE, str(path), store, at) for _ in range(2)]:
        process.wait(timeout=300)
    counter = home.script(COUNT_ADS, str(path), store)
    out, _ = counter.communicate(timeout=300)
    return out.strip() == "1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args()
    failed = {"answers": 0, "creative": 0}
    started = time.perf_counter()
    for index in range(args.rounds):
        with tempfile.TemporaryDirectory() as directory:
            home = Home(Path(directory), args.source.resolve())
            code, out, err = home.run("demo", "--json")
            if code != 0:
                sys.exit(f"demo failed: {err.strip().splitlines()[-1]}")
            creatives = [p["change"] for p in json.loads(out)["proposals"] if p["kind"] == "add_creative_variants"]
            failed["answers"] += not answers_round(home)
            failed["creative"] += not creative_round(home, json.dumps(creatives[-1]), index)
    seconds = (time.perf_counter() - started) / args.rounds
    print(f"source: {args.source}")
    for race, count in failed.items():
        print(f"{race:>9}: {count} of {args.rounds} rounds failed")
    print(f"{seconds:.1f} s per round")


if __name__ == "__main__":
    main()
