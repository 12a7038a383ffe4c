"""New ad groups from hand-made themes: found for an uncovered converting product, never for the others."""

from __future__ import annotations

import pandas as pd

from ads.entities import (
    Account,
    AccountStructure,
    Ad,
    AdGroup,
    Campaign,
    Keyword,
    MatchType,
    Platform,
    ResponsiveSearchAdCopy,
)
from ads.keyword_matching import matches
from ads.limits import limit
from tools.ad_groups import propose_ad_groups
from tools.query_clusters import ClusteringResult, QueryCluster

M = 1_000_000
ACCOUNT = Account(
    name="sandbox:test", id="1", display_name="Test", platform=Platform.GOOGLE_ADS, brand_terms=("trailhead",)
)
AD = ResponsiveSearchAdCopy(
    headlines=("Hiking Boots", "Free Returns", "Shop Now"),
    descriptions=("Boots for every trail.", "Order today."),
    final_url="https://shop.test/boots",
)
STRUCTURE = AccountStructure(
    account=ACCOUNT,
    campaigns=(
        Campaign(id="c1", name="Footwear", channel="search"),
        Campaign(id="c2", name="Gear", channel="search"),
        Campaign(id="p1", name="PMax", channel="performance_max"),
    ),
    ad_groups=(
        AdGroup(id="g1", campaign_id="c1", name="Hiking boots"),
        AdGroup(id="g2", campaign_id="c2", name="Tents"),
    ),
    keywords=(
        Keyword(id="k1", ad_group_id="g1", text="hiking boots", match_type=MatchType.PHRASE),
        Keyword(id="k2", ad_group_id="g2", text="tent", match_type=MatchType.PHRASE),
    ),
    ads=(Ad(id="a1", ad_group_id="g1", copy=AD),),
)
GROUP_CAMPAIGN = {"g1": "c1", "g2": "c2", "pg": "p1"}

# theme id → (theme name, top terms, queries as (term, ad group, clicks, cost, conversions))
RUNNING = (
    "trail running shoes",
    ["trail running", "running shoes", "women"],
    [
        ("trail running shoes", "g1", 30, 30, 3),
        ("trail running shoes women", "g1", 20, 20, 2),
        ("best trail running shoes", "g1", 20, 20, 2),
        ("trail running shoe sale", "g2", 10, 10, 1),
        ("waterproof trail running shoes", "g1", 10, 10, 1),
        ("trail runners", "g1", 10, 10, 1),
        ("cheap trail running shoes", "g1", 10, 10, 0),
    ],
)
COVERED = (
    "hiking boots",
    ["hiking boots"],
    [
        ("hiking boots", "g1", 40, 40, 4),
        ("hiking boots men", "g1", 20, 20, 2),
        ("waterproof hiking boots", "g1", 20, 20, 2),
        ("hiking boot sale", "g1", 20, 20, 2),
        ("best hiking boot", "g1", 20, 20, 2),
        ("mens hiking boots", "g1", 20, 20, 2),
    ],
)
WASTE = (
    "boot jobs",
    ["jobs"],
    [
        ("boot factory jobs", "g1", 20, 40, 0),
        ("boot store jobs", "g1", 20, 40, 0),
        ("jobs at boot shop", "g1", 20, 40, 0),
        ("boot jobs near me", "g1", 20, 40, 0),
        ("boot maker jobs", "g1", 20, 40, 0),
    ],
)
BRAND = (
    "trailhead",
    ["trailhead"],
    [
        ("trailhead", "g1", 40, 10, 4),
        ("trailhead store", "g1", 20, 5, 2),
        ("trailhead outlet", "g1", 20, 5, 2),
        ("trailhead discount code", "g1", 20, 5, 2),
        ("trailhead opening hours", "g1", 20, 5, 2),
    ],
)
COMPETITOR = (
    "acme vs",
    ["acme vs", "vs"],
    [
        ("acme vs salomon", "g1", 20, 20, 2),
        ("salomon vs acme shoes", "g1", 20, 20, 2),
        ("acme vs merrell", "g1", 20, 20, 2),
        ("merrell vs salomon", "g1", 20, 20, 2),
        ("acme shoes vs salomon shoes", "g1", 20, 20, 2),
    ],
)


