from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from ads.ad_copy import CopyTextRules, rsa_problems
from ads.changes import SourceRef
from ads.entities import (
    ASSET_LABEL_COLUMNS,
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
    Status,
)
from ads.name_matching import NameMatcher
from policies.copy_rules import check_ad_copy, text_rules
from policies.gate import load_policy
from tests.tools.test_creative_tests import CLEAR
from tests.tools.test_creative_tests import metrics as ad_metrics
from tools.brand_kit import BrandKit, parse_brand_kit
from tools.copy_grounding import ClaimChecker, build_index
from tools.creative_tests import evaluate_creative_tests
from tools.creatives import (
    CopyGrounds,
    CreativeBrief,
    DraftAsset,
    propose_creative_variants,
    theme_page,
    write_copy,
    write_rsa,
)

URL = "https://shop.test/trail-shoes"
GUIDE = """
brand: Trailhead
tone: Plain and practical.
words_to_avoid: [cheap]
competitors: [Summit Supply]
claims:
  - {claim: "Free Shipping Over $50", proof: "Shipping policy: free standard delivery over $50."}
  - {claim: "Lightest Shoe We Sell", proof: "Catalogue weights: 210 g, lightest of 40 models."}
  - {claim: "Easy 60-Day Returns", proof: "Returns policy: 60 days."}
"""
FEED = (
    "id\ttitle\tdescription\tlink\tprice\tsale_price\tavailability\tbrand\tproduct_type\n"
    f"s1\tRidge GTX Trail Shoe\tThe Ridge GTX Trail Shoe has a rock plate, a grippy outsole and a 6 mm drop.\t{URL}"
    "\t129.00 USD\t\tin_stock\tTrailhead\tShoes > Trail\n"
    f"s2\tCairn Trail Shoe\tThe Cairn Trail Shoe has a wide toe box and recycled laces.\t{URL}\t99.00 USD\t79.00 USD"
    "\tin_stock\tTrailhead\tShoes > Trail\n"
    "t1\tAlder Tent\tThe Alder Tent has two doors and taped seams.\thttps://shop.test/tents\t249.00 USD\t\tin_stock"
    "\tTrailhead\tTents\n"
)
PAGE = (
    "<html><head><title>Trail shoes</title></head><body><nav>Home | Sale | Stores</nav><main><h1>Trail shoes</h1>"
    "<p>Our trail running shoes are chosen by staff who run every weekend and listed with what they do.</p>"
    "</main><footer>Cookie settings</footer></body></html>"
)
FILES = {"brand_guide.yaml": GUIDE.encode(), "feed.tsv": FEED.encode(), "pages/trail-shoes.html": PAGE.encode()}
POLICY = load_policy()


@pytest.fixture(scope="module")
def kit() -> BrandKit:
    return parse_brand_kit(FILES, where="kit")


def grounds(kit: BrandKit, rules: CopyTextRules | None = None, competitors: tuple[str, ...] = ()) -> CopyGrounds:
    return CopyGrounds(
        kit=kit,
        index=build_index(kit, embeddings=False),
        rules=rules or text_rules(POLICY),
        competitors=competitors,
    )


def chunk(kit: BrandKit, text: str):  # noqa: ANN201 - the chunk whose text starts with `text`
    return next(c for c in kit.chunks if c.text.startswith(text))


def test_claim_without_source_is_refused_and_numbers_must_match_a_source(kit: BrandKit) -> None:
    checker = ClaimChecker.for_kit(kit, CopyTextRules(), ())
    ridge = chunk(kit, "Ridge GTX")
    assert checker.problems("Ridge GTX Trail Shoe, $129", [ridge]) == []
    assert checker.problems("Ridge GTX Trail Shoe, $119", [ridge]) == ["states 119, which no source gives"]
    assert checker.problems("Save 25% On Trail Shoes", [ridge]) == [
        "states 25, which no source gives",
        'announces an offer ("Save") that no source gives',
    ]
    assert checker.problems("Trail Shoes Sale", [ridge]) == ['announces an offer ("Sale") that no source gives']
    assert checker.problems("Cairn Trail Shoe On Sale", [chunk(kit, "Cairn")]) == []  # the feed's sale price
    assert checker.problems("Waterproof Trail Shoes", []) == ["states something with no source in the brand kit"]
    assert checker.problems("Lightest Trail Shoe", [ridge]) == ['says "Lightest" with no proof in the brand guide']
    assert checker.problems("Lightest Shoe We Sell", [chunk(kit, "Lightest")]) == []
    assert checker.problems("Free Shipping On Shoes", [ridge]) == [
        "promises free shipping, which the brand guide does not"
    ]
    assert checker.problems("Free Shipping Over $50", [chunk(kit, "Free Shipping")]) == []
    assert checker.problems("Shop Now", [], generic=True) == []
    assert checker.problems("Shop Now From $5", [], generic=True) == [
        "is marked generic but states more than a call to action"
    ]
    assert checker.problems("Cheap Trail Shoes", [ridge]) == ['uses "cheap", which copy must not']


