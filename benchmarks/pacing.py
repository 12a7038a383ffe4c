"""Pacing benchmark on simulated months with known response curves (Hill: conv = vmax * s / (s + half)).

Per simulated month (seed = month index): four Google campaigns, each with a true curve, a monthly target and a
daily budget mis-set to target/30 x U(0.7, 1.3); a day spends the budget x lognormal(0, 0.1), at most 2x it
(Google's daily overdelivery), and conversions follow the true curve with Poisson noise. 45 days of history with
varied budgets come first, for the curves.
- pacing: weekly audits (the 1st, 8th, 15th, 22nd) with adpilot's proposals applied, against the naive rule
  "budget = (target - spent) / days left" applied at the same audits: share of months whose spend lands within
  +-2 % of target, per budget and for the account;
- reallocation: the moves proposed on the 1st (no targets, so pacing proposes nothing), their true conversion
  gain over the month at the same spend;
- performance guard: a fifth campaign with a CPA ~4x the account's and under target; the increases the guard
  holds back and the true cost of the conversions they would have bought.
Run: .venv/bin/python benchmarks/pacing.py [MONTHS]
"""

from __future__ import annotations

import calendar
import datetime as dt
import sys
import time
import tracemalloc

import numpy as np
import pandas as pd

from ads.entities import Account, AccountStructure, Budget, Campaign, Platform
from tools.pacing import (
    PACING_HISTORY_DAYS,
    guard_warnings,
    pace_budgets,
    performance_guarded,
    propose_budget_changes,
    propose_reallocation,
)

USD = 1_000_000
AUDIT_DAYS = (1, 8, 15, 22)


