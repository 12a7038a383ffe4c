"""How the platforms measure ad text, and the one check of ad copy against a set of limits.

The store and the template writer check against the platform's limits (ads/limits.py); the gate's copy
rules pass the policy's, which may be stricter, never looser. Problems are plain words naming the asset
('headline 2'), so a marketer can fix the copy without reading code.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from ads.entities import MetaAdCopy, ResponsiveSearchAdCopy
from ads.limits import limit

_QUOTE_CHARS = 40


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
