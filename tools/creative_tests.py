"""Creative tests: whether an ad group's variants differ, which one wins, and which one to pause.

Each variant gets beta posteriors (beta-binomial, uniform prior) for its click-through rate (clicks of
impressions) and its conversion rate (conversions of clicks). Draws from them (`scipy.stats.beta`) give, per
variant and per metric, the probability to be best, the expected loss (how much worse than the best it is
expected to be) and the lift over the best other variant with a 95 % credible interval. Conversions per
impression are the product of the two draws: what an ad makes of the same auctions.

Variants are the ad group's enabled ads with impressions, compared over the days they all served, so a new
variant is judged against the same days of the older ones. The decision:

- **too little data** (fewer than MIN_DAYS days together, or a variant under MIN_IMPRESSIONS impressions or
  MIN_CLICKS clicks): nothing is decided, whatever the numbers say, with the days still needed;
- **a clear loser**: almost surely not the best on CTR (the ad text moves CTR most; the ads of one ad group
  share keywords and landing page), expected to be at least MIN_LOSS_TO_PAUSE worse than the best, and
  unlikely to make up for it on conversions per impression. It becomes a `PauseEntity` of the ad, which the
  gate always leaves to a person;
- **a winner**: the CTR leader is almost surely best and every other variant is a clear loser; its best
  assets are kept in the result for the next variant to build on;
- **no difference**: every variant has the impressions a test sized for a SIZED_FOR_LIFT difference needs,
  and none of the above holds; otherwise **not enough data yet**, with the days that size would take.
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from scipy import stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from ads.changes import Evidence, PauseEntity
from ads.entities import (
    AccountStructure,
    Ad,
    AdGroup,
    AssetFieldType,
    AssetPerformanceLabel,
    MetaAdCopy,
    Status,
)

DRAWS = 20_000
CREDIBLE_MASS = 0.95
# A full week together, so weekday swings fall on every variant alike; and enough clicks that one day's
# luck cannot decide.
MIN_DAYS = 7
MIN_IMPRESSIONS = 1_000
MIN_CLICKS = 100
# A loser: at most 1 % likely to be the best on CTR, shared over the other variants it could lose to, so that
# an ad group of equal ads sees a pause in about 1 % of audits whatever its size (strict: audits look daily) ...
LOSER_MAX_PROBABILITY_BEST = 0.01
# ... expected to be at least 10 % below the best CTR (smaller gaps are not worth an ad's learning) ...
MIN_LOSS_TO_PAUSE = 0.10
# ... and at most 20 % likely to bring more conversions per impression than the CTR leader.
LOSER_MAX_PROBABILITY_BETTER_CONVERSIONS = 0.20
WINNER_MIN_PROBABILITY_BEST = 0.95
# "No difference" and the days still needed: a test sized to find a 20 % CTR gap (80 % power, at the 2 %
# two-sided level that matches the loser's 1 % on one side).
SIZED_FOR_LIFT = 0.20
SIZED_POWER = 0.80
SIZED_ALPHA = 2 * LOSER_MAX_PROBABILITY_BEST

TestStatus = Literal["winner", "losers", "no_difference", "not_enough_data"]
Verdict = Literal["winner", "loser", "keep", "undecided"]


class MetricComparison(BaseModel):
    """One variant on one metric, against the best other variant (by posterior mean)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rate: float = Field(description="Observed rate over the compared days.")
    probability_best: float
    expected_loss: float = Field(description="Expected shortfall from the best variant, as a share of the best's rate.")
    versus_ad_id: str
    lift: float = Field(description="Median of rate / the other's rate - 1.")
    lift_low: float
    lift_high: float


class VariantResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    ad_id: str
    name: str = Field(description="The ad's first headlines (Meta: its headline): how people recognise it.")
    impressions: int
    clicks: int
    conversions: float
    cost: int = Field(description="In the account's money unit.")
    ctr: MetricComparison
    conversion_rate: MetricComparison
    conversions_per_impression: MetricComparison
    more_conversions_than_leader: float = Field(
        description="Probability of more conversions per impression than the CTR leader (0.5 for the leader)."
    )
    verdict: Verdict


