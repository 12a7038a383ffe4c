"""Score query clustering on public labelled query sets, and time it at report scale.

Run: `.venv/bin/python benchmarks/clustering.py [--skip-scale] [--scale-rows N]`

- Quality: WANDS product-search queries (query_class) and banking77 questions (category), from
  /work/shared/eval (override with ADPILOT_EVAL_DIR). The number of clusters is chosen by
  `cluster_queries` itself; the true number is printed next to it.
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

from sklearn.metrics import adjusted_rand_score, v_measure_score

from tools.query_clusters import cluster_queries
from tools.query_embeddings import INSTALL_COMMAND, embeddings_available

REPO = Path(__file__).resolve().parents[1]

TARGETS = {("banking77", "embeddings"): 0.80, ("wands", "embeddings"): 0.86, ("banking77", "tfidf"): 0.65}


def eval_dir() -> Path:
    return Path(os.environ.get("ADPILOT_EVAL_DIR", REPO.parent / "shared" / "eval"))


def labelled_set(name: str) -> tuple[list[str], list[str]]:
    if name == "wands":
        frame = pd.read_csv(eval_dir() / "wands" / "query.tsv", sep="\t").dropna(subset=["query_class"])
        return frame["query"].tolist(), frame["query_class"].tolist()
    frame = pd.read_csv(eval_dir() / "banking77" / "test.csv")
    return frame["text"].tolist(), frame["category"].tolist()


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def score_set(name: str, backend: str) -> dict:
    texts, truth = labelled_set(name)
    frame = pd.DataFrame({"search_term": texts})
    started = time.perf_counter()
    result = cluster_queries(frame, backend=backend)
    seconds = time.perf_counter() - started
    # Duplicated texts share one cluster; map every labelled row through its text.
    cluster_of = dict(zip(result.assignments["search_term"], result.assignments["cluster_id"], strict=False))
    predicted = [cluster_of[text.strip()] for text in texts]
    return {
        "set": name,
        "backend": backend,
        "v_measure": v_measure_score(truth, predicted),
        "ari": adjusted_rand_score(truth, predicted),
        "found": len(result.clusters),
        "true": len(set(truth)),
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
        backends.append("embeddings")
    else:
        print(f"embeddings rows skipped: the optional extra is not installed (`{INSTALL_COMMAND}`)")
    rows = [run_isolated(score_set, name, backend) for name in ("wands", "banking77") for backend in backends]
    if not args.skip_scale:
        rows.append(run_isolated(score_scale, args.scale_rows))
    print(
        f"{'set':<44} {'backend':<10} {'v-meas':>6} {'ARI':>6} {'found/true':>11} "
        f"{'seconds':>8} {'peak MiB':>9}  target"
    )
    for row in rows:
        target = TARGETS.get((row["set"], row["backend"]))
        verdict = "" if target is None else f"≥{target:.2f} {'met' if row['v_measure'] >= target else 'MISSED'}"
        true = f"{row['found']}/{row['true']}" if row["true"] else f"{row['found']}"
        print(
            f"{row['set']:<44} {row['backend']:<10} {row['v_measure']:>6.3f} {row['ari']:>6.3f} {true:>11} "
            f"{row['seconds']:>8.1f} {row['peak_mib']:>9.0f}  {verdict}"
        )


if __name__ == "__main__":
    main()
