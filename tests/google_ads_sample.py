"""The small Google Ads account the emulator, connector and apply-path tests share: its structure and metrics."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from ads.changes import AddNegativeKeywords, NegativeSpec
from ads.entities import (
    Account,
    AccountStructure,
    Ad,
    AdGroup,
    Budget,
    Campaign,
    Keyword,
    MatchType,
    NegativeKeyword,
    Platform,
    ResponsiveSearchAdCopy,
    SharedNegativeList,
)
from sandbox.store import SandboxAccount, SandboxStore

CUSTOMER_ID = "1234567890"
TODAY = dt.date(2026, 11, 20)
ACCOUNT = f"google-ads:{CUSTOMER_ID}"
BOOTS_COPY = ResponsiveSearchAdCopy(
    headlines=("Hiking Boots", "Free Shipping", "Shop Trailhead"),
    descriptions=("Boots for every trail.", "Order today."),
    final_url="https://trailhead.example/boots",
)


def sample_structure() -> AccountStructure:
    """A small Google sandbox account: two campaigns, three ad groups, one of every kind of entity."""
    account = Account(
        name="sandbox:trailhead",
        id=CUSTOMER_ID,
        display_name="Trailhead Outfitters",
        platform=Platform.GOOGLE_ADS,
        currency="USD",
        time_zone="America/Denver",
    )
    return AccountStructure(
        account=account,
        campaigns=(
            Campaign(id="11", name="Boots", channel="search", budget_id="21"),
            Campaign(id="12", name="Tents", channel="search", budget_id="22"),
        ),
        budgets=(
            Budget(id="21", name="Boots daily", level="campaign", daily_amount=50_000_000, campaign_ids=("11",)),
            Budget(id="22", name="Tents daily", level="campaign", daily_amount=30_000_000, campaign_ids=("12",)),
        ),
        ad_groups=(
            AdGroup(id="31", campaign_id="11", name="Hiking boots"),
            AdGroup(id="32", campaign_id="11", name="Trail runners"),
            AdGroup(id="33", campaign_id="12", name="Backpacking tents"),
        ),
        keywords=(
            Keyword(id="41", ad_group_id="31", text="hiking boots", match_type=MatchType.PHRASE),
            Keyword(id="42", ad_group_id="32", text="trail runners", match_type=MatchType.EXACT),
            Keyword(id="43", ad_group_id="33", text="backpacking tent", match_type=MatchType.BROAD),
        ),
        negatives=(
            NegativeKeyword(id="51", level="campaign", owner_id="11", text="jobs", match_type=MatchType.PHRASE),
            NegativeKeyword(id="52", level="shared_list", owner_id="61", text="free", match_type=MatchType.PHRASE),
            NegativeKeyword(id="53", level="ad_group", owner_id="33", text="rental", match_type=MatchType.EXACT),
        ),
        shared_lists=(SharedNegativeList(id="61", name="Waste", campaign_ids=("11", "12")),),
        ads=(Ad(id="71", ad_group_id="31", copy=BOOTS_COPY),),
    )


def sample_account(path: Path) -> SandboxAccount:
    store = SandboxStore.create(path)
    account = store.save_account(sample_structure())
    days = pd.date_range(TODAY - dt.timedelta(days=39), TODAY, freq="D")
    account.add_daily_metrics(
        pd.DataFrame(
            [
                {
                    "date": day,
                    "campaign_id": campaign,
                    "ad_group_id": group,
                    "impressions": 100 + i,
                    "clicks": 10,
                    "cost": 2_500_000 + i,
                    "conversions": 0.5,
                    "conversion_value": 12.5,
                }
                for i, day in enumerate(days)
                for campaign, group in (("11", "31"), ("11", "32"), ("12", "33"))
            ]
        )
    )
    terms = [
        ("hiking boots men", "11", "Boots", "31", "Hiking boots", "hiking boots", "phrase"),
        ("hiking boot jobs", "11", "Boots", "31", "Hiking boots", "hiking boots", "phrase"),
        ("tent rental", "12", "Tents", "33", "Backpacking tents", "backpacking tent", "broad"),
    ]
    for offset in range(3):
        day = TODAY - dt.timedelta(days=offset)
        account.add_search_terms(
            pd.DataFrame(
                [
                    {
                        "search_term": t,
                        "campaign_id": c,
                        "campaign_name": cn,
                        "ad_group_id": g,
                        "ad_group_name": gn,
                        "keyword": k,
                        "match_type": m,
                        "impressions": 20,
                        "clicks": 3,
                        "cost": 1_200_000,
                        "conversions": 1.0 if "jobs" not in t else 0.0,
                        "conversion_value": 40.0,
                    }
                    for t, c, cn, g, gn, k, m in terms
                ]
            ),
            day,
            day,
        )
    return account


def negatives(level: str, target: str, *texts: str, match_type: str = "exact") -> AddNegativeKeywords:
    return AddNegativeKeywords(
        account=ACCOUNT,
        rationale="waste with no conversions",
        level=level,
        target_id=target,
        keywords=tuple(NegativeSpec(text=t, match_type=match_type) for t in texts),
    )


def negative_keys(sandbox: SandboxAccount) -> set[tuple[str, str, str, MatchType]]:
    return {(n.level, n.owner_id, n.text, n.match_type) for n in sandbox.structure().negatives}


class Sleeps(list[float]):
    """Stands in for `time.sleep` in the connector, recording each back-off instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
