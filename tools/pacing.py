"""Budget pacing: is each budget on course for its monthly target, and which daily amount lands on it.

Days, as used throughout:
- month-to-date spend covers the 1st of today's month through yesterday. Today is still being
  spent, so counting it would understate the run-rate and make every budget look underspent;
- `days_elapsed` = complete days in that range (0 on the 1st);
- `days_left` = days still to spend, today included (`days_in_month - days_elapsed`, never 0).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from ads.changes import Evidence, SetBudget
from ads.entities import UNITS_PER_CURRENCY, AccountStructure, Budget, Platform, Status
from ads.limits import PLATFORM_LIMITS

PacingStatus = Literal["on_track", "overspending", "underspending", "no_target"]

RUN_RATE_WINDOW_DAYS = 7
# Fewer observed days than this and the run-rate is the daily budget instead of a mean of noise.
MIN_RUN_RATE_DAYS = 3
DEFAULT_TOLERANCE = 0.05
DEFAULT_MAX_STEP = 0.5
# Never propose less than one whole currency unit a day (Meta's minimum ad set daily budget is about $1).
MIN_DAILY_CURRENCY_UNITS = 1
GOOGLE_MONTHLY_MULTIPLIER = PLATFORM_LIMITS["google_monthly_charge_multiplier"].value


class BudgetPacing(BaseModel):
    """One budget's month so far and where it is heading. Money in the account's unit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    budget_id: str
    budget_name: str
    level: Literal["campaign", "ad_set"]
    campaign_ids: tuple[str, ...]
    ad_group_ids: tuple[str, ...] = ()
    daily_amount: int
    month_to_date_spend: int
    spent_today: int = Field(description="Today's partial spend, if the report has it; not part of the MTD.")
    run_rate: int = Field(description="Expected spend per day from here on.")
    run_rate_source: Literal["recent_days", "daily_budget"]
    monthly_target: int | None
    projected_month_spend: int
    projected_vs_target: float | None = Field(description="Projected / target; 1.0 is on target.")
    recommended_daily_amount: int | None = Field(description="Daily amount that lands on target; None without one.")
    status: PacingStatus


