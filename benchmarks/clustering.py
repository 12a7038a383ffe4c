"""Score query clustering on public labelled query sets, and time it at report scale.

Run: `.venv/bin/python benchmarks/clustering.py [--skip-scale] [--scale-rows N]`

- Quality: WANDS product-search queries (query_class) and banking77 questions (category), from
  /work/shared/eval (override with ADPILOT_EVAL_DIR). Each set is split by label into a tuning part
  and a held-out part: a label goes to the held-out part when crc32 of its text is odd, so the held-out
  themes are ones the clusterer was never tuned on. The number of clusters is chosen by
  `cluster_queries` itself; the true number is printed next to it. The reference row, "MiniLM + Ward
  given the true k", is what the issue asks to beat without being told k.
- Names: "word lists" is the share of cluster names that are no contiguous phrase (singular and plural
  as one) of any of the cluster's queries, or that join words with " / " or ","; "s/pl splits" counts
  the groups of queries that differ only by singular and plural ("roofer near" vs "roofers near") yet
  landed in different clusters.
- Scale: a synthetic 1,000,000-row search-term report (~300k distinct queries built from the WANDS
  vocabulary) through the default tfidf backend.
Each case runs in a fresh process so that its peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import zlib

from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.metrics import adjusted_rand_score, v_measure_score

from ads.keyword_matching import variant_tokens
from tools.query_clusters import ClusteringResult, cluster_queries
from tools.query_embeddings import INSTALL_COMMAND, embed_queries, embeddings_available

REPO = Path(__file__).resolve().parents[1]

PARTS = ("tuning", "held-out")
REFERENCE = "MiniLM+Ward@k"


def eval_dir() -> Path:
    return Path(os.environ.get("ADPILOT_EVAL_DIR", REPO.parent / "shared" / "eval"))


def labelled_set(name: str, part: str | None = None) -> tuple[list[str], list[str]]:
    """The set's texts and labels; with `part`, only the labels of that part (see the module docstring)."""
    if name == "wands":
        frame = pd.read_csv(eval_dir() / "wands" / "query.tsv", sep="\t").dropna(subset=["query_class"])
        texts, labels = frame["query"].tolist(), frame["query_class"].tolist()
    else:
        frame = pd.read_csv(eval_dir() / "banking77" / "test.csv")
        texts, labels = frame["text"].tolist(), frame["category"].tolist()
    if part is None:
        return texts, labels
    wanted = PARTS.index(part)
    rows = [i for i, label in enumerate(labels) if zlib.crc32(str(label).encode()) % 2 == wanted]
    return [texts[i] for i in rows], [labels[i] for i in rows]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def is_word_list(name: str, queries: list[str]) -> bool:
    """A name that is no contiguous phrase of any of its cluster's queries, or that lists words."""
    if " / " in name or "," in name:
        return True
    wanted = variant_tokens(name)
    return not any(
        words[i : i + len(wanted)] == wanted
        for words in map(variant_tokens, queries)
        for i in range(len(words) - len(wanted) + 1)
    )


def naming_figures(result: ClusteringResult) -> tuple[float, int]:
    """(share of names that are word lists, singular/plural groups split over clusters)."""
    assignments = result.assignments.assign(variant=result.assignments["search_term"].map(variant_tokens))
    members = assignments.groupby("cluster_id")["search_term"].agg(list)
    lists = sum(is_word_list(c.name, members.get(c.id, [])) for c in result.clusters)
    splits = int((assignments.groupby("variant")["cluster_id"].nunique() > 1).sum())
    return lists / max(len(result.clusters), 1), splits


def score_set(name: str, part: str, backend: str) -> dict:
    texts, truth = labelled_set(name, part)
    started = time.perf_counter()
    if backend == REFERENCE:
        vectors = embed_queries([text.strip() for text in texts]).astype(np.float64)
        predicted = fcluster(linkage(vectors, method="ward"), len(set(truth)), criterion="maxclust")
        found, word_lists, splits = len(set(predicted)), float("nan"), -1
    else:
        result = cluster_queries(pd.DataFrame({"search_term": texts}), backend=backend)
        # Duplicated texts share one cluster; map every labelled row through its text.
        cluster_of = dict(zip(result.assignments["search_term"], result.assignments["cluster_id"], strict=False))
        predicted = [cluster_of[text.strip()] for text in texts]
        found = len(result.clusters)
        word_lists, splits = naming_figures(result)
    seconds = time.perf_counter() - started
    return {
        "set": f"{name} {part}",
        "backend": backend,
        "v_measure": v_measure_score(truth, predicted),
        "ari": adjusted_rand_score(truth, predicted),
        "found": found,
        "true": len(set(truth)),
        "word_lists": word_lists,
        "splits": splits,
        "seconds": seconds,
        "peak_mib": peak_mib(),
    }


