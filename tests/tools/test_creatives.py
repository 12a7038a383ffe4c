from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ads.ad_copy import MetaCopyLimits, ad_text_length, asset_key, meta_problems, rsa_problems
from ads.entities import (
    Account,
    AccountStructure,
    Ad,
    AdGroup,
    Campaign,
    Keyword,
    MatchType,
    MetaAdCopy,
    Platform,
    ResponsiveSearchAdCopy,
)
from tools.creatives import (
    RSA_LIMITS,
    CreativeBrief,
    asset_problem,
    propose_creative_variants,
    write_copy,
    write_meta_ad,
    write_rsa,
)

URL = "https://shop.test/boots"
words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=60)
long_words = st.sampled_from(
    [
        "supercalifragilisticexpialidociousboots",
        "Donaudampfschifffahrtsgesellschaftskapitän",
        "露营帐篷超轻双人防水帐篷露营帐篷",
        "guaranteed",
        "#1 cure",
        "BEST PRICE GUARANTEED",
        "🥾🥾 boots!!",
    ]
)
phrases = st.one_of(words, long_words, st.lists(st.one_of(words, long_words), max_size=6).map(" ".join))


def assert_valid_rsa(ad: ResponsiveSearchAdCopy) -> None:
    assert rsa_problems(ad, RSA_LIMITS) == []
    assert 8 <= len(ad.headlines) <= 15
    assert 3 <= len(ad.descriptions) <= 4
    for text, max_chars in [(h, 30) for h in ad.headlines] + [(d, 90) for d in ad.descriptions]:
        assert asset_problem(text, max_chars) is None, (text, asset_problem(text, max_chars))
        assert ad_text_length(text) <= max_chars
    for path in (ad.path1, ad.path2):
        assert ad_text_length(path) <= 15
    assert ad.path1 or not ad.path2
    assert len({h.casefold() for h in ad.headlines}) == len(ad.headlines)
    assert len({d.casefold() for d in ad.descriptions}) == len(ad.descriptions)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(theme=phrases, keywords=st.lists(phrases, max_size=8), brand=st.one_of(st.none(), phrases))
def test_rsa_and_meta_limits_always_hold(theme: str, keywords: list[str], brand: str | None) -> None:
    ad = write_rsa(theme, keywords, URL, brand)
    assert_valid_rsa(ad)
    assert ad.final_url == URL
    meta = write_meta_ad(theme, keywords, URL, brand)
    assert ad_text_length(meta.primary_text) <= 125 and asset_problem(meta.primary_text, 125) is None
    assert ad_text_length(meta.headline) <= 40 and asset_problem(meta.headline, 40) is None
    assert ad_text_length(meta.description) <= 30
    assert meta_problems(meta, MetaCopyLimits(125, 40, 30)) == []


def test_keyword_insertion_trims_whole_words_in_title_case() -> None:
    ad = write_rsa(
        "hiking boots",
        ["waterproof hiking boots for women", "supercalifragilisticexpialidocious"],
        URL,
        brand="Trailhead Outfitters",
    )
    assert "Waterproof Hiking Boots" in ad.headlines  # "for women" dropped as a whole, not cut mid-word
    assert "Compare Hiking Boots" in ad.headlines  # leading modifier dropped to keep the head noun
    assert "Trailhead Outfitters" in ad.headlines
    tokens = {t for h in ad.headlines for t in h.replace(",", "").split()}
    assert not any(t.startswith("Supercal") for t in tokens)  # too long for any headline: left out, not cut
    assert not any(t in {"Wat", "Waterpr", "Wome", "Fo"} for t in tokens)
    assert "Waterproof Hiking Boots For Women" in " ".join(ad.descriptions)
    assert ad.path1 == "Hiking-Boots"


def test_double_width_characters_count_twice() -> None:
    assert ad_text_length("露营帐篷") == 8
    ad = write_rsa("露营帐篷超轻双人防水帐篷露营", ["露营帐篷"], URL)
    assert_valid_rsa(ad)
    assert "露营帐篷超轻双人防水帐篷露营" in ad.headlines  # 14 wide chars = 28 fits alone ...
    assert "Explore 露营帐篷超轻双人防水帐篷露营" not in ad.headlines  # ... but not with a prefix


def test_forbidden_claims_and_shouting_in_keywords_never_reach_the_copy() -> None:
    ad = write_rsa("Back Pain", ["guaranteed cure for back pain", "#1 RISK-FREE MATTRESS", "BEST PRICE boots"], URL)
    assert_valid_rsa(ad)
    text = " ".join(ad.headlines + ad.descriptions).casefold()
    for claim in ("guaranteed", "cure", "#1", "risk-free", "best price"):
        assert not re.search(rf"(?<!\w){re.escape(claim)}(?!\w)", text), claim
    assert "Mattress" in " ".join(ad.headlines)  # all-caps keyword brought to Title Case, not dropped


