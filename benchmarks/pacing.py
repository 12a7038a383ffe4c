"""Pacing benchmark: speed and memory of pace_budgets / propose_budget_changes, and how close a month
lands on its true target when the recommendations are followed.

The synthetic month: June 2026, today the 11th (10 complete days, 20 left). Each campaign has its own
budget, a true monthly target T, a daily budget mis-set to T/30 x U(0.6, 1.5), and a daily demand of
T/30 x U(0.8, 2.0) (what it would spend without a budget; below 1.0 it cannot reach target whatever the
budget). A day spends min(demand, budget) x lognormal noise (sd 0.2), at most 2x the budget (Google's
daily overdelivery), and the rest of the month is capped at new budget x days left (Google's limit after
a mid-month change). Run: .venv/bin/python benchmarks/pacing.py
"""

from __future__ import annotations

import datetime as dt
import time
import tracemalloc

import numpy as np
import pandas as pd

from ads.entities import Account, AccountStructure, Budget, Campaign, Platform
from tools.pacing import pace_budgets, propose_budget_changes

USD = 1_000_000
TODAY = dt.date(2026, 6, 11)
DAYS_IN_MONTH = 30


def synthetic_month(n: int, seed: int = 0) -> tuple[AccountStructure, pd.DataFrame, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    targets = rng.uniform(300, 30_000, n).round()  # dollars a month
    budgets = np.maximum(1, (targets / DAYS_IN_MONTH * rng.uniform(0.6, 1.5, n)).round())
    demand = targets / DAYS_IN_MONTH * rng.uniform(0.8, 2.0, n)
    ids = [f"c{i}" for i in range(n)]
    structure = AccountStructure(
        account=Account(name="bench:pacing", id="1", display_name="bench", platform=Platform.GOOGLE_ADS),
        campaigns=tuple(
            Campaign(id=c, name=c, channel="search", budget_id=f"b{c}", monthly_target=int(t * USD))
            for c, t in zip(ids, targets, strict=False)
        ),
        budgets=tuple(
            Budget(id=f"b{c}", name=c, level="campaign", daily_amount=int(b * USD), campaign_ids=(c,))
            for c, b in zip(ids, budgets, strict=False)
        ),
    )
    days = TODAY.day - 1
    spend = np.minimum(np.minimum(demand, budgets)[:, None] * daily_noise(rng, n, days), 2 * budgets[:, None])
    metrics = pd.DataFrame(
        {
            "date": np.tile([TODAY.replace(day=d) for d in range(1, days + 1)], n),
            "campaign_id": np.repeat(ids, days),
            "ad_group_id": np.repeat([f"g{c}" for c in ids], days),
            "impressions": 1000,
            "clicks": 50,
            "cost": (spend.ravel() * USD).round().astype("int64"),
            "conversions": 1.0,
            "conversion_value": 0.0,
        }
    )
    return structure, metrics, {"target": targets, "demand": demand, "mtd": spend.sum(axis=1)}


def daily_noise(rng: np.random.Generator, n: int, days: int) -> np.ndarray:
    return rng.lognormal(-0.02, 0.2, (n, days))


def rest_of_month(rng: np.random.Generator, demand: np.ndarray, daily_budget: np.ndarray, days_left: int) -> np.ndarray:
    per_day = np.minimum(
        np.minimum(demand, daily_budget)[:, None] * daily_noise(rng, len(demand), days_left), 2 * daily_budget[:, None]
    )
    return np.minimum(per_day.sum(axis=1), daily_budget * days_left)


def measure(n: int) -> None:
    structure, metrics, truth = synthetic_month(n)
    start = time.perf_counter()
    report = pace_budgets(structure, metrics, TODAY)
    paced = time.perf_counter() - start
    start = time.perf_counter()
    changes = propose_budget_changes(report, structure)
    proposed = time.perf_counter() - start
    tracemalloc.start()
    propose_budget_changes(pace_budgets(structure, metrics, TODAY), structure)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    new_daily = np.array([b.daily_amount for b in structure.budgets], dtype=float) / USD
    old_daily = new_daily.copy()
    index = {b.id: i for i, b in enumerate(structure.budgets)}
    for change in changes:
        new_daily[index[change.budget_id]] = change.to_amount / USD
    target, demand, mtd = truth["target"], truth["demand"], truth["mtd"]
    followed = mtd + rest_of_month(np.random.default_rng(1), demand, new_daily, report.days_left)
    unchanged = mtd + rest_of_month(np.random.default_rng(1), demand, old_daily, report.days_left)
    projected = np.array([b.projected_month_spend for b in report.budgets]) / USD
    reachable = demand * report.days_left + mtd >= target  # enough demand left to hit target at all

    def ape(month_end: np.ndarray, mask: np.ndarray | None = None) -> str:
        error = np.abs(month_end - target) / target
        error = error if mask is None else error[mask]
        return f"mean {error.mean():6.1%}  p90 {np.quantile(error, 0.9):6.1%}  within 5% {np.mean(error <= 0.05):6.1%}"

    print(
        f"\n{n:>6} budgets ({len(metrics):,} metric rows): pace_budgets {paced * 1000:8.1f} ms, "
        f"propose_budget_changes {proposed * 1000:7.1f} ms, peak memory {peak:6.1f} MiB, {len(changes):,} proposals"
    )
    print(f"  month-end vs true target, recommendations followed : {ape(followed)}")
    print(
        f"    ... budgets whose demand can reach target          : {ape(followed, reachable)} "
        f"({reachable.mean():.0%} of budgets)"
    )
    print(f"  month-end vs true target, budgets left unchanged     : {ape(unchanged)}")
    print(
        f"  projection error (projected vs unchanged month-end)  : mean "
        f"{np.mean(np.abs(projected - unchanged) / unchanged):6.1%}"
    )
    changed = new_daily != old_daily
    overshoot = changed & (followed > target + 1e-6) & (mtd < target)
    print(
        f"  changed budgets ending above target (not already over by the 10th): {overshoot.sum()} "
        f"of {changed.sum()}; already over target by the 10th: {np.sum(mtd >= target)}"
    )


if __name__ == "__main__":
    for size in (10, 1_000, 10_000):
        measure(size)
