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
from collections.abc import Callable, Mapping, Sequence
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
from babel.numbers import get_currency_precision
from pydantic import BaseModel, ConfigDict, Field

from ads.account_plan import PeakDay
from ads.changes import REALLOCATION_METRIC, BudgetLeg, Evidence, ReallocateBudget, SetBudget
from ads.entities import UNITS_PER_CURRENCY, AccountStructure, Budget, MoneyUnit, Platform, Status
from ads.limits import PLATFORM_LIMITS
from tools.budget_response import Bounds, CurvePoint, ResponseCurve, curve_points, fit_response_curves, reallocate

PacingStatus = Literal["on_track", "overspending", "underspending", "no_target"]

RUN_RATE_WINDOW_DAYS = 7
# Fewer observed days than this and the run-rate is the daily budget instead of a mean of noise.
MIN_RUN_RATE_DAYS = 3
DEFAULT_TOLERANCE = 0.05
# A budget whose current daily amount would end the month more than 0.5 % from its target gets a change: the
# ±5 % status band is what a person calls on track, but a month should land within ±2 %, and the delivery
# noise after the last audit needs the rest of that band (benchmarks/pacing.py: at 1 %, 89 % of months land).
LANDING_TOLERANCE = 0.005
DEFAULT_MAX_STEP = 0.5
# Never propose less than one whole currency unit a day (Meta's minimum ad set daily budget is about $1).
MIN_DAILY_CURRENCY_UNITS = 1
GOOGLE_MONTHLY_MULTIPLIER = PLATFORM_LIMITS["google_monthly_charge_multiplier"].value
# Daily history the pacing report reads: the month so far, a week of run-rate and eight weeks for the curves.
PACING_HISTORY_DAYS = 56
# A campaign spending this share of its daily budget (7-day mean: noisy, hence well under 1) is held back by
# it; below, more budget buys nothing.
BUDGET_LIMITED_SHARE = 0.85
# Meta: an ad set learns until about 50 optimisation events in the 7 days after launch or a significant edit
# (Meta Business Help: About the learning phase).
LEARNING_DAYS = 7
META_LEARNING_CONVERSIONS = 50
# A budget whose 30-day CPA is above this multiple of the account's gets no increase without a person.
PERFORMANCE_GUARD_RATIO = 2.0
PEAK_LOOKAHEAD_DAYS = 7
# Reallocation moves each budget by at most 20 % from where pacing puts it: under Meta's significant-edit size,
# and a step a specialist takes before looking at the result; moves under 5 % are not worth an edit.
REALLOCATION_MAX_STEP = 0.2
REALLOCATION_TARGET_BAND = 0.15
MIN_REALLOCATION_MOVE = 0.05
MIN_CURVE_DAYS = 14
# A reallocation must buy at least one conversion and 1 % more over the days left to be worth the edits.
MIN_REALLOCATION_GAIN = 1.0
MIN_REALLOCATION_GAIN_SHARE = 0.01
# Beyond this multiple of the account's CPA a budget's curve is called flat in the reallocation's rationale.
FLAT_CURVE_CPA_RATIO = 10.0
# A reallocation needs the fits' uncertainty to back it: in at least 90 % of draws of the curves it gains, and
# each giving budget's next conversion costs more than each receiving one's. The draws are seeded: one answer a day.
REALLOCATION_MIN_PROBABILITY = 0.9
REALLOCATION_DRAWS = 2000
# A budget changed in the last 14 days is not moved the other way by a reallocation: two weekly audits, and about
# the time bidding takes to settle at a new budget; before that its days at the new amount are noise to the curve.
NO_REVERSAL_DAYS = 14


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
    run_rate_source: Literal["recent_days", "last_month", "daily_budget"]
    monthly_target: int | None
    projected_month_spend: int
    projected_vs_target: float | None = Field(description="Projected / target; 1.0 is on target.")
    recommended_daily_amount: int | None = Field(description="Daily amount that lands on target; None without one.")
    status: PacingStatus
    gap_days: tuple[dt.date, ...] = Field(
        default=(), description="Recent complete days with no data for it, although it had data before."
    )
    cost_30d: int = Field(default=0, description="Spend over the last 30 complete days.")
    conversions_30d: float = 0.0
    cpa: int | None = Field(default=None, description="Cost per conversion over the last 30 complete days.")
    budget_limited: bool = Field(default=False, description="Spends at least 85% of its daily amount.")
    learning: bool = Field(default=False, description="A Meta budget in its learning phase: not edited.")


class BudgetCurve(BaseModel):
    """A budget's response curve with its current position, for the report's chart."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    budget_id: str
    budget_name: str
    daily_amount: int
    curve: ResponseCurve
    marginal_cpa: int | None = Field(description="What the next conversion costs at the current daily amount.")
    points: list[CurvePoint]


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
    account_cpa: int | None = Field(default=None, description="The account's cost per conversion, last 30 days.")
    peak_ahead: PeakDay | None = Field(default=None, description="The next peak day in the days left or a week.")
    curves: list[BudgetCurve] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list, description="What a person should know before trusting it.")


def retail_peak_days(year: int) -> tuple[PeakDay, ...]:
    """The common retail peaks: Black Friday (the day after the fourth Thursday of November) and Cyber Monday."""
    first = dt.date(year, 11, 1)
    thanksgiving = first + dt.timedelta(days=(3 - first.weekday()) % 7 + 21)
    black_friday = thanksgiving + dt.timedelta(days=1)
    return (
        PeakDay(date=black_friday, name="Black Friday"),
        PeakDay(date=black_friday + dt.timedelta(days=3), name="Cyber Monday"),
    )


def peak_calendar(plan_days: Sequence[PeakDay], today: dt.date, *, retail: bool = True) -> tuple[PeakDay, ...]:
    """The account's peak days plus, unless turned off, the retail peaks of this year and the next."""
    defaults = [*retail_peak_days(today.year), *retail_peak_days(today.year + 1)] if retail else []
    return tuple(sorted({*plan_days, *defaults}, key=lambda p: p.date))


