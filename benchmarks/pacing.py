"""Pacing benchmark on simulated months with known response curves (Hill: conv = vmax * s / (s + half)).

Per simulated month (seed = month index): four Google campaigns, each with a true curve, a monthly target and a
daily budget mis-set to target/30 x U(0.7, 1.3); a day spends the budget x lognormal(0, 0.1), at most 2x it
(Google's daily overdelivery), and conversions follow the true curve with Poisson noise. 45 days of history with
varied budgets come first, for the curves.
- pacing: weekly audits (the 1st, 8th, 15th, 22nd) with pacing's changes alone applied, against the naive rule
  "budget = (target - spent) / days left" applied at the same audits: share of months whose spend lands within
  +-2 % of target, per budget and for the account;
- pacing and reallocation, as an audit proposes them (`plan_budgets`), at the same audits: the true
  conversions and spend against pacing alone, and where budgets land (the reallocation may move a budget
  within +-15 % of its target, so the per-budget +-2 % share is expected to fall);
- reallocation on the 1st without targets (pacing proposes nothing): its true conversion gain over the month
  at the same spend;
- performance guard: a fifth campaign with a CPA ~4x the account's and under target; the increases the guard
  holds back and the true cost of the conversions they would have bought.
Run: .venv/bin/python benchmarks/pacing.py [MONTHS]
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import json
import tempfile
import time
import tracemalloc
from collections import Counter

import numpy as np
import pandas as pd
from cli_run import run_adpilot  # benchmarks/cli_run.py, beside this script

from ads.changes import ReallocateBudget, SetBudget
from ads.entities import Account, AccountStructure, Budget, Campaign, Platform
from ads.limits import PLATFORM_LIMITS
from sandbox import GOOGLE_ACCOUNT, META_ACCOUNT
from tools.pacing import (
    NO_REVERSAL_DAYS,
    PACING_HISTORY_DAYS,
    guard_warnings,
    pace_budgets,
    performance_guarded,
    plan_budgets,
    propose_budget_changes,
    propose_reallocation,
    retail_peak_days,
)

USD = 1_000_000
AUDIT_DAYS = (1, 8, 15, 22)
OVERDELIVERY = PLATFORM_LIMITS["google_daily_overdelivery"].value
MONTHLY_MULTIPLIER = PLATFORM_LIMITS["google_monthly_charge_multiplier"].value
RETAIL_PEAKS = (*retail_peak_days(2025), *retail_peak_days(2026))
# The CLI runs: the 1st, Black Friday 2026, mid-month.
CLI_DAYS = ("2026-12-01", "2026-11-27", "2026-12-15")
# Held out: months no rule was tuned on; flat: months where conversions do not depend on spend.
HELD_OUT_SEED = 50_000
FLAT_SEED = 80_000


def edits(change: SetBudget | ReallocateBudget) -> list[tuple[str, int]]:
    """(budget id, new daily amount) for each budget a change sets."""
    if isinstance(change, SetBudget):
        return [(change.budget_id, change.to_amount)]
    return [(leg.budget_id, leg.to_amount) for leg in change.legs]


def month_of(index: int) -> dt.date:
    return dt.date(2025 + index % 24 // 12, index % 12 + 1, 1)


def reversals(directions: list[int]) -> int:
    """How often a budget's edits turn round (a raise after a cut, or a cut after a raise)."""
    return sum(a != b for a, b in zip(directions, directions[1:], strict=False))


