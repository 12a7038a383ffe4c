"""Group search queries into themes, biggest first, each named by its head phrase.

Pipeline (both backends share it; only the vectors differ):

1. Aggregate the report to one row per distinct query (a frame with only `search_term` counts each
   row as one impression).
2. Vectorise every distinct query to a unit vector:
   - `tfidf`: TF-IDF over word 1–2-grams and char_wb 3–5-grams, fitted on a sample, reduced with
     TruncatedSVD to 100 dimensions (at most one per 6 queries) and re-normalised;
   - `embeddings`: all-MiniLM-L6-v2 sentence embeddings (optional extra, see `tools.query_embeddings`).
3. Choose the number of themes on a sample of at most `WARD_SAMPLE` queries from the data's own distances:
   cut an average-linkage tree (cosine) where a theme's queries would be on average no closer to each other
   than `THEME_DISTANCE` × the median distance between two queries of the report, i.e. where merging starts
   to join queries as far apart as unrelated ones. No label, no per-account number: the scale is the
   account's own spread. Ward linkage on the same distances then splits the sample into that many themes
   (Ward's partition beats average linkage's at a given k). `granularity` scales k. Checked on held-out parts
   of the public WANDS and banking77 sets (`benchmarks/clustering.py`).
4. Refine the Ward centroids with KMeans on a larger sample, weighted by impressions and cost
   (log-damped, so one huge query does not own a centroid), and assign every query to its nearest
   centroid. Samples are drawn with probability proportional to that weight, so big queries are in.
5. Name each theme by its head phrase: of the word 1–4-grams of its queries (singular and plural as
   one, `ads.keyword_matching.close_variant`; no stop word at either end), score each by the weighted
   share of the theme's queries that hold it times how rare it is in other themes (class-based
   TF-IDF, as in BERTopic); the name is the longest phrase around the best one that at least half of
   the best one's queries hold ("roof repair" around "repair"), as people typed it most often, so it
   is always part of a real query. Themes are
   ordered by their share of impressions plus their share of cost.

Search terms are strangers' text: they are only counted and vectorised here, never interpreted.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer, TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import normalize

from ads.errors import ConfigurationError, ReportFormatError
from ads.keyword_matching import close_variant, tokens, variant_tokens

Backend = Literal["tfidf", "embeddings"]
BACKENDS: tuple[str, ...] = ("tfidf", "embeddings")

WARD_SAMPLE = 4_000  # Ward needs O(n²) memory: 4,000 queries is ~64 MB of distances
# A theme's queries are on average closer than this share of the median distance between two queries.
THEME_DISTANCE = 0.7
KMEANS_SAMPLE = 30_000  # queries the weighted KMeans refinement is fitted on
VECTORIZER_SAMPLE = 30_000  # queries the TF-IDF vocabulary and SVD are fitted on
SVD_DIMENSIONS = 100
# A small account gets fewer dimensions: with nearly one per query the reduction stops merging
# near-synonyms and every theme looks spread out.
QUERIES_PER_DIMENSION = 6
# ... but never fewer than this: a handful of themes needs as many directions to stay apart.
MIN_DIMENSIONS = 12
TOP_TERMS = 8
NAME_WORDS = 4
# A longer phrase names the theme when at least this share of the best phrase's queries hold it.
NAME_SHARE = 0.5
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
    labels = _cluster_vectors(vectors, fit_weight, order, granularity, random_state)
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


class _CharNgramsByWord(TfidfVectorizer):
    """char_wb TF-IDF with each query's n-gram counts summed from its words' counts.

    char_wb n-grams never cross a space, so the counts are the same; 300k queries share a few thousand words,
    and counting each word once is what keeps a million-row report's clustering fast."""

    def transform(self, raw_documents: Any) -> sp.csr_matrix:
        per_word = CountVectorizer(analyzer=str.split, dtype=np.float32)
        query_words = per_word.fit_transform(doc.lower() for doc in raw_documents)
        word_ngrams = CountVectorizer.transform(self, per_word.get_feature_names_out())
        return self._tfidf.transform((query_words @ word_ngrams).astype(self.dtype), copy=False)