def test_avoided_headlines_move_behind_fresh_ones() -> None:
    first = write_rsa("Tents", ["tents"], URL)
    second = write_rsa("Tents", ["tents"], URL, avoid_headlines=first.headlines[:5])
    assert_valid_rsa(second)
    assert set(second.headlines[:5]).isdisjoint(first.headlines[:5])


class BadWriter:
    def __init__(self) -> None:
        self.briefs: list[CreativeBrief] = []

    def __call__(self, brief: CreativeBrief) -> list:
        self.briefs.append(brief)
        return [
            ResponsiveSearchAdCopy(
                headlines=(
                    "Boots Built For Wet Trails",
                    "boots built for wet trails",
                    "Boots Built  For Wet Trails",  # the same asset to Google and the gate
                    "#1 Boots In Town",
                    "A Headline That Is Far Too Long For Google Ads",
                    "FREE BOOTS",
                    "Go!!",
                ),
                descriptions=("Dry feet on every trail, in every season.", "x" * 91),
                path1="waaaaaaaaaaaaaaaay-too-long",
                path2="boots",
                final_url="https://attacker.test",
            ),
            {"type": "responsive_search_ad", "headlines": "not a list"},
            MetaAdCopy(primary_text="wrong platform", headline="Wrong", link_url=URL),
        ]


def test_invalid_writer_output_is_repaired() -> None:
    writer = BadWriter()
    brief = CreativeBrief(
        platform=Platform.GOOGLE_ADS,
        theme="Hiking Boots",
        keywords=("hiking boots",),
        landing_url=URL,
        brand="Trailhead",
    )
    ad = write_copy(brief, writer)
    assert isinstance(ad, ResponsiveSearchAdCopy)
    assert_valid_rsa(ad)
    assert writer.briefs == [brief]
    assert ad.headlines[0] == "Boots Built For Wet Trails"  # the writer's valid asset comes first, once
    assert [asset_key(h) for h in ad.headlines].count("boots built for wet trails") == 1
    assert not any(h in ad.headlines for h in ("#1 Boots In Town", "FREE BOOTS", "Go!!"))
    assert ad.descriptions[0] == "Dry feet on every trail, in every season."
    assert ad.final_url == URL  # the landing page never comes from the writer
    template = write_rsa("Hiking Boots", ["hiking boots"], URL, "Trailhead")
    assert (ad.path1, ad.path2) == (template.path1, template.path2)


def test_meta_writer_output_is_checked_per_field() -> None:
    def writer(brief: CreativeBrief) -> list:
        return [
            MetaAdCopy(
                primary_text="Guaranteed cure for cold feet",
                headline="Warm Boots For Cold Trails",
                description="Order today, wear tomorrow, and be happy",
                link_url="https://attacker.test",
            )
        ]

    brief = CreativeBrief(platform=Platform.META, theme="Winter Boots", landing_url=URL, brand="Trailhead")
    ad = write_copy(brief, writer)
    template = write_meta_ad("Winter Boots", (), URL, "Trailhead")
    assert isinstance(ad, MetaAdCopy)
    assert ad.headline == "Warm Boots For Cold Trails"
    assert ad.primary_text == template.primary_text  # forbidden claim replaced
    assert ad.description == template.description  # 40 chars > 30
    assert ad.link_url == URL


def rsa(*headlines: str) -> ResponsiveSearchAdCopy:
    return ResponsiveSearchAdCopy(headlines=headlines, descriptions=("One.", "Two."), final_url=URL)


def metrics_rows(ad_group_id: str, campaign_id: str, impressions: int, clicks: int, conversions: float = 0.0) -> dict:
    return {
        "date": dt.date(2026, 11, 1),
        "campaign_id": campaign_id,
        "ad_group_id": ad_group_id,
        "impressions": impressions,
        "clicks": clicks,
        "cost": clicks * 1_000_000,
        "conversions": conversions,
        "conversion_value": 0.0,
    }


