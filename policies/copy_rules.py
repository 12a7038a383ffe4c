"""Ad copy against the policy's limits (through the one check in ads/ad_copy.py) and its claims and style rules.

`check_ad_copy` returns violations in plain words, each naming the asset (e.g. 'headline 2'), so a
marketer can fix the copy without reading code. An empty list means the copy may go to review.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from ads.ad_copy import MetaCopyLimits, RsaLimits, meta_problems, named_assets, quote_asset, rsa_problems
from ads.entities import MetaAdCopy, ResponsiveSearchAdCopy

if TYPE_CHECKING:  # gate.py imports this module; the policy models live there
    from ads.entities import AdCopy
    from policies.gate import CopyPolicy, Policy

_WORD = re.compile(r"[^\W\d_]+")


def check_ad_copy(copy: AdCopy, policy: Policy) -> list[str]:
    rules = policy.ad_copy
    if isinstance(copy, ResponsiveSearchAdCopy):
        limits = rsa_problems(copy, RsaLimits(**rules.rsa.model_dump()))
    elif isinstance(copy, MetaAdCopy):
        limits = meta_problems(copy, MetaCopyLimits(**rules.meta.model_dump()))
    else:
        return [f"unknown ad copy type {type(copy).__name__}"]
    return limits + [problem for asset, text in named_assets(copy) for problem in _text_violations(asset, text, rules)]


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
        f'{asset} {quote_asset(text)} makes the forbidden claim "{claim}"'
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
            f"{asset} {quote_asset(text)} has ALL-CAPS word(s) {', '.join(shouted)} "
            f"(over {rules.max_caps_letters} letters)"
        )
    if rules.forbid_repeated_exclamation and "!!" in text:
        problems.append(f'{asset} {quote_asset(text)} repeats "!"')
    return problems
