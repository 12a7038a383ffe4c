"""How the platforms measure ad text, and the one check of ad copy against a set of limits.

The store and the template writer check against the platform's limits (ads/limits.py); the gate's copy
rules pass the policy's, which may be stricter, never looser. Problems are plain words naming the asset
('headline 2'), so a marketer can fix the copy without reading code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from ads.entities import MetaAdCopy, ResponsiveSearchAdCopy
from ads.limits import limit

_QUOTE_CHARS = 40
_LETTERS = re.compile(r"[^\W\d_]+")


def ad_text_length(text: str) -> int:
    """Characters as Google Ads counts them: double-width (CJK) characters count as two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def asset_key(text: str) -> str:
    """The form in which two assets of one ad count as the same: case and spacing do not tell them apart."""
    return " ".join(text.casefold().split())


def quote_asset(text: str) -> str:
    """An asset's text for a message, cut to 40 characters."""
    return f'"{text[:_QUOTE_CHARS]}…"' if len(text) > _QUOTE_CHARS else f'"{text}"'


@dataclass(frozen=True)
class RsaLimits:
    min_headlines: int
    max_headlines: int
    headline_max_chars: int
    min_descriptions: int
    max_descriptions: int
    description_max_chars: int
    path_max_chars: int


@dataclass(frozen=True)
class MetaCopyLimits:
    """Meta's lengths are recommendations, not limits: None means the length is not checked."""

    primary_text_max_chars: int | None = None
    headline_max_chars: int | None = None
    description_max_chars: int | None = None


PLATFORM_RSA_LIMITS = RsaLimits(
    min_headlines=limit("rsa_min_headlines"),
    max_headlines=limit("rsa_max_headlines"),
    headline_max_chars=limit("rsa_headline_max_chars"),
    min_descriptions=limit("rsa_min_descriptions"),
    max_descriptions=limit("rsa_max_descriptions"),
    description_max_chars=limit("rsa_description_max_chars"),
    path_max_chars=limit("rsa_path_max_chars"),
)


def named_assets(copy: ResponsiveSearchAdCopy | MetaAdCopy) -> list[tuple[str, str]]:
    """Each text of an ad with the name a marketer knows it by ('headline 2', 'path1', 'primary text')."""
    if isinstance(copy, MetaAdCopy):
        return [("primary text", copy.primary_text), ("headline", copy.headline), ("description", copy.description)]
    return [
        *_numbered("headline", copy.headlines),
        *_numbered("description", copy.descriptions),
        ("path1", copy.path1),
        ("path2", copy.path2),
    ]


def rsa_problems(copy: ResponsiveSearchAdCopy, limits: RsaLimits = PLATFORM_RSA_LIMITS) -> list[str]:
    """What breaks `limits` in a responsive search ad; empty when the copy is valid."""
    headlines, descriptions = _numbered("headline", copy.headlines), _numbered("description", copy.descriptions)
    problems = [
        *_count("headline", copy.headlines, limits.min_headlines, limits.max_headlines),
        *_count("description", copy.descriptions, limits.min_descriptions, limits.max_descriptions),
    ]
    for asset, text in headlines:
        problems += _empty(asset, text) + _too_long(asset, text, limits.headline_max_chars)
    for asset, text in descriptions:
        problems += _empty(asset, text) + _too_long(asset, text, limits.description_max_chars)
    for asset, text in (("path1", copy.path1), ("path2", copy.path2)):
        problems += _too_long(asset, text, limits.path_max_chars)
    return problems + _repeats(headlines) + _repeats(descriptions)


def meta_problems(copy: MetaAdCopy, limits: MetaCopyLimits = MetaCopyLimits()) -> list[str]:
    """What breaks `limits` in a Meta ad; empty when the copy is valid."""
    return (
        _empty("primary text", copy.primary_text)
        + _too_long("primary text", copy.primary_text, limits.primary_text_max_chars)
        + _too_long("headline", copy.headline, limits.headline_max_chars)
        + _too_long("description", copy.description, limits.description_max_chars)
    )


@dataclass(frozen=True)
class CopyTextRules:
    """The claims and style rules every asset's text must follow: the policy's `ad_copy` section, handed to the
    gate's check and to the writers alike, so that both apply the same rules."""

    forbidden_claims: tuple[str, ...] = ()
    allowed_claims: tuple[str, ...] = ()  # forbidden claims this advertiser may make
    allowed_acronyms: tuple[str, ...] = ()
    max_caps_letters: int = 4
    forbid_repeated_exclamation: bool = True

    def allows(self, text: str) -> bool:
        """Whether `text` makes none of the forbidden claims this advertiser may not make."""
        return all(
            pattern.search(text) is None for _, pattern in _claim_patterns(self.forbidden_claims, self.allowed_claims)
        )


@lru_cache(maxsize=32)
def _claim_patterns(forbidden: tuple[str, ...], allowed: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """One pattern per forbidden claim, matched as whole words ('cure' must not match 'secure')."""
    permitted = {claim.casefold() for claim in allowed}
    return tuple(
        (claim, re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, claim.split())) + r"(?!\w)", re.IGNORECASE))
        for claim in forbidden
        if claim.casefold() not in permitted
    )


def text_problems(asset: str, text: str, rules: CopyTextRules) -> list[str]:
    """What in one asset's text breaks the claims and style rules, in plain words naming the asset."""
    problems = [
        f'{asset} {quote_asset(text)} makes the forbidden claim "{claim}"'
        for claim, pattern in _claim_patterns(rules.forbidden_claims, rules.allowed_claims)
        if pattern.search(text)
    ]
    acronyms = {acronym.upper() for acronym in rules.allowed_acronyms}
    shouted = [
        word
        for word in _LETTERS.findall(text)
        if len(word) > rules.max_caps_letters and word.isupper() and word not in acronyms
    ]
    if shouted:
        problems.append(
            f"{asset} {quote_asset(text)} has ALL-CAPS word(s) {', '.join(shouted)} "
            f"(over {rules.max_caps_letters} letters)"
        )
    if rules.forbid_repeated_exclamation and "!!" in text:
        problems.append(f'{asset} {quote_asset(text)} repeats "!"')
    return problems


def _numbered(label: str, texts: Iterable[str]) -> list[tuple[str, str]]:
    return [(f"{label} {number}", text) for number, text in enumerate(texts, start=1)]


def _count(label: str, texts: tuple[str, ...], low: int, high: int) -> list[str]:
    if low <= len(texts) <= high:
        return []
    return [f"{len(texts)} {label}s; a responsive search ad needs {low}–{high}"]


def _empty(asset: str, text: str) -> list[str]:
    return [] if text.strip() else [f"{asset} is empty"]


def _too_long(asset: str, text: str, max_chars: int | None) -> list[str]:
    if max_chars is None or ad_text_length(text) <= max_chars:
        return []
    return [f"{asset} {quote_asset(text)} has {ad_text_length(text)} characters; the limit is {max_chars}"]


def _repeats(assets: list[tuple[str, str]]) -> list[str]:
    first_seen: dict[str, str] = {}
    problems = []
    for asset, text in assets:
        key = asset_key(text)
        if not key:  # already reported as empty
            continue
        if key in first_seen:
            problems.append(f"{asset} {quote_asset(text)} repeats {first_seen[key]}")
        else:
            first_seen[key] = asset
    return problems