def pace_budgets(
    structure: AccountStructure,
    metrics: pd.DataFrame,
    today: dt.date,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    peak_days: Sequence[PeakDay] = (),
) -> PacingReport:
    """Month-to-date spend, run-rate, projection and the landing daily amount for each active budget,
    with its recent CPA, data gaps, learning phase and response curve.

    A budget is active when it funds at least one enabled campaign (Meta ad-set budgets: an
    enabled ad set in an enabled campaign). Targets:
    - campaign budgets (Google, Meta CBO): the sum of the funded campaigns' `monthly_target`;
      a shared budget is 'no_target' unless every campaign it funds has one;
    - Meta ad-set budgets: the campaign's target split across its active ad-set budgets by
      daily amount.
    A target of 0 or less counts as no target. The run-rate is the mean daily spend of the days
    with data among the last RUN_RATE_WINDOW_DAYS complete days; on the 1st, last month's mean daily
    spend; the daily budget when fewer than MIN_RUN_RATE_DAYS days have data. `metrics` should reach
    PACING_HISTORY_DAYS back: the response curves are fitted on them.
    """
    account = structure.account
    month_start = today.replace(day=1)
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    days_elapsed = today.day - 1
    days_left = days_in_month - days_elapsed
    daily = budget_daily(structure, metrics, today)

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
    step = budget_step(account.currency, account.money_unit)
    end = pd.Timestamp(today)
    dates = daily["date"]
    in_month = (dates >= pd.Timestamp(month_start)) & (dates < end)
    recent_days = pd.date_range(end - pd.Timedelta(days=RUN_RATE_WINDOW_DAYS), end - pd.Timedelta(days=1))
    last_30 = (dates >= end - pd.Timedelta(days=30)) & (dates < end)
    last_month = (dates >= pd.Timestamp(month_start - dt.timedelta(days=1)).replace(day=1)) & (
        dates < pd.Timestamp(month_start)
    )
    budgets: list[BudgetPacing] = []
    for budget in structure.budgets:
        if budget.id not in active:
            continue
        campaign_ids, ad_group_ids = members[budget.id]
        if ad_group_ids:
            target = _ad_set_target(budget, ad_group_ids, ad_groups, campaigns, ad_set_daily_by_campaign)
        else:
            targets = [campaigns[c].monthly_target if c in campaigns else None for c in campaign_ids]
            target = sum(targets) if targets and None not in targets else None  # type: ignore[arg-type]
        target = target if target is not None and target > 0 else None
        own = daily["budget_id"] == budget.id
        mtd = int(daily.loc[own & in_month, "cost"].sum())
        today_spend = int(daily.loc[own & (dates == end), "cost"].sum())
        history = daily.loc[own & (dates < end)]
        observed = history.loc[history["date"].isin(recent_days)]
        first_day = history["date"].min() if not history.empty else None
        gaps: tuple[dt.date, ...] = ()
        if first_day is not None:
            seen = set(observed["date"])
            gaps = tuple(d.date() for d in recent_days if d >= first_day and d not in seen)
        previous = daily.loc[own & last_month]
        if days_elapsed == 0 and len(previous) >= MIN_RUN_RATE_DAYS:
            run_rate, source = round(previous["cost"].mean()), "last_month"
        elif len(observed) >= MIN_RUN_RATE_DAYS:
            run_rate, source = round(observed["cost"].mean()), "recent_days"
        else:
            run_rate, source = budget.daily_amount, "daily_budget"
        projected = mtd + run_rate * days_left
        ratio = projected / target if target else None
        cost_30d = int(daily.loc[own & last_30, "cost"].sum())
        conversions_30d = float(daily.loc[own & last_30, "conversions"].sum())
        launched = first_day is None or first_day > end - pd.Timedelta(days=LEARNING_DAYS)
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
                else landing_daily_amount(
                    target - mtd - today_spend,
                    days_left,
                    days_in_month,
                    unit=unit,
                    step=step,
                    platform=account.platform,
                ),
                status=_status(ratio, tolerance),
                gap_days=gaps,
                cost_30d=cost_30d,
                conversions_30d=round(conversions_30d, 2),
                cpa=round(cost_30d / conversions_30d) if conversions_30d > 0 else None,
                budget_limited=run_rate >= BUDGET_LIMITED_SHARE * budget.daily_amount,
                learning=account.platform is Platform.META and launched and conversions_30d < META_LEARNING_CONVERSIONS,
            )
        )

    # The account's own figures include spend no active budget holds (a paused campaign's, this month).
    all_dates = _dates(metrics) if not metrics.empty else pd.Series(dtype="datetime64[ns]")
    account_30 = metrics.loc[(all_dates >= end - pd.Timedelta(days=30)) & (all_dates < end)]
    account_cost, account_conversions = account_30["cost"].sum(), account_30["conversions"].sum()
    account_mtd = int(metrics.loc[(all_dates >= pd.Timestamp(month_start)) & (all_dates < end), "cost"].sum())
    horizon = max(_month_end(today), today + dt.timedelta(days=PEAK_LOOKAHEAD_DAYS))
    peak_ahead = next((p for p in peak_days if today <= p.date <= horizon), None)
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
        account_month_to_date=account_mtd,
        account_projected=account_mtd + sum(b.run_rate for b in budgets) * days_left,
        account_cap=account.monthly_budget_cap,
        account_cpa=round(account_cost / account_conversions) if account_conversions > 0 else None,
        peak_ahead=peak_ahead,
        curves=_curves(budgets, daily.loc[dates < end]),
        warnings=_warnings(budgets, account.money),
    )