class PacingReport(BaseModel):
    """Pacing of an account's active budgets on `today`. See the module docstring for the day counts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account: str
    platform: Platform
    today: dt.date
    month_start: dt.date
    days_in_month: int
    days_elapsed: int = Field(description="Complete days in the month-to-date figures (1st through yesterday).")
    days_left: int = Field(description="Days still to spend, today included.")
    tolerance: float
    budgets: list[BudgetPacing]
    account_month_to_date: int = Field(description="All of the account's spend, 1st through yesterday.")
    account_projected: int = Field(description="Month-to-date plus every active budget's run-rate for the days left.")
    account_cap: int | None


def pace_budgets(
    structure: AccountStructure, metrics: pd.DataFrame, today: dt.date, *, tolerance: float = DEFAULT_TOLERANCE
) -> PacingReport:
    """Month-to-date spend, run-rate, projection and the landing daily amount for each active budget.

    A budget is active when it funds at least one enabled campaign (Meta ad-set budgets: an
    enabled ad set in an enabled campaign). Targets:
    - campaign budgets (Google, Meta CBO): the sum of the funded campaigns' `monthly_target`;
      a shared budget is 'no_target' unless every campaign it funds has one;
    - Meta ad-set budgets: the campaign's target split across its active ad-set budgets by
      daily amount.
    A target of 0 or less counts as no target. The run-rate is the mean daily spend of the
    last RUN_RATE_WINDOW_DAYS complete days (by the days the account has data for), or the
    daily budget when fewer than MIN_RUN_RATE_DAYS days have data.
    """
    account = structure.account
    month_start = today.replace(day=1)
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    days_elapsed = today.day - 1
    days_left = days_in_month - days_elapsed
    spend = _spend_by_key(metrics, today)

    campaigns = {c.id: c for c in structure.campaigns}
    ad_groups = {g.id: g for g in structure.ad_groups}
    members = _members(structure)
    active = {b.id for b in structure.budgets if _is_active(members[b.id], campaigns, ad_groups)}
    ad_set_daily_by_campaign: dict[str, int] = {}
    for budget in structure.budgets:
        if budget.id in active and members[budget.id][1]:
            for campaign_id in {ad_groups[g].campaign_id for g in members[budget.id][1] if g in ad_groups}:
                ad_set_daily_by_campaign[campaign_id] = (
                    ad_set_daily_by_campaign.get(campaign_id, 0) + budget.daily_amount
                )

    unit = UNITS_PER_CURRENCY[account.money_unit]
    budgets: list[BudgetPacing] = []
    for budget in structure.budgets:
        if budget.id not in active:
            continue
        campaign_ids, ad_group_ids = members[budget.id]
        if ad_group_ids:
            keys = [("ad_group", g) for g in ad_group_ids]
            target = _ad_set_target(budget, ad_group_ids, ad_groups, campaigns, ad_set_daily_by_campaign)
        else:
            keys = [("campaign", c) for c in campaign_ids]
            targets = [campaigns[c].monthly_target if c in campaigns else None for c in campaign_ids]
            target = sum(targets) if targets and None not in targets else None  # type: ignore[arg-type]
        target = target if target is not None and target > 0 else None
        mtd, window, today_spend = (
            int(sum(spend.sums[column].get(key, 0) for key in keys)) for column in ("mtd", "window", "today")
        )
        if spend.observed_days >= MIN_RUN_RATE_DAYS:
            run_rate, source = round(window / spend.observed_days), "recent_days"
        else:
            run_rate, source = budget.daily_amount, "daily_budget"
        projected = mtd + run_rate * days_left
        ratio = projected / target if target else None
        budgets.append(
            BudgetPacing(
                budget_id=budget.id,
                budget_name=budget.name,
                level=budget.level,
                campaign_ids=campaign_ids,
                ad_group_ids=ad_group_ids,
                daily_amount=budget.daily_amount,
                month_to_date_spend=mtd,
                spent_today=today_spend,
                run_rate=run_rate,
                run_rate_source=source,
                monthly_target=target,
                projected_month_spend=projected,
                projected_vs_target=None if ratio is None else round(ratio, 4),
                recommended_daily_amount=None
                if target is None
                else landing_daily_amount(target - mtd - today_spend, days_left, days_in_month, unit, account.platform),
                status=_status(ratio, tolerance),
            )
        )

    return PacingReport(
        account=account.name,
        platform=account.platform,
        today=today,
        month_start=month_start,
        days_in_month=days_in_month,
        days_elapsed=days_elapsed,
        days_left=days_left,
        tolerance=tolerance,
        budgets=budgets,
        account_month_to_date=spend.account_mtd,
        account_projected=spend.account_mtd + sum(b.run_rate for b in budgets) * days_left,
        account_cap=account.monthly_budget_cap,
    )


def landing_daily_amount(remaining: int, days_left: int, days_in_month: int, unit: int, platform: Platform) -> int:
    """The largest whole-currency daily amount whose worst-case charge for the rest of the month
    stays within `remaining` (target minus what is already spent), floored at one currency unit.

    Google may spend up to 2x the daily budget on a single day, so "daily x days" is not a cap on
    its own. What caps the month is the monthly charging limit: after a mid-month change, spend for
    the rest of the month won't exceed the new daily budget x the days remaining (today included),
    and a budget left unchanged for a whole month is charged at most 30.4x its daily amount (ads/limits.py).
    So the daily amount is remaining / days_left, or remaining / max(days_in_month, 30.4) when the
    whole month is ahead (on the 1st): in February that is 30.4, not 28. Rounding down keeps the
    worst case inside the target; the expected spend lands within one currency unit a day of it.
    Meta has no monthly cap (a day can overdeliver, evened out over the week), so it uses days_left.
    """
    span: float = days_left
    if platform is Platform.GOOGLE_ADS and days_left == days_in_month:
        span = max(days_in_month, GOOGLE_MONTHLY_MULTIPLIER)
    whole_units = int(max(remaining, 0) // (span * unit))
    return max(whole_units, MIN_DAILY_CURRENCY_UNITS) * unit


def propose_budget_changes(
    report: PacingReport,
    structure: AccountStructure,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    max_step: float = DEFAULT_MAX_STEP,
) -> list[SetBudget]:
    """A SetBudget towards the landing daily amount for each budget off target by more than `tolerance`.

    One change moves a budget by at most `max_step` (0.5 = ±50 %): a bigger jump resets the platforms'
    delivery learning and is rarely what a marketer does in one go; the next audit takes the next step.
    """
    account = structure.account
    yesterday = report.today - dt.timedelta(days=1)
    changes: list[SetBudget] = []
    for pacing in report.budgets:
        if pacing.projected_vs_target is None or pacing.recommended_daily_amount is None:
            continue
        if abs(pacing.projected_vs_target - 1) <= tolerance or pacing.recommended_daily_amount == pacing.daily_amount:
            continue
        unit = UNITS_PER_CURRENCY[account.money_unit]
        low = math.ceil(pacing.daily_amount * (1 - max_step) / unit) * unit
        high = math.floor(pacing.daily_amount * (1 + max_step) / unit) * unit
        to_amount = min(max(pacing.recommended_daily_amount, low, unit), max(high, unit))
        if to_amount == pacing.daily_amount:
            continue
        rationale = _rationale(pacing, report, account.money)
        if to_amount != pacing.recommended_daily_amount:
            rationale += (
                f" One change moves a budget by at most {max_step:.0%}, so this step goes to "
                f"{account.money(to_amount)}; the next audit takes the next step."
            )
        changes.append(
            SetBudget(
                account=account.name,
                budget_id=pacing.budget_id,
                budget_name=pacing.budget_name,
                level=pacing.level,
                currency=account.currency,
                unit=account.money_unit,
                from_amount=pacing.daily_amount,
                to_amount=to_amount,
                rationale=rationale,
                evidence=Evidence(
                    period_start=report.month_start.isoformat() if report.days_elapsed else None,
                    period_end=yesterday.isoformat() if report.days_elapsed else None,
                    metrics={
                        "mtd": float(pacing.month_to_date_spend),
                        "target": float(pacing.monthly_target or 0),
                        "projected": float(pacing.projected_month_spend),
                        "days_left": float(report.days_left),
                        "run_rate": float(pacing.run_rate),
                        "projected_vs_target": pacing.projected_vs_target,
                    },
                ),
            )
        )
    return changes


def daily_spend_series(metrics: pd.DataFrame, today: dt.date, *, monthly_target: int | None = None) -> pd.DataFrame:
    """One row per day of today's month: actual spend (complete days only, NA from today on), its
    running total, and the even-pace line to `monthly_target` (NA without one). For the report chart."""
    month_start = today.replace(day=1)
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    days = pd.date_range(month_start, periods=days_in_month, freq="D")
    if metrics.empty:
        daily = pd.Series(0, index=days, dtype="int64")
    else:
        daily = metrics.groupby(_dates(metrics))["cost"].sum().reindex(days, fill_value=0).astype("int64")
    complete = days < pd.Timestamp(today)
    spend = daily.where(complete).astype("Int64")
    ideal = (
        pd.Series(range(1, days_in_month + 1), index=days) * monthly_target / days_in_month
        if monthly_target
        else pd.Series(float("nan"), index=days)
    )
    return pd.DataFrame(
        {
            "date": days.date,
            "spend": spend.array,
            "cumulative_spend": spend.cumsum().array,
            "ideal_cumulative": ideal.round().astype("Int64").array,
        }
    )


@dataclass(frozen=True)
class _Spend:
    """Spend keyed by ("campaign", id) and ("ad_group", id) for "mtd", the run-rate "window" and "today"."""

    sums: dict[str, dict[tuple[str, str], float]]
    observed_days: int
    account_mtd: int


def _dates(metrics: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(metrics["date"]).dt.normalize()


def _spend_by_key(metrics: pd.DataFrame, today: dt.date) -> _Spend:
    if metrics.empty:
        return _Spend({"mtd": {}, "window": {}, "today": {}}, 0, 0)
    dates = _dates(metrics)
    end = pd.Timestamp(today)
    masks = {
        "mtd": (dates >= pd.Timestamp(today.replace(day=1))) & (dates < end),
        "window": (dates >= end - pd.Timedelta(days=RUN_RATE_WINDOW_DAYS)) & (dates < end),
        "today": dates == end,
    }
    by_key: dict[str, dict[tuple[str, str], float]] = {}
    for column, mask in masks.items():
        rows = metrics.loc[mask]
        sums: dict[tuple[str, str], float] = {}
        for level, id_column in (("campaign", "campaign_id"), ("ad_group", "ad_group_id")):
            for key, value in rows.groupby(id_column)["cost"].sum().items():
                sums[(level, str(key))] = float(value)
        by_key[column] = sums
    return _Spend(by_key, int(dates[masks["window"]].nunique()), int(metrics.loc[masks["mtd"], "cost"].sum()))


def _members(structure: AccountStructure) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Budget id -> (campaign ids, ad set ids) it funds, from both sides of the link."""
    campaigns: dict[str, set[str]] = {b.id: set(b.campaign_ids) for b in structure.budgets}
    ad_sets: dict[str, set[str]] = {b.id: set(b.ad_group_ids) for b in structure.budgets}
    for campaign in structure.campaigns:
        if campaign.budget_id in campaigns:
            campaigns[campaign.budget_id].add(campaign.id)
    for group in structure.ad_groups:
        if group.budget_id in ad_sets:
            ad_sets[group.budget_id].add(group.id)
    group_campaign = {g.id: g.campaign_id for g in structure.ad_groups}
    for budget_id, groups in ad_sets.items():
        campaigns[budget_id] |= {group_campaign[g] for g in groups if g in group_campaign}
    return {b: (tuple(sorted(campaigns[b])), tuple(sorted(ad_sets[b]))) for b in campaigns}


