"""Group search queries into themes, biggest first, each named by its most distinctive words.

Pipeline (both backends share it; only the vectors differ):

1. Aggregate the report to one row per distinct query (a frame with only `search_term` counts each
   row as one impression).
2. Vectorise every distinct query to a unit vector:
   - `tfidf`: TF-IDF over word 1–2-grams and char_wb 3–5-grams, fitted on a sample, reduced with
     TruncatedSVD to 100 dimensions (at most one per 6 queries) and re-normalised;
   - `embeddings`: all-MiniLM-L6-v2 sentence embeddings (optional extra, see `tools.query_embeddings`).
3. Choose the number of themes on a sample of at most `WARD_SAMPLE` queries with Ward linkage.
   Criterion: the smallest k whose mean squared distance of a query to its theme centroid is at
   most `MAX_SPREAD[backend]`. With unit vectors this is a homogeneity target independent of how
   many queries there are (a bigger account gets more themes only if it is more diverse). The sum
   of squared distances for every k falls out of the Ward merge heights (each merge adds h²/2), so
   the whole sweep costs one linkage. `granularity` then scales k (0.5 coarser, 2 finer).
   The thresholds were set once per backend on the public WANDS and banking77 sets
   (`benchmarks/clustering.py`); no labels are used here.
4. Refine the Ward centroids with KMeans on a larger sample, weighted by impressions and cost
   (log-damped, so one huge query does not own a centroid), and assign every query to its nearest
   centroid. Samples are drawn with probability proportional to that weight, so big queries are in.
5. Name each theme by class-based TF-IDF (c-TF-IDF, as in BERTopic) over word 1–2-grams of the
   weighted sample, and order themes by their share of impressions plus their share of cost.

Search terms are strangers' text: they are only counted and vectorised here, never interpreted.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import normalize

from ads.errors import ConfigurationError, ReportFormatError

Backend = Literal["tfidf", "embeddings"]
BACKENDS: tuple[str, ...] = ("tfidf", "embeddings")

# Mean squared distance of a unit query vector to its theme centroid that a theme may have.
MAX_SPREAD: dict[str, float] = {"tfidf": 0.40, "embeddings": 0.27}
WARD_SAMPLE = 4_000  # Ward needs O(n²) memory: 4,000 queries is ~64 MB of distances
KMEANS_SAMPLE = 30_000  # queries the weighted KMeans refinement is fitted on
VECTORIZER_SAMPLE = 30_000  # queries the TF-IDF vocabulary and SVD are fitted on
SVD_DIMENSIONS = 100
# A small account gets fewer dimensions: with nearly one per query the reduction stops merging
# near-synonyms and every theme looks spread out.
QUERIES_PER_DIMENSION = 6
TOP_TERMS = 8
NAME_TERMS = 3
METRIC_COLUMNS: tuple[str, ...] = ("impressions", "clicks", "cost", "conversions")


class QueryCluster(BaseModel):
    """One theme of search queries, with the summed metrics of its queries."""

    id: int
    name: str
    top_terms: list[str]
    size: int = Field(description="distinct queries in the theme")
    impressions: int
    clicks: int
    cost: int = Field(description="in the account's money unit (Google micros, Meta minor units)")
    conversions: float


class ClusteringResult(BaseModel):
    """Themes ordered biggest first, and which theme each distinct query belongs to."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    backend: Backend
    clusters: list[QueryCluster]
    assignments: pd.DataFrame = Field(description="columns search_term, cluster_id; one row per distinct query")


def cluster_queries(
    terms: pd.DataFrame, *, backend: str = "tfidf", granularity: float = 1.0, random_state: int = 0
) -> ClusteringResult:
    """Cluster the distinct queries of a search-term report into themes; see the module docstring."""
    if backend not in BACKENDS:
        raise ConfigurationError(f"clustering backend {backend!r} is not one of: {', '.join(BACKENDS)}")
    if not granularity > 0:
        raise ConfigurationError(f"clustering granularity must be above 0, got {granularity}")
    queries = _distinct_queries(terms)
    if queries.empty:
        return ClusteringResult(
            backend=backend,
            clusters=[],
            assignments=pd.DataFrame({"search_term": pd.Series(dtype=str), "cluster_id": pd.Series(dtype=int)}),
        )
    texts = queries["search_term"].tolist()
    theme_weight = _theme_weight(queries)
    fit_weight = 1.0 + np.log1p(len(queries) * theme_weight / theme_weight.sum())
    order = _weighted_sample_order(fit_weight, np.random.default_rng(random_state))
    vectors = _vectorise(texts, backend, order[:VECTORIZER_SAMPLE], random_state)
    labels = _cluster_vectors(vectors, fit_weight, order, MAX_SPREAD[backend], granularity, random_state)
    return _summarise(queries, labels, theme_weight, fit_weight, order[:KMEANS_SAMPLE], backend)


