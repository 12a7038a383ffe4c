"""A seeded, realistic sandbox: a Google Ads and a Meta account for Trailhead Outfitters, with ground truth.

Everything comes from one numpy Generator, so the same seed and `today` give the same store.
Planted for the analyses to find: campaigns and an ad set pacing over or under target, waste queries
of five kinds with spend and no conversions, converting themes no keyword covers, and prompt-injection
text typed as search terms. `SandboxStore.ground_truth` labels every search term.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from ads.account_plan import AdvertiserProfile
from ads.entities import (
    AD_METRIC_COLUMNS,
    ASSET_LABEL_COLUMNS,
    Account,
    AccountStructure,
    Ad,
    AdGroup,
    AssetFieldType,
    AssetPerformanceLabel,
    Budget,
    Campaign,
    Keyword,
    MatchType,
    MetaAdCopy,
    NegativeKeyword,
    Platform,
    ResponsiveSearchAdCopy,
    SharedNegativeList,
)
from ads.keyword_matching import KeywordMatcher
from ads.limits import limit
from sandbox import GOOGLE_ACCOUNT, META_ACCOUNT
from sandbox.brand_kits import kit_files, trailhead_spec
from sandbox.store import SandboxStore
from sandbox.themes import (
    ALWAYS_PRESENT_WASTE,
    BRAND_SUFFIXES,
    BRAND_TERMS,
    CAMPAIGNS,
    INJECTION_QUERIES,
    PREFIXES,
    SITE,
    SUFFIXES,
    UNCOVERED_THEMES,
    WASTE_PRODUCTS,
    CampaignTheme,
    contains_waste_word,
    waste_queries,
)

SEARCH_TERM_DAYS = 90
MICROS = 1_000_000

# Campaign -> this month's spend relative to its monthly target (planted pacing problems).
CURRENT_MONTH_PACE = {"Tents": 1.3, "Rain Jackets": 0.7}
# Google budgets moved week to week before this month (a marketer testing levels), so spend varied and the
# response curves have something to fit: each week's spend is this range x the plan.
WEEKLY_BUDGET_LEVELS = (0.7, 1.3)
# The planted marginal-return difference: Sleeping Bags is saturated (its next dollar buys little), Rain Jackets
# is not (conversions grow with spend); the rest in between.
SATURATION = {"Sleeping Bags": 0.8, "Rain Jackets": 0.0}
DEFAULT_SATURATION = 0.3
BUDGET_HISTORY_STREAM = 11
# Monthly targets in dollars.
MONTHLY_TARGETS: dict[str, int | tuple[int, int]] = {"brand": 1_500, "generic": (3_000, 6_000), "competitor": 900}
# Share of the account's search impressions by kind of query, split over that kind's themes.
KIND_SHARE = {"brand": 0.10, "generic": 0.63, "uncovered": 0.10, "conquest": 0.03, "waste": 0.13, "injection": 0.001}
WASTE_SHARE = {"jobs": 0.35, "wrong_product": 0.25, "diy": 0.15, "free": 0.15, "competitor": 0.10}
# Per-query behaviour by kind: click-through rate, conversion rate, cost per click ($), order value ($).
BEHAVIOUR = {
    "generic": {"ctr": (0.03, 0.07), "cvr": (0.02, 0.05), "cpc": (0.9, 2.4), "aov": (80, 220)},
    "brand": {"ctr": (0.15, 0.25), "cvr": (0.09, 0.15), "cpc": (0.3, 0.6), "aov": (100, 180)},
    "uncovered": {"ctr": (0.04, 0.07), "cvr": (0.03, 0.05), "cpc": (0.8, 1.4), "aov": (40, 90)},
    "conquest": {"ctr": (0.015, 0.03), "cvr": (0.005, 0.012), "cpc": (2.0, 3.0), "aov": (120, 180)},
    "waste": {"ctr": (0.05, 0.10), "cvr": (0.0, 0.0), "cpc": (0.6, 1.5), "aov": (0, 0)},
    "injection": {"ctr": (0.0, 0.0), "cvr": (0.0, 0.0), "cpc": (0.0, 0.0), "aov": (0, 0)},
}
# The kind of query each kind of campaign attracts.
QUERY_KIND = {"brand": "brand", "generic": "generic", "competitor": "conquest"}
ZIPF_EXPONENT = 1.07
# Waste is spread thinner: many distinct queries with a click or two each, not one big offender.
WASTE_ZIPF_EXPONENT = 0.6
DAILY_IMPRESSIONS = 30_000


def generate_sandbox(store: SandboxStore, *, seed: int = 7, rows: int = 24000, today: dt.date) -> list[str]:
    """Replaces the two sandbox accounts in `store` (one transaction) and returns their names."""
    rng = np.random.default_rng(seed)
    with store.transaction():
        for name in (GOOGLE_ACCOUNT, META_ACCOUNT):
            store.remove_account(name)
        structure = _google_structure(store, rng)
        google = store.save_account(structure)
        google_daily = _google_daily_metrics(
            structure, rng, today, np.random.default_rng([seed, BUDGET_HISTORY_STREAM])
        )
        google.add_daily_metrics(google_daily)
        report, truth = _search_term_report(structure, rng, rows, today)
        for day, frame in report.groupby("day", sort=True):
            google.add_search_terms(frame.drop(columns="day"), day, day)
        store.save_ground_truth(GOOGLE_ACCOUNT, truth)

        meta_structure = _meta_structure(store, rng)
        meta = store.save_account(meta_structure)
        meta_daily = _meta_daily_metrics(meta_structure, rng, today)
        meta.add_daily_metrics(meta_daily)
        # One shop, one kit and one profile: both accounts advertise the same products.
        kit = kit_files(trailhead_spec(), rng)
        profile = trailhead_profile()
        for name in (GOOGLE_ACCOUNT, META_ACCOUNT):
            store.save_brand_kit(name, kit)
            store.save_profile(name, profile)

        # Ad-level draws come from their own stream, after everything else, so the account-level data and every
        # id above are what they were before ads had metrics.
        ad_rng = np.random.default_rng([seed, AD_LEVEL_STREAM])
        for account, frame in ((google, google_daily), (meta, meta_daily)):
            planted = plant_creative_tests(account.structure(), frame, ad_rng, today, account.new_id)
            account.write(upserts=planted.new_ads)
            account.add_ad_metrics(planted.ad_metrics)
            account.set_asset_labels(planted.asset_labels)
    return [GOOGLE_ACCOUNT, META_ACCOUNT]


# -- the advertiser's profile -------------------------------------------------------------------

# What the shop does not sell, though people search for it with its products' words: the planted wrong products.
NOT_OFFERED: tuple[str, ...] = ("rental", "dog", "party tent", "wedding tent", "leaf blower", "backpack sprayer")


def trailhead_profile() -> AdvertiserProfile:
    """Trailhead Outfitters as its marketer would describe it: what the generator knows the shop to be. Its rivals
    are those its brand kit names, as people type them; others that only the queries name are left to inference."""
    spec = trailhead_spec()
    conquered = [g.name.lower() for c in CAMPAIGNS if c.kind == "competitor" for g in c.ad_groups]
    rivals = [c.lower() for c in spec.competitors if not any(c.lower().startswith(name) for name in conquered)]
    return AdvertiserProfile(
        business="Trailhead Outfitters: an outdoor-gear shop, online and in store, selling hiking boots, tents, "
        "backpacks, rain jackets, sleeping bags and camping accessories across the United States",
        offers=(*(line.name.lower() for line in spec.lines), *(theme.name for theme in UNCOVERED_THEMES)),
        not_offered=NOT_OFFERED,
        locations=("United States",),
        languages=("en",),
        brand_terms=BRAND_TERMS,
        competitors=(*conquered, *rivals),
        landing_pages={line.name.lower(): line.url for line in spec.lines},
    )


# -- Google Ads structure ------------------------------------------------------------------------


def _slug(text: str, width: int) -> str:
    return "-".join(text.lower().replace("'", "").split())[:width].strip("-")


def _rsa(group: str, campaign: str, rng: np.random.Generator) -> ResponsiveSearchAdCopy:
    """Valid RSA copy: candidates over the limits are dropped, and three fixed headlines always fit."""
    headlines = [
        f"{group}",
        f"Shop {group}",
        f"{group} Sale",
        f"New {group} In Stock",
        f"Top Rated {group}",
        "Trailhead Outfitters",
        "Gear Tested on Real Trails",
        "Easy 60-Day Returns",
        "Expert Advice, Real Hikers",
        "Shipping Over $50 Is On Us",
    ]
    headlines = list(dict.fromkeys(h for h in headlines if len(h) <= limit("rsa_headline_max_chars")))
    descriptions = [
        f"Find the right {group.lower()} for your next trip. Compare sizes, weights and reviews.",
        "Gear for every trail, chosen by people who hike. Order today, out the door tomorrow.",
        "Friendly advice from our staff in store and online. Easy returns within 60 days.",
        f"Shop {group.lower()} at Trailhead Outfitters, tested on real trails.",
    ]
    descriptions = [d for d in descriptions if len(d) <= limit("rsa_description_max_chars")]
    n_headlines = int(rng.integers(limit("rsa_min_headlines") + 2, len(headlines) + 1))
    n_descriptions = int(rng.integers(limit("rsa_min_descriptions"), len(descriptions) + 1))
    return ResponsiveSearchAdCopy(
        headlines=tuple(headlines[i] for i in rng.permutation(len(headlines))[:n_headlines]),
        descriptions=tuple(descriptions[i] for i in rng.permutation(len(descriptions))[:n_descriptions]),
        path1=_slug(campaign, limit("rsa_path_max_chars")),
        path2=_slug(group, limit("rsa_path_max_chars")),
        final_url=f"{SITE}/{_slug(campaign, 40)}/{_slug(group, 40)}",
    )


def _monthly_target(theme: CampaignTheme, rng: np.random.Generator) -> int:
    target = MONTHLY_TARGETS[theme.kind]
    dollars = target if isinstance(target, int) else int(rng.integers(target[0] // 100, target[1] // 100 + 1)) * 100
    return dollars * MICROS


def _google_structure(store: SandboxStore, rng: np.random.Generator) -> AccountStructure:
    match_types = (MatchType.EXACT, MatchType.PHRASE)
    campaigns, budgets, groups, keywords, ads, negatives = [], [], [], [], [], []
    for theme in CAMPAIGNS:
        campaign_id, budget_id = store.new_id(), store.new_id()
        target = _monthly_target(theme, rng)
        # An overspending campaign got a budget that is too high for its target.
        daily = target * CURRENT_MONTH_PACE.get(theme.name, 1.0) / limit("google_monthly_charge_multiplier")
        budgets.append(
            Budget(
                id=budget_id,
                name=f"{theme.name} budget",
                level="campaign",
                daily_amount=round(daily / 10_000) * 10_000,
                campaign_ids=(campaign_id,),
            )
        )
        campaigns.append(
            Campaign(
                id=campaign_id,
                name=f"Search | {theme.name}",
                channel="search",
                budget_id=budget_id,
                monthly_target=target,
            )
        )
        for group_theme in theme.ad_groups:
            group = AdGroup(id=store.new_id(), campaign_id=campaign_id, name=group_theme.name)
            groups.append(group)
            last = len(group_theme.keywords) - 1
            keywords += [
                Keyword(
                    id=store.new_id(),
                    ad_group_id=group.id,
                    text=text,
                    match_type=MatchType.BROAD if i == last else match_types[i % 2],
                )
                for i, text in enumerate(group_theme.keywords)
            ]
            ads += [
                Ad(id=store.new_id(), ad_group_id=group.id, copy_=_rsa(group.name, theme.name, rng))
                for _ in range(int(rng.integers(1, 4)))
            ]
    by_name = {c.name: c for c in campaigns}
    negatives += [
        NegativeKeyword(
            id=store.new_id(),
            level="campaign",
            owner_id=by_name["Search | Brand"].id,
            text="trailhead parking",
            match_type=MatchType.PHRASE,
        ),
        NegativeKeyword(
            id=store.new_id(),
            level="campaign",
            owner_id=by_name["Search | Tents"].id,
            text="tent pole replacement",
            match_type=MatchType.EXACT,
        ),
    ]
    generic_ids = tuple(c.id for c, t in zip(campaigns, CAMPAIGNS, strict=False) if t.kind == "generic")
    shared = SharedNegativeList(id=store.new_id(), name="Account negatives", campaign_ids=generic_ids)
    negatives += [
        NegativeKeyword(id=store.new_id(), level="shared_list", owner_id=shared.id, text=text, match_type=match_type)
        for text, match_type in (
            ("ebay", MatchType.PHRASE),
            ("craigslist", MatchType.PHRASE),
            ("coloring pages", MatchType.EXACT),
        )
    ]
    account = Account(
        name=GOOGLE_ACCOUNT,
        id=str(rng.integers(10**9, 10**10)),
        display_name="Trailhead Outfitters (Google Ads)",
        platform=Platform.GOOGLE_ADS,
        currency="USD",
        time_zone="America/Denver",
        brand_terms=BRAND_TERMS,
        monthly_budget_cap=round(sum(c.monthly_target or 0 for c in campaigns) * 1.1 / MICROS) * MICROS,
    )
    return AccountStructure(
        account=account,
        campaigns=tuple(campaigns),
        budgets=tuple(budgets),
        ad_groups=tuple(groups),
        keywords=tuple(keywords),
        negatives=tuple(negatives),
        shared_lists=(shared,),
        ads=tuple(ads),
    )


# -- daily metrics -------------------------------------------------------------------------------


def _month_start(day: dt.date, months_back: int) -> dt.date:
    month_index = day.year * 12 + day.month - 1 - months_back
    return dt.date(month_index // 12, month_index % 12 + 1, 1)


@dataclass(frozen=True)
class _SpendPlan:
    """Daily spend for one ad group (Google) or ad set (Meta): a monthly amount spread over the days."""

    campaign_id: str
    ad_group_id: str
    monthly_amount: float  # spend in a month at pace 1.0, in the account's money unit
    current_pace: float
    cpc: float
    ctr: float
    cvr: float
    aov: float  # in the account's money unit
    # Before this month, spend at these levels of the plan, one a week, newest first (budgets a marketer moved).
    weekly_levels: tuple[float, ...] = ()
    # Conversion rate x (spend / plan) ** -saturation: extra spend buys broader, worse-converting traffic.
    saturation: float = 0.0


def _daily_metrics(
    plans: list[_SpendPlan], rng: np.random.Generator, start: dt.date, today: dt.date, money_step: int
) -> pd.DataFrame:
    days = pd.date_range(start, today, freq="D")
    month_start = pd.Timestamp(today.replace(day=1))
    frames = []
    for plan in plans:
        level = np.ones(len(days))
        if plan.weekly_levels:
            weeks_back = (month_start - days).days.to_numpy() // 7
            level = np.where(days < month_start, np.take(plan.weekly_levels, weeks_back % len(plan.weekly_levels)), 1.0)
        pace = np.where(days >= month_start, plan.current_pace, level)
        relative = pace * rng.uniform(0.92, 1.08, len(days))
        spend = plan.monthly_amount / days.days_in_month.to_numpy() * relative
        clicks = rng.poisson(spend / plan.cpc)
        impressions = clicks + rng.poisson(clicks * (1 / plan.ctr - 1))
        conversions = rng.binomial(clicks, np.minimum(plan.cvr * relative**-plan.saturation, 1.0)).astype(float)
        frames.append(
            pd.DataFrame(
                {
                    "date": days,
                    "campaign_id": plan.campaign_id,
                    "ad_group_id": plan.ad_group_id,
                    "impressions": impressions,
                    "clicks": clicks,
                    "cost": (np.round(spend / money_step) * money_step).astype("int64"),
                    "conversions": conversions,
                    "conversion_value": np.round(conversions * plan.aov * rng.lognormal(0, 0.15, len(days)), 2),
                }
            )
        )
    return pd.concat(frames, ignore_index=True).sort_values(["date", "campaign_id", "ad_group_id"], ignore_index=True)


def _google_daily_metrics(
    structure: AccountStructure, rng: np.random.Generator, today: dt.date, history_rng: np.random.Generator
) -> pd.DataFrame:
    """`history_rng` draws the weekly budget levels, apart from `rng`, so every other draw is as it was."""
    plans = []
    weeks = -(-(today - _month_start(today, 2)).days // 7)
    for campaign, theme in zip(structure.campaigns, CAMPAIGNS, strict=False):
        levels = tuple(float(x) for x in history_rng.uniform(*WEEKLY_BUDGET_LEVELS, weeks))
        groups = [g for g in structure.ad_groups if g.campaign_id == campaign.id]
        shares = rng.dirichlet(np.full(len(groups), 2.0))
        behaviour = BEHAVIOUR[QUERY_KIND[theme.kind]]
        cpc, ctr, cvr, aov = (float(rng.uniform(*behaviour[key])) for key in ("cpc", "ctr", "cvr", "aov"))
        plans += [
            _SpendPlan(
                campaign.id,
                group.id,
                campaign.monthly_target * share,
                CURRENT_MONTH_PACE.get(theme.name, 1.0),
                cpc * MICROS,
                ctr,
                cvr,
                aov,
                weekly_levels=levels,
                saturation=SATURATION.get(theme.name, DEFAULT_SATURATION),
            )
            for group, share in zip(groups, shares, strict=False)
        ]
    return _daily_metrics(plans, rng, _month_start(today, 2), today, money_step=10_000)


# -- search terms --------------------------------------------------------------------------------


def _query_catalogue(rng: np.random.Generator) -> pd.DataFrame:
    """Every query the account can see: text, theme, kind, waste kind, the ad group it reaches, and
    `popularity`, its share of the account's impressions."""
    entries: list[tuple[str, str, str, str, str, float]] = []
    for theme in CAMPAIGNS:
        for group in theme.ad_groups:
            kind = QUERY_KIND[theme.kind]
            suffixes = BRAND_SUFFIXES if kind == "brand" else SUFFIXES
            prefixes = ("",) if kind == "brand" else PREFIXES
            label = "brand" if kind == "brand" else "competitor conquest" if kind == "conquest" else group.name.lower()
            entries += _modified(group.heads, prefixes, suffixes, label, kind, group.name)
    for uncovered in UNCOVERED_THEMES:
        entries += _modified(uncovered.heads, PREFIXES, SUFFIXES, uncovered.name, "uncovered", uncovered.served_by)
    group_names = [g.name for t in CAMPAIGNS if t.kind == "generic" for g in t.ad_groups]
    for query, waste_kind, product in waste_queries():
        group_name = (
            "Trailhead Brand"
            if product == "brand"
            else WASTE_PRODUCTS.get(product) or group_names[int(rng.integers(len(group_names)))]
        )
        entries.append((query, waste_kind, "waste", waste_kind, group_name, 1.0))
    for query in INJECTION_QUERIES:
        entries.append((query, "injection", "injection", "", group_names[int(rng.integers(len(group_names)))], 1.0))
    catalogue = pd.DataFrame(entries, columns=["search_term", "theme", "kind", "waste_kind", "ad_group", "score"])
    catalogue = catalogue.drop_duplicates("search_term", ignore_index=True)
    catalogue["score"] *= rng.lognormal(0, 0.6, len(catalogue))

    # Each kind's share is split over its themes (unevenly); within a theme, Zipf by rank of score.
    themes = catalogue.drop_duplicates("theme")[["theme", "kind", "waste_kind"]]
    jitter = rng.uniform(0.5, 1.5, len(themes))
    theme_share: dict[str, float] = {}
    for kind, share in KIND_SHARE.items():
        mask = (themes["kind"] == kind).to_numpy()
        split = jitter[mask] / jitter[mask].sum()
        if kind == "waste":
            split = themes.loc[mask, "waste_kind"].map(WASTE_SHARE).to_numpy()
        theme_share |= dict(zip(themes.loc[mask, "theme"], share * split, strict=False))
    rank = catalogue.groupby("theme")["score"].rank(ascending=False, method="first")
    zipf = 1.0 / rank ** np.where(catalogue["kind"] == "waste", WASTE_ZIPF_EXPONENT, ZIPF_EXPONENT)
    catalogue["popularity"] = (
        catalogue["theme"].map(theme_share) * zipf / zipf.groupby(catalogue["theme"]).transform("sum")
    )
    return catalogue


