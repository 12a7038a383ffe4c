"""Negative keywords on the account archetypes, through the CLI as a user runs it: quality, time, peak memory, FDR.

    .venv/bin/python benchmarks/negatives.py [--archetypes lead-gen,local-no-conversions,pmax,ecommerce,sandbox]
        [--seeds 7,101] [--rows N] [--nulls 20] [--null-rows 5000] [--misses N]

For each archetype and seed (seeds from 100 on are the held-out family, `sandbox.archetypes.HELD_OUT_SEEDS`),
in a fresh `ADPILOT_HOME`, each command a fresh process: `adpilot sandbox archetype` writes the export, profile
and labels; then `adpilot import search-terms` and, with `ADPILOT_ACCOUNTS` pointing at the profile,
`adpilot search-terms negatives --json`. `sandbox` is the sandbox account itself (`adpilot sandbox create`, then
`search-terms negatives --account sandbox:trailhead`), scored against its planted truth.

Each proposed negative is matched against the stored report rows in its own scope (ad group, campaign, or every
campaign for a shared list) with `ads.keyword_matching`, not taken from the proposal's own claims. Figures:
- precision by cost: the blocked spend on queries labelled waste / all blocked spend;
- recall by cost: the blocked spend on waste / all spend on waste;
- converting queries blocked (must be 0);
- negatives by `basis` ("absent" when the engine does not set the field); routing negatives are scored apart:
  the share of their blocked spend on queries naming another served city than their campaign's;
- review load: proposals, and proposals per 100 distinct terms blocked (what a person reads per effect);
- whether `notices` say the report has no conversions (the local archetype's export has no such column);
- time and peak RSS of each command (the child's own `ru_maxrss`, from `os.wait4`).
`--misses N`: per run, the N costliest waste queries left unblocked and non-waste blocked, with the labelled
theme and the classifier's judgement (computed in this process from the same profile and stored keywords).
False-discovery rate: over `--nulls` seeded null accounts (lead-gen's queries, all converting at one rate), the
share of runs with any performance-based negative (basis performance or both; every negative when the field is
absent).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ads.account_plan import AccountPlan
from ads.entities import MatchType
from ads.keyword_matching import KeywordMatcher
from sandbox import GOOGLE_ACCOUNT
from sandbox.archetypes import HELD_OUT_SEEDS, sandbox_labels
from sandbox.store import SandboxStore
from tools.query_intent import classify_intents

ROOT = Path(__file__).resolve().parents[1]
TODAY = "2026-12-01"
PERFORMANCE_BASES = {"performance", "both", "absent"}


@dataclass
class Command:
    seconds: float
    peak_mib: float
    stdout: str


@dataclass
class Run:
    """One archetype, one seed: the commands' costs and the negatives proposed."""

    commands: dict[str, Command] = field(default_factory=dict)
    proposals: list[dict[str, Any]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    home: Path = Path()
    account: str = ""
    profile: Path | None = None


def adpilot(args: list[str], home: Path, *, accounts: Path | None = None) -> Command:
    """`adpilot ARGS` in a fresh process; exits this script with the command's own error line if it fails."""
    env = {**os.environ, "ADPILOT_HOME": str(home), "ADPILOT_TODAY": TODAY, "PYTHONPATH": str(ROOT)}
    env.pop("ADPILOT_ACCOUNTS", None)
    if accounts is not None:
        env["ADPILOT_ACCOUNTS"] = str(accounts)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "app", *args], stdout=out, stderr=err, env=env, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        if process.returncode:
            sys.exit(f"adpilot {' '.join(args)} failed ({process.returncode}): {err.read().strip()}")
        return Command(seconds, usage.ru_maxrss / 1024, out.read())


def run_archetype(name: str, seed: int, rows: int | None, home: Path) -> tuple[Run, pd.DataFrame, pd.DataFrame]:
    """The run, the stored report rows (with ids) and the labels."""
    run = Run(home=home)
    out = home / "archetype"
    size = [] if rows is None else ["--rows", str(rows)]
    if name == "sandbox":
        run.commands["create"] = adpilot(["sandbox", "create", "--seed", str(seed), *size], home)
        account, profile = GOOGLE_ACCOUNT, None
    else:
        made = adpilot(["sandbox", "archetype", name, "--out", str(out), "--seed", str(seed), *size, "--json"], home)
        written = json.loads(made.stdout)
        account, profile = written["account"], Path(written["profile"])
        run.commands["import"] = adpilot(["import", "search-terms", written["export"], "--account", account], home)
    run.account, run.profile = account, profile
    negatives = adpilot(["search-terms", "negatives", "--account", account, "--json"], home, accounts=profile)
    run.commands["negatives"] = negatives
    result = json.loads(negatives.stdout)
    run.proposals, run.notices = result["proposals"], list(result.get("notices", []))
    store = SandboxStore.create(home / "sandbox.sqlite")
    stored = store.open_account(account)
    period = stored.search_term_period()
    assert period is not None
    terms = stored.search_terms(period.start, period.end)
    names = {c.id: c.name for c in stored.structure().campaigns}
    terms["campaign_name"] = terms["campaign_id"].astype(str).map(names).astype(object).fillna("")
    if name == "sandbox":
        labels = sandbox_labels(store.ground_truth(GOOGLE_ACCOUNT))
    else:
        labels = pd.read_csv(out / "labels.csv", keep_default_na=False, dtype={"waste": str})
        labels["waste"] = labels["waste"] == "True"
    return run, terms, labels


