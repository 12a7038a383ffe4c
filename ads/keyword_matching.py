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
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from ads.entities import MatchType
from ads.limits import limit

_TOKEN = re.compile(r"(?:[^\W_]|&)+(?:'(?:[^\W_]|&)+)*", re.UNICODE)
_ASCII_TOKEN = re.compile(r"[a-z0-9&]+(?:'[a-z0-9&]+)*")  # _TOKEN on lower-case ASCII text
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


# Cached: each analysis of a report tokenises the same few hundred thousand queries several times.
@lru_cache(maxsize=1 << 20)
def tokens(text: str) -> tuple[str, ...]:
    """The words Google matches on, after the normalisation described in the module docstring."""
    if text.isascii():  # NFKC leaves ASCII as it is and casefold is lower: the same words, three times faster
        return tuple(_ASCII_TOKEN.findall(text.lower().replace("`", "'")))
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


@lru_cache(maxsize=1 << 20)
def variant_tokens(text: str) -> tuple[str, ...]:
    return tuple(close_variant(token) for token in tokens(text))


class TokenisedTexts:
    """Texts tokenised once in both forms, so that many keyword sets can be matched against them cheaply."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.plain = [tokens(text) for text in texts]
        self.variant = [tuple(close_variant(token) for token in words) for words in self.plain]
        self._variant_set: set[tuple[str, ...]] | None = None
        self._grams: dict[tuple[bool, int], Any] = {}  # the phrase index, built as keyword sets ask

    def __len__(self) -> int:
        return len(self.plain)

    def as_matched(self, *, negative: bool) -> list[tuple[str, ...]]:
        return self.plain if negative else self.variant

    def has_variant_of(self, text: str) -> bool:
        """Would an exact keyword `text` match one of the texts, close variants included (a set lookup)?"""
        if self._variant_set is None:
            self._variant_set = set(self.variant)
        return variant_tokens(text) in self._variant_set

    def holders(self, phrases: Sequence[tuple[str, ...]], length: int, *, negative: bool) -> list[np.ndarray]:
        """Per phrase of `length` words (0: the whole text, of any length), the sorted ids of the texts that hold
        it: contiguously, or as the whole text.

        The texts' words are numbered once; a phrase of n words is then numbered at every position from the
        number of its first n - 1 words and its last word, so the phrases of each length are indexed once, in
        integer arrays, and reused by every keyword set."""
        if length == 0:
            whole = self._words(negative)[3]
            found: list[tuple[tuple[str, ...], np.ndarray]] = []
            for n in sorted({len(p) for p in phrases}):
                of_n = [p for p in phrases if len(p) == n]
                found += zip(
                    of_n, (ids[whole[ids] == n] for ids in self.holders(of_n, n, negative=negative)), strict=True
                )
            by_phrase = dict(found)
            return [by_phrase[p] for p in phrases]
        vocabulary = self._words(negative)[0]
        words = vocabulary.get_indexer([w for p in phrases for w in p]).reshape(len(phrases), length)
        numbered = np.zeros(len(phrases), dtype=np.int64)  # each phrase's number among the texts' (-1: none holds it)
        for n in range(1, length + 1):
            combined = numbered * len(vocabulary) + words[:, n - 1]
            known = (numbered >= 0) & (words[:, n - 1] >= 0)
            numbered = np.where(known, self._phrases(negative, n)[2].get_indexer(np.where(known, combined, -1)), -1)
        owners, bounds = self._phrases(negative, length)[3:]
        return [owners[bounds[i] : bounds[i + 1]] if i >= 0 else owners[:0] for i in numbered.tolist()]

    def _words(self, negative: bool) -> tuple[pd.Index, np.ndarray, np.ndarray, np.ndarray]:
        """The distinct words, and per word of every text: its number, its text, and its text's length."""
        key = (negative, -1)
        if key not in self._grams:
            texts = self.as_matched(negative=negative)
            lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
            codes, vocabulary = pd.factorize(pd.Series(list(chain.from_iterable(texts)), dtype=object))
            owner = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
            self._grams[key] = (pd.Index(vocabulary), codes.astype(np.int64), owner, lengths)
        return self._grams[key]

    def _phrases(self, negative: bool, length: int) -> tuple[np.ndarray, np.ndarray, pd.Index, np.ndarray, np.ndarray]:
        """For phrases of `length` words: where they start (in the flat word list), their numbers, the keys those
        numbers stand for, and the sorted distinct texts holding each number (`owners[bounds[i]:bounds[i + 1]]`)."""
        key = (negative, length)
        if key not in self._grams:
            vocabulary, codes, owner, lengths = self._words(negative)
            if length == 1:
                starts, combined = np.arange(codes.size), codes
            else:
                previous_starts, previous_numbers = self._phrases(negative, length - 1)[:2]
                ends = np.concatenate(([0], np.cumsum(lengths)))[owner[previous_starts] + 1]
                fits = previous_starts + length <= ends
                starts = previous_starts[fits]
                combined = previous_numbers[fits] * len(vocabulary) + codes[starts + length - 1]
            numbers, keys = pd.factorize(combined)
            pairs = _sorted_distinct(numbers.astype(np.int64) * max(len(lengths), 1) + owner[starts])
            phrase_of, owners = pairs // max(len(lengths), 1), pairs % max(len(lengths), 1)
            bounds = np.searchsorted(phrase_of, np.arange(len(keys) + 1))
            self._grams[key] = (starts, numbers.astype(np.int64), pd.Index(keys), owners, bounds)
        return self._grams[key]


