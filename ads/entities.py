"""The ad platforms' world as pydantic models.

Money stays an integer in the unit the platform uses: Google Ads holds micros
(1 currency unit = 1,000,000), Meta holds minor units (cents for USD/EUR).
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class Platform(StrEnum):
    GOOGLE_ADS = "google_ads"
    META = "meta"


class MoneyUnit(StrEnum):
    MICROS = "micros"
    MINOR = "minor"


UNITS_PER_CURRENCY = {MoneyUnit.MICROS: 1_000_000, MoneyUnit.MINOR: 100}


def to_currency(amount: int, unit: MoneyUnit) -> float:
    return amount / UNITS_PER_CURRENCY[unit]


def from_currency(value: float, unit: MoneyUnit) -> int:
    return round(value * UNITS_PER_CURRENCY[unit])


def format_money(amount: int, unit: MoneyUnit, currency: str) -> str:
    return f"{to_currency(amount, unit):,.2f} {currency}"


# An ISO 4217 code: three capital letters. Names and symbols ('$', 'Euro') are refused, and so is markup.
CURRENCY_CODE = re.compile(r"[A-Z]{3}")
CurrencyCode = Annotated[str, Field(pattern=f"^{CURRENCY_CODE.pattern}$")]


class MatchType(StrEnum):
    EXACT = "exact"
    PHRASE = "phrase"
    BROAD = "broad"


class Status(StrEnum):
    ENABLED = "enabled"
    PAUSED = "paused"
    REMOVED = "removed"


class Entity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Account(Entity):
    """One ad account. `name` is how people and the CLI address it, e.g. `sandbox:acme`."""

    name: str
    id: str
    display_name: str
    platform: Platform
    currency: CurrencyCode = "USD"
    time_zone: str = "UTC"
    monthly_budget_cap: int | None = Field(
        default=None, description="Account-wide monthly spend ceiling, in the account's money unit."
    )
    brand_terms: tuple[str, ...] = ()
    read_only: bool = False
    final_url: str | None = Field(
        default=None, description="Where new ads lead when no ad of the account names one (an imported report's)."
    )

    @property
    def money_unit(self) -> MoneyUnit:
        return MoneyUnit.MICROS if self.platform is Platform.GOOGLE_ADS else MoneyUnit.MINOR

    def money(self, amount: int) -> str:
        return format_money(amount, self.money_unit, self.currency)


class Campaign(Entity):
    id: str
    name: str
    channel: Literal["search", "performance_max", "meta"]
    status: Status = Status.ENABLED
    budget_id: str | None = Field(default=None, description="The budget that funds it, if it holds one.")
    monthly_target: int | None = Field(default=None, description="Planned monthly spend, in the account's money unit.")


class Budget(Entity):
    """A daily budget. Google: a CampaignBudget (micros). Meta: an ad set's or campaign's daily_budget (minor units)."""

    id: str
    name: str
    level: Literal["campaign", "ad_set"]
    daily_amount: int
    campaign_ids: tuple[str, ...] = ()
    ad_group_ids: tuple[str, ...] = Field(default=(), description="Meta ad sets this budget belongs to.")


class AdGroup(Entity):
    """A Google ad group or a Meta ad set."""

    id: str
    campaign_id: str
    name: str
    status: Status = Status.ENABLED
    budget_id: str | None = None


class Keyword(Entity):
    id: str
    ad_group_id: str
    text: str
    match_type: MatchType
    status: Status = Status.ENABLED


class NegativeKeyword(Entity):
    """A negative at campaign or ad-group level, or inside a shared list."""

    id: str
    level: Literal["campaign", "ad_group", "shared_list"]
    owner_id: str
    text: str
    match_type: MatchType


class SharedNegativeList(Entity):
    id: str
    name: str
    campaign_ids: tuple[str, ...] = ()


class ResponsiveSearchAdCopy(Entity):
    type: Literal["responsive_search_ad"] = "responsive_search_ad"
    headlines: tuple[str, ...]
    descriptions: tuple[str, ...]
    path1: str = ""
    path2: str = ""
    final_url: str


class MetaAdCopy(Entity):
    type: Literal["meta_ad"] = "meta_ad"
    primary_text: str
    headline: str
    description: str = ""
    link_url: str
    call_to_action: str = "LEARN_MORE"


AdCopy = Annotated[ResponsiveSearchAdCopy | MetaAdCopy, Field(discriminator="type")]


class Ad(Entity):
    id: str
    ad_group_id: str
    status: Status = Status.ENABLED
    copy_: AdCopy = Field(alias="copy")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


# What an AccountStructure holds, each with its own `id`.
AccountEntity = Campaign | Budget | AdGroup | Keyword | NegativeKeyword | SharedNegativeList | Ad


class AccountStructure(Entity):
    """Everything about an account except its metrics."""

    account: Account
    campaigns: tuple[Campaign, ...] = ()
    budgets: tuple[Budget, ...] = ()
    ad_groups: tuple[AdGroup, ...] = ()
    keywords: tuple[Keyword, ...] = ()
    negatives: tuple[NegativeKeyword, ...] = ()
    shared_lists: tuple[SharedNegativeList, ...] = ()
    ads: tuple[Ad, ...] = ()


class ReportPeriod(Entity):
    start: dt.date
    end: dt.date


# Column contracts for the DataFrames that reports return. Money columns are integers in
# the account's money unit; conversions are floats (Google reports fractional conversions).
DAILY_METRIC_COLUMNS: tuple[str, ...] = (
    "date",
    "campaign_id",
    "ad_group_id",
    "impressions",
    "clicks",
    "cost",
    "conversions",
    "conversion_value",
)
SEARCH_TERM_COLUMNS: tuple[str, ...] = (
    "search_term",
    "campaign_id",
    "campaign_name",
    "ad_group_id",
    "ad_group_name",
    "keyword",
    "match_type",
    "impressions",
    "clicks",
    "cost",
    "conversions",
    "conversion_value",
)
# One row per day and ad (Google: ad_group_ad; Meta: ad insights at level=ad), money in the account's unit.
AD_METRIC_COLUMNS: tuple[str, ...] = (
    "date",
    "campaign_id",
    "ad_group_id",
    "ad_id",
    "impressions",
    "clicks",
    "cost",
    "conversions",
    "conversion_value",
)
# One row per asset of an ad (Google: ad_group_ad_asset_view), with the label Google gives it.
ASSET_LABEL_COLUMNS: tuple[str, ...] = ("ad_group_id", "ad_id", "field_type", "text", "performance_label")


class AssetFieldType(StrEnum):
    HEADLINE = "headline"
    DESCRIPTION = "description"
    PRIMARY_TEXT = "primary_text"


class AssetPerformanceLabel(StrEnum):
    """Google's performance label of an RSA asset (AssetPerformanceLabelEnum), best first."""

    BEST = "best"
    GOOD = "good"
    LOW = "low"
    LEARNING = "learning"
    PENDING = "pending"
    UNKNOWN = "unknown"
