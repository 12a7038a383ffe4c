"""Creative variants: ad copy written from a theme, and which ad groups need a new variant.

The template writer here is deterministic and offline. A configured LLM can write instead
(a `CopyWriter` passed in from agents/); whatever it returns is checked against the
platform limits, de-duplicated, and topped up from the template, so the result is always valid.
Keywords, themes and brand names are untrusted text: they are reduced to plain words before
they go into copy, and never change what this module does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import asdict, replace
from typing import Protocol

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from ads.ad_copy import PLATFORM_RSA_LIMITS, ad_text_length, asset_key
from ads.changes import AddCreativeVariants, Evidence
from ads.entities import (
    AccountStructure,
    Ad,
    AdCopy,
    AdGroup,
    MetaAdCopy,
    Platform,
    ResponsiveSearchAdCopy,
    Status,
)
from ads.limits import limit

# More headlines and descriptions than the platform minimums (3, 2) so the ad has room to rotate combinations.
RSA_LIMITS = replace(PLATFORM_RSA_LIMITS, min_headlines=8, min_descriptions=3)
META_PRIMARY_MAX = limit("meta_primary_text_recommended_chars")
META_HEADLINE_MAX = limit("meta_headline_recommended_chars")
META_DESCRIPTION_MAX = limit("meta_description_recommended_chars")

# Claims the template never makes and writer output may not make (ad policies: unverifiable
# superlatives, guarantees, health claims). The gate's policy list may be longer.
FORBIDDEN_CLAIMS: tuple[str, ...] = (
    "#1",
    "number one",
    "guarantee",
    "guaranteed",
    "100%",
    "risk-free",
    "risk free",
    "cure",
    "cures",
    "best price",
    "lowest price",
    "cheapest",
    "free shipping",
    "miracle",
)
_FORBIDDEN = re.compile("|".join(rf"(?<!\w){re.escape(claim)}(?!\w)" for claim in FORBIDDEN_CLAIMS), re.IGNORECASE)
# A word is letters/digits, optionally joined by an apostrophe, ampersand, dot or hyphen.
_WORD = re.compile(r"[^\W_]+(?:['’&.\-][^\W_]+)*")
_LETTER_RUN = re.compile(r"[^\W\d_]+")
# Words a trimmed phrase must not end on ("Boots For").
_DANGLING = frozenset({"a", "an", "and", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to", "with", "&"})

# Minimum impressions before an ad group's CTR is compared with its campaign's.
MIN_IMPRESSIONS_FOR_CTR = 1000
# An ad group is "lowest CTR" only when it is also clearly below its campaign's CTR.
LOW_CTR_RATIO = 0.8
MIN_ENABLED_ADS = 2

_KEYWORD_HEADLINES = ("{kw}", "Shop {kw}", "{kw} Online", "Compare {kw}", "Find Your {kw}")
_THEME_HEADLINES = ("{theme}", "Explore {theme}", "{theme} For Every Need")
_BRAND_HEADLINES = ("{brand}", "{brand} Official Site", "{brand} {theme}", "Shop {brand}")
_FILLER_HEADLINES = (
    "Order Online Today",
    "Fast, Simple Checkout",
    "Browse The Full Range",
    "Compare Options Online",
    "Friendly Expert Support",
    "Secure Online Ordering",
    "Find The Right Fit For You",
    "See What's New",
    "Get Started Today",
    "Shop With Confidence",
    "Quality You Can Count On",
    "Helpful Advice Online",
)
_KEYWORD_DESCRIPTIONS = (
    "Looking for {kw}? Browse the range and find the right fit for you.",
    "Shop {kw} at {brand}. Compare options and order online in minutes.",
    "Compare {kw} side by side and choose what suits your needs.",
)
_THEME_DESCRIPTIONS = (
    "Explore {theme} from {brand}. Friendly support and a secure checkout.",
    "Explore our {theme} range. Friendly support and a secure checkout.",
)
_FILLER_DESCRIPTIONS = (
    "Browse the full range online and find the one that suits you.",
    "Secure checkout and friendly support from people who know the products.",
    "Order online in minutes and follow your order at every step.",
    "Compare options side by side and choose what fits your plans.",
)
_META_PRIMARY = (
    "Looking for {kw}? Explore {theme} from {brand} and find the right fit for you.",
    "Looking for {kw}? Explore our {theme} range and find the right fit for you.",
    "Explore {theme} from {brand}. Compare options and order online in minutes.",
    "Explore our {theme} range. Compare options and order online in minutes.",
    "Find the right fit for you. Compare options and order online in minutes.",
)
_META_HEADLINES = ("Shop {theme}", "{brand}: {theme}", "{theme} From {brand}", "Explore {theme}", "Shop The Range")
_META_DESCRIPTION = "Order online today"


class CreativeBrief(BaseModel):
    """What a copy writer is asked for. Every text field is untrusted data, not instructions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: Platform
    theme: str
    keywords: tuple[str, ...] = ()
    landing_url: str
    brand: str | None = None
    avoid_headlines: tuple[str, ...] = Field(default=(), description="Headlines the ad group already runs.")
    limits: dict[str, int] = Field(
        default_factory=lambda: {
            **asdict(RSA_LIMITS),
            "meta_primary_text_max_chars": META_PRIMARY_MAX,
            "meta_headline_max_chars": META_HEADLINE_MAX,
            "meta_description_max_chars": META_DESCRIPTION_MAX,
        }
    )


