"""New ad groups for converting products that people search for and no keyword of the account covers yet.

A theme is one product word, not one cluster: clustering (`tools.query_clusters`) only nominates it.
- Shopping modifiers ("best", "sale", "near me", …) are the words found in more than half of the
  clusters (with at least `MIN_CLUSTERS_FOR_MODIFIERS` clusters; a smaller report has none): people add
  them to any product, so they never name a theme nor make a keyword.
- Each cluster nominates its core word: the word (not a modifier, stop word, "near"-like word, place of
  the gazetteer, number, brand or competitor term) carried by the most of its uncovered queries' weight
  (share of cost plus share of impressions); among equals the later one, since English puts the head noun
  last ("water *filter*").
- The theme of a core word is every non-brand, non-competitor query of the report that contains it, so
  clusters sharing a core word merge into one theme and queries another cluster took are not lost.

A theme becomes a `CreateAdGroup` when:
- it converts (≥ `min_conversions`) on meaningful traffic (≥ `min_clicks`), at a cost per conversion
  no worse than `max_cpa_multiple` × that of the account's non-brand, non-competitor queries (brand
  converts at prices no generic theme sees) — a theme with spend and no conversions is waste;
- its core word does not end an existing keyword: "tent" in "ultralight tent" is a product the account
  already sells, so its uncovered queries ("single wall tent") are keywords missing from those ad groups;
- existing keywords cover little of it: less than `max_covered_share` of its cost is on queries some
  keyword matches (positive semantics of `ads.keyword_matching`, a lower bound of Google's matching);
- its keywords do not cannibalise an existing ad group (or one proposed before it): at most
  `max_keyword_overlap` of the new keywords match an existing group's keywords or the other way round
  (close variants included, `ads.keyword_matching`; a group without keywords, as an import may have, bids on its
  name; and a keyword a typo or word order away from one of the
  group's counts as a match: rapidfuzz token sort ratio ≥ `NAME_SIMILARITY` on singular forms), and its name is not
  an ad group's name nor one a typo or word order away (the same ratio);
- its name says more than places, stop words and "near" ("houston", "near me" are never ad groups); places are the
  gazetteer's and the profile's served `locations` (a served town the gazetteer lacks is a place too).

Heads: each uncovered query's stem — the query without the modifiers and stop words around it ("best
led headlamp near me" -> "led headlamp") — is a head term; the shortest heads contain no other head.
Name: the shortest head carried by the most weight ("trekking poles", "water filter"), in Title Case and,
when most of the account's ad group names end in a plural, with its last word in the plural its queries use
("Headlamps"; singular when nobody typed a plural).
Keywords (5–20, `max_keywords`): exact match for the heads some of whose queries converted, most conversions
first, plus phrase match for the shortest heads, so the group bids on what people type and not on its long
tail; none covered, blocked by a negative of the campaign, or longer than Google allows.
Campaign: a live, non-brand search campaign whose name shares a word with the ad group's name; else
the one that carried most of the theme's cost, and the rationale says so. The draft RSA comes from
`tools.creatives.write_rsa`. Its final URL: the profile's landing page whose key (a theme or ad group name)
best fits the name (rapidfuzz token set ratio ≥ `LANDING_PAGE_SIMILARITY`), else `final_url`, else the
account's (`adpilot import search-terms --final-url`), else the one the campaign's ads use most; with none,
the theme is skipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from ads.changes import CreateAdGroup, Evidence, KeywordSpec, QueryEvidence
from ads.entities import (
    AccountStructure,
    Campaign,
    MatchType,
    ResponsiveSearchAdCopy,
    Status,
)
from ads.keyword_matching import (
    KeywordMatcher,
    close_variant,
    keyword_problems,
    normalise,
    tokens,
    variant_tokens,
)
from tools.creatives import CopyGrounds, GroundedAd, theme_page, write_rsa
from tools.negatives import METRICS, search_term_rows
from tools.query_intent import find_phrases, load_gazetteer

if TYPE_CHECKING:
    from tools.query_clusters import ClusteringResult

COMPARISON_WORDS = ("vs", "versus", "alternative", "alternatives", "competitor", "competitors", "compare", "comparison")
MIN_KEYWORDS = 5
EVIDENCE_QUERIES = 50
# A word found in more than this share of the clusters is a shopping modifier, not a product.
MODIFIER_CLUSTER_SHARE = 0.5
# Below this many clusters a word's spread says nothing: the report has no modifiers.
MIN_CLUSTERS_FOR_MODIFIERS = 8
MIN_CORE_LETTERS = 3
# Words people add to any local search; with places and stop words they never make an ad group on their own.
NEARBY_WORDS = frozenset({"near", "nearby", "me", "local", "closest", "around", "nearest", "area"})
# rapidfuzz scores (0-100) on singular-form names: at or above, two names are the same ad group.
NAME_SIMILARITY = 90
# At or above, a landing page keyed by this theme or ad group name fits the new ad group.
LANDING_PAGE_SIMILARITY = 80


def propose_ad_groups(
    terms: pd.DataFrame,
    clusters: ClusteringResult,
    structure: AccountStructure,
    *,
    final_url: str | None = None,
    landing_pages: Mapping[str, str] | None = None,
    min_clicks: int = 20,
    min_conversions: float = 2.0,
    max_cpa_multiple: float = 2.0,
    max_covered_share: float = 0.3,
    max_keyword_overlap: float = 0.2,
    max_keywords: int = 20,
    competitor_terms: Sequence[str] = (),
    served_places: Sequence[str] = (),
    grounds: CopyGrounds | None = None,
) -> list[CreateAdGroup]:
    """One paused ad group with keywords and a draft RSA per uncovered converting theme, most conversions first.

    `competitor_terms` and `served_places`: the profile's competitors and locations; `grounds`: the brand kit the
    RSA is written from."""
    rows = search_term_rows(terms)
    queries = rows.groupby("search_term", sort=True)[list(METRICS)].sum()
    cluster_of = clusters.assignments.assign(search_term=clusters.assignments["search_term"].astype(str).str.strip())
    queries["cluster_id"] = queries.index.str.strip().map(cluster_of.set_index("search_term")["cluster_id"])
    queries = queries[queries["cluster_id"].notna() & (queries.index.map(normalise) != "")]
    if queries.empty:
        return []
    texts = list(queries.index)
    coverage = KeywordMatcher([(k.text, k.match_type) for k in _live_keywords(structure)], negative=False)
    queries["covered"] = coverage.matched(texts)
    brand = KeywordMatcher([(t, MatchType.PHRASE) for t in structure.account.brand_terms], negative=False)
    rival = KeywordMatcher([(t, MatchType.PHRASE) for t in (*COMPARISON_WORDS, *competitor_terms)], negative=False)
    queries["usable"] = ~brand.matched(texts) & ~rival.matched(texts)
    queries["weight"] = _weight(queries)
    # Brand and competitor queries convert at prices a generic theme never sees: the bar is the rest's CPA.
    generic = queries[queries["usable"]]
    total_conversions = generic["conversions"].sum()
    account_cpa = generic["cost"].sum() / total_conversions if total_conversions > 0 else None

    words = _Vocabulary(
        queries,
        excluded={w for t in (*structure.account.brand_terms, *competitor_terms) for w in variant_tokens(t)},
        places=served_places,
    )
    planner = _Planner(
        rows,
        structure,
        coverage,
        words,
        final_url,
        landing_pages,
        max_keywords,
        max_keyword_overlap,
        competitor_terms,
        grounds,
    )
    proposals: list[CreateAdGroup] = []
    # A word that ends a keyword is a product the account already sells ("tent" in "ultralight tent"): its
    # uncovered queries are keywords missing from those ad groups, not a new ad group.
    sold = {variant_tokens(k.text)[-1] for k in _live_keywords(structure) if variant_tokens(k.text)}
    for core in words.cores():
        if core in sold:
            continue
        members = queries.iloc[words.queries_with(core)]
        members = members[members["usable"]]
        clicks, cost, conversions = (members[c].sum() for c in ("clicks", "cost", "conversions"))
        if conversions < min_conversions or clicks < min_clicks:
            continue
        if account_cpa is not None and cost / conversions > max_cpa_multiple * account_cpa:
            continue
        if _share(members, "covered") >= max_covered_share:
            continue
        proposal = planner.plan(core, members, account_cpa)
        if proposal is not None:
            proposals.append(proposal)
    return sorted(proposals, key=lambda p: -p.evidence.metrics["conversions"])


def _live_keywords(structure: AccountStructure) -> list:
    live_groups = {g.id for g in structure.ad_groups if g.status is not Status.REMOVED}
    return [k for k in structure.keywords if k.status is not Status.REMOVED and k.ad_group_id in live_groups]


def _weight(queries: pd.DataFrame) -> pd.Series:
    """Share of cost plus share of impressions: what makes a query matter to a marketer."""
    weight = pd.Series(0.0, index=queries.index)
    for column in ("cost", "impressions"):
        total = queries[column].clip(lower=0).sum()
        if total > 0:
            weight += queries[column].clip(lower=0) / total
    return weight if weight.sum() > 0 else pd.Series(1.0, index=queries.index)


def _share(members: pd.DataFrame, flag: str) -> float:
    """The flagged queries' share of the theme's cost (of its clicks, then impressions, when it cost nothing)."""
    for column in ("cost", "clicks", "impressions"):
        total = members[column].sum()
        if total > 0:
            return float(members.loc[members[flag], column].sum() / total)
    return 0.0


def _contains(words: tuple[str, ...], part: tuple[str, ...]) -> bool:
    n = len(part)
    return any(words[i : i + n] == part for i in range(len(words) - n + 1))


def _runs(words: tuple[str, ...], *, proper: bool = False, longest: int | None = None) -> Iterator[tuple[str, ...]]:
    """Every contiguous run of words, shortest first; `proper` leaves out the whole sequence."""
    top = min(len(words) - proper, longest or len(words))
    return (words[i : i + n] for n in range(1, top + 1) for i in range(len(words) - n + 1))


def _containment(heads: list[tuple[str, ...]], queries: list[tuple[str, ...]]) -> sparse.csr_matrix:
    """heads × queries, 1 where the query contains the head's words in order and adjacent.

    Built from each query's runs looked up in a dict, so it grows with the queries, not heads × queries."""
    position = {head: i for i, head in enumerate(heads)}
    longest = max((len(h) for h in heads), default=0)
    pairs = {
        (position[run], q)
        for q, words in enumerate(queries)
        for run in _runs(words, longest=longest)
        if run in position
    }
    rows, cols = zip(*pairs, strict=True) if pairs else ((), ())
    return sparse.csr_matrix((np.ones(len(pairs)), (rows, cols)), shape=(len(heads), len(queries)))


