"""Retrieval over a brand kit, and the check that every asset says only what its sources say.

Retrieval is hybrid: BM25 (bm25s) over the kit's chunks, plus all-MiniLM-L6-v2 embeddings when the optional
extra is installed, fused by reciprocal rank. The index is built once per kit digest and kept (the sandbox
store keeps it across processes).

The claim check is code, not a prompt:
- every number, price and percentage in an asset must appear in one of the chunks it cites;
- "free shipping" (or delivery) only when a proven guide claim among its sources says so, and the policy allows it;
- a superlative ("best", "lightest", "#1") only when a proven guide claim among its sources has it;
- a sale, discount or deal only when one of its sources announces one (the feed's sale price, an offer claim);
- no competitor's name, no word the guide says to avoid, no asset that states anything without a source.
Only a pure call to action ("Shop Now") may go without a source; it is marked `generic`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import numpy as np

from ads.ad_copy import CopyTextRules
from ads.keyword_matching import tokens
from ads.name_matching import NameMatcher
from tools.brand_kit import BrandKit, Chunk

RRF_K = 60  # reciprocal-rank fusion constant (Cormack et al. 2009): ranks below ~60 barely count
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SHIPPING = re.compile(r"\bfree\s+(?:standard\s+|ground\s+|2-day\s+)?(?:shipping|delivery)\b", re.IGNORECASE)
# Superlatives and rank claims that ad policies want proven ("unverifiable claims").
_SUPERLATIVE = re.compile(
    r"(?<!\w)(?:#\s?1|no\.?\s?1|number one|best|top[- ]rated|leading|lowest|cheapest|lightest|fastest|strongest"
    r"|warmest|driest|toughest|unbeatable|unmatched|ultimate|world'?s|greatest|finest|highest|most|least"
    r"|perfect|premier|guaranteed?)(?!\w)",
    re.IGNORECASE,
)
# Offers: a sale or discount that the feed (a sale price) or the kit's text does not announce is a false offer.
_OFFER = re.compile(
    r"(?<!\w)(?:on sale|sale|discount(?:s|ed)?|clearance|deals?|\d+\s?% off|save|savings)(?!\w)", re.IGNORECASE
)
# Words a call to action is made of; an asset of only these (and the brand) states no fact.
CALL_TO_ACTION_WORDS = frozenset(
    "shop now order online today buy browse explore see the range discover find yours get started visit us learn "
    "more view collection call book request a your here our store site official in stock up and for of at".split()
)


@dataclass
class KitIndex:
    """A kit's chunks, ready to search. Picklable, so a store can keep it."""

    digest: str
    bm25: object  # bm25s.BM25
    vectors: np.ndarray | None  # unit-length chunk embeddings, or None without the extra


def build_index(kit: BrandKit, *, embeddings: bool) -> KitIndex:
    import bm25s

    corpus = [c.text for c in kit.chunks] or [""]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)
    vectors = None
    if embeddings:
        from tools.query_embeddings import embed_queries

        vectors = embed_queries(corpus)
    return KitIndex(digest=kit.digest, bm25=retriever, vectors=vectors)


def retrieve(kit: BrandKit, index: KitIndex, query: str, *, k: int = 12) -> list[Chunk]:
    """The chunks that best fit `query`, best first; BM25 and (when present) embedding ranks fused."""
    import bm25s

    if not kit.chunks or not query.strip():
        return []
    n = len(kit.chunks)
    ids, scores = index.bm25.retrieve(  # type: ignore[attr-defined]
        bm25s.tokenize([query], stopwords="en", show_progress=False), k=n, show_progress=False
    )
    fused: dict[int, float] = {}
    for rank, (i, score) in enumerate(zip(ids[0], scores[0], strict=True)):
        if score > 0:
            fused[int(i)] = fused.get(int(i), 0.0) + 1 / (RRF_K + rank)
    if index.vectors is not None:
        from tools.query_embeddings import embed_queries

        similarity = index.vectors @ embed_queries([query])[0]
        for rank, i in enumerate(np.argsort(-similarity)[:k]):
            fused[int(i)] = fused.get(int(i), 0.0) + 1 / (RRF_K + rank)
    best = sorted(fused, key=lambda i: (-fused[i], i))[:k]
    return [kit.chunks[i] for i in best]


# ---- the claim check -------------------------------------------------------------------------------


def numbers(text: str) -> set[Decimal]:
    """The numbers a text states, as values ("$249" and "249.00" are one number; "1,200" is 1200)."""
    found = set()
    for raw in _NUMBER.findall(text):
        try:
            found.add(Decimal(raw.replace(",", "")).normalize())
        except InvalidOperation:
            continue
    return found


def is_generic(text: str, brand: str) -> bool:
    """A pure call to action, perhaps with the brand's name: it states nothing that needs a source."""
    own = set(tokens(brand))
    words = [w for w in tokens(text) if w not in own]
    return bool(words) and all(w in CALL_TO_ACTION_WORDS for w in words) and not _NUMBER.search(text)


@dataclass(frozen=True)
class ClaimChecker:
    """What copy may say for one account: its kit, the policy's text rules, and the names it must never use."""

    kit: BrandKit
    rules: CopyTextRules
    competitors: NameMatcher
    banned: tuple[str, ...] = ()  # more names copy must not hold, e.g. a Meta audience's ("Trail Runners Interest")

    @classmethod
    def for_kit(
        cls, kit: BrandKit, rules: CopyTextRules, competitors: Iterable[str], banned: Iterable[str] = ()
    ) -> ClaimChecker:
        names = [*competitors, *kit.guide.competitors]
        own = set(tokens(kit.guide.brand))
        # The brand is never a competitor, whatever a list says.
        return cls(kit, rules, NameMatcher([n for n in names if set(tokens(n)) - own]), tuple(banned))

    def problems(self, text: str, sources: Sequence[Chunk], *, generic: bool = False) -> list[str]:
        """Why `text`, resting on `sources`, may not run; empty when it may."""
        problems = []
        if competitor := self.competitors.find(text):
            problems.append(f'names the competitor "{competitor.name}"')
        words = tokens(text)
        for name in (*self.banned, *self.kit.guide.words_to_avoid):
            phrase = tokens(name)
            if phrase and any(words[i : i + len(phrase)] == phrase for i in range(len(words))):
                problems.append(f'uses "{name}", which copy must not')
        if not self.rules.allows(text):
            problems.append("makes a claim the policy forbids")
        if generic:
            if not is_generic(text, self.kit.guide.brand):
                problems.append("is marked generic but states more than a call to action")
            return problems
        if not sources:
            return [*problems, "states something with no source in the brand kit"]
        cited = " ".join(s.text for s in sources)
        if missing := numbers(text) - numbers(cited):
            problems.append(f"states {', '.join(sorted(map(str, missing)))}, which no source gives")
        if (offer := _OFFER.search(text)) and not _OFFER.search(cited):
            problems.append(f'announces an offer ("{offer.group(0)}") that no source gives')
        proven = " ".join(s.text for s in sources if s.proven)
        if _SHIPPING.search(text) and not _SHIPPING.search(proven):
            problems.append("promises free shipping, which the brand guide does not")
        for match in _SUPERLATIVE.finditer(text):
            if not re.search(rf"(?<!\w){re.escape(match.group(0))}(?!\w)", proven, re.IGNORECASE):
                problems.append(f'says "{match.group(0)}" with no proof in the brand guide')
        return problems
