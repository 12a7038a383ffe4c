from __future__ import annotations

from dataclasses import replace

import pytest

from ads.ad_copy import (
    PLATFORM_RSA_LIMITS,
    MetaCopyLimits,
    RsaLimits,
    ad_text_length,
    meta_problems,
    named_assets,
    rsa_problems,
)
from ads.entities import MetaAdCopy, ResponsiveSearchAdCopy
from ads.limits import limit

RSA = ResponsiveSearchAdCopy(
    headlines=("Trail Running Shoes", "Waterproof Trail Shoes", "Shop Light Trail Shoes"),
    descriptions=("Grip on wet rock and mud.", "Returns within 30 days."),
    path1="trail",
    path2="running",
    final_url="https://acme.example/trail",
)
META = MetaAdCopy(primary_text="Shoes that grip on wet rock.", headline="Trail shoes", link_url="https://shop.example")


def test_platform_rsa_limits_are_the_table_s() -> None:
    assert PLATFORM_RSA_LIMITS == RsaLimits(
        min_headlines=limit("rsa_min_headlines"),
        max_headlines=limit("rsa_max_headlines"),
        headline_max_chars=limit("rsa_headline_max_chars"),
        min_descriptions=limit("rsa_min_descriptions"),
        max_descriptions=limit("rsa_max_descriptions"),
        description_max_chars=limit("rsa_description_max_chars"),
        path_max_chars=limit("rsa_path_max_chars"),
    )
    assert (PLATFORM_RSA_LIMITS.headline_max_chars, PLATFORM_RSA_LIMITS.description_max_chars) == (30, 90)


def test_valid_copy_has_no_problems() -> None:
    assert rsa_problems(RSA) == []
    assert meta_problems(META) == []


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        ({"headlines": ("One", "Two")}, ["2 headlines; a responsive search ad needs 3–15"]),
        ({"descriptions": ("Only one.",)}, ["1 descriptions; a responsive search ad needs 2–4"]),
        (
            {"headlines": (*RSA.headlines[:2], "Lightweight Waterproof Trail Shoe")},
            ['headline 3 "Lightweight Waterproof Trail Shoe" has 33 characters; the limit is 30'],
        ),
        (
            {"descriptions": (RSA.descriptions[0], "x" * 91)},
            [f'description 2 "{"x" * 40}…" has 91 characters; the limit is 90'],
        ),
        ({"path2": "running-shoes-sale"}, ['path2 "running-shoes-sale" has 18 characters; the limit is 15']),
        ({"headlines": (*RSA.headlines, "  ")}, ["headline 4 is empty"]),
        (
            {"headlines": (*RSA.headlines, "trail running  SHOES")},
            ['headline 4 "trail running  SHOES" repeats headline 1'],
        ),
        (
            {"descriptions": (*RSA.descriptions, "grip on wet rock and MUD.")},
            ['description 3 "grip on wet rock and MUD." repeats description 1'],
        ),
    ],
)
def test_each_rsa_problem_names_the_asset(update: dict[str, object], expected: list[str]) -> None:
    assert rsa_problems(RSA.model_copy(update=update)) == expected


def test_double_width_characters_count_twice() -> None:
    wide = "登山靴" * 6
    assert ad_text_length(wide) == 36
    problems = rsa_problems(RSA.model_copy(update={"headlines": (wide, *RSA.headlines[1:])}))
    assert problems == [f'headline 1 "{wide}" has 36 characters; the limit is 30']


def test_stricter_limits_are_applied_as_given() -> None:
    strict = replace(PLATFORM_RSA_LIMITS, min_headlines=4, headline_max_chars=20)
    assert rsa_problems(RSA, strict) == [
        "3 headlines; a responsive search ad needs 4–15",
        'headline 2 "Waterproof Trail Shoes" has 22 characters; the limit is 20',
        'headline 3 "Shop Light Trail Shoes" has 22 characters; the limit is 20',
    ]


def test_meta_lengths_are_checked_only_when_limits_name_them() -> None:
    long_headline = META.model_copy(update={"headline": "Trail shoes that grip on wet rock, mud and snow"})
    assert meta_problems(long_headline) == []
    assert meta_problems(long_headline, MetaCopyLimits(headline_max_chars=40)) == [
        'headline "Trail shoes that grip on wet rock, mud a…" has 47 characters; the limit is 40'
    ]
    assert meta_problems(META.model_copy(update={"primary_text": " "}), MetaCopyLimits()) == ["primary text is empty"]


def test_named_assets_name_every_text() -> None:
    assert [name for name, _ in named_assets(RSA)] == [
        "headline 1",
        "headline 2",
        "headline 3",
        "description 1",
        "description 2",
        "path1",
        "path2",
    ]
    assert named_assets(META) == [("primary text", META.primary_text), ("headline", "Trail shoes"), ("description", "")]
