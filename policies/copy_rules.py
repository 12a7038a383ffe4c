"""Ad copy against the platform limits and the policy's claims and style rules.

`check_ad_copy` returns violations in plain words, each naming the asset (e.g. 'headline 2'), so a
marketer can fix the copy without reading code. An empty list means the copy may go to review.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from ads.ad_copy import ad_text_length
from ads.entities import MetaAdCopy, ResponsiveSearchAdCopy

if TYPE_CHECKING:  # gate.py imports this module; the policy models live there
    from ads.entities import AdCopy
    from policies.gate import CopyPolicy, Policy

_QUOTE_CHARS = 40
_WORD = re.compile(r"[^\W\d_]+")


def check_ad_copy(copy: AdCopy, policy: Policy) -> list[str]:
    rules = policy.ad_copy
    if isinstance(copy, ResponsiveSearchAdCopy):
        assets = _rsa_violations(copy, rules)
        texts = [
            *_numbered("headline", copy.headlines),
            *_numbered("description", copy.descriptions),
            ("path1", copy.path1),
            ("path2", copy.path2),
        ]
    elif isinstance(copy, MetaAdCopy):
        assets = _meta_violations(copy, rules)
        texts = [("primary text", copy.primary_text), ("headline", copy.headline), ("description", copy.description)]
    else:
        return [f"unknown ad copy type {type(copy).__name__}"]
    return assets + [problem for asset, text in texts for problem in _text_violations(asset, text, rules)]


def _numbered(label: str, items: Iterable[str]) -> list[tuple[str, str]]:
    return [(f"{label} {number}", text) for number, text in enumerate(items, start=1)]


def _quote(text: str) -> str:
    return f'"{text[:_QUOTE_CHARS]}…"' if len(text) > _QUOTE_CHARS else f'"{text}"'


def _too_long(asset: str, text: str, limit: int | None) -> list[str]:
    if limit is None or ad_text_length(text) <= limit:
        return []
    return [f"{asset} {_quote(text)} has {ad_text_length(text)} characters; the limit is {limit}"]


def _count(label: str, items: tuple[str, ...], low: int, high: int) -> list[str]:
    if low <= len(items) <= high:
        return []
    return [f"{len(items)} {label}s; a responsive search ad needs {low}–{high}"]


def _duplicates(label: str, items: tuple[str, ...]) -> list[str]:
    first_seen: dict[str, int] = {}
    problems = []
    for number, text in enumerate(items, start=1):
        key = " ".join(text.casefold().split())
        if key in first_seen:
            problems.append(f"{label} {number} {_quote(text)} repeats {label} {first_seen[key]}")
        else:
            first_seen[key] = number
    return problems


def _rsa_violations(copy: ResponsiveSearchAdCopy, rules: CopyPolicy) -> list[str]:
    rsa = rules.rsa
    problems = [
        *_count("headline", copy.headlines, rsa.min_headlines, rsa.max_headlines),
        *_count("description", copy.descriptions, rsa.min_descriptions, rsa.max_descriptions),
    ]
    for asset, text in _numbered("headline", copy.headlines):
        problems += _too_long(asset, text, rsa.headline_max_chars)
    for asset, text in _numbered("description", copy.descriptions):
        problems += _too_long(asset, text, rsa.description_max_chars)
    problems += _too_long("path1", copy.path1, rsa.path_max_chars) + _too_long("path2", copy.path2, rsa.path_max_chars)
    return problems + _duplicates("headline", copy.headlines) + _duplicates("description", copy.descriptions)


def _meta_violations(copy: MetaAdCopy, rules: CopyPolicy) -> list[str]:
    meta = rules.meta
    problems = [] if copy.primary_text.strip() else ["primary text is empty"]
    return (
        problems
        + _too_long("primary text", copy.primary_text, meta.primary_text_max_chars)
        + _too_long("headline", copy.headline, meta.headline_max_chars)
        + _too_long("description", copy.description, meta.description_max_chars)
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


def _text_violations(asset: str, text: str, rules: CopyPolicy) -> list[str]:
    problems = [
        f'{asset} {_quote(text)} makes the forbidden claim "{claim}"'
        for claim, pattern in _claim_patterns(rules.forbidden_claims, rules.allowed_claims)
        if pattern.search(text)
    ]
    acronyms = {acronym.upper() for acronym in rules.allowed_acronyms}
    shouted = [
        word
        for word in _WORD.findall(text)
        if len(word) > rules.max_caps_letters and word.isupper() and word not in acronyms
    ]
    if shouted:
        problems.append(
            f"{asset} {_quote(text)} has ALL-CAPS word(s) {', '.join(shouted)} (over {rules.max_caps_letters} letters)"
        )
    if rules.forbid_repeated_exclamation and "!!" in text:
        problems.append(f'{asset} {_quote(text)} repeats "!"')
    return problems
