"""Creative tests on simulated ad-level data: is the planted winner found, is nothing paused where the ads are
alike, is nothing proposed where the data is thin?

The sandbox account (Google, seed 7) is generated once; each run re-draws its ads' metrics from the generator's
`plant_creative_tests` with a new seed (held out: seeds from 1000 on, never used while writing the rules) and
runs the analysis and the pause proposals on them. Then `adpilot audit --json` runs once in a fresh process on
a fresh ADPILOT_HOME, the CLI path a user takes.

    python benchmarks/creative_tests.py [--runs 200] [--null-runs 40] [--no-cli]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sandbox import GOOGLE_ACCOUNT  # noqa: E402
from sandbox.generator import PLANTED_CREATIVE_TESTS, WINNER_LIFT, generate_sandbox, plant_creative_tests  # noqa: E402
from sandbox.store import SandboxStore  # noqa: E402
from tools.creative_tests import evaluate_creative_tests, propose_pauses  # noqa: E402

TODAY = dt.date(2026, 11, 20)
HELD_OUT_SEEDS = 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--null-runs", type=int, default=20, help="runs over every ad group (slower)")
    parser.add_argument("--no-cli", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        store = SandboxStore.create(Path(scratch) / "sandbox.sqlite")
        generate_sandbox(store, seed=7, rows=6000, today=TODAY)
        account = store.open_account(GOOGLE_ACCOUNT)
        structure = account.structure()
        daily = account.daily_metrics(TODAY - dt.timedelta(days=89), TODAY)
    names = {g.id: g.name for g in structure.ad_groups}
    planted_ids = {g for g, n in names.items() if n in PLANTED_CREATIVE_TESTS}
    counter = iter(range(10**12, 10**13))

    def run(seed: int, lift: dict[str, float], only_planted: bool) -> tuple[dict, list, object]:
        planted = plant_creative_tests(
            structure, daily, np.random.default_rng(seed), TODAY, lambda: str(next(counter)), winner_lift=lift
        )
        frame = planted.ad_metrics
        if only_planted:
            frame = frame[frame["ad_group_id"].isin(planted_ids)]
        ads = structure.model_copy(update={"ads": (*structure.ads, *planted.new_ads)})
        report = evaluate_creative_tests(ads, frame, planted.asset_labels)
        return planted.truth, propose_pauses(report, ads), report

    started = time.perf_counter()
    for label, lift in (
        ("sandbox winner (CTR x1.4, CVR x1.25)", WINNER_LIFT),
        ("small winner (CTR x1.2, CVR x1.1)", {"ctr": 1.2, "cvr": 1.1}),
    ):
        found = leader_right = null_pauses = thin_proposals = 0
        for i in range(args.runs):
            truth, pauses, report = run(HELD_OUT_SEEDS + i, lift, only_planted=True)
            by_group = {t.ad_group_id: t for t in report.tests}
            paused_groups = {
                next(t.ad_group_id for t in report.tests if any(v.ad_id == p.entity_id for v in t.variants))
                for p in pauses
            }
            for group_id, (plant, winner) in truth.items():
                test = by_group[group_id]
                if plant == "winner":
                    found += test.status == "winner" and test.winner_ad_id == winner
                    leader = max(test.variants, key=lambda v: v.ctr.probability_best)
                    leader_right += leader.ad_id == winner and leader.ctr.probability_best >= 0.95
                elif plant == "no_difference":
                    null_pauses += group_id in paused_groups
                else:
                    thin_proposals += group_id in paused_groups
        print(f"{label}, {args.runs} runs:")
        print(f"  winner found (declared, right ad): {found / args.runs:.1%}")
        print(f"  winner leads on CTR with P(best) >= 95%: {leader_right / args.runs:.1%}")
        print(f"  runs with no pause in the no-difference group: {1 - null_pauses / args.runs:.1%} (goal >= 95%)")
        print(f"  runs with a proposal in the thin group: {thin_proposals} (goal 0)")

    false_pauses = null_groups = 0
    for i in range(args.null_runs):
        truth, pauses, report = run(HELD_OUT_SEEDS + 5000 + i, WINNER_LIFT, only_planted=False)
        winners = {g for g, (plant, _) in truth.items() if plant == "winner"}
        nulls = [t for t in report.tests if t.ad_group_id not in winners]
        null_groups += len(nulls)
        false_pauses += sum(any(v.verdict == "loser" for v in t.variants) for t in nulls)
    print(
        f"every ad group whose ads are alike ({args.null_runs} runs, {null_groups} tests): "
        f"{false_pauses / max(null_groups, 1):.2%} of tests propose a pause"
    )
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"analysis: {seconds:.1f} s for {2 * args.runs + args.null_runs} runs, peak RSS {peak:,.0f} MiB")

    if not args.no_cli:
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "ADPILOT_HOME": home, "ADPILOT_TODAY": TODAY.isoformat(), "PYTHONPATH": str(REPO)}
            command = [sys.executable, "-m", "app", "demo", "--json"]  # creates the sandbox, then audits it
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=home, check=True)
            seconds = time.perf_counter() - started
            child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            document = json.loads(done.stdout)
            pauses = [p for p in document.get("proposals", []) if p.get("kind") == "pause_entity"]
            print(
                f"CLI `adpilot demo --json` (fresh process, fresh sandbox): {seconds:.1f} s, "
                f"peak RSS {child:,.0f} MiB, {len(pauses)} pause proposal(s)"
            )


if __name__ == "__main__":
    main()
