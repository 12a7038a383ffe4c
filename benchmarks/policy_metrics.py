"""`adpilot metrics` on a home with many audits, each measured command a fresh process.

    .venv/bin/python benchmarks/policy_metrics.py [--audits 20] [--every 3.5] [--stricter-from 14] [--extra 0]

Set-up (in one process, not measured): a sandbox, then `--audits` audits of both sandbox accounts on simulated days
(ADPILOT_TODAY) `--every` days apart; after each, a person rejects the oldest waiting change and approves the
newest. From audit `--stricter-from` on, the policy is stricter (budget moves over 5 % blocked, negatives over two
words blocked), as a team tightening its policy would. `--extra N` adds N more decisions (and their applies and
answers) through the ChangeLog API over the year before, to see how the command scales.

Prints seconds and peak RSS of `adpilot metrics --json`, `adpilot metrics` and `metrics --account … --since …`, and
checks the figures against the change log itself: proposals against its decisions, applied against its entries.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cli_run import run_adpilot  # noqa: E402 - benchmarks/cli_run.py, beside this script

from ads.changes import SetBudget  # noqa: E402 - the repository root is put on the path first
from ops.change_log import ChangeLog  # noqa: E402
from policies.gate import Decision  # noqa: E402

START = dt.date(2026, 9, 7)  # a Monday
STRICTER = {"budgets": {"max_auto_move": 0.02, "max_move": 0.05}, "negatives": {"max_words": 2}}


def stricter_policy(folder: Path) -> Path:
    import yaml

    policy = yaml.safe_load((ROOT / "policies" / "default.yaml").read_text(encoding="utf-8"))
    for section, values in STRICTER.items():
        policy[section] |= values
    path = folder / "stricter.yaml"
    path.write_text(yaml.safe_dump(policy), encoding="utf-8")
    return path


def audits(home: Path, folder: Path, count: int, every: float, stricter_from: int) -> list[dt.date]:
    from app.session import Session
    from app.settings import Settings
    from sandbox.generator import generate_sandbox
    from sandbox.store import SandboxStore

    days = [START + dt.timedelta(days=round(i * every)) for i in range(count)]
    accounts = generate_sandbox(SandboxStore.create(home / "sandbox.sqlite"), seed=7, rows=6000, today=days[-1])
    stricter = stricter_policy(folder)
    for n, day in enumerate(days):
        values = {"ADPILOT_HOME": str(home), "ADPILOT_TODAY": day.isoformat()}
        settings = Settings.model_validate(values | ({"ADPILOT_POLICY": str(stricter)} if n >= stricter_from else {}))
        session = Session(settings)
        for account in accounts:
            session.audit(account)
        waiting = session.pending_approvals()
        if waiting:  # newest first: approve the newest, reject the oldest
            session.answer(waiting[-1].change.hash, {"type": "reject", "reason": "not now"}, reviewer="ben")
        if len(waiting) > 1:
            session.answer(waiting[0].change.hash, {"type": "accept"}, reviewer="ana")
        session.tracing.flush()
        print(f"  audit {n + 1}/{count} on {day}{' (stricter policy)' if n >= stricter_from else ''}", flush=True)
    return days


def extra_decisions(home: Path, count: int, before: dt.date) -> None:
    """`count` more budget proposals over the 52 weeks before `before`: a third applied by the policy, a third
    approved or rejected by a person, a third blocked."""
    log = ChangeLog(home / "changes.sqlite")
    rng = random.Random(7)
    per_run = 50
    for run in range(0, count, per_run):
        day = before - dt.timedelta(days=rng.randrange(1, 365))
        changes = [
            SetBudget(account="bench:x", rationale="bench", budget_id=f"b{run + i}", from_amount=100, to_amount=101)
            for i in range(min(per_run, count - run))
        ]
        outcomes = [rng.choice(["auto_apply", "needs_approval", "blocked"]) for _ in changes]
        rules = {
            "auto_apply": "budget.auto_apply",
            "needs_approval": "budget.needs_approval",
            "blocked": "budget.max_move",
        }
        made = [
            Decision(change_id=c.id, change_hash=c.hash, kind=c.kind, outcome=o, rule=rules[o], reason="bench")  # type: ignore[arg-type]
            for c, o in zip(changes, outcomes, strict=True)
        ]
        log.record_decisions(
            made, account="bench:x", policy="bench", thread_id=f"bench-{run}", graph="audit", today=day
        )
        for change, outcome in zip(changes, outcomes, strict=True):
            if outcome == "auto_apply":
                log.append(change, "applied", decided_by="policy:budget.auto_apply")
            elif outcome == "needs_approval":
                log.append(change, rng.choice(["applied", "rejected"]), decided_by="person:ana")
    log.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--audits", type=int, default=20)
    parser.add_argument("--every", type=float, default=3.5, help="days between audits")
    parser.add_argument("--stricter-from", type=int, default=14, help="the audit from which the policy is stricter")
    parser.add_argument("--extra", type=int, default=0, help="more decisions written through the ChangeLog API")
    parser.add_argument("--set-up", type=Path, help=argparse.SUPPRESS)  # the set-up's own process: this home
    args = parser.parse_args()
    if args.set_up:
        days = audits(args.set_up, args.set_up.parent, args.audits, args.every, args.stricter_from)
        if args.extra:
            extra_decisions(args.set_up, args.extra, days[0])
        return
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        home = folder / "home"
        home.mkdir()
        print(f"setting up {args.audits} audits of both sandbox accounts, {args.every} days apart …", flush=True)
        started = time.perf_counter()
        # In a process of its own: a child forked from a parent that ran the audits would report its peak RSS.
        subprocess.run([sys.executable, __file__, *sys.argv[1:], "--set-up", str(home)], check=True)
        days = [START + dt.timedelta(days=round(i * args.every)) for i in range(args.audits)]
        print(f"set-up {time.perf_counter() - started:.0f} s")
        today = days[-1].isoformat()
        as_json = run_adpilot(["metrics", "--json"], home, today)
        found: dict[str, Any] = json.loads(as_json.stdout)
        table = run_adpilot(["metrics"], home, today)
        since = days[len(days) // 2].isoformat()
        one = run_adpilot(["metrics", "--account", "sandbox:trailhead", "--since", since, "--json"], home, today)
        with sqlite3.connect(home / "changes.sqlite") as db:
            decisions = db.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]
            entries = db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
            by_policy = db.execute(
                "SELECT COUNT(DISTINCT change_hash) FROM entries WHERE decided_by LIKE 'policy:%'"
                " AND status IN ('applied', 'already_applied', 'reconciled')"
            ).fetchone()[0]

    total = found["rows"][0]
    print(f"change log: {decisions:,} decisions, {entries:,} entries; {len(found['weekly'])} weekly rows")
    print(f"{'command':<72} {'seconds':>8} {'peak RSS':>10}")
    for name, measured in (
        ("adpilot metrics --json", as_json),
        ("adpilot metrics (Rich tables)", table),
        (f"adpilot metrics --account sandbox:trailhead --since {since} --json", one),
    ):
        print(f"{name:<72} {measured.seconds:>8.1f} {measured.peak_mib:>7.0f} MiB")
    print(
        f"proposals {total['proposals']:,} (decisions in the log: {decisions:,}: "
        f"{'match' if total['proposals'] == decisions else 'MISMATCH'}); auto-applied {total['auto_applied']:,} "
        f"(changes the policy applied, in the log: {by_policy:,}: "
        f"{'match' if total['auto_applied'] == by_policy else 'differs'})"
    )
    rates = ("auto_apply_rate", "approval_rate", "rejection_rate", "block_rate")
    print("rates: " + ", ".join(f"{r} {total[r]:.1%}" if total[r] is not None else f"{r} –" for r in rates))
    print(
        "weekly block rate: "
        + ", ".join(f"{w['week']} {w['block_rate']:.0%}" for w in found["weekly"] if w["kind"] == "all")
    )
    print(f"policies: {', '.join(found['policies'])}")
    print(f"drift alerts: {len(found['alerts'])}")
    for alert in found["alerts"]:
        print(f"  - {alert['message']}")
    print(f"table output: {len(table.stdout.splitlines())} lines")


if __name__ == "__main__":
    main()
