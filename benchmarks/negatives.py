"""Negative mining against the sandbox's planted waste: precision, recall, money recovered, safety, cost.

    .venv/bin/python benchmarks/negatives.py [--seed 7] [--rows 24000] [--today 2026-11-20]

Builds `sandbox:trailhead` in a temporary directory, runs `mine_negatives` on its whole search-term
period and scores the distinct search terms the proposed negatives block (each within its own scope:
its ad group, its campaign, or — for a shared list — every campaign) against the ground truth's
`is_waste`, overall and per waste kind. "waste cost recovered" is the blocked share of the planted waste's
spend. Time is one plain run; peak memory is tracemalloc's peak over a second run (Python and NumPy allocations).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ads.changes import AddNegativeKeywords
from ads.keyword_matching import KeywordMatcher
from sandbox.generator import generate_sandbox
from sandbox.store import SandboxStore
from tools.negatives import NegativeMiningSettings, mine_negatives

ACCOUNT = "sandbox:trailhead"


def blocked_rows(terms: pd.DataFrame, changes: list[AddNegativeKeywords]) -> list[tuple[str, np.ndarray]]:
    """For each proposed negative, its text and the report rows it blocks, within its own scope."""
    texts = terms["search_term"].astype(str).tolist()
    blocks = []
    for change in changes:
        scope = {
            "campaign": terms["campaign_id"] == change.target_id,
            "ad_group": terms["ad_group_id"] == change.target_id,
        }.get(change.level, pd.Series(True, terms.index))
        rows = np.flatnonzero(scope.to_numpy())
        for keyword in change.keywords:
            matched = KeywordMatcher([(keyword.text, keyword.match_type)], negative=True).matched(
                [texts[i] for i in rows]
            )
            blocked = np.zeros(len(terms), dtype=bool)
            blocked[rows[matched]] = True
            blocks.append((keyword.text, blocked))
    return blocks


def per_kind(terms: pd.DataFrame, blocks: list[tuple[str, np.ndarray]], kinds: pd.Series) -> pd.DataFrame:
    """Recall per waste kind, and the precision of the negatives aimed at it (the kind most of a negative's
    blocked waste is of; "none" for negatives that block no waste at all)."""
    kind_of_row = terms["search_term"].map(kinds).fillna("").to_numpy()
    aimed: dict[str, np.ndarray] = {}
    for _, blocked in blocks:
        hit = pd.Series(kind_of_row[blocked])
        hit = hit[hit != ""]
        kind = hit.mode().iloc[0] if len(hit) else "none"
        aimed[kind] = aimed.get(kind, np.zeros(len(terms), dtype=bool)) | blocked
    blocked_any = np.logical_or.reduce([b for _, b in blocks]) if blocks else np.zeros(len(terms), dtype=bool)
    table = []
    for kind in [*sorted(set(kinds) - {""}), "none"]:
        mine = aimed.get(kind, np.zeros(len(terms), dtype=bool))
        of_kind = kind_of_row == kind
        table.append(
            {
                "kind": kind,
                "terms": int(of_kind.sum()),
                "blocked": int((of_kind & blocked_any).sum()),
                "recall": (of_kind & blocked_any).sum() / of_kind.sum() if of_kind.any() else np.nan,
                "negatives' blocks": int(mine.sum()),
                "precision": (mine & (kind_of_row != "")).sum() / mine.sum() if mine.any() else np.nan,
            }
        )
    return pd.DataFrame(table).set_index("kind")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rows", type=int, default=24_000)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 11, 20))
    parser.add_argument(
        "--cpa-multiple",
        type=float,
        default=NegativeMiningSettings().cpa_multiple,
        help="query-level waste bar, × target CPA",
    )
    args = parser.parse_args()
    settings = NegativeMiningSettings(cpa_multiple=args.cpa_multiple)

    with tempfile.TemporaryDirectory() as workdir:
        store = SandboxStore.create(Path(workdir) / "sandbox.sqlite")
        generate_sandbox(store, seed=args.seed, rows=args.rows, today=args.today)
        account = store.open_account(ACCOUNT)
        period = account.search_term_period()
        terms = account.search_terms(period.start, period.end)
        structure = account.structure()
        truth = store.ground_truth(ACCOUNT)

    start = time.perf_counter()
    changes = mine_negatives(terms, structure, period=period, settings=settings)
    seconds = time.perf_counter() - start
    tracemalloc.start()
    mine_negatives(terms, structure, period=period, settings=settings)
    peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    blocks = blocked_rows(terms, changes)
    terms = terms.assign(blocked=np.logical_or.reduce([b for _, b in blocks]) if blocks else False)
    per_term = terms.groupby("search_term").agg(
        blocked=("blocked", "any"), cost=("cost", "sum"), clicks=("clicks", "sum"), conversions=("conversions", "sum")
    )
    per_term["waste"] = per_term.index.map(truth.set_index("search_term")["is_waste"]).fillna(0).astype(bool)
    blocked, waste = per_term["blocked"], per_term["waste"]
    true_positive = (blocked & waste).sum()
    spent_waste = waste & (per_term["cost"] > 0)
    waste_cost = terms.loc[terms["search_term"].map(waste), "cost"]
    blocked_waste_cost = terms.loc[terms["search_term"].map(waste) & terms["blocked"], "cost"].sum()
    keywords = Counter((c.level, str(k.match_type)) for c in changes for k in c.keywords)

    print(
        f"sandbox: seed {args.seed}, {args.rows:,} rows, today {args.today}; {len(terms):,} report rows, "
        f"{len(per_term):,} distinct search terms ({waste.sum():,} waste), period {period.start}..{period.end}"
    )
    print(
        f"proposals: {len(changes)} changes, {sum(keywords.values())} negatives "
        + ", ".join(f"{n} {level}/{match}" for (level, match), n in sorted(keywords.items()))
    )
    print(
        f"precision (blocked terms that are waste):  {true_positive / max(blocked.sum(), 1):.3f} "
        f"({true_positive:,} of {blocked.sum():,})"
    )
    blocked_cost = per_term.loc[blocked, "cost"].sum()
    print(
        f"precision by cost (blocked spend on waste): {blocked_waste_cost / max(blocked_cost, 1):.3f} "
        f"({structure.account.money(int(blocked_cost - blocked_waste_cost))} of blocked spend is not waste)"
    )
    print(
        f"recall (waste terms blocked):             {true_positive / max(waste.sum(), 1):.3f} "
        f"({true_positive:,} of {waste.sum():,}); with spend: "
        f"{(blocked & spent_waste).sum() / max(spent_waste.sum(), 1):.3f}"
    )
    print(
        f"waste cost recovered:                     {blocked_waste_cost / max(waste_cost.sum(), 1):.3f} "
        f"({structure.account.money(int(blocked_waste_cost))} of {structure.account.money(int(waste_cost.sum()))})"
    )
    print(f"converting terms blocked (must be 0):     {(blocked & (per_term['conversions'] > 0)).sum()}")
    kinds = truth.set_index("search_term")["waste_kind"].where(truth.set_index("search_term")["is_waste"], "")
    print("per waste kind (precision: of the negatives aimed at the kind, the blocked terms that are waste):")
    print(per_kind(terms, blocks, kinds).to_string(float_format=lambda x: f"{x:.3f}"))
    print(f"time: {seconds:.2f} s; peak traced memory: {peak_mib:.1f} MiB")


if __name__ == "__main__":
    main()