def _distinct_queries(terms: pd.DataFrame) -> pd.DataFrame:
    if "search_term" not in terms.columns:
        raise ReportFormatError(
            f"search terms: missing column 'search_term' (columns: {', '.join(map(str, terms.columns))})"
        )
    frame = pd.DataFrame({"search_term": terms["search_term"].astype("string").str.strip()})
    for column in METRIC_COLUMNS:
        if column not in terms.columns:
            frame[column] = 1 if column == "impressions" else 0
            continue
        values = pd.to_numeric(terms[column], errors="coerce")
        bad = values.isna() & terms[column].notna()
        if bad.any():
            row = bad.idxmax()
            raise ReportFormatError(f"search terms row {row}: field {column!r} is not a number: {terms[column][row]!r}")
        frame[column] = values.fillna(0)
    frame = frame[frame["search_term"].notna() & (frame["search_term"] != "")]
    return frame.groupby("search_term", sort=True, as_index=False)[list(METRIC_COLUMNS)].sum()


def _theme_weight(queries: pd.DataFrame) -> np.ndarray:
    """Share of impressions plus share of cost: what makes a theme big to a marketer."""
    weight = np.zeros(len(queries))
    for column in ("impressions", "cost"):
        values = queries[column].to_numpy(dtype=float).clip(min=0)
        if values.sum() > 0:
            weight += values / values.sum()
    return weight if weight.sum() > 0 else np.ones(len(queries))