def brief(kit: BrandKit, g: CopyGrounds, **fields: object) -> CreativeBrief:
    from tools.creatives import _facts

    values: dict[str, object] = {
        "platform": Platform.GOOGLE_ADS,
        "theme": "Trail Shoes",
        "keywords": ("trail shoe",),
        "landing_url": URL,
        "brand": kit.guide.brand,
    }
    values.update(fields)
    values["facts"] = _facts(g, " ".join([str(values["theme"]), *values["keywords"]]), URL)  # type: ignore[misc]
    return CreativeBrief.model_validate(values)


def test_writer_assets_with_unsupported_claims_or_unknown_sources_are_dropped(kit: BrandKit) -> None:
    g = grounds(kit)
    ridge = SourceRef(doc="feed.tsv", chunk=0)

    def writer(_: CreativeBrief) -> list[DraftAsset]:
        return [
            DraftAsset(field="headline", text="Ridge Shoe, Half Price $64", sources=(ridge,)),  # no such price
            DraftAsset(field="headline", text="Rock Plate Trail Shoe", sources=(SourceRef(doc="x.tsv", chunk=9),)),
            DraftAsset(field="headline", text="The Best Trail Shoe", sources=(ridge,)),  # superlative, no proof
            DraftAsset(field="headline", text="Trail Shoes That Grip"),  # a claim with no source
            DraftAsset(field="headline", text="Ridge GTX, Only $129", sources=(ridge,)),
        ]

    ad = write_copy(brief(kit, g), g, writer)
    assert ad is not None and isinstance(ad.copy_, ResponsiveSearchAdCopy)
    assert ad.copy_.headlines[0] == "Ridge GTX, Only $129"
    assert not {"Ridge Shoe, Half Price $64", "Rock Plate Trail Shoe", "The Best Trail Shoe"} & set(ad.copy_.headlines)
    assert "Trail Shoes That Grip" not in ad.copy_.headlines
    assert rsa_problems(ad.copy_) == [] and check_ad_copy(ad.copy_, POLICY) == []
    checker = g.checker()
    for asset in ad.assets:
        assert asset.sources or asset.generic, asset
        sources = [kit.chunk(s.doc, s.chunk) for s in asset.sources]
        assert checker.problems(asset.text, [s for s in sources if s], generic=asset.generic) == []
    assert "$129" in " ".join(ad.copy_.headlines) and "$79" in " ".join(ad.copy_.headlines)  # prices from the feed


def test_copy_rules_come_from_the_policy(kit: BrandKit) -> None:
    # The default policy forbids "free shipping": the guide's claim stays out of the copy.
    strict = grounds(kit)
    ad = write_copy(brief(kit, strict), strict)
    assert ad is not None and "Free Shipping Over $50" not in ad.copy_.headlines  # type: ignore[union-attr]
    allowing = POLICY.model_copy(
        update={"ad_copy": POLICY.ad_copy.model_copy(update={"allowed_claims": ("free shipping",)})}
    )
    loose = grounds(kit, text_rules(allowing))
    ad = write_copy(brief(kit, loose), loose)
    assert ad is not None and "Free Shipping Over $50" in ad.copy_.headlines  # type: ignore[union-attr]
    # "GTX" is 3 capitals: over a 2-letter caps limit unless the policy lists it as an acronym.
    shouting = POLICY.model_copy(update={"ad_copy": POLICY.ad_copy.model_copy(update={"max_caps_letters": 2})})
    capped = grounds(kit, text_rules(shouting))
    ad = write_copy(brief(kit, capped), capped)
    assert ad is not None and not any("GTX" in a.text for a in ad.assets)
    acronym = shouting.model_copy(
        update={"ad_copy": shouting.ad_copy.model_copy(update={"allowed_acronyms": ("GTX",)})}
    )
    allowed = grounds(kit, text_rules(acronym))
    ad = write_copy(brief(kit, allowed), allowed)
    assert ad is not None and any("GTX" in a.text for a in ad.assets)


def metrics_rows(ad_group_id: str, campaign_id: str, impressions: int, clicks: int) -> dict[str, object]:
    return {
        "date": dt.date(2026, 11, 1),
        "campaign_id": campaign_id,
        "ad_group_id": ad_group_id,
        "impressions": impressions,
        "clicks": clicks,
        "cost": clicks * 1_000_000,
        "conversions": 0.0,
        "conversion_value": 0.0,
    }


def rsa(*headlines: str) -> ResponsiveSearchAdCopy:
    return ResponsiveSearchAdCopy(headlines=headlines, descriptions=("One.", "Two."), final_url=URL)