class WinningAsset(BaseModel):
    """An asset of the winning ad, best first: what the next variant should build on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: AssetFieldType
    text: str
    performance_label: AssetPerformanceLabel | None = Field(default=None, description="Google's label; None on Meta.")


class CreativeTest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    ad_group_id: str
    ad_group_name: str
    campaign_id: str
    status: TestStatus
    period_start: dt.date
    period_end: dt.date
    days: int = Field(description="Days all variants served together.")
    variants: tuple[VariantResult, ...]
    days_needed: int | None = Field(
        default=None, description="Not enough data yet: days more at the current traffic; None when it cannot tell."
    )
    reason: str
    winner_ad_id: str | None = None
    best_assets: tuple[WinningAsset, ...] = ()


class CreativeTestReport(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tests: tuple[CreativeTest, ...] = ()
    notices: tuple[str, ...] = ()


def evaluate_creative_tests(
    structure: AccountStructure, ad_metrics: pd.DataFrame, asset_labels: pd.DataFrame | None = None
) -> CreativeTestReport:
    """One test per ad group with two or more enabled ads that served in `ad_metrics` (AD_METRIC_COLUMNS)."""
    if ad_metrics.empty:
        return CreativeTestReport(notices=("The account reports no ad-level metrics for the period.",))
    enabled = {a.id: a for a in structure.ads if a.status is Status.ENABLED}
    frame = ad_metrics[ad_metrics["ad_id"].isin(list(enabled)) & (ad_metrics["impressions"] > 0)]
    groups = {g.id: g for g in structure.ad_groups if g.status is Status.ENABLED}
    tests = []
    for group_id, rows in frame.groupby("ad_group_id", sort=True):
        group = groups.get(str(group_id))
        if group is None or rows["ad_id"].nunique() < 2:
            continue
        tests.append(_test(group, rows, [enabled[a] for a in sorted(rows["ad_id"].unique())], asset_labels))
    return CreativeTestReport(tests=tuple(tests))


def _test(group: AdGroup, rows: pd.DataFrame, ads: list[Ad], labels: pd.DataFrame | None) -> CreativeTest:
    start = rows.groupby("ad_id")["date"].min().max()  # the day the last variant began serving
    end = rows["date"].max()
    together = rows[rows["date"] >= start]
    days = int((end - start).days) + 1
    sums = together.groupby("ad_id")[["impressions", "clicks", "cost", "conversions"]].sum().loc[[a.id for a in ads]]
    impressions = sums["impressions"].to_numpy(dtype=float)
    clicks = sums["clicks"].to_numpy(dtype=float)
    conversions = np.minimum(sums["conversions"].to_numpy(dtype=float), clicks)

    rng = np.random.default_rng(zlib.crc32(group.id.encode()))  # the same data always gives the same answer
    ctr = _posterior(clicks, impressions, rng)
    cvr = _posterior(conversions, clicks, rng)
    comparisons = {
        "ctr": _compare(ctr, clicks / impressions, ads),
        "conversion_rate": _compare(cvr, _ratio(conversions, clicks), ads),
        "conversions_per_impression": _compare(ctr * cvr, conversions / impressions, ads),
    }
    leader = int(np.argmax([c.probability_best for c in comparisons["ctr"]]))
    cpi = ctr * cvr
    beats_leader = (cpi > cpi[:, [leader]]).mean(axis=0)

    thin = days < MIN_DAYS or impressions.min() < MIN_IMPRESSIONS or clicks.min() < MIN_CLICKS
    behind_on_ctr = (
        set()
        if thin
        else {
            i
            for i, c in enumerate(comparisons["ctr"])
            if i != leader
            and c.probability_best <= LOSER_MAX_PROBABILITY_BEST / (len(ads) - 1)
            and c.expected_loss >= MIN_LOSS_TO_PAUSE
        }
    )
    losers = {i for i in behind_on_ctr if beats_leader[i] <= LOSER_MAX_PROBABILITY_BETTER_CONVERSIONS}
    # Clearly behind on CTR, but the conversions cannot tell yet: the test waits for conversions.
    waiting_for_conversions = behind_on_ctr - losers
    # A winner decides the test: every other variant is a clear loser.
    has_winner = (
        comparisons["ctr"][leader].probability_best >= WINNER_MIN_PROBABILITY_BEST and len(losers) == len(ads) - 1
    )
    if waiting_for_conversions:
        # sized to find, in conversions per impression, the gap the CTR already shows
        gap = max(-comparisons["ctr"][i].lift for i in waiting_for_conversions)
        needed = _impressions_needed(float(conversions.sum() / impressions.sum()), gap / (1 - gap))
    else:
        needed = _impressions_needed(float(clicks.sum() / impressions.sum()), SIZED_FOR_LIFT)
    per_day = impressions / days
    status: TestStatus
    days_needed = None
    if has_winner:
        status = "winner"
    elif losers:
        status = "losers"
    elif not thin and not waiting_for_conversions and needed is not None and impressions.min() >= needed:
        status = "no_difference"
    else:
        status = "not_enough_data"
        days_needed = _days_needed(days, impressions, clicks, per_day, needed)

    def verdict(i: int) -> Verdict:
        if has_winner and i == leader:
            return "winner"
        if i in losers:
            return "loser"
        return "undecided" if status in ("not_enough_data", "losers") else "keep"

    variants = tuple(
        VariantResult(
            ad_id=ad.id,
            name=_ad_name(ad),
            impressions=int(impressions[i]),
            clicks=int(clicks[i]),
            conversions=float(conversions[i]),
            cost=int(sums["cost"].iloc[i]),
            ctr=comparisons["ctr"][i],
            conversion_rate=comparisons["conversion_rate"][i],
            conversions_per_impression=comparisons["conversions_per_impression"][i],
            more_conversions_than_leader=0.5 if i == leader else float(beats_leader[i]),
            verdict=verdict(i),
        )
        for i, ad in enumerate(ads)
    )
    winner = ads[leader] if has_winner else None
    return CreativeTest(
        ad_group_id=group.id,
        ad_group_name=group.name,
        campaign_id=group.campaign_id,
        status=status,
        period_start=start.date(),
        period_end=end.date(),
        days=days,
        variants=variants,
        days_needed=days_needed,
        reason=_reason(status, variants, days, days_needed, needed, bool(waiting_for_conversions)),
        winner_ad_id=winner.id if winner else None,
        best_assets=_best_assets(winner, labels) if winner else (),
    )


def _posterior(successes: np.ndarray, trials: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """DRAWS × variants draws of each variant's rate: Beta(1 + successes, 1 + failures)."""
    return np.column_stack(
        [
            stats.beta(1 + s, 1 + max(n - s, 0)).rvs(size=DRAWS, random_state=rng)
            for s, n in zip(successes, trials, strict=True)
        ]
    )


