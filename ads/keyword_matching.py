"""Which search queries a keyword matches, the way Google Ads decides it (as far as text alone can tell).

Normalisation (`tokens`), applied to queries and keywords alike:
- Unicode NFKC, then lower-case (casefold); curly apostrophes become "'";
- a token is a run of letters, digits and '&', optionally joined by apostrophes inside the word
  ("men's", "b&q", "&" on its own); every other character (- _ . , ! ? " + / : ; ( ) [ ] etc.) separates
  tokens and is dropped, so "t-shirt" reads "t shirt" and "2.5l" reads "2 5l";
- whitespace is collapsed by the tokenising itself.

Negative keywords (`negative=True`) never match close variants:
- exact: the query's tokens equal the keyword's tokens, in order;
- phrase: the keyword's tokens appear contiguously, in order, in the query;
- broad: every keyword token appears in the query, in any order.

Positive keywords (`negative=False`) match close variants. Only plural/singular and possessive forms are
modelled (`close_variant`: "boots" → "boot", "boxes" → "box", "batteries" → "battery", "men's" → "men");
Google also matches misspellings, abbreviations, reordering and same-meaning words, and broad match
reaches related searches with none of the words. So positive matching here is a *lower bound* of
what a keyword covers: exact and phrase as above on close-variant tokens, broad as "all words
(close variants), any order" — the old broad match modifier.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np

from ads.entities import MatchType
from ads.limits import limit

_TOKEN = re.compile(r"(?:[^\W_]|&)+(?:'(?:[^\W_]|&)+)*", re.UNICODE)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


def tokens(text: str) -> tuple[str, ...]:
    """The words Google matches on, after the normalisation described in the module docstring."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    return tuple(_TOKEN.findall(text))


def normalise(text: str) -> str:
    """The normalised form of a query or keyword text: its tokens joined by single spaces."""
    return " ".join(tokens(text))


def keyword_problems(text: str) -> list[str]:
    """Why Google refuses a keyword or negative keyword text (ads/limits.py); empty when it may be added.

    Google counts the text as typed: characters, and words between spaces.
    """
    if not text.strip():
        return ["keyword text is empty"]
    problems = []
    if len(text) > limit("keyword_max_chars"):
        problems.append(f"keyword text '{text}' is {len(text)} characters (max {limit('keyword_max_chars')})")
    if len(text.split()) > limit("negative_keyword_max_words"):
        problems.append(
            f"keyword text '{text}' has {len(text.split())} words (max {limit('negative_keyword_max_words')})"
        )
    return problems


@lru_cache(maxsize=200_000)
def close_variant(token: str) -> str:
    """The singular, possessive-free form of a word, so that plural and singular match each other."""
    token = token.replace("'", "")
    if len(token) <= 3 or not token.isalpha():
        return token
    if token.endswith("ies"):
        return token[:-3] + "y"
    if token.endswith(("sses", "shes", "ches", "xes", "zes")):
        return token[:-2]
    if token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def variant_tokens(text: str) -> tuple[str, ...]:
    return tuple(close_variant(token) for token in tokens(text))