def blocked_rows(terms: pd.DataFrame, proposals: list[dict[str, Any]], bases: set[str] | None) -> np.ndarray:
    """Report rows the proposed negatives (of `bases`, or all) block, each within its own scope."""
    texts = terms["search_term"].astype(str).tolist()
    blocked = np.zeros(len(terms), dtype=bool)
    for change in proposals:
        if change["kind"] == "create_shared_negative_list":  # a new list: the campaigns it is attached to
            attached = terms["campaign_id"].isin(change["campaign_ids"]).to_numpy()
            rows = np.flatnonzero(attached) if change["campaign_ids"] else np.arange(len(terms))
        else:
            scope = {"campaign": terms["campaign_id"], "ad_group": terms["ad_group_id"]}.get(change["level"])
            rows = (
                np.flatnonzero((scope == change["target_id"]).to_numpy())
                if scope is not None
                else np.arange(len(terms))
            )
        for keyword in change["keywords"]:
            if bases is not None and keyword.get("basis", "absent") not in bases:
                continue
            matcher = KeywordMatcher([(keyword["text"], MatchType(keyword["match_type"]))], negative=True)
            blocked[rows[matcher.matched([texts[i] for i in rows])]] = True
    return blocked


def score(run: Run, terms: pd.DataFrame, labels: pd.DataFrame) -> dict[str, Any]:
    label = labels.set_index("search_term")
    bases = Counter(k.get("basis", "absent") for c in run.proposals for k in c["keywords"])
    not_routing = set(bases) - {"routing"}
    rows = terms.assign(
        blocked=blocked_rows(terms, run.proposals, not_routing),
        routed=blocked_rows(terms, run.proposals, {"routing"}),
        waste=terms["search_term"].map(label["waste"]).fillna(False).astype(bool),
        belongs_to=terms["search_term"].map(label["belongs_to"]).fillna(""),
    )
    per_term = rows.groupby("search_term").agg(
        blocked=("blocked", "any"), cost=("cost", "sum"), conversions=("conversions", "sum"), waste=("waste", "any")
    )
    blocked_cost = per_term.loc[per_term["blocked"], "cost"].sum()
    waste_cost = per_term.loc[per_term["waste"], "cost"].sum()
    hit = per_term.loc[per_term["blocked"] & per_term["waste"], "cost"].sum()
    misrouted = (rows["belongs_to"] != "") & ~rows.apply(
        lambda r: str(r["campaign_name"]).lower().endswith(str(r["belongs_to"])), axis=1
    )
    routed_cost = rows.loc[rows["routed"], "cost"].sum()
    return {
        "terms": len(per_term),
        "waste terms": int(per_term["waste"].sum()),
        "waste share of spend": waste_cost / max(per_term["cost"].sum(), 1),
        "negatives": sum(bases.values()),
        "proposals": len(run.proposals),
        # Review load: a person reads each proposal; fewer per blocked term is less to read for the same effect.
        "proposals per 100 blocked": 100 * len(run.proposals) / max(int(per_term["blocked"].sum()), 1),
        "by basis": dict(sorted(bases.items())),
        "precision by cost": hit / blocked_cost if blocked_cost else float("nan"),
        "recall by cost": hit / waste_cost if waste_cost else float("nan"),
        "converting blocked": int((per_term["blocked"] & (per_term["conversions"] > 0)).sum()),
        "routing precision by cost": rows.loc[rows["routed"] & misrouted, "cost"].sum() / routed_cost
        if routed_cost
        else float("nan"),
        "notice of no conversions": any("conversion" in notice.lower() for notice in run.notices),
    }


