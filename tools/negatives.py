"""Negative keywords mined from a search-term report: what wasted money, and where each negative goes.

Waste is money spent on something that converted nothing where a conversion was to be expected. Zero
conversions only mean something with enough clicks: with the conversion rate p of the campaign a click
came from (its conversions / clicks over the report), the chance that c clicks bring no conversion by
bad luck alone is P(0) = (1 - p)^c (the product over campaigns when clicks came from several). A query or
an n-gram is waste only when all of these hold:
- it converted nothing;
- P(0) < `significance` (5 %): its zero is unlikely to be chance;
- it cost at least `cpa_multiple` × target CPA (target CPA defaults to cost / conversions over the report):
  it is worth a negative.
A campaign that converted nothing gives no p, so nothing in it is waste by this test.

- Query level → an exact negative of the query, unless the query is on theme for an ad group that served it
  (it holds, as close variants and in any order, every word of one of that ad group's keywords): an on-theme
  query that does not convert is a bid or landing-page problem, not irrelevant traffic. Irrelevant words
  inside such a query are the n-gram rule's business.
- N-gram level → a phrase negative of a 1–3 word n-gram, judged by all the queries (at least
  `min_ngram_queries`) that contain it ("jobs", "free", "diy", "how to make"). N-grams that begin or end
  with a connective word ("for", "with", "near", …) are not candidates: the word adds nothing. Thousands
  of n-grams are tested at once, yet few relevant ones pass by chance: the test needs zero conversions
  over enough clicks *and* the spend bar, and nested n-grams share their queries.

Safety, decided by `ads.keyword_matching`, never by string equality: a negative may not block a query
that converted, a brand term, or the text of an existing positive keyword — nor a plural/singular variant
of one of them. So no n-gram that is a word or phrase of a keyword or brand term is ever proposed.
Shorter n-grams are preferred; a longer n-gram or a query is kept only for waste the ones already chosen
do not block, and only if that remaining waste passes the test on its own. Search terms are data here:
they are counted and matched, never read as instructions.

Placement: waste seen in two or more campaigns → the account's shared negative list; in one campaign →
that campaign; in one ad group of a campaign with several ad groups → that ad group.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from itertools import chain
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from ads.changes import AddNegativeKeywords, Evidence, NegativeSpec, QueryEvidence
from ads.entities import (
    AccountStructure,
    MatchType,
    ReportPeriod,
    SharedNegativeList,
    Status,
)
from ads.errors import ReportFormatError
from ads.keyword_matching import KeywordMatcher, keyword_problems, normalise
from ads.limits import limit

REQUIRED_COLUMNS = ("search_term", "campaign_id", "ad_group_id", "impressions", "clicks", "cost", "conversions")
METRICS = ("impressions", "clicks", "cost", "conversions")
# Connective words: an n-gram starting or ending with one says no more than the n-gram without it.
CONNECTIVES = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "i",
        "in",
        "is",
        "it",
        "me",
        "my",
        "near",
        "of",
        "on",
        "or",
        "the",
        "this",
        "to",
        "with",
        "you",
        "your",
    ]
)
Level = Literal["campaign", "ad_group", "shared_list"]


class NegativeMiningSettings(BaseModel):
    """Thresholds for calling a query or an n-gram waste."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cpa_multiple: float = Field(default=1.5, gt=0, description="Waste costs at least this × target CPA.")
    significance: float = Field(
        default=0.05,
        gt=0,
        lt=1,
        description="Waste only if its clicks had less than this chance of bringing no conversion by bad luck.",
    )
    max_ngram_words: int = Field(default=3, ge=1, le=5)
    min_ngram_queries: int = Field(default=2, ge=2, description="An n-gram in fewer queries is a query candidate.")
    max_blocks_listed: int = Field(default=50, ge=1, description="Blocked search terms stored per keyword.")
    shared_list_name: str = "adpilot negatives"


class _Thresholds(BaseModel):
    """From which spend, and below which log-chance of no conversion, something that converted nothing is waste."""

    cost: float
    log_p_zero: float

    def reached(self, cost: np.ndarray | float, log_p_zero: np.ndarray | float) -> np.ndarray | bool:
        return (cost >= self.cost) & (log_p_zero < self.log_p_zero)


class _Target(BaseModel):
    model_config = ConfigDict(frozen=True)

    level: Level
    target_id: str
    target_name: str


