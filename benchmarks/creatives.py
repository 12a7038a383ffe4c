"""Creatives benchmark: time and memory to write 1,000 RSAs from realistic themes, the share that is
valid (checked by tools.creatives and, independently, by the gate's policies.copy_rules), the average
headline count, and how distinct the headlines are across ads.

Run: .venv/bin/python benchmarks/creatives.py
"""

from __future__ import annotations

import random
import time
import tracemalloc

from ads.entities import ResponsiveSearchAdCopy
from policies.copy_rules import check_ad_copy
from policies.gate import load_policy
from tools.creatives import ad_text_length, asset_problem, write_rsa

PRODUCTS = [
    "hiking boots",
    "tents",
    "backpacks",
    "rain jackets",
    "sleeping bags",
    "trekking poles",
    "headlamps",
    "camping stoves",
    "water filters",
    "trail running shoes",
    "down jackets",
    "climbing harness",
]
MODIFIERS = [
    "waterproof",
    "lightweight",
    "ultralight",
    "women's",
    "men's",
    "kids",
    "cheap",
    "best",
    "4 season",
    "2 person",
    "insulated",
    "vegan",
    "wide fit",
    "gore-tex",
    "budget",
    "premium",
    "sale",
]
TAILS = [
    "",
    "for women",
    "for winter camping",
    "near me",
    "with free returns",
    "under 100",
    "for beginners",
    "uk",
    "online",
    "2026",
]
BRANDS = [None, "Trailhead", "Trailhead Outfitters", "Summit & Co", "Nordvik Bergsport GmbH"]


def keyword(rng: random.Random, product: str) -> str:
    return " ".join(w for w in (rng.choice(MODIFIERS), product, rng.choice(TAILS)) if w)


def rsa_problems(ad: ResponsiveSearchAdCopy) -> list[str]:
    problems = [p for h in ad.headlines if (p := asset_problem(h, 30))]
    problems += [p for d in ad.descriptions if (p := asset_problem(d, 90))]
    problems += [f"path {p!r} too long" for p in (ad.path1, ad.path2) if ad_text_length(p) > 15]
    if not 8 <= len(ad.headlines) <= 15 or not 3 <= len(ad.descriptions) <= 4:
        problems.append("asset count")
    if len({h.casefold() for h in ad.headlines}) != len(ad.headlines):
        problems.append("duplicate headline")
    return problems


def main(n: int = 1_000) -> None:
    rng = random.Random(7)
    briefs = []
    for i in range(n):
        product = rng.choice(PRODUCTS)
        theme = f"{rng.choice(MODIFIERS)} {product}".title() if i % 3 else product.title()
        briefs.append((theme, [keyword(rng, product) for _ in range(rng.randint(0, 12))], rng.choice(BRANDS)))

    start = time.perf_counter()
    ads = [write_rsa(theme, keywords, "https://shop.test/", brand) for theme, keywords, brand in briefs]
    elapsed = time.perf_counter() - start
    tracemalloc.start()
    kept = [write_rsa(theme, keywords, "https://shop.test/", brand) for theme, keywords, brand in briefs]
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    del kept
    tracemalloc.stop()

    policy = load_policy()
    valid_own = sum(not rsa_problems(ad) for ad in ads)
    valid_gate = sum(not check_ad_copy(ad, policy) for ad in ads)
    headlines = [h for ad in ads for h in ad.headlines]
    print(
        f"{n:,} RSAs in {elapsed * 1000:.0f} ms ({elapsed / n * 1e6:.0f} µs each), "
        f"peak memory holding all {n:,} {peak:.2f} MiB"
    )
    print(
        f"valid (tools.creatives checks): {valid_own / n:.1%}   valid (policies.copy_rules, default policy): "
        f"{valid_gate / n:.1%}"
    )
    print(
        f"headlines per ad: mean {len(headlines) / n:.2f} (min {min(len(a.headlines) for a in ads)}, "
        f"max {max(len(a.headlines) for a in ads)}); descriptions per ad: mean "
        f"{sum(len(a.descriptions) for a in ads) / n:.2f}"
    )
    distinct_within_ads = sum(len(set(map(str.casefold, a.headlines))) for a in ads)
    print(
        f"distinct headlines within an ad: {distinct_within_ads / len(headlines):.1%}; "
        f"across all ads: {len(set(map(str.casefold, headlines))):,} distinct of {len(headlines):,} "
        f"({len(set(map(str.casefold, headlines))) / len(headlines):.1%})"
    )


if __name__ == "__main__":
    main()