def budget_daily(structure: AccountStructure, metrics: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """One row per budget and day up to today: date, budget_id, cost, conversions, conversion_value.
    A row counts towards its ad set's budget (Meta ad-set budgets), else its campaign's."""
    columns = ["date", "budget_id", "cost", "conversions", "conversion_value"]
    if metrics.empty:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "date" else "float64") for c in columns})
    members = _members(structure)
    # A row counts for every budget that names its campaign or ad set (as the platforms' links say).
    by_ad_set: dict[str, list[str]] = {}
    by_campaign: dict[str, list[str]] = {}
    for budget_id, (campaigns, groups) in members.items():
        for group in groups:
            by_ad_set.setdefault(group, []).append(budget_id)
        for campaign in () if groups else campaigns:
            by_campaign.setdefault(campaign, []).append(budget_id)
    ad_set_budget = metrics["ad_group_id"].astype(str).map(by_ad_set).astype(object)
    campaign_budget = metrics["campaign_id"].astype(str).map(by_campaign).astype(object)
    frame = metrics.assign(date=_dates(metrics), budget_id=ad_set_budget.where(ad_set_budget.notna(), campaign_budget))
    frame = frame.explode("budget_id")
    frame = frame.loc[frame["budget_id"].notna() & (frame["date"] <= pd.Timestamp(today))]
    return frame.groupby(["date", "budget_id"], as_index=False)[columns[2:]].sum()[columns]


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _curves(budgets: list[BudgetPacing], daily: pd.DataFrame) -> list[BudgetCurve]:
    if daily.empty:
        return []
    fitted = fit_response_curves(daily.rename(columns={"budget_id": "key"}))
    curves = []
    for pacing in budgets:
        curve = fitted.curves.get(pacing.budget_id)
        if curve is None:
            continue
        marginal = curve.marginal_cpa(pacing.daily_amount)
        curves.append(
            BudgetCurve(
                budget_id=pacing.budget_id,
                budget_name=pacing.budget_name,
                daily_amount=pacing.daily_amount,
                curve=curve,
                marginal_cpa=None if marginal is None else round(marginal),
                points=curve_points(curve, 2 * max(pacing.daily_amount, curve.mean_spend)),
            )
        )
    return curves


def _warnings(budgets: list[BudgetPacing], money: Callable[[int], str]) -> list[str]:
    warnings = []
    for pacing in budgets:
        if pacing.gap_days:
            days = ", ".join(d.isoformat() for d in pacing.gap_days)
            warnings.append(
                f"'{pacing.budget_name}' has no data for {days}: the report may be late or tracking broken. "
                "Its pacing leaves those days out, and no budget change is proposed for it until they arrive."
            )
        if pacing.learning:
            warnings.append(
                f"'{pacing.budget_name}' is in Meta's learning phase (new, under {META_LEARNING_CONVERSIONS} "
                "conversions): its budget is not edited, since an edit would restart learning."
            )
    return warnings


def budget_step(currency: str, money_unit: MoneyUnit) -> int:
    """The smallest step of a daily budget, in the account's money unit: the currency's minor unit (a cent in
    USD, a yen in JPY; ISO 4217 digits, from Babel). Both platforms take budgets to it."""
    return UNITS_PER_CURRENCY[money_unit] // 10 ** get_currency_precision(currency)


