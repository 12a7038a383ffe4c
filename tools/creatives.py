"""Creative variants: ad copy written from the advertiser's brand kit, and which ad groups need a new variant.

For each ad group the writer retrieves the kit's facts that fit its keywords and landing page
(tools.copy_grounding) and composes copy from them: product names, prices, features, offers and proof
points. A configured LLM (a `CopyWriter` from agents/) may write instead; it cites the facts it used, and its
assets go through the same checks. Every asset keeps the chunks it rests on, or is marked `generic` when it
is a pure call to action; an asset that states anything without a source, or a number, price, free shipping
or superlative its sources do not give, is dropped (`ClaimChecker`). The policy's copy rules (forbidden and
allowed claims, acronyms, caps) are the writer's rules. Competitors' names and a Meta audience's name never
reach copy. Keywords, themes and kit text are untrusted: reduced to plain words, never instructions.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Literal, Protocol

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from ads.ad_copy import PLATFORM_RSA_LIMITS, CopyTextRules, ad_text_length, asset_key, text_problems
from ads.changes import AddCreativeVariants, AssetSources, Evidence, SourceRef
from ads.entities import (
    AccountStructure,
    Ad,
    AdCopy,
    AdGroup,
    AssetFieldType,
    MetaAdCopy,
    Platform,
    ResponsiveSearchAdCopy,
    Status,
)
from ads.keyword_matching import tokens, variant_tokens
from ads.limits import limit
from tools.brand_kit import BrandKit, Chunk, Product, sentences
from tools.copy_grounding import ClaimChecker, KitIndex, is_generic, numbers, retrieve
from tools.creative_tests import CreativeTest, CreativeTestReport

# More headlines and descriptions than the platform minimums (3, 2) so the ad has room to rotate combinations.
RSA_LIMITS = replace(PLATFORM_RSA_LIMITS, min_headlines=8, min_descriptions=3)
META_PRIMARY_MAX = limit("meta_primary_text_recommended_chars")
META_HEADLINE_MAX = limit("meta_headline_recommended_chars")
META_DESCRIPTION_MAX = limit("meta_description_recommended_chars")
FACTS_PER_AD_GROUP = 12
PRODUCTS_PER_AD = 4
# Calls to action that state no fact; at most this many per ad, so that most assets say something sourced.
CALLS_TO_ACTION = ("Shop Now", "Order Online Today", "Browse The Range", "See The Range")
META_CALLS_TO_ACTION = ("Shop now", "Order online today")
MAX_GENERIC_HEADLINES = 2
# A kept asset cites at most this many facts for its words; more would be a collage, not a source.
MAX_BACKING_FACTS = 3
_CURRENCY_SIGNS = {"USD": "$", "CAD": "$", "AUD": "$", "NZD": "$", "GBP": "£", "EUR": "€"}
# A word is letters/digits, optionally joined by an apostrophe, ampersand, dot or hyphen.
_WORD = re.compile(r"[^\W_]+(?:['’&.\-][^\W_]+)*")
_LETTER_RUN = re.compile(r"[^\W\d_]+")
# Words a trimmed phrase must not end on ("Boots For"), and that Title Case leaves small.
_DANGLING = frozenset({"a", "an", "and", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to", "with", "&"})
_CLAUSE = re.compile(r",\s+|\s+and\s+|;\s+")

# Minimum impressions before an ad group's CTR is compared with its campaign's.
MIN_IMPRESSIONS_FOR_CTR = 1000
# An ad group is "lowest CTR" only when it is also clearly below its campaign's CTR.
LOW_CTR_RATIO = 0.8
MIN_ENABLED_ADS = 2


class Fact(BaseModel):
    """A kit chunk given to the writer, with its product when it is a feed item."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: SourceRef
    kind: str
    text: str
    product: Product | None = None


AssetField = Literal["headline", "description", "primary_text", "meta_headline", "meta_description"]


