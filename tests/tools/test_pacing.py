"""Pacing on hand-made months; every expected number below was worked out by hand in the comments."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ads.entities import Account, AccountStructure, AdGroup, Budget, Campaign, Platform
from tools.pacing import (
    budget_landing,
    daily_spend_series,
    guard_warnings,
    pace_budgets,
    propose_budget_changes,
    retail_peak_days,
)

USD = 1_000_000  # Google micros per dollar
TODAY = dt.date(2026, 6, 11)  # June has 30 days: 10 complete days (1st-10th), 20 left including the 11th


def rows(
    campaign_id: str, per_day: float, days: range, month: int = 6, unit: int = USD, ad_group_id: str = ""
) -> list[dict]:
    return [
        {
            "date": dt.date(2026, month, d),
            "campaign_id": campaign_id,
            "ad_group_id": ad_group_id or f"{campaign_id}-g",
            "impressions": 100,
            "clicks": 5,
            "cost": round(per_day * unit),
            "conversions": 0.0,
            "conversion_value": 0.0,
        }
        for d in days
    ]


def google(
    campaigns: list[tuple[str, int | None, int, str]],
    budgets_funding: dict[str, tuple[str, ...]] | None = None,
    cap: int | None = None,
) -> AccountStructure:
    """campaigns: (id, monthly target in dollars, daily budget in dollars, status)."""
    account = Account(
        name="sandbox:t", id="1234567890", display_name="T", platform=Platform.GOOGLE_ADS, monthly_budget_cap=cap
    )
    budgets_funding = budgets_funding or {f"b-{c[0]}": (c[0],) for c in campaigns}
    daily = {c[0]: c[2] for c in campaigns}
    return AccountStructure(
        account=account,
        campaigns=tuple(
            Campaign(
                id=c,
                name=c.title(),
                channel="search",
                status=status,
                monthly_target=None if target is None else target * USD,
            )
            for c, target, _, status in campaigns
        ),
        budgets=tuple(
            Budget(id=b, name=f"{b} budget", level="campaign", daily_amount=daily[ids[0]] * USD, campaign_ids=ids)
            for b, ids in budgets_funding.items()
        ),
    )


@pytest.fixture
def month() -> tuple[AccountStructure, pd.DataFrame]:
    structure = google(
        [
            ("over", 3000, 100, "enabled"),
            ("under", 3000, 100, "enabled"),
            ("ontrack", 3000, 100, "enabled"),
            ("untargeted", None, 100, "enabled"),
            ("paused", 3000, 100, "paused"),
        ],
        cap=20_000 * USD,
    )
    metrics = pd.DataFrame(
        rows("over", 150, range(1, 11))
        + rows("under", 50, range(1, 11))
        + rows("ontrack", 100, range(1, 11))
        + rows("untargeted", 80, range(1, 11))
        + rows("paused", 30, range(1, 4))
    )
    return structure, metrics


def test_pacing_maths_on_a_hand_made_month(month) -> None:
    structure, metrics = month
    report = pace_budgets(structure, metrics, TODAY)
    assert (report.days_in_month, report.days_elapsed, report.days_left) == (30, 10, 20)
    by_id = {b.budget_id: b for b in report.budgets}
    assert set(by_id) == {"b-over", "b-under", "b-ontrack", "b-untargeted"}  # paused campaign: not active

    over = by_id["b-over"]
    assert over.month_to_date_spend == 1500 * USD  # 10 days x 150
    assert over.run_rate == 150 * USD and over.run_rate_source == "recent_days"  # mean of the 7 days 4th-10th
    assert over.projected_month_spend == 4500 * USD  # 1500 + 150 x 20
    assert over.projected_vs_target == 1.5 and over.status == "overspending"
    assert over.recommended_daily_amount == 75 * USD  # (3000 - 1500) / 20

    under = by_id["b-under"]
    assert (under.month_to_date_spend, under.projected_month_spend) == (500 * USD, 1500 * USD)  # 500 + 50 x 20
    assert under.status == "underspending" and under.recommended_daily_amount == 125 * USD  # 2500 / 20

    assert by_id["b-ontrack"].projected_month_spend == 3000 * USD and by_id["b-ontrack"].status == "on_track"
    untargeted = by_id["b-untargeted"]
    assert untargeted.status == "no_target" and untargeted.recommended_daily_amount is None
    assert untargeted.projected_month_spend == 2400 * USD  # 800 + 80 x 20, reported even without a target

    assert report.account_month_to_date == (1500 + 500 + 1000 + 800 + 90) * USD  # paused campaign's spend counts
    assert report.account_projected == report.account_month_to_date + (150 + 50 + 100 + 80) * 20 * USD
    assert report.account_cap == 20_000 * USD


def test_proposals_land_on_target_and_only_outside_tolerance(month) -> None:
    structure, metrics = month
    report = pace_budgets(structure, metrics, TODAY)
    changes = {c.budget_id: c for c in propose_budget_changes(report, structure)}
    assert set(changes) == {"b-over", "b-under"}
    over = changes["b-over"]
    assert (over.from_amount, over.to_amount, over.level) == (100 * USD, 75 * USD, "campaign")
    assert over.evidence.metrics == {
        "mtd": 1500.0 * USD,
        "spent_today": 0.0,
        "target": 3000.0 * USD,
        "projected": 4500.0 * USD,
        "days_left": 20.0,
        "run_rate": 150.0 * USD,
        "projected_vs_target": 1.5,
    }
    assert (over.evidence.period_start, over.evidence.period_end) == ("2026-06-01", "2026-06-10")
    assert "1,500.00 USD" in over.rationale and "3,000.00 USD" in over.rationale and "75.00 USD" in over.rationale
    assert "50.0% over" in over.rationale
    for change, pacing in (
        (c, next(b for b in report.budgets if b.budget_id == c.budget_id)) for c in changes.values()
    ):
        landing = pacing.month_to_date_spend + change.to_amount * report.days_left
        # Google's rest-of-month limit is new daily x days left: never above target, and within a unit a day of it.
        assert pacing.monthly_target - report.days_left * USD < landing <= pacing.monthly_target


def test_the_daily_amounts_landing_decides_whether_to_propose() -> None:
    # 1040 + 104 x 20 = 3120 at the run-rate (4 % over: on track); the daily budget spent in full lands at
    # 1040 + 100 x 20 = 3040, 1.3 % over: outside the 0.5 % landing tolerance, so a change lands it.
    structure = google([("c", 3000, 100, "enabled")])
    metrics = pd.DataFrame(rows("c", 104, range(1, 11)))
    report = pace_budgets(structure, metrics, TODAY)
    assert report.budgets[0].projected_vs_target == 1.04 and report.budgets[0].status == "on_track"
    assert budget_landing(report.budgets[0], report) == 3040 * USD
    [change] = propose_budget_changes(report, structure)
    assert change.to_amount == 98 * USD  # (3000 - 1040) / 20
    assert "spending its daily budget of 100.00 USD in full, at 3,040.00 USD, 1.3% over" in change.rationale
    assert propose_budget_changes(report, structure, landing_tolerance=0.02) == []
    near = google([("c", 3030, 100, "enabled")])  # 3040 is 0.33 % over 3030: left alone
    assert propose_budget_changes(pace_budgets(near, metrics, TODAY), near) == []


def test_first_of_month_respects_googles_30_4x_monthly_limit() -> None:
    structure = google([("c", 3040, 150, "enabled")])
    empty = pd.DataFrame(
        columns=[
            "date",
            "campaign_id",
            "ad_group_id",
            "impressions",
            "clicks",
            "cost",
            "conversions",
            "conversion_value",
        ]
    )
    report = pace_budgets(structure, empty, dt.date(2027, 2, 1))  # February 2027: 28 days
    assert (report.days_elapsed, report.days_left, report.account_month_to_date) == (0, 28, 0)
    [pacing] = report.budgets
    assert pacing.run_rate_source == "daily_budget" and pacing.projected_month_spend == 150 * 28 * USD
    [change] = propose_budget_changes(report, structure)
    # A budget unchanged all month may be charged 30.4x daily: 3040 / 30.4 = 100, not 3040 / 28 = 108.
    assert change.to_amount == 100 * USD
    assert change.to_amount * 30.4 <= 3040 * USD
    assert change.evidence.period_start is None and change.evidence.metrics["mtd"] == 0.0
    # In a 31-day month the 31 days bind: 3100 / 31 = 100.
    structure31 = google([("c", 3100, 150, "enabled")])
    [change31] = propose_budget_changes(pace_budgets(structure31, empty, dt.date(2027, 3, 1)), structure31)
    assert change31.to_amount == 100 * USD


def test_first_of_month_uses_last_months_run_rate_when_there_is_one() -> None:
    structure = google([("c", 3000, 200, "enabled")])
    metrics = pd.DataFrame(rows("c", 120, range(24, 32), month=5))  # May 24-31
    report = pace_budgets(structure, metrics, dt.date(2026, 6, 1))
    [pacing] = report.budgets
    assert pacing.month_to_date_spend == 0 and pacing.run_rate == 120 * USD  # May 25-31
    assert pacing.projected_month_spend == 120 * 30 * USD and pacing.status == "overspending"


def test_run_rate_falls_back_to_daily_budget_with_under_three_days_of_data() -> None:
    structure = google([("c", 3000, 100, "enabled")])
    report = pace_budgets(structure, pd.DataFrame(rows("c", 40, range(1, 3))), dt.date(2026, 6, 3))
    [pacing] = report.budgets
    assert pacing.month_to_date_spend == 80 * USD and pacing.run_rate_source == "daily_budget"
    assert pacing.projected_month_spend == (80 + 100 * 28) * USD


def test_shared_budget_sums_its_campaigns_targets_or_has_none() -> None:
    structure = google(
        [("a", 1000, 100, "enabled"), ("b", 2000, 100, "enabled"), ("c", None, 100, "enabled")],
        budgets_funding={"shared": ("a", "b"), "mixed": ("c", "a")},
    )
    metrics = pd.DataFrame(rows("a", 60, range(1, 11)) + rows("b", 90, range(1, 11)) + rows("c", 10, range(1, 11)))
    by_id = {b.budget_id: b for b in pace_budgets(structure, metrics, TODAY).budgets}
    shared = by_id["shared"]
    assert shared.monthly_target == 3000 * USD and shared.campaign_ids == ("a", "b")
    assert shared.month_to_date_spend == 1500 * USD and shared.projected_month_spend == 4500 * USD
    assert by_id["mixed"].status == "no_target"  # one of its campaigns has no target


def test_todays_partial_spend_is_reserved_not_counted_as_a_day() -> None:
    structure = google([("c", 3000, 100, "enabled")])
    metrics = pd.DataFrame(rows("c", 150, range(1, 12)))  # the 11th (today) already spent 150
    [pacing] = pace_budgets(structure, metrics, TODAY).budgets
    assert pacing.month_to_date_spend == 1500 * USD and pacing.spent_today == 150 * USD
    assert pacing.recommended_daily_amount == 67_500_000  # (3000 - 1500 - 150) / 20 = 67.50


def test_already_over_target_recommends_the_floor_not_zero() -> None:
    structure = google([("c", 1000, 100, "enabled")])
    report = pace_budgets(structure, pd.DataFrame(rows("c", 120, range(1, 11))), TODAY)
    assert report.budgets[0].recommended_daily_amount == 1 * USD
    [change] = propose_budget_changes(report, structure, max_step=1.0)
    assert change.to_amount == 1 * USD and "already at or over target" in change.rationale


def test_one_change_moves_a_budget_by_at_most_the_step() -> None:
    structure = google([("c", 1000, 100, "enabled")])
    report = pace_budgets(structure, pd.DataFrame(rows("c", 120, range(1, 11))), TODAY)
    [change] = propose_budget_changes(report, structure)  # the floor (1 USD) is 99 % below 100 USD
    assert change.to_amount == 50 * USD and change.relative_change == -0.5
    assert "at most 50%" in change.rationale and change.currency == "USD"
    assert "100.00 USD to 50.00 USD" in change.summary()


def test_meta_ad_set_budgets_split_the_campaign_target_by_budget_share() -> None:
    account = Account(name="sandbox:m", id="act_1", display_name="M", platform=Platform.META)
    structure = AccountStructure(
        account=account,
        campaigns=(Campaign(id="mc", name="Prospecting", channel="meta", monthly_target=300_000),),  # $3,000
        ad_groups=(
            AdGroup(id="as1", campaign_id="mc", name="Tents", budget_id="bs1"),
            AdGroup(id="as2", campaign_id="mc", name="Boots", budget_id="bs2"),
        ),
        budgets=(
            Budget(id="bs1", name="Tents", level="ad_set", daily_amount=6_000, ad_group_ids=("as1",)),
            Budget(id="bs2", name="Boots", level="ad_set", daily_amount=3_000, ad_group_ids=("as2",)),
        ),
    )
    metrics = pd.DataFrame(
        rows("mc", 90, range(1, 11), unit=100, ad_group_id="as1")
        + rows("mc", 30, range(1, 11), unit=100, ad_group_id="as2")
    )
    report = pace_budgets(structure, metrics, TODAY)
    tents, boots = report.budgets
    assert (tents.monthly_target, boots.monthly_target) == (200_000, 100_000)  # 2/3 and 1/3 of $3,000
    assert tents.month_to_date_spend == 90_000 and tents.projected_month_spend == 270_000  # 900 + 90 x 20
    assert tents.status == "overspending"
    assert boots.projected_month_spend == 90_000 and boots.status == "underspending"  # 300 + 30 x 20 = 900 of 1,000
    changes = {c.budget_id: c for c in propose_budget_changes(report, structure)}
    assert changes["bs1"].to_amount == 5_500 and changes["bs1"].level == "ad_set"  # (2000 - 900) / 20 = $55
    assert changes["bs2"].to_amount == 3_500  # (1000 - 300) / 20 = $35
    assert "900.00 USD" in changes["bs1"].rationale


def test_daily_spend_series_for_the_chart() -> None:
    metrics = pd.DataFrame(rows("a", 100, range(1, 12)) + rows("b", 50, range(1, 11)))
    series = daily_spend_series(metrics, TODAY, monthly_target=3000 * USD)
    assert len(series) == 30 and series["date"].iloc[0] == dt.date(2026, 6, 1)
    assert series["spend"].iloc[0] == 150 * USD and series["cumulative_spend"].iloc[9] == 1500 * USD
    assert series["spend"].iloc[10:].isna().all()  # today (the 11th) is partial, the rest is future
    assert series["ideal_cumulative"].iloc[9] == 1000 * USD and series["ideal_cumulative"].iloc[29] == 3000 * USD
    assert daily_spend_series(metrics.iloc[0:0], TODAY)["ideal_cumulative"].isna().all()


def converting_rows(campaign_id: str, per_day: float, conversions: float, days: range, month: int = 6) -> list[dict]:
    return [r | {"conversions": conversions} for r in rows(campaign_id, per_day, days, month=month)]


def test_rationale_shows_the_arithmetic_with_todays_spend() -> None:
    structure = google([("c", 3000, 100, "enabled")])
    metrics = pd.DataFrame(rows("c", 50, range(1, 11)) + rows("c", 30, range(11, 12)))  # today: 30 so far
    [change] = propose_budget_changes(pace_budgets(structure, metrics, TODAY), structure)
    # (3000 - 500 - 30) / 20 = 123.50
    assert change.to_amount == 123_500_000
    assert (
        "3,000.00 USD - 500.00 USD - 30.00 USD spent today so far = 2,470.00 USD left / 20 day(s) left, "
        "today included = 123.5000 USD a day, rounded down to a multiple of 0.01 USD: 123.50 USD" in change.rationale
    )
    assert "500.00 USD spent Jun 1-Jun 10" in change.rationale
    assert change.evidence.metrics["spent_today"] == 30 * USD


def test_first_of_month_uses_the_months_target_and_last_months_run_rate() -> None:
    structure = google([("c", 3000, 150, "enabled")])
    metrics = pd.DataFrame(rows("c", 150, range(1, 31), month=11))
    report = pace_budgets(structure, metrics, dt.date(2026, 12, 1))
    [pacing] = report.budgets
    assert (pacing.run_rate_source, pacing.run_rate, pacing.monthly_target) == ("last_month", 150 * USD, 3000 * USD)
    assert pacing.projected_month_spend == 150 * 31 * USD and pacing.status == "overspending"
    [change] = propose_budget_changes(report, structure)
    assert change.to_amount == 96_770_000  # 3000 / 31 = 96.774, rounded down to the cent
    assert "nothing spent before today" in change.rationale and "last month's mean" in change.rationale


def test_a_data_gap_is_warned_about_and_proposes_nothing() -> None:
    structure = google([("a", 3000, 100, "enabled"), ("b", 3000, 100, "enabled")])
    metrics = pd.DataFrame(rows("a", 50, range(1, 11)) + rows("b", 50, range(1, 9)))  # b: nothing on the 9th, 10th
    report = pace_budgets(structure, metrics, TODAY)
    by_id = {b.budget_id: b for b in report.budgets}
    assert by_id["b-b"].gap_days == (dt.date(2026, 6, 9), dt.date(2026, 6, 10)) and by_id["b-a"].gap_days == ()
    [warning] = report.warnings
    assert "'b-b budget' has no data for 2026-06-09, 2026-06-10" in warning and "no budget change" in warning
    assert [c.budget_id for c in propose_budget_changes(report, structure)] == ["b-a"]
    assert by_id["b-b"].run_rate == 50 * USD  # the days it has, not the gap as zero spend


def test_no_cut_below_the_plans_pace_right_before_a_peak() -> None:
    structure = google([("c", 3000, 150, "enabled")])
    metrics = pd.DataFrame(rows("c", 160, range(1, 20), month=11))  # 3,040 by Nov 19: over target
    today = dt.date(2026, 11, 20)
    peaks = retail_peak_days(2026)
    assert [(p.name, p.date) for p in peaks] == [
        ("Black Friday", dt.date(2026, 11, 27)),
        ("Cyber Monday", dt.date(2026, 11, 30)),
    ]
    plain = propose_budget_changes(pace_budgets(structure, metrics, today), structure)
    assert [c.to_amount for c in plain] == [75 * USD]  # half, on its way to the 1 USD floor
    report = pace_budgets(structure, metrics, today, peak_days=peaks)
    assert report.peak_ahead is not None and report.peak_ahead.name == "Black Friday"
    [change] = propose_budget_changes(report, structure)
    assert change.to_amount == 100 * USD  # 3000 / 30: the plan's even pace, not the minimum
    assert "Black Friday (Nov 27) is ahead" in change.rationale
    past = pace_budgets(structure, metrics, dt.date(2026, 11, 20), peak_days=retail_peak_days(2025))
    assert past.peak_ahead is None


def test_no_increase_for_a_campaign_whose_cpa_is_far_above_the_accounts() -> None:
    structure = google([("good", 6000, 100, "enabled"), ("bad", 6000, 100, "enabled")])
    metrics = pd.DataFrame(
        converting_rows("good", 100, 5, range(1, 11)) + converting_rows("bad", 100, 0.1, range(1, 11))
    )
    report = pace_budgets(structure, metrics, TODAY)
    by_id = {b.budget_id: b for b in report.budgets}
    assert by_id["b-bad"].cpa == 1000 * USD and report.account_cpa == round(2000 * USD / 51)
    assert [c.budget_id for c in propose_budget_changes(report, structure)] == ["b-good"]
    [warning] = guard_warnings(report, structure)
    assert "'b-bad budget'" in warning and "1,000.00 USD" in warning and "a person should decide" in warning


def test_meta_ad_sets_in_learning_are_left_alone() -> None:
    account = Account(name="sandbox:m", id="act_1", display_name="M", platform=Platform.META)
    structure = AccountStructure(
        account=account,
        campaigns=(Campaign(id="mc", name="Prospecting", channel="meta", monthly_target=600_000),),
        ad_groups=(
            AdGroup(id="old", campaign_id="mc", name="Old", budget_id="b-old"),
            AdGroup(id="new", campaign_id="mc", name="New", budget_id="b-new"),
        ),
        budgets=(
            Budget(id="b-old", name="Old", level="ad_set", daily_amount=5_000, ad_group_ids=("old",)),
            Budget(id="b-new", name="New", level="ad_set", daily_amount=5_000, ad_group_ids=("new",)),
        ),
    )
    metrics = pd.DataFrame(
        rows("mc", 20, range(1, 11), unit=100, ad_group_id="old")
        + rows("mc", 20, range(8, 11), unit=100, ad_group_id="new")
    )
    report = pace_budgets(structure, metrics, TODAY)
    by_id = {b.budget_id: b for b in report.budgets}
    assert by_id["b-new"].learning and not by_id["b-old"].learning
    assert by_id["b-new"].gap_days == ()  # launched on the 8th: the days before are no gap
    assert any("'New' is in Meta's learning phase" in w for w in report.warnings)
    assert [c.budget_id for c in propose_budget_changes(report, structure)] == ["b-old"]


def test_the_report_carries_each_budgets_curve_points() -> None:
    rng = np.random.default_rng(3)
    structure = google([("a", None, 100, "enabled"), ("b", None, 100, "enabled")])
    history = []
    for campaign, vmax in (("a", 12.0), ("b", 3.0)):
        for day in pd.date_range("2026-04-20", "2026-06-10"):
            spend = 100 * rng.uniform(0.9, 1.0)
            history.append(
                rows(campaign, spend, range(1, 2))[0]
                | {"date": day.date(), "conversions": vmax * spend / (spend + 100)}
            )
    report = pace_budgets(structure, pd.DataFrame(history), TODAY)
    curves = {c.budget_id: c for c in report.curves}
    assert set(curves) == {"b-a", "b-b"}
    assert curves["b-a"].curve.days == 52 and len(curves["b-a"].points) == 21
    assert curves["b-a"].points[0].spend == 0 and curves["b-a"].points[-1].spend >= 200 * USD
    assert curves["b-a"].marginal_cpa < curves["b-b"].marginal_cpa  # the one that converts more is cheaper