def synthetic_report(rows: int, seed: int = 0) -> pd.DataFrame:
    """A search-term report with `rows` rows and about rows/3.3 distinct queries, from WANDS words."""
    rng = np.random.default_rng(seed)
    base, _ = labelled_set("wands")
    modifiers = np.array(
        [
            "cheap",
            "best",
            "near me",
            "sale",
            "modern",
            "small",
            "large",
            "white",
            "black",
            "wood",
            "for kids",
            "outdoor",
            "2 pack",
            "with storage",
            "reviews",
            "on sale",
            "grey",
            "queen",
            "king size",
            "set of 4",
            "round",
            "leather",
            "metal",
            "free shipping",
            "clearance",
        ]
    )
    distinct = rows * 3 // 10
    queries = (
        np.array(base, dtype=object)[rng.integers(0, len(base), distinct)]
        + " "
        + modifiers[rng.integers(0, len(modifiers), distinct)]
        + " "
        + modifiers[rng.integers(0, len(modifiers), distinct)]
        + " "
        + rng.integers(0, 200, distinct).astype(str)
    )
    # Every query at least once, the remaining rows skewed towards a head of popular queries.
    picks = np.concatenate([np.arange(distinct), (distinct * rng.random(rows - distinct) ** 3).astype(int)])
    return pd.DataFrame(
        {
            "search_term": queries[picks],
            "campaign_id": "1",
            "impressions": rng.integers(1, 500, rows),
            "clicks": rng.integers(0, 20, rows),
            "cost": rng.integers(0, 5_000_000, rows),
            "conversions": rng.random(rows).round(1),
        }
    )


def score_scale(rows: int) -> dict:
    report = synthetic_report(rows)
    started = time.perf_counter()
    result = cluster_queries(report)
    seconds = time.perf_counter() - started
    return {
        "set": f"synthetic {rows:,} rows / {report['search_term'].nunique():,} queries",
        "backend": "tfidf",
        "v_measure": float("nan"),
        "ari": float("nan"),
        "found": len(result.clusters),
        "true": 0,
        "word_lists": naming_figures(result)[0],
        "splits": naming_figures(result)[1],
        "seconds": seconds,
        "peak_mib": peak_mib(),
    }


def run_isolated(function, *args) -> dict:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-scale", action="store_true", help="only score the labelled sets")
    parser.add_argument("--scale-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    backends = ["tfidf"]
    if embeddings_available():
        backends += ["embeddings", REFERENCE]
    else:
        print(f"embeddings rows skipped: the optional extra is not installed (`{INSTALL_COMMAND}`)")
    rows = [
        run_isolated(score_set, name, part, backend)
        for name in ("wands", "banking77")
        for part in PARTS
        for backend in backends
    ]
    if not args.skip_scale:
        rows.append(run_isolated(score_scale, args.scale_rows))
    print(
        f"{'set':<44} {'backend':<14} {'v-meas':>6} {'ARI':>6} {'found/true':>11} {'lists':>6} {'s/pl':>5} "
        f"{'seconds':>8} {'peak MiB':>9}"
    )
    for row in rows:
        true = f"{row['found']}/{row['true']}" if row["true"] else f"{row['found']}"
        lists = "" if np.isnan(row["word_lists"]) else f"{row['word_lists']:.1%}"
        splits = "" if row["splits"] < 0 else str(row["splits"])
        print(
            f"{row['set']:<44} {row['backend']:<14} {row['v_measure']:>6.3f} {row['ari']:>6.3f} {true:>11} "
            f"{lists:>6} {splits:>5} {row['seconds']:>8.1f} {row['peak_mib']:>9.0f}"
        )


if __name__ == "__main__":
    main()