def _sorted_distinct(values: np.ndarray) -> np.ndarray:
    # np.unique hashes first, which takes seconds on the tens of millions of pairs a report holds; a sort does not
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if values.size else values


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
        """Every (query index, keyword index) that matches, as two aligned integer arrays.

        Texts tokenised once (`TokenisedTexts`) are matched through their phrase index, sorted by query then
        keyword; a few plain strings query by query, the hash lookups described above."""
        if isinstance(queries, TokenisedTexts):
            return self._indexed_pairs(queries)
        query_index: list[int] = []
        keyword_index: list[int] = []
        exact, phrase, broad, lengths = self._exact, self._phrase, self._broad, self._phrase_lengths
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

    def _indexed_pairs(self, texts: TokenisedTexts) -> tuple[np.ndarray, np.ndarray]:
        found: list[tuple[np.ndarray, list[int]]] = []  # (texts, the keywords that match each of them)
        for table, length in ((self._exact, 0), *((self._phrase, n) for n in self._phrase_lengths)):
            phrases = [words for words in table if length == 0 or len(words) == length]
            held = texts.holders(phrases, length, negative=self.negative)
            found += zip(held, (table[p] for p in phrases), strict=True)
        if self._broad:
            words = sorted({word for needs in self._broad.values() for needed, _ in needs for word in needed})
            holding = dict(zip(words, texts.holders([(w,) for w in words], 1, negative=self.negative), strict=True))
            for anchor, needs in self._broad.items():
                for needed, k in needs:
                    common = holding[anchor]
                    for word in needed - {anchor}:
                        common = np.intersect1d(common, holding[word], assume_unique=True)
                    found.append((common, [k]))
        sizes = [ids.size for ids, ks in found for _ in ks]
        query_index = np.concatenate([ids for ids, ks in found for _ in ks] or [np.zeros(0, dtype=np.int64)])
        keyword_index = np.repeat(np.array([k for _, ks in found for k in ks], dtype=np.int64), sizes)
        pairs = _sorted_distinct(query_index * max(len(self.keywords), 1) + keyword_index)
        return pairs // max(len(self.keywords), 1), pairs % max(len(self.keywords), 1)

    def matched(self, queries: Sequence[str] | TokenisedTexts) -> np.ndarray:
        """One boolean per query: does any keyword match it?"""
        query_index, _ = self.pairs(queries)
        hit = np.zeros(len(queries), dtype=bool)
        hit[query_index] = True
        return hit

    def matched_by(self, queries: Sequence[str] | TokenisedTexts) -> list[np.ndarray]:
        """For each keyword, the sorted indices of the queries it matches."""
        query_index, keyword_index = self.pairs(queries)
        order = np.lexsort((query_index, keyword_index))
        bounds = np.searchsorted(keyword_index[order], np.arange(len(self.keywords) + 1))
        sorted_queries = query_index[order]
        return [sorted_queries[bounds[k] : bounds[k + 1]] for k in range(len(self.keywords))]
