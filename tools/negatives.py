"""Negative keywords mined from a search-term report: what the searches mean, what they did, and where each goes.

Two kinds of evidence, each named in the negative's `basis`:

**Intent.** A query whose intent class (`tools.query_intent`, the classification in force for the profile) is
one a specialist excludes — competitor, jobs, free or grants, DIY, not offered, out of area, other language,
existing customer, adult or unrelated — with at least `min_intent_confidence` (above the lexicons' weak cues:
"cheap" only leans one way) becomes a negative in its narrowest safe form: the cue words that made it
off-intent ("park ranger", "how to make", the competitor's or the city's name), phrase match, shared by every
query of the theme that holds them. Informational queries are not excluded for what they mean: research
converts too; only their performance can make them waste. When no safe cue exists (another language, a cue
that would block a converting query, a cue an exception of its theme holds: "free" in "free shipping"), each
unconverted query gets an exact negative — unless the cue is contested: its queries converted, and blocking the
unconverted ones at the cue's pooled conversion rate (the Beta posterior below, over the queries of its theme
that the cue's phrase holds) would not save `min_saving_cpa` conversions' worth. A "competitor" word the
advertiser's converting queries hold is a product line or a place, not a rival.

**Performance, Bayesian with false-discovery control.** Each candidate — an n-gram of 1-3 words, a query, an
intent theme pooled — has clicks n, conversions x (fractional ones included) and λ, the conversions its
clicks would have brought at the conversion rate of the campaigns they came from (each campaign's rate shrunk
towards the account's by `prior_conversions` conversions' worth of clicks). Its own rate has the prior
Beta(a, a (1 - p) / p), p = λ / n, a = `prior_conversions` (2: as much as two conversions would say, so a
handful of zero-conversion clicks moves it little and a theme with many expected conversions decides for
itself). Blocking it loses, in expectation, n × (a + x) / (a / p + n) = λ (a + x) / (a + λ) conversions, each
worth the value of a conversion V (the target CPA, or the conversion value per conversion when the report has
values). It is waste when the spend saved beats that by at least `min_saving_cpa` × V, and when the chance of
so few conversions at the baseline rate, P(X ≤ x | λ) (Poisson, continuous in x: a fraction is not a
conversion), survives Benjamini-Hochberg at `false_discovery_rate` across every candidate that could pass at
all (its p-value at zero conversions and its saving bar do not depend on x: Tarone's rule for discrete tests,
so untestable candidates do not dilute the others). Where every query converts at one rate, BH holds the chance
of any performance negative at about `false_discovery_rate`. A single query is a candidate like any n-gram: an
exact negative only where its own evidence passes, never because a wider n-gram it belongs to did (one
unconverted query of a few clicks says nothing when a conversion costs 250). Of the candidates that pass, the
narrowest come first (queries, then n-grams from the longest); a wider n-gram replaces them only where what it
blocks beyond them passes on its own ("how to fix" stays, "how" does not take "how much is a new roof").

Safety, decided by `ads.keyword_matching`: no negative blocks a converting query, a brand query (fuzzy variants
included, the classifier's brand class), a brand term or the text of an account keyword, nor a plural/singular
variant of one. Converting queries that share a negative's words are its `counter_evidence`. A query on theme
for an ad group that served it gets no exact negative from performance: that is a bid or landing-page matter.
Search terms are data here: counted and matched, never read as instructions.

Placement: an intent theme seen in several campaigns, or in a report without campaigns, goes to a shared list
named by the theme ("Competitors", "Jobs", …); performance waste in several campaigns to the account's shared
negative list; waste in one campaign to that campaign, in one ad group of a campaign with several to that ad group.
A theme's negatives that would go to several ad groups or campaigns, or beside its list, join the list: one
proposal to read, not one per ad group. A negative adds nothing, and is not proposed, where every search it blocks
is blocked where it ran already: by the account's own negatives (its ad group's, its campaign's, a list on its
campaign), or, for a campaign or ad-group negative, by a new list proposed beside it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import chain
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from scipy.sparse import csr_matrix
from scipy.special import gammaincc
from scipy.stats import false_discovery_control

from ads.changes import (
    AddNegativeKeywords,
    CreateSharedNegativeList,
    Evidence,
    NegativeBasis,
    NegativeSpec,
    QueryEvidence,
)
from ads.entities import AccountStructure, Campaign, MatchType, ReportPeriod, Status
from ads.errors import ReportFormatError
from ads.keyword_matching import KeywordMatcher, TokenisedTexts, keyword_problems, normalise
from ads.limits import limit
from tools.advertiser_profile import campaign_kind
from tools.query_intent import Intent

REQUIRED_COLUMNS = ("search_term", "campaign_id", "ad_group_id", "impressions", "clicks", "cost", "conversions")
METRICS = ("impressions", "clicks", "cost", "conversions")
# Connective words: an n-gram starting or ending with one says no more than the n-gram without it.
CONNECTIVES = frozenset(
    "a an and are as at be by can do does for from i in is it me my near of on or the this to with you your".split()
)
# The intent classes a business never pays for, each with the shared list its account-wide negatives go to.
NEGATIVE_THEMES: dict[str, str] = {
    Intent.COMPETITOR: "Competitors",
    Intent.JOBS: "Jobs",
    Intent.FREE: "Free and grants",
    Intent.DIY: "DIY and parts",
    Intent.NOT_OFFERED: "Not offered",
    Intent.OUT_OF_AREA: "Out of area",
    Intent.OTHER_LANGUAGE: "Other languages",
    Intent.EXISTING_CUSTOMER: "Existing customers",
    Intent.RENTER: "Renters and tenants",
    Intent.ADULT_UNRELATED: "Adult and unrelated",
}
NO_CONVERSIONS_NOTICE = (
    "the search-term report has no conversions column: negatives rest on what the searches mean (intent) "
    "alone, and none is proposed on performance"
)
Level = Literal["campaign", "ad_group", "shared_list"]
NegativeChange = AddNegativeKeywords | CreateSharedNegativeList


class NegativeMiningSettings(BaseModel):
    """How strong the evidence for a negative must be."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    false_discovery_rate: float = Field(default=0.05, gt=0, lt=1, description="Benjamini-Hochberg level.")
    prior_conversions: float = Field(default=2.0, gt=0, description="Prior strength, in conversions' worth.")
    min_saving_cpa: float = Field(
        default=1.0, ge=0, description="Expected spend saved, net of conversions lost, in values of a conversion."
    )
    min_intent_confidence: float = Field(
        default=0.65, ge=0, le=1, description="Above the lexicons' weak cues (0.5-0.6), which only lean one way."
    )
    max_ngram_words: int = Field(default=3, ge=1, le=5)
    min_ngram_queries: int = Field(default=2, ge=2, description="An n-gram in fewer queries is a query candidate.")
    max_blocks_listed: int = Field(default=50, ge=1, description="Blocked search terms stored per keyword.")
    max_counter_evidence: int = Field(default=5, ge=0)
    shared_list_name: str = "adpilot negatives"