def case(
    *themes: tuple[str, list[str], list[tuple[str, str, int, float, float]]],
) -> tuple[pd.DataFrame, ClusteringResult]:
    rows, assignments, clusters = [], [], []
    for cluster_id, (name, top_terms, queries) in enumerate(themes):
        for term, group, clicks, cost, conversions in queries:
            rows.append(
                {
                    "search_term": term,
                    "campaign_id": GROUP_CAMPAIGN[group],
                    "campaign_name": "",
                    "ad_group_id": group,
                    "ad_group_name": "",
                    "keyword": "",
                    "match_type": "",
                    "impressions": clicks * 10,
                    "clicks": clicks,
                    "cost": round(cost * M),
                    "conversions": conversions,
                    "conversion_value": 0.0,
                }
            )
            assignments.append({"search_term": term, "cluster_id": cluster_id})
        clusters.append(
            QueryCluster(
                id=cluster_id,
                name=name,
                top_terms=top_terms,
                size=len(queries),
                impressions=0,
                clicks=0,
                cost=0,
                conversions=0,
            )
        )
    return pd.DataFrame(rows), ClusteringResult(
        backend="tfidf", clusters=clusters, assignments=pd.DataFrame(assignments)
    )


def test_uncovered_converting_theme_becomes_an_ad_group() -> None:
    terms, clusters = case(RUNNING)
    [change] = propose_ad_groups(terms, clusters, STRUCTURE)
    assert change.name == "Trail Running Shoes" and change.paused
    assert (change.campaign_id, change.campaign_name) == ("c1", "Footwear")  # most of the theme's cost
    keywords = [(k.text, k.match_type) for k in change.keywords]
    assert 5 <= len(keywords) <= 20
    # Phrase match for the shortest heads, exact for every head; no report has modifiers below 8 clusters.
    assert [k for k in keywords if k[1] is MatchType.PHRASE] == [
        ("trail running shoes", MatchType.PHRASE),
        ("trail runners", MatchType.PHRASE),
    ]
    assert ("trail running shoes", MatchType.EXACT) in keywords and ("trail runners", MatchType.EXACT) in keywords
    assert {m for _, m in keywords} <= {MatchType.EXACT, MatchType.PHRASE}
    assert not any(matches(text, "hiking boots", MatchType.PHRASE, negative=False) for text, _ in keywords)
    assert change.ad.final_url == "https://shop.test/boots"
    assert 3 <= len(change.ad.headlines) <= 15
    assert all(len(h) <= limit("rsa_headline_max_chars") for h in change.ad.headlines)
    assert change.evidence.metrics["conversions"] == 10 and change.evidence.metrics["cost"] == 110 * M
    assert change.evidence.queries[0].search_term == "trail running shoes"
    assert "10 conversions" in change.rationale and "110.00 USD" in change.rationale
    assert "no campaign's name fits" in change.rationale


def test_covered_wasteful_brand_and_competitor_themes_are_not_ad_groups() -> None:
    terms, clusters = case(COVERED, WASTE, BRAND, COMPETITOR)
    assert propose_ad_groups(terms, clusters, STRUCTURE) == []


def test_brand_and_competitor_themes_are_rejected_for_that_reason() -> None:
    terms, clusters = case(BRAND)
    unbranded = STRUCTURE.model_copy(update={"account": ACCOUNT.model_copy(update={"brand_terms": ()})})
    assert [c.name for c in propose_ad_groups(terms, clusters, unbranded)] == ["Trailhead"]
    no_comparison = (
        "acme salomon",
        ["acme"],
        [(t.replace(" vs ", " "), g, c, k, v) for t, g, c, k, v in COMPETITOR[2]],
    )
    terms, clusters = case(no_comparison)
    assert [c.name for c in propose_ad_groups(terms, clusters, STRUCTURE)] == [
        "Acme Salomon"
    ]  # no "salomons" typed: no invented plural
    assert propose_ad_groups(terms, clusters, STRUCTURE, competitor_terms=["salomon"]) == []