def _vectorise(texts: list[str], backend: str, fit_rows: np.ndarray, random_state: int) -> np.ndarray:
    if backend == "embeddings":
        # Imported here: it is an optional extra and torch is slow to import.
        from tools.query_embeddings import embed_queries

        return embed_queries(texts)
    chars = _CharNgramsByWord(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, dtype=np.float32)
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
    per_query = max(MIN_DIMENSIONS, len(fit_texts) // QUERIES_PER_DIMENSION)
    dimensions = min(SVD_DIMENSIONS, matrix.shape[1] - 1, len(fit_texts) - 1, per_query)
    if dimensions < 2:  # a handful of near-identical queries: the sparse vectors are small enough as they are
        return normalize(matrix).toarray()
    svd = TruncatedSVD(dimensions, random_state=random_state).fit(matrix[np.sort(fit_rows)])
    return normalize(svd.transform(matrix)).astype(np.float32)


def _cluster_vectors(
    vectors: np.ndarray,
    fit_weight: np.ndarray,
    order: np.ndarray,
    granularity: float,
    random_state: int,
) -> np.ndarray:
    n = len(vectors)
    if n == 1:
        return np.zeros(1, dtype=int)
    ward_rows = order[:WARD_SAMPLE]
    sample = vectors[ward_rows].astype(np.float64)
    distances = pdist(sample, "cosine").clip(min=0.0)
    k = max(1, min(len(ward_rows), round(_themes_by_distance(distances) * granularity)))
    # The vectors are unit length, so sqrt(2 × cosine distance) is the Euclidean distance Ward needs.
    ward_labels = fcluster(linkage(np.sqrt(2.0 * distances), method="ward"), k, criterion="maxclust")
    centroids = np.vstack([sample[ward_labels == label].mean(axis=0) for label in np.unique(ward_labels)])
    centroids = centroids.astype(vectors.dtype)
    fit_rows = order[:KMEANS_SAMPLE]
    kmeans = KMeans(len(centroids), init=centroids, n_init=1, random_state=random_state)
    kmeans.fit(vectors[fit_rows], sample_weight=fit_weight[fit_rows])
    return kmeans.predict(vectors)


def _themes_by_distance(distances: np.ndarray) -> int:
    """Themes in an average-linkage tree cut at `THEME_DISTANCE` × the median distance (see the module docstring)."""
    tree = linkage(distances, method="average")
    return int(fcluster(tree, THEME_DISTANCE * float(np.median(distances)), criterion="distance").max())


def _summarise(
    queries: pd.DataFrame,
    labels: np.ndarray,
    theme_weight: np.ndarray,
    fit_weight: np.ndarray,
    sample_rows: np.ndarray,
    backend: str,
) -> ClusteringResult:
    frame = queries.assign(theme_weight=theme_weight, fit_weight=fit_weight)
    totals, cluster_ids = _ordered_totals(frame, labels)
    # Naming reads the weighted sample plus each theme's heaviest query, so every theme is seen and
    # a million-row report is not counted twice.
    heaviest_rows = frame.reset_index(drop=True).groupby(cluster_ids)["fit_weight"].idxmax().to_numpy()
    name_rows = np.union1d(sample_rows, heaviest_rows)
    texts = queries["search_term"].to_numpy(dtype=object)
    names = _name_clusters(texts[name_rows].tolist(), cluster_ids[name_rows], len(totals), fit_weight[name_rows])
    # Themes whose names are one theme ("roofer near" and "roofers near") are one theme, named by the bigger.
    first_of_theme: dict[tuple[str, ...], int] = {}
    merged_into = np.array([first_of_theme.setdefault(variant_tokens(name), i) for i, (name, _) in enumerate(names)])
    totals, merged_ids = _ordered_totals(frame, merged_into[cluster_ids])
    clusters = [
        QueryCluster(
            id=cluster_id,
            name=names[old_id][0],
            top_terms=names[old_id][1],
            size=row.size,
            impressions=round(row.impressions),
            clicks=round(row.clicks),
            cost=round(row.cost),
            conversions=float(row.conversions),
        )
        for cluster_id, (old_id, row) in enumerate(zip(totals.index, totals.itertuples(), strict=True))
    ]
    assignments = pd.DataFrame({"search_term": texts, "cluster_id": merged_ids})
    return ClusteringResult(backend=backend, clusters=clusters, assignments=assignments)


def _ordered_totals(frame: pd.DataFrame, labels: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Each label's summed metrics, biggest theme first, and every query's position in that order."""
    totals = frame.groupby(labels).agg(
        size=("search_term", "size"),
        theme_weight=("theme_weight", "sum"),
        impressions=("impressions", "sum"),
        clicks=("clicks", "sum"),
        cost=("cost", "sum"),
        conversions=("conversions", "sum"),
    )
    totals = totals.sort_values(["theme_weight", "size"], ascending=False, kind="stable")
    position = pd.Series(np.arange(len(totals)), index=totals.index)
    return totals, position.loc[labels].to_numpy()


def _name_clusters(
    texts: list[str], cluster_ids: np.ndarray, n_clusters: int, weight: np.ndarray
) -> list[tuple[str, list[str]]]:
    """(name, top terms) per cluster id: the head phrase (see the module docstring) and the best-scoring phrases."""
    try:
        counts = CountVectorizer(analyzer=_phrases, binary=True).fit(texts)
    except ValueError:  # every query is stop words or single characters: no vocabulary to rank
        counts = None
    fallback = _heaviest_query(texts, cluster_ids, n_clusters, weight)
    if counts is None:
        return [(query, []) for query in fallback]
    membership = sp.csr_matrix((weight, (cluster_ids, np.arange(len(texts)))), shape=(n_clusters, len(texts)))
    class_terms = sp.csr_matrix(membership @ counts.transform(texts))
    class_weight = np.asarray(membership.sum(axis=1)).ravel()
    share = sp.csr_matrix(sp.diags(1.0 / np.maximum(class_weight, 1e-12)) @ class_terms)
    average_weight = class_weight.sum() / n_clusters
    idf = np.log1p(average_weight / np.maximum(np.asarray(class_terms.sum(axis=0)).ravel(), 1e-12))
    scores = sp.csr_matrix(share.multiply(idf[np.newaxis, :]))
    vocabulary = counts.get_feature_names_out()
    phrase_words = np.array([phrase.count(" ") + 1 for phrase in vocabulary])
    members_of = pd.Series(np.arange(len(texts))).groupby(cluster_ids).agg(list)
    named: list[tuple[str, list[str]]] = []
    for cluster_id in range(n_clusters):
        row = scores.getrow(cluster_id)
        if row.nnz == 0:
            named.append((fallback[cluster_id], []))
            continue
        ranked = row.indices[np.lexsort((row.indices, -row.data))]
        best = ranked[0]
        # The longest phrase around the best one that still holds NAME_SHARE of its queries.
        held = share.getrow(cluster_id)
        held_share = dict(zip(held.indices.tolist(), held.data.tolist(), strict=False))
        best_words = f" {vocabulary[best]} "
        longer = [
            i
            for i, value in held_share.items()
            if value >= NAME_SHARE * held_share[best] and best_words in f" {vocabulary[i]} "
        ]
        head = max(longer, key=lambda i: (phrase_words[i], held_share[i], -i))
        members = members_of.get(cluster_id, [])
        name = _as_typed(str(vocabulary[head]), [texts[i] for i in members], weight[members])
        named.append((name or fallback[cluster_id], [str(vocabulary[i]) for i in ranked[:TOP_TERMS]]))
    return named


def _phrases(text: str) -> list[str]:
    """The query's word 1–NAME_WORDS-grams in singular form, none starting or ending with a stop word."""
    words = variant_tokens(text)
    useful = [w not in ENGLISH_STOP_WORDS and len(w) > 1 for w in words]
    return [
        " ".join(words[start:end])
        for start in range(len(words))
        if useful[start]
        for end in range(start + 1, min(start + NAME_WORDS, len(words)) + 1)
        if useful[end - 1]
    ]


def _as_typed(phrase: str, members: list[str], weight: np.ndarray) -> str | None:
    """The phrase the way the theme's queries spell it most (by weight): "roofers near", not "roofer near"."""
    wanted = tuple(phrase.split())
    spelled: dict[str, float] = {}
    for text, query_weight in zip(members, weight, strict=False):
        words = tokens(text)
        variants = tuple(close_variant(word) for word in words)
        for start in range(len(words) - len(wanted) + 1):
            if variants[start : start + len(wanted)] == wanted:
                key = " ".join(words[start : start + len(wanted)])
                spelled[key] = spelled.get(key, 0.0) + float(query_weight)
                break
    return max(sorted(spelled), key=spelled.__getitem__) if spelled else None


def _heaviest_query(texts: list[str], cluster_ids: np.ndarray, n_clusters: int, weight: np.ndarray) -> list[str]:
    heaviest = (
        pd.DataFrame({"text": texts, "cluster": cluster_ids, "weight": weight})
        .sort_values(["weight", "text"], ascending=[False, True], kind="stable")
        .drop_duplicates("cluster")
        .set_index("cluster")
    )
    return [str(heaviest.loc[cluster_id, "text"]) for cluster_id in range(n_clusters)]