def _compare(draws: np.ndarray, observed: np.ndarray, ads: list[Ad]) -> list[MetricComparison]:
    best = draws.max(axis=1)
    wins = np.bincount(draws.argmax(axis=1), minlength=draws.shape[1]) / len(draws)
    means = draws.mean(axis=0)
    tail = (1 - CREDIBLE_MASS) / 2
    result = []
    for i in range(draws.shape[1]):
        other = max((j for j in range(draws.shape[1]) if j != i), key=lambda j: means[j])
        lift = draws[:, i] / draws[:, other] - 1
        low, median, high = np.quantile(lift, [tail, 0.5, 1 - tail])
        result.append(
            MetricComparison(
                rate=float(observed[i]),
                probability_best=float(wins[i]),
                expected_loss=float((best - draws[:, i]).mean() / best.mean()),
                versus_ad_id=ads[other].id,
                lift=float(median),
                lift_low=float(low),
                lift_high=float(high),
            )
        )
    return result


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


def _impressions_needed(rate: float, lift: float) -> float | None:
    """Impressions per variant for a test that finds a `lift` in a per-impression `rate` at SIZED_POWER
    (statsmodels' power of two proportions)."""
    if not 0 < rate * (1 + lift) < 1 or lift <= 0:
        return None
    effect = proportion_effectsize(rate * (1 + lift), rate)
    return float(NormalIndPower().solve_power(effect_size=effect, alpha=SIZED_ALPHA, power=SIZED_POWER, ratio=1.0))


def _days_needed(
    days: int, impressions: np.ndarray, clicks: np.ndarray, per_day: np.ndarray, needed: float | None
) -> int | None:
    """Days more, at each variant's traffic so far, until the slowest has the minimums and the sized sample."""
    if needed is None or per_day.min() <= 0:
        return None
    click_rate = clicks / days
    waits = [MIN_DAYS - days, *((max(MIN_IMPRESSIONS, needed) - impressions) / per_day)]
    if click_rate.min() > 0:
        waits += list((MIN_CLICKS - clicks) / click_rate)
    elif clicks.min() < MIN_CLICKS:
        return None
    return max(1, math.ceil(max(waits)))


def _ad_name(ad: Ad) -> str:
    copy = ad.copy_
    return copy.headline if isinstance(copy, MetaAdCopy) else " | ".join(copy.headlines[:2])