def mine_negatives(
    terms: pd.DataFrame,
    structure: AccountStructure,
    *,
    period: ReportPeriod | None = None,
    target_cpa: int | None = None,
    settings: NegativeMiningSettings | None = None,
) -> list[AddNegativeKeywords]:
    """Exact and phrase negatives for the report's waste, grouped into one change per target, biggest first."""
    settings = settings or NegativeMiningSettings()
    rows = search_term_rows(terms)
    if rows.empty or rows["conversions"].sum() <= 0:
        return []  # with no conversion anywhere, nothing tells waste from bad luck
    if target_cpa is None:
        target_cpa = round(rows["cost"].sum() / rows["conversions"].sum())
    # log P(0 conversions) of each row's clicks at its campaign's conversion rate; sums over rows and queries.
    campaigns = rows.groupby("campaign_id")[["clicks", "conversions"]].sum()
    rate = (campaigns["conversions"] / campaigns["clicks"].where(campaigns["clicks"] > 0)).fillna(0)
    rows["log_p_zero"] = rows["clicks"] * np.log1p(-rows["campaign_id"].map(rate).clip(upper=1 - 1e-12))
    columns = [*METRICS, "log_p_zero"]

    queries = rows.groupby("search_term", sort=False)[columns].sum()
    queries["text"] = [normalise(term) for term in queries.index]
    queries = queries[queries["text"] != ""]
    texts = queries.groupby("text", sort=True)[columns].sum()
    if texts.empty:
        return []
    queries["text_id"] = texts.index.get_indexer(queries["text"])
    rows["text_id"] = queries["text_id"].reindex(rows["search_term"]).fillna(-1).astype(np.int64).to_numpy()

    bar = _Thresholds(cost=settings.cpa_multiple * target_cpa, log_p_zero=np.log(settings.significance))
    candidates = [
        *_ngram_candidates(texts, bar, settings),
        *_query_candidates(texts, bar, _on_theme(texts, rows, structure)),
    ]
    if not candidates:
        return []
    matcher = KeywordMatcher(candidates, negative=True)
    protected = _protected_texts(texts, structure)
    # Also unsafe: blocking a plural/singular variant of a protected text ("boot" next to keyword "hiking
    # boots"), since Google serves that variant on the keyword and the negative would then stop it.
    unsafe = {
        *matcher.pairs(protected)[1].tolist(),
        *KeywordMatcher(candidates, negative=False).pairs(protected)[1].tolist(),
    }
    blocked_by = matcher.matched_by(list(texts.index))
    chosen = _choose(candidates, blocked_by, unsafe, texts, bar)
    if not chosen:
        return []

    targets = _place(chosen, blocked_by, rows, structure, settings)
    report = _Report(queries, structure, period, int(target_cpa), settings)
    return report.changes(candidates, blocked_by, targets)


def search_term_rows(terms: pd.DataFrame) -> pd.DataFrame:
    """The report's rows with the columns the analyses need: ids as text, metrics as numbers (checked)."""
    missing = [column for column in REQUIRED_COLUMNS if column not in terms.columns]
    if missing:
        raise ReportFormatError(f"search terms: missing column(s) {', '.join(missing)}")
    rows = pd.DataFrame(
        {
            "search_term": terms["search_term"].fillna("").astype(str),
            "campaign_id": terms["campaign_id"].fillna("").astype(str),
            "ad_group_id": terms["ad_group_id"].fillna("").astype(str),
        }
    )
    for column in METRICS:
        values = pd.to_numeric(terms[column], errors="coerce")
        bad = values.isna() & terms[column].notna()
        if bad.any():
            row = bad.idxmax()
            raise ReportFormatError(f"search terms row {row}: field {column!r} is not a number: {terms[column][row]!r}")
        rows[column] = values.fillna(0).to_numpy()
    return rows.reset_index(drop=True)