class _Target(BaseModel):
    model_config = ConfigDict(frozen=True)

    level: Level
    target_id: str
    target_name: str


@dataclass
class _Negative:
    text: str
    match_type: MatchType
    basis: NegativeBasis
    intent: str | None
    blocks: np.ndarray  # text ids
    reason: str = ""  # the classifier's, for one example query


def mine_negatives(
    terms: pd.DataFrame,
    structure: AccountStructure,
    *,
    intents: pd.DataFrame | None = None,
    period: ReportPeriod | None = None,
    target_cpa: int | None = None,
    has_conversions: bool = True,
    settings: NegativeMiningSettings | None = None,
) -> list[NegativeChange]:
    """Intent and performance negatives for the report, grouped into one change per target (a new shared list
    for a theme the account has no list of), biggest first.

    `intents`: `classify_intents(...).intents` for these terms (search_term, intent, confidence, reason, cue,
    cue_alone); without it only performance negatives are possible. `has_conversions` False: the report had no
    conversions column, so its zeros mean nothing and only intent negatives are proposed."""
    settings = settings or NegativeMiningSettings()
    rows = search_term_rows(terms)
    rows["conversion_value"] = (
        pd.to_numeric(terms["conversion_value"], errors="coerce").fillna(0).to_numpy()
        if "conversion_value" in terms.columns
        else 0.0
    )
    if rows.empty:
        return []
    conversions = float(rows["conversions"].sum()) if has_conversions else 0.0
    if not has_conversions:
        rows["conversions"] = 0.0
    value = _conversion_value(rows, target_cpa)
    rows["expected"] = rows["clicks"] * _baseline_rates(rows, settings) if conversions > 0 else 0.0
    columns = [*METRICS, "expected"]

    queries = rows.groupby("search_term", sort=False)[columns].sum()
    queries["text"] = [normalise(term) for term in queries.index]
    queries = queries[queries["text"] != ""]
    texts = queries.groupby("text", sort=True)[columns].sum()
    if texts.empty:
        return []
    queries["text_id"] = texts.index.get_indexer(queries["text"])
    rows["text_id"] = queries["text_id"].reindex(rows["search_term"]).fillna(-1).astype(np.int64).to_numpy()
    classes = _text_intents(texts, queries, intents, settings)
    # A competitor campaign bids on rivals' names on purpose: a query that ran only there does what it should.
    conquest = [c.id for c in structure.campaigns if campaign_kind(c) == "competitor"]
    elsewhere = rows.loc[~rows["campaign_id"].isin(conquest), "text_id"].to_numpy()
    only_conquest = ~np.isin(np.arange(len(texts)), elsewhere)
    classes.loc[only_conquest & (classes["intent"] == Intent.COMPETITOR).to_numpy(), "intent"] = ""

    protected = _protected_texts(texts, structure, classes)
    tokenised = TokenisedTexts(texts.index)  # tokenised and indexed once for every keyword set matched against it
    negatives = _intent_negatives(texts, classes, protected, value, settings)
    if conversions > 0 and value > 0:
        negatives = _add_performance(negatives, texts, tokenised, classes, rows, structure, protected, value, settings)
    if not negatives:
        return []
    negatives = _not_held(negatives, rows, tokenised, structure)
    if not negatives:
        return []
    targets = _not_listed(negatives, _place(negatives, rows, structure, settings), rows)
    report = _Report(queries, texts, rows, structure, period, value, has_conversions, settings)
    return report.changes(negatives, targets)


def blocked_metrics(keywords: int, blocked: pd.DataFrame) -> dict[str, float]:
    """A negatives change's evidence metrics: how many keywords, and what the search terms they block did."""
    return {
        "keywords": float(keywords),
        "blocked_terms": float(len(blocked)),
        **{column: float(blocked[column].sum()) for column in ("cost", "clicks", "impressions", "conversions")},
    }


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


def _conversion_value(rows: pd.DataFrame, target_cpa: int | None) -> float:
    """What one conversion is worth: the target CPA, else the value per conversion, else the account's CPA."""
    conversions = float(rows["conversions"].sum())
    if target_cpa is not None:
        return float(target_cpa)
    if conversions <= 0:
        return 0.0
    values = float(rows["conversion_value"].sum())
    # Conversion values are in currency units, costs in micros.
    return values * 1_000_000 / conversions if values > 0 else float(rows["cost"].sum()) / conversions


def _baseline_rates(rows: pd.DataFrame, settings: NegativeMiningSettings) -> np.ndarray:
    """Per row, its campaign's conversion rate, shrunk towards the account's by `prior_conversions` conversions."""
    account_rate = rows["conversions"].sum() / max(rows["clicks"].sum(), 1)
    campaigns = rows.groupby("campaign_id")[["clicks", "conversions"]].sum()
    weight = settings.prior_conversions / account_rate  # clicks that many conversions are worth
    rate = (campaigns["conversions"] + weight * account_rate) / (campaigns["clicks"] + weight)
    return rows["campaign_id"].map(rate).clip(upper=1 - 1e-9).to_numpy(float)


