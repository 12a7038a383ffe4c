"""Drafting a profile from an account's structure and queries, when the account holds less than the sandbox."""

from __future__ import annotations

import pandas as pd

from ads.entities import Account, AccountStructure, Ad, AdGroup, Campaign, Keyword, MatchType, Platform
from ads.entities import ResponsiveSearchAdCopy as Rsa
from tools.advertiser_profile import infer_profile

ACCOUNT = Account(name="acme", id="1", display_name="Acme Roofing (Google Ads)", platform=Platform.GOOGLE_ADS)


def terms(*queries: str) -> pd.DataFrame:
    return pd.DataFrame({"search_term": list(queries)})


def test_ad_groups_keywords_and_urls_give_offers_brand_and_landing_pages() -> None:
    copy = Rsa(headlines=("a", "b", "c"), descriptions=("d", "e"), final_url="https://acme.example/repair?gclid=x")
    structure = AccountStructure(
        account=ACCOUNT,
        campaigns=(
            Campaign(id="1", name="Search | Brand", channel="search"),
            Campaign(id="2", name="Search | Roofing - Columbus", channel="search"),
        ),
        ad_groups=(
            AdGroup(id="10", campaign_id="1", name="Acme"),
            AdGroup(id="20", campaign_id="2", name="Roof Repair"),
            AdGroup(id="21", campaign_id="2", name="Ad group 1"),
        ),
        keywords=(
            Keyword(id="100", ad_group_id="10", text="acme roofing", match_type=MatchType.EXACT),
            Keyword(id="101", ad_group_id="10", text="acme roofing reviews", match_type=MatchType.PHRASE),
            Keyword(id="200", ad_group_id="20", text="roof repair", match_type=MatchType.PHRASE),
        ),
        ads=(Ad(id="1000", ad_group_id="20", copy=copy),),
    )
    draft = infer_profile(
        structure, terms("roof repair near me", "acme roofing", "zorbex roof repair", "zorbex repair")
    )
    profile = draft.profile
    assert profile.brand_terms == ("acme roofing",)
    assert profile.offers == ("roof repair",)  # the placeholder ad group is no offer
    assert profile.landing_pages == {"roof repair": "https://acme.example/repair"}  # tracking removed
    assert profile.locations == ("Columbus",) and profile.languages == ("en",)
    assert profile.business == "Acme Roofing: roofing columbus"
    assert [c.name for c in draft.inferred_competitors] == ["zorbex"] and "zorbex" in profile.competitors


def test_an_import_without_ad_groups_falls_back_to_campaign_names_and_the_accounts_brand() -> None:
    structure = AccountStructure(
        account=ACCOUNT.model_copy(update={"brand_terms": ("Acme",)}),
        campaigns=(Campaign(id="1", name="Towing near me", channel="performance_max"),),
    )
    draft = infer_profile(structure, terms())
    assert draft.profile.offers == ("towing near me",) and "campaign names" in draft.evidence["offers"]
    assert draft.profile.brand_terms == ("acme",) and "no brand campaign" in draft.evidence["brand_terms"]
    assert draft.profile.languages == () and "languages" not in draft.evidence
