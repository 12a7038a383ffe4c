"""New ad groups for converting themes of search queries that no keyword of the account covers yet.

A theme (a cluster from `tools.query_clusters`) becomes a `CreateAdGroup` when:
- it converts (≥ `min_conversions`) on meaningful traffic (≥ `min_clicks`), at a cost per conversion
  no worse than `max_cpa_multiple` × the account's — a theme with spend and no conversions is waste, not
  an ad group;
- existing keywords cover little of it: less than `max_covered_share` of its cost is on queries some
  keyword matches (positive semantics of `tools.keyword_matching`, a lower bound of Google's matching, so
  coverage is if anything understated);
- it is not a brand theme (brand terms carry most of its cost) nor competitor-looking (most of its cost is
  on queries with a competitor term or comparison words such as "vs" or "alternative");
- its keywords do not cannibalise an existing ad group (or one proposed before it): at most
  `max_keyword_overlap` of the new keywords match an existing group's keywords or the other way round, and
  its name is not already an ad group's name.

Keywords (5–20): phrase match for the theme's two- and three-word terms found in several of its queries,
exact match for its best queries (conversions, then clicks), none of them covered, blocked by an existing
negative of the campaign, a brand term, or longer than Google allows. The ad group goes into the search
campaign that carried most of the theme's cost, with a draft RSA from `tools.creatives.write_rsa` whose
final URL is `final_url` or the one the campaign's ads use most; with neither, the theme is skipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ads.changes import CreateAdGroup, Evidence, KeywordSpec, QueryEvidence
from ads.entities import (
    AccountStructure,
    Campaign,
    MatchType,
    ResponsiveSearchAdCopy,
    Status,
)
from ads.limits import limit
from tools.creatives import write_rsa
from tools.keyword_matching import KeywordMatcher, normalise, variant_tokens
from tools.negatives import METRICS, search_term_rows

if TYPE_CHECKING:
    from tools.query_clusters import ClusteringResult, QueryCluster

COMPARISON_WORDS = ("vs", "versus", "alternative", "alternatives", "competitor", "competitors", "compare", "comparison")
MIN_KEYWORDS = 5
EVIDENCE_QUERIES = 50


def propose_ad_groups(terms: pd.DataFrame, clusters: ClusteringResult, structure: AccountStructure, *,
                      final_url: str | None = None, min_clicks: int = 20, min_conversions: float = 2.0,
                      max_cpa_multiple: float = 2.0, max_covered_share: float = 0.3,
                      max_keyword_overlap: float = 0.2, max_keywords: int = 20,
                      competitor_terms: Sequence[str] = ()) -> list[CreateAdGroup]:
    """One paused ad group with keywords and a draft RSA per uncovered converting theme, most conversions first."""
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
    queries["brand"] = KeywordMatcher([(t, MatchType.PHRASE) for t in structure.account.brand_terms],
                                      negative=False).matched(texts)
    queries["competitor"] = KeywordMatcher([(t, MatchType.PHRASE) for t in (*COMPARISON_WORDS, *competitor_terms)],
                                           negative=False).matched(texts)
    total_conversions = queries["conversions"].sum()
    account_cpa = queries["cost"].sum() / total_conversions if total_conversions > 0 else None

    planner = _Planner(rows, structure, coverage, final_url, max_keywords, max_keyword_overlap)
    proposals: list[CreateAdGroup] = []
    for cluster in clusters.clusters:
        members = queries[queries["cluster_id"] == cluster.id]
        clicks, cost, conversions = (members[c].sum() for c in ("clicks", "cost", "conversions"))
        if conversions < min_conversions or clicks < min_clicks:
            continue
        if account_cpa is not None and cost / conversions > max_cpa_multiple * account_cpa:
            continue
        if _share(members, "covered") >= max_covered_share or _share(members, "brand") >= 0.5 \
                or _share(members, "competitor") >= 0.5:
            continue
        proposal = planner.plan(cluster, members, account_cpa)
        if proposal is not None:
            proposals.append(proposal)
    return sorted(proposals, key=lambda p: -p.evidence.metrics["conversions"])


def _live_keywords(structure: AccountStructure) -> list:
    live_groups = {g.id for g in structure.ad_groups if g.status is not Status.REMOVED}
    return [k for k in structure.keywords if k.status is not Status.REMOVED and k.ad_group_id in live_groups]


def _share(members: pd.DataFrame, flag: str) -> float:
    """The flagged queries' share of the theme's cost (of its clicks, then impressions, when it cost nothing)."""
    for column in ("cost", "clicks", "impressions"):
        total = members[column].sum()
        if total > 0:
            return float(members.loc[members[flag], column].sum() / total)
    return 0.0


def _fits_keyword(text: str) -> bool:
    return 0 < len(text) <= limit("keyword_max_chars") and text.count(" ") < limit("negative_keyword_max_words")


class _Planner:
    """Builds one theme's ad group, checking it against the account's ad groups and earlier proposals."""

    def __init__(self, rows: pd.DataFrame, structure: AccountStructure, coverage: KeywordMatcher,
                 final_url: str | None, max_keywords: int, max_keyword_overlap: float) -> None:
        self.rows = rows
        self.structure = structure
        self.coverage = coverage
        self.final_url = final_url
        self.max_keywords = max_keywords
        self.max_overlap = max_keyword_overlap
        self.campaigns = {c.id: c for c in structure.campaigns}
        # Keyword groups a new ad group must not overlap: the account's, then each accepted proposal's.
        self.groups: list[list[tuple[str, MatchType]]] = []
        keywords_by_group: dict[str, list[tuple[str, MatchType]]] = {}
        for keyword in _live_keywords(structure):
            keywords_by_group.setdefault(keyword.ad_group_id, []).append((keyword.text, keyword.match_type))
        self.groups.extend(keywords_by_group.values())
        self.names = {g.name.casefold() for g in structure.ad_groups if g.status is not Status.REMOVED}

    def plan(self, cluster: QueryCluster, members: pd.DataFrame, account_cpa: float | None) -> CreateAdGroup | None:
        campaign = self._campaign(members)
        url = self.final_url or (self._final_url(campaign.id) if campaign else None)
        name = (cluster.name.split(" / ")[0].strip() or cluster.name).capitalize()[:255]
        if campaign is None or url is None or not name or name.casefold() in self.names:
            return None
        keywords = self._keywords(cluster, members, campaign)
        if len(keywords) < MIN_KEYWORDS or self._overlaps(keywords):
            return None
        self.groups.append([(k.text, k.match_type) for k in keywords])
        self.names.add(name.casefold())
        brand = self.structure.account.brand_terms[0] if self.structure.account.brand_terms else None
        ad = write_rsa(name, [k.text for k in keywords], url, brand)
        return CreateAdGroup(
            account=self.structure.account.name,
            campaign_id=campaign.id,
            campaign_name=campaign.name,
            name=name,
            keywords=tuple(keywords),
            ad=ad,
            rationale=self._rationale(name, members, campaign, ad, account_cpa, len(keywords)),
            evidence=self._evidence(members, account_cpa),
        )

    def _campaign(self, members: pd.DataFrame) -> Campaign | None:
        """The live search campaign that carried most of the theme's cost (clicks break ties)."""
        spent = (self.rows[self.rows["search_term"].isin(members.index)]
                 .groupby("campaign_id")[["cost", "clicks"]].sum().sort_values(["cost", "clicks"], ascending=False))
        for campaign_id in spent.index:
            campaign = self.campaigns.get(campaign_id)
            if campaign is not None and campaign.channel == "search" and campaign.status is not Status.REMOVED:
                return campaign
        return None

    def _final_url(self, campaign_id: str) -> str | None:
        groups_in = {g.id for g in self.structure.ad_groups if g.campaign_id == campaign_id}
        urls = [(ad.ad_group_id in groups_in, ad.copy_.final_url) for ad in self.structure.ads
                if isinstance(ad.copy_, ResponsiveSearchAdCopy) and ad.status is not Status.REMOVED]
        in_campaign = Counter(url for inside, url in urls if inside)
        anywhere = Counter(url for _, url in urls)
        best = in_campaign.most_common(1) or anywhere.most_common(1)
        return best[0][0] if best else None

    def _keywords(self, cluster: QueryCluster, members: pd.DataFrame, campaign: Campaign) -> list[KeywordSpec]:
        """Phrase keywords for the theme's recurring terms, then exact keywords for its best queries."""
        usable = members[~members["covered"] & ~members["brand"] & ~members["competitor"]]
        best = usable.sort_values(["conversions", "clicks", "cost"], ascending=[False, False, True], kind="stable")
        best_texts = [normalise(t) for t in best.index]
        converting = {normalise(t) for t in best.index[best["conversions"] > 0]}
        recurring = [normalise(term) for term in cluster.top_terms if term.count(" ") in (1, 2)]
        phrases = [(t, MatchType.PHRASE) for t in recurring
                   if sum(KeywordMatcher([(t, MatchType.PHRASE)], negative=True).matched(list(converting))) >= 2]
        candidates = phrases + [(t, MatchType.EXACT) for t in best_texts if _fits_keyword(t)]
        if not candidates:
            return []
        as_queries = [text for text, _ in candidates]
        unwanted = self._blocking_negatives(campaign).matched(as_queries) | self.coverage.matched(as_queries)
        chosen: list[KeywordSpec] = []
        seen: set[tuple[tuple[str, ...], MatchType]] = set()
        for (text, match_type), skip in zip(candidates, unwanted):
            key = (variant_tokens(text), match_type)
            if skip or key in seen or not _fits_keyword(text):
                continue
            seen.add(key)
            chosen.append(KeywordSpec(text=text, match_type=match_type))
            if len(chosen) == self.max_keywords:
                break
        return chosen

    def _blocking_negatives(self, campaign: Campaign) -> KeywordMatcher:
        """The negatives that would stop a keyword of a new ad group in this campaign from serving."""
        lists = {s.id for s in self.structure.shared_lists if campaign.id in s.campaign_ids}
        negatives = [(n.text, n.match_type) for n in self.structure.negatives
                     if (n.level == "campaign" and n.owner_id == campaign.id)
                     or (n.level == "shared_list" and n.owner_id in lists)]
        return KeywordMatcher(negatives, negative=True)

    def _overlaps(self, keywords: list[KeywordSpec]) -> bool:
        """Whether the keywords overlap one existing or proposed group's beyond the allowed share, either way."""
        new = [(k.text, k.match_type) for k in keywords]
        new_matcher = KeywordMatcher(new, negative=False)
        for group in self.groups:
            new_hit = np.unique(KeywordMatcher(group, negative=False).pairs([t for t, _ in new])[0]).size
            old_hit = np.unique(new_matcher.pairs([t for t, _ in group])[0]).size
            if new_hit / len(new) > self.max_overlap or old_hit / len(group) > self.max_overlap:
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
        return Evidence(metrics=metrics, queries=tuple(
            QueryEvidence(search_term=term, clicks=int(row.clicks), impressions=int(row.impressions),
                          cost=int(row.cost), conversions=float(row.conversions))
            for term, row in zip(top.index, top.itertuples(index=False))))

    def _rationale(self, name: str, members: pd.DataFrame, campaign: Campaign, ad: ResponsiveSearchAdCopy,
                   account_cpa: float | None, keyword_count: int) -> str:
        money = self.structure.account.money
        cost, conversions = int(members["cost"].sum()), float(members["conversions"].sum())
        versus = f"; the account average is {money(round(account_cpa))}" if account_cpa else ""
        return (
            f"{len(members)} search terms about '{name}' brought {conversions:g} conversions for {money(cost)} "
            f"({money(round(cost / conversions))} per conversion{versus}). Only {_share(members, 'covered'):.0%} of "
            f"that cost was on terms an existing keyword covers. A paused ad group in '{campaign.name}' with "
            f"{keyword_count} keywords and its own ad ({len(ad.headlines)} headlines) lets you bid and write for them."
        )