def _text_intents(
    texts: pd.DataFrame, queries: pd.DataFrame, intents: pd.DataFrame | None, settings: NegativeMiningSettings
) -> pd.DataFrame:
    """Per text: intent, cue and reason of its costliest query; intent "" where the classification is unsure."""
    frame = pd.DataFrame({"intent": "", "cue": "", "reason": "", "cue_alone": False}, index=texts.index)
    if intents is None or intents.empty:
        return frame
    judged = intents.set_index("search_term")
    per_query = queries[["text", "cost"]].join(
        judged[["intent", "cue", "confidence", "reason", "cue_alone"]], how="inner"
    )
    per_query = per_query.sort_values("cost", ascending=False, kind="stable").drop_duplicates("text")
    per_query = per_query.set_index("text")
    sure = per_query["confidence"] >= settings.min_intent_confidence
    per_query.loc[~sure & (per_query["intent"] != Intent.BRAND), "intent"] = ""
    frame.update(per_query[["intent", "cue", "reason"]].astype(str))
    frame["cue_alone"] = per_query["cue_alone"].reindex(frame.index).fillna(False).astype(bool)
    return frame


def _protected_texts(texts: pd.DataFrame, structure: AccountStructure, classes: pd.DataFrame) -> TokenisedTexts:
    """What no negative may block: converting and brand queries, brand terms, the account's own keywords."""
    live_groups = {g.id for g in structure.ad_groups if g.status is not Status.REMOVED}
    keywords = [
        k.text
        for k in structure.keywords
        if k.status is not Status.REMOVED and (k.ad_group_id in live_groups or not structure.ad_groups)
    ]
    brand = texts.index[(classes["intent"] == Intent.BRAND).to_numpy()]
    return TokenisedTexts([*texts.index[texts["conversions"] > 0], *brand, *structure.account.brand_terms, *keywords])


def _safe(candidates: list[tuple[str, MatchType]], protected: TokenisedTexts) -> np.ndarray:
    """Per candidate: blocks no protected text, nor a plural/singular variant of one (which Google serves on
    the keyword, so that the negative would stop it). Exact candidates are set lookups: the miner asks about
    them a few at a time, and a scan of every protected text per question grows with the square of the report."""
    unsafe = np.zeros(len(candidates), dtype=bool)
    if candidates and len(protected):
        exact = np.array([match_type is MatchType.EXACT for _, match_type in candidates], dtype=bool)
        unsafe[exact] = [protected.has_variant_of(candidates[i][0]) for i in np.flatnonzero(exact)]
        wider = np.flatnonzero(~exact)
        if wider.size:
            others = [candidates[i] for i in wider]
            unsafe[wider[KeywordMatcher(others, negative=True).pairs(protected)[1]]] = True
            unsafe[wider[KeywordMatcher(others, negative=False).pairs(protected)[1]]] = True
    return ~unsafe & np.array([not keyword_problems(text) for text, _ in candidates], dtype=bool)


def _intent_negatives(
    texts: pd.DataFrame,
    classes: pd.DataFrame,
    protected: TokenisedTexts,
    value: float,
    settings: NegativeMiningSettings,
) -> list[_Negative]:
    """The theme's cue as a phrase negative where safe, else an exact negative per unconverted query of an
    uncontested cue (or, without a cue, of an uncontested theme)."""
    spent = ((texts["clicks"] > 0) | (texts["cost"] > 0)).to_numpy()
    wanted = classes["intent"].isin(list(NEGATIVE_THEMES)).to_numpy() & spent & (texts["conversions"] <= 0).to_numpy()
    themed = classes[wanted].assign(text_id=np.flatnonzero(wanted))
    if themed.empty:
        return []
    # A cue an exception of its theme holds ("free" in "free shipping") is no negative alone: exact ones instead.
    themed["phrase"] = [
        normalise(cue) if cue and alone else "" for cue, alone in zip(themed["cue"], themed["cue_alone"], strict=True)
    ]
    cues = themed.loc[themed["phrase"] != "", ["phrase", "intent"]].drop_duplicates("phrase")
    phrases = [(text, MatchType.PHRASE) for text in cues["phrase"]]
    negatives: list[_Negative] = []
    covered = np.zeros(len(texts), dtype=bool)
    # The queries of the theme each cue's phrase holds (converting ones too), or each theme when its queries have
    # no cue: "free roof estimate", a lead by the lexicon's exception, says nothing of how free-seekers convert.
    pools: dict[str, np.ndarray] = {}
    if phrases:
        blocked_by = KeywordMatcher(phrases, negative=True).matched_by(list(texts.index))
        theme_of = classes["intent"].to_numpy()
        for (text, match_type), intent, ok, blocks in zip(
            phrases, cues["intent"], _safe(phrases, protected), blocked_by, strict=True
        ):
            pools[text] = blocks[theme_of[blocks] == intent]
            if ok and blocks.size:
                reason = themed.loc[themed["phrase"] == text, "reason"].iloc[0]
                negatives.append(_Negative(text, match_type, NegativeBasis.INTENT, str(intent), blocks, reason))
                covered[blocks] = True
        # A cue whose queries another cue's negative blocks too adds nothing ("tenant rights" beside "tenant").
        negatives = [
            n
            for n in negatives
            if not any(m.blocks.size > n.blocks.size and np.isin(n.blocks, m.blocks).all() for m in negatives)
        ]
    rest = themed[~covered[themed["text_id"].to_numpy()]]
    pool_of = [phrase or f"intent:{intent}" for phrase, intent in zip(rest["phrase"], rest["intent"], strict=True)]
    for key in dict.fromkeys(k for k in pool_of if k not in pools):
        pools[key] = np.flatnonzero((classes["intent"] == key.removeprefix("intent:")).to_numpy())
    rest = rest[~_contested(texts, rest["text_id"].to_numpy(), pool_of, pools, value, settings)]
    exact = [(text, MatchType.EXACT) for text in rest.index]
    for (text, match_type), ok, (intent, reason, text_id) in zip(
        exact, _safe(exact, protected), rest[["intent", "reason", "text_id"]].itertuples(index=False), strict=True
    ):
        if ok:
            ids = np.array([text_id], dtype=np.int64)
            negatives.append(_Negative(text, match_type, NegativeBasis.INTENT, str(intent), ids, str(reason)))
    return negatives


