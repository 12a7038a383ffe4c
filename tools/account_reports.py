"""Read-only views of an account: overview, campaign performance, search terms. Pure pandas."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import pandas as pd
from pydantic import BaseModel
from rapidfuzz import fuzz, process

from ads.entities import Account, AccountStructure, ReportPeriod


class Window(StrEnum):
    """Report windows a marketer asks for; all end yesterday or today as platforms do."""

    LAST_7_DAYS = "last_7_days"
    LAST_30_DAYS = "last_30_days"
    LAST_90_DAYS = "last_90_days"
    THIS_MONTH = "this_month"
    LAST_MONTH = "last_month"

    def period(self, today: dt.date) -> ReportPeriod:
        if self is Window.THIS_MONTH:
            return ReportPeriod(start=today.replace(day=1), end=today)
        if self is Window.LAST_MONTH:
            end = today.replace(day=1) - dt.timedelta(days=1)
            return ReportPeriod(start=end.replace(day=1), end=end)
        days = {Window.LAST_7_DAYS: 7, Window.LAST_30_DAYS: 30, Window.LAST_90_DAYS: 90}[self]
        return ReportPeriod(start=today - dt.timedelta(days=days - 1), end=today)


class CampaignPerformance(BaseModel):
    campaign_id: str
    campaign: str
    impressions: int
    clicks: int
    cost: int
    conversions: float
    cost_per_conversion: int | None
    ctr: float


class AccountOverview(BaseModel):
    account: str
    display_name: str
    platform: str
    currency: str
    period: ReportPeriod
    campaigns: int
    ad_groups: int
    keywords: int
    cost: int
    clicks: int
    conversions: float
    cost_per_conversion: int | None


def campaign_performance(structure: AccountStructure, metrics: pd.DataFrame) -> list[CampaignPerformance]:
    names = {c.id: c.name for c in structure.campaigns}
    totals = metrics.groupby("campaign_id", as_index=False)[["impressions", "clicks", "cost", "conversions"]].sum()
    rows = []
    for row in totals.sort_values("cost", ascending=False).itertuples(index=False):
        rows.append(
            CampaignPerformance(
                campaign_id=str(row.campaign_id),
                campaign=names.get(str(row.campaign_id), str(row.campaign_id)),
                impressions=int(row.impressions),
                clicks=int(row.clicks),
                cost=int(row.cost),
                conversions=round(float(row.conversions), 2),
                cost_per_conversion=int(row.cost / row.conversions) if row.conversions > 0 else None,
                ctr=round(row.clicks / row.impressions, 4) if row.impressions else 0.0,
            )
        )
    return rows


def account_overview(structure: AccountStructure, metrics: pd.DataFrame, period: ReportPeriod) -> AccountOverview:
    account: Account = structure.account
    cost, clicks, conversions = (
        int(metrics["cost"].sum()),
        int(metrics["clicks"].sum()),
        float(metrics["conversions"].sum()),
    )
    return AccountOverview(
        account=account.name,
        display_name=account.display_name,
        platform=account.platform.value,
        currency=account.currency,
        period=period,
        campaigns=len(structure.campaigns),
        ad_groups=len(structure.ad_groups),
        keywords=len(structure.keywords),
        cost=cost,
        clicks=clicks,
        conversions=round(conversions, 2),
        cost_per_conversion=int(cost / conversions) if conversions > 0 else None,
    )


def find_campaigns(structure: AccountStructure, name: str) -> list[str]:
    """Campaign ids whose name or id contains `name`, case-insensitively."""
    needle = name.casefold().strip()
    return [c.id for c in structure.campaigns if needle in c.name.casefold() or needle == c.id]


def find_ad_groups(structure: AccountStructure, name: str) -> list[str]:
    """Ad group ids whose name or id contains `name`, case-insensitively."""
    needle = name.casefold().strip()
    return [g.id for g in structure.ad_groups if needle in g.name.casefold() or needle == g.id]


CLOSEST_NAME_SCORE = 50  # rapidfuzz WRatio (0-100) from which a name is offered as "did you mean"


def closest_names(name: str, names: list[str], limit: int = 3) -> list[str]:
    """The names most like `name`, best first, for a question back when `name` matches none of them."""
    found = process.extract(
        name, names, scorer=fuzz.WRatio, processor=str.casefold, limit=limit, score_cutoff=CLOSEST_NAME_SCORE
    )
    return [match for match, _, _ in found]


def filter_search_terms(
    terms: pd.DataFrame,
    *,
    campaign_ids: list[str] | None = None,
    ad_group_ids: list[str] | None = None,
    contains: str | None = None,
    min_cost: int = 0,
    without_conversions: bool = False,
) -> pd.DataFrame:
    """Search terms aggregated per term, most expensive first."""
    frame = terms
    if campaign_ids is not None:
        frame = frame[frame["campaign_id"].isin(campaign_ids)]
    if ad_group_ids is not None:
        frame = frame[frame["ad_group_id"].isin(ad_group_ids)]
    if contains:
        frame = frame[frame["search_term"].str.contains(contains.casefold(), case=False, regex=False)]
    totals = frame.groupby("search_term", as_index=False)[["impressions", "clicks", "cost", "conversions"]].sum()
    if without_conversions:
        totals = totals[totals["conversions"] <= 0]
    totals = totals[totals["cost"] >= min_cost]
    return totals.sort_values(["cost", "clicks"], ascending=False, kind="stable").reset_index(drop=True)
