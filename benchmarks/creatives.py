"""Copy evaluator: the creatives an audit proposes on the sandbox accounts, checked against their brand kit.

For each seed, `adpilot sandbox create --seed N` runs in a fresh process (its time is printed); then the
creatives tool runs on the Google and the Meta sandbox account, and every proposed asset is checked here,
independently of tools.copy_grounding:
- share of assets with a source (the rest must be pure calls to action);
- share with an unsupported claim (must be 0): a number its cited chunks do not hold, a superlative or free
  shipping that no cited, proven guide claim states, a sale or discount no cited chunk announces, or a "generic"
  asset with a digit;
- competitor mentions (must be 0): the sandbox's competitor names, as substrings;
- keyword relevance: the share of non-competitor Google ad groups whose headlines hold one of their keywords
  or their name (all its words, plural or not);
- distinct-headline share across the account's proposed ads;
- memorisation: the share of assets holding a whole kit sentence of 6 or more words;
- from winners: variants written for an ad group whose creative test has a winner, and how many of the winner's
  best assets they keep (each still checked as above).
New ad groups on the Google account are checked the same way, plus: how many got kit copy (the rest are keyword
drafts, where the kit has no product about them), whether their headlines name the group, and assets citing a
product that is not the group's (must be 0).
Seed 7 is the one the writer was looked at on; 101 and 102 are held out and printed apart.

Run: .venv/bin/python benchmarks/creatives.py [--seeds 7,101,102] [--hybrid] [--today 2026-12-02]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import tracemalloc

from ads.changes import AddCreativeVariants, AssetSources, CreateAdGroup
from ads.entities import ResponsiveSearchAdCopy
from sandbox.themes import CAMPAIGNS, WASTE_WORDS

COMPETITORS = [g.name.casefold() for c in CAMPAIGNS if c.kind == "competitor" for g in c.ad_groups]
COMPETITORS += ["summit supply", "pine and peak outfitters", *WASTE_WORDS["competitor"]]
SUPERLATIVES = re.compile(
    r"\b(best|#1|number one|top[- ]rated|lowest|cheapest|lightest|fastest|leading|ultimate|most|guaranteed?)\b", re.I
)
DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
OFFERS = re.compile(r"\b(sale|discount\w*|clearance|deals?|save|savings|\d+\s?% off)\b", re.I)


def _numbers(text: str) -> set[float]:
    return {float(n.replace(",", "")) for n in DIGITS.findall(text)}


def _words(text: str) -> list[str]:
    return [w.rstrip("s") for w in re.findall(r"[a-z0-9]+", text.casefold().replace("'", ""))]


def _unsupported(asset: AssetSources, kit) -> bool:  # noqa: ANN001
    cited = [kit.chunk(s.doc, s.chunk) for s in asset.sources]
    text = " ".join(c.text for c in cited if c)
    proven = " ".join(c.text for c in cited if c and c.proven)
    bad = (asset.generic and DIGITS.search(asset.text)) or (not asset.generic and not asset.sources)
    bad = bad or not _numbers(asset.text) <= _numbers(text)
    bad = bad or any(m.casefold() not in proven.casefold() for m in SUPERLATIVES.findall(asset.text))
    bad = bad or bool(OFFERS.search(asset.text) and not OFFERS.search(text))
    return bool(bad or ("free shipping" in asset.text.casefold() and "free shipping" not in proven.casefold()))


def _asset_figures(assets: list[AssetSources], kit) -> dict[str, float]:  # noqa: ANN001
    """What every asset must meet, creative variant or new ad group: sources, claims, names, memorisation."""
    sentences = {
        " ".join(s.split()) for c in kit.chunks for s in re.split(r"(?<=[.!?])\s+", c.text) if len(s.split()) >= 6
    }
    n = max(len(assets), 1)
    return {
        "assets": len(assets),
        "with_source": sum(1 for a in assets if a.sources) / n,
        "unsupported": sum(_unsupported(a, kit) for a in assets) / n,
        "competitor_mentions": sum(1 for a in assets for name in COMPETITORS if name in a.text.casefold()),
        "memorised": sum(1 for a in assets if any(s in a.text for s in sentences)) / n,
    }


def evaluate_new_groups(changes: list[CreateAdGroup], kit) -> dict[str, float]:  # noqa: ANN001
    """New ad groups: how many got kit copy, whether their headlines name the group, and leakage: assets citing
    a product that is not the group's (all the group name's words in the product's title or type)."""
    assets = [a for c in changes for a in c.assets]
    products = {p.id: p for p in kit.products}
    leaked = 0
    for c in changes:
        for a in c.assets:
            cited = [kit.chunk(s.doc, s.chunk) for s in a.sources]
            about = [products[ch.product_id] for ch in cited if ch and ch.product_id]
            leaked += any(not set(_words(c.name)) <= set(_words(f"{p.title} {p.product_type}")) for p in about)
    grounded = [c for c in changes if c.assets]
    return {
        "groups": len(changes),
        "grounded": len(grounded),
        **_asset_figures(assets, kit),
        "name_in_headlines": sum(any(set(_words(c.name)) <= set(_words(h)) for h in c.ad.headlines) for c in grounded)
        / max(len(grounded), 1),
        "other_product_assets": leaked,
    }