def test_theme_is_found_among_others_and_explicit_url_wins() -> None:
    terms, clusters = case(COVERED, WASTE, RUNNING, BRAND)
    changes = propose_ad_groups(terms, clusters, STRUCTURE, final_url="https://shop.test/running")
    assert [(c.name, c.ad.final_url) for c in changes] == [("Trail Running Shoes", "https://shop.test/running")]


def test_overlap_with_an_existing_ad_group_is_rejected() -> None:
    # One exact keyword of another ad group covers a small share of the theme (< 30 % of its cost) but the
    # new phrase keyword "trail running" would take its traffic: cannibalisation.
    trail = (
        AdGroup(id="g3", campaign_id="c1", name="Trail shoes"),
        Keyword(id="k3", ad_group_id="g3", text="trail runners", match_type=MatchType.EXACT),
    )
    structure = STRUCTURE.model_copy(
        update={"ad_groups": (*STRUCTURE.ad_groups, trail[0]), "keywords": (*STRUCTURE.keywords, trail[1])}
    )
    terms, clusters = case(RUNNING)
    assert len(propose_ad_groups(terms, clusters, structure)) == 1
    overlapping = structure.model_copy(
        update={"keywords": (*STRUCTURE.keywords, trail[1].model_copy(update={"text": "best trail running shoes"}))}
    )
    assert propose_ad_groups(terms, clusters, overlapping) == []


def test_duplicate_name_is_rejected() -> None:
    named = STRUCTURE.model_copy(
        update={"ad_groups": (*STRUCTURE.ad_groups, AdGroup(id="g3", campaign_id="c2", name="Trail Running Shoes"))}
    )
    terms, clusters = case(RUNNING)
    assert propose_ad_groups(terms, clusters, named) == []


def test_no_search_campaign_or_url_means_no_proposal() -> None:
    terms, clusters = case(RUNNING)
    no_ads = STRUCTURE.model_copy(update={"ads": ()})
    assert propose_ad_groups(terms, clusters, no_ads) == []
    in_pmax = terms.assign(campaign_id="p1", ad_group_id="pg")
    assert propose_ad_groups(in_pmax, clusters, STRUCTURE) == []


def test_a_second_theme_with_the_same_keywords_is_not_proposed_twice() -> None:
    again = ("trail running shoes / sale", RUNNING[1], [(f"{t} uk", g, c, k, v) for t, g, c, k, v in RUNNING[2]])
    terms, clusters = case(RUNNING, again)
    assert len(propose_ad_groups(terms, clusters, STRUCTURE)) == 1


# Eight products with shopping modifiers in every cluster, none converting: they make "best", "sale", "near"
# and "me" modifiers, and are never proposed themselves.
FILLER = [
    (
        f"{product}",
        [product],
        [(f"best {product}", "g2", 5, 5, 0), (f"{product} sale", "g2", 5, 5, 0), (f"{product} near me", "g2", 5, 5, 0)],
    )
    for product in ("lantern", "cooler", "hammock", "compass", "whistle", "carabiner", "mug", "towel")
]
# Headlamps, split over two clusters as clustering may do, with a modified long tail and one waste head.
HEADLAMP = (
    "headlamp",
    ["headlamp"],
    [
        ("best headlamp", "g2", 20, 20, 3),
        ("headlamp sale", "g2", 10, 10, 2),
        ("headlamp near me", "g2", 10, 10, 1),
        ("best rechargeable headlamp sale", "g2", 10, 10, 2),
        ("rechargeable headlamp", "g2", 5, 5, 1),
        ("free headlamp", "g2", 10, 10, 0),
    ],
)
LED = (
    "led headlamp",
    ["led"],
    [
        ("led headlamp", "g2", 10, 10, 2),
        ("best led headlamp near me", "g2", 10, 10, 2),
        ("hiking headlamp sale", "g2", 10, 10, 1),
        ("hiking headlamp", "g1", 5, 5, 0),
    ],
)