class DraftAsset(BaseModel):
    """One asset a writer proposes, with the facts (by doc and chunk) it rests on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: AssetField
    text: str
    sources: tuple[SourceRef, ...] = ()
    generic: bool = False


class CreativeBrief(BaseModel):
    """What a copy writer is asked for. Every text field is untrusted data, not instructions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: Platform
    theme: str = Field(description="What the ad group sells, in plain words; never an audience's or competitor's name.")
    keywords: tuple[str, ...] = ()
    landing_url: str
    brand: str | None = None
    tone: str = ""
    facts: tuple[Fact, ...] = Field(default=(), description="The only facts copy may state; cite them as sources.")
    never_mention: tuple[str, ...] = Field(default=(), description="Competitors' and audiences' names.")
    forbidden_claims: tuple[str, ...] = ()
    allowed_claims: tuple[str, ...] = ()
    allowed_acronyms: tuple[str, ...] = ()
    max_caps_letters: int = 4
    avoid_headlines: tuple[str, ...] = Field(default=(), description="Headlines the ad group already runs.")
    keep: tuple[DraftAsset, ...] = Field(
        default=(),
        description="The ad group's test winner's best assets: the variant keeps them and tests new copy beside them.",
    )
    limits: dict[str, int] = Field(
        default_factory=lambda: {
            **asdict(RSA_LIMITS),
            "meta_primary_text_max_chars": META_PRIMARY_MAX,
            "meta_headline_max_chars": META_HEADLINE_MAX,
            "meta_description_max_chars": META_DESCRIPTION_MAX,
        }
    )


class CopyWriter(Protocol):
    """Writes assets for a brief, e.g. an LLM configured in agents/. Its output is checked, never trusted."""

    def __call__(self, brief: CreativeBrief) -> list[DraftAsset]: ...