def _modified(
    heads: tuple[str, ...], prefixes: tuple[str, ...], suffixes: tuple[str, ...], label: str, kind: str, group: str
) -> list[tuple[str, str, str, str, str, float]]:
    """Heads with shopping modifiers; each modifier makes a query rarer. Waste words never slip in."""
    entries = []
    for head in heads:
        for prefix in prefixes:
            for suffix in suffixes:
                query = f"{prefix}{head}{suffix}"
                if not contains_waste_word(query):
                    entries.append((query, label, kind, "", group, 1 / (1 + bool(prefix) + bool(suffix)) ** 1.5))
    return entries


def _keyword_for(query: str, keywords: list[Keyword], matcher: KeywordMatcher) -> Keyword:
    """The keyword a query matched (`matcher` holds `keywords`): the first matching exact keyword, else the first
    matching phrase keyword, else the broad one."""
    matched = [keywords[k] for k in sorted(matcher.pairs([query])[1].tolist())]
    for match_type in (MatchType.EXACT, MatchType.PHRASE):
        found = next((k for k in matched if k.match_type is match_type), None)
        if found is not None:
            return found
    return next(k for k in keywords if k.match_type is MatchType.BROAD)


def _search_term_report(
    structure: AccountStructure, rng: np.random.Generator, rows: int, today: dt.date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Daily search-term rows (≥ `rows`) over the last 90 days, and the ground truth of the terms they hold."""
    catalogue = _query_catalogue(rng)
    per_day = math.ceil(rows / SEARCH_TERM_DAYS)
    if per_day > len(catalogue):
        raise ValueError(f"rows={rows} is more than the vocabulary holds ({len(catalogue) * SEARCH_TERM_DAYS})")
    popularity = catalogue["popularity"].to_numpy()

    # Which queries occur each day: weighted sampling without replacement (Gumbel top-k), all days at once.
    keys = np.log(popularity) + rng.gumbel(size=(SEARCH_TERM_DAYS, len(catalogue)))
    chosen = np.argpartition(-keys, per_day - 1, axis=1)[:, :per_day]
    occurs = np.zeros((SEARCH_TERM_DAYS, len(catalogue)), dtype=bool)
    np.put_along_axis(occurs, chosen, True, axis=1)
    planted = catalogue.index[catalogue["search_term"].isin(ALWAYS_PRESENT_WASTE + INJECTION_QUERIES)]
    for query in planted:
        occurs[rng.choice(SEARCH_TERM_DAYS, size=4, replace=False), query] = True
    day_index, query_index = np.nonzero(occurs)

    behaviour = {key: np.empty(len(catalogue)) for key in ("ctr", "cvr", "cpc", "aov")}
    for kind, ranges in BEHAVIOUR.items():
        mask = (catalogue["kind"] == kind).to_numpy()
        for key, (low, high) in ranges.items():
            behaviour[key][mask] = rng.uniform(low, high, mask.sum())
    # A theme converts at one rate, whatever modifier its queries carry: which relevant query goes
    # without a conversion is then down to the binomial draws below, as in a real account.
    theme_codes, _ = pd.factorize(catalogue["theme"])
    theme_kind = catalogue.groupby(theme_codes)["kind"].first().to_numpy()
    theme_cvr = np.array([rng.uniform(*BEHAVIOUR[kind]["cvr"]) for kind in theme_kind])
    behaviour["cvr"] = theme_cvr[theme_codes]
    weekday = np.where(pd.date_range(end=today, periods=SEARCH_TERM_DAYS).day_of_week.to_numpy() >= 5, 1.2, 1.0)

    n = len(day_index)
    impressions = 1 + rng.poisson(DAILY_IMPRESSIONS * popularity[query_index] * weekday[day_index])
    clicks = rng.binomial(impressions, behaviour["ctr"][query_index])
    cost = clicks * behaviour["cpc"][query_index] * MICROS * rng.lognormal(0, 0.2, n)
    conversions = rng.binomial(clicks, behaviour["cvr"][query_index]).astype(float)
    value = np.round(conversions * behaviour["aov"][query_index] * rng.lognormal(0, 0.15, n), 2)

    groups = {g.name: g for g in structure.ad_groups}
    campaigns = {c.id: c for c in structure.campaigns}
    keywords_of: dict[str, list[Keyword]] = {}
    for keyword in structure.keywords:
        keywords_of.setdefault(keyword.ad_group_id, []).append(keyword)
    matchers = {
        group_id: KeywordMatcher([(k.text, k.match_type) for k in keywords], negative=False)
        for group_id, keywords in keywords_of.items()
    }
    placement = []
    for query, group_name in zip(catalogue["search_term"], catalogue["ad_group"], strict=False):
        group = groups[group_name]
        keyword = _keyword_for(query, keywords_of[group.id], matchers[group.id])
        placement.append(
            (
                group.campaign_id,
                campaigns[group.campaign_id].name,
                group.id,
                group.name,
                keyword.text,
                str(keyword.match_type),
            )
        )
    placement_frame = pd.DataFrame(
        placement, columns=["campaign_id", "campaign_name", "ad_group_id", "ad_group_name", "keyword", "match_type"]
    )

    first_day = today - dt.timedelta(days=SEARCH_TERM_DAYS - 1)
    report = pd.concat(
        [
            pd.DataFrame(
                {
                    "day": [first_day + dt.timedelta(days=int(d)) for d in day_index],
                    "search_term": catalogue["search_term"].to_numpy()[query_index],
                }
            ),
            placement_frame.iloc[query_index].reset_index(drop=True),
            pd.DataFrame(
                {
                    "impressions": impressions,
                    "clicks": clicks,
                    "cost": (np.round(cost / 10_000) * 10_000).astype("int64"),
                    "conversions": conversions,
                    "conversion_value": value,
                }
            ),
        ],
        axis=1,
    )

    seen = catalogue.iloc[np.unique(query_index)]
    brand = "|".join(BRAND_TERMS)
    truth = pd.DataFrame(
        {
            "search_term": seen["search_term"].to_numpy(),
            "theme": seen["theme"].to_numpy(),
            "is_waste": (seen["kind"] == "waste").to_numpy(),
            "waste_kind": seen["waste_kind"].to_numpy(),
            "is_brand": seen["search_term"].str.contains(rf"\b(?:{brand})\b", regex=True).to_numpy(),
            "is_injection": (seen["kind"] == "injection").to_numpy(),
        }
    )
    return report, truth


# -- Meta ----------------------------------------------------------------------------------------

# campaign -> ad sets (name, daily budget in cents, this month's pace)
META_CAMPAIGNS = {
    "Prospecting | Spring Gear": (
        ("Hikers 25-44", 5_000, 1.0),
        ("Campers Lookalike 1%", 4_000, 1.4),
        ("Trail Runners Interest", 3_000, 1.0),
    ),
    "Retargeting | Site Visitors": (("Cart Abandoners 14d", 2_500, 1.0), ("Product Viewers 30d", 2_000, 1.0)),
}
THIN_AD_SET = "Trail Runners Interest"  # runs one ad only, so the creatives analysis has a gap to find on Meta
META_COPY = (
    (
        "Boots, tents and packs tested on real trails. Find your next adventure at Trailhead Outfitters.",
        "Gear Up for Spring",
        "Easy 60-day returns",
    ),
    (
        "Still thinking it over? Your trail gear is waiting, with shipping on us over $50.",
        "Your Gear Is Waiting",
        "Shipping on us over $50",
    ),
)


def _meta_structure(store: SandboxStore, rng: np.random.Generator) -> AccountStructure:
    campaigns, budgets, ad_sets, ads = [], [], [], []
    for campaign_name, sets in META_CAMPAIGNS.items():
        campaign_id = store.new_id()
        campaigns.append(
            Campaign(
                id=campaign_id,
                name=campaign_name,
                channel="meta",
                monthly_target=round(sum(daily for _, daily, _ in sets) * 30.4),
            )
        )
        for set_name, daily, _ in sets:
            set_id, budget_id = store.new_id(), store.new_id()
            budgets.append(
                Budget(
                    id=budget_id,
                    name=f"{set_name} budget",
                    level="ad_set",
                    daily_amount=daily,
                    campaign_ids=(campaign_id,),
                    ad_group_ids=(set_id,),
                )
            )
            ad_sets.append(AdGroup(id=set_id, campaign_id=campaign_id, name=set_name, budget_id=budget_id))
            for primary, headline, description in META_COPY[:1] if set_name == THIN_AD_SET else META_COPY:
                ads.append(
                    Ad(
                        id=store.new_id(),
                        ad_group_id=set_id,
                        copy_=MetaAdCopy(
                            primary_text=primary,
                            headline=headline,
                            description=description,
                            link_url=f"{SITE}/spring?utm_source=meta&utm_content={_slug(set_name, 40)}",
                            call_to_action="SHOP_NOW",
                        ),
                    )
                )
    account = Account(
        name=META_ACCOUNT,
        id=str(rng.integers(10**14, 10**15)),
        display_name="Trailhead Outfitters (Meta)",
        platform=Platform.META,
        currency="USD",
        time_zone="America/Denver",
        brand_terms=BRAND_TERMS,
    )
    return AccountStructure(
        account=account, campaigns=tuple(campaigns), budgets=tuple(budgets), ad_groups=tuple(ad_sets), ads=tuple(ads)
    )


def _meta_daily_metrics(structure: AccountStructure, rng: np.random.Generator, today: dt.date) -> pd.DataFrame:
    paces = {name: pace for sets in META_CAMPAIGNS.values() for name, _, pace in sets}
    budget_of_ad_set = {ad_set: b for b in structure.budgets for ad_set in b.ad_group_ids}
    plans = [
        _SpendPlan(
            ad_set.campaign_id,
            ad_set.id,
            budget_of_ad_set[ad_set.id].daily_amount * 30.4,
            paces[ad_set.name],
            cpc=float(rng.uniform(80, 160)),
            ctr=float(rng.uniform(0.01, 0.015)),
            cvr=float(rng.uniform(0.02, 0.04)),
            aov=float(rng.uniform(90, 150)),
        )
        for ad_set in structure.ad_groups
    ]
    return _daily_metrics(plans, rng, _month_start(today, 1), today, money_step=1)


# -- ads' own metrics and the planted creative tests ---------------------------------------------

AD_LEVEL_STREAM = 9
# Creative tests the sandbox plants, by ad group (Google) or ad set (Meta) name. In every other ad group the
# ads perform alike, so each group's truth is known: a real winner, no difference, or too little data.
PLANTED_CREATIVE_TESTS: dict[str, Literal["winner", "no_difference", "thin"]] = {
    "Trail Running Shoes": "winner",
    "Family Camping Tents": "no_difference",
    "Daypacks": "thin",
    "Campers Lookalike 1%": "winner",
}
# The planted winner (the group's first ad) against its siblings: click-through and conversion rate multipliers.
WINNER_LIFT = {"ctr": 1.4, "cvr": 1.25}
# The thin test: a variant added this many days ago, doing badly so far (an early signal that must not be acted on).
THIN_VARIANT_DAYS = 5
THIN_VARIANT_CTR = 0.6
# Google shows asset labels once an ad has served about two weeks; before that its assets are "learning".
ASSET_LABEL_DAYS = 14


@dataclass(frozen=True)
class PlantedCreativeTests:
    """What `plant_creative_tests` adds: new ads (for tests that need another variant), each ad's daily metrics,
    asset labels, and the truth per planted ad group (`plant`, and the winner's ad id)."""

    new_ads: list[Ad]
    ad_metrics: pd.DataFrame
    asset_labels: pd.DataFrame
    truth: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # ad group id -> (plant, winner ad id)


def plant_creative_tests(
    structure: AccountStructure,
    daily: pd.DataFrame,
    rng: np.random.Generator,
    today: dt.date,
    new_id: Callable[[], str],
    *,
    winner_lift: dict[str, float] | None = None,
) -> PlantedCreativeTests:
    """Splits each ad group's daily metrics over its ads (the sums stay the ad group's), with the planted tests'
    differences. Equal rates split clicks exactly as independent trials would (a hypergeometric draw)."""
    lift = winner_lift or WINNER_LIFT
    campaigns = {c.id: c for c in structure.campaigns}
    first_day = pd.Timestamp(daily["date"].min()) if not daily.empty else pd.Timestamp(today)
    new_ads: list[Ad] = []
    ads_of: dict[str, list[Ad]] = {}
    for ad in structure.ads:
        ads_of.setdefault(ad.ad_group_id, []).append(ad)
    # per ad: first serving day, CTR and CVR multipliers
    starts: dict[str, pd.Timestamp] = {}
    multipliers: dict[str, tuple[float, float]] = {}
    truth: dict[str, tuple[str, str | None]] = {}
    for group in structure.ad_groups:
        plant = PLANTED_CREATIVE_TESTS.get(group.name)
        ads = ads_of.setdefault(group.id, [])
        # Only RSAs are written here; a Meta ad set plants a test only where it already runs two ads.
        if plant is not None and structure.account.platform is Platform.GOOGLE_ADS:
            theme = campaigns[group.campaign_id].name.removeprefix("Search | ")
            while len(ads) < (1 if plant == "thin" else 2):
                ads.append(Ad(id=new_id(), ad_group_id=group.id, copy_=_rsa(group.name, theme, rng)))
                new_ads.append(ads[-1])
            if plant == "thin":
                ads.append(Ad(id=new_id(), ad_group_id=group.id, copy_=_rsa(group.name, theme, rng)))
                new_ads.append(ads[-1])
                starts[ads[-1].id] = pd.Timestamp(today) - pd.Timedelta(days=THIN_VARIANT_DAYS - 1)
                multipliers[ads[-1].id] = (THIN_VARIANT_CTR, 1.0)
        if plant is not None and len(ads) >= 2:
            winner = ads[0].id if plant == "winner" else None
            truth[group.id] = (plant, winner)
            if winner:
                multipliers[winner] = (lift["ctr"], lift["cvr"])
    rows = []
    for (day, group_id), totals in daily.groupby(["date", "ad_group_id"], sort=True):
        serving = [a for a in ads_of.get(str(group_id), []) if starts.get(a.id, first_day) <= day]
        if not serving:
            continue
        record = totals.sum(numeric_only=True)
        ctr = np.array([multipliers.get(a.id, (1.0, 1.0))[0] for a in serving])
        cvr = np.array([multipliers.get(a.id, (1.0, 1.0))[1] for a in serving])
        impressions = rng.multinomial(int(record["impressions"]), np.full(len(serving), 1 / len(serving)))
        clicks = _split(int(record["clicks"]), impressions * ctr, rng)
        conversions = _split(int(record["conversions"]), clicks * cvr, rng)
        cost = _proportional(int(record["cost"]), clicks)
        value = np.round(float(record["conversion_value"]) * _shares(conversions), 2)
        for i, ad in enumerate(serving):
            rows.append(
                (day, totals["campaign_id"].iloc[0], str(group_id), ad.id, impressions[i], clicks[i], cost[i])
                + (float(conversions[i]), float(value[i]))
            )
    frame = pd.DataFrame(rows, columns=list(AD_METRIC_COLUMNS))
    all_ads = [*structure.ads, *new_ads]
    return PlantedCreativeTests(
        new_ads=new_ads,
        ad_metrics=frame,
        asset_labels=_asset_labels(all_ads, frame, truth, today, rng),
        truth=truth,
    )


def _split(total: int, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`total` successes over the ads, in proportion to `weights` (trials × rate multiplier), as a hypergeometric
    draw from an urn of weight-many balls: with equal rates the urn is the trials themselves, which is exactly how
    equal-rate trials split a known total. Other multipliers scale the urn so that rounding does not bend them."""
    if total == 0 or weights.sum() == 0:
        return np.zeros(len(weights), dtype=np.int64)
    scale = 1 if np.array_equal(weights, np.round(weights)) else 100
    colours = np.round(weights * scale).astype(np.int64)
    colours[np.argmax(colours)] += max(0, total - int(colours.sum()))
    return rng.multivariate_hypergeometric(colours, total)


def _shares(counts: np.ndarray) -> np.ndarray:
    return counts / counts.sum() if counts.sum() else np.zeros(len(counts))


def _proportional(total: int, counts: np.ndarray) -> np.ndarray:
    """`total` split in proportion to `counts`, in whole units, summing to `total` (the rest to the largest)."""
    parts = np.floor(total * _shares(counts)).astype(np.int64) if counts.sum() else np.zeros(len(counts), np.int64)
    parts[np.argmax(counts)] += total - int(parts.sum())
    return parts


def _asset_labels(
    ads: list[Ad],
    ad_metrics: pd.DataFrame,
    truth: dict[str, tuple[str, str | None]],
    today: dt.date,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Google's labels for each RSA asset: learning while an ad is young; the planted winner's lead assets best."""
    first_served = ad_metrics.groupby("ad_id")["date"].min() if not ad_metrics.empty else pd.Series(dtype=object)
    winners = {winner for _, winner in truth.values() if winner}
    rows = []
    for ad in ads:
        if not isinstance(ad.copy_, ResponsiveSearchAdCopy) or ad.id not in first_served.index:
            continue
        young = (pd.Timestamp(today) - first_served[ad.id]).days + 1 < ASSET_LABEL_DAYS
        for field_type, texts in (
            (AssetFieldType.HEADLINE, ad.copy_.headlines),
            (AssetFieldType.DESCRIPTION, ad.copy_.descriptions),
        ):
            for rank, text in enumerate(texts):
                if young:
                    label = AssetPerformanceLabel.LEARNING
                elif ad.id in winners:
                    label = AssetPerformanceLabel.BEST if rank < 2 else AssetPerformanceLabel.GOOD
                else:
                    label = AssetPerformanceLabel.LOW if rng.random() < 0.3 else AssetPerformanceLabel.GOOD
                rows.append((ad.ad_group_id, ad.id, field_type.value, text, label.value))
    return pd.DataFrame(rows, columns=list(ASSET_LABEL_COLUMNS))
