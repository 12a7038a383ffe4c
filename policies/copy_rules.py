"""Ad copy against the policy's limits and its claims and style rules, through the one check of each in ads/ad_copy.py.

`check_ad_copy` returns violations in plain words, each naming the asset (e.g. 'headline 2'), so a
marketer can fix the copy without reading code. An empty list means the copy may go to review.
`text_rules` hands the same rules to the copy writers (tools/creatives.py), so the writer writes by them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ads.ad_copy import (
    CopyTextRules,
    MetaCopyLimits,
    RsaLimits,
    meta_problems,
    named_assets,
    rsa_problems,
    text_problems,
)
from ads.entities import MetaAdCopy, ResponsiveSearchAdCopy

if TYPE_CHECKING:  # gate.py imports this module; the policy models live there
    from ads.entities import AdCopy
    from policies.gate import Policy


def text_rules(policy: Policy) -> CopyTextRules:
    """The policy's claims and style rules, as the writers and the gate's check read them."""
    rules = policy.ad_copy
    return CopyTextRules(
        forbidden_claims=rules.forbidden_claims,
        allowed_claims=rules.allowed_claims,
        allowed_acronyms=rules.allowed_acronyms,
        max_caps_letters=rules.max_caps_letters,
        forbid_repeated_exclamation=rules.forbid_repeated_exclamation,
    )


def check_ad_copy(copy: AdCopy, policy: Policy) -> list[str]:
    rules = policy.ad_copy
    if isinstance(copy, ResponsiveSearchAdCopy):
        limits = rsa_problems(copy, RsaLimits(**rules.rsa.model_dump()))
    elif isinstance(copy, MetaAdCopy):
        limits = meta_problems(copy, MetaCopyLimits(**rules.meta.model_dump()))
    else:
        return [f"unknown ad copy type {type(copy).__name__}"]
    style = text_rules(policy)
    return limits + [problem for asset, text in named_assets(copy) for problem in text_problems(asset, text, style)]