def print_misses(run: Run, terms: pd.DataFrame, labels: pd.DataFrame, top: int) -> None:
    """The costliest waste left unblocked and the costliest non-waste blocked (routing negatives apart, as in
    `score`), each with its label and what the classifier said (in this process, with the run's profile and the
    stored keywords: the command's own inputs)."""
    store = SandboxStore.create(run.home / "sandbox.sqlite")
    structure = store.open_account(run.account).structure()
    plan = yaml.safe_load(run.profile.read_text(encoding="utf-8"))[run.account] if run.profile else None
    profile = AccountPlan.model_validate({**plan, "brand_kit": None}).profile() if plan else None
    judged = classify_intents(terms, profile, own_words=[k.text for k in structure.keywords]).intents
    judged = judged.set_index("search_term")
    label = labels.set_index("search_term")
    bases = {k.get("basis", "absent") for c in run.proposals for k in c["keywords"]} - {"routing"}
    blocked = pd.Series(blocked_rows(terms, run.proposals, bases), index=terms.index)
    per_term = (
        terms.assign(blocked=blocked)
        .groupby("search_term")
        .agg(blocked=("blocked", "any"), cost=("cost", "sum"), conversions=("conversions", "sum"))
    )
    per_term = per_term.join(label[["waste", "intent", "theme"]], how="left").fillna({"waste": False})
    per_term = per_term.join(judged[["intent", "confidence", "reason"]].add_suffix("_judged"))
    missed = per_term[per_term["waste"].astype(bool) & ~per_term["blocked"]]
    wrong = per_term[~per_term["waste"].astype(bool) & per_term["blocked"]]
    for title, frame in (("waste missed", missed), ("non-waste blocked", wrong)):
        by_theme = frame.groupby("theme")["cost"].sum().sort_values(ascending=False) / 1e6
        print(f"  {title}, cost by labelled theme: " + ", ".join(f"{t} {c:,.0f}" for t, c in by_theme.items()))
        for term, row in frame.sort_values("cost", ascending=False).head(top).iterrows():
            print(
                f"    {row['cost'] / 1e6:8.2f}  {term!r}  label {row['intent']} ({row['theme']}); judged "
                f"{row['intent_judged']} {row['confidence_judged']:.2f}: {row['reason_judged']}"
            )


def null_false_discoveries(runs: int, rows: int, home_root: Path) -> tuple[int, list[float]]:
    """Runs (of `runs` seeded null accounts) with any performance-based negative, and each run's seconds."""
    flagged, seconds = 0, []
    for i in range(runs):
        home = home_root / f"null-{i}"
        run, _, _ = run_archetype("null", 1000 + i, rows, home)
        seconds.append(sum(c.seconds for name, c in run.commands.items()))
        performance = [k for c in run.proposals for k in c["keywords"] if k.get("basis", "absent") in PERFORMANCE_BASES]
        flagged += bool(performance)
        print(f"  null seed {1000 + i}: {len(performance)} performance-based negatives", flush=True)
    return flagged, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archetypes", default="lead-gen,local-no-conversions,pmax,ecommerce,sandbox")
    parser.add_argument("--seeds", default=f"7,{HELD_OUT_SEEDS + 1}", help="seeds from 100 on are held out")
    parser.add_argument("--rows", type=int, default=None, help="distinct queries; each archetype's own size if unset")
    parser.add_argument("--nulls", type=int, default=20, help="seeded null accounts for the false-discovery rate")
    parser.add_argument("--null-rows", type=int, default=5000)
    parser.add_argument("--misses", type=int, default=0, help="print this many costliest misses per run")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        for name in args.archetypes.split(","):
            for seed in (int(s) for s in args.seeds.split(",")):
                split = "held-out" if seed >= HELD_OUT_SEEDS else "tuning"
                run, terms, labels = run_archetype(name, seed, args.rows, Path(tmp) / f"{name}-{seed}")
                figures = score(run, terms, labels)
                costs = ", ".join(f"{c} {r.seconds:.1f} s / {r.peak_mib:.0f} MiB" for c, r in run.commands.items())
                print(f"\n{name}, seed {seed} ({split}): {figures.pop('terms'):,} distinct terms; {costs}")
                for key, value in figures.items():
                    print(f"  {key:<28} {value:.3f}" if isinstance(value, float) else f"  {key:<28} {value}")
                if args.misses:
                    print_misses(run, terms, labels, args.misses)
        if args.nulls:
            print(f"\nnull accounts: {args.nulls} seeds from 1000, {args.null_rows:,} distinct queries each")
            flagged, seconds = null_false_discoveries(args.nulls, args.null_rows, Path(tmp))
            print(
                f"false-discovery rate: {flagged}/{args.nulls} = {flagged / args.nulls:.2f} of runs proposed a "
                f"performance-based negative (target: at most 0.05); {np.mean(seconds):.1f} s a run"
            )


if __name__ == "__main__":
    main()
