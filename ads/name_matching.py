"""Which names (the advertiser's brand terms, competitors) a text holds, misspellings and spacing variants included.

The one place for brand matching: the intent classifier, the gate's brand check and the routing negatives all
read names through `NameMatcher`. A name is found
- exactly, as its words in order ("trail head" in "trail head boots");
- as a spacing variant: the name's letters with the spaces moved, added or dropped ("trail head" for
  "trailhead", "trailheadstore"), compared on the words joined without spaces;
- as a misspelling: a rapidfuzz ratio of at least `BRAND_FUZZY_RATIO` over a window of the text's words, with the
  same first letter, and not an ordinary dictionary word (wordfreq), so "trailhed" reads as "trailhead" but
  "retail" never reads as "retailer".
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
from rapidfuzz import fuzz, process
from wordfreq import zipf_frequency

from ads.keyword_matching import tokens

BRAND_FUZZY_RATIO = 85  # rapidfuzz ratio (0-100) above which a word is read as a misspelling of a name
COMMON_WORD_ZIPF = 2.5  # wordfreq Zipf frequency from which a word is an ordinary word, not a name

Phrase = tuple[str, ...]


class NameMatch(NamedTuple):
    name: str  # the name as listed
    how: str  # how the text names it, for a reason a person reads
    score: float  # 0-1
    text: str  # the words of the text that name it ("trail head", "trailhed")


@functools.lru_cache(maxsize=200_000)
def word_frequency(word: str, language: str) -> float:
    return zipf_frequency(word, language)


def is_common_word(word: str, languages: Iterable[str] = ("en", "de", "es")) -> bool:
    return any(word_frequency(word, language) >= COMMON_WORD_ZIPF for language in languages)


class NameMatcher:
    """Finds names in many texts at once: exact and spacing variants by lookup, misspellings in one `cdist` call."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = [(name, tokens(name)) for name in dict.fromkeys(names) if tokens(name)]
        self.compact = {"".join(phrase): name for name, phrase in self.names}
        self.fuzzy = [(compact, name) for compact, name in self.compact.items() if len(compact) >= 5]
        self.sizes = sorted({n for _, p in self.names for n in (len(p), len(p) + 1, max(1, len(p) - 1))})
        self.phrases = {phrase: name for name, phrase in reversed(self.names)}  # the first listed name wins
        self.phrase_sizes = sorted({len(p) for p in self.phrases})
        self.prefixes = tuple(c for c, _ in self.fuzzy)

    def _exact(self, words: Phrase) -> NameMatch | None:
        for size in self.phrase_sizes:
            for i in range(len(words) - size + 1):
                if name := self.phrases.get(words[i : i + size]):
                    return NameMatch(name, "names", 1.0, " ".join(words[i : i + size]))
        for size in self.sizes:
            for i in range(len(words) - size + 1):
                window = "".join(words[i : i + size])
                name = self.compact.get(window)
                if name is None and size == 1 and window.startswith(self.prefixes):
                    name = next(n for c, n in self.fuzzy if window.startswith(c))
                if name:
                    shown = " ".join(words[i : i + size])
                    return NameMatch(name, f'"{shown}" is a spacing variant of', 0.9, shown)
        return None

    def find(self, text: str) -> NameMatch | None:
        """The best name `text` holds, or None."""
        return self.find_all([tokens(text)])[0]

    def find_all(self, queries: Sequence[Phrase]) -> list[NameMatch | None]:
        """For each query (as its words), the best name it holds, or None."""
        found: list[NameMatch | None] = [self._exact(words) if self.names else None for words in queries]
        windows: list[tuple[int, str, str]] = [
            (q, "".join(words[i : i + size]), " ".join(words[i : i + size]))
            for q, words in enumerate(queries)
            if found[q] is None and self.fuzzy
            for size in self.sizes
            for i in range(len(words) - size + 1)
        ]
        if not windows:
            return found
        scores = process.cdist(
            [w for _, w, _ in windows],
            [c for c, _ in self.fuzzy],
            scorer=fuzz.ratio,
            score_cutoff=BRAND_FUZZY_RATIO,
            dtype=np.uint8,
            workers=1,
        )
        best: dict[int, tuple[float, str, str]] = {}
        for row, column in zip(*np.nonzero(scores), strict=True):
            query, window, shown = windows[row]
            compact, name = self.fuzzy[column]
            ratio = float(scores[row, column])
            if window[:1] == compact[:1] and ratio > best.get(query, (0.0, "", ""))[0] and not is_common_word(window):
                best[query] = (ratio, name, shown)
        for query, (ratio, name, shown) in best.items():
            how = f'"{shown}" looks like a misspelling of'
            found[query] = NameMatch(name, how, round(0.85 * ratio / 100, 2), shown)
        return found
