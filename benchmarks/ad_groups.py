"""Proposed new ad groups against the sandbox's planted uncovered themes: recall, precision, duplicates, cost.

    .venv/bin/python benchmarks/ad_groups.py [--seeds 7 101] [--rows 24000] [--today 2026-11-20]

As a user runs it, each command in a fresh process: `adpilot sandbox create --seed S --rows R`, then
`adpilot audit --account sandbox:trailhead --json` (the sandbox's own advertiser profile in force), whose
`create_ad_group` proposals are scored. Seeds from 100 on are held out: the generator's family, not tuned on.
A proposal's queries are the distinct search terms of the last 90 days its keywords match (positive matching
of `ads.keyword_matching`).
- recall: a planted uncovered theme (`UNCOVERED_THEMES`) is found when one proposal's keywords match
  most (> 50 %) of the theme's distinct queries in the report;
- precision: proposals whose queries are mostly (> 50 %) one planted uncovered theme;
- duplicates: pairs of proposals with the same majority theme or whose keywords match each other's;
- cannibalising: proposals with a keyword that an existing live keyword matches, or the other way round;
- long tail: proposal keywords with more words than the longest head the generator planted for its theme.
Time and peak RSS are the audit process's own (the whole audit: every analysis, not only ad groups).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cli_run import run_adpilot  # benchmarks/cli_run.py, beside this script

from ads.changes import CreateAdGroup, parse_change
from ads.entities import AccountStructure, Status
from ads.keyword_matching import KeywordMatcher
from sandbox.store import SandboxStore
from sandbox.themes import UNCOVERED_THEMES
from tools.account_reports import Window

ACCOUNT = "sandbox:trailhead"


def keyword_pairs(change: CreateAdGroup) -> list[tuple[str, str]]:
    return [(k.text, k.match_type) for k in change.keywords]


def cross_match(first: list, second: list) -> bool:
    """Whether a keyword of either list matches the text of a keyword of the other."""
    return bool(
        KeywordMatcher(first, negative=False).matched([t for t, _ in second]).any()
        or KeywordMatcher(second, negative=False).matched([t for t, _ in first]).any()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 101])
    parser.add_argument("--rows", type=int, default=24_000)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 11, 20))
    args = parser.parse_args()
    for seed in args.seeds:
        score(seed, args.rows, args.today)


def score(seed: int, rows: int, today: dt.date) -> None:
    with tempfile.TemporaryDirectory() as home:
        run_adpilot(["sandbox", "create", "--seed", str(seed), "--rows", str(rows)], home, today.isoformat())
        audit = run_adpilot(["audit", "--account", ACCOUNT, "--json"], home, today.isoformat())
        changes = [
            change
            for proposal in json.loads(audit.stdout)["proposals"]
            if isinstance(change := parse_change(proposal["change"]), CreateAdGroup)
        ]
        store = SandboxStore(Path(home) / "sandbox.sqlite")
        account = store.open_account(ACCOUNT)
        period = Window.LAST_90_DAYS.period(today)
        terms = account.search_terms(period.start, period.end)
        structure: AccountStructure = account.structure()
        truth = store.ground_truth(ACCOUNT)

    queries = sorted(set(terms["search_term"].astype(str)))
    theme_of = truth.set_index("search_term")["theme"].reindex(queries).fillna("").to_numpy()
    planted = {t.name: t for t in UNCOVERED_THEMES}
    longest_head = {name: max(len(h.split()) for h in t.heads) for name, t in planted.items()}

    matched = [KeywordMatcher(keyword_pairs(c), negative=False).matched(queries) for c in changes]
    majority: list[tuple[str, float]] = []
    print(
        f"sandbox: seed {seed}{' (held out)' if seed >= 100 else ''}, {rows:,} rows, today {today}; "
        f"{len(queries):,} distinct terms"
    )
    print(f"proposals: {len(changes)}")
    for change, hit in zip(changes, matched, strict=False):
        themes, counts = np.unique(theme_of[hit], return_counts=True)
        top = (str(themes[counts.argmax()]), counts.max() / counts.sum()) if counts.size else ("", 0.0)
        majority.append(top)
        print(
            f"  '{change.name}' in '{change.campaign_name}': {len(change.keywords)} keywords, "
            f"{hit.sum()} queries, {top[1]:.0%} '{top[0]}', {change.evidence.metrics['conversions']:g} conv"
        )
        print("     " + ", ".join(f"{k.text} [{k.match_type}]" for k in change.keywords))

    found = [
        name
        for name in planted
        if any(hit[theme_of == name].mean() > 0.5 for hit in matched if (theme_of == name).any())
    ]
    precise = [c.name for c, (theme, share) in zip(changes, majority, strict=False) if theme in planted and share > 0.5]
    duplicates = [
        (a.name, b.name)
        for (i, a), (j, b) in itertools.combinations(enumerate(changes), 2)
        if (majority[i][0] and majority[i][0] == majority[j][0]) or cross_match(keyword_pairs(a), keyword_pairs(b))
    ]
    live_groups = {g.id for g in structure.ad_groups if g.status is not Status.REMOVED}
    existing = [
        (k.text, k.match_type)
        for k in structure.keywords
        if k.status is not Status.REMOVED and k.ad_group_id in live_groups
    ]
    cannibalising = [c.name for c in changes if cross_match(keyword_pairs(c), existing)]
    long_tail = sum(
        len(k.text.split()) > longest_head.get(theme, 3)
        for c, (theme, _) in zip(changes, majority, strict=False)
        for k in c.keywords
    )

    print(
        f"recall (planted uncovered themes found):  {len(found) / len(planted):.2f} ({len(found)} of "
        f"{len(planted)}: {', '.join(found) or '-'}; missed: {', '.join(sorted(set(planted) - set(found))) or '-'})"
    )
    print(
        f"precision (proposals mostly one theme):   {len(precise) / max(len(changes), 1):.2f} "
        f"({len(precise)} of {len(changes)})"
    )
    print(f"duplicate proposal pairs (must be 0):     {len(duplicates)} {duplicates or ''}")
    print(f"cannibalising proposals (must be 0):      {len(cannibalising)} {cannibalising or ''}")
    print(f"long-tail keywords:                       {long_tail} of {sum(len(c.keywords) for c in changes)}")
    print(f"audit (fresh process): {audit.seconds:.1f} s, peak RSS {audit.peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
