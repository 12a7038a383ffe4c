"""Reallocation between budgets: every limit holds on generated accounts, and the gate holds every leg."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ads.account_plan import PeakDay
from ads.changes import REALLOCATION_METRIC
from ads.entities import Account, AccountStructure, Budget, Campaign, Platform
from policies.gate import GateContext, decide, load_policy
from tools.pacing import (
    FLAT_CURVE_CPA_RATIO,
    MIN_REALLOCATION_MOVE,
    REALLOCATION_MAX_STEP,
    REALLOCATION_MIN_PROBABILITY,
    REALLOCATION_TARGET_BAND,
    pace_budgets,
    performance_guarded,
    plan_budgets,
    propose_budget_changes,
    propose_reallocation,
)

USD = 1_000_000
POLICY = load_policy()
PROPERTIES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def account(
    budgets: list[dict], today: dt.date, seed: int, *, spread: float = 0.0, flat: bool = False
) -> tuple[AccountStructure, pd.DataFrame]:
    """budgets: daily (USD), target (USD or None), vmax and half (USD) of the true curve, gap (bool). `spread`:
    the budgets were moved week to week within +-spread before the last week (spend varied); `flat`: conversions
    do not depend on spend (the curve's value at the daily amount, every day)."""
    rng = np.random.default_rng(seed)
    campaigns, amounts, frames = [], [], []
    days = pd.date_range(today - dt.timedelta(days=45), today - dt.timedelta(days=1))
    for i, spec in enumerate(budgets):
        cid = f"c{i}"
        campaigns.append(
            Campaign(
                id=cid,
                name=f"Campaign {i}",
                channel="search",
                budget_id=f"b{i}",
                monthly_target=None if spec["target"] is None else spec["target"] * USD,
            )
        )
        amounts.append(Budget(id=f"b{i}", name=f"Budget {i}", level="campaign", daily_amount=spec["daily"] * USD))
        weeks_back = (len(days) - 1 - np.arange(len(days))) // 7
        level = np.where(weeks_back > 0, rng.uniform(1 - spread, 1 + spread, weeks_back.max() + 1)[weeks_back], 1.0)
        # budget-limited: about 95 % of it, some days more
        spend = spec["daily"] * level * rng.uniform(0.9, 1.05, len(days))
        driver = np.full(len(days), float(spec["daily"])) if flat else spend
        conversions = spec["vmax"] * driver / (driver + spec["half"]) * rng.lognormal(0, 0.1, len(days))
        frame = pd.DataFrame(
            {
                "date": days.date,
                "campaign_id": cid,
                "ad_group_id": f"{cid}-g",
                "impressions": 1000,
                "clicks": 50,
                "cost": (spend * USD).round().astype("int64"),
                "conversions": conversions,
                "conversion_value": 0.0,
            }
        )
        frames.append(frame.iloc[:-2] if spec["gap"] else frame)
    structure = AccountStructure(
        account=Account(name="sandbox:r", id="1", display_name="R", platform=Platform.GOOGLE_ADS),
        campaigns=tuple(campaigns),
        budgets=tuple(amounts),
    )
    return structure, pd.concat(frames, ignore_index=True)


budget_specs = st.fixed_dictionaries(
    {
        "daily": st.integers(20, 400),
        "target": st.one_of(st.none(), st.integers(600, 12_000)),
        "vmax": st.floats(0.5, 40.0),
        "half": st.floats(10.0, 800.0),
        "gap": st.sampled_from([False, False, False, True]),
    }
)


@PROPERTIES
@given(
    st.lists(budget_specs, min_size=2, max_size=5),
    st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    st.booleans(),
    st.integers(0, 2**16),
    st.sampled_from([0.0, 0.3]),
)
def test_reallocation_obeys_every_limit(
    specs: list[dict], today: dt.date, peak: bool, seed: int, spread: float
) -> None:
    structure, metrics = account(specs, today, seed, spread=spread)
    peaks = (PeakDay(date=today + dt.timedelta(days=3), name="Sale"),) if peak else ()
    report = pace_budgets(structure, metrics, today, peak_days=peaks)
    # The reallocation starts from pacing's amounts before the performance guard: what the guard holds back
    # is the plan's money, for the other budgets.
    pacing = {c.budget_id: c for c in propose_budget_changes(report, structure, guard=False)}
    moves, held, _ = propose_reallocation(report, structure, pacing=list(pacing.values()))
    proposals = plan_budgets(report, structure).changes
    guarded = [c for c in propose_budget_changes(report, structure) if c.budget_id not in held]
    assert proposals == [*guarded, *moves]
    assert len(moves) <= 1
    legs = moves[0].legs if moves else ()
    assert {leg.budget_id for leg in legs} <= held  # one edit per budget: a leg replaces its pacing change
    by_id = {b.budget_id: b for b in report.budgets}
    assert len(legs) != 1  # a move needs a giver and a taker
    assert sum(c.to_amount for c in legs) <= sum(c.from_amount for c in legs)
    # It starts where pacing puts each budget: no more than pacing's total, and less by under a step a leg.
    paced_total = sum(pacing[c.budget_id].to_amount if c.budget_id in pacing else c.from_amount for c in legs)
    assert sum(c.to_amount for c in legs) <= paced_total
    assert paced_total - sum(c.to_amount for c in legs) < max(len(legs), 1) * USD
    context = GateContext(
        policy=POLICY,
        account=structure.account,
        today=today,
        month_to_date_spend=report.account_month_to_date,
        daily_budget_total=sum(b.daily_amount for b in structure.budgets),
        days_left_in_month=report.days_left,
    )
    for leg in legs:
        pacing_row = by_id[leg.budget_id]
        paced = pacing[leg.budget_id].to_amount if leg.budget_id in pacing else leg.from_amount
        assert not pacing_row.gap_days and not pacing_row.learning
        assert pacing_row.budget_limited and leg.from_amount == pacing_row.daily_amount
        assert abs(leg.to_amount - paced) <= REALLOCATION_MAX_STEP * paced + 1
        assert abs(leg.relative_change) <= POLICY.budgets.max_move
        assert leg.to_amount != paced  # a budget the reallocation leaves where pacing puts it keeps pacing's change
        assert abs(leg.to_amount - leg.from_amount) >= MIN_REALLOCATION_MOVE * leg.from_amount
        if peak:
            assert leg.to_amount >= paced  # no cut below pacing's amount right before a peak
        if performance_guarded(pacing_row, report.account_cpa):
            assert leg.to_amount <= min(paced, leg.from_amount)
        if pacing_row.monthly_target is not None:
            spent = pacing_row.month_to_date_spend + pacing_row.spent_today
            end = spent + leg.to_amount * report.days_left
            before = spent + leg.from_amount * report.days_left
            target = pacing_row.monthly_target
            within = abs(end - target) <= REALLOCATION_TARGET_BAND * target + report.days_left * USD
            assert within or abs(end - target) <= abs(before - target)
        metrics_ = moves[0].evidence.metrics
        assert metrics_["expected_conversions_gained"] >= 1.0
        assert metrics_["gain_probability"] >= REALLOCATION_MIN_PROBABILITY
        assert metrics_["marginal_order_probability"] >= REALLOCATION_MIN_PROBABILITY
        assert REALLOCATION_METRIC in metrics_ and f"{leg.budget_id} marginal_cpa_before" in metrics_
        assert f"{leg.budget_id} marginal_cpa_after" in metrics_
    if moves:
        decision = decide(moves[0], context)
        assert decision.outcome == "needs_approval" and decision.rule == "budget.reallocation"
        cpa = moves[0].evidence.metrics
        takers = [leg for leg in legs if leg.to_amount > cpa[f"{leg.budget_id} paced_amount"]]
        givers = [leg for leg in legs if leg.to_amount < cpa[f"{leg.budget_id} paced_amount"]]
        # Budget flows from a high marginal CPA (at pacing's amount) to a low one.
        assert takers and givers
        assert max(cpa[f"{t.budget_id} marginal_cpa_before"] for t in takers) <= max(
            cpa[f"{g.budget_id} marginal_cpa_before"] for g in givers
        )


def test_budget_moves_from_the_dear_campaign_to_the_cheap_one() -> None:
    specs = [
        {"daily": 100, "target": None, "vmax": 30.0, "half": 100.0, "gap": False},
        {"daily": 100, "target": None, "vmax": 6.0, "half": 100.0, "gap": False},
    ]
    today = dt.date(2026, 6, 11)
    structure, metrics = account(specs, today, seed=5, spread=0.3)
    report = pace_budgets(structure, metrics, today)
    [move], held, _ = propose_reallocation(report, structure)
    assert held == {"b0", "b1"}
    cheap, dear = sorted(move.legs, key=lambda c: c.budget_id)
    assert (cheap.budget_id, cheap.from_amount, cheap.to_amount) == ("b0", 100 * USD, 120 * USD)
    assert (dear.budget_id, dear.from_amount, dear.to_amount) == ("b1", 100 * USD, 80 * USD)
    m = move.evidence.metrics
    assert m["b0 marginal_cpa_before"] < m["b1 marginal_cpa_before"]
    assert m["b0 marginal_cpa_after"] > m["b0 marginal_cpa_before"]
    gained = m["expected_conversions_gained"]
    assert gained > 1
    assert "same total of 200.00 USD a day" in move.rationale and f"{gained:,.1f} more conversions" in move.rationale


def test_pacing_and_reallocation_make_one_edit_per_budget_and_do_not_undo_each_other() -> None:
    # Planned at 30 days a month in a 31-day month, pacing trims both; the reallocation starts from its amounts.
    specs = [
        {"daily": 100, "target": 3000, "vmax": 30.0, "half": 100.0, "gap": False},
        {"daily": 100, "target": 3000, "vmax": 6.0, "half": 100.0, "gap": False},
    ]
    today = dt.date(2026, 7, 1)
    structure, metrics = account(specs, today, seed=5, spread=0.3)
    report = pace_budgets(structure, metrics, today)
    pacing = {c.budget_id: c.to_amount for c in propose_budget_changes(report, structure)}
    assert set(pacing) == {"b0", "b1"} and all(v < 100 * USD for v in pacing.values())
    [move] = plan_budgets(report, structure).changes  # no SetBudget beside the reallocation's legs
    cheap, dear = sorted(move.legs, key=lambda c: c.budget_id)
    assert cheap.to_amount > pacing["b0"] and dear.to_amount < pacing["b1"]
    assert cheap.to_amount + dear.to_amount <= sum(pacing.values())
    assert f"pacing alone: {structure.account.money(pacing['b0'])}" in move.rationale
    # Applied, the next audit leaves both where they are: pacing does not pull them back to their targets.
    applied = structure.model_copy(
        update={
            "budgets": tuple(
                b.model_copy(update={"daily_amount": leg.to_amount})
                for b, leg in zip(structure.budgets, (cheap, dear), strict=True)
            )
        }
    )
    assert plan_budgets(pace_budgets(applied, metrics, today), applied).changes == []


DEAR_AND_CHEAP = [
    {"daily": 100, "target": None, "vmax": 30.0, "half": 100.0, "gap": False},
    {"daily": 100, "target": None, "vmax": 6.0, "half": 100.0, "gap": False},
]


def test_a_planted_difference_on_varied_spend_moves_budget_and_says_how_sure() -> None:
    today = dt.date(2026, 6, 11)
    structure, metrics = account(DEAR_AND_CHEAP, today, seed=5, spread=0.3)
    [move], _, _ = propose_reallocation(pace_budgets(structure, metrics, today), structure)
    m = move.evidence.metrics
    assert m["gain_probability"] >= REALLOCATION_MIN_PROBABILITY
    assert m["marginal_order_probability"] >= REALLOCATION_MIN_PROBABILITY
    assert m["gain_low_5pct"] <= m["expected_conversions_gained"] <= m["gain_high_95pct"]
    assert f"in {m['gain_probability']:.0%} of 2,000 draws" in move.rationale
    assert f"between {m['gain_low_5pct']:+,.1f} and {m['gain_high_95pct']:+,.1f} conversions" in move.rationale


def test_a_spend_that_never_varied_drives_no_move_though_the_point_fit_would() -> None:
    today = dt.date(2026, 6, 11)
    structure, metrics = account(DEAR_AND_CHEAP, today, seed=5)
    metrics = metrics.assign(cost=100 * USD)  # every day at the budget: the days say nothing of the curve's shape
    report = pace_budgets(structure, metrics, today)
    assert all(c.curve.own_covariance is None for c in report.curves)
    assert propose_reallocation(report, structure, min_probability=0.0).changes  # the prior's shape alone would move
    assert propose_reallocation(report, structure)[:2] == ([], frozenset())
    plan = plan_budgets(report, structure)
    assert plan.changes == [] and plan.no_reallocation is not None
    assert plan.no_reallocation.startswith("fewer than two budgets can take part (of 2:")


def test_the_plan_says_why_there_is_no_reallocation() -> None:
    # The planted difference on the 30th: one day left cannot buy a conversion's worth.
    structure, metrics = account(DEAR_AND_CHEAP, dt.date(2026, 6, 30), seed=5, spread=0.3)
    plan = plan_budgets(pace_budgets(structure, metrics, dt.date(2026, 6, 30)), structure)
    assert plan.changes == [] and plan.no_reallocation is not None
    assert (
        plan.no_reallocation.startswith("it would gain about 0.") and "over the 1 day(s) left" in plan.no_reallocation
    )
    # The same account mid-month proposes it, and says nothing is missing.
    structure, metrics = account(DEAR_AND_CHEAP, dt.date(2026, 6, 11), seed=5, spread=0.3)
    plan = plan_budgets(pace_budgets(structure, metrics, dt.date(2026, 6, 11)), structure)
    assert [c.kind for c in plan.changes] == ["reallocate_budget"] and plan.no_reallocation is None


def test_flat_noise_seldom_drives_a_move() -> None:
    """Conversions that do not depend on spend, at very different average CPAs: moving money buys nothing. The
    90 % check lets a false move through now and then (about 4 % of such accounts, measured over 400), never as a
    rule: at most 1 in 20 of these fixed accounts."""
    today = dt.date(2026, 6, 11)
    moved = []
    for seed in range(0, 240, 4):
        for ratio in (3.0, 8.0):
            specs = [
                {"daily": 100, "target": None, "vmax": 6.0 * ratio, "half": 100.0, "gap": False},
                {"daily": 100, "target": None, "vmax": 6.0, "half": 100.0, "gap": False},
                {"daily": 150, "target": None, "vmax": 9.0, "half": 100.0, "gap": False},
            ]
            structure, metrics = account(specs, today, seed=seed, spread=0.3, flat=True)
            if propose_reallocation(pace_budgets(structure, metrics, today), structure).changes:
                moved.append((seed, ratio))
    assert len(moved) <= 120 // 20, moved


def test_a_recent_raise_is_not_cut_by_the_reallocation() -> None:
    today = dt.date(2026, 6, 11)
    structure, metrics = account(DEAR_AND_CHEAP, today, seed=5, spread=0.3)
    report = pace_budgets(structure, metrics, today)
    [move], _, _ = propose_reallocation(report, structure)
    assert {leg.budget_id: leg.to_amount < leg.from_amount for leg in move.legs} == {"b0": False, "b1": True}
    # b1 was raised in the last NO_REVERSAL_DAYS: the move that cuts it is not proposed; cut, b0 is not raised.
    assert plan_budgets(report, structure, recent={"b1": 1}).changes == []
    assert plan_budgets(report, structure, recent={"b0": -1}).changes == []
    # The same direction as the recent change stays open.
    assert plan_budgets(report, structure, recent={"b0": 1, "b1": -1}).changes == [move]


def test_a_flat_curve_is_called_flat_not_given_a_marginal_cpa_nobody_can_use() -> None:
    # Budget 2 is saturated far below its spend: its next conversion would cost thousands, a number with no use.
    specs = [*DEAR_AND_CHEAP, {"daily": 100, "target": None, "vmax": 0.3, "half": 5.0, "gap": False}]
    today = dt.date(2026, 6, 11)
    structure, metrics = account(specs, today, seed=5, spread=0.3)
    report = pace_budgets(structure, metrics, today)
    [move], _, _ = propose_reallocation(report, structure)
    assert report.account_cpa is not None
    flat = next(leg for leg in move.legs if leg.budget_id == "b2")
    assert flat.to_amount < flat.from_amount
    assert move.evidence.metrics["b2 marginal_cpa_before"] > FLAT_CURVE_CPA_RATIO * report.account_cpa
    part = move.rationale.split("'Budget 2'")[1].split("; '")[0]
    assert "its curve is flat, so the money buys almost nothing there" in part
    assert "the next conversion costs about" not in part
    assert "the next conversion costs about" in move.rationale.split("'Budget 0'")[1]  # the others keep theirs
