"""Scale benchmark: the CLI path a user runs on a generated Google Ads UI search-term export.

    .venv/bin/python benchmarks/search_terms_scale.py [--sizes 1000000] [--workdir DIR]

`adpilot import search-terms FILE`, then `search-terms clusters`, then `search-terms negatives`, each a fresh
`python -m app` process on one ADPILOT_HOME, output to a file as a user's redirect would. Seconds are wall time
of the whole process (start-up included), CPU seconds its user+sys time (less affected by other load); peak is
that process's own ru_maxrss (from wait4).
Then clusters and negatives run once more: the derived data the first runs stored is reused.
Targets (issue 8 §5): the first three commands at 1M rows in <= 60 s in all and <= 2.5 GiB peak each.
Timings depend on the machine's load: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240117
UNIQUE_SHARE = 0.30  # distinct queries / rows
WASTE_SHARE = 0.15  # queries carrying a waste word
# theme → (campaign id, ad groups as (id, name, keyword text, match type), nouns people type)
THEMES = {
    "boots": (
        "101",
        (
            ("1011", "Hiking boots", "hiking boots", "phrase"),
            ("1012", "Winter boots", "winter boots", "broad"),
        ),
        ("boots", "hiking boots", "winter boots", "trail boots", "walking boots", "snow boots"),
    ),
    "tents": (
        "102",
        (
            ("1021", "Camping tents", "camping tent", "phrase"),
            ("1022", "Ultralight tents", "ultralight tent", "exact"),
        ),
        ("tent", "camping tent", "backpacking tent", "2 person tent", "family tent", "ultralight tent"),
    ),
    "backpacks": (
        "103",
        (
            ("1031", "Hiking backpacks", "hiking backpack", "phrase"),
            ("1032", "Daypacks", "daypack", "broad"),
        ),
        ("backpack", "hiking backpack", "daypack", "rucksack", "travel backpack", "65l backpack"),
    ),
    "jackets": (
        "104",
        (
            ("1041", "Rain jackets", "rain jacket", "phrase"),
            ("1042", "Down jackets", "down jacket", "broad"),
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


# -- the CLI path, each command a fresh process --------------------------------------------------

LIMIT_SECONDS = 60.0
LIMIT_MIB = 2.5 * 1024
ACCOUNT = "bench-outdoor"
PATH = (
    ("import", ("import", "search-terms", "{csv}", "--account", ACCOUNT)),
    ("clusters", ("search-terms", "clusters", "--account", ACCOUNT)),
    ("negatives", ("search-terms", "negatives", "--account", ACCOUNT)),
)
REUSE = (("clusters (again)", PATH[1][1]), ("negatives (again)", PATH[2][1]))


def run_command(args: tuple[str, ...], home: Path, out: Path) -> tuple[float, float, float, int]:
    """(wall seconds, user+sys CPU seconds, peak MiB, exit code) of `python -m app ARGS` in a fresh process."""
    env = {**os.environ, "ADPILOT_HOME": str(home), "ADPILOT_TODAY": "2026-12-01", "COLUMNS": "200"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH")]))
    with out.open("w") as stdout, out.with_suffix(".err").open("w") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "app", *args], env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000", help="comma-separated row counts")
    parser.add_argument("--workdir", type=Path, help="where the CSVs and homes go (default: a temporary directory)")
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--generate", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate:
        write_report(args.csv, args.generate)
        return

    with tempfile.TemporaryDirectory() as tmp:
        base = args.workdir or Path(tmp)
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
        print(f"{'rows':>9} {'command':<18} {'seconds':>8} {'CPU s':>8} {'peak MiB':>9}")
        for rows in (int(size) for size in args.sizes.split(",")):
            work = base / f"rows_{rows}"
            work.mkdir(parents=True, exist_ok=True)
            csv_path = work / "search_terms.csv"
            if not csv_path.exists():
                # in a child: Linux carries a parent's peak RSS into ru_maxrss of the children it starts
                subprocess.run([sys.executable, __file__, "--generate", str(rows), "--csv", str(csv_path)], check=True)
            home = work / "home"
            subprocess.run(["rm", "-rf", str(home)], check=True)
            home.mkdir()
            total, cpu_total, peak, failed = 0.0, 0.0, 0.0, []
            for name, command in (*PATH, *REUSE):
                command = tuple(part.format(csv=csv_path) for part in command)
                seconds, cpu, mib, code = run_command(command, home, work / f"{name.split()[0]}.out")
                if code != 0:
                    failed.append(name)
                if name in dict(PATH):
                    total, cpu_total, peak = total + seconds, cpu_total + cpu, max(peak, mib)
                status = "" if code == 0 else f"  exit {code}, see {work / name.split()[0]}.err"
                print(f"{rows:>9,} {name:<18} {seconds:>8.2f} {cpu:>8.2f} {mib:>9.0f}{status}", flush=True)
            verdict = "PASS" if total <= LIMIT_SECONDS and peak <= LIMIT_MIB and not failed else "FAIL"
            failures = f"; failed: {', '.join(failed)}" if failed else ""
            print(
                f"{rows:>9,} {'path (first 3)':<18} {total:>8.2f} {cpu_total:>8.2f} {peak:>9.0f}   {verdict} "
                f"(limits {LIMIT_SECONDS:.0f} s, {LIMIT_MIB:.0f} MiB{failures})"
            )
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main(sys.argv[1:])