def _ngram_candidates(
    texts: pd.DataFrame, thresholds: _Thresholds, settings: NegativeMiningSettings
) -> list[tuple[str, MatchType]]:
    """Phrase candidates: n-grams with no conversion whose queries together pass the bar, shortest first."""
    spent = texts[(texts["clicks"] > 0) | (texts["cost"] > 0) | (texts["conversions"] > 0)]
    max_n = settings.max_ngram_words
    gram_sets = [
        {" ".join(words[i : i + n]) for n in range(1, max_n + 1) for i in range(len(words) - n + 1)}
        for words in (text.split(" ") for text in spent.index)
    ]
    counts = np.fromiter(map(len, gram_sets), dtype=np.int64, count=len(gram_sets))
    codes, grams = pd.factorize(pd.Series(list(chain.from_iterable(gram_sets)), dtype=object))
    per_gram = {
        column: np.bincount(codes, weights=np.repeat(spent[column].to_numpy(float), counts), minlength=len(grams))
        for column in ("cost", "conversions", "log_p_zero")
    }
    per_gram["queries"] = np.bincount(codes, minlength=len(grams))
    table = pd.DataFrame(per_gram, index=pd.Index(grams, dtype=object))
    words = table.index.str.count(" ") + 1
    waste = (
        (table["conversions"] <= 0)
        & (table["queries"] >= settings.min_ngram_queries)
        & thresholds.reached(table["cost"], table["log_p_zero"])
    )
    edges = table.index.str.split(" ")
    connective = edges.str[0].isin(CONNECTIVES) | edges.str[-1].isin(CONNECTIVES) | (table.index.str.len() < 2)
    table = table[waste & ~connective].assign(words=words[waste & ~connective])
    table = table.rename_axis("gram").sort_values(
        ["words", "cost", "queries", "gram"], ascending=[True, False, False, True]
    )
    return [(gram, MatchType.PHRASE) for gram in table.index if not keyword_problems(gram)]


def _on_theme(texts: pd.DataFrame, rows: pd.DataFrame, structure: AccountStructure) -> np.ndarray:
    """Per text: does it hold every word (close variants, any order) of a keyword of an ad group that served it?"""
    live = [k for k in structure.keywords if k.status is not Status.REMOVED]
    on_theme = np.zeros(len(texts), dtype=bool)
    if not live:
        return on_theme
    text_ids, keyword_ids = KeywordMatcher([(k.text, MatchType.BROAD) for k in live], negative=False).pairs(
        list(texts.index)
    )
    matched = pd.DataFrame({"text_id": text_ids, "ad_group_id": [live[k].ad_group_id for k in keyword_ids]})
    served = matched.merge(rows[["text_id", "ad_group_id"]].drop_duplicates(), on=["text_id", "ad_group_id"])
    on_theme[served["text_id"].to_numpy(np.int64)] = True
    return on_theme


def _query_candidates(
    texts: pd.DataFrame, thresholds: _Thresholds, on_theme: np.ndarray
) -> list[tuple[str, MatchType]]:
    waste = (texts["conversions"] <= 0) & thresholds.reached(texts["cost"], texts["log_p_zero"]) & ~on_theme
    ordered = texts[waste].sort_values("cost", ascending=False, kind="stable")
    return [(text, MatchType.EXACT) for text in ordered.index if not keyword_problems(text)]


def _protected_texts(texts: pd.DataFrame, structure: AccountStructure) -> list[str]:
    """What no negative may block: converting queries, brand terms, the account's own keywords."""
    live_groups = {g.id for g in structure.ad_groups if g.status is not Status.REMOVED}
    keywords = [
        k.text
        for k in structure.keywords
        if k.status is not Status.REMOVED and (k.ad_group_id in live_groups or not structure.ad_groups)
    ]
    return [*texts.index[texts["conversions"] > 0], *structure.account.brand_terms, *keywords]


def _choose(
    candidates: Sequence[tuple[str, MatchType]],
    blocked_by: list[np.ndarray],
    unsafe: set[int],
    texts: pd.DataFrame,
    bar: _Thresholds,
) -> list[int]:
    """Safe candidates in order, each kept only if the waste it adds to those kept so far passes the bar."""
    cost, log_p_zero = texts["cost"].to_numpy(float), texts["log_p_zero"].to_numpy(float)
    blocked = np.zeros(len(texts), dtype=bool)
    chosen = []
    for index in range(len(candidates)):
        if index in unsafe:
            continue
        ids = blocked_by[index]
        new = ids[~blocked[ids]]
        if new.size and bar.reached(cost[new].sum(), log_p_zero[new].sum()):
            chosen.append(index)
            blocked[ids] = True
    return chosen