def google_structure() -> AccountStructure:
    account = Account(name="sandbox:t", id="1234567890", display_name="T", platform=Platform.GOOGLE_ADS)
    groups = [("shoes", "c1", "Trail Shoes"), ("rival", "c2", "Summit Supply"), ("other", "c2", "Ridgeline Co")]
    keywords = [
        ("shoes", "trail shoe"),
        ("rival", "summit supply"),
        ("rival", "summit supply trail shoes"),
        ("other", "ridgeline co"),
    ]
    return AccountStructure(
        account=account,
        campaigns=(
            Campaign(id="c1", name="Generic", channel="search"),
            Campaign(id="c2", name="Competitors", channel="search"),
        ),
        ad_groups=tuple(AdGroup(id=g, campaign_id=c, name=n) for g, c, n in groups),
        keywords=tuple(
            Keyword(id=f"k{i}", ad_group_id=g, text=t, match_type=MatchType.PHRASE) for i, (g, t) in enumerate(keywords)
        ),
        ads=tuple(Ad(id=f"a{g}", ad_group_id=g, copy=rsa(n, "Shop Now", "Order Today")) for g, _, n in groups),
    )


def test_competitor_names_never_reach_copy(kit: BrandKit) -> None:
    # Summit Supply comes from the brand guide, Ridgeline Co from the profile or the queries.
    g = grounds(kit, competitors=("Ridgeline Co",))
    metrics = pd.DataFrame([metrics_rows("shoes", "c1", 500, 20), metrics_rows("rival", "c2", 500, 5)])

    def writer(_: CreativeBrief) -> list[DraftAsset]:
        return [
            DraftAsset(
                field="headline", text="Better Than Summit Supply", sources=(SourceRef(doc="feed.tsv", chunk=0),)
            )
        ]

    changes = propose_creative_variants(google_structure(), metrics, g, writer=writer)
    assert {c.ad_group_id for c in changes} == {"shoes", "rival", "other"}
    names = NameMatcher(["Summit Supply", "Ridgeline Co"])
    for change in changes:
        for asset in change.assets:
            assert names.find(asset.text) is None, asset.text
            assert asset.sources or asset.generic
    rival = next(c for c in changes if c.ad_group_id == "rival")
    assert isinstance(rival.ad, ResponsiveSearchAdCopy) and "Trailhead" in rival.ad.headlines  # about the advertiser
    assert rival.ad.path1.casefold() == "trailhead"


def test_meta_copy_never_uses_the_audience_name(kit: BrandKit) -> None:
    account = Account(name="sandbox:m", id="act_1", display_name="M", platform=Platform.META)
    structure = AccountStructure(
        account=account,
        campaigns=(Campaign(id="mc", name="Prospecting | Trail Shoes", channel="meta"),),
        ad_groups=(AdGroup(id="as1", campaign_id="mc", name="Trail Shoe Runners Interest"),),
        ads=(
            Ad(
                id="ad1",
                ad_group_id="as1",
                copy=MetaAdCopy(primary_text="Run light on rough trails.", headline="Trail Shoes", link_url=URL),
            ),
        ),
    )
    [change] = propose_creative_variants(structure, pd.DataFrame([metrics_rows("as1", "mc", 100, 2)]), grounds(kit))
    assert isinstance(change.ad, MetaAdCopy) and change.ad.link_url == URL
    texts = [change.ad.primary_text, change.ad.headline, change.ad.description]
    assert not any("interest" in t.casefold() or "runners" in t.casefold() for t in texts)
    assert any("Trail Shoe" in t for t in texts)  # the product, from the feed
    assert all(a.sources or a.generic for a in change.assets)


def test_no_proposal_when_the_kit_has_too_few_facts() -> None:
    bare = parse_brand_kit({"brand_guide.yaml": b"brand: Trailhead\n"}, where="kit")
    metrics = pd.DataFrame([metrics_rows("shoes", "c1", 500, 20)])
    assert propose_creative_variants(google_structure(), metrics, grounds(bare)) == []


def test_a_product_on_sale_is_offered_at_its_sale_price() -> None:
    # The Cairn Trail Shoe sells at 79.00 USD, down from 99.00: no asset may offer it "from" the old price.
    kit = parse_brand_kit(
        {**FILES, "feed.tsv": "\n".join(FEED.splitlines()[:1] + FEED.splitlines()[2:3]).encode()}, where="kit"
    )
    g = grounds(kit)
    ad = write_copy(brief(kit, g, keywords=("cairn trail shoe",)), g)
    assert ad is not None
    texts = [a.text for a in ad.assets]
    assert any("$79" in t for t in texts)
    assert not any("From $99" in t for t in texts), texts
    assert all("$79" in t for t in texts if "$99" in t)  # the old price only beside the new one