class TokenisedTexts:
    """Texts tokenised once in both forms, so that many keyword sets can be matched against them cheaply."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.plain = [tokens(text) for text in texts]
        self.variant = [tuple(close_variant(token) for token in words) for words in self.plain]
        self._variant_set: set[tuple[str, ...]] | None = None

    def __len__(self) -> int:
        return len(self.plain)

    def as_matched(self, *, negative: bool) -> list[tuple[str, ...]]:
        return self.plain if negative else self.variant

    def has_variant_of(self, text: str) -> bool:
        """Would an exact keyword `text` match one of the texts, close variants included (a set lookup)?"""
        if self._variant_set is None:
            self._variant_set = set(self.variant)
        return variant_tokens(text) in self._variant_set


def _contains_in_order(query: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(query[i : i + n] == phrase for i in range(len(query) - n + 1))


def matches(query: str, keyword: str, match_type: MatchType | str, *, negative: bool) -> bool:
    """Whether `keyword` in `match_type` matches `query`. The readable specification of `KeywordMatcher`."""
    to_tokens = tokens if negative else variant_tokens
    query_tokens, keyword_tokens = to_tokens(query), to_tokens(keyword)
    if not keyword_tokens:
        return False
    match MatchType(match_type):
        case MatchType.EXACT:
            return query_tokens == keyword_tokens
        case MatchType.PHRASE:
            return _contains_in_order(query_tokens, keyword_tokens)
        case MatchType.BROAD:
            return set(keyword_tokens) <= set(query_tokens)


class KeywordMatcher:
    """Many keywords against many queries at once, through hash lookups instead of a pairwise loop.

    Exact keywords are looked up by the query's whole token tuple, phrase keywords by each contiguous
    slice of the query (only slice lengths some phrase keyword has), broad keywords by one anchor token
    (their longest, usually the rarest) and then checked as a subset of the query's words.
    """

    def __init__(self, keywords: Iterable[tuple[str, MatchType | str]], *, negative: bool) -> None:
        self.keywords: list[tuple[str, MatchType]] = [(text, MatchType(kind)) for text, kind in keywords]
        self.negative = negative
        self._exact: dict[tuple[str, ...], list[int]] = defaultdict(list)
        self._phrase: dict[tuple[str, ...], list[int]] = defaultdict(list)
        self._broad: dict[str, list[tuple[frozenset[str], int]]] = defaultdict(list)
        for index, (text, kind) in enumerate(self.keywords):
            words = self._tokens(text)
            if not words:
                continue
            if kind is MatchType.EXACT:
                self._exact[words].append(index)
            elif kind is MatchType.PHRASE:
                self._phrase[words].append(index)
            else:
                self._broad[max(words, key=len)].append((frozenset(words), index))
        self._phrase_lengths = sorted({len(words) for words in self._phrase})

    def _tokens(self, text: str) -> tuple[str, ...]:
        return tokens(text) if self.negative else variant_tokens(text)

    def pairs(self, queries: Sequence[str] | TokenisedTexts) -> tuple[np.ndarray, np.ndarray]:
        """Every (query index, keyword index) that matches, as two aligned integer arrays."""
        query_index: list[int] = []
        keyword_index: list[int] = []
        exact, phrase, broad, lengths = self._exact, self._phrase, self._broad, self._phrase_lengths
        if isinstance(queries, TokenisedTexts):
            token_lists: Iterable[tuple[str, ...]] = queries.as_matched(negative=self.negative)
        else:
            token_lists = map(self._tokens, queries)
        for q, words in enumerate(token_lists):
            found: set[int] = set(exact.get(words, ()))
            for n in lengths:
                if n > len(words):
                    break
                for i in range(len(words) - n + 1):
                    hit = phrase.get(words[i : i + n])
                    if hit:
                        found.update(hit)
            if broad:
                word_set = set(words)
                for word in word_set:
                    for needed, k in broad.get(word, ()):
                        if needed <= word_set:
                            found.add(k)
            query_index.extend([q] * len(found))
            keyword_index.extend(found)
        return np.asarray(query_index, dtype=np.int64), np.asarray(keyword_index, dtype=np.int64)

    def matched(self, queries: Sequence[str]) -> np.ndarray:
        """One boolean per query: does any keyword match it?"""
        query_index, _ = self.pairs(queries)
        hit = np.zeros(len(queries), dtype=bool)
        hit[query_index] = True
        return hit

    def matched_by(self, queries: Sequence[str]) -> list[np.ndarray]:
        """For each keyword, the sorted indices of the queries it matches."""
        query_index, keyword_index = self.pairs(queries)
        order = np.lexsort((query_index, keyword_index))
        bounds = np.searchsorted(keyword_index[order], np.arange(len(self.keywords) + 1))
        sorted_queries = query_index[order]
        return [sorted_queries[bounds[k] : bounds[k + 1]] for k in range(len(self.keywords))]
