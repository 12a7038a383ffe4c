"""Google's matching semantics as tables, and the vectorised matcher held to the same tables."""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ads.entities import MatchType
from ads.keyword_matching import (
    _APOSTROPHES,
    _TOKEN,
    KeywordMatcher,
    TokenisedTexts,
    close_variant,
    keyword_problems,
    matches,
    normalise,
    tokens,
)
from ads.limits import limit

EXACT, PHRASE, BROAD = MatchType.EXACT, MatchType.PHRASE, MatchType.BROAD


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Hiking   BOOTS ", ("hiking", "boots")),
        ("men's boots", ("men's", "boots")),
        ("Men’s boots", ("men's", "boots")),  # curly apostrophe is an apostrophe
        ("'quoted' boots", ("quoted", "boots")),  # apostrophes outside a word are dropped
        ("b&q paint", ("b&q", "paint")),
        ("bed & breakfast", ("bed", "&", "breakfast")),
        ("t-shirt, cheap!", ("t", "shirt", "cheap")),
        ("boots (size 42) + laces", ("boots", "size", "42", "laces")),
        ("2.5l bottle", ("2", "5l", "bottle")),
        ("snake_case", ("snake", "case")),
        ("Ｂｏｏｔｓ", ("boots",)),  # full-width letters fold to ASCII (NFKC)
        ("Schuhe für Damen", ("schuhe", "für", "damen")),
        ("!!!", ()),
    ],
)
def test_tokens(text: str, expected: tuple[str, ...]) -> None:
    assert tokens(text) == expected


@pytest.mark.parametrize(
    ("word", "variant"),
    [
        ("boots", "boot"),
        ("boot", "boot"),
        ("boxes", "box"),
        ("batteries", "battery"),
        ("glasses", "glass"),
        ("glass", "glass"),
        ("shoes", "shoe"),
        ("men's", "men"),
        ("bus", "bus"),
        ("tennis", "tennis"),
        ("gps", "gps"),
        ("42s", "42s"),
    ],
)
def test_close_variant(word: str, variant: str) -> None:
    assert close_variant(word) == variant


NEGATIVE_TABLE = [
    # exact: the whole query, word order matters, no variants
    ("hiking boots", "hiking boots", EXACT, True),
    ("Hiking  Boots!", "hiking boots", EXACT, True),
    ("boots hiking", "hiking boots", EXACT, False),
    ("hiking boot", "hiking boots", EXACT, False),
    ("cheap hiking boots", "hiking boots", EXACT, False),
    # phrase: contiguous, in order
    ("cheap hiking boots", "hiking boots", PHRASE, True),
    ("hiking boots sale", "hiking boots", PHRASE, True),
    ("hiking winter boots", "hiking boots", PHRASE, False),
    ("boots hiking", "hiking boots", PHRASE, False),
    ("hiking boot", "hiking boots", PHRASE, False),
    ("boot jobs", "job", PHRASE, False),  # partial words never match
    ("boot jobs", "jobs", PHRASE, True),
    ("bootjobs", "jobs", PHRASE, False),
    ("t-shirt jobs", "t shirt", PHRASE, True),  # punctuation is a word break on both sides
    # broad: all words, any order, no variants
    ("boots for hiking", "hiking boots", BROAD, True),
    ("hiking shoes", "hiking boots", BROAD, False),
    ("hiking boot", "hiking boots", BROAD, False),
    ("free diy boots", "diy free", BROAD, True),
    # a keyword with no words matches nothing
    ("anything", "!!!", PHRASE, False),
]

POSITIVE_TABLE = [
    ("hiking boot", "hiking boots", EXACT, True),  # singular/plural close variant
    ("hiking boots", "hiking boot", EXACT, True),
    ("boots hiking", "hiking boots", EXACT, False),  # reordering is not modelled
    ("cheap hiking boot", "hiking boots", PHRASE, True),
    ("hiking winter boots", "hiking boots", PHRASE, False),
    ("boot for hikes", "hiking boots", BROAD, False),  # stems beyond plural are not modelled
    ("boot for hiking", "hiking boots", BROAD, True),
    ("men's jackets", "mens jacket", EXACT, True),  # possessive apostrophe
    ("boot jobs", "job", PHRASE, True),
    ("bootjobs", "job", PHRASE, False),
]


