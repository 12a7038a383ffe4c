"""A draft of the advertiser's profile, read from the account itself, for a person to check and save.

What it reads, and how:
- brand terms: the words most keywords of the brand campaigns share (a campaign whose name says "brand");
- competitors: the words every keyword of an ad group in a competitor campaign shares, and brand-like words
  the queries hold together with the category words (`query_intent.infer_competitors`);
- offers: the names of the other search ad groups, else the keywords, else the landing pages' paths, else
  the campaigns' names;
- landing pages: each offer's most common final URL, tracking parameters removed;
- locations: places that campaign names name; languages: the languages the queries are written in.
Nothing here is what the business *is*: it is what the account says, and a person corrects it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
from pydantic import BaseModel

from ads.account_plan import AdvertiserProfile
from ads.entities import AccountStructure, Campaign, MetaAdCopy, ResponsiveSearchAdCopy
from ads.keyword_matching import normalise, tokens
from tools.query_intent import (
    InferredCompetitor,
    contains_phrase,
    find_phrases,
    infer_competitors,
    load_gazetteer,
    query_languages,
)

BRAND_CAMPAIGN_WORDS = frozenset({"brand", "branded", "marke", "marken", "markenbegriffe", "marca"})
COMPETITOR_CAMPAIGN_WORDS = frozenset(
    {"competitor", "competitors", "conquest", "conquesting", "konkurrenz", "wettbewerber", "competencia"}
)
# Words of campaign and ad-group names that say how an account is built, not what it sells.
STRUCTURE_WORDS = frozenset({"search", "pmax", "performance", "max", "shopping", "display", "generic", "nonbrand"})
PLACEHOLDER_NAME = re.compile(r"^(ad group|anzeigengruppe|grupo de anuncios)( \d+)?$")
MIN_LANGUAGE_SHARE = 0.1  # a language is the account's when at least this share of its queries reads as it


class DraftProfile(BaseModel):
    profile: AdvertiserProfile
    evidence: dict[str, str]  # field -> where it was read from, in counts (no untrusted text)
    inferred_competitors: list[InferredCompetitor]


def _shared_phrases(texts: Sequence[str], min_share: float, min_count: int = 1) -> list[str]:
    """The phrases (1-3 words) at least `min_share` (and `min_count`) of the texts hold, minus any a longer one
    covers as often."""
    counts: Counter[tuple[str, ...]] = Counter()
    for text in texts:
        words = tokens(text)
        counts.update({words[i : i + n] for n in (1, 2, 3) for i in range(len(words) - n + 1)})
    kept = {phrase: n for phrase, n in counts.items() if n >= max(min_count, min_share * len(texts))}
    covered = {
        phrase
        for phrase, n in kept.items()
        for longer, m in kept.items()
        if len(longer) > len(phrase) and m >= n and contains_phrase(longer, phrase)
    }
    return sorted((" ".join(p) for p in kept if p not in covered), key=lambda p: (-kept[tuple(p.split())], p))


def _without_tracking(url: str) -> str:
    parts = urlsplit(url)
    return _printable(urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")))


def _path_offer(url: str) -> str:
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return normalise(segments[-1]) if segments else ""


def _printable(text: str) -> str:
    return " ".join("".join(ch for ch in text if ch.isprintable()).split())


def campaign_kind(campaign: Campaign) -> Literal["brand", "competitor", "generic"]:
    """What a campaign bids on, as its name says: the brand, competitors' names, or the generic category."""
    words = set(tokens(campaign.name))
    return "brand" if words & BRAND_CAMPAIGN_WORDS else "competitor" if words & COMPETITOR_CAMPAIGN_WORDS else "generic"