def evaluate(changes: list[AddCreativeVariants], kit, structure) -> dict[str, float]:  # noqa: ANN001
    assets = [a for c in changes for a in c.assets]
    keywords: dict[str, list[str]] = {}
    for k in structure.keywords:
        keywords.setdefault(k.ad_group_id, []).append(k.text)
    names = {g.id: g.name for g in structure.ad_groups}
    relevant = judged = 0
    headlines: list[str] = []
    for c in changes:
        if not isinstance(c.ad, ResponsiveSearchAdCopy):
            headlines.append(c.ad.headline)
            continue
        headlines += c.ad.headlines
        if any(n in names[c.ad_group_id].casefold() for n in COMPETITORS):
            continue
        judged += 1
        themes = [*keywords.get(c.ad_group_id, []), names[c.ad_group_id]]
        relevant += any(set(_words(t)) <= set(_words(h)) for t in themes for h in c.ad.headlines if _words(t))
    return {
        "ads": len(changes),
        **_asset_figures(assets, kit),
        "keyword_relevance": relevant / judged if judged else float("nan"),
        "distinct_headlines": len({h.casefold() for h in headlines}) / max(len(headlines), 1),
        "from_winners": sum(1 for c in changes if "kept_winning_assets" in c.evidence.metrics),
        "kept_winning_assets": int(sum(c.evidence.metrics.get("kept_winning_assets", 0) for c in changes)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="7,101,102")
    parser.add_argument("--hybrid", action="store_true", help="BM25 plus MiniLM embeddings (the extra)")
    parser.add_argument("--today", default="2026-12-02", help="the audit's day")
    args = parser.parse_args()
    from app.session import Session
    from app.settings import load_settings

    for seed in (int(s) for s in args.seeds.split(",")):
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "ADPILOT_HOME": home, "ADPILOT_TODAY": args.today}
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "app", "sandbox", "create", "--seed", str(seed), "--json"],
                check=True,
                capture_output=True,
                env=env,
            )
            create_s = time.perf_counter() - started
            os.environ.update({"ADPILOT_HOME": home, "ADPILOT_TODAY": args.today})
            session = Session(load_settings())
            family = "tuned" if seed < 100 else "held out"
            for account in ("sandbox:trailhead", "sandbox:trailhead-meta"):
                context = session.run_services(account).tools
                context.kit_retrieval = "hybrid" if args.hybrid else "bm25"
                tracemalloc.start()
                started = time.perf_counter()
                result = _run(context)
                seconds = time.perf_counter() - started
                peak = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
                kit = context.brand_kit()
                figures = evaluate(result, kit, context.structure())
                shown = " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())
                print(
                    f"seed {seed} ({family}) {account}: sandbox create {create_s:.1f} s; creatives {seconds:.2f} s, "
                    f"peak {peak:.0f} MiB traced; {shown}"
                )
                if account == "sandbox:trailhead":
                    started = time.perf_counter()
                    groups = _new_groups(context)
                    seconds = time.perf_counter() - started
                    figures = evaluate_new_groups(groups, kit)
                    shown = " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())
                    print(f"seed {seed} ({family}) {account} new ad groups: {seconds:.2f} s; {shown}")
            session.change_log.close()


def _run(context) -> list[AddCreativeVariants]:  # noqa: ANN001
    from tools.registry import run_tool

    return [c for c in run_tool("propose_creative_variants", context).proposals if isinstance(c, AddCreativeVariants)]


def _new_groups(context) -> list[CreateAdGroup]:  # noqa: ANN001
    from tools.registry import run_tool

    return [c for c in run_tool("propose_ad_groups", context).proposals if isinstance(c, CreateAdGroup)]


if __name__ == "__main__":
    main()
