"""Intent classes: accuracy per class on the hand-labelled table and on the sandbox's ground truth; time, memory.

    .venv/bin/python benchmarks/intent.py [--seed 7] [--rows 24000] [--today 2026-11-20] [--archetype-rows 6000]

1. `tests/tools/intent_labelled_queries.yaml`: each profile's queries classified together; accuracy per expected
   class, on the rows the lexicons were written against (`tune`) and on the held-out rows apart.
2. `sandbox:trailhead`, built in a temporary directory: the profile `infer_profile` drafts from the account
   (what a user starts from), then the same draft with `not_offered` filled in as its owner would. The planted
   ground truth is mapped to intent classes: waste kinds jobs, free, diy and competitor to themselves,
   wrong_product to not_offered or adult_unrelated, brand queries to brand or existing_customer, every other
   query (the converting ones) to on_offer; injection queries are left out. "converting queries given a waste
   class" counts the sandbox queries with conversions classified as a negative theme their truth does not have.
3. The account archetypes (`sandbox.archetypes`): each one's queries classified with its profile, accuracy per
   labelled class, on seed 7 (tuning) and on seed 101 (the held-out family: other competitor names, cities and
   modifiers) apart. The classifier sees only the query texts and the profile, as after an import.
Time is one plain run of the classifier; peak memory is tracemalloc's peak over a second run (Python and NumPy
allocations). Brand queries the account bids on in its competitor campaign count as competitor; converting
themes no ad group names ("uncovered") are listed apart, since a draft profile cannot know them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ads.account_plan import AdvertiserProfile
from sandbox.archetypes import HELD_OUT_SEEDS, generate_archetype
from sandbox.generator import generate_sandbox
from sandbox.store import SandboxStore
from sandbox.themes import UNCOVERED_THEMES
from tools.advertiser_profile import infer_profile
from tools.query_intent import classify_intents

ACCOUNT = "sandbox:trailhead"
LABELS = Path(__file__).resolve().parents[1] / "tests" / "tools" / "intent_labelled_queries.yaml"
WASTE_CLASSES = {"jobs", "free", "diy", "competitor", "not_offered", "adult_unrelated", "out_of_area", "other_language"}
TRUTH_CLASSES = {
    "jobs": {"jobs"},
    "free": {"free"},
    "diy": {"diy"},
    "competitor": {"competitor"},
    "wrong_product": {"not_offered", "adult_unrelated"},
    "brand": {"brand", "existing_customer"},
    "competitor campaign": {"competitor"},  # the account bids on competitors' names on purpose
    "uncovered theme": {"on_offer"},  # converts, but no ad group names it, so the draft's offers miss it
    "": {"on_offer"},
}


def table(rows: list[tuple[str, set[str], str]], title: str) -> None:
    """rows: (truth label, accepted classes, predicted class)."""
    per: dict[str, list[bool]] = defaultdict(list)
    for truth, accepted, predicted in rows:
        per[truth].append(predicted in accepted)
    hits = sum(sum(v) for v in per.values())
    print(f"\n{title}: {hits}/{len(rows)} = {hits / len(rows):.3f}")
    for truth, values in sorted(per.items()):
        name = truth or "converting (on_offer)"
        print(f"  {name:<24} {sum(values):>5}/{len(values):<5} {sum(values) / len(values):.3f}")


def labelled_table() -> None:
    data = yaml.safe_load(LABELS.read_text(encoding="utf-8"))
    for split in ("tune", "holdout"):
        rows = []
        for name, splits in data["queries"].items():
            profile = AdvertiserProfile.model_validate(data["profiles"][name])
            predicted = classify_intents([q for q, _ in splits[split]], profile).intents.set_index("search_term")
            rows.extend((expected, {expected}, predicted.loc[q, "intent"]) for q, expected in splits[split])
        table(rows, f"labelled table, {split} rows")


def sandbox(seed: int, rows: int, today: dt.date) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SandboxStore.create(Path(tmp) / "sandbox.sqlite")
        generate_sandbox(store, seed=seed, rows=rows, today=today)
        account = store.open_account(ACCOUNT)
        period = account.search_term_period()
        assert period is not None
        terms = account.search_terms(period.start, period.end)
        truth = store.ground_truth(ACCOUNT)
        structure = account.structure()
    start = time.perf_counter()
    draft = infer_profile(structure, terms)
    print(
        f"\nsandbox {ACCOUNT}: {terms['search_term'].nunique():,} distinct terms; profile drafted in "
        f"{time.perf_counter() - start:.2f} s"
    )
    truth = truth[~truth["is_injection"]]
    uncovered = {theme.name for theme in UNCOVERED_THEMES}
    label = [
        row.waste_kind
        if row.is_waste
        else "brand"
        if row.is_brand
        else "competitor campaign"
        if row.theme == "competitor conquest"
        else "uncovered theme"
        if row.theme in uncovered
        else ""
        for row in truth.itertuples()
    ]
    converting = set(terms.loc[terms["conversions"] > 0, "search_term"])
    filled = draft.profile.model_copy(
        update={"not_offered": ("rental", "dog", "leaf blower", "sprayer", "wedding", "party")}
    )
    for title, profile in (("inferred draft", draft.profile), ("draft + not_offered", filled)):
        keywords = [k.text for k in structure.keywords]
        start = time.perf_counter()
        result = classify_intents(terms, profile, own_words=keywords)
        seconds = time.perf_counter() - start
        tracemalloc.start()
        classify_intents(terms, profile, own_words=keywords)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        predicted = result.intents.set_index("search_term")["intent"]
        scored = [
            (kind, TRUTH_CLASSES[kind], predicted[term]) for term, kind in zip(truth["search_term"], label, strict=True)
        ]
        table(scored, f"sandbox ground truth, {title} ({seconds:.2f} s, peak {peak:.0f} MiB traced)")
        accepted = dict(zip(truth["search_term"], (TRUTH_CLASSES[kind] for kind in label), strict=True))
        blocked = [t for t in converting if predicted.get(t) in WASTE_CLASSES - accepted.get(t, set())]
        print(f"  converting queries given a waste class they do not have: {len(blocked)} of {len(converting)}")
        print(f"  inferred competitors: {', '.join(f'{c.name} ({c.queries})' for c in result.competitors)}")


def archetypes(rows: int, today: dt.date) -> None:
    for name in ("lead-gen", "local-no-conversions", "pmax", "ecommerce"):
        for seed in (7, HELD_OUT_SEEDS + 1):
            with tempfile.TemporaryDirectory() as tmp:
                archetype = generate_archetype(name, seed=seed, rows=rows, today=today, work_dir=Path(tmp))
            profile = AdvertiserProfile.model_validate(archetype.profile)
            labels = archetype.labels[archetype.labels["intent"] != "unknown"]
            start = time.perf_counter()
            predicted = classify_intents(labels["search_term"].tolist(), profile).intents.set_index("search_term")
            seconds = time.perf_counter() - start
            split = "held-out" if seed >= HELD_OUT_SEEDS else "tuning"
            pairs = zip(labels["search_term"], labels["intent"], strict=True)
            scored = [(intent, {intent}, predicted.loc[query, "intent"]) for query, intent in pairs]
            table(scored, f"archetype {name}, seed {seed} ({split}; {seconds:.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rows", type=int, default=24_000)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 11, 20))
    parser.add_argument("--archetype-rows", type=int, default=6000, help="distinct queries per archetype")
    args = parser.parse_args()
    start = time.perf_counter()
    labelled_table()
    print(f"  ({time.perf_counter() - start:.2f} s, the lexicons and wordfreq loaded once)")
    sandbox(args.seed, args.rows, args.today)
    archetypes(args.archetype_rows, args.today)


if __name__ == "__main__":
    main()