@pytest.mark.parametrize(("query", "keyword", "match_type", "expected"), NEGATIVE_TABLE)
def test_negative_semantics(query: str, keyword: str, match_type: MatchType, expected: bool) -> None:
    assert matches(query, keyword, match_type, negative=True) is expected
    assert KeywordMatcher([(keyword, match_type)], negative=True).matched([query]).tolist() == [expected]


@pytest.mark.parametrize(("query", "keyword", "match_type", "expected"), POSITIVE_TABLE)
def test_positive_semantics(query: str, keyword: str, match_type: MatchType, expected: bool) -> None:
    assert matches(query, keyword, match_type, negative=False) is expected
    assert KeywordMatcher([(keyword, match_type)], negative=False).matched([query]).tolist() == [expected]


def test_matched_by_lists_each_keywords_queries() -> None:
    queries = ["boot jobs", "free boots", "hiking boots", "jobs free", "hiking boots jobs"]
    matcher = KeywordMatcher(
        [("jobs", PHRASE), ("hiking boots", EXACT), ("free jobs", BROAD), ("none", EXACT)], negative=True
    )
    assert [ids.tolist() for ids in matcher.matched_by(queries)] == [[0, 3, 4], [2], [3], []]
    assert matcher.matched(queries).tolist() == [True, False, True, True, True]
    assert normalise("  Free  BOOTS! ") == "free boots"


WORDS = st.sampled_from(["boot", "boots", "jobs", "free", "hiking", "diy", "men's", "&", "a"])
PHRASES = st.lists(WORDS, min_size=1, max_size=4).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(
    queries=st.lists(PHRASES, min_size=1, max_size=12),
    keywords=st.lists(st.tuples(PHRASES, st.sampled_from(list(MatchType))), min_size=1, max_size=6),
    negative=st.booleans(),
)
def test_vectorised_matcher_agrees_with_the_specification(queries, keywords, negative) -> None:
    expected = np.array([[matches(q, text, kind, negative=negative) for text, kind in keywords] for q in queries])
    matcher = KeywordMatcher(keywords, negative=negative)
    tokenised = TokenisedTexts(queries)
    # the plain strings, the phrase index as first built, and as reused by another keyword set (reversed)
    reversed_matcher = KeywordMatcher(keywords[::-1], negative=negative)
    for given_as, used, flip in (
        (queries, matcher, False),
        (tokenised, matcher, False),
        (tokenised, reversed_matcher, True),
    ):
        query_index, keyword_index = used.pairs(given_as)
        if flip:
            keyword_index = len(keywords) - 1 - keyword_index
        got = np.zeros_like(expected)
        got[query_index, keyword_index] = True
        assert (got == expected).all()
        assert len(set(zip(query_index.tolist(), keyword_index.tolist(), strict=True))) == len(query_index)


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.characters(max_codepoint=127), max_size=30))
def test_ascii_tokens_are_those_of_the_unicode_normalisation(text: str) -> None:
    normalised = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    assert tokens(text) == tuple(_TOKEN.findall(normalised))


@settings(max_examples=100, deadline=None)
@given(texts=st.lists(PHRASES, max_size=8), text=PHRASES)
def test_exact_variant_lookup_agrees_with_positive_exact_matching(texts, text) -> None:
    expected = any(matches(t, text, MatchType.EXACT, negative=False) for t in texts)
    assert TokenisedTexts(texts).has_variant_of(text) is expected


def test_keyword_problems_follow_the_limits_table() -> None:
    max_chars, max_words = limit("keyword_max_chars"), limit("negative_keyword_max_words")
    assert keyword_problems("k" * max_chars) == []
    assert keyword_problems(" ".join(["word"] * max_words)) == []
    assert keyword_problems("k" * (max_chars + 1)) == [f"keyword text '{'k' * 81}' is 81 characters (max 80)"]
    eleven = " ".join(["w"] * (max_words + 1))
    assert keyword_problems(eleven) == [f"keyword text '{eleven}' has 11 words (max 10)"]
    assert keyword_problems("  ") == ["keyword text is empty"]