def test_clusters_of_one_product_merge_into_one_group_on_its_head_terms() -> None:
    terms, clusters = case(*FILLER, HEADLAMP, LED)
    [change] = propose_ad_groups(terms, clusters, STRUCTURE)
    assert change.name == "Headlamp"  # the heaviest shortest head; nobody typed "headlamps", so no plural
    assert [(k.text, k.match_type) for k in change.keywords] == [
        ("headlamp", MatchType.PHRASE),
        ("headlamp", MatchType.EXACT),
        ("led headlamp", MatchType.EXACT),
        ("rechargeable headlamp", MatchType.EXACT),
        ("hiking headlamp", MatchType.EXACT),
    ]
    assert change.evidence.metrics["conversions"] == 14 and change.evidence.metrics["queries"] == 10
    # No campaign is named for headlamps: the one with most of the cost (c2), and the rationale says so.
    assert change.campaign_id == "c2" and "no campaign's name fits" in change.rationale


def test_a_campaign_whose_name_fits_wins_over_the_one_that_spent_most() -> None:
    lights = Campaign(id="c3", name="Lights & Lamps", channel="search")
    structure = STRUCTURE.model_copy(update={"campaigns": (*STRUCTURE.campaigns, lights)})
    terms, clusters = case(*FILLER, HEADLAMP, LED)
    assert [c.campaign_id for c in propose_ad_groups(terms, clusters, structure)] == ["c2"]  # "lamp" ≠ "headlamp"
    headlamps = lights.model_copy(update={"name": "Search | Headlamps"})
    structure = STRUCTURE.model_copy(update={"campaigns": (*STRUCTURE.campaigns, headlamps)})
    [change] = propose_ad_groups(terms, clusters, structure)
    assert change.campaign_id == "c3" and "whose name fits the theme" in change.rationale
    brand = headlamps.model_copy(update={"id": "c4", "name": "Brand | Headlamps"})
    brand_group = AdGroup(id="g4", campaign_id="c4", name="Trailhead")
    structure = STRUCTURE.model_copy(
        update={
            "campaigns": (*STRUCTURE.campaigns, brand),
            "ad_groups": (*STRUCTURE.ad_groups, brand_group),
            "keywords": (
                *STRUCTURE.keywords,
                Keyword(id="k4", ad_group_id="g4", text="trailhead", match_type=MatchType.EXACT),
            ),
        }
    )
    assert [c.campaign_id for c in propose_ad_groups(terms, clusters, structure)] == ["c2"]  # never a brand campaign


def test_a_product_the_account_already_sells_is_not_a_new_group() -> None:
    # "headlamp" ends an existing keyword: the uncovered headlamp queries belong in that ad group. The
    # group's other keywords keep the keyword overlap under the bar, so only this rule refuses it.
    lights = AdGroup(id="g3", campaign_id="c2", name="Lights")
    texts = ("ultralight headlamp", "lantern stand", "camp light", "fairy lights", "lamp oil", "light bulbs")
    lamps = [Keyword(id=f"k{i + 3}", ad_group_id="g3", text=t, match_type=MatchType.EXACT) for i, t in enumerate(texts)]
    terms, clusters = case(*FILLER, HEADLAMP, LED)
    others = STRUCTURE.model_copy(
        update={"ad_groups": (*STRUCTURE.ad_groups, lights), "keywords": (*STRUCTURE.keywords, *lamps[1:])}
    )
    assert len(propose_ad_groups(terms, clusters, others)) == 1
    selling = others.model_copy(update={"keywords": (*STRUCTURE.keywords, *lamps)})
    assert propose_ad_groups(terms, clusters, selling) == []


def test_cost_per_conversion_is_judged_against_non_brand_queries() -> None:
    # Brand converts at a tenth of the price: against the whole account the running theme costs 2.6x the
    # average and would be refused; against non-brand queries it is the average.
    cheap_brand = (BRAND[0], BRAND[1], [(t, g, c, k, v * 10) for t, g, c, k, v in BRAND[2]])
    terms, clusters = case(RUNNING, cheap_brand)
    assert [c.name for c in propose_ad_groups(terms, clusters, STRUCTURE)] == ["Trail Running Shoes"]


