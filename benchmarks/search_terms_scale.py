"""Scale benchmark: a Google Ads UI search-term export at 10k / 100k / 1M rows through import and the analyses.

    .venv/bin/python benchmarks/search_terms_scale.py [--sizes 10000,100000,1000000] [--workdir DIR]

Each stage runs in a fresh Python process. "peak" is that process's ru_maxrss, so it includes the stage's
inputs (loaded from a pickle the previous stage wrote), and "before" is the peak RSS just before the stage
started: peak - before is what the stage itself added. Wall time covers the stage call only.
Targets: the pipeline (import + clustering + negatives + ad groups) at 1M rows in ≤ 60 s and ≤ 2.5 GiB.
"""

from __future__ import annotations

import argparse
import inspect
import json
import pickle
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ads.entities import (  # noqa: E402
    Account,
    AccountStructure,
    AdGroup,
    Campaign,
    Keyword,
    MatchType,
    Platform,
)

SEED = 20240117
UNIQUE_SHARE = 0.30  # distinct queries / rows
WASTE_SHARE = 0.15  # queries carrying a waste word
# theme → (campaign id, ad groups as (id, name, keyword text, match type), nouns people type)
THEMES = {
    "boots": (
        "101",
        (
            ("1011", "Hiking boots", "hiking boots", MatchType.PHRASE),
            ("1012", "Winter boots", "winter boots", MatchType.BROAD),
        ),
        ("boots", "hiking boots", "winter boots", "trail boots", "walking boots", "snow boots"),
    ),
    "tents": (
        "102",
        (
            ("1021", "Camping tents", "camping tent", MatchType.PHRASE),
            ("1022", "Ultralight tents", "ultralight tent", MatchType.EXACT),
        ),
        ("tent", "camping tent", "backpacking tent", "2 person tent", "family tent", "ultralight tent"),
    ),
    "backpacks": (
        "103",
        (
            ("1031", "Hiking backpacks", "hiking backpack", MatchType.PHRASE),
            ("1032", "Daypacks", "daypack", MatchType.BROAD),
        ),
        ("backpack", "hiking backpack", "daypack", "rucksack", "travel backpack", "65l backpack"),
    ),
    "jackets": (
        "104",
        (
            ("1041", "Rain jackets", "rain jacket", MatchType.PHRASE),
            ("1042", "Down jackets", "down jacket", MatchType.BROAD),
        ),
        ("jacket", "rain jacket", "down jacket", "softshell jacket", "hardshell jacket", "fleece jacket"),
    ),
}
MODIFIERS = (
    "",
    "best",
    "cheap",
    "buy",
    "waterproof",
    "lightweight",
    "mens",
    "womens",
    "kids",
    "sale",
    "review",
    "top rated",
    "discount",
    "new",
    "durable",
    "breathable",
    "warm",
    "insulated",
    "packable",
    "vegan",
)
BRANDS = (
    "",
    "salomon",
    "merrell",
    "msr",
    "osprey",
    "deuter",
    "patagonia",
    "arcteryx",
    "north face",
    "vaude",
    "jack wolfskin",
    "mammut",
    "lowa",
    "hanwag",
    "big agnes",
    "nemo",
    "rab",
    "fjallraven",
    "gregory",
    "marmot",
)
QUALIFIERS = (
    "",
    "near me",
    "online",
    "uk",
    "size {n}",
    "{n}l",
    "model {n}",
    "2024",
    "for women",
    "for men",
    "for kids",
    "uk delivery",
    "outlet",
    "in stock",
    "free shipping",
    "vs",
    "with hood",
    "gore tex",
)
WASTE = ("jobs", "free", "diy", "how to make", "repair manual", "rental", "used", "wikipedia", "career", "drawing")


def build_structure() -> AccountStructure:
    account = Account(
        name="bench:outdoor",
        id="1234567890",
        display_name="Outdoor gear (benchmark)",
        platform=Platform.GOOGLE_ADS,
        currency="USD",
    )
    campaigns, ad_groups, keywords = [], [], []
    for theme, (campaign_id, groups, _) in THEMES.items():
        campaigns.append(Campaign(id=campaign_id, name=f"Search - {theme.title()}", channel="search"))
        for group_id, name, text, match_type in groups:
            ad_groups.append(AdGroup(id=group_id, campaign_id=campaign_id, name=name))
            keywords.append(Keyword(id=f"{group_id}1", ad_group_id=group_id, text=text, match_type=match_type))
    return AccountStructure(
        account=account, campaigns=tuple(campaigns), ad_groups=tuple(ad_groups), keywords=tuple(keywords)
    )