def _weighted_sample_order(weight: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random order where heavier queries come earlier (Efraimidis–Spirakis keys); any prefix is a weighted sample."""
    keys = np.log(rng.random(len(weight))) / weight
    return np.argsort(-keys, kind="stable")


def _vectorise(texts: list[str], backend: str, fit_rows: np.ndarray, random_state: int) -> np.ndarray:
    if backend == "embeddings":
        # Imported here: it is an optional extra and torch is slow to import.
        from tools.query_embeddings import embed_queries

        return embed_queries(texts)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, dtype=np.float32)
    words = TfidfVectorizer(
        analyzer="word", token_pattern=r"(?u)\b\w+\b", ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32
    )
    vectorizer = FeatureUnion([("words", words), ("chars", chars)])
    fit_texts = [texts[i] for i in np.sort(fit_rows)]
    try:
        vectorizer.fit(fit_texts)
    except ValueError:  # no word at all (only punctuation or emoji): characters still tell queries apart
        vectorizer = chars.fit(fit_texts)
    matrix = normalize(vectorizer.transform(texts))
    dimensions = min(SVD_DIMENSIONS, matrix.shape[1] - 1, len(fit_texts) // QUERIES_PER_DIMENSION)
    if dimensions < 2:  # a handful of near-identical queries: the sparse vectors are small enough as they are
        return normalize(matrix).toarray()
    svd = TruncatedSVD(dimensions, random_state=random_state).fit(matrix[np.sort(fit_rows)])
    return normalize(svd.transform(matrix)).astype(np.float32)


def _cluster_vectors(
    vectors: np.ndarray,
    fit_weight: np.ndarray,
    order: np.ndarray,
    max_spread: float,
    granularity: float,
    random_state: int,
) -> np.ndarray:
    n = len(vectors)
    if n == 1:
        return np.zeros(1, dtype=int)
    ward_rows = order[:WARD_SAMPLE]
    tree = linkage(vectors[ward_rows].astype(np.float64), method="ward")
    k = max(1, min(len(ward_rows), round(_themes_needed(tree, len(ward_rows), max_spread) * granularity)))
    ward_labels = fcluster(tree, k, criterion="maxclust")
    centroids = np.vstack([vectors[ward_rows][ward_labels == label].mean(axis=0) for label in np.unique(ward_labels)])
    fit_rows = order[:KMEANS_SAMPLE]
    kmeans = KMeans(len(centroids), init=centroids, n_init=1, random_state=random_state)
    kmeans.fit(vectors[fit_rows], sample_weight=fit_weight[fit_rows])
    return kmeans.predict(vectors)


def _themes_needed(tree: np.ndarray, n: int, max_spread: float) -> int:
    """Smallest k whose mean squared distance to the theme centroid is within max_spread (see module docstring)."""
    # After m merges the within-theme sum of squares is the sum of h²/2 over those merges; k = n - m.
    sum_of_squares = np.concatenate([[0.0], np.cumsum(tree[:, 2] ** 2 / 2)])
    mean_spread_by_k = sum_of_squares[::-1] / n  # index k-1 -> k themes
    return int(np.argmax(mean_spread_by_k <= max_spread)) + 1


def _summarise(
    queries: pd.DataFrame,
    labels: np.ndarray,
    theme_weight: np.ndarray,
    fit_weight: np.ndarray,
    sample_rows: np.ndarray,
    backend: str,
) -> ClusteringResult:
    frame = queries.assign(label=labels, theme_weight=theme_weight, fit_weight=fit_weight)
    totals = frame.groupby("label").agg(
        size=("search_term", "size"),
        theme_weight=("theme_weight", "sum"),
        impressions=("impressions", "sum"),
        clicks=("clicks", "sum"),
        cost=("cost", "sum"),
        conversions=("conversions", "sum"),
    )
    totals = totals.sort_values(["theme_weight", "size"], ascending=False, kind="stable")
    new_id = pd.Series(np.arange(len(totals)), index=totals.index)
    cluster_ids = new_id.loc[labels].to_numpy()
    # Naming reads the weighted sample plus each theme's heaviest query, so every theme is seen and
    # a million-row report is not counted twice.
    heaviest_rows = frame.reset_index(drop=True).groupby("label")["fit_weight"].idxmax().to_numpy()
    name_rows = np.union1d(sample_rows, heaviest_rows)
    texts = queries["search_term"].to_numpy(dtype=object)
    names = _name_clusters(texts[name_rows].tolist(), cluster_ids[name_rows], len(totals), fit_weight[name_rows])
    clusters = [
        QueryCluster(
            id=cluster_id,
            name=names[cluster_id][0],
            top_terms=names[cluster_id][1],
            size=row.size,
            impressions=round(row.impressions),
            clicks=round(row.clicks),
            cost=round(row.cost),
            conversions=float(row.conversions),
        )
        for cluster_id, row in zip(new_id.to_numpy(), totals.itertuples(), strict=False)
    ]
    assignments = pd.DataFrame(
        {"search_term": queries["search_term"].to_numpy(dtype=object), "cluster_id": cluster_ids}
    )
    return ClusteringResult(backend=backend, clusters=clusters, assignments=assignments)


def _name_clusters(
    texts: list[str], cluster_ids: np.ndarray, n_clusters: int, weight: np.ndarray
) -> list[tuple[str, list[str]]]:
    """(name, top terms) per cluster id by c-TF-IDF: term frequency in the theme × log(1 + A / frequency overall)."""
    try:
        counts = CountVectorizer(ngram_range=(1, 2), stop_words="english").fit(texts)
    except ValueError:  # every query is stop words or single characters: no vocabulary to rank
        counts = None
    fallback = _heaviest_query(texts, cluster_ids, n_clusters, weight)
    if counts is None:
        return [(query, []) for query in fallback]
    membership = sp.csr_matrix((weight, (cluster_ids, np.arange(len(texts)))), shape=(n_clusters, len(texts)))
    class_terms = sp.csr_matrix(membership @ counts.transform(texts))
    term_frequency = normalize(class_terms, norm="l1")
    average_words = class_terms.sum() / n_clusters
    idf = np.log1p(average_words / np.maximum(np.asarray(class_terms.sum(axis=0)).ravel(), 1e-12))
    scores = sp.csr_matrix(term_frequency.multiply(idf[np.newaxis, :]))
    vocabulary = counts.get_feature_names_out()
    named = []
    for cluster_id in range(n_clusters):
        row = scores.getrow(cluster_id)
        best = row.indices[np.lexsort((row.indices, -row.data))][:TOP_TERMS]
        top_terms = [str(vocabulary[i]) for i in best]
        named.append((_name_from_terms(top_terms) or fallback[cluster_id], top_terms))
    return named


def _name_from_terms(top_terms: list[str]) -> str:
    """Up to NAME_TERMS top terms, skipping a term whose words an earlier pick already says."""
    picked: list[str] = []
    for term in top_terms:
        said = {word for earlier in picked for word in earlier.split()}
        if set(term.split()) <= said:
            continue
        picked = [earlier for earlier in picked if not set(earlier.split()) < set(term.split())] + [term]
        if len(picked) == NAME_TERMS:
            break
    return " / ".join(picked)


def _heaviest_query(texts: list[str], cluster_ids: np.ndarray, n_clusters: int, weight: np.ndarray) -> list[str]:
    heaviest = (
        pd.DataFrame({"text": texts, "cluster": cluster_ids, "weight": weight})
        .sort_values(["weight", "text"], ascending=[False, True], kind="stable")
        .drop_duplicates("cluster")
        .set_index("cluster")
    )
    return [str(heaviest.loc[cluster_id, "text"]) for cluster_id in range(n_clusters)]