def test_a_near_duplicate_name_is_rejected() -> None:
    named = STRUCTURE.model_copy(
        update={"ad_groups": (*STRUCTURE.ad_groups, AdGroup(id="g3", campaign_id="c2", name="Trail-Running Shoe"))}
    )
    terms, clusters = case(RUNNING)
    assert propose_ad_groups(terms, clusters, named) == []


def test_the_account_final_url_and_landing_pages_give_a_url_when_no_ad_has_one() -> None:
    terms, clusters = case(RUNNING)
    no_ads = STRUCTURE.model_copy(update={"ads": ()})
    with_url = no_ads.model_copy(update={"account": ACCOUNT.model_copy(update={"final_url": "https://shop.test/"})})
    [change] = propose_ad_groups(terms, clusters, with_url)
    assert change.ad.final_url == "https://shop.test/"
    pages = {"trail running shoes": "https://shop.test/trail", "tents": "https://shop.test/tents"}
    [change] = propose_ad_groups(terms, clusters, with_url, landing_pages=pages)
    assert change.ad.final_url == "https://shop.test/trail"


# A town the gazetteer does not know, a city it does, and "near": converting queries that name no product.
PLACES = [
    (
        name,
        [name],
        [(f"{name}", "g2", 20, 20, 3)]
        + [(f"{name} {other}", "g2", 10, 10, 1) for other in ("oh", "ohio", "44101", "2025", "area")],
    )
    for name in ("millbrook", "houston", "near")
]


def test_a_theme_of_a_place_or_a_stop_word_is_never_an_ad_group() -> None:
    terms, clusters = case(*FILLER, *PLACES)
    # Only the town the gazetteer lacks passes on its own; the profile's served locations name it a place.
    assert [c.name for c in propose_ad_groups(terms, clusters, STRUCTURE)] == ["Millbrook"]
    assert propose_ad_groups(terms, clusters, STRUCTURE, served_places=("Millbrook", "Ohio")) == []
    # A served place in the plural form people type is the place too, not a product.
    plural = [(t.replace("millbrook", "millbrooks"), g, c, k, v) for t, g, c, k, v in PLACES[0][2]]
    terms, clusters = case(*FILLER, ("millbrooks", ["millbrooks"], plural))
    assert propose_ad_groups(terms, clusters, STRUCTURE, served_places=("Millbrooks",)) == []


def test_keywords_a_typo_away_from_an_existing_group_s_overlap_it() -> None:
    terms, clusters = case(RUNNING)
    typo = (
        AdGroup(id="g3", campaign_id="c1", name="Running"),
        Keyword(id="k3", ad_group_id="g3", text="trail runing shoes", match_type=MatchType.EXACT),
    )
    structure = STRUCTURE.model_copy(
        update={"ad_groups": (*STRUCTURE.ad_groups, typo[0]), "keywords": (*STRUCTURE.keywords, typo[1])}
    )
    # no keyword matching says the typo covers "trail running shoes"; the similarity of the two texts does
    assert not matches("trail running shoes", "trail runing shoes", MatchType.EXACT, negative=False)
    assert propose_ad_groups(terms, clusters, structure) == []
    unlike = typo[1].model_copy(update={"text": "road racing flats"})
    structure = structure.model_copy(update={"keywords": (*STRUCTURE.keywords, unlike)})
    assert [c.name for c in propose_ad_groups(terms, clusters, structure)] == ["Trail Running Shoes"]


def test_an_imported_ad_group_without_keywords_bids_on_its_name() -> None:
    terms, clusters = case(RUNNING)
    # An import names its ad groups but not their keywords; this one is no near-duplicate by name alone.
    imported = STRUCTURE.model_copy(
        update={
            "ad_groups": (*STRUCTURE.ad_groups, AdGroup(id="g3", campaign_id="c1", name="Best Trail Running Shoes"))
        }
    )
    assert propose_ad_groups(terms, clusters, imported) == []
    elsewhere = imported.model_copy(
        update={"ad_groups": (*STRUCTURE.ad_groups, AdGroup(id="g3", campaign_id="c1", name="Road Racing Flats"))}
    )
    assert [c.name for c in propose_ad_groups(terms, clusters, elsewhere)] == ["Trail Running Shoes"]
