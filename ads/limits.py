"""Limits the platforms themselves enforce. A policy may be stricter, never looser."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class PlatformLimit(BaseModel):
    model_config = ConfigDict(frozen=True)

    value: float
    source: str


PLATFORM_LIMITS: dict[str, PlatformLimit] = {
    "rsa_headline_max_chars": PlatformLimit(
        value=30, source="Google Ads Help: About responsive search ads (headline up to 30 characters)"
    ),
    "rsa_description_max_chars": PlatformLimit(
        value=90, source="Google Ads Help: About responsive search ads (description up to 90 characters)"
    ),
    "rsa_min_headlines": PlatformLimit(value=3, source="Google Ads API: ResponsiveSearchAdInfo.headlines (3-15)"),
    "rsa_max_headlines": PlatformLimit(value=15, source="Google Ads API: ResponsiveSearchAdInfo.headlines (3-15)"),
    "rsa_min_descriptions": PlatformLimit(value=2, source="Google Ads API: ResponsiveSearchAdInfo.descriptions (2-4)"),
    "rsa_max_descriptions": PlatformLimit(value=4, source="Google Ads API: ResponsiveSearchAdInfo.descriptions (2-4)"),
    "rsa_path_max_chars": PlatformLimit(
        value=15, source="Google Ads API: ResponsiveSearchAdInfo.path1/path2 (15 characters)"
    ),
    "google_daily_overdelivery": PlatformLimit(
        value=2.0, source="Google Ads Help: About average daily budgets (up to 2x the daily budget on a day)"
    ),
    "google_monthly_charge_multiplier": PlatformLimit(
        value=30.4, source="Google Ads Help: About average daily budgets (at most 30.4x the daily budget a month)"
    ),
    "shared_negative_list_max_keywords": PlatformLimit(
        value=5000, source="Google Ads Help: About negative keyword lists (5,000 keywords per list)"
    ),
    "shared_negative_lists_per_account": PlatformLimit(
        value=20, source="Google Ads Help: About negative keyword lists (20 lists per account)"
    ),
    "negative_keyword_max_words": PlatformLimit(value=10, source="Google Ads Help: keyword limits (10 words)"),
    "keyword_max_chars": PlatformLimit(value=80, source="Google Ads Help: keyword limits (80 characters)"),
    "meta_budget_changes_per_ad_set_per_hour": PlatformLimit(
        value=4, source="Meta Marketing API: ad set budget change rate limit (about 4 per hour)"
    ),
    "meta_primary_text_recommended_chars": PlatformLimit(
        value=125, source="Meta Ads Guide: primary text, 125 characters recommended"
    ),
    "meta_headline_recommended_chars": PlatformLimit(
        value=40, source="Meta Ads Guide: headline, 40 characters recommended"
    ),
    "meta_description_recommended_chars": PlatformLimit(
        value=30, source="Meta Ads Guide: description, 30 characters recommended"
    ),
    "google_ads_mutate_operations_per_request": PlatformLimit(
        value=10000, source="Google Ads API: quotas, 10,000 operations per mutate request"
    ),
}


def limit(name: str) -> int:
    """A limit as an integer count or length."""
    return int(PLATFORM_LIMITS[name].value)