def landing_daily_amount(
    remaining: int, days_left: int, days_in_month: int, *, unit: int, step: int, platform: Platform
) -> int:
    """The largest daily amount (in `step`s, the currency's minor unit) whose worst-case charge for the rest of
    the month stays within `remaining` (target minus what is already spent), floored at one currency unit.

    Google may spend up to 2x the daily budget on a single day, so "daily x days" is not a cap on
    its own. What caps the month is the monthly charging limit: after a mid-month change, spend for
    the rest of the month won't exceed the new daily budget x the days remaining (today included),
    and a budget left unchanged for a whole month is charged at most 30.4x its daily amount (ads/limits.py).
    So the daily amount is remaining / days_left, or remaining / max(days_in_month, 30.4) when the
    whole month is ahead (on the 1st): in February that is 30.4, not 28. Rounding down keeps the
    worst case inside the target; the expected spend lands within a cent a day of it (whole currency units
    would lose up to one a day, 2 % of a month at 50 a day).
    Meta has no monthly cap (a day can overdeliver, evened out over the week), so it uses days_left.
    """
    steps = int(max(remaining, 0) // (_landing_span(days_left, days_in_month, platform) * step))
    return max(steps * step, MIN_DAILY_CURRENCY_UNITS * unit)


def _landing_span(days_left: int, days_in_month: int, platform: Platform) -> float:
    if platform is Platform.GOOGLE_ADS and days_left == days_in_month:
        return max(days_in_month, GOOGLE_MONTHLY_MULTIPLIER)
    return days_left


def performance_guarded(pacing: BudgetPacing, account_cpa: int | None) -> bool:
    """A budget whose CPA is far above the account's (or that spent that much with no conversion) gets no
    increase without a person: more money rarely fixes a campaign that does not convert."""
    if account_cpa is None:
        return False
    limit = PERFORMANCE_GUARD_RATIO * account_cpa
    return pacing.cpa > limit if pacing.cpa is not None else pacing.cost_30d > limit


def budget_landing(pacing: BudgetPacing, report: PacingReport) -> int:
    """Where the month ends if the daily amount stays as it is and is spent in full: what is spent, today's
    spend so far included, plus the daily amount over the landing span (Google: 30.4x on the 1st at most)."""
    span = _landing_span(report.days_left, report.days_in_month, report.platform)
    return pacing.month_to_date_spend + pacing.spent_today + round(pacing.daily_amount * span)


def propose_budget_changes(
    report: PacingReport,
    structure: AccountStructure,
    *,
    landing_tolerance: float = LANDING_TOLERANCE,
    max_step: float = DEFAULT_MAX_STEP,
    guard: bool = True,
) -> list[SetBudget]:
    """A SetBudget towards the landing daily amount for each budget whose current daily amount would end the
    month more than `landing_tolerance` from its target (`budget_landing`; the run-rate's projection is what
    the report's status says, but the daily amount is what a change sets).

    One change moves a budget by at most `max_step` (0.5 = ±50 %): a bigger jump resets the platforms'
    delivery learning and is rarely what a marketer does in one go; the next audit takes the next step.
    Left alone: a budget with recent days missing (a gap is no evidence), one in Meta's learning phase,
    and (with `guard`) an increase for a budget whose CPA is far above the account's. Before a peak day a budget is not
    cut below the plan's even daily pace (target / days in the month).
    """
    account = structure.account
    unit = UNITS_PER_CURRENCY[account.money_unit]
    step = budget_step(account.currency, account.money_unit)
    changes: list[SetBudget] = []
    for pacing in report.budgets:
        if pacing.projected_vs_target is None or pacing.recommended_daily_amount is None:
            continue
        target = pacing.monthly_target or 0
        landing_off = abs(budget_landing(pacing, report) - target) > landing_tolerance * target
        if not landing_off or pacing.recommended_daily_amount == pacing.daily_amount:
            continue
        if pacing.gap_days or pacing.learning:
            continue  # said in the report's warnings
        low = math.ceil(pacing.daily_amount * (1 - max_step) / step) * step
        high = math.floor(pacing.daily_amount * (1 + max_step) / step) * step
        to_amount = min(max(pacing.recommended_daily_amount, low, unit), max(high, unit))
        notes = []
        if guard and to_amount > pacing.daily_amount and performance_guarded(pacing, report.account_cpa):
            continue  # listed by guard_warnings
        if to_amount != pacing.recommended_daily_amount:
            notes.append(
                f"One change moves a budget by at most {max_step:.0%}, so this step goes to "
                f"{account.money(to_amount)}; the next audit takes the next step."
            )
        if to_amount < pacing.daily_amount and report.peak_ahead is not None:
            floor = math.floor((pacing.monthly_target or 0) / report.days_in_month / step) * step
            if to_amount < floor:
                to_amount = min(floor, pacing.daily_amount)
                notes = [
                    f"{report.peak_ahead.name} ({report.peak_ahead.date:%b %-d}) is ahead, so the budget is not cut "
                    f"below the plan's even pace of {account.money(floor)} a day; the month may end above target, "
                    "which a person should weigh against the peak."
                ]
        if to_amount == pacing.daily_amount:
            continue
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
                rationale=" ".join([_rationale(pacing, report, account.money, unit=unit, step=step), *notes]),
                evidence=_evidence(pacing, report),
            )
        )
    return changes


def guard_warnings(report: PacingReport, structure: AccountStructure) -> list[str]:
    """The increases the performance guard holds back, for a person to decide."""
    money = structure.account.money
    warnings = []
    for pacing in report.budgets:
        wants_more = (pacing.recommended_daily_amount or 0) > pacing.daily_amount and pacing.status == "underspending"
        if wants_more and performance_guarded(pacing, report.account_cpa):
            cpa = money(pacing.cpa) if pacing.cpa is not None else f"no conversion for {money(pacing.cost_30d)}"
            warnings.append(
                f"'{pacing.budget_name}' is under its target, but its CPA over 30 days ({cpa}) is more than "
                f"{PERFORMANCE_GUARD_RATIO:g}x the account's ({money(report.account_cpa or 0)}): no increase is "
                "proposed; a person should decide whether it deserves more money."
            )
    return warnings


