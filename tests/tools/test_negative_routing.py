"""Routing negatives on hand-made accounts: sculpting, geo campaigns, brand out of generic ones, consistency."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from ads.account_plan import AdvertiserProfile
from ads.changes import AddNegativeKeywords, NegativeBasis, NegativeSpec, QueryEvidence
from ads.entities import (
    Account,
    AccountStructure,
    AdGroup,
    Campaign,
    Keyword,
    MatchType,
    NegativeKeyword,
    Platform,
    ReportPeriod,
    SharedNegativeList,
    Status,
)
from ads.keyword_matching import matches
from policies.gate import GateContext, decide, load_policy
from tools.negative_routing import route_negatives
from tools.query_intent import classify_intents

M = 1_000_000
PERIOD = ReportPeriod(start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 28))
ACCOUNT = Account(
    name="sandbox:test", id="1", display_name="Test", platform=Platform.GOOGLE_ADS, brand_terms=("trailhead",)
)
PROFILE = AdvertiserProfile(offers=("hiking boots", "winter boots", "tents"), brand_terms=("trailhead",))


def structure(
    campaigns: tuple[Campaign, ...],
    groups: tuple[AdGroup, ...],
    keywords: tuple[tuple[str, str, MatchType], ...],
    **more: object,
) -> AccountStructure:
    return AccountStructure(
        account=ACCOUNT,
        campaigns=campaigns,
        ad_groups=groups,
        keywords=tuple(
            Keyword(id=f"k{i}", ad_group_id=group, text=text, match_type=kind)
            for i, (group, text, kind) in enumerate(keywords)
        ),
        **more,  # type: ignore[arg-type]
    )


def report(account: AccountStructure, *rows: tuple[str, str, int, float, float]) -> pd.DataFrame:
    """Rows of (search term, ad group id, clicks, cost in currency units, conversions)."""
    campaign_of = {g.id: g.campaign_id for g in account.ad_groups}
    return pd.DataFrame(
        [
            {
                "search_term": term,
                "campaign_id": campaign_of[group],
                "ad_group_id": group,
                "impressions": clicks * 10,
                "clicks": clicks,
                "cost": round(cost * M),
                "conversions": conversions,
            }
            for term, group, clicks, cost, conversions in rows
        ]
    )


def routed(
    account: AccountStructure, terms: pd.DataFrame, profile: AdvertiserProfile = PROFILE
) -> list[AddNegativeKeywords]:
    changes = route_negatives(terms, account, classify_intents(terms, profile), profile=profile, period=PERIOD)
    for change in changes:
        assert all(k.basis is NegativeBasis.ROUTING for k in change.keywords)
        assert change.evidence.period_start == "2026-10-01" and change.evidence.period_end == "2026-10-28"
    return changes


def proposed(changes: list[AddNegativeKeywords]) -> set[tuple[str, str, str, MatchType]]:
    return {(c.level, c.target_id, k.text, k.match_type) for c in changes for k in c.keywords}


# ---- sculpting ----------------------------------------------------------------------------------

BOOTS = structure(
    (
        Campaign(id="c1", name="Boots", channel="search"),
        Campaign(id="c2", name="Boots PMax", channel="performance_max"),
    ),
    (
        AdGroup(id="g1", campaign_id="c1", name="Boots"),
        AdGroup(id="g2", campaign_id="c1", name="Hiking boots"),
        AdGroup(id="g3", campaign_id="c2", name="All boots"),
    ),
    (("g1", "boots", MatchType.BROAD), ("g2", "hiking boots", MatchType.PHRASE), ("g3", "boots", MatchType.BROAD)),
)


def test_a_query_served_by_a_looser_ad_group_gets_an_exact_negative_there() -> None:
    terms = report(
        BOOTS,
        ("waterproof hiking boots", "g1", 9, 27.0, 0),
        ("waterproof hiking boots", "g2", 4, 10.0, 1),
        ("red boots", "g1", 5, 8.0, 0),  # g1 fits it best: stays
    )
    changes = routed(BOOTS, terms)
    assert proposed(changes) == {("ad_group", "g1", "waterproof hiking boots", MatchType.EXACT)}
    (change,) = changes
    assert "'Boots'" in change.rationale and "'Hiking boots'" in change.rationale
    assert '"hiking boots"' in change.rationale and "9 clicks" in change.rationale
    assert "4 clicks and 1 conversions there" in change.rationale
    assert change.keywords[0].blocks[0].cost == 27 * M


def test_a_query_that_converts_where_it_runs_or_fits_nowhere_better_is_not_routed() -> None:
    terms = report(
        BOOTS,
        ("waterproof hiking boots", "g1", 9, 27.0, 2),  # converts where it is
        ("hiking boots sale", "g2", 9, 27.0, 0),  # already in the best ad group
        ("boots", "g3", 30, 90.0, 0),  # PMax: no search ad group fits better than its own
    )
    assert routed(BOOTS, terms) == []


def test_no_routing_to_a_paused_ad_group_or_across_channels() -> None:
    paused = BOOTS.model_copy(
        update={"ad_groups": (*BOOTS.ad_groups[:1], BOOTS.ad_groups[1].model_copy(update={"status": Status.PAUSED}))}
    )
    terms = report(BOOTS, ("waterproof hiking boots", "g1", 9, 27.0, 0))
    assert routed(paused.model_copy(update={"ad_groups": (*paused.ad_groups, BOOTS.ad_groups[2])}), terms) == []
    # A PMax ad group served the query; the closer keyword is in a search campaign: another channel.
    assert routed(BOOTS, report(BOOTS, ("waterproof hiking boots", "g3", 9, 27.0, 0))) == []


# ---- geo campaigns ------------------------------------------------------------------------------

OHIO = structure(
    (
        Campaign(id="c1", name="Roofing - Columbus", channel="search"),
        Campaign(id="c2", name="Roofing - Cleveland", channel="search"),
    ),
    (AdGroup(id="g1", campaign_id="c1", name="Roof repair"), AdGroup(id="g2", campaign_id="c2", name="Roof repair")),
    (("g1", "roof repair", MatchType.BROAD), ("g2", "roof repair", MatchType.BROAD)),
)
OHIO_PROFILE = AdvertiserProfile(offers=("roof repair",), locations=("Columbus", "Cleveland"))


def test_a_query_naming_another_served_city_gets_a_phrase_negative_of_the_city() -> None:
    terms = report(
        OHIO,
        ("roof repair columbus", "g2", 6, 40.0, 0),
        ("columbus roof repair cost", "g2", 2, 12.0, 0),
        ("roof repair cleveland", "g2", 8, 50.0, 2),
        ("roof repair columbus", "g1", 5, 30.0, 1),
    )
    changes = routed(OHIO, terms, OHIO_PROFILE)
    assert proposed(changes) == {("campaign", "c2", "columbus", MatchType.PHRASE)}
    (change,) = changes
    assert "'Roofing - Columbus' serves Columbus" in change.rationale
    assert change.evidence.metrics["cost"] == 52 * M


def test_when_the_city_phrase_would_block_a_conversion_the_queries_are_excluded_one_by_one() -> None:
    terms = report(
        OHIO,
        ("roof repair columbus", "g2", 6, 40.0, 0),
        ("columbus roof repair cost", "g2", 2, 12.0, 1),  # converted in Cleveland's campaign: stays
    )
    changes = routed(OHIO, terms, OHIO_PROFILE)
    assert proposed(changes) == {("campaign", "c2", "roof repair columbus", MatchType.EXACT)}
    assert not any(
        matches("columbus roof repair cost", k.text, k.match_type, negative=True) for c in changes for k in c.keywords
    )


# ---- brand variants -----------------------------------------------------------------------------

BRANDED = structure(
    (Campaign(id="c1", name="Brand", channel="search"), Campaign(id="c2", name="Generic - Boots", channel="search")),
    (AdGroup(id="g1", campaign_id="c1", name="Trailhead"), AdGroup(id="g2", campaign_id="c2", name="Boots")),
    (("g1", "trailhead", MatchType.PHRASE), ("g2", "boots", MatchType.BROAD)),
)
BRAND_TERMS = (
    ("trailhed boots", "g2", 3, 6.0, 0),
    ("trail head boots", "g2", 2, 4.0, 0),
    ("trailhead boots", "g2", 5, 9.0, 0),
    ("hiking boots", "g2", 10, 20.0, 1),
)


def test_the_brand_and_its_variants_are_kept_out_of_generic_campaigns_when_the_profile_asks() -> None:
    terms = report(BRANDED, *BRAND_TERMS)
    assert routed(BRANDED, terms) == []  # brand_in_generic defaults to true
    changes = routed(BRANDED, terms, PROFILE.model_copy(update={"brand_in_generic": False}))
    assert proposed(changes) == {
        ("campaign", "c2", text, MatchType.PHRASE) for text in ("trailhead", "trailhed", "trail head")
    }
    (change,) = changes
    assert "'Brand' serves it" in change.rationale and 'variant of the brand "trailhead"' in change.rationale


def test_no_brand_negative_where_a_brand_query_converted_or_without_a_brand_campaign() -> None:
    profile = PROFILE.model_copy(update={"brand_in_generic": False})
    terms = report(BRANDED, *BRAND_TERMS[:2], ("trailhead boots", "g2", 5, 9.0, 1))
    assert proposed(routed(BRANDED, terms, profile)) == {
        ("campaign", "c2", text, MatchType.PHRASE) for text in ("trailhed", "trail head")
    }
    no_brand_campaign = BRANDED.model_copy(
        update={"campaigns": (BRANDED.campaigns[0].model_copy(update={"status": Status.PAUSED}), BRANDED.campaigns[1])}
    )
    assert routed(no_brand_campaign, report(BRANDED, *BRAND_TERMS), profile) == []


@pytest.mark.parametrize("text", ["trailhed", "trail head", "trailheadstore", "trailhead"])
def test_the_gate_sends_negatives_naming_a_brand_variant_to_a_person(text: str) -> None:
    blocked = QueryEvidence(search_term=text, clicks=40, impressions=400, cost=40 * M)
    change = AddNegativeKeywords(
        account=ACCOUNT.name,
        rationale="waste",
        level="campaign",
        target_id="c2",
        keywords=(NegativeSpec(text=text, match_type=MatchType.EXACT, blocks=(blocked,)),),
    )
    terms = pd.DataFrame([{"search_term": text, "campaign_id": "c2", "ad_group_id": "g2", **blocked.model_dump()}])
    context = GateContext(policy=load_policy(), account=ACCOUNT, today=dt.date(2026, 11, 1), search_terms=terms)
    decision = decide(change, context)
    assert (decision.outcome, decision.rule) == ("needs_approval", "negatives.brand_term")


def test_the_gate_does_not_read_an_ordinary_word_as_a_brand_misspelling() -> None:
    blocked = QueryEvidence(search_term="trail mix", clicks=40, impressions=400, cost=40 * M)
    change = AddNegativeKeywords(
        account=ACCOUNT.name,
        rationale="waste",
        level="campaign",
        target_id="c2",
        keywords=(NegativeSpec(text="trail mix", match_type=MatchType.EXACT, blocks=(blocked,)),),
    )
    terms = pd.DataFrame(
        [{"search_term": "trail mix", "campaign_id": "c2", "ad_group_id": "g2", **blocked.model_dump()}]
    )
    context = GateContext(policy=load_policy(), account=ACCOUNT, today=dt.date(2026, 11, 1), search_terms=terms)
    assert decide(change, context).rule != "negatives.brand_term"


# ---- consistency across campaigns ---------------------------------------------------------------

THREE = structure(
    (
        Campaign(id="c1", name="Boots", channel="search"),
        Campaign(id="c2", name="Tents", channel="search"),
        Campaign(id="c3", name="Jackets", channel="search"),
    ),
    (
        AdGroup(id="g1", campaign_id="c1", name="Boots"),
        AdGroup(id="g2", campaign_id="c2", name="Tents"),
        AdGroup(id="g3", campaign_id="c3", name="Jackets"),
    ),
    (("g1", "boots", MatchType.BROAD), ("g2", "tents", MatchType.BROAD), ("g3", "jackets", MatchType.BROAD)),
    negatives=(
        NegativeKeyword(id="n1", level="campaign", owner_id="c1", text="jobs", match_type=MatchType.PHRASE),
        NegativeKeyword(id="n2", level="shared_list", owner_id="s1", text="free", match_type=MatchType.PHRASE),
        NegativeKeyword(id="n3", level="campaign", owner_id="c1", text="tents", match_type=MatchType.PHRASE),
    ),
    shared_lists=(SharedNegativeList(id="s1", name="Freebies", campaign_ids=("c1", "c3")),),
)


def test_a_theme_excluded_in_some_campaigns_is_proposed_where_it_still_spends() -> None:
    terms = report(
        THREE,
        ("tent jobs", "g2", 4, 12.0, 0),
        ("free tents", "g2", 3, 9.0, 0),
        ("jacket jobs", "g3", 2, 5.0, 0),
        ("jobs boots", "g3", 1, 0.0, 0),  # no cost: nothing to save
        ("tents", "g2", 20, 60.0, 3),  # excluded in Boots to route it, on offer here: stays
    )
    changes = routed(THREE, terms)
    assert proposed(changes) == {
        ("campaign", "c2", "jobs", MatchType.PHRASE),
        ("campaign", "c2", "free", MatchType.PHRASE),
        ("campaign", "c3", "jobs", MatchType.PHRASE),
    }
    rationale = " ".join(c.rationale for c in changes)
    assert "in 'Boots' (campaign negatives)" in rationale
    assert "in 'Boots', 'Jackets' (shared list 'Freebies')" in rationale
    assert "intent: jobs" in rationale