class _Vocabulary:
    """The words of the report's queries: which are modifiers, which core word each cluster nominates."""

    def __init__(self, queries: pd.DataFrame, excluded: set[str], places: Iterable[str] = ()) -> None:
        self.queries = queries
        # Place names as typed and in singular form ("fishers", "fisher"): the gazetteer's and the served ones.
        named = [*load_gazetteer(), *(tokens(place) for place in places)]
        self.places = {form: True for phrase in named if phrase for form in (phrase, tuple(map(close_variant, phrase)))}
        self.variants = [variant_tokens(text) for text in queries.index]
        pairs = pd.DataFrame(
            [
                (position, word, index / max(len(words) - 1, 1))
                for position, words in enumerate(self.variants)
                for index, word in enumerate(words)
            ],
            columns=["query", "word", "place"],
        ).drop_duplicates(["query", "word"])
        pairs["cluster"] = queries["cluster_id"].to_numpy()[pairs["query"].to_numpy()]
        self.pairs = pairs
        spread = pairs.groupby("word")["cluster"].nunique()
        n_clusters = queries["cluster_id"].nunique()
        self.modifiers = (
            set(spread.index[spread > MODIFIER_CLUSTER_SHARE * n_clusters])
            if n_clusters >= MIN_CLUSTERS_FOR_MODIFIERS
            else set()
        )
        self.excluded = excluded
        self._by_word = pairs.groupby("word")["query"].agg(np.sort)

    def is_product_word(self, word: str) -> bool:
        return (
            word.isalpha()
            and len(word) >= MIN_CORE_LETTERS
            and word not in ENGLISH_STOP_WORDS
            and word not in NEARBY_WORDS
            and (word,) not in self.places
            and word not in self.modifiers
            and word not in self.excluded
        )

    def names_a_product(self, words: Sequence[str]) -> bool:
        """Whether a name says more than places, stop words and "near": "houston", "near" or "near me" is no product."""
        found = find_phrases(tuple(words), self.places)
        in_place = {start + offset for start, phrase in found for offset in range(len(phrase))}
        return any(i not in in_place and self.is_product_word(close_variant(w)) for i, w in enumerate(words))

    def plural_as_typed(self, word: str, queries: Iterable[str]) -> str:
        """The plural of `word` the theme's queries use ("headlamps"), else `word`: no inflection rule of our own."""
        singular = close_variant(word)
        plurals = Counter(w for text in queries for w in tokens(text) if w != singular and close_variant(w) == singular)
        return plurals.most_common(1)[0][0] if plurals else word

    def cores(self) -> list[str]:
        """Each cluster's core word (see the module docstring), heaviest theme first, each once."""
        uncovered = self.queries[~self.queries["covered"] & self.queries["usable"]]
        pairs = self.pairs[self.pairs["query"].isin(self.queries.index.get_indexer(uncovered.index))]
        pairs = pairs[pairs["word"].map(self.is_product_word).astype(bool)]
        pairs = pairs.assign(weight=self.queries["weight"].to_numpy()[pairs["query"].to_numpy()])
        per_word = pairs.groupby(["cluster", "word"]).agg(weight=("weight", "sum"), place=("place", "mean"))
        # Rounded so that words carried by exactly the same queries tie and the later word wins.
        per_word["rank_weight"] = per_word["weight"].round(12)
        best = (
            per_word.reset_index()
            .sort_values(["rank_weight", "place", "word"], ascending=[False, False, True])
            .drop_duplicates("cluster")
        )
        return list(dict.fromkeys(best.sort_values("weight", ascending=False, kind="stable")["word"]))

    def queries_with(self, word: str) -> np.ndarray:
        return self._by_word.get(word, np.array([], dtype=np.int64))

    def stem(self, text: str) -> str:
        """The query without the modifiers and stop words around it: "best led headlamp near me" -> "led headlamp"."""
        words = tokens(text)
        keep = [w not in ENGLISH_STOP_WORDS and close_variant(w) not in self.modifiers for w in words]
        if not any(keep):
            return ""
        first, last = keep.index(True), len(keep) - keep[::-1].index(True)
        return " ".join(words[first:last])

    def has_modifier(self, text: str) -> bool:
        return any(word in self.modifiers for word in variant_tokens(text))

    def heads(self, uncovered: pd.DataFrame) -> pd.DataFrame:
        """The theme's head terms (its queries' stems) with their metrics, most conversions then clicks first;
        `coverage` is the weight of the queries containing the head, `shortest` says it contains no other head.
        Only heads some of whose queries converted."""
        stems = [self.stem(t) for t in uncovered.index]
        heads = (
            uncovered[["conversions", "clicks", "cost"]]
            .groupby(np.asarray(stems, dtype=object))
            .sum()
            .sort_values(["conversions", "clicks", "cost"], ascending=[False, False, True], kind="stable")
        )
        heads = heads[(heads.index != "") & ((heads["clicks"] > 0) | (heads["conversions"] > 0))]
        variants = [variant_tokens(t) for t in heads.index]
        contained = _containment(variants, [variant_tokens(t) for t in uncovered.index])
        heads["coverage"] = contained @ uncovered["weight"].to_numpy()
        position = {head: i for i, head in enumerate(variants)}
        heads["shortest"] = [not any(part in position for part in _runs(head, proper=True)) for head in variants]
        # A head none of whose queries converted ("free tent", "tent for dogs") is waste, not a keyword.
        return heads[contained @ uncovered["conversions"].to_numpy() > 0]