def _is_active(members: tuple[tuple[str, ...], tuple[str, ...]], campaigns: dict, ad_groups: dict) -> bool:
    campaign_ids, ad_group_ids = members
    if ad_group_ids:
        return any(
            g in ad_groups
            and ad_groups[g].status is Status.ENABLED
            and campaigns.get(ad_groups[g].campaign_id) is not None
            and campaigns[ad_groups[g].campaign_id].status is Status.ENABLED
            for g in ad_group_ids
        )
    return any(c in campaigns and campaigns[c].status is Status.ENABLED for c in campaign_ids)


def _ad_set_target(
    budget: Budget,
    ad_group_ids: tuple[str, ...],
    ad_groups: dict,
    campaigns: dict,
    ad_set_daily_by_campaign: dict[str, int],
) -> int | None:
    campaign_ids = {ad_groups[g].campaign_id for g in ad_group_ids if g in ad_groups}
    total = 0.0
    for campaign_id in campaign_ids:
        campaign = campaigns.get(campaign_id)
        pool = ad_set_daily_by_campaign.get(campaign_id, 0)
        if campaign is None or campaign.monthly_target is None or pool <= 0:
            return None
        total += campaign.monthly_target * budget.daily_amount / pool
    return round(total) if campaign_ids else None


def _status(ratio: float | None, tolerance: float) -> PacingStatus:
    if ratio is None:
        return "no_target"
    if ratio > 1 + tolerance:
        return "overspending"
    if ratio < 1 - tolerance:
        return "underspending"
    return "on_track"