def _best_assets(winner: Ad, labels: pd.DataFrame | None) -> tuple[WinningAsset, ...]:
    """The winner's assets Google labels best, then good; on Meta (no labels), its copy."""
    copy = winner.copy_
    if isinstance(copy, MetaAdCopy):
        fields = (
            (AssetFieldType.PRIMARY_TEXT, copy.primary_text),
            (AssetFieldType.HEADLINE, copy.headline),
            (AssetFieldType.DESCRIPTION, copy.description),
        )
        return tuple(WinningAsset(field=f, text=t) for f, t in fields if t)
    if labels is None or labels.empty:
        return ()
    order = {AssetPerformanceLabel.BEST.value: 0, AssetPerformanceLabel.GOOD.value: 1}
    own = labels[(labels["ad_id"] == winner.id) & labels["performance_label"].isin(list(order))]
    own = own.assign(rank=own["performance_label"].map(order)).sort_values(["rank", "field_type"], kind="stable")
    return tuple(
        WinningAsset(
            field=AssetFieldType(r.field_type),
            text=r.text,
            performance_label=AssetPerformanceLabel(r.performance_label),
        )
        for r in own.itertuples(index=False)
    )


def _reason(
    status: TestStatus,
    variants: tuple[VariantResult, ...],
    days: int,
    days_needed: int | None,
    needed: float | None,
    waiting_for_conversions: bool,
) -> str:
    leader = max(variants, key=lambda v: v.ctr.probability_best)
    if status == "winner":
        return (
            f"Ad {leader.ad_id} '{leader.name}' wins on click-through rate ({leader.ctr.rate:.2%}, a "
            f"{leader.ctr.probability_best:.0%} "
            f"chance to be best) over {days} days together; every other variant clearly trails it."
        )
    if status == "losers":
        return (
            f"{sum(v.verdict == 'loser' for v in variants)} variant(s) clearly trail ad {leader.ad_id} "
            f"'{leader.name}' over {days} days; the others are not decided yet."
        )
    if status == "no_difference":
        return (
            f"No variant differs by {SIZED_FOR_LIFT:.0%} or more in click-through rate after {days} days "
            f"(each has at least {needed:,.0f} impressions, what a test of that size needs)."
        )
    wait = f" About {days_needed} more day(s) at the current traffic." if days_needed else ""
    if waiting_for_conversions:
        return (
            f"Ad {leader.ad_id} '{leader.name}' clearly leads on click-through rate after {days} days, but the "
            "conversions cannot tell yet whether its clicks convert as well: not enough data yet to pause the "
            f"others.{wait}"
        )
    return (
        f"Not enough data yet: {days} day(s) together and {min(v.impressions for v in variants):,} impressions "
        f"for the least-served variant.{wait}"
    )


def propose_pauses(report: CreativeTestReport, structure: AccountStructure) -> list[PauseEntity]:
    """A PauseEntity for each clear loser, with the test's numbers as evidence."""
    changes = []
    for test in report.tests:
        for variant in test.variants:
            if variant.verdict != "loser":
                continue
            leader = next(v for v in test.variants if v.ad_id == variant.ctr.versus_ad_id)
            ctr = variant.ctr
            changes.append(
                PauseEntity(
                    account=structure.account.name,
                    level="ad",
                    entity_id=variant.ad_id,
                    entity_name=f"'{variant.name}' in {test.ad_group_name}",
                    rationale=(
                        f"Over {test.days} days together its click-through rate was {ctr.rate:.2%} against "
                        f"{leader.ctr.rate:.2%} for ad {leader.ad_id} '{leader.name}' ({variant.impressions:,} and "
                        f"{leader.impressions:,} impressions): {ctr.lift:+.0%} (95% credible interval "
                        f"{ctr.lift_low:+.0%} to {ctr.lift_high:+.0%}), a {ctr.probability_best:.1%} chance of being "
                        f"the best variant, and a {variant.more_conversions_than_leader:.0%} chance of bringing more "
                        "conversions per impression than it. Pausing it sends its impressions to the better ads."
                    ),
                    evidence=Evidence(
                        period_start=test.period_start.isoformat(),
                        period_end=test.period_end.isoformat(),
                        metrics={
                            "days": test.days,
                            "impressions": variant.impressions,
                            "clicks": variant.clicks,
                            "conversions": variant.conversions,
                            "cost": variant.cost,
                            "ctr": ctr.rate,
                            "leader_ctr": leader.ctr.rate,
                            "leader_impressions": leader.impressions,
                            "ctr_lift": ctr.lift,
                            "ctr_lift_low": ctr.lift_low,
                            "ctr_lift_high": ctr.lift_high,
                            "probability_best_ctr": ctr.probability_best,
                            "expected_loss_ctr": ctr.expected_loss,
                            "conversion_rate": variant.conversion_rate.rate,
                            "leader_conversion_rate": leader.conversion_rate.rate,
                            "probability_more_conversions_than_leader": variant.more_conversions_than_leader,
                        },
                    ),
                )
            )
    return changes


__all__ = [
    "CreativeTest",
    "CreativeTestReport",
    "MetricComparison",
    "VariantResult",
    "WinningAsset",
    "evaluate_creative_tests",
    "propose_pauses",
]