def test_a_new_ad_group_gets_copy_only_from_facts_about_its_theme(kit: BrandKit) -> None:
    # The tent sits on the page the group would use, and retrieval finds it for "tent stakes", but it is a tent,
    # not stakes (the feed has none): the draft stays keywords and calls to action.
    g = grounds(kit)
    stakes = write_rsa("Tent Stakes", ["tent stakes", "titanium tent stakes"], "https://shop.test/tents", g)
    assert stakes.assets == ()
    assert not any("Alder" in t for t in (*stakes.copy_.headlines, *stakes.copy_.descriptions))
    # A theme the feed carries: copy from its products, each asset with its own chunk, the tent never cited.
    shoes = write_rsa("Trail Shoes", ["trail shoes", "trail running shoes"], "https://shop.test/tents", g)
    tent = next(c for c in kit.chunks if c.product_id == "t1")
    cited = {(s.doc, s.chunk) for a in shoes.assets for s in a.sources}
    assert shoes.assets and (tent.doc, tent.chunk) not in cited
    assert any("Ridge GTX Trail Shoe" in a.text or "Cairn Trail Shoe" in a.text for a in shoes.assets)
    assert all(a.sources or a.generic for a in shoes.assets)


def test_the_feed_gives_a_theme_its_own_page(kit: BrandKit) -> None:
    assert theme_page(kit, "Trail Shoe") == URL
    assert theme_page(kit, "Tents") == "https://shop.test/tents"
    assert theme_page(kit, "Camping Stove") is None


def test_the_next_variant_keeps_the_winners_best_assets_that_pass_the_checks(kit: BrandKit) -> None:
    winner = ResponsiveSearchAdCopy(
        headlines=("Ridge GTX Trail Shoe", "Trail Shoes From $59", "Shop Now"),
        descriptions=("Easy 60-day returns on every trail shoe.", "Order today."),
        final_url=URL,
    )
    ads = (Ad(id="a1", ad_group_id="g1", copy=winner), Ad(id="a2", ad_group_id="g1", copy=rsa("Trail Shoes")))
    structure = AccountStructure(
        account=Account(name="sandbox:t", id="1234567890", display_name="T", platform=Platform.GOOGLE_ADS),
        campaigns=(Campaign(id="c1", name="Generic", channel="search"),),
        ad_groups=(AdGroup(id="g1", campaign_id="c1", name="Trail Shoes"),),
        keywords=(Keyword(id="k1", ad_group_id="g1", text="trail shoe", match_type=MatchType.PHRASE),),
        ads=ads,
    )
    labels = pd.DataFrame(
        [
            ("g1", "a1", "headline", "Ridge GTX Trail Shoe", "best"),
            ("g1", "a1", "headline", "Trail Shoes From $59", "good"),  # no price in the kit says $59
            ("g1", "a1", "headline", "Shop Now", "low"),
            ("g1", "a1", "description", "Easy 60-day returns on every trail shoe.", "best"),
        ],
        columns=list(ASSET_LABEL_COLUMNS),
    )
    tests = evaluate_creative_tests(structure, ad_metrics(CLEAR, 30), labels)
    assert [t.status for t in tests.tests] == ["winner"]
    daily = pd.DataFrame([metrics_rows("g1", "c1", 40_000, 1_700)])

    [change] = propose_creative_variants(structure, daily, grounds(kit), tests=tests)
    assert isinstance(change.ad, ResponsiveSearchAdCopy) and change.ad_group_id == "g1"
    assert change.ad.headlines[0] == "Ridge GTX Trail Shoe"
    assert change.ad.descriptions[0] == "Easy 60-day returns on every trail shoe."
    kept = {a.text: a for a in change.assets if a.text in ("Ridge GTX Trail Shoe", change.ad.descriptions[0])}
    assert {(s.doc, s.chunk) for s in kept["Ridge GTX Trail Shoe"].sources} == {("feed.tsv", 0)}
    assert kept[change.ad.descriptions[0]].sources  # the guide's returns claim
    assert not any("59" in a.text for a in change.assets)
    assert "keeps 2 of the winner's 3 best assets" in change.rationale
    assert "'Trail Shoes From $59' states 59, which no source gives" in change.rationale
    assert change.evidence.metrics["kept_winning_assets"] == 2
    assert len(change.ad.headlines) > 3  # and new copy to test beside them

    # once a variant waits (paused) in the ad group, the winner asks for no other
    waiting = Ad(id="a3", ad_group_id="g1", copy=rsa("Trail Shoes"), status=Status.PAUSED)
    paused = structure.model_copy(update={"ads": (*ads, waiting)})
    assert propose_creative_variants(paused, daily, grounds(kit), tests=tests) == []