@pytest.fixture
def google_structure() -> AccountStructure:
    account = Account(
        name="sandbox:t", id="1234567890", display_name="T", platform=Platform.GOOGLE_ADS, brand_terms=("trailhead",)
    )
    groups = [
        ("thin", "c1", "Rain Jackets"),
        ("healthy", "c1", "Hiking Boots"),
        ("low", "c1", "Trail Shoes"),
        ("quiet", "c2", "Tents"),
        ("quiet2", "c2", "Tarps"),
        ("paused_campaign", "c3", "Old"),
    ]
    ads = [Ad(id="a0", ad_group_id="thin", copy=rsa("Rain Jackets", "Stay Dry", "Shop Now"))]
    for group, _, name in groups[1:]:
        ads += [
            Ad(id=f"{group}1", ad_group_id=group, copy=rsa(name, "Shop Now", "Order Today")),
            Ad(id=f"{group}2", ad_group_id=group, copy=rsa(f"Shop {name}", "Browse", "Fast")),
        ]
    return AccountStructure(
        account=account,
        campaigns=(
            Campaign(id="c1", name="Generic", channel="search"),
            Campaign(id="c2", name="Camp", channel="search"),
            Campaign(id="c3", name="Old", channel="search", status="paused"),
        ),
        ad_groups=tuple(AdGroup(id=g, campaign_id=c, name=n) for g, c, n in groups),
        keywords=(
            Keyword(id="k1", ad_group_id="low", text="trail running shoes", match_type=MatchType.PHRASE),
            Keyword(id="k2", ad_group_id="low", text="old keyword", match_type=MatchType.EXACT, status="paused"),
        ),
        ads=tuple(ads),
    )


def test_variants_for_thin_and_low_ctr_ad_groups_only(google_structure: AccountStructure) -> None:
    metrics = pd.DataFrame(
        [
            metrics_rows("thin", "c1", 500, 20),
            metrics_rows("healthy", "c1", 10_000, 500, 12.0),
            metrics_rows("low", "c1", 8_000, 80, 1.0),  # 1.0 % against 5.0 %: clearly lowest
            metrics_rows("quiet", "c2", 900, 2),  # low CTR but under the impression floor
            metrics_rows("quiet2", "c2", 5_000, 150),
            metrics_rows("paused_campaign", "c3", 5_000, 1),
        ]
    )
    changes = propose_creative_variants(google_structure, metrics)
    assert [c.ad_group_id for c in changes] == ["thin", "low"]
    thin, low = changes
    assert all(c.paused and isinstance(c.ad, ResponsiveSearchAdCopy) for c in changes)
    assert_valid_rsa(low.ad)
    assert low.ad.final_url == URL
    assert "Trail Running Shoes" in low.ad.headlines and "Old Keyword" not in low.ad.headlines
    assert set(low.ad.headlines[:3]).isdisjoint({"Trail Shoes", "Shop Trail Shoes"})  # differs from current ads
    assert low.evidence.metrics == {
        "impressions": 8000.0,
        "clicks": 80.0,
        "ctr": 0.01,
        "conversions": 1.0,
        "enabled_ads": 2.0,
    }
    assert "lowest click-through rate" in low.rationale and "1.00%" in low.rationale and "5.00%" in low.rationale
    assert thin.evidence.metrics["enabled_ads"] == 1.0 and "1 enabled ad;" in thin.rationale
    assert low.evidence.period_start == "2026-11-01"
    assert propose_creative_variants(google_structure, metrics, max_changes=1) == [thin]


def test_no_variants_for_healthy_account(google_structure: AccountStructure) -> None:
    healthy = google_structure.model_copy(
        update={"ad_groups": tuple(g for g in google_structure.ad_groups if g.id not in {"thin", "low"})}
    )
    metrics = pd.DataFrame(
        [
            metrics_rows("healthy", "c1", 10_000, 500),
            metrics_rows("quiet", "c2", 4_000, 180),
            metrics_rows("quiet2", "c2", 5_000, 200),
        ]
    )  # 4.5 % vs 4.0 %: within LOW_CTR_RATIO
    assert propose_creative_variants(healthy, metrics) == []


def test_meta_accounts_get_meta_copy_themed_by_ad_set_name() -> None:
    account = Account(name="sandbox:m", id="act_1", display_name="M", platform=Platform.META)
    structure = AccountStructure(
        account=account,
        campaigns=(Campaign(id="mc", name="Prospecting", channel="meta"),),
        ad_groups=(AdGroup(id="as1", campaign_id="mc", name="Ultralight Tents"),),
        ads=(
            Ad(
                id="ad1",
                ad_group_id="as1",
                copy=MetaAdCopy(primary_text="Go light.", headline="Light Tents", link_url="https://shop.test/tents"),
            ),
        ),
    )
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
    [change] = propose_creative_variants(structure, empty)
    assert isinstance(change.ad, MetaAdCopy)
    assert change.ad.link_url == "https://shop.test/tents"
    assert "Ultralight Tents" in change.ad.headline
    assert change.evidence.metrics["impressions"] == 0.0 and change.evidence.period_start is None