def simulate(
    index: int, *, bad_campaign: bool, noise: float, flat: bool = False, full: bool = True
) -> dict[str, float]:
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
    # Flat noise: conversions do not depend on spend at all (the same mean as at the plan): no move gains anything.
    flat_rate = vmax * planned / (planned + half)

    def true_rate(spend: np.ndarray) -> np.ndarray:
        return flat_rate + 0 * spend if flat else vmax * spend / (spend + half)

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

    def day_rows(day: dt.date, spend: np.ndarray, draw: np.random.Generator) -> list[dict]:
        conversions = draw.poisson(true_rate(spend))
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
        ]

    def delivered(amounts: np.ndarray, factor: np.ndarray) -> np.ndarray:
        return amounts * np.minimum(factor, OVERDELIVERY)

    history: list[dict] = []
    for back in range(45, 0, -1):
        amounts = daily * rng.uniform(0.8, 1.2, n)
        history += day_rows(
            start - dt.timedelta(days=back), delivered(amounts, rng.lognormal(-(noise**2) / 2, noise, n)), rng
        )
    # The month's delivery noise and conversion draws, drawn once: both rules meet the same days.
    factors = rng.lognormal(-(noise**2) / 2, noise, (days_in_month, n))
    conversion_seed = int(rng.integers(2**32))

    def run_month(rule: str, with_targets: bool = True) -> tuple[np.ndarray, np.ndarray, int, int, float]:
        """Spend charged per budget, expected conversions per budget (true curves), increases held back,
        reallocations and reversals per budget. `rule`: naive, pacing, adpilot (as an audit proposes, with the
        uncertainty and no-reversal checks) or unchecked (the same without them)."""
        draw = np.random.default_rng(conversion_seed)
        amounts, rows, spent, expected, held = daily.copy(), list(history), np.zeros(n), np.zeros(n), 0
        reallocations = 0
        edited: dict[str, list[tuple[int, int]]] = {c: [] for c in ids}  # (day, direction) per campaign
        limit = np.full(n, np.inf)
        for day_number in range(1, days_in_month + 1):
            today = start.replace(day=day_number)
            days_left = days_in_month - day_number + 1
            before = amounts.copy()
            if day_number in AUDIT_DAYS:
                if rule == "none":
                    pass
                elif rule == "naive":
                    amounts = np.maximum(0.01, ((targets - spent) / days_left).round(2))  # budgets are in cents
                else:
                    window = pd.DataFrame(rows[-n * PACING_HISTORY_DAYS :])
                    accounts = structure(amounts, with_targets)
                    report = pace_budgets(accounts, window, today)
                    if rule == "pacing":
                        changes: list = propose_budget_changes(report, accounts)
                    elif rule == "adpilot":
                        recent = {
                            f"b{c}": moves[-1][1]
                            for c, moves in edited.items()
                            if moves and day_number - moves[-1][0] <= NO_REVERSAL_DAYS
                        }
                        changes = plan_budgets(report, accounts, recent=recent).changes
                    else:
                        changes = plan_budgets(report, accounts, min_probability=0.0).changes
                    for budget_id, to_amount in (edit for change in changes for edit in edits(change)):
                        key = ids.index(budget_id.removeprefix("b"))
                        if to_amount / USD != amounts[key]:
                            edited[ids[key]].append((day_number, 1 if to_amount / USD > amounts[key] else -1))
                        amounts[key] = to_amount / USD
                    held += len(guard_warnings(report, accounts))
                    reallocations += sum(isinstance(c, ReallocateBudget) for c in changes)
            # Google's monthly charging limit (Google Ads Help: How budget changes take effect): 30.4x the budget
            # in force from the 1st; after a change, what is spent plus the new budget x the days remaining.
            if day_number == 1:
                limit = MONTHLY_MULTIPLIER * amounts
            else:
                limit = np.where(amounts != before, spent + amounts * days_left, limit)
            spend = delivered(amounts, factors[day_number - 1])
            rows += day_rows(today, spend, draw)
            spent += spend
            expected += true_rate(spend)
        churn = float(np.mean([reversals([d for _, d in moves]) for moves in edited.values()]))
        return np.minimum(spent, limit), expected, held, reallocations, churn

    adpilot, adpilot_conversions, held, reallocations, churn = run_month("adpilot")
    naive, naive_conversions, _, _, _ = run_month("naive")
    if full:
        paced, paced_conversions, _, _, pacing_churn = run_month("pacing")
        loose, loose_conversions, _, loose_reallocations, loose_churn = run_month("unchecked")
        free, free_conversions, _, free_reallocations, free_churn = run_month("adpilot", with_targets=False)
        free_loose, free_loose_conversions, _, free_loose_reallocations, free_loose_churn = run_month(
            "unchecked", with_targets=False
        )
    else:  # the far-above-CPA months: the guard's figures only
        paced, paced_conversions, pacing_churn = adpilot, adpilot_conversions, churn
        loose, loose_conversions, loose_reallocations, loose_churn = adpilot, adpilot_conversions, 0, 0.0
        free, free_conversions, free_reallocations, free_churn = adpilot, adpilot_conversions, 0, 0.0
        free_loose, free_loose_conversions, free_loose_reallocations, free_loose_churn = free, free_conversions, 0, 0.0
    # Without targets pacing proposes nothing: the month at the daily amounts as they are.
    unpaced, unpaced_conversions, _, _, _ = (
        run_month("none", with_targets=False) if full else (adpilot, adpilot_conversions, 0, 0, 0.0)
    )

    # Reallocation on the 1st, judged on the true curves.
    frame = pd.DataFrame(history)
    untargeted = structure(daily, with_targets=False)
    report = pace_budgets(untargeted, frame, start)
    moves = propose_reallocation(report, untargeted).changes
    unchecked_moves = propose_reallocation(report, untargeted, min_probability=0.0).changes
    after = daily.copy()
    for leg in (leg for move in moves for leg in move.legs):
        after[ids.index(leg.budget_id.removeprefix("b"))] = leg.to_amount / USD

    def true_conversions(amounts: np.ndarray) -> float:
        return float(np.sum(true_rate(amounts)) * days_in_month)

    guarded = [b for b in report.budgets if performance_guarded(b, report.account_cpa)]
    return {
        "adpilot_within_2pct": float(np.mean(np.abs(adpilot / targets - 1) <= 0.02)),
        "pacing_within_2pct": float(np.mean(np.abs(paced / targets - 1) <= 0.02)),
        "adpilot_within_15pct": float(np.mean(np.abs(adpilot / targets - 1) <= 0.15)),
        "pacing_account_within_2pct": float(abs(paced.sum() / targets.sum() - 1) <= 0.02),
        "month_reallocations": float(reallocations),
        "churn": churn,
        "pacing_churn": pacing_churn,
        "loose_reallocations": float(loose_reallocations),
        "loose_churn": loose_churn,
        "month_conversions_loose": float(loose_conversions.sum()),
        "month_spend_loose": float(loose.sum()),
        "free_reallocations": float(free_reallocations),
        "free_churn": free_churn,
        "free_conversions": float(free_conversions.sum()),
        "free_spend": float(free.sum()),
        "free_loose_reallocations": float(free_loose_reallocations),
        "free_loose_churn": free_loose_churn,
        "free_loose_conversions": float(free_loose_conversions.sum()),
        "free_loose_spend": float(free_loose.sum()),
        "unpaced_conversions": float(unpaced_conversions.sum()),
        "unpaced_spend": float(unpaced.sum()),
        "unchecked_reallocated": float(bool(unchecked_moves)),
        "month_conversions_adpilot": float(adpilot_conversions.sum()),
        "month_conversions_pacing": float(paced_conversions.sum()),
        "month_spend_adpilot": float(adpilot.sum()),
        "month_spend_pacing": float(paced.sum()),
        "naive_within_2pct": float(np.mean(np.abs(naive / targets - 1) <= 0.02)),
        "adpilot_account_within_2pct": float(abs(adpilot.sum() / targets.sum() - 1) <= 0.02),
        "naive_account_within_2pct": float(abs(naive.sum() / targets.sum() - 1) <= 0.02),
        "adpilot_overshoot": float(np.mean(adpilot > targets * 1.02)),
        "peak_month": float(any(p.date.year == start.year and p.date.month == start.month for p in RETAIL_PEAKS)),
        # The far-above-CPA campaign's month under each rule: the naive rule raises it, the guard does not.
        "bad_spend_adpilot": float(adpilot[-1]) if bad_campaign else 0.0,
        "bad_spend_naive": float(naive[-1]) if bad_campaign else 0.0,
        "bad_conversions_adpilot": float(adpilot_conversions[-1]) if bad_campaign else 0.0,
        "bad_conversions_naive": float(naive_conversions[-1]) if bad_campaign else 0.0,
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("months", nargs="?", type=int, default=200)
    parser.add_argument("--noise", type=float, default=0.1, help="sigma of the daily delivery's lognormal noise")
    parser.add_argument("--no-cli", action="store_true", help="skip the `adpilot audit --json` runs")
    args = parser.parse_args()
    months = args.months
    tracemalloc.start()
    start = time.perf_counter()
    plain = [simulate(i, bad_campaign=False, noise=args.noise) for i in range(months)]
    held_out = [simulate(HELD_OUT_SEED + i, bad_campaign=False, noise=args.noise) for i in range(months // 4)]
    flat = [simulate(FLAT_SEED + i, bad_campaign=False, noise=args.noise, flat=True) for i in range(months // 4)]
    with_bad = [simulate(10_000 + i, bad_campaign=True, noise=args.noise, full=False) for i in range(months // 2)]
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    frame, bad = pd.DataFrame(plain), pd.DataFrame(with_bad)
    print_checks("seeds 0.., the ones the rules were read on", frame)
    print_checks(f"held-out seeds {HELD_OUT_SEED}.., never tuned on", pd.DataFrame(held_out))
    print_checks(f"flat noise (conversions do not depend on spend), seeds {FLAT_SEED}..", pd.DataFrame(flat))
    print(
        f"{months} simulated months (+{len(bad)} with a far-above-CPA campaign), daily delivery noise sigma "
        f"{args.noise:g}: {seconds:.1f} s, peak {peak:.0f} MiB traced"
    )
    print(
        f"  budgets landing within +-2% of target: pacing alone {frame.pacing_within_2pct.mean():.1%}, "
        f"naive remaining/days-left {frame.naive_within_2pct.mean():.1%} (goal >= 95%); adpilot as an audit "
        f"proposes (pacing and reallocation) {frame.adpilot_within_2pct.mean():.1%}, within the reallocation's "
        f"+-15% band {frame.adpilot_within_15pct.mean():.1%}"
    )
    spend_change = frame.month_spend_adpilot.sum() / frame.month_spend_pacing.sum() - 1
    print(
        f"  pacing and reallocation against pacing alone, targets set: reallocations in "
        f"{np.mean(frame.month_reallocations > 0):.0%} "
        f"of months ({frame.month_reallocations.sum():.0f} in all); true conversions "
        f"{frame.month_conversions_adpilot.sum() / frame.month_conversions_pacing.sum() - 1:+.2%}, spend "
        f"{spend_change:+.2%}; accounts landing within +-2%: {frame.adpilot_account_within_2pct.mean():.1%} "
        f"against {frame.pacing_account_within_2pct.mean():.1%}"
    )
    calm = frame[frame.peak_month == 0]
    print(
        f"  without a retail peak in the month ({len(calm)} months): pacing alone "
        f"{calm.pacing_within_2pct.mean():.1%}, "
        f"naive {calm.naive_within_2pct.mean():.1%}; with one (no cut below even pace before it): pacing alone "
        f"{frame[frame.peak_month > 0].pacing_within_2pct.mean():.1%}"
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
    extra_spend = bad.bad_spend_naive.sum() - bad.bad_spend_adpilot.sum()
    extra_conversions = bad.bad_conversions_naive.sum() - bad.bad_conversions_adpilot.sum()
    print(
        f"  performance guard: flagged the bad campaign in {np.mean(bad.guarded_flagged > 0):.0%} of months; "
        f"held back {bad.guard_held.sum():.0f} increases; the naive rule spends {extra_spend:,.0f} USD more on it "
        f"over {len(bad)} months for {extra_conversions:,.0f} more conversions ("
        f"{extra_spend / max(extra_conversions, 1e-9):,.0f} USD each) against an account CPA of "
        f"{bad.account_cpa.mean():.0f} USD"
    )
    if not args.no_cli:
        cli_path()


def print_checks(name: str, frame: pd.DataFrame) -> None:
    """Reallocation with and without the uncertainty and no-reversal checks: how often, how much it turns budgets
    round (reversals of direction per budget per month), and what it buys over pacing alone."""
    print(f"  reallocation checks, {len(frame)} months, {name}:")
    rows = (
        ("targets, checked", "month_reallocations", "churn", "month_conversions_adpilot", "month_spend_adpilot"),
        ("targets, unchecked", "loose_reallocations", "loose_churn", "month_conversions_loose", "month_spend_loose"),
        ("no targets, checked", "free_reallocations", "free_churn", "free_conversions", "free_spend"),
        (
            "no targets, unchecked",
            "free_loose_reallocations",
            "free_loose_churn",
            "free_loose_conversions",
            "free_loose_spend",
        ),
    )
    for label, count, churn, conversions, spend in rows:
        base_conversions, base_spend = (
            ("month_conversions_pacing", "month_spend_pacing")
            if label.startswith("targets")
            else ("unpaced_conversions", "unpaced_spend")
        )
        print(
            f"    {label}: a reallocation in {np.mean(frame[count] > 0):.0%} of months ({frame[count].sum():.0f} "
            f"in all), reversals per budget per month {frame[churn].mean():.2f}; true conversions "
            f"{frame[conversions].sum() / frame[base_conversions].sum() - 1:+.2%}, spend "
            f"{frame[spend].sum() / frame[base_spend].sum() - 1:+.2%} against pacing alone"
        )
    print(
        f"    pacing alone: reversals per budget per month {frame.pacing_churn.mean():.2f}; on the 1st without "
        f"targets a reallocation in {frame.reallocated.mean():.0%} of months checked, "
        f"{frame.unchecked_reallocated.mean():.0%} unchecked"
    )


def cli_path() -> None:
    """`adpilot audit --json` on the sandbox, each day a fresh ADPILOT_HOME and a fresh process."""
    for today in CLI_DAYS:
        with tempfile.TemporaryDirectory() as home:
            run_adpilot(["sandbox", "create", "--json"], home, today)
            for account in (GOOGLE_ACCOUNT, META_ACCOUNT):
                run = run_adpilot(["audit", "--account", account, "--json"], home, today)
                kinds = Counter(p["kind"] for p in json.loads(run.stdout).get("proposals", []))
                budget = {k: kinds[k] for k in ("set_budget", "reallocate_budget")}
                print(
                    f"  CLI `adpilot audit --account {account} --json` on {today} (fresh process): "
                    f"{run.seconds:.1f} s, peak RSS {run.peak_mib:,.0f} MiB, budget proposals {budget}"
                )


if __name__ == "__main__":
    main()