class BudgetPlan(NamedTuple):
    changes: list[SetBudget | ReallocateBudget]
    no_reallocation: str | None  # why there is no reallocation, when there is none


def plan_budgets(
    report: PacingReport,
    structure: AccountStructure,
    *,
    recent: Mapping[str, int] | None = None,
    min_probability: float = REALLOCATION_MIN_PROBABILITY,
) -> BudgetPlan:
    """What an audit proposes for budgets: pacing's changes, and a reallocation on marginal return on top of
    them (or why there is none). A budget the reallocation sets (with a leg, or already at its reallocated
    amount) gets no pacing change: its leg starts from pacing's amount, so one edit does both, and an applied
    reallocation is not undone by the next audit's pacing while it still pays. The increases the performance
    guard holds back are money the plan would spend: the reallocation may give it to the other budgets, never
    to the guarded one. `recent`: the direction (+1 raised, -1 cut) of each budget's last change applied in the
    last NO_REVERSAL_DAYS."""
    planned = propose_budget_changes(report, structure, guard=False)
    moves, held, why_not = propose_reallocation(
        report, structure, pacing=planned, recent=recent or {}, min_probability=min_probability
    )
    guarded = {p.budget_id for p in report.budgets if performance_guarded(p, report.account_cpa)}
    changes: list[SetBudget | ReallocateBudget] = [
        c for c in planned if c.budget_id not in held and not (c.budget_id in guarded and c.relative_change > 0)
    ]
    return BudgetPlan(changes=[*changes, *moves], no_reallocation=why_not)


class Reallocation(NamedTuple):
    changes: list[ReallocateBudget]
    held: frozenset[str]  # the budgets it sets: they get no pacing change
    why_not: str | None