def month_of(index: int) -> dt.date:
    return dt.date(2025 + index % 24 // 12, index % 12 + 1, 1)


def simulate(index: int, *, bad_campaign: bool) -> dict[str, float]:
    rng = np.random.default_rng(index)
    start = month_of(index)
    n = 4 + bad_campaign
    days_in_month = calendar.monthrange(start.year, start.month)[1]
    targets = rng.uniform(1_500, 9_000, n).round()
    half = targets / 30 * rng.uniform(0.5, 3.0, n)
    cpa_at_plan = rng.uniform(20, 60, n)
    if bad_campaign:
        cpa_at_plan[-1] = 4 * cpa_at_plan[:-1].mean()
    # vmax so that the average CPA at the planned daily spend is cpa_at_plan.
    planned = targets / 30
    vmax = planned / cpa_at_plan * (planned + half) / planned
    daily = np.maximum(1, (planned * rng.uniform(0.7, 1.3, n)).round())
    if bad_campaign:
        daily[-1] = round(planned[-1] * 0.6)  # well under its target: the pacing rule wants more for it
    ids = [f"c{i}" for i in range(n)]

    def structure(amounts: np.ndarray, with_targets: bool = True) -> AccountStructure:
        return AccountStructure(
            account=Account(name="bench:pacing", id="1", display_name="bench", platform=Platform.GOOGLE_ADS),
            campaigns=tuple(
                Campaign(
                    id=c,
                    name=c,
                    channel="search",
                    budget_id=f"b{c}",
                    monthly_target=int(t * USD) if with_targets else None,
                )
                for c, t in zip(ids, targets, strict=True)
            ),
            budgets=tuple(
                Budget(id=f"b{c}", name=c, level="campaign", daily_amount=int(a * USD), campaign_ids=(c,))
                for c, a in zip(ids, amounts, strict=True)
            ),
        )

    def day_rows(day: dt.date, amounts: np.ndarray) -> tuple[list[dict], np.ndarray]:
        spend = np.minimum(amounts * rng.lognormal(-0.005, 0.1, n), 2 * amounts)
        conversions = rng.poisson(vmax * spend / (spend + half))
        return [
            {
                "date": day,
                "campaign_id": c,
                "ad_group_id": f"g{c}",
                "impressions": 1000,
                "clicks": 50,
                "cost": int(round(s * USD)),
                "conversions": float(v),
                "conversion_value": 0.0,
            }
            for c, s, v in zip(ids, spend, conversions, strict=True)
        ], spend

    history: list[dict] = []
    for back in range(45, 0, -1):
        rows, _ = day_rows(start - dt.timedelta(days=back), daily * rng.uniform(0.8, 1.2, n))
        history += rows

    def run_month(rule: str) -> tuple[np.ndarray, int]:
        amounts, rows, spent, held = daily.copy(), list(history), np.zeros(n), 0
        for day_number in range(1, days_in_month + 1):
            today = start.replace(day=day_number)
            if day_number in AUDIT_DAYS:
                days_left = days_in_month - day_number + 1
                if rule == "naive":
                    amounts = np.maximum(1.0, (targets - spent) / days_left)
                else:
                    window = pd.DataFrame(rows[-n * PACING_HISTORY_DAYS :])
                    report = pace_budgets(structure(amounts), window, today)
                    for change in propose_budget_changes(report, structure(amounts)):
                        amounts[ids.index(change.budget_id.removeprefix("b"))] = change.to_amount / USD
                    held += len(guard_warnings(report, structure(amounts)))
            new_rows, spend = day_rows(today, amounts)
            rows += new_rows
            spent += spend
        return spent, held

    adpilot, held = run_month("adpilot")
    naive, _ = run_month("naive")

    # Reallocation on the 1st, judged on the true curves.
    frame = pd.DataFrame(history)
    untargeted = structure(daily, with_targets=False)
    report = pace_budgets(untargeted, frame, start)
    moves = propose_reallocation(report, untargeted)
    after = daily.copy()
    for move in moves:
        after[ids.index(move.budget_id.removeprefix("b"))] = move.to_amount / USD

    def true_conversions(amounts: np.ndarray) -> float:
        return float(np.sum(vmax * amounts / (amounts + half)) * days_in_month)

    guarded = [b for b in report.budgets if performance_guarded(b, report.account_cpa)]
    return {
        "adpilot_within_2pct": float(np.mean(np.abs(adpilot / targets - 1) <= 0.02)),
        "naive_within_2pct": float(np.mean(np.abs(naive / targets - 1) <= 0.02)),
        "adpilot_account_within_2pct": float(abs(adpilot.sum() / targets.sum() - 1) <= 0.02),
        "naive_account_within_2pct": float(abs(naive.sum() / targets.sum() - 1) <= 0.02),
        "adpilot_overshoot": float(np.mean(adpilot > targets * 1.02)),
        "reallocated": float(bool(moves)),
        "conversions_before": true_conversions(daily),
        "conversions_after": true_conversions(after),
        "spend_before": float(daily.sum()),
        "spend_after": float(after.sum()),
        "guard_held": float(held),
        "guarded_flagged": float(len(guarded)),
        # What the bad campaign's next dollar buys, against the account's average CPA.
        "bad_marginal_cpa": float((planned[-1] * 0.6 + half[-1]) ** 2 / (vmax[-1] * half[-1])) if bad_campaign else 0,
        "account_cpa": float(report.account_cpa or 0) / USD,
    }


def main(months: int) -> None:
    tracemalloc.start()
    start = time.perf_counter()
    plain = [simulate(i, bad_campaign=False) for i in range(months)]
    with_bad = [simulate(10_000 + i, bad_campaign=True) for i in range(months // 2)]
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    frame, bad = pd.DataFrame(plain), pd.DataFrame(with_bad)
    print(
        f"{months} simulated months (+{len(bad)} with a far-above-CPA campaign): {seconds:.1f} s, peak {peak:.0f} MiB"
    )
    print(
        f"  budgets landing within +-2% of target: adpilot {frame.adpilot_within_2pct.mean():.1%}, "
        f"naive remaining/days-left {frame.naive_within_2pct.mean():.1%} (goal >= 95%)"
    )
    print(
        f"  accounts landing within +-2%: adpilot {frame.adpilot_account_within_2pct.mean():.1%}, "
        f"naive {frame.naive_account_within_2pct.mean():.1%}; budgets ending > 2% over target: "
        f"adpilot {frame.adpilot_overshoot.mean():.1%}"
    )
    gain = frame.conversions_after.sum() / frame.conversions_before.sum() - 1
    moved = frame[frame.reallocated > 0]
    moved_gain = moved.conversions_after.sum() / moved.conversions_before.sum() - 1 if len(moved) else 0.0
    print(
        f"  reallocation on the 1st: proposed in {len(moved)} of {months} months; true conversions "
        f"{gain:+.2%} over all months ({moved_gain:+.2%} where proposed), spend "
        f"{frame.spend_after.sum() / frame.spend_before.sum() - 1:+.3%}"
    )
    print(
        f"  performance guard: flagged the bad campaign in {np.mean(bad.guarded_flagged > 0):.0%} of months; "
        f"held back {bad.guard_held.sum():.0f} increases; the bad campaign's next conversion costs "
        f"{bad.bad_marginal_cpa.mean():.0f} USD against an account CPA of {bad.account_cpa.mean():.0f} USD"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