class _Planner:
    """Builds one theme's ad group, checking it against the account's ad groups and earlier proposals."""

    def __init__(
        self,
        rows: pd.DataFrame,
        structure: AccountStructure,
        coverage: KeywordMatcher,
        words: _Vocabulary,
        final_url: str | None,
        landing_pages: Mapping[str, str] | None,
        max_keywords: int,
        max_keyword_overlap: float,
        competitor_terms: Sequence[str],
        grounds: CopyGrounds | None,
    ) -> None:
        self.rows = rows
        self.grounds = grounds
        self.structure = structure
        self.coverage = coverage
        self.words = words
        self.final_url = final_url or structure.account.final_url
        self.landing_pages = {" ".join(variant_tokens(key)): url for key, url in (landing_pages or {}).items()}
        self.max_keywords = max_keywords
        self.max_overlap = max_keyword_overlap
        live_groups = [g for g in structure.ad_groups if g.status is not Status.REMOVED]
        # Keyword groups a new ad group must not overlap: the account's, then each accepted proposal's.
        keywords_by_group: dict[str, list[tuple[str, MatchType]]] = {}
        for keyword in _live_keywords(structure):
            keywords_by_group.setdefault(keyword.ad_group_id, []).append((keyword.text, keyword.match_type))
        # An imported report names ad groups but not always their keywords: such a group bids on its name.
        self.groups: list[list[tuple[str, MatchType]]] = [
            keywords_by_group.get(g.id) or [(normalise(g.name), MatchType.PHRASE)]
            for g in live_groups
            if g.id in keywords_by_group or not keyword_problems(normalise(g.name))
        ]
        self.names = [" ".join(variant_tokens(g.name)) for g in live_groups]
        last_words = [tokens(g.name)[-1] for g in live_groups if tokens(g.name)]
        self.plural_names = sum(close_variant(w) != w for w in last_words) > len(last_words) / 2
        self.campaigns = self._eligible_campaigns(keywords_by_group, competitor_terms)

    def _eligible_campaigns(
        self, keywords_by_group: dict[str, list[tuple[str, MatchType]]], competitor_terms: Sequence[str]
    ) -> dict[str, Campaign]:
        """Live search campaigns that are not about the brand or competitors (most of their keywords are)."""
        group_campaign = {g.id: g.campaign_id for g in self.structure.ad_groups}
        special = KeywordMatcher(
            [(t, MatchType.PHRASE) for t in (*self.structure.account.brand_terms, *competitor_terms)], negative=False
        )
        keyword_texts: dict[str, list[str]] = {}
        for group_id, keywords in keywords_by_group.items():
            keyword_texts.setdefault(group_campaign.get(group_id, ""), []).extend(text for text, _ in keywords)
        eligible = {}
        for campaign in self.structure.campaigns:
            texts = keyword_texts.get(campaign.id, [])
            if campaign.channel != "search" or campaign.status is Status.REMOVED:
                continue
            if texts and special.matched(texts).mean() > 0.5:
                continue
            eligible[campaign.id] = campaign
        return eligible

    def plan(self, core: str, members: pd.DataFrame, account_cpa: float | None) -> CreateAdGroup | None:
        uncovered = members[~members["covered"]]
        heads = self.words.heads(uncovered)
        if heads.empty:
            return None
        words = heads.loc[heads["shortest"], "coverage"].idxmax().split()
        if not self.words.names_a_product(words):
            return None
        if self.plural_names:
            words[-1] = self.words.plural_as_typed(words[-1], members.index)
        name = " ".join(w[:1].upper() + w[1:] for w in words)[:255]
        campaign, fits = self._campaign(members, name)
        # The profile's page for the theme, else the feed's page of its products, before any campaign-wide page.
        kit_page = theme_page(self.grounds.kit, name) if self.grounds else None
        url = (
            self._landing_page(name)
            or kit_page
            or self.final_url
            or (self._final_url(campaign.id) if campaign else None)
        )
        if campaign is None or url is None or self._name_taken(name):
            return None
        keywords = self._keywords(heads, campaign)
        if len(keywords) < MIN_KEYWORDS or self._overlaps(keywords):
            return None
        self.groups.append([(k.text, k.match_type) for k in keywords])
        self.names.append(" ".join(variant_tokens(name)))
        written = write_rsa(name, [k.text for k in keywords], url, self.grounds)
        ad = written.copy_
        assert isinstance(ad, ResponsiveSearchAdCopy)  # write_rsa writes an RSA
        return CreateAdGroup(
            account=self.structure.account.name,
            campaign_id=campaign.id,
            campaign_name=campaign.name,
            name=name,
            keywords=tuple(keywords),
            ad=ad,
            assets=written.assets,
            rationale=self._rationale(name, members, campaign, fits, written, account_cpa, len(keywords), url),
            evidence=self._evidence(members, account_cpa),
        )

    def _campaign(self, members: pd.DataFrame, name: str) -> tuple[Campaign | None, bool]:
        """The eligible campaign whose name shares the most words with the ad group's (then the one that
        carried most of the theme's cost), and whether a name fits."""
        spent = self.rows[self.rows["search_term"].isin(members.index)].groupby("campaign_id")[["cost", "clicks"]].sum()
        name_words = {w for w in variant_tokens(name) if self.words.is_product_word(w)}
        ranked = sorted(
            self.campaigns.values(),
            key=lambda c: (
                -len(name_words & set(variant_tokens(c.name))),
                -(spent["cost"].get(c.id, 0)),
                -(spent["clicks"].get(c.id, 0)),
                c.id,
            ),
        )
        best = next((c for c in ranked if name_words & set(variant_tokens(c.name)) or c.id in spent.index), None)
        return best, best is not None and bool(name_words & set(variant_tokens(best.name)))

    def _name_taken(self, name: str) -> bool:
        """Whether an existing or proposed ad group already has this name, or one a typo or word order away."""
        wanted = " ".join(variant_tokens(name))
        return any(fuzz.token_sort_ratio(wanted, taken) >= NAME_SIMILARITY for taken in self.names)

    def _landing_page(self, name: str) -> str | None:
        """The profile's landing page whose theme or ad group name best fits the new ad group's name."""
        if not self.landing_pages:
            return None
        best = process.extractOne(" ".join(variant_tokens(name)), list(self.landing_pages), scorer=fuzz.token_set_ratio)
        return self.landing_pages[best[0]] if best and best[1] >= LANDING_PAGE_SIMILARITY else None

    def _final_url(self, campaign_id: str) -> str | None:
        groups_in = {g.id for g in self.structure.ad_groups if g.campaign_id == campaign_id}
        urls = [
            (ad.ad_group_id in groups_in, ad.copy_.final_url)
            for ad in self.structure.ads
            if isinstance(ad.copy_, ResponsiveSearchAdCopy) and ad.status is not Status.REMOVED
        ]
        in_campaign = Counter(url for inside, url in urls if inside)
        anywhere = Counter(url for _, url in urls)
        best = in_campaign.most_common(1) or anywhere.most_common(1)
        return best[0][0] if best else None

    def _keywords(self, heads: pd.DataFrame, campaign: Campaign) -> list[KeywordSpec]:
        """Exact match for the theme's head terms and phrase match for the shortest of them (see docstring)."""
        texts = [t for t in heads.index if not keyword_problems(t) and not self.words.has_modifier(t)]
        if texts:
            unwanted = self._blocking_negatives(campaign).matched(texts) | self.coverage.matched(texts)
            texts = [t for t, skip in zip(texts, unwanted, strict=False) if not skip]
        variants = {t: variant_tokens(t) for t in texts}
        shortest = [
            t
            for t in texts
            if not any(variants[o] != variants[t] and _contains(variants[t], variants[o]) for o in texts)
        ]
        longer = [t for t in texts if t not in shortest]
        candidates = [(t, MatchType.PHRASE) for t in shortest] + [(t, MatchType.EXACT) for t in texts]
        # A thin theme borrows phrase keywords of its longer heads before it is given up.
        candidates += [(t, MatchType.PHRASE) for t in longer][: max(0, MIN_KEYWORDS - len(candidates))]
        chosen: list[KeywordSpec] = []
        seen: set[tuple[tuple[str, ...], MatchType]] = set()
        for text, match_type in candidates:
            key = (variants[text], match_type)
            if key not in seen:
                seen.add(key)
                chosen.append(KeywordSpec(text=text, match_type=match_type))
        return chosen[: self.max_keywords]

    def _blocking_negatives(self, campaign: Campaign) -> KeywordMatcher:
        """The negatives that would stop a keyword of a new ad group in this campaign from serving."""
        lists = {s.id for s in self.structure.shared_lists if campaign.id in s.campaign_ids}
        negatives = [
            (n.text, n.match_type)
            for n in self.structure.negatives
            if (n.level == "campaign" and n.owner_id == campaign.id)
            or (n.level == "shared_list" and n.owner_id in lists)
        ]
        return KeywordMatcher(negatives, negative=True)

    def _overlaps(self, keywords: list[KeywordSpec]) -> bool:
        """Whether the keywords overlap one existing or proposed group's beyond the allowed share, either way."""
        new = [(k.text, k.match_type) for k in keywords]
        new_matcher = KeywordMatcher(new, negative=False)
        new_forms = [" ".join(variant_tokens(t)) for t, _ in new]
        for group in self.groups:
            # A match either way, or a keyword a typo or word order away from one of the other side's.
            near = (
                process.cdist(
                    new_forms,
                    [" ".join(variant_tokens(t)) for t, _ in group],
                    scorer=fuzz.token_sort_ratio,
                    score_cutoff=NAME_SIMILARITY,
                )
                > 0
            )
            new_hit = np.array(near.any(axis=1), dtype=bool)
            new_hit[KeywordMatcher(group, negative=False).pairs([t for t, _ in new])[0]] = True
            old_hit = np.array(near.any(axis=0), dtype=bool)
            old_hit[new_matcher.pairs([t for t, _ in group])[0]] = True
            if new_hit.mean() > self.max_overlap or old_hit.mean() > self.max_overlap:
                return True
        return False

    def _evidence(self, members: pd.DataFrame, account_cpa: float | None) -> Evidence:
        top = members.sort_values("cost", ascending=False, kind="stable").head(EVIDENCE_QUERIES)
        metrics = {column: float(members[column].sum()) for column in METRICS}
        metrics |= {"queries": float(len(members)), "covered_cost_share": _share(members, "covered")}
        if metrics["conversions"] > 0:
            metrics["cpa"] = metrics["cost"] / metrics["conversions"]
        if account_cpa is not None:
            metrics["account_cpa"] = float(account_cpa)
        return Evidence(
            metrics=metrics,
            queries=tuple(
                QueryEvidence(
                    search_term=term,
                    clicks=int(row.clicks),
                    impressions=int(row.impressions),
                    cost=int(row.cost),
                    conversions=float(row.conversions),
                )
                for term, row in zip(top.index, top[list(METRICS)].itertuples(index=False), strict=False)
            ),
        )

    def _rationale(
        self,
        name: str,
        members: pd.DataFrame,
        campaign: Campaign,
        fits: bool,
        written: GroundedAd,
        account_cpa: float | None,
        keyword_count: int,
        url: str,
    ) -> str:
        money = self.structure.account.money
        cost, conversions = int(members["cost"].sum()), float(members["conversions"].sum())
        versus = f"; the account's non-brand average is {money(round(account_cpa))}" if account_cpa else ""
        placed = (
            f"'{campaign.name}', whose name fits the theme"
            if fits
            else f"'{campaign.name}': no campaign's name fits the theme, and this one carried most of its cost"
        )
        return (
            f"{len(members)} search terms about '{name}' brought {conversions:g} conversions for {money(cost)} "
            f"({money(round(cost / conversions))} per conversion{versus}). Only {_share(members, 'covered'):.0%} of "
            f"that cost was on terms an existing keyword covers. A paused ad group in {placed}, with "
            f"{keyword_count} keywords and its own ad, lets you bid and write for them. "
            + self._copy_basis(name, written, url)
        )

    def _copy_basis(self, name: str, written: GroundedAd, url: str) -> str:
        """What the ad rests on, so a person knows whether to write it or check the product is sold."""
        if written.assets:
            cited = {(s.doc, s.chunk) for a in written.assets for s in a.sources}
            return (
                f"Its copy is written from {len(cited)} brand-kit fact(s), the kit's facts about '{name}' and the "
                "brand's own claims, each asset with its source."
            )
        if self.grounds is None:
            return (
                "Without a brand kit its ad is a draft of its keywords and calls to action: write it before enabling."
            )
        return (
            f"The brand kit holds too few facts about '{name}' for grounded copy, so its ad is a draft of its keywords "
            f"and calls to action: check the advertiser sells it, write the ad and give it a page about '{name}' "
            f"(its final URL is {url}) before enabling."
        )