def propose_reallocation(
    report: PacingReport,
    structure: AccountStructure,
    *,
    pacing: Sequence[SetBudget] = (),
    max_step: float = REALLOCATION_MAX_STEP,
    target_band: float = REALLOCATION_TARGET_BAND,
    recent: Mapping[str, int] | None = None,
    min_probability: float = REALLOCATION_MIN_PROBABILITY,
) -> Reallocation:
    """At most one ReallocateBudget, whose legs move daily budget from high to low marginal CPA until the
    marginal CPAs are about equal or a bound is reached, the budgets it sets, and why there is none when there
    is none (None when one is in force already).

    Each budget starts where `pacing` (this audit's pacing changes, before the performance guard) puts it,
    else at its daily amount. The total is the sum of those starts, never above today's: while it would be,
    the budget pacing raises most drops out, unless the excess is rounding (under a currency unit a budget).
    Taking part: budget-limited budgets (more budget buys more only where the budget binds) with a fitted
    curve on at least MIN_CURVE_DAYS days, no data gap, not learning. Bounds: ±`max_step` around pacing's
    amount, within pacing's own step from the daily amount; a budget past the performance guard only gives;
    none is cut below pacing's amount with a peak ahead; a budget with a target ends the month within
    ±`target_band` of it (or moves only towards it). Then, until nothing changes: a budget the reallocation
    leaves where pacing puts it keeps pacing's change instead; one it would move less than
    MIN_REALLOCATION_MOVE from its daily amount stays at it (no edit for that little; an applied reallocation
    is in force there). It must gain at least MIN_REALLOCATION_GAIN conversions and
    MIN_REALLOCATION_GAIN_SHARE over pacing alone, and the curves' uncertainty must back it (`_support`, at
    `min_probability`; 0 turns that check off): a curve whose own days do not determine its shape takes no part.
    A budget in `recent` (budget id -> +1 raised, -1 cut, its last change applied in the last NO_REVERSAL_DAYS) is
    not moved the other way from pacing's amount: pacing may still correct it to land the month, since a missed
    target is a fact and a marginal CPA is an estimate."""
    account = structure.account
    unit = UNITS_PER_CURRENCY[account.money_unit]
    recent = recent or {}
    curves = {
        c.budget_id: c.curve
        for c in report.curves
        if c.curve.source == "fit"
        and c.curve.days >= MIN_CURVE_DAYS
        and (min_probability <= 0 or c.curve.own_covariance is not None)
    }
    paced = {c.budget_id: c.to_amount for c in pacing}
    by_id = {p.budget_id: p for p in report.budgets}
    start: dict[str, int] = {}
    bounds: dict[str, Bounds] = {}
    for budget in report.budgets:
        current = budget.daily_amount
        base = paced.get(budget.budget_id, current)
        if budget.budget_id not in curves or budget.gap_days or budget.learning or not budget.budget_limited:
            continue
        # The reallocation's own step is around pacing's amount; with pacing's step the edit stays within it.
        low = max(math.ceil(base * (1 - max_step)), math.ceil(current * (1 - DEFAULT_MAX_STEP)))
        high = min(math.floor(base * (1 + max_step)), math.floor(current * (1 + DEFAULT_MAX_STEP)))
        if performance_guarded(budget, report.account_cpa):  # it only gives
            high = min(high, base, current)
        if report.peak_ahead is not None:
            low = base
        if budget.monthly_target is not None:
            spent = budget.month_to_date_spend + budget.spent_today
            band_low = (budget.monthly_target * (1 - target_band) - spent) / report.days_left
            band_high = (budget.monthly_target * (1 + target_band) - spent) / report.days_left
            low, high = max(low, min(math.ceil(band_low), base)), min(high, max(math.floor(band_high), base))
        if recent.get(budget.budget_id, 0) > 0:
            low = base
        if recent.get(budget.budget_id, 0) < 0:
            high = base
        start[budget.budget_id] = base
        low, high = min(max(low, unit), base), max(high, min(base, current))
        bounds[budget.budget_id] = Bounds(current=min(base, high), low=min(low, high), high=high)
    daily = {k: by_id[k].daily_amount for k in bounds}
    fixed: set[str] = set()
    wanted: dict[str, int] = {}

    def pool() -> int:
        return sum(daily[k] if k in fixed else start[k] for k in bounds)

    while True:
        while bounds and pool() - sum(daily[k] for k in bounds) >= unit * len(bounds):
            del bounds[max(bounds.keys() - fixed, key=lambda k: start[k] - daily[k])]
        if len(bounds) < 2:
            return Reallocation(
                [],
                frozenset(),
                (
                    f"fewer than two budgets can take part (of {len(report.budgets)}: a budget takes part when its "
                    f"spend is limited by it, with a curve on at least {MIN_CURVE_DAYS} days of its own varied spend, "
                    "no data gap and no learning phase, and pacing leaves it room to move)"
                ),
            )
        amounts = reallocate(curves, bounds, step=unit, total=min(pool(), sum(daily[k] for k in bounds)))
        if sum(amounts.values()) > sum(daily[k] for k in bounds):  # the bounds cannot hold today's total
            return Reallocation([], frozenset(), "the budgets' limits cannot hold today's total")
        idle = {k for k in bounds.keys() - fixed if amounts[k] == start[k] != daily[k]}
        if idle:  # pinned where pacing puts it (a step limit, the band): pacing's change, not a leg
            for key in idle:
                del bounds[key]
            continue
        near = {
            k
            for k in bounds.keys() - fixed
            if abs(amounts[k] - daily[k]) < MIN_REALLOCATION_MOVE * daily[k]
            and bounds[k].low <= daily[k] <= bounds[k].high
        }
        if not near:
            break
        for key in near:  # not worth an edit: it stays as it is (where an earlier reallocation may have put it)
            wanted[key] = amounts[key]
            bounds[key] = Bounds(current=daily[key], low=daily[key], high=daily[key])
        fixed |= near
    paced_conversions = sum(curves[k].conversions(start[k]) for k in bounds)
    gained = (sum(curves[k].conversions(amounts[k]) for k in bounds) - paced_conversions) * report.days_left
    if gained < MIN_REALLOCATION_GAIN or gained < MIN_REALLOCATION_GAIN_SHARE * paced_conversions * report.days_left:
        return Reallocation(
            [],
            frozenset(),
            (
                f"it would gain about {gained:,.1f} conversions over the {report.days_left} day(s) left, under "
                f"the {MIN_REALLOCATION_GAIN:.0f} conversion and {MIN_REALLOCATION_GAIN_SHARE:.0%} over pacing alone "
                "it must"
            ),
        )
    held = frozenset(bounds)
    moved = [k for k in bounds if amounts[k] != daily[k]]
    if len(moved) < 2:  # in force already, bar at most one budget: that one is pacing's
        return Reallocation([], held - frozenset(moved), None)
    support = _support(curves, start, amounts, report.days_left, seed=report.today.toordinal())
    if min_probability > 0 and min(support.gain_probability, support.order_probability) < min_probability:
        return Reallocation(
            [],
            frozenset(),
            (
                f"the curves' uncertainty does not back it: it gains in {support.gain_probability:.1%} of "
                f"{REALLOCATION_DRAWS:,} draws and the budgets it takes from have the dearer next conversion in "
                f"{support.order_probability:.1%}, where {min_probability:.0%} of both is needed"
            ),
        )
    change = _reallocation_change(report, structure, curves, start, amounts, wanted, gained, support)
    return Reallocation([change], held, None)


