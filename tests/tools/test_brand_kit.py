from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ads.account_plan import load_account_plans
from ads.errors import ConfigurationError
from sandbox.brand_kits import kit_files, roofing_spec, trailhead_spec, write_kit
from tools.brand_kit import load_brand_kit, parse_brand_kit
from tools.copy_grounding import build_index, retrieve


def test_sandbox_kits_read_back_with_feed_pages_and_claims(tmp_path: Path) -> None:
    folder = write_kit(kit_files(trailhead_spec(), np.random.default_rng(7)), tmp_path / "kit")
    kit = load_brand_kit(folder)
    assert kit.guide.brand == "Trailhead Outfitters" and kit.products
    pages = [c for c in kit.chunks if c.kind == "page"]
    assert pages and not any("Cookie settings" in c.text or "dataLayer" in c.text for c in pages)  # boilerplate gone
    assert all(c.proven for c in kit.chunks if c.kind == "claim")
    xml = parse_brand_kit(kit_files(roofing_spec(), np.random.default_rng(7)), where="roofing")
    assert {p.title for p in xml.products} >= {"Roof Repair", "Roof Inspection"}
    assert all(isinstance(p.price, int) for p in xml.products)  # cents
    index = build_index(kit, embeddings=False)
    found = retrieve(kit, index, "waterproof hiking boots", k=5)
    assert found and all("Boot" in c.text for c in found[:3])


def test_accounts_file_names_the_kit_folder_relative_to_itself(tmp_path: Path) -> None:
    (tmp_path / "accounts.yaml").write_text("sandbox:trailhead:\n  brand_kit: kits/trailhead\n", encoding="utf-8")
    plan = load_account_plans(tmp_path / "accounts.yaml")["sandbox:trailhead"]
    assert plan.brand_kit == tmp_path / "kits" / "trailhead"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"feed.tsv": b"id\ttitle\n"}, "kit: the brand kit has no brand guide"),
        ({"brand_guide.yaml": b"tone: calm\n"}, "kit/brand_guide.yaml: brand: Field required"),
        ({"brand_guide.yaml": b"brand: [\n"}, "kit/brand_guide.yaml: line 2: not valid YAML"),
        (
            {
                "brand_guide.yaml": b"brand: T\n",
                "feed.tsv": b"id\ttitle\tdescription\tprice\nx\tShoe\tA shoe.\t12,50 EUR\n",
            },
            "kit/feed.tsv: line 2: price: '12,50 EUR' is not an amount and currency",
        ),
        (
            {"brand_guide.yaml": b"brand: T\n", "feed.tsv": b"id\ttitle\tdescription\tprice\nx\t\tA shoe.\t1.00 USD\n"},
            "kit/feed.tsv: line 2: title: missing",
        ),
        ({"brand_guide.yaml": b"brand: T\n", "feed.xml": b"<rss><item>"}, "kit/feed.xml: line 1: not valid XML"),
    ],
)
def test_bad_kit_files_fail_with_file_and_line(files: dict[str, bytes], message: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        parse_brand_kit(files, where="kit")
    assert str(error.value).startswith(message), str(error.value)


def test_an_archetype_is_written_with_its_kit_named_in_its_profile(tmp_path: Path) -> None:
    import datetime as dt

    from sandbox.archetypes import generate_archetype

    archetype = generate_archetype(
        "local-no-conversions", seed=7, rows=300, today=dt.date(2026, 12, 1), work_dir=tmp_path
    )
    paths = archetype.write(tmp_path / "out")
    plan = next(iter(load_account_plans(paths["profile"]).values()))
    assert plan.brand_kit == paths["brand_kit"]
    kit = load_brand_kit(plan.brand_kit)
    assert kit.guide.brand == "RapidTow" and "Honk" in kit.guide.competitors and len(kit.products) == 5