def _contested(
    texts: pd.DataFrame,
    text_ids: np.ndarray,
    pool_of: list[str],
    pools: dict[str, np.ndarray],
    value: float,
    settings: NegativeMiningSettings,
) -> np.ndarray:
    """Per text: its pool (cue or theme) converted, and excluding the pool's texts among `text_ids` at the
    pool's posterior conversion rate would save less than `min_saving_cpa` conversions' worth."""
    keys = list(dict.fromkeys(pool_of))
    pooled = _candidate_evidence(texts, [pools[key] for key in keys])
    index = {key: i for i, key in enumerate(keys)}
    owner = np.array([index[key] for key in pool_of], dtype=np.int64)
    rest = _candidate_evidence(texts, [text_ids[owner == i] for i in range(len(keys))])
    prior = settings.prior_conversions
    rate_ratio = (prior + pooled.conversions) / (prior + pooled.expected)  # posterior rate / baseline rate
    saving = rest.cost - value * rest.expected * rate_ratio
    contested = (pooled.conversions > 0) & (saving < settings.min_saving_cpa * value)
    return contested[owner]


class _Evidence(BaseModel):
    """Per candidate: clicks, conversions, expected conversions at baseline, cost: the Bayesian decision."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    clicks: np.ndarray
    conversions: np.ndarray
    expected: np.ndarray
    cost: np.ndarray

    def saving(self, value: float, prior: float, conversions: np.ndarray | None = None) -> np.ndarray:
        """Spend saved minus the expected value of the conversions lost, under the Beta posterior."""
        x = self.conversions if conversions is None else conversions
        lost = self.expected * (prior + x) / (prior + self.expected)
        return np.asarray(self.cost - value * lost)

    def p_values(self) -> np.ndarray:
        """P(X <= x) for X ~ Poisson(expected): the chance of so few conversions at the baseline rate."""
        return np.asarray(gammaincc(self.conversions + 1, np.maximum(self.expected, 1e-12)))


def _candidate_evidence(texts: pd.DataFrame, members: list[np.ndarray]) -> _Evidence:
    sizes = np.fromiter(map(len, members), dtype=np.int64, count=len(members))
    owner = np.repeat(np.arange(len(members)), sizes)
    ids = np.concatenate(members) if members else np.zeros(0, dtype=np.int64)
    sums = {
        column: np.bincount(owner, weights=texts[column].to_numpy(float)[ids], minlength=len(members))
        for column in ("clicks", "conversions", "expected", "cost")
    }
    return _Evidence(**sums)


def _ngram_members(texts: pd.DataFrame, settings: NegativeMiningSettings) -> tuple[list[str], list[np.ndarray]]:
    """Each n-gram of 1-`max_ngram_words` words (not starting or ending with a connective) held by at least
    `min_ngram_queries` texts that had clicks, and the ids of those texts."""
    spent = np.flatnonzero((texts["clicks"] > 0).to_numpy())
    max_n = settings.max_ngram_words
    # dict.fromkeys, not a set: the n-grams' order (and so which of two equal candidates wins) must not depend
    # on the process's string hashing.
    gram_sets = [
        dict.fromkeys(" ".join(words[i : i + n]) for n in range(1, max_n + 1) for i in range(len(words) - n + 1))
        for words in (text.split(" ") for text in texts.index.to_numpy()[spent])
    ]
    counts = np.fromiter(map(len, gram_sets), dtype=np.int64, count=len(gram_sets))
    codes, grams = pd.factorize(pd.Series(list(chain.from_iterable(gram_sets)), dtype=object))
    owners = np.repeat(spent, counts)
    frequent = np.bincount(codes, minlength=len(grams)) >= settings.min_ngram_queries
    frequent_ids = np.flatnonzero(frequent)
    keep = np.array(
        [
            k
            for k, words in zip(frequent_ids, (str(grams[k]).split(" ") for k in frequent_ids), strict=True)
            if words[0] not in CONNECTIVES and words[-1] not in CONNECTIVES and len(grams[k]) >= 2
        ],
        dtype=np.int64,
    )
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(grams) + 1))
    return [str(grams[k]) for k in keep], [owners[order[bounds[k] : bounds[k + 1]]] for k in keep]


def _add_performance(
    negatives: list[_Negative],
    texts: pd.DataFrame,
    tokenised: TokenisedTexts,
    classes: pd.DataFrame,
    rows: pd.DataFrame,
    structure: AccountStructure,
    protected: TokenisedTexts,
    value: float,
    settings: NegativeMiningSettings,
) -> list[_Negative]:
    """Performance candidates tested together (BH); themes that pass turn their intent negatives into `both`."""
    grams, gram_members = _ngram_members(texts, settings)
    on_theme = _on_theme(texts, tokenised, rows, structure)
    query_ids = np.flatnonzero(((texts["clicks"] > 0) & ~on_theme).to_numpy())
    themes = [t for t in NEGATIVE_THEMES if (classes["intent"] == t).any()]
    theme_members = [np.flatnonzero((classes["intent"] == t).to_numpy()) for t in themes]
    candidates = [
        *((gram, MatchType.PHRASE) for gram in grams),
        *((text, MatchType.EXACT) for text in texts.index.to_numpy()[query_ids]),
    ]
    members = [*gram_members, *(np.array([t]) for t in query_ids), *theme_members]
    evidence = _candidate_evidence(texts, members)
    prior, q = settings.prior_conversions, settings.false_discovery_rate
    bar = settings.min_saving_cpa * value
    # Could pass at all, whatever its conversions: the p-value at zero and the saving at zero (Tarone).
    testable = (np.exp(-evidence.expected) <= q) & (evidence.saving(value, prior, np.zeros(len(members))) >= bar)
    passed = np.zeros(len(members), dtype=bool)
    if testable.any():
        adjusted = false_discovery_control(evidence.p_values()[testable], method="bh")
        passed[np.flatnonzero(testable)] = (adjusted <= q) & (evidence.saving(value, prior)[testable] >= bar)
    proven_themes = {t for t, ok in zip(themes, passed[len(candidates) :], strict=True) if ok}

    blocked = np.zeros(len(texts), dtype=bool)
    existing: dict[tuple[str, MatchType], _Negative] = {}
    for negative in negatives:
        if negative.intent in proven_themes:
            negative.basis = NegativeBasis.BOTH
        blocked[negative.blocks] = True
        existing[(negative.text, negative.match_type)] = negative
    winners = np.flatnonzero(passed[: len(candidates)])
    if not winners.size:
        return negatives
    cutoff = float(evidence.p_values()[passed].max())  # BH's rejection threshold, for what a wider n-gram adds
    chosen = [candidates[i] for i in winners]
    safe = _safe(chosen, protected)
    blocked_by = KeywordMatcher(chosen, negative=True).matched_by(tokenised)
    # Narrowest first: queries, then the longest n-grams, costliest first.
    cost = evidence.cost[winners]
    order = sorted(
        range(len(chosen)), key=lambda i: (chosen[i][1] is not MatchType.EXACT, -len(chosen[i][0].split()), -cost[i])
    )
    found: list[_Negative] = []
    for i in order:
        if (same := existing.get(chosen[i])) is not None:
            same.basis = NegativeBasis.BOTH
            continue
        ids = blocked_by[i]
        if not safe[i] or not ids.size:
            continue  # it would block a converting query, the brand or a keyword: its narrower parts may stand
        beyond = ids[~blocked[ids]]
        narrower = [n for n in found if np.isin(n.blocks, ids).all()]
        if beyond.size:
            more = _candidate_evidence(texts, [beyond])
            if not (more.p_values()[0] <= cutoff and more.saving(value, prior)[0] >= bar):
                continue
        elif not narrower:
            continue  # all it blocks is blocked already, by intent negatives
        found = [n for n in found if not any(n is m for m in narrower)]
        found.append(_Negative(chosen[i][0], chosen[i][1], NegativeBasis.PERFORMANCE, None, ids))
        blocked[ids] = True
    return [*negatives, *found]


def _on_theme(
    texts: pd.DataFrame, tokenised: TokenisedTexts, rows: pd.DataFrame, structure: AccountStructure
) -> np.ndarray:
    """Per text: does it hold every word (close variants, any order) of a keyword of an ad group that served it?"""
    live = [k for k in structure.keywords if k.status is not Status.REMOVED]
    on_theme = np.zeros(len(texts), dtype=bool)
    if not live:
        return on_theme
    text_ids, keyword_ids = KeywordMatcher([(k.text, MatchType.BROAD) for k in live], negative=False).pairs(tokenised)
    matched = pd.DataFrame({"text_id": text_ids, "ad_group_id": [live[k].ad_group_id for k in keyword_ids]})
    served = matched.merge(rows[["text_id", "ad_group_id"]].drop_duplicates(), on=["text_id", "ad_group_id"])
    on_theme[served["text_id"].to_numpy(np.int64)] = True
    return on_theme


def _place(
    negatives: list[_Negative], rows: pd.DataFrame, structure: AccountStructure, settings: NegativeMiningSettings
) -> dict[int, _Target]:
    """Where each negative goes, from the campaigns and ad groups its queries ran in."""
    spread = (
        _rows_of(negatives, rows)
        .groupby("candidate")
        .agg(
            campaigns=("campaign_id", "nunique"),
            campaign_id=("campaign_id", "first"),
            ad_groups=("ad_group_id", "nunique"),
            ad_group_id=("ad_group_id", "first"),
        )
    )
    campaign_names = {c.id: c.name for c in structure.campaigns}
    group_names = {g.id: g.name for g in structure.ad_groups}
    groups_per_campaign: dict[str, int] = defaultdict(int)
    for group in structure.ad_groups:
        if group.status is not Status.REMOVED:
            groups_per_campaign[group.campaign_id] += 1

    targets: dict[int, _Target] = {}
    shared: dict[str, list[int]] = defaultdict(list)  # list name -> negatives
    for where in spread.itertuples():  # tuples: a Series per row costs seconds for thousands of negatives
        candidate = int(where.Index)
        negative = negatives[candidate]
        if where.campaigns > 1 or where.campaign_id == "":
            name = NEGATIVE_THEMES.get(negative.intent or "", settings.shared_list_name)
            shared[name].append(candidate)
        elif where.ad_groups == 1 and where.ad_group_id and groups_per_campaign[where.campaign_id] > 1:
            targets[candidate] = _Target(
                level="ad_group", target_id=where.ad_group_id, target_name=group_names.get(where.ad_group_id, "")
            )
        else:
            targets[candidate] = _Target(
                level="campaign", target_id=where.campaign_id, target_name=campaign_names.get(where.campaign_id, "")
            )
    # A theme is unwanted account-wide: its negatives that would go to several ad groups or campaigns, or beside
    # its list, join the list (one proposal to read, not one per ad group). Each was checked against every
    # converting query, brand and keyword of the account, so the wider scope blocks nothing more of them.
    theme_targets: dict[str, set[_Target]] = defaultdict(set)
    for candidate, target in targets.items():
        if negatives[candidate].intent in NEGATIVE_THEMES:
            theme_targets[str(negatives[candidate].intent)].add(target)
    listed = {normalise(s.name) for s in structure.shared_lists}
    for theme, placed in theme_targets.items():
        name = NEGATIVE_THEMES[theme]
        if len(placed) > 1 or name in shared or normalise(name) in listed:
            moved = [c for c, t in targets.items() if negatives[c].intent == theme]
            shared[name].extend(moved)
            for candidate in moved:
                del targets[candidate]
    if shared:
        targets |= _shared_targets(shared, structure)
    return targets


def _not_held(
    negatives: list[_Negative], rows: pd.DataFrame, tokenised: TokenisedTexts, structure: AccountStructure
) -> list[_Negative]:
    """The negatives without those that add nothing to the account's own: every search of theirs is blocked where
    it ran, by a negative on its ad group, on its campaign, or in a list attached to its campaign."""
    held = [n for n in structure.negatives if n.level in ("campaign", "ad_group", "shared_list")]
    if not held or not negatives:
        return negatives
    attached = {s.id: s.campaign_ids for s in structure.shared_lists}
    blocked: set[tuple[int, str, str]] = set()  # (text id, level, its id)
    text_ids, held_ids = KeywordMatcher([(n.text, n.match_type) for n in held], negative=True).pairs(tokenised)
    for t, k in zip(text_ids.tolist(), held_ids.tolist(), strict=True):
        negative = held[k]
        if negative.level == "ad_group":
            blocked.add((t, "ad_group", negative.owner_id))
        else:
            owners = attached.get(negative.owner_id, ()) if negative.level == "shared_list" else [negative.owner_id]
            blocked.update((t, "campaign", c) for c in owners)
    ran = _rows_of(negatives, rows)
    where = zip(ran["text_id"].tolist(), ran["campaign_id"].tolist(), ran["ad_group_id"].tolist(), strict=True)
    ran["blocked"] = [(t, "campaign", c) in blocked or (t, "ad_group", g) in blocked for t, c, g in where]
    done = ran.groupby("candidate")["blocked"].all()
    return [n for i, n in enumerate(negatives) if not done.get(i, False)]


def _rows_of(negatives: list[_Negative], rows: pd.DataFrame) -> pd.DataFrame:
    """Every (negative, campaign and ad group one of its searches ran in), in one merge: a filter of the report
    per negative grows with the square of it."""
    return pd.DataFrame(
        {
            "candidate": np.repeat(np.arange(len(negatives)), [n.blocks.size for n in negatives]),
            "text_id": np.concatenate([n.blocks for n in negatives]),
        }
    ).merge(rows[["text_id", "campaign_id", "ad_group_id"]].drop_duplicates(), on="text_id")


def _not_listed(negatives: list[_Negative], targets: dict[int, _Target], rows: pd.DataFrame) -> dict[int, _Target]:
    """The targets without the campaign and ad-group negatives a new shared list proposed here covers: every
    search of theirs, where it ran within their target, the list blocks (it goes on every campaign they ran in)."""
    listed = [c for c, t in targets.items() if t.level == "shared_list" and not t.target_id]
    local = [c for c, t in targets.items() if t.level != "shared_list"]
    if not listed or not local:
        return targets
    ran = _rows_of(negatives, rows)
    in_list = ran[ran["candidate"].isin(listed)]
    blocked = set(zip(in_list["text_id"].tolist(), in_list["campaign_id"].tolist(), strict=True))
    mine = ran[ran["candidate"].isin(local)]
    level = mine["candidate"].map({c: targets[c].level for c in local}).to_numpy()
    target_id = mine["candidate"].map({c: targets[c].target_id for c in local}).to_numpy()
    mine = mine[np.where(level == "campaign", mine["campaign_id"], mine["ad_group_id"]).astype(str) == target_id]
    mine = mine.assign(
        blocked=[pair in blocked for pair in zip(mine["text_id"].tolist(), mine["campaign_id"].tolist(), strict=True)]
    )
    covered = mine.groupby("candidate")["blocked"].all()
    return {c: t for c, t in targets.items() if not covered.get(c, False)}


def _shared_targets(shared: dict[str, list[int]], structure: AccountStructure) -> dict[int, _Target]:
    """Per list name: the existing list of that name, then new lists of that name (where there is none, or it is
    full) while the account may hold more lists."""
    capacity = limit("shared_negative_list_max_keywords")
    free_lists = limit("shared_negative_lists_per_account") - len(structure.shared_lists)
    held: defaultdict[str, int] = defaultdict(int)
    for negative in structure.negatives:
        if negative.level == "shared_list":
            held[negative.owner_id] += 1
    targets: dict[int, _Target] = {}
    for name, candidates in shared.items():
        # The theme's own list, else a new one of its name (CreateSharedNegativeList), attached where it ran.
        named = [s for s in structure.shared_lists if normalise(s.name) == normalise(name)]
        lists = [
            (_Target(level="shared_list", target_id=s.id, target_name=s.name), capacity - held[s.id]) for s in named
        ]
        remaining = iter(candidates)
        number = 0
        while True:
            for target, room in lists:
                for candidate in (c for _, c in zip(range(max(room, 0)), remaining, strict=False)):
                    targets[candidate] = target
            lists = []
            if free_lists <= 0 or all(c in targets for c in candidates):
                break
            number += 1
            free_lists -= 1
            lists = [
                (
                    _Target(level="shared_list", target_id="", target_name=name if number == 1 else f"{name} {number}"),
                    capacity,
                )
            ]
    return targets  # beyond 20 full lists the rest stays unplaced: 100,000 negatives is not a proposal


class _Report:
    """Turns negatives and their targets into changes with evidence and a rationale saying only what the data does."""

    def __init__(
        self,
        queries: pd.DataFrame,
        texts: pd.DataFrame,
        rows: pd.DataFrame,
        structure: AccountStructure,
        period: ReportPeriod | None,
        value: float,
        has_conversions: bool,
        settings: NegativeMiningSettings,
    ) -> None:
        self.queries = queries.sort_values("cost", ascending=False, kind="stable")
        self.by_text = self.queries.groupby("text_id", sort=False).indices
        # Columns as arrays: a report proposes up to thousands of negatives, each listing its queries.
        self.terms = self.queries.index.to_numpy()
        self.metric = {c: self.queries[c].to_numpy() for c in ("clicks", "impressions", "cost", "conversions")}
        self.texts = texts
        self.rows = rows[["text_id", "campaign_id", "ad_group_id"]]
        self.structure = structure
        self.period = period
        self.value = value
        self.has_conversions = has_conversions
        self.settings = settings
        self.existing = {(n.level, n.owner_id, normalise(n.text), n.match_type) for n in structure.negatives}
        self.text_conversions = texts["conversions"].to_numpy()
        self.text_cost = texts["cost"].to_numpy()
        self.counter_texts: dict[str, np.ndarray] = {}

    def changes(self, negatives: list[_Negative], targets: dict[int, _Target]) -> list[NegativeChange]:
        per_target: dict[_Target, list[_Negative]] = defaultdict(list)
        for index, target in targets.items():
            negative = negatives[index]
            if (target.level, target.target_id, negative.text, negative.match_type) not in self.existing:
                per_target[target].append(negative)
        self.counter_texts = self._counter_texts([n.text for chosen in per_target.values() for n in chosen])
        changes = [self._change(target, chosen) for target, chosen in per_target.items()]
        return sorted(changes, key=lambda c: (-c.evidence.metrics["cost"], c.target_id, _target_name(c)))

    def _blocked(self, text_ids: np.ndarray) -> np.ndarray:
        """Positions in `queries` of these texts' rows; sorted positions keep the cost order."""
        if not text_ids.size:
            return np.zeros(0, dtype=np.int64)
        return np.sort(np.concatenate([self.by_text[t] for t in text_ids.tolist() if t in self.by_text]))

    def _evidence(self, positions: np.ndarray, limit_to: int) -> tuple[QueryEvidence, ...]:
        m = self.metric
        return tuple(
            QueryEvidence(
                search_term=self.terms[i],
                clicks=int(m["clicks"][i]),
                impressions=int(m["impressions"][i]),
                cost=int(m["cost"][i]),
                conversions=float(m["conversions"][i]),
            )
            for i in positions[:limit_to].tolist()
        )

    def _counter_texts(self, negative_texts: list[str]) -> dict[str, np.ndarray]:
        """Per negative text, the converting texts its counter-evidence comes from, best first: most of its content
        words shared (at least half), then most conversions, then most cost; ties by the first of its sorted words
        they hold (sorted: one order in every run), then text id. At most `max_counter_evidence` each.

        All negatives at once, as a sparse product of negatives x words and words x converting texts: a loop per
        negative over each of its words' converting texts grows with the square of the report."""
        limit_to = self.settings.max_counter_evidence
        negative_texts = list(dict.fromkeys(negative_texts))
        converting = np.flatnonzero(self.text_conversions > 0)
        if not limit_to or not negative_texts or not converting.size:
            return {}
        names = self.texts.index.to_numpy()
        held = [set(names[t].split(" ")) - CONNECTIVES for t in converting.tolist()]
        codes, vocabulary = pd.factorize(pd.Series(list(chain.from_iterable(held)), dtype=object))
        owner = np.repeat(np.arange(converting.size), [len(words) for words in held])
        holders = csr_matrix(
            (np.ones(codes.size, dtype=np.int64), (codes, owner)), shape=(len(vocabulary), converting.size)
        )
        words = [sorted(set(text.split(" ")) - CONNECTIVES) for text in negative_texts]
        sizes = np.array([len(w) for w in words], dtype=np.int64)
        if sizes.max() > 52:  # bits of an int64 that a float64 holds exactly; negatives have at most 10 words
            raise ValueError("a negative keyword with more than 52 distinct words")
        # Bit (size - 1 - j) of a product entry is set when the converting text holds the negative's j-th word:
        # the bits set count the words shared, and the highest one names the first word held.
        row = np.repeat(np.arange(len(words)), sizes)
        position = np.arange(row.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        column = vocabulary.get_indexer(list(chain.from_iterable(words)))
        present = column >= 0
        bits = np.left_shift(np.int64(1), np.repeat(sizes, sizes) - 1 - position)
        query = csr_matrix(
            (bits[present], (row[present], column[present])), shape=(len(words), len(vocabulary)), dtype=np.int64
        )
        needed = np.maximum(1, (sizes + 1) // 2)
        # Chunks of negatives whose product holds at most ~4M entries (bounded by their words' converting texts).
        bound = np.cumsum((query != 0).astype(np.int64) @ np.diff(holders.indptr))
        ends = [*np.searchsorted(bound, np.arange(4_000_000, int(bound[-1]), 4_000_000)).tolist(), len(words)]
        result: dict[str, np.ndarray] = {}
        start = 0
        for end in sorted(set(ends)):
            if end <= start:
                continue
            product = (query[start:end] @ holders).tocsr()
            rows = np.repeat(np.arange(start, end), np.diff(product.indptr))
            shared = np.bitwise_count(product.data)
            keep = shared >= needed[rows]
            rows, shared, ids = rows[keep], shared[keep], converting[product.indices[keep]]
            first = sizes[rows] - np.frexp(product.data[keep].astype(np.float64))[1]
            # np.lexsort sorts by its last key first.
            order = np.lexsort(
                (ids, first, -self.text_cost[ids], -self.text_conversions[ids], -shared.astype(np.int64), rows)
            )
            rows, ids = rows[order], ids[order]
            rank = np.arange(rows.size) - np.searchsorted(rows, rows)
            rows, ids = rows[rank < limit_to], ids[rank < limit_to]
            bounds = np.searchsorted(rows, np.arange(start, end + 1))
            for i in range(start, end):
                result[negative_texts[i]] = ids[bounds[i - start] : bounds[i - start + 1]]
            start = end
        return result

    def _counter_evidence(self, negative: _Negative) -> tuple[QueryEvidence, ...]:
        """Converting queries (it does not block them) that hold at least half of its content words: most words
        shared, then most conversions, first."""
        by_text = self.counter_texts.get(negative.text, np.zeros(0, dtype=np.int64))
        if not by_text.size:
            return ()
        positions = self._blocked(by_text)
        m = self.metric
        positions = positions[np.lexsort((-m["cost"][positions], -m["conversions"][positions]))]
        return self._evidence(positions, self.settings.max_counter_evidence)

    def _change(self, target: _Target, negatives: list[_Negative]) -> NegativeChange:
        specs, costs = [], []
        for negative in negatives:
            blocked = self._blocked(negative.blocks)
            specs.append(
                NegativeSpec(
                    text=negative.text,
                    match_type=negative.match_type,
                    basis=negative.basis,
                    intent=negative.intent,
                    blocks=self._evidence(blocked, self.settings.max_blocks_listed),
                    counter_evidence=self._counter_evidence(negative),
                )
            )
            costs.append(int(self.metric["cost"][blocked].sum()))
        order = sorted(range(len(specs)), key=lambda i: -costs[i])
        specs, costs, negatives = [specs[i] for i in order], [costs[i] for i in order], [negatives[i] for i in order]
        ids = np.unique(np.concatenate([n.blocks for n in negatives]))
        everything = self._blocked(ids)
        blocked_texts = self.texts.iloc[ids]
        expected = float(blocked_texts["expected"].sum())
        metrics = blocked_metrics(len(specs), self.queries.iloc[everything])
        if self.has_conversions and self.value > 0:
            metrics["value_per_conversion"] = round(self.value)
            metrics["expected_conversions"] = round(expected, 2)
        common = {
            "account": self.structure.account.name,
            "keywords": tuple(specs),
            "rationale": self._rationale(target, negatives, costs, metrics, ids),
            "evidence": Evidence(
                period_start=self.period.start.isoformat() if self.period else None,
                period_end=self.period.end.isoformat() if self.period else None,
                metrics=metrics,
                queries=self._evidence(everything, self.settings.max_blocks_listed),
            ),
        }
        if target.level == "shared_list" and not target.target_id:
            campaigns = self._attach_to(ids)
            return CreateSharedNegativeList(
                name=target.target_name,
                campaign_ids=tuple(c.id for c in campaigns),
                campaign_names=tuple(c.name for c in campaigns),
                **common,
            )
        return AddNegativeKeywords(
            level=target.level, target_id=target.target_id, target_name=target.target_name, **common
        )

    def _attach_to(self, text_ids: np.ndarray) -> list[Campaign]:
        """The live campaigns a new list goes on: those its searches ran in, or every one when the report does
        not say (an account-wide theme)."""
        ran = set(self.rows.loc[self.rows["text_id"].isin(text_ids), "campaign_id"]) - {""}
        live = [c for c in self.structure.campaigns if c.status is not Status.REMOVED]
        return [c for c in live if c.id in ran] if ran else live

    def _rationale(
        self,
        target: _Target,
        negatives: list[_Negative],
        costs: list[int],
        metrics: dict[str, float],
        text_ids: np.ndarray,
    ) -> str:
        money = self.structure.account.money
        ran = self.rows[self.rows["text_id"].isin(text_ids)]
        campaigns = set(ran["campaign_id"]) - {""}
        groups = len(set(ran["ad_group_id"]) - {""})
        attached = [c.name or c.id for c in self._attach_to(text_ids)]
        new = (
            ""
            if target.target_id
            else f" (a new list, attached to {len(attached)} campaign(s): {', '.join(attached[:5])})"
            if attached
            else " (a new list; the account holds no campaign to attach it to, so a person attaches it)"
        )
        where = {
            "shared_list": f"the shared negative list '{target.target_name}'{new}, "
            + (
                f"because these searches ran in {len(campaigns)} campaigns"
                if len(campaigns) > 1
                else f"because what these searches mean is unwanted in every ad group (they ran in {groups} ad groups)"
                if campaigns
                else "because the report does not say which campaign they ran in"
            ),
            "campaign": f"campaign '{target.target_name or target.target_id}'",
            "ad_group": f"ad group '{target.target_name or target.target_id}'",
        }[target.level]
        when = f" between {self.period.start} and {self.period.end}" if self.period else ""
        parts = [
            f"Add {len(negatives)} negative keyword(s) to {where}. The {int(metrics['blocked_terms'])} search terms "
            f"they block cost {money(int(metrics['cost']))} for {int(metrics['clicks'])} clicks{when}"
        ]
        if self.has_conversions:
            parts[0] += f" and brought {metrics['conversions']:g} conversions"
            if "expected_conversions" in metrics:
                worth = money(int(metrics["value_per_conversion"]))
                parts[0] += (
                    ", where the conversion rate of their campaigns would have brought about "
                    f"{metrics['expected_conversions']:g} (a conversion is worth {worth})"
                )
        parts[0] += "."
        themes = sorted({n.intent for n in negatives if n.intent})
        if themes:
            labels = ", ".join(t.replace("_", " ") for t in themes)
            example = next(n for n in negatives if n.intent)
            parts.append(f"By what the searches mean: {labels} (for example {_label(example)}: {example.reason}).")
        proven = [n for n in negatives if n.basis in (NegativeBasis.PERFORMANCE, NegativeBasis.BOTH)]
        if proven:
            parts.append(
                f"{len(proven)} of them also rest on performance: far fewer conversions than expected, "
                f"tested together with every other candidate at a {self.settings.false_discovery_rate:.0%} "
                "false-discovery rate, and the spend saved outweighs the expected conversions lost."
            )
        if not self.has_conversions:
            parts.append("The report has no conversions column, so they rest on intent alone.")
        biggest = ", ".join(f"{_label(n)} ({money(cost)})" for n, cost in zip(negatives[:3], costs[:3], strict=False))
        parts.append(f"Biggest: {biggest}.")
        parts.append("None of them blocks a search term that converted, a brand search or one of your keywords.")
        return " ".join(parts)


def _target_name(change: NegativeChange) -> str:
    return change.name if isinstance(change, CreateSharedNegativeList) else change.target_name


def _label(negative: _Negative) -> str:
    return f"[{negative.text}]" if negative.match_type is MatchType.EXACT else f'"{negative.text}"'