def _place(
    chosen: list[int],
    blocked_by: list[np.ndarray],
    rows: pd.DataFrame,
    structure: AccountStructure,
    settings: NegativeMiningSettings,
) -> dict[int, _Target]:
    """Where each chosen negative goes, from the campaigns and ad groups its queries ran in."""
    pairs = pd.DataFrame(
        {
            "candidate": np.repeat(chosen, [blocked_by[c].size for c in chosen]),
            "text_id": np.concatenate([blocked_by[c] for c in chosen]),
        }
    )
    ran_in = pairs.merge(rows[["text_id", "campaign_id", "ad_group_id"]].drop_duplicates(), on="text_id")
    spread = ran_in.groupby("candidate").agg(
        campaigns=("campaign_id", "nunique"),
        campaign_id=("campaign_id", "first"),
        ad_groups=("ad_group_id", "nunique"),
        ad_group_id=("ad_group_id", "first"),
    )
    campaign_names = {c.id: c.name for c in structure.campaigns}
    group_names = {g.id: g.name for g in structure.ad_groups}
    groups_per_campaign: dict[str, int] = defaultdict(int)
    for group in structure.ad_groups:
        if group.status is not Status.REMOVED:
            groups_per_campaign[group.campaign_id] += 1

    targets: dict[int, _Target] = {}
    shared: list[int] = []
    for candidate, where in spread.iterrows():
        if where["campaigns"] > 1 or where["campaign_id"] == "":
            shared.append(int(candidate))
        elif where["ad_groups"] == 1 and where["ad_group_id"] and groups_per_campaign[where["campaign_id"]] > 1:
            targets[int(candidate)] = _Target(
                level="ad_group", target_id=where["ad_group_id"], target_name=group_names.get(where["ad_group_id"], "")
            )
        else:
            targets[int(candidate)] = _Target(
                level="campaign",
                target_id=where["campaign_id"],
                target_name=campaign_names.get(where["campaign_id"], ""),
            )
    if shared:
        campaigns = set(ran_in.loc[ran_in["candidate"].isin(shared), "campaign_id"])
        targets |= _shared_targets(shared, campaigns, structure, settings)
    return targets


def _shared_targets(
    shared: list[int], campaigns: set[str], structure: AccountStructure, settings: NegativeMiningSettings
) -> dict[int, _Target]:
    """The existing list used by most of the waste's campaigns, then new lists while the account may hold them."""
    capacity, max_lists = limit("shared_negative_list_max_keywords"), limit("shared_negative_lists_per_account")
    held: defaultdict[str, int] = defaultdict(int)
    for negative in structure.negatives:
        if negative.level == "shared_list":
            held[negative.owner_id] += 1

    def preference(shared_list: SharedNegativeList) -> tuple[int, bool]:
        return len(campaigns & set(shared_list.campaign_ids)), shared_list.name == settings.shared_list_name

    lists: list[tuple[_Target, int]] = []
    if structure.shared_lists:
        best = max(structure.shared_lists, key=preference)
        lists.append((_Target(level="shared_list", target_id=best.id, target_name=best.name), capacity - held[best.id]))
    for number in range(max_lists - len(structure.shared_lists)):
        name = settings.shared_list_name if number == 0 else f"{settings.shared_list_name} {number + 1}"
        lists.append((_Target(level="shared_list", target_id="", target_name=name), capacity))
    targets: dict[int, _Target] = {}
    remaining = iter(shared)
    for target, room in lists:
        for candidate in (c for _, c in zip(range(max(room, 0)), remaining, strict=False)):
            targets[candidate] = target
    return targets  # beyond 20 full lists the rest stays unplaced: 100,000 negatives is not a proposal