def _query_pool(size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`size` distinct queries, with the theme and whether each carries a waste word."""
    themes = list(THEMES)
    queries: list[str] = []
    theme_of: list[int] = []
    waste_of: list[bool] = []
    seen: set[str] = set()
    while len(queries) < size:
        n = 2 * (size - len(queries)) + 100
        theme = rng.integers(0, len(themes), n)
        noun_index = rng.integers(0, 6, n)
        modifier, brand, qualifier = (rng.integers(0, len(p), n) for p in (MODIFIERS, BRANDS, QUALIFIERS))
        number = rng.integers(1, 60, n)
        waste = rng.random(n) < WASTE_SHARE
        waste_word = rng.integers(0, len(WASTE), n)
        for i in range(n):
            noun = THEMES[themes[theme[i]]][2][noun_index[i]]
            words = [MODIFIERS[modifier[i]], BRANDS[brand[i]], noun, QUALIFIERS[qualifier[i]].format(n=number[i])]
            if waste[i]:
                words.insert(0 if i % 2 else len(words), WASTE[waste_word[i]])
            query = " ".join(w for w in words if w)
            if query not in seen:
                seen.add(query)
                queries.append(query)
                theme_of.append(theme[i])
                waste_of.append(bool(waste[i]))
                if len(queries) == size:
                    break
    return np.array(queries, dtype=object), np.array(theme_of), np.array(waste_of)


def write_report(path: Path, rows: int, seed: int = SEED) -> None:
    """A Google Ads UI export: title line, date line, header, `rows` rows, a Total row."""
    rng = np.random.default_rng(seed)
    distinct = max(1, int(rows * UNIQUE_SHARE))
    queries, theme_of, waste_of = _query_pool(distinct, rng)
    # every distinct query appears once, the other rows repeat queries Zipf-wise (a few heads, a long tail)
    repeats = (rng.zipf(1.15, rows - distinct) - 1) % distinct
    pick = rng.permutation(np.concatenate([np.arange(distinct), repeats]))
    theme = theme_of[pick]
    waste = waste_of[pick]
    group_choice = rng.integers(0, 2, rows)
    campaign_ids = np.array([THEMES[t][0] for t in THEMES])[theme]
    group_table = np.array([[g[0] for g in THEMES[t][1]] for t in THEMES])
    group_names = np.array([[g[1] for g in THEMES[t][1]] for t in THEMES])
    keywords = np.array([[g[2] for g in THEMES[t][1]] for t in THEMES])
    impressions = np.maximum(1, rng.lognormal(3.0, 1.3, rows).astype(np.int64))
    clicks = rng.binomial(impressions, np.where(waste, 0.02, 0.06))
    cpc_cents = rng.integers(30, 300, rows)
    cost_cents = clicks * cpc_cents
    conversions = rng.binomial(clicks, np.where(waste, 0.002, 0.04)).astype(float)
    match = rng.choice(
        np.array(
            [
                "Broad match",
                "Phrase match",
                "Phrase match (close variant)",
                "Exact match",
                "Exact match (close variant)",
            ]
        ),
        rows,
        p=[0.45, 0.25, 0.1, 0.15, 0.05],
    )
    frame = pd.DataFrame(
        {
            "Search term": queries[pick],
            "Match type": match,
            "Added/Excluded": "None",
            "Campaign": np.array([f"Search - {t.title()}" for t in THEMES])[theme],
            "Campaign ID": campaign_ids,
            "Ad group": group_names[theme, group_choice],
            "Ad group ID": group_table[theme, group_choice],
            "Keyword": keywords[theme, group_choice],
            "Clicks": clicks,
            "Impr.": impressions,
            "CTR": pd.Series(clicks / impressions * 100).map("{:.2f}%".format),
            "Currency code": "USD",
            "Avg. CPC": pd.Series(np.where(clicks > 0, cpc_cents / 100, 0.0)).map("{:.2f}".format),
            "Cost": pd.Series(cost_cents / 100).map("{:,.2f}".format),
            "Conversions": pd.Series(conversions).map("{:.2f}".format),
            "Cost / conv.": " --",
        }
    )
    frame["Impr."] = frame["Impr."].map("{:,}".format)
    total = {column: "--" for column in frame.columns} | {
        "Search term": "Total: Account",
        "Clicks": f"{clicks.sum():,}",
        "Impr.": f"{impressions.sum():,}",
        "Currency code": "USD",
        "Cost": f"{cost_cents.sum() / 100:,.2f}",
        "Conversions": f"{conversions.sum():.2f}",
    }
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write('Search terms report\n"January 17, 2024 - February 15, 2024"\n')
        pd.concat([frame, pd.DataFrame([total])]).to_csv(out, index=False, lineterminator="\n")


# -- stages, each run in its own process ---------------------------------------------------------


def _stage(name: str, csv_path: Path, work: Path) -> dict:
    structure = build_structure()
    frame_pickle, clustering_pickle = work / "frame.pkl", work / "clustering.pkl"
    if name == "pandas_floor":
        run = lambda: pd.read_csv(csv_path, skiprows=2)  # noqa: E731
    elif name == "import":
        from ads.search_term_reports import read_search_term_report

        run = lambda: read_search_term_report(csv_path).frame  # noqa: E731
    else:
        frame = pd.read_pickle(frame_pickle)
        if name == "clustering":
            from tools.query_clusters import cluster_queries

            kwargs = {"backend": "tfidf"} if "backend" in inspect.signature(cluster_queries).parameters else {}
            run = lambda: cluster_queries(frame, **kwargs)  # noqa: E731
        elif name == "negatives":
            from tools.negatives import mine_negatives

            run = lambda: mine_negatives(frame, structure)  # noqa: E731
        else:
            from tools.ad_groups import propose_ad_groups

            clustering = pickle.loads(clustering_pickle.read_bytes())
            run = lambda: propose_ad_groups(frame, clustering, structure)  # noqa: E731
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.DtypeWarning)
        result = run()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if name == "import":
        result.to_pickle(frame_pickle)
    elif name == "clustering":
        clustering_pickle.write_bytes(pickle.dumps(result))
    return {"seconds": seconds, "before_mib": before / 1024, "peak_mib": peak / 1024}


STAGES = ("pandas_floor", "import", "clustering", "negatives", "ad_groups")
PIPELINE = ("import", "clustering", "negatives", "ad_groups")


def _run_stage(name: str, csv_path: Path, work: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--stage", name, "--csv", str(csv_path), "--workdir", str(work)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": last[:110]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated row counts")
    parser.add_argument("--workdir", type=Path, help="where the CSVs go (default: a temporary directory)")
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--generate", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        print(json.dumps(_stage(args.stage, args.csv, args.workdir)))
        return
    if args.generate:
        write_report(args.csv, args.generate)
        return

    with tempfile.TemporaryDirectory() as tmp:
        base = args.workdir or Path(tmp)
        print(__doc__.split("\n\n")[2].replace("\n", " "))
        print(f"{'rows':>9} {'stage':<13} {'seconds':>8} {'before MiB':>11} {'peak MiB':>9}")
        for rows in (int(size) for size in args.sizes.split(",")):
            work = base / f"rows_{rows}"
            work.mkdir(parents=True, exist_ok=True)
            csv_path = work / "search_terms.csv"
            start = time.perf_counter()
            # in a child too: Linux carries a parent's peak RSS into ru_maxrss of the children it starts
            subprocess.run([sys.executable, __file__, "--generate", str(rows), "--csv", str(csv_path)], check=True)
            print(
                f"{rows:>9,} {'(generate)':<13} {time.perf_counter() - start:>8.2f}"
                f"   {csv_path.stat().st_size / 2**20:.1f} MiB CSV"
            )
            results = {}
            for stage in STAGES:
                results[stage] = result = _run_stage(stage, csv_path, work)
                if "error" in result:
                    print(f"{rows:>9,} {stage:<13} not run: {result['error']}")
                else:
                    print(
                        f"{rows:>9,} {stage:<13} {result['seconds']:>8.2f} {result['before_mib']:>11.0f}"
                        f" {result['peak_mib']:>9.0f}"
                    )
            ran = [results[s] for s in PIPELINE if "error" not in results[s]]
            if ran:
                print(
                    f"{rows:>9,} {'pipeline':<13} {sum(r['seconds'] for r in ran):>8.2f} {'':>11}"
                    f" {max(r['peak_mib'] for r in ran):>9.0f}   ({len(ran)} of {len(PIPELINE)} stages ran)"
                )


if __name__ == "__main__":
    main(sys.argv[1:])