def infer_profile(structure: AccountStructure, terms: pd.DataFrame) -> DraftProfile:
    """A draft profile from the account's structure and its search terms (a frame with `search_term`)."""
    evidence: dict[str, str] = {}
    kinds = {campaign.id: campaign_kind(campaign) for campaign in structure.campaigns}
    group_kind = {g.id: kinds.get(g.campaign_id, "generic") for g in structure.ad_groups}
    channel = {c.id: c.channel for c in structure.campaigns}
    keywords_of: dict[str, list[str]] = {}
    for keyword in structure.keywords:
        keywords_of.setdefault(keyword.ad_group_id, []).append(keyword.text)

    brand_keywords = [k for g, ks in keywords_of.items() if group_kind.get(g) == "brand" for k in ks]
    brand_terms = _shared_phrases(brand_keywords, 0.5, min_count=2) if brand_keywords else []
    if brand_terms:
        evidence["brand_terms"] = f"shared by most of {len(brand_keywords)} keywords of the brand campaigns"
    elif structure.account.brand_terms:
        brand_terms = [normalise(t) for t in structure.account.brand_terms]
        evidence["brand_terms"] = "the account's own brand terms (no brand campaign)"

    competitors = [
        phrase
        for g, ks in keywords_of.items()
        if group_kind.get(g) == "competitor"
        for phrase in _shared_phrases(ks, 1.0)[:1]
    ]

    urls: dict[str, Counter[str]] = {}
    for ad in structure.ads:
        url = ad.copy_.final_url if isinstance(ad.copy_, ResponsiveSearchAdCopy) else None
        if isinstance(ad.copy_, MetaAdCopy):
            url = ad.copy_.link_url
        if url:
            urls.setdefault(ad.ad_group_id, Counter())[_without_tracking(url)] += 1

    themes = _unique(
        " ".join(w for w in tokens(c.name) if w not in STRUCTURE_WORDS)
        for c in structure.campaigns
        if kinds[c.id] == "generic" and c.channel != "meta"
    )
    offer_groups = [
        g
        for g in structure.ad_groups
        if group_kind[g.id] == "generic"
        and channel.get(g.campaign_id) != "meta"  # Meta ad sets are audiences, not offers
        and not PLACEHOLDER_NAME.match(normalise(g.name))
    ]
    offers = _unique(normalise(g.name) for g in offer_groups)
    landing_pages = {normalise(g.name): urls[g.id].most_common(1)[0][0] for g in offer_groups if g.id in urls}
    if offers:
        evidence["offers"] = f"names of {len(offers)} ad groups outside brand and competitor campaigns"
    else:
        generic_keywords = [k for g, ks in keywords_of.items() if group_kind.get(g) == "generic" for k in ks]
        offers = _unique(normalise(k) for k in generic_keywords)[:30]
        if offers:
            evidence["offers"] = f"{len(offers)} keywords (the ad groups have no usable names)"
        else:
            offers = _unique(_path_offer(u) for counter in urls.values() for u in counter)[:30]
            if offers:
                evidence["offers"] = f"{len(offers)} landing-page paths (no ad groups or keywords)"
            elif offers := themes[:30]:
                evidence["offers"] = f"{len(offers)} campaign names (no ad groups, keywords or landing pages)"
    if landing_pages:
        evidence["landing_pages"] = f"the most common final URL of {len(landing_pages)} offer ad groups"

    places = load_gazetteer()
    locations = _unique(
        places[phrase].name for c in structure.campaigns for _, phrase in find_phrases(tokens(c.name), places)
    )
    if locations:
        evidence["locations"] = "places named in campaign names"

    queries = list(dict.fromkeys(terms["search_term"].astype(str))) if len(terms) else []
    counts = query_languages(queries)
    total = sum(counts.values())
    languages = [lang for lang, n in counts.most_common() if total and n / total >= MIN_LANGUAGE_SHARE]
    if languages:
        evidence["languages"] = f"the words of {len(queries):,} distinct queries"

    draft = AdvertiserProfile(
        offers=tuple(offers), brand_terms=tuple(brand_terms), competitors=tuple(competitors), languages=tuple(languages)
    )
    keywords = [k.text for k in structure.keywords]  # a word the advertiser bids on is its own, not a competitor
    inferred = [c for c in infer_competitors(queries, draft, own_words=keywords) if c.name not in competitors]
    if competitors or inferred:
        evidence["competitors"] = (
            f"{len(competitors)} from competitor campaigns' keywords, {len(inferred)} inferred from the queries"
        )
    name = _printable(re.sub(r"\s*\((google ads|meta)\)$", "", structure.account.display_name, flags=re.I))
    business = f"{name}: {', '.join(t for t in themes if t)}" if themes else name
    profile = AdvertiserProfile(
        business=business[:500],
        offers=tuple(offers),
        locations=tuple(locations),
        languages=tuple(languages),
        brand_terms=tuple(brand_terms),
        competitors=tuple([*competitors, *(c.name for c in inferred)]),
        landing_pages=landing_pages,
    )
    return DraftProfile(profile=profile, evidence=evidence, inferred_competitors=inferred)


def _unique(texts: Iterable[str]) -> list[str]:
    return [t for t in dict.fromkeys(texts) if t]