class _Report:
    """Turns chosen negatives and their targets into changes with evidence and plain-words rationale."""

    def __init__(
        self,
        queries: pd.DataFrame,
        structure: AccountStructure,
        period: ReportPeriod | None,
        target_cpa: int,
        settings: NegativeMiningSettings,
    ) -> None:
        self.queries = queries.sort_values("cost", ascending=False, kind="stable")
        self.by_text = self.queries.groupby("text_id", sort=False).indices
        self.structure = structure
        self.period = period
        self.target_cpa = target_cpa
        self.settings = settings
        self.existing = {(n.level, n.owner_id, normalise(n.text), n.match_type) for n in structure.negatives}

    def changes(
        self, candidates: Sequence[tuple[str, MatchType]], blocked_by: list[np.ndarray], targets: dict[int, _Target]
    ) -> list[AddNegativeKeywords]:
        per_target: dict[_Target, list[int]] = defaultdict(list)
        for candidate, target in targets.items():
            text, match_type = candidates[candidate]
            if (target.level, target.target_id, text, match_type) not in self.existing:
                per_target[target].append(candidate)
        changes = [
            self._change(target, [(candidates[c], blocked_by[c]) for c in chosen])
            for target, chosen in per_target.items()
        ]
        return sorted(
            changes, key=lambda change: (-change.evidence.metrics["cost"], change.target_id, change.target_name)
        )

    def _blocked_queries(self, text_ids: np.ndarray) -> pd.DataFrame:
        if not text_ids.size:
            return self.queries.iloc[:0]
        positions = np.concatenate([self.by_text[t] for t in text_ids.tolist() if t in self.by_text])
        return self.queries.iloc[np.sort(positions)]  # sorted positions keep the cost order

    def _evidence(self, blocked: pd.DataFrame) -> tuple[QueryEvidence, ...]:
        top = blocked.head(self.settings.max_blocks_listed)
        return tuple(
            QueryEvidence(
                search_term=term,
                clicks=int(row.clicks),
                impressions=int(row.impressions),
                cost=int(row.cost),
                conversions=float(row.conversions),
            )
            for term, row in zip(top.index, top.itertuples(index=False), strict=False)
        )

    def _change(self, target: _Target, keywords: list[tuple[tuple[str, MatchType], np.ndarray]]) -> AddNegativeKeywords:
        specs, costs = [], []
        for (text, match_type), text_ids in keywords:
            blocked = self._blocked_queries(text_ids)
            specs.append(NegativeSpec(text=text, match_type=match_type, blocks=self._evidence(blocked)))
            costs.append(int(blocked["cost"].sum()))
        order = sorted(range(len(specs)), key=lambda i: -costs[i])
        specs, costs = [specs[i] for i in order], [costs[i] for i in order]
        everything = self._blocked_queries(np.unique(np.concatenate([ids for _, ids in keywords])))
        metrics = {
            "keywords": float(len(specs)),
            "blocked_terms": float(len(everything)),
            "cost": float(everything["cost"].sum()),
            "clicks": float(everything["clicks"].sum()),
            "impressions": float(everything["impressions"].sum()),
            "conversions": float(everything["conversions"].sum()),
            "target_cpa": float(self.target_cpa),
        }
        chance = float(np.exp(everything["log_p_zero"].sum()))
        return AddNegativeKeywords(
            account=self.structure.account.name,
            level=target.level,
            target_id=target.target_id,
            target_name=target.target_name,
            keywords=tuple(specs),
            rationale=self._rationale(target, specs, costs, metrics, chance),
            evidence=Evidence(
                period_start=self.period.start.isoformat() if self.period else None,
                period_end=self.period.end.isoformat() if self.period else None,
                metrics=metrics,
                queries=self._evidence(everything),
            ),
        )

    def _rationale(
        self, target: _Target, specs: list[NegativeSpec], costs: list[int], metrics: dict[str, float], chance: float
    ) -> str:
        money = self.structure.account.money
        where = {
            "shared_list": f"the shared negative list '{target.target_name}'"
            + ("" if target.target_id else " (a new list)")
            + ", because this waste ran in several campaigns",
            "campaign": f"campaign '{target.target_name or target.target_id}'",
            "ad_group": f"ad group '{target.target_name or target.target_id}'",
        }[target.level]
        when = f" between {self.period.start} and {self.period.end}" if self.period else ""
        biggest = ", ".join(f"{_label(spec)} ({money(cost)})" for spec, cost in zip(specs[:3], costs[:3], strict=False))
        return (
            f"Add {len(specs)} negative keyword(s) to {where}. The {int(metrics['blocked_terms'])} search terms they "
            f"block cost {money(int(metrics['cost']))} for {int(metrics['clicks'])} clicks{when} and brought no "
            f"conversion, while the account paid {money(self.target_cpa)} per conversion; at their campaigns' "
            f"conversion rates, that many clicks bring none by bad luck {_percent(chance)} of the time. "
            f"Biggest: {biggest}. "
            f"None of them blocks a search term that converted, a brand term or one of your keywords."
        )


def _percent(chance: float) -> str:
    return "under 0.1 %" if chance < 0.001 else f"{chance:.1%}".replace("%", " %")


def _label(spec: NegativeSpec) -> str:
    return f"[{spec.text}]" if spec.match_type is MatchType.EXACT else f'"{spec.text}"'
