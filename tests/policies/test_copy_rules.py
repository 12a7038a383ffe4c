from __future__ import annotations

from typing import Any

import pytest

from ads.ad_copy import ad_text_length
from ads.entities import MetaAdCopy, ResponsiveSearchAdCopy
from policies.copy_rules import check_ad_copy
from policies.gate import MetaCopyPolicy, Policy, load_policy

POLICY = load_policy()
RSA = ResponsiveSearchAdCopy(
    headlines=("Trail Running Shoes", "Waterproof Trail Shoes", "Shop Light Trail Shoes"),
    descriptions=("Grip on wet rock and mud.", "Returns within 30 days, no questions."),
    path1="trail",
    path2="running",
    final_url="https://acme.example/trail",
)
META = MetaAdCopy(
    primary_text="Shoes that grip on wet rock.",
    headline="Trail shoes for every season",
    link_url="https://shop.example",
)


def rsa(**fields: Any) -> ResponsiveSearchAdCopy:
    return RSA.model_copy(update=fields)


def test_clean_copy_has_no_violations() -> None:
    assert check_ad_copy(RSA, POLICY) == []
    assert check_ad_copy(META, POLICY) == []


@pytest.mark.parametrize(
    ("copy", "expected"),
    [
        (rsa(headlines=("One", "Two")), "2 headlines; a responsive search ad needs 3–15"),
        (rsa(headlines=tuple(f"Headline {i}" for i in range(16))), "16 headlines; a responsive search ad needs 3–15"),
        (rsa(descriptions=("Only one.",)), "1 descriptions; a responsive search ad needs 2–4"),
        (
            rsa(headlines=(*RSA.headlines[:2], "Lightweight Waterproof Trail Shoe")),
            'headline 3 "Lightweight Waterproof Trail Shoe" has 33 characters; the limit is 30',
        ),
        (rsa(descriptions=(RSA.descriptions[0], "x" * 91)), "description 2"),
        (rsa(path2="running-shoes-sale"), 'path2 "running-shoes-sale" has 18 characters; the limit is 15'),
        (
            rsa(headlines=(*RSA.headlines, "trail running  SHOES")),
            'headline 4 "trail running  SHOES" repeats headline 1',
        ),
        (rsa(descriptions=(*RSA.descriptions, "grip on wet rock and mud.")), "description 3 "),
        (
            rsa(headlines=(*RSA.headlines, "The #1 Trail Shoe")),
            'headline 4 "The #1 Trail Shoe" makes the forbidden claim "#1"',
        ),
        (
            rsa(descriptions=(RSA.descriptions[0], "Best price guaranteed on all trail shoes.")),
            'makes the forbidden claim "best price guaranteed"',
        ),
        (rsa(descriptions=(RSA.descriptions[0], "Free shipping on every order.")), '"free shipping"'),
        (rsa(headlines=(*RSA.headlines, "Cure Sore Feet Today")), 'forbidden claim "cure"'),
        (rsa(headlines=(*RSA.headlines, "AMAZING Trail Shoes")), "ALL-CAPS word(s) AMAZING (over 4 letters)"),
        (rsa(headlines=(*RSA.headlines, "Buy Now!!")), 'headline 4 "Buy Now!!" repeats "!"'),
        (META.model_copy(update={"primary_text": "  "}), "primary text is empty"),
        (
            META.model_copy(update={"primary_text": "Try it risk-free for 30 days"}),
            'primary text "Try it risk-free for 30 days" makes the forbidden claim "risk-free"',
        ),
    ],
)
def test_each_violation_names_the_asset(copy: Any, expected: str) -> None:
    violations = check_ad_copy(copy, POLICY)
    assert any(expected in violation for violation in violations), violations


def test_whole_words_only_and_allowed_exceptions() -> None:
    assert check_ad_copy(rsa(headlines=(*RSA.headlines, "Secure Fit, SALE on NASA")), POLICY) == []
    hipaa = rsa(headlines=(*RSA.headlines, "HIPAA Ready Shoe Lockers"))
    assert check_ad_copy(hipaa, POLICY) == []
    shipping = rsa(descriptions=(RSA.descriptions[0], "Free shipping on every order."))
    allowed = POLICY.model_copy(
        update={"ad_copy": POLICY.ad_copy.model_copy(update={"allowed_claims": ("Free Shipping",)})}
    )
    assert check_ad_copy(shipping, allowed) == []


def test_meta_headline_length_is_a_violation_only_when_the_policy_says_so() -> None:
    long_headline = META.model_copy(update={"headline": "Trail shoes that grip on wet rock, mud and snow"})
    assert check_ad_copy(long_headline, POLICY) == []
    strict: Policy = POLICY.model_copy(
        update={"ad_copy": POLICY.ad_copy.model_copy(update={"meta": MetaCopyPolicy(headline_max_chars=40)})}
    )
    assert check_ad_copy(long_headline, strict) == [
        'headline "Trail shoes that grip on wet rock, mud a…" has 47 characters; the limit is 40'
    ]


def test_double_width_characters_count_twice_as_google_counts_them() -> None:
    wide = "登山靴" * 6  # 18 characters, 36 as Google counts them
    copy = ResponsiveSearchAdCopy(
        headlines=(wide, "Trail Boots", "Shop Now"), descriptions=("Boots.", "Tents."), final_url="https://example.com"
    )
    assert ad_text_length(wide) == 36
    assert any("36 characters" in problem for problem in check_ad_copy(copy, load_policy()))