def _rationale(pacing: BudgetPacing, report: PacingReport, money) -> str:
    target = pacing.monthly_target or 0
    head = (
        f"'{pacing.budget_name}' has spent {money(pacing.month_to_date_spend)} of its {money(target)} "
        f"monthly target so far"
    )
    if pacing.month_to_date_spend + pacing.spent_today >= target:
        return (
            f"{head}, already at or over target with {report.days_left} day(s) left. Lowering the daily "
            f"budget from {money(pacing.daily_amount)} to the minimum {money(pacing.recommended_daily_amount or 0)} "
            f"limits the overshoot."
        )
    ratio = pacing.projected_vs_target
    assert ratio is not None  # budget changes are proposed only for budgets with a target
    direction = "over" if ratio > 1 else "under"
    return (
        f"{head}. At {money(pacing.run_rate)} a day it would end the month at {money(pacing.projected_month_spend)}, "
        f"{abs(ratio - 1):.0%} {direction} target. A daily budget of "
        f"{money(pacing.recommended_daily_amount or 0)} (now {money(pacing.daily_amount)}) for the "
        f"{report.days_left} day(s) left, today included, lands on target."
    )


__all__ = [
    "BudgetPacing",
    "PacingReport",
    "daily_spend_series",
    "landing_daily_amount",
    "pace_budgets",
    "propose_budget_changes",
]