class GroundedAd(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    copy_: AdCopy
    assets: tuple[AssetSources, ...]


@dataclass(frozen=True)
class CopyGrounds:
    """What copy for one account may rest on: its kit and index, and what it may not say."""

    kit: BrandKit
    index: KitIndex
    rules: CopyTextRules
    competitors: tuple[str, ...] = ()

    def checker(self, banned: Iterable[str] = ()) -> ClaimChecker:
        return ClaimChecker.for_kit(self.kit, self.rules, self.competitors, banned)


def asset_problem(text: str, max_chars: int, rules: CopyTextRules | None = None) -> str | None:
    """Why a headline/description/path can't be used (length, control characters, the policy's text rules)."""
    if not text or text != text.strip():
        return "empty or padded with spaces"
    if ad_text_length(text) > max_chars:
        return f"longer than {max_chars} characters"
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        return "contains control characters"
    problems = text_problems("asset", text, rules or CopyTextRules())
    return problems[0] if problems else None


def _plain_words(text: str) -> list[str]:
    """Untrusted text reduced to words in Title Case; symbols, emoji and markup are dropped."""
    return [_title(w) for w in _WORD.findall(unicodedata.normalize("NFKC", text))]


def _title(word: str) -> str:
    if any(len(run) > 4 and run.isupper() for run in _LETTER_RUN.findall(word)):  # "WATERPROOF" reads as shouting
        word = word.lower()
    return word[:1].upper() + word[1:]


def _title_case(phrase: str) -> str:
    words = _plain_words(phrase)
    return " ".join(w.lower() if i and w.casefold() in _DANGLING else w for i, w in enumerate(words))


def _shortenings(words: list[str]) -> list[list[str]]:
    """A phrase and its shorter forms, longest first, never cutting a word: the qualifier after a
    preposition goes first ("Boots For Women" -> "Boots"), then leading modifiers, so the head noun stays."""
    cut = next((i for i, w in enumerate(words) if i > 0 and w.casefold() in _DANGLING), len(words))
    head = words[:cut]
    shorter = [head[i:] for i in range(len(head))]
    return [words] + [
        f for i, f in enumerate(shorter) if f != words and f[0].casefold() not in _DANGLING and f not in shorter[:i]
    ]


def _fitting(phrase: str, max_chars: int) -> str | None:
    """The longest whole-word shortening of `phrase` that fits in `max_chars`."""
    return next(
        (text for form in _shortenings(phrase.split()) if ad_text_length(text := " ".join(form)) <= max_chars), None
    )


def _unique(candidates: Iterable[str | None], *, avoid: Collection[str] = (), limit_: int) -> list[str]:
    """First `limit_` distinct texts (by `asset_key`); texts in `avoid` only when nothing else is left."""
    seen: set[str] = set()
    fresh: list[str] = []
    reused: list[str] = []
    avoided = {asset_key(a) for a in avoid}
    for text in candidates:
        if text is None or asset_key(text) in seen:
            continue
        seen.add(asset_key(text))
        (reused if asset_key(text) in avoided else fresh).append(text)
    return (fresh + reused)[:limit_]


def _path(words: list[str]) -> str:
    """A display path: the longest shortening of the phrase that fits, words joined by hyphens."""
    return next(
        (
            slug
            for form in _shortenings(words)
            if asset_problem(slug := "-".join(form), RSA_LIMITS.path_max_chars) is None
        ),
        "",
    )


# ---- composing from facts ----------------------------------------------------------------------


def money_text(amount: int, currency: str) -> str:
    """A feed price as a person reads it in copy: "$249.99", "€80", "1,200.00 SEK"."""
    value = f"{amount / 100:,.2f}".removesuffix(".00")
    sign = _CURRENCY_SIGNS.get(currency)
    return f"{sign}{value}" if sign else f"{value} {currency}"


def features(product: Product) -> list[str]:
    """The product's features as short phrases: its description's clauses after "has"/"with"."""
    found = []
    for sentence in sentences(product.description):
        body = re.split(r"\b(?:has|have|with|offers|features)\b", sentence.rstrip("."), maxsplit=1)
        for clause in _CLAUSE.split(body[-1] if len(body) > 1 else body[0]):
            words = clause.strip().split()
            if words and words[0].casefold() in ("a", "an", "the"):
                words = words[1:]
            if 1 < len(words) <= 8 and product.title.casefold() not in clause.casefold():
                found.append(" ".join(words))
    return found


def _short_title(product: Product, max_chars: int) -> str | None:
    return _fitting(_title_case(product.title), max_chars)


@dataclass(frozen=True)
class _Candidate:
    text: str
    sources: tuple[SourceRef, ...]
    generic: bool = False


def _offline_assets(brief: CreativeBrief) -> dict[AssetField, list[_Candidate]]:
    """Copy composed from the brief's facts, most specific first; checks come later."""
    head_max = RSA_LIMITS.headline_max_chars
    products = [f for f in brief.facts if f.product is not None][:PRODUCTS_PER_AD]
    claims = [f for f in brief.facts if f.kind == "claim"]
    about = next((f for f in brief.facts if f.kind == "guide"), None)
    pages = [f for f in brief.facts if f.kind == "page"]
    headlines: list[_Candidate] = []
    descriptions: list[_Candidate] = []
    primary: list[_Candidate] = []
    meta_headlines: list[_Candidate] = []

    def add(into: list[_Candidate], text: str | None, *facts: Fact) -> None:
        if text:
            into.append(_Candidate(text, tuple(f.source for f in facts)))

    # The keyword theme, when the kit shows the advertiser sells it.
    for keyword in brief.keywords[:3]:
        words = set(tokens(keyword))
        backing = next((f for f in products + pages if words and words <= set(tokens(f.text))), None)
        if backing:
            add(headlines, _fitting(_title_case(keyword), head_max), backing)
    for fact in products:
        product = fact.product
        assert product is not None
        title = _short_title(product, head_max)
        add(headlines, title, fact)
        add(meta_headlines, _short_title(product, META_HEADLINE_MAX), fact)
        price = money_text(product.price, product.currency)
        offer = f"From {price}"
        if product.on_sale and product.sale_price is not None:
            sale = money_text(product.sale_price, product.currency)
            offer = f"Now {sale}, was {price}"  # the price a buyer pays, beside the headline's "Now"
            add(headlines, f"{title} Now {sale}" if title else None, fact)
            add(headlines, f"Now {sale}, Was {price}", fact)
            add(meta_headlines, f"{_short_title(product, META_HEADLINE_MAX - 12)}, Now {sale}", fact)
        else:
            add(headlines, f"{title}, {price}" if title else None, fact)
        points = features(product)
        for point in points[:2]:
            add(headlines, _fitting(_title_case(point), head_max), fact)
        full = _title_case(product.title)
        for count in range(min(len(points), 3), 0, -1):
            listed = " and ".join([", ".join(points[: count - 1]), points[count - 1]] if count > 1 else points[:1])
            add(descriptions, f"{full}: {listed}. {offer}.", fact)
            add(descriptions, f"{full} with {listed}.", fact)
            for claim in claims[:2]:
                add(primary, f"{full}: {listed}. {claim.text.split('. ')[0]}.", fact, claim)
    for claim in claims:
        statement = claim.text.split(". ")[0]
        add(headlines, _fitting(statement, head_max), claim)
    if len(claims) >= 2:
        add(descriptions, " ".join(f"{c.text.split('. ')[0]}." for c in claims[:2]), *claims[:2])
    if about and brief.brand:
        add(headlines, _fitting(brief.brand, head_max), about)
        if products and products[0].product:
            add(
                descriptions,
                f"{_title_case(products[0].product.title)} and more from {brief.brand}.",
                products[0],
                about,
            )
    return {
        "headline": headlines + [_Candidate(cta, (), generic=True) for cta in CALLS_TO_ACTION],
        "description": descriptions,
        "primary_text": primary + descriptions,
        "meta_headline": meta_headlines + headlines,
        "meta_description": [_Candidate(c.text.split(". ")[0], (c.source,)) for c in claims]
        + [_Candidate(cta, (), generic=True) for cta in META_CALLS_TO_ACTION],
    }


def write_copy(
    brief: CreativeBrief, grounds: CopyGrounds, writer: CopyWriter | None = None, *, banned: Iterable[str] = ()
) -> GroundedAd | None:
    """Copy for a brief: the writer's checked assets first, then the offline writer's; None when the kit does
    not hold enough facts for a valid ad (fewer than the platform's minimum assets survive the checks)."""
    checker = grounds.checker(banned)
    candidates = _offline_assets(brief)
    if writer is not None:
        try:
            written = list(writer(brief))
        except Exception:  # noqa: BLE001 - a failing writer (network, bad output) must not stop an audit
            written = []
        for draft in reversed(written):
            if isinstance(draft, DraftAsset):
                candidates[draft.field].insert(0, _Candidate(draft.text, draft.sources, draft.generic))
    for kept in reversed(brief.keep):  # the winner's assets first, checked like any other
        candidates[kept.field].insert(0, _kept_candidate(kept.text, brief))

    def pick(field: AssetField, max_chars: int, count: int, avoid: Collection[str] = ()) -> list[_Candidate]:
        chosen: list[_Candidate] = []
        seen = {asset_key(a) for a in avoid}
        reused: list[_Candidate] = []
        generic = 0
        for c in candidates[field]:
            sources = [grounds.kit.chunk(ref.doc, ref.chunk) for ref in c.sources]
            if any(s is None for s in sources) or asset_problem(c.text, max_chars, grounds.rules) is not None:
                continue  # a writer citing a chunk that does not exist cites nothing
            if checker.problems(c.text, [s for s in sources if s is not None], generic=c.generic):
                continue
            key = asset_key(c.text)
            if key in {asset_key(x.text) for x in chosen + reused} or (c.generic and generic >= MAX_GENERIC_HEADLINES):
                continue
            generic += c.generic
            (reused if key in seen else chosen).append(c)
        return (chosen + reused)[:count]

    if brief.platform is Platform.META:
        primary = pick("primary_text", META_PRIMARY_MAX, 1)
        # The new headline is what the next test measures: it repeats neither the ad set's headlines nor the kept copy.
        headline = pick("meta_headline", META_HEADLINE_MAX, 1, (*brief.avoid_headlines, *(k.text for k in brief.keep)))
        description = pick("meta_description", META_DESCRIPTION_MAX, 1, (headline[0].text,) if headline else ())
        if not primary or not headline:
            return None
        parts = [("primary text", primary[0]), ("headline", headline[0])] + [("description", d) for d in description]
        copy: AdCopy = MetaAdCopy(
            primary_text=primary[0].text,
            headline=headline[0].text,
            description=description[0].text if description else "",
            link_url=brief.landing_url,
        )
    else:
        headlines = pick("headline", RSA_LIMITS.headline_max_chars, RSA_LIMITS.max_headlines, brief.avoid_headlines)
        descriptions = pick("description", RSA_LIMITS.description_max_chars, RSA_LIMITS.max_descriptions)
        if (
            len(headlines) < PLATFORM_RSA_LIMITS.min_headlines
            or len(descriptions) < PLATFORM_RSA_LIMITS.min_descriptions
        ):
            return None
        parts = [(f"headline {i}", h) for i, h in enumerate(headlines, 1)]
        parts += [(f"description {i}", d) for i, d in enumerate(descriptions, 1)]
        theme = _plain_words(brief.theme)
        path1 = _path(theme)
        second = next(
            (w for k in brief.keywords if (w := _plain_words(k)) and _path(w).casefold() != path1.casefold()), []
        )
        copy = ResponsiveSearchAdCopy(
            headlines=tuple(h.text for h in headlines),
            descriptions=tuple(d.text for d in descriptions),
            path1=path1,
            path2=_path(second) if path1 else "",
            final_url=brief.landing_url,
        )
    assets = tuple(AssetSources(asset=name, text=c.text, sources=c.sources, generic=c.generic) for name, c in parts)
    return GroundedAd(copy_=copy, assets=assets)


def _kept_candidate(text: str, brief: CreativeBrief) -> _Candidate:
    backing = _backing(text, brief.facts)
    return _Candidate(text, backing, generic=not backing and is_generic(text, brief.brand or ""))


def _backing(text: str, facts: Sequence[Fact]) -> tuple[SourceRef, ...]:
    """The facts an existing asset (a test winner's) rests on: those that together say most of its words (at
    least half, the fewest first), then one for each number the text states that they do not. Empty when no
    facts say it: the checks then drop it unless it is a pure call to action."""
    words = set(tokens(text))
    said = [set(tokens(f.text)) & words for f in facts]
    cited: list[int] = []
    covered: set[str] = set()
    while 2 * len(covered) < len(words) and len(cited) < MAX_BACKING_FACTS:
        gain, best = max(((len(s - covered), -i) for i, s in enumerate(said)), default=(0, 0))
        best = -best  # on a tie, the fact retrieval ranked first
        if gain == 0:
            return ()
        cited.append(best)
        covered |= said[best]
    if 2 * len(covered) < len(words):
        return ()
    for number in numbers(text) - numbers(" ".join(facts[i].text for i in cited)):
        cited += [i for i, f in enumerate(facts) if number in numbers(f.text)][:1]
    return tuple(facts[i].source for i in dict.fromkeys(cited))


def winning_assets(test: CreativeTest, platform: Platform) -> tuple[DraftAsset, ...]:
    """What the next variant keeps of a test's winner: on Google the assets it labels best or good; on Meta the
    primary text and description, so that the new headline is what the next test measures."""
    fields: dict[AssetFieldType, AssetField] = (
        {AssetFieldType.HEADLINE: "headline", AssetFieldType.DESCRIPTION: "description"}
        if platform is Platform.GOOGLE_ADS
        else {AssetFieldType.PRIMARY_TEXT: "primary_text", AssetFieldType.DESCRIPTION: "meta_description"}
    )
    return tuple(DraftAsset(field=fields[a.field], text=a.text) for a in test.best_assets if a.field in fields)


# Without a kit, a new ad group's draft says only what its keywords say, and calls to action.
_DRAFT_HEADLINES = ("Shop Now", "Order Online Today", "Browse The Range", "See The Range")
_DRAFT_DESCRIPTIONS = ("Browse the full range online and order today.", "See the range and order online today.")


def write_rsa(theme: str, keywords: Sequence[str], final_url: str, grounds: CopyGrounds | None = None) -> GroundedAd:
    """The draft RSA of a new ad group: written from the kit's facts about its theme when the kit holds enough,
    else its keywords in Title Case with calls to action (no claim, so nothing that needs a source; no assets).
    A product or landing-page fact counts only when it is about the theme (`is_about`): a new 'Camping Stove'
    group on the tents campaign's page must not get tent copy. The guide's brand-wide claims fit every group."""
    if grounds is not None:
        checker = grounds.checker()
        kept = _without_names(keywords, checker)
        brief = CreativeBrief(
            platform=Platform.GOOGLE_ADS,
            theme=theme,
            keywords=tuple(kept),
            landing_url=final_url,
            brand=grounds.kit.guide.brand,
            facts=_facts(grounds, " ".join([theme, *kept]), final_url, theme=theme),
        )
        written = write_copy(brief, grounds)
        if written is not None and isinstance(written.copy_, ResponsiveSearchAdCopy):
            return written
    phrases = [f for k in keywords if (f := _fitting(_title_case(k), RSA_LIMITS.headline_max_chars))]
    headlines = _unique([*phrases, *_DRAFT_HEADLINES], limit_=RSA_LIMITS.max_headlines)
    path1 = _path(_plain_words(theme))
    copy = ResponsiveSearchAdCopy(
        headlines=tuple(headlines), descriptions=_DRAFT_DESCRIPTIONS, path1=path1, final_url=final_url
    )
    return GroundedAd(copy_=copy, assets=())


def is_about(fact: Fact, theme: str) -> bool:
    """Whether a product or page fact is about `theme`: its product's title or type, else its text, names it."""
    return names_theme(f"{fact.product.title} {fact.product.product_type}" if fact.product else fact.text, theme)


def names_theme(text: str, theme: str) -> bool:
    """Every word of `theme`, as the one keyword rule varies it (plurals, accents), is in `text`."""
    wanted = set(variant_tokens(theme))
    return bool(wanted) and wanted <= set(variant_tokens(text))


def theme_page(kit: BrandKit, theme: str) -> str | None:
    """The feed's page for `theme`: the link most of its products share, None when the feed has none about it."""
    links = Counter(p.link for p in kit.products if p.link and names_theme(f"{p.title} {p.product_type}", theme))
    return links.most_common(1)[0][0] if links else None


def _facts(grounds: CopyGrounds, query: str, landing_url: str, *, theme: str | None = None) -> tuple[Fact, ...]:
    """The landing page's products first, then what retrieval finds for the query, then the guide's claims.
    With a `theme` (a new ad group), only product and page facts about it (`is_about`): the page it lands on may
    be the campaign's, about other products."""
    kit = grounds.kit
    page = landing_url.split("?")[0].rstrip("/")
    by_id = {p.id: p for p in kit.products}

    def fact(c: Chunk) -> Fact:
        product = by_id.get(c.product_id) if c.product_id else None
        return Fact(source=SourceRef(doc=c.doc, chunk=c.chunk), kind=c.kind, text=c.text, product=product)

    def fits(f: Fact) -> bool:
        return theme is None or f.kind in ("guide", "claim") or is_about(f, theme)

    on_page = [
        f for c in kit.chunks if c.product_id and by_id[c.product_id].link.rstrip("/") == page if fits(f := fact(c))
    ]
    found = (
        [f for c in retrieve(kit, grounds.index, query, k=FACTS_PER_AD_GROUP) if fits(f := fact(c))]
        if query.strip()
        else []
    )
    if on_page:  # the landing page's own products: others retrieval finds would send people elsewhere
        found = [f for f in found if f.product is None]
    about = [fact(c) for c in kit.chunks if c.kind in ("guide", "claim")][: 1 + len(kit.guide.claims)]
    unique: dict[SourceRef, Fact] = {}
    for f in (*on_page, *found, *about):
        unique.setdefault(f.source, f)  # each chunk once, where it first comes
    return tuple(unique.values())[: FACTS_PER_AD_GROUP + len(about)]


def _without_names(texts: Iterable[str], checker: ClaimChecker) -> list[str]:
    """Texts that hold no competitor's name (a competitor ad group's keywords are that name)."""
    return [t for t in texts if checker.competitors.find(t) is None]


class _AdGroupStats(BaseModel):
    impressions: int = 0
    clicks: int = 0
    conversions: float = 0.0

    @property
    def ctr(self) -> float:
        return self.clicks / self.impressions if self.impressions else 0.0


def propose_creative_variants(
    structure: AccountStructure,
    metrics: pd.DataFrame,
    grounds: CopyGrounds,
    *,
    writer: CopyWriter | None = None,
    max_changes: int = 10,
    ad_group_ids: Collection[str] | None = None,
    headlines: int | None = None,
    tests: CreativeTestReport | None = None,
) -> list[AddCreativeVariants]:
    """One paused new ad for each enabled ad group whose creative test has a winner (the variant keeps the
    winner's best assets and tests new copy beside them, unless a paused ad already waits there), that is thin
    (< 2 enabled ads), or that has its campaign's lowest CTR (with at least MIN_IMPRESSIONS_FOR_CTR impressions,
    and below LOW_CTR_RATIO x the CTR of the campaign's other measured ad groups). Winners and thin ad groups
    come first, then by impressions. Google accounts get RSAs, Meta accounts Meta ad copy, written from `grounds`;
    an ad group whose facts are too few for a valid ad gets none.

    `ad_group_ids` names the ad groups a person asked copy for, whatever their ads do; `headlines` caps an RSA's
    headlines (at least the platform's 3) when a person asked for that many.
    """
    account = structure.account
    platform = account.platform
    campaigns = {c.id: c for c in structure.campaigns}
    groups = [
        g
        for g in structure.ad_groups
        if g.status is Status.ENABLED and (c := campaigns.get(g.campaign_id)) is not None and c.status is Status.ENABLED
    ]
    stats = _ad_group_stats(metrics)
    period = _period(metrics)
    enabled_ads: dict[str, list[Ad]] = {g.id: [] for g in groups}
    for ad in structure.ads:
        if ad.status is Status.ENABLED and ad.ad_group_id in enabled_ads:
            enabled_ads[ad.ad_group_id].append(ad)
    low_ctr = _lowest_ctr_groups(groups, stats)
    waiting = {a.ad_group_id for a in structure.ads if a.status is Status.PAUSED}
    winners = {t.ad_group_id: t for t in (tests.tests if tests else ()) if t.status == "winner"}

    candidates: list[tuple[int, int, AdGroup, str]] = []
    for group in groups:
        s = stats.get(group.id, _AdGroupStats())
        n_ads = len(enabled_ads[group.id])
        asked = ad_group_ids is None or group.id in ad_group_ids
        if (test := winners.get(group.id)) and group.id not in waiting and asked:
            candidates.append((0, -s.impressions, group, test.reason))
        elif n_ads < MIN_ENABLED_ADS and asked:
            reason = (
                f"Ad group '{group.name}' has {n_ads} enabled ad{'s' if n_ads != 1 else ''}; "
                f"a second, paused variant gives the platform copy to test against."
            )
            candidates.append((0, -s.impressions, group, reason))
        elif ad_group_ids is not None:
            if group.id in ad_group_ids:
                candidates.append((0, -s.impressions, group, f"New copy for ad group '{group.name}', as asked."))
        elif group.id in low_ctr:
            campaign_ctr = low_ctr[group.id]
            reason = (
                f"Ad group '{group.name}' has the lowest click-through rate in campaign "
                f"'{campaigns[group.campaign_id].name}': {s.ctr:.2%} over {s.impressions:,} impressions, "
                f"against {campaign_ctr:.2%} for its other ad groups. A fresh, paused variant tests new copy."
            )
            candidates.append((1, -s.impressions, group, reason))
    candidates.sort(key=lambda c: (c[0], c[1]))

    checker = grounds.checker()
    guide = grounds.kit.guide
    keywords_by_group: dict[str, list[str]] = {}
    for keyword in structure.keywords:
        if keyword.status is Status.ENABLED:
            keywords_by_group.setdefault(keyword.ad_group_id, []).append(keyword.text)
    landing = _landing_urls(structure)

    changes: list[AddCreativeVariants] = []
    for _, _, group, reason in candidates:
        if len(changes) >= max_changes:
            break
        url = landing(group)
        if url is None:  # no ad anywhere to take a landing page from
            continue
        keep = winning_assets(winners[group.id], platform) if group.id in winners else ()
        kept_texts = {asset_key(k.text) for k in keep}
        current = [h for a in enabled_ads[group.id] for h in _headlines_of(a.copy_) if asset_key(h) not in kept_texts]
        if platform is Platform.META:
            # An ad set is named for its audience ("Trail Runners Interest"): copy follows the campaign and the
            # ads it already runs, and the audience's name is banned from it.
            campaign = campaigns[group.campaign_id].name
            theme = campaign.split("|")[-1].strip()
            keywords: list[str] = []
            query = " ".join([theme, *(t for a in enabled_ads[group.id] for t in _texts_of(a.copy_))])
            banned = [group.name]
        else:
            keywords = _without_names(keywords_by_group.get(group.id, ()), checker)
            theme = group.name if checker.competitors.find(group.name) is None else guide.brand
            # A competitor's ad group keeps none of its keywords: its copy is about the advertiser.
            query = " ".join([theme, *keywords]) if keywords else ""
            banned = []
        query = " ".join([query, *(k.text for k in keep)])  # so that the winner's assets find their facts
        rules = grounds.rules
        brief = CreativeBrief(
            platform=platform,
            theme=theme,
            keywords=tuple(keywords),
            landing_url=url,
            brand=guide.brand,
            tone=guide.tone,
            facts=_facts(grounds, query, url),
            never_mention=(*grounds.competitors, *guide.competitors, *banned),
            forbidden_claims=rules.forbidden_claims,
            allowed_claims=rules.allowed_claims,
            allowed_acronyms=rules.allowed_acronyms,
            max_caps_letters=rules.max_caps_letters,
            avoid_headlines=tuple(current),
            keep=keep,
        )
        written = write_copy(brief, grounds, writer, banned=banned)
        if written is None:
            continue
        if headlines is not None and isinstance(written.copy_, ResponsiveSearchAdCopy):
            written = _with_headlines(written, written.copy_, max(headlines, PLATFORM_RSA_LIMITS.min_headlines))
        kept = [a for a in written.assets if asset_key(a.text) in kept_texts]
        if keep:
            reason += (
                f" The new paused variant keeps {len(kept)} of the winner's {len(keep)} best assets "
                f"({'; '.join(a.text for a in kept) or 'none'}) and tests new copy beside them"
                + _not_kept(keep, kept, brief, grounds, banned)
                + "; the losing ads are proposed for pausing on their own."
            )
        s = stats.get(group.id, _AdGroupStats())
        changes.append(
            AddCreativeVariants(
                account=account.name,
                ad_group_id=group.id,
                ad_group_name=group.name,
                ad=written.copy_,
                assets=written.assets,
                paused=True,
                rationale=reason,
                evidence=Evidence(
                    period_start=period[0],
                    period_end=period[1],
                    metrics={
                        "impressions": float(s.impressions),
                        "clicks": float(s.clicks),
                        "ctr": round(s.ctr, 6),
                        "conversions": float(s.conversions),
                        "enabled_ads": float(len(enabled_ads[group.id])),
                    }
                    | ({"kept_winning_assets": float(len(kept))} if keep else {}),
                ),
            )
        )
    return changes


def _not_kept(
    keep: Sequence[DraftAsset],
    kept: Sequence[AssetSources],
    brief: CreativeBrief,
    grounds: CopyGrounds,
    banned: list[str],
) -> str:
    """Why the winner's other assets are not in the variant: what the copy checks found, or no room."""
    written = {asset_key(a.text) for a in kept}
    checker = grounds.checker(banned)
    reasons = []
    for asset in keep:
        if asset_key(asset.text) in written:
            continue
        candidate = _kept_candidate(asset.text, brief)
        chunks = [c for ref in candidate.sources if (c := grounds.kit.chunk(ref.doc, ref.chunk)) is not None]
        problems = checker.problems(asset.text, chunks, generic=candidate.generic)
        reasons.append(f"'{asset.text}' {problems[0] if problems else 'had no room left'}")
    return f"; not kept: {'; '.join(reasons)}" if reasons else ""


def _with_headlines(ad: GroundedAd, copy: ResponsiveSearchAdCopy, count: int) -> GroundedAd:
    """The ad (whose copy is `copy`) with its first `count` headlines, and their sources."""
    kept = {f"headline {i}" for i in range(1, count + 1)}
    assets = tuple(a for a in ad.assets if not a.asset.startswith("headline ") or a.asset in kept)
    return GroundedAd(copy_=copy.model_copy(update={"headlines": copy.headlines[:count]}), assets=assets)


def _headlines_of(copy: AdCopy) -> tuple[str, ...]:
    return copy.headlines if isinstance(copy, ResponsiveSearchAdCopy) else (copy.headline,)


def _texts_of(copy: AdCopy) -> tuple[str, ...]:
    if isinstance(copy, ResponsiveSearchAdCopy):
        return (*copy.headlines, *copy.descriptions)
    return (copy.primary_text, copy.headline, copy.description)


def _ad_group_stats(metrics: pd.DataFrame) -> dict[str, _AdGroupStats]:
    if metrics.empty:
        return {}
    sums = metrics.groupby("ad_group_id")[["impressions", "clicks", "conversions"]].sum()
    return {
        str(i): _AdGroupStats(impressions=int(r.impressions), clicks=int(r.clicks), conversions=float(r.conversions))
        for i, r in sums.iterrows()
    }


def _period(metrics: pd.DataFrame) -> tuple[str | None, str | None]:
    if metrics.empty:
        return None, None
    dates = pd.to_datetime(metrics["date"])
    return dates.min().date().isoformat(), dates.max().date().isoformat()


def _lowest_ctr_groups(groups: list[AdGroup], stats: dict[str, _AdGroupStats]) -> dict[str, float]:
    """Ad group id -> CTR of the rest of its campaign, for each campaign's clearly-lowest-CTR ad group."""
    by_campaign: dict[str, list[AdGroup]] = {}
    for group in groups:
        if stats.get(group.id, _AdGroupStats()).impressions >= MIN_IMPRESSIONS_FOR_CTR:
            by_campaign.setdefault(group.campaign_id, []).append(group)
    lowest: dict[str, float] = {}
    for members in by_campaign.values():
        if len(members) < 2:
            continue
        worst = min(members, key=lambda g: (stats[g.id].ctr, g.id))
        others = [stats[g.id] for g in members if g.id != worst.id]
        rest_ctr = sum(o.clicks for o in others) / sum(o.impressions for o in others)
        if stats[worst.id].ctr < LOW_CTR_RATIO * rest_ctr:
            lowest[worst.id] = rest_ctr
    return lowest


def _landing_urls(structure: AccountStructure) -> Callable[[AdGroup], str | None]:
    """The landing page for a new ad: the ad group's own ads first, then its campaign's, then the account's."""
    group_campaign = {g.id: g.campaign_id for g in structure.ad_groups}
    by_group: dict[str, str] = {}
    by_campaign: dict[str, str] = {}
    for ad in structure.ads:
        if ad.status is Status.REMOVED:
            continue
        url = ad.copy_.final_url if isinstance(ad.copy_, ResponsiveSearchAdCopy) else ad.copy_.link_url
        by_group.setdefault(ad.ad_group_id, url)
        if ad.ad_group_id in group_campaign:
            by_campaign.setdefault(group_campaign[ad.ad_group_id], url)
    anywhere = next(iter(by_group.values()), None)
    return lambda group: by_group.get(group.id) or by_campaign.get(group.campaign_id) or anywhere


__all__ = [
    "CopyGrounds",
    "CopyWriter",
    "CreativeBrief",
    "DraftAsset",
    "Fact",
    "GroundedAd",
    "asset_problem",
    "propose_creative_variants",
    "write_copy",
    "is_about",
    "names_theme",
    "theme_page",
    "write_rsa",
]