class ReallocationSupport(BaseModel):
    """What the curves' uncertainty says of a reallocation, from draws of every curve's parameters."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    gain_probability: float = Field(description="Share of draws in which it gains conversions over pacing alone.")
    gain_low: float = Field(description="5th percentile of the conversions gained over the days left.")
    gain_high: float = Field(description="95th percentile.")
    order_probability: float = Field(
        description="Share of draws in which the budgets giving money have the dearer next conversion than those "
        "receiving it (at pacing's amounts, each side weighted by the money it moves)."
    )


def _support(
    curves: Mapping[str, ResponseCurve],
    start: Mapping[str, int],
    amounts: Mapping[str, int],
    days_left: int,
    *,
    seed: int,
) -> ReallocationSupport:
    """Draws of each curve (its own days' uncertainty; see budget_response): gain over pacing alone and the order of
    marginal returns. A curve without draws makes the move unsupported (probabilities 0)."""
    rng = np.random.default_rng(seed)
    gain = np.zeros(REALLOCATION_DRAWS)
    marginal: dict[str, np.ndarray] = {}
    for key, amount in amounts.items():
        if amount == start[key]:
            continue
        drawn = curves[key].draws(REALLOCATION_DRAWS, rng)
        if drawn is None:
            return ReallocationSupport(gain_probability=0.0, gain_low=0.0, gain_high=0.0, order_probability=0.0)
        vmax, half = drawn
        gain += (vmax * amount / (amount + half) - vmax * start[key] / (start[key] + half)) * days_left
        marginal[key] = vmax * half / (start[key] + half) ** 2
    # The givers' next conversion against the takers', each side weighted by the money it moves.
    moved = {k: abs(amounts[k] - start[k]) for k in marginal}
    givers = [k for k in marginal if amounts[k] < start[k]]
    takers = [k for k in marginal if amounts[k] > start[k]]
    given = sum(moved[k] * marginal[k] for k in givers) / max(sum(moved[k] for k in givers), 1)
    taken = sum(moved[k] * marginal[k] for k in takers) / max(sum(moved[k] for k in takers), 1)
    order = float(np.mean(taken > given)) if givers and takers else 0.0
    low, high = np.percentile(gain, [5, 95])
    return ReallocationSupport(
        gain_probability=float(np.mean(gain > 0)), gain_low=float(low), gain_high=float(high), order_probability=order
    )


def _reallocation_change(
    report: PacingReport,
    structure: AccountStructure,
    curves: dict[str, ResponseCurve],
    start: dict[str, int],
    amounts: dict[str, int],
    wanted: dict[str, int],
    gained: float,
    support: ReallocationSupport,
) -> ReallocateBudget:
    """The change and its rationale: each leg's marginal CPA at pacing's amount and after, and what the budgets
    left as they are do instead of pacing's change; `gained` is over pacing alone, held budgets included."""
    account = structure.account
    money = account.money
    by_id = {p.budget_id: p for p in report.budgets}
    moved = [k for k in amounts if k not in wanted]
    before = sum(by_id[k].daily_amount for k in moved)
    after = sum(amounts[k] for k in moved)
    metrics: dict[str, float] = {
        "expected_conversions_gained": round(gained, 2),
        REALLOCATION_METRIC: float(after),
        "gain_probability": round(support.gain_probability, 3),
        "gain_low_5pct": round(support.gain_low, 2),
        "gain_high_95pct": round(support.gain_high, 2),
        "marginal_order_probability": round(support.order_probability, 3),
    }
    lines, days = [], []
    for key in moved:
        pacing, curve = by_id[key], curves[key]
        mcpa_before, mcpa_after = curve.marginal_cpa(start[key]), curve.marginal_cpa(amounts[key])
        assert mcpa_before is not None and mcpa_after is not None  # fitted curves have conversions
        if start[key] > pacing.daily_amount and performance_guarded(pacing, report.account_cpa):
            paced = f" (pacing would raise it to {money(start[key])}; the performance guard holds that back)"
        elif start[key] != pacing.daily_amount:
            paced = f" (pacing alone: {money(start[key])}, to land on its target)"
        else:
            paced = ""
        flat = (
            report.account_cpa is not None and min(mcpa_before, mcpa_after) > FLAT_CURVE_CPA_RATIO * report.account_cpa
        )
        margin = (
            # a near-flat curve's marginal CPA is a huge, unstable number: what it means is said instead
            f"its curve is flat, so the money buys almost nothing there (the next conversion would cost over "
            f"{FLAT_CURVE_CPA_RATIO:.0f}x the account's CPA of {money(report.account_cpa)})"
            if flat and report.account_cpa is not None
            else f"the next conversion costs about {money(round(mcpa_before))} at {money(start[key])} and "
            f"{money(round(mcpa_after))} after"
        )
        lines.append(
            f"'{pacing.budget_name}' {money(pacing.daily_amount)} to {money(amounts[key])}{paced}: {margin} "
            f"(curve on {curve.days} days, {curve.prior_weight:.0%} from the "
            "account's curve" + (f", R² {curve.r_squared:.2f}" if curve.r_squared is not None else "") + ")"
        )
        metrics |= {
            f"{key} marginal_cpa_before": round(mcpa_before),
            f"{key} marginal_cpa_after": round(mcpa_after),
            f"{key} paced_amount": start[key],
            f"{key} conversions_change": round(
                (curve.conversions(amounts[key]) - curve.conversions(start[key])) * report.days_left, 2
            ),
        }
        days.append(curve.days)
    paced_total = sum(start[k] for k in moved)
    total = (
        f"at the same total of {money(before)} a day"
        if after == before == paced_total
        else f"at {money(after)} a day in all ({money(before)} today, {money(paced_total)} with pacing's amounts)"
    )
    kept = [
        f"'{by_id[k].budget_name}' stays at {money(by_id[k].daily_amount)} rather than pacing's {money(start[k])}: "
        f"on marginal return it would go to {money(v)}, under {MIN_REALLOCATION_MOVE:.0%} from where it is"
        for k, v in wanted.items()
        if start[k] != by_id[k].daily_amount
    ]
    extra = sum(amounts.values()) - sum(start[k] for k in amounts)
    spend = (
        f"spending {money(abs(extra))} a day {'more' if extra > 0 else 'less'} than pacing alone"
        + (" (not more than today)" if extra > 0 else "")
        if extra
        else "at the same spend"
    )
    rationale = (
        f"Move daily budget from the highest marginal CPA to the lowest {total}, until the next conversion "
        "costs about the same everywhere: "
        + "; ".join([*lines, *kept])
        + f". About {gained:,.1f} more conversions over the {report.days_left} day(s) left than pacing alone, "
        + spend
        + f". How sure: in {support.gain_probability:.0%} of {REALLOCATION_DRAWS:,} draws from the curves' "
        f"uncertainty it gains, 90% of them between {support.gain_low:+,.1f} and {support.gain_high:+,.1f} "
        f"conversions; the budgets it takes from had the dearer next conversion in "
        f"{support.order_probability:.0%} of them."
    )
    legs = tuple(
        BudgetLeg(
            budget_id=key,
            budget_name=by_id[key].budget_name,
            level=by_id[key].level,
            from_amount=by_id[key].daily_amount,
            to_amount=amounts[key],
        )
        for key in moved
    )
    return ReallocateBudget(
        account=account.name,
        currency=account.currency,
        unit=account.money_unit,
        legs=legs,
        rationale=rationale,
        evidence=Evidence(
            period_start=(report.today - dt.timedelta(days=max(days))).isoformat(),
            period_end=(report.today - dt.timedelta(days=1)).isoformat(),
            metrics=metrics,
        ),
    )


def _evidence(pacing: BudgetPacing, report: PacingReport) -> Evidence:
    yesterday = report.today - dt.timedelta(days=1)
    metrics = {
        "mtd": float(pacing.month_to_date_spend),
        "spent_today": float(pacing.spent_today),
        "target": float(pacing.monthly_target or 0),
        "projected": float(pacing.projected_month_spend),
        "days_left": float(report.days_left),
        "run_rate": float(pacing.run_rate),
        "projected_vs_target": pacing.projected_vs_target or 0.0,
    }
    if pacing.cpa is not None:
        metrics["cpa"] = float(pacing.cpa)
    if report.account_cpa is not None:
        metrics["account_cpa"] = float(report.account_cpa)
    return Evidence(
        period_start=report.month_start.isoformat() if report.days_elapsed else None,
        period_end=yesterday.isoformat() if report.days_elapsed else None,
        metrics=metrics,
    )


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


def _dates(metrics: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(metrics["date"]).dt.normalize()


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


def _rationale(pacing: BudgetPacing, report: PacingReport, money: Callable[[int], str], *, unit: int, step: int) -> str:
    """The pacing and the landing amount's arithmetic, today's spend included, for a person to redo."""
    target = pacing.monthly_target or 0
    yesterday = report.today - dt.timedelta(days=1)
    spent = (
        f"{money(pacing.month_to_date_spend)} spent {report.month_start:%b %-d}-{yesterday:%b %-d}"
        if report.days_elapsed
        else "nothing spent before today"
    )
    head = f"'{pacing.budget_name}' has a monthly target of {money(target)}: {spent}"
    remaining = target - pacing.month_to_date_spend - pacing.spent_today
    span = _landing_span(report.days_left, report.days_in_month, report.platform)
    divisor = (
        f"{span:g} (Google may charge up to {GOOGLE_MONTHLY_MULTIPLIER:g}x a daily budget in a month)"
        if span != report.days_left
        else f"{report.days_left} day(s) left, today included"
    )
    arithmetic = (
        f"{money(target)} - {money(pacing.month_to_date_spend)} - {money(pacing.spent_today)} spent today so far "
        f"= {money(remaining)} left / {divisor} = {max(remaining, 0) / span / unit:,.4f} {report_currency(money)} "
        f"a day, rounded down to a multiple of {money(step)}: {money(pacing.recommended_daily_amount or 0)}"
    )
    if remaining <= 0:
        return (
            f"{head}, and {money(pacing.spent_today)} today so far: already at or over target with "
            f"{report.days_left} day(s) left. Lowering the daily budget from {money(pacing.daily_amount)} "
            f"to the minimum {money(pacing.recommended_daily_amount or 0)} limits the overshoot."
        )
    ratio = pacing.projected_vs_target
    assert ratio is not None  # budget changes are proposed only for budgets with a target
    direction = "over" if ratio > 1 else "under"
    source = {"recent_days": "the last 7 days' mean", "last_month": "last month's mean", "daily_budget": "the budget"}
    kept = budget_landing(pacing, report)
    kept_direction = "over" if kept > target else "under"
    return (
        f"{head}. At {money(pacing.run_rate)} a day ({source[pacing.run_rate_source]}) it would end the month at "
        f"{money(pacing.projected_month_spend)}, {abs(ratio - 1):.1%} {direction} target; spending its daily "
        f"budget of {money(pacing.daily_amount)} in full, at {money(kept)}, {abs(kept / target - 1):.1%} "
        f"{kept_direction}. Landing on target: {arithmetic}."
    )


def report_currency(money: Callable[[int], str]) -> str:
    """The currency code `money` writes after an amount."""
    return money(0).rsplit(" ", 1)[-1]


__all__ = [
    "BudgetCurve",
    "BudgetPacing",
    "PacingReport",
    "ReallocationSupport",
    "budget_daily",
    "budget_landing",
    "daily_spend_series",
    "NO_REVERSAL_DAYS",
    "guard_warnings",
    "landing_daily_amount",
    "pace_budgets",
    "peak_calendar",
    "performance_guarded",
    "propose_budget_changes",
    "plan_budgets",
    "propose_reallocation",
    "retail_peak_days",
]