class CopyWriter(Protocol):
    """Writes ad copy for a brief, e.g. an LLM configured in agents/. Its output is checked, never trusted."""

    def __call__(self, brief: CreativeBrief) -> list[AdCopy]: ...


_ad_copy_adapter: TypeAdapter[AdCopy] = TypeAdapter(AdCopy)


def asset_problem(text: str, max_chars: int) -> str | None:
    """Why a headline/description/path can't be used, or None when it can."""
    if not text or text != text.strip():
        return "empty or padded with spaces"
    if ad_text_length(text) > max_chars:
        return f"longer than {max_chars} characters"
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        return "contains control characters"
    if claim := _FORBIDDEN.search(text):
        return f"makes a forbidden claim ({claim.group(0)!r})"
    if "!!" in text:
        return "repeats exclamation marks"
    if any(len(run) > 4 and run.isupper() for run in _LETTER_RUN.findall(text)):
        return "has an all-caps word"
    return None


def _plain_words(text: str) -> list[str]:
    """Untrusted text reduced to words in Title Case; symbols, emoji and markup are dropped."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text))
    return [_title(w) for w in words if not _FORBIDDEN.fullmatch(w)]


def _title(word: str) -> str:
    if any(len(run) > 4 and run.isupper() for run in _LETTER_RUN.findall(word)):  # "WATERPROOF" reads as shouting
        word = word.lower()
    return word[:1].upper() + word[1:]


def _shortenings(words: list[str]) -> list[list[str]]:
    """A phrase and its shorter forms, longest first, never cutting a word: the qualifier after a
    preposition goes first ("Boots For Women" -> "Boots"), then leading modifiers, so the head noun stays."""
    cut = next((i for i, w in enumerate(words) if i > 0 and w.casefold() in _DANGLING), len(words))
    head = words[:cut]
    shorter = [head[i:] for i in range(len(head))]
    return [words] + [
        f for i, f in enumerate(shorter) if f != words and f[0].casefold() not in _DANGLING and f not in shorter[:i]
    ]


def _fill(template: str, max_chars: int, **slots: list[str]) -> str | None:
    """The template with each slot filled, shortening the longest trimmable phrase until it fits.

    The brand is never shortened: a template that cannot hold the whole brand is not used.
    """
    names = [name for name in slots if "{" + name + "}" in template]
    if any(not slots[name] for name in names):
        return None
    forms = {name: [slots[name]] if name == "brand" else _shortenings(slots[name]) for name in names}
    chosen = dict.fromkeys(names, 0)
    while True:
        phrases = {name: " ".join(forms[name][chosen[name]]) for name in names}
        text = template.format(**phrases)
        if asset_problem(text, max_chars) is None:
            return text
        trimmable = [name for name in names if chosen[name] + 1 < len(forms[name])]
        if not trimmable:
            return None
        chosen[max(trimmable, key=lambda name: ad_text_length(phrases[name]))] += 1


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


def write_rsa(
    theme: str,
    keywords: Sequence[str],
    final_url: str,
    brand: str | None = None,
    *,
    avoid_headlines: Collection[str] = (),
) -> ResponsiveSearchAdCopy:
    """A valid responsive search ad for a theme: 8-15 headlines, 3-4 descriptions, limits respected.

    Keywords are inserted in Title Case, trimmed by whole words to fit. Headlines listed in
    `avoid_headlines` (the ad group's current ones) are used only if nothing else is left.
    """
    theme_words = _plain_words(theme)
    keyword_phrases = [_plain_words(k) for k in keywords]
    keyword_phrases = [p for p in keyword_phrases if p] or ([theme_words] if theme_words else [])
    brand_words = _plain_words(brand) if brand else []
    slots = {"theme": theme_words or (keyword_phrases[0] if keyword_phrases else []), "brand": brand_words}

    headlines: list[str | None] = [_fill(t, RSA_LIMITS.headline_max_chars, **slots) for t in _BRAND_HEADLINES[:2]]
    for index, template in enumerate(_KEYWORD_HEADLINES):
        # Keywords take the templates in turn, so ten keywords do not all read "Shop X"; the first
        # keyword (the ad group's main one) gets every template.
        headlines += [
            _fill(template, RSA_LIMITS.headline_max_chars, kw=p, **slots)
            for p in keyword_phrases[index :: len(_KEYWORD_HEADLINES)]
        ]
        headlines += [_fill(template, RSA_LIMITS.headline_max_chars, kw=p, **slots) for p in keyword_phrases[:1]]
    headlines += [_fill(t, RSA_LIMITS.headline_max_chars, **slots) for t in _THEME_HEADLINES + _BRAND_HEADLINES[2:]]
    headlines += list(_FILLER_HEADLINES)

    descriptions: list[str | None] = [
        _fill(t, RSA_LIMITS.description_max_chars, kw=p, **slots)
        for t, p in zip(_KEYWORD_DESCRIPTIONS, keyword_phrases[:1] * 3, strict=False)
    ]
    descriptions += [_fill(t, RSA_LIMITS.description_max_chars, **slots) for t in _THEME_DESCRIPTIONS]
    descriptions += list(_FILLER_DESCRIPTIONS)

    path1 = _path(slots["theme"])
    second = next((p for p in keyword_phrases if _path(p) and _path(p).casefold() != path1.casefold()), [])
    return ResponsiveSearchAdCopy(
        headlines=tuple(_unique(headlines, avoid=avoid_headlines, limit_=RSA_LIMITS.max_headlines)),
        descriptions=tuple(_unique(descriptions, limit_=RSA_LIMITS.max_descriptions)),
        path1=path1,
        path2=_path(second) if path1 else "",
        final_url=final_url,
    )


def write_meta_ad(
    theme: str,
    keywords: Sequence[str],
    link_url: str,
    brand: str | None = None,
    *,
    avoid_headlines: Collection[str] = (),
) -> MetaAdCopy:
    """A Meta ad: primary text <= 125, headline <= 40, description <= 30 characters."""
    theme_words = _plain_words(theme)
    keyword_words = next((w for w in map(_plain_words, keywords) if w), [])
    slots = {"theme": theme_words or keyword_words, "kw": keyword_words, "brand": _plain_words(brand or "")}
    headline = _unique(
        (_fill(t, META_HEADLINE_MAX, **slots) for t in _META_HEADLINES), avoid=avoid_headlines, limit_=1
    )[0]
    primary = next(text for t in _META_PRIMARY if (text := _fill(t, META_PRIMARY_MAX, **slots)))
    return MetaAdCopy(primary_text=primary, headline=headline, description=_META_DESCRIPTION, link_url=link_url)


def write_copy(brief: CreativeBrief, writer: CopyWriter | None = None) -> AdCopy:
    """Copy for a brief: the writer's valid, distinct assets first, the template's to fill the gaps."""
    if brief.platform is Platform.META:
        template: AdCopy = write_meta_ad(
            brief.theme, brief.keywords, brief.landing_url, brief.brand, avoid_headlines=brief.avoid_headlines
        )
    else:
        template = write_rsa(
            brief.theme, brief.keywords, brief.landing_url, brief.brand, avoid_headlines=brief.avoid_headlines
        )
    if writer is None:
        return template
    try:
        written = list(writer(brief))
    except Exception:  # noqa: BLE001 - a failing writer (network, bad output) must not stop an audit
        written = []
    proposals = list(_as_ad_copies(written))
    if isinstance(template, MetaAdCopy):
        return _merge_meta([c for c in proposals if isinstance(c, MetaAdCopy)], template)
    rsas = [c for c in proposals if isinstance(c, ResponsiveSearchAdCopy)]
    return _merge_rsa(rsas, template, brief.avoid_headlines)


def _as_ad_copies(items: Iterable[object]) -> Iterable[AdCopy]:
    for item in items:
        if isinstance(item, ResponsiveSearchAdCopy | MetaAdCopy):
            yield item
            continue
        try:
            yield _ad_copy_adapter.validate_python(item)
        except ValidationError:
            continue


def _valid(texts: Iterable[str], max_chars: int) -> list[str]:
    return [t for t in texts if isinstance(t, str) and asset_problem(t, max_chars) is None]


def _merge_rsa(
    proposals: list[ResponsiveSearchAdCopy], template: ResponsiveSearchAdCopy, avoid: Collection[str]
) -> ResponsiveSearchAdCopy:
    written = [h for p in proposals for h in _valid(p.headlines, RSA_LIMITS.headline_max_chars)]
    # The template's headlines stay ahead of the avoided ones, so a writer that repeats the
    # ad group's current copy still gets a fresh variant.
    headlines = _unique(written + list(template.headlines), avoid=avoid, limit_=RSA_LIMITS.max_headlines)
    descriptions = _unique(
        [d for p in proposals for d in _valid(p.descriptions, RSA_LIMITS.description_max_chars)]
        + list(template.descriptions),
        limit_=RSA_LIMITS.max_descriptions,
    )
    paths = next(
        (
            (p.path1, p.path2)
            for p in proposals
            if _valid([p.path1], RSA_LIMITS.path_max_chars)
            and (not p.path2 or _valid([p.path2], RSA_LIMITS.path_max_chars))
        ),
        (template.path1, template.path2),
    )
    # The landing page comes from the account, never from the writer.
    return template.model_copy(
        update={
            "headlines": tuple(headlines),
            "descriptions": tuple(descriptions),
            "path1": paths[0],
            "path2": paths[1],
        }
    )


def _merge_meta(proposals: list[MetaAdCopy], template: MetaAdCopy) -> MetaAdCopy:
    def first(field: str, max_chars: int) -> str:
        return next(iter(_valid((getattr(p, field) for p in proposals), max_chars)), getattr(template, field))

    return template.model_copy(
        update={
            "primary_text": first("primary_text", META_PRIMARY_MAX),
            "headline": first("headline", META_HEADLINE_MAX),
            "description": first("description", META_DESCRIPTION_MAX),
        }
    )


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
    *,
    writer: CopyWriter | None = None,
    max_changes: int = 10,
) -> list[AddCreativeVariants]:
    """One paused new ad for each enabled ad group that is thin (< 2 enabled ads) or has its
    campaign's lowest CTR (with at least MIN_IMPRESSIONS_FOR_CTR impressions, and below
    LOW_CTR_RATIO x the CTR of the campaign's other measured ad groups). Thin ad groups come
    first, then by impressions. Google accounts get RSAs, Meta accounts Meta ad copy.
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

    candidates: list[tuple[int, int, AdGroup, str]] = []
    for group in groups:
        s = stats.get(group.id, _AdGroupStats())
        n_ads = len(enabled_ads[group.id])
        if n_ads < MIN_ENABLED_ADS:
            reason = (
                f"Ad group '{group.name}' has {n_ads} enabled ad{'s' if n_ads != 1 else ''}; "
                f"a second, paused variant gives the platform copy to test against."
            )
            candidates.append((0, -s.impressions, group, reason))
        elif group.id in low_ctr:
            campaign_ctr = low_ctr[group.id]
            reason = (
                f"Ad group '{group.name}' has the lowest click-through rate in campaign "
                f"'{campaigns[group.campaign_id].name}': {s.ctr:.2%} over {s.impressions:,} impressions, "
                f"against {campaign_ctr:.2%} for its other ad groups. A fresh, paused variant tests new copy."
            )
            candidates.append((1, -s.impressions, group, reason))
    candidates.sort(key=lambda c: (c[0], c[1]))

    brand = account.brand_terms[0] if account.brand_terms else None
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
        current = [h for a in enabled_ads[group.id] for h in _headlines_of(a.copy_)]
        brief = CreativeBrief(
            platform=platform,
            theme=group.name,
            keywords=() if platform is Platform.META else tuple(keywords_by_group.get(group.id, ())),
            landing_url=url,
            brand=brand,
            avoid_headlines=tuple(current),
        )
        s = stats.get(group.id, _AdGroupStats())
        changes.append(
            AddCreativeVariants(
                account=account.name,
                ad_group_id=group.id,
                ad_group_name=group.name,
                ad=write_copy(brief, writer),
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
                    },
                ),
            )
        )
    return changes


def _headlines_of(copy: AdCopy) -> tuple[str, ...]:
    return copy.headlines if isinstance(copy, ResponsiveSearchAdCopy) else (copy.headline,)


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
    "FORBIDDEN_CLAIMS",
    "CopyWriter",
    "CreativeBrief",
    "asset_problem",
    "propose_creative_variants",
    "write_copy",
    "write_meta_ad",
    "write_rsa",
]
