"""Brand kits for the sandbox accounts and the archetypes: a brand guide, a Merchant Center feed and saved
landing pages, as the files an advertiser hands over (`tools.brand_kit` reads them).

Products, prices and sales are drawn from the seed; features come from each product line's list, so that the
copy writer has real facts to cite and the evaluator has a kit to check copy against.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import numpy as np
import yaml

from sandbox.themes import CAMPAIGNS, SITE

MODEL_NAMES = ("Ridge", "Cairn", "Alder", "Talus", "Basalt", "Juniper", "Scree", "Larch", "Moraine")


@dataclass(frozen=True)
class ProductLine:
    """Products of one kind: where they sell (the landing page), what they have, what they cost."""

    name: str  # the ad group or offer they belong to
    product_type: str
    url: str
    features: tuple[str, ...]
    price: tuple[int, int]  # dollars, low and high


@dataclass(frozen=True)
class KitSpec:
    brand: str
    tone: str
    words_to_use: tuple[str, ...]
    words_to_avoid: tuple[str, ...]
    claims: tuple[tuple[str, str], ...]  # (claim, proof)
    competitors: tuple[str, ...]
    lines: tuple[ProductLine, ...]
    feed_format: str = "tsv"  # or "xml"
    models: bool = True  # several named models per line (goods); False: one item per line (services)


TRAILHEAD_FEATURES = {
    "Hiking Boots": (
        "a waterproof Gore-Tex membrane",
        "a Vibram outsole that grips wet rock",
        "a cushioned midsole for long days",
        "a leather and mesh upper",
    ),
    "Tents": (
        "a 5-minute pitch",
        "two doors and two vestibules",
        "taped seams for storms",
        "colour-coded aluminium poles",
    ),
    "Backpacks": (
        "an adjustable torso length",
        "zipped hip-belt pockets",
        "a rain cover included",
        "a ventilated back panel",
    ),
    "Rain Jackets": (
        "a 20,000 mm waterproof rating",
        "a stuff pocket it packs into",
        "pit zips for airflow",
        "a helmet-ready adjustable hood",
    ),
    "Sleeping Bags": (
        "recycled synthetic fill",
        "a draft collar and zip baffle",
        "a compression sack",
        "a roomy footbox",
    ),
}
# Sold and in the feed, but no ad group bids on them yet (sandbox.themes.UNCOVERED_THEMES): a new ad group's copy
# can rest on them. Camping stoves and water filters convert too but are not in the feed: their drafts say so.
TRAILHEAD_ACCESSORIES = {
    "Trekking Poles": (
        "carbon shafts at 230 g a pole",
        "flick-lock length adjustment",
        "cork grips that wick sweat",
    ),
    "Headlamps": (
        "a 400-lumen beam",
        "a USB-C rechargeable battery",
        "a red night-vision mode",
    ),
}
TRAILHEAD_PRICES = {
    "Hiking Boots": (120, 260),
    "Tents": (180, 520),
    "Backpacks": (60, 320),
    "Rain Jackets": (90, 340),
    "Sleeping Bags": (70, 420),
    "Trekking Poles": (60, 180),
    "Headlamps": (30, 90),
}


def _slug(text: str) -> str:
    return "-".join(text.lower().replace("'", "").split())


def trailhead_spec() -> KitSpec:
    lines = tuple(
        ProductLine(
            name=group.name,
            product_type=f"Outdoor > {campaign.name} > {group.name}",
            url=f"{SITE}/{_slug(campaign.name)}/{_slug(group.name)}",
            features=TRAILHEAD_FEATURES[campaign.name],
            price=TRAILHEAD_PRICES[campaign.name],
        )
        for campaign in CAMPAIGNS
        if campaign.kind == "generic"
        for group in campaign.ad_groups
    ) + tuple(
        ProductLine(
            name=name,
            product_type=f"Outdoor > Accessories > {name}",
            url=f"{SITE}/accessories/{_slug(name)}",
            features=features,
            price=TRAILHEAD_PRICES[name],
        )
        for name, features in TRAILHEAD_ACCESSORIES.items()
    )
    return KitSpec(
        brand="Trailhead Outfitters",
        tone="Plain and practical, like a friend who hikes every weekend. No hype, no exclamation marks.",
        words_to_use=("tested on real trails", "trail-ready", "gear"),
        words_to_avoid=("cheap", "extreme", "bargain"),
        claims=(
            ("Easy 60-Day Returns", "Returns policy: any unused item within 60 days of delivery, refunded in full."),
            (
                "Gear Tested on Real Trails",
                "Field-test programme: staff carry every product 100 km before we stock it.",
            ),
            ("Expert Advice From Hikers", "Every store and chat adviser has led guided hikes; see the staff page."),
            ("Free Shipping Over $50", "Shipping policy: standard delivery is free on orders over $50 in the US."),
        ),
        competitors=("Summit Supply Co", "Ridgeline Outdoor", "Pine and Peak Outfitters", "Northpeak", "Alpenwerk"),
        lines=lines,
    )


def roofing_spec() -> KitSpec:
    site = "https://www.acme-roofing.example"
    services = (
        (
            "Roof Replacement",
            ("asphalt shingles with a 30-year warranty", "tear-off and haul-away included"),
            (8000, 15000),
        ),
        ("Roof Repair", ("leak repairs within 48 hours", "storm and hail damage repairs"), (350, 1500)),
        ("Roof Inspection", ("a written report with photos", "insurance claim support"), (150, 250)),
        ("Gutter Installation", ("seamless aluminium gutters", "leaf guards fitted on request"), (900, 2400)),
        ("Metal Roof", ("standing-seam steel panels", "a 50-year paint warranty"), (14000, 26000)),
    )
    return KitSpec(
        brand="Acme Roofing",
        tone="Calm, local and specific. Speak to homeowners, never to contractors.",
        words_to_use=("licensed", "insured", "local crew"),
        words_to_avoid=("cheap", "cheapest", "guaranteed lowest"),
        claims=(
            ("Licensed and Insured", "State licence OH-RC-20931 and IN-RC-7781; liability insurance certificate."),
            ("Free Written Estimates", "Estimates policy: written estimate at no charge within 3 days of the visit."),
        ),
        competitors=("Bellwether Roofing", "Kowalski Roofing"),
        lines=tuple(
            ProductLine(name, f"Services > Roofing > {name}", f"{site}/{_slug(name)}", features, price)
            for name, features, price in services
        ),
        feed_format="xml",
        models=False,
    )


def towing_spec() -> KitSpec:
    site = "https://www.rapidtow.example"
    services = (
        ("Towing", ("flatbed trucks for all-wheel-drive cars", "tows up to 50 miles"), (95, 180)),
        ("Roadside Assistance", ("dispatch around the clock", "fuel delivery"), (65, 110)),
        ("Car Lockout", ("no-damage entry tools", "keys cut on site for most models"), (60, 95)),
        ("Jump Start", ("battery tested before we leave",), (55, 75)),
        ("Flat Tire Change", ("your spare fitted at the roadside",), (60, 85)),
    )
    return KitSpec(
        brand="RapidTow",
        tone="Short, reassuring and practical. The reader is stuck at the roadside.",
        words_to_use=("24/7", "Denver metro"),
        words_to_avoid=("cheap",),
        claims=(("Arrival in About 30 Minutes", "Dispatch log 2026: median arrival 28 minutes in the Denver metro."),),
        competitors=("Honk",),
        models=False,
        lines=tuple(
            ProductLine(name, f"Services > {name}", f"{site}/{_slug(name)}", features, price)
            for name, features, price in services
        ),
    )


def apparel_spec() -> KitSpec:
    site = "https://www.northpeak.example"
    lines = (
        ("Rain Jacket", ("a 3-layer waterproof shell", "a stowable hood"), (120, 280)),
        ("Fleece Jacket", ("recycled 200-weight fleece", "zipped hand pockets"), (60, 120)),
        ("Hiking Pants", ("4-way stretch fabric", "zip-off legs"), (55, 110)),
        ("Base Layer", ("merino wool that resists odour",), (45, 95)),
        ("Down Jacket", ("700-fill responsibly sourced down", "a stuff pocket"), (160, 320)),
        ("Trail Shoes", ("a rock plate", "a 6 mm drop"), (90, 160)),
    )
    return KitSpec(
        brand="Northpeak",
        tone="Crisp and confident, for people who are outside in all weathers.",
        words_to_use=("built for weather",),
        words_to_avoid=("cheap",),
        claims=(("Lifetime Repairs", "Repair programme: we repair any Northpeak garment for its lifetime."),),
        competitors=(),
        lines=tuple(
            ProductLine(name, f"Apparel > {name}", f"{site}/{_slug(name)}", features, price)
            for name, features, price in lines
        ),
    )


def kit_files(spec: KitSpec, rng: np.random.Generator, *, per_line: int = 2) -> dict[str, bytes]:
    """The kit's files (relative path -> content): brand_guide.yaml, feed.tsv or feed.xml, pages/*.html."""
    products = []
    for line in spec.lines:
        models = [str(m) for m in rng.choice(MODEL_NAMES, size=per_line, replace=False)] if spec.models else [""]
        for model in models:
            price = int(rng.integers(line.price[0], line.price[1] + 1)) - 0.01
            sale = round(price * 0.8) - 0.01 if rng.random() < 0.3 else None
            features = [str(f) for f in rng.permutation(list(line.features))][: min(3, len(line.features))]
            title = f"{model} {line.name.removesuffix('s')}" if model else line.name
            products.append(
                {
                    "id": "-".join(filter(None, (_slug(line.name), _slug(model)))),
                    "title": title,
                    "description": f"The {title} has {_listed(features)}.",
                    "link": line.url,
                    "price": f"{price:.2f} USD",
                    "sale_price": f"{sale:.2f} USD" if sale else "",
                    "availability": "in_stock",
                    "brand": spec.brand,
                    "product_type": line.product_type,
                    "line": line,
                }
            )
    guide = {
        "brand": spec.brand,
        "tone": spec.tone,
        "words_to_use": list(spec.words_to_use),
        "words_to_avoid": list(spec.words_to_avoid),
        "claims": [{"claim": c, "proof": p} for c, p in spec.claims],
        "competitors": list(spec.competitors),
    }
    files = {"brand_guide.yaml": yaml.safe_dump(guide, sort_keys=False, allow_unicode=True).encode()}
    columns = ("id", "title", "description", "link", "price", "sale_price", "availability", "brand", "product_type")
    if spec.feed_format == "xml":
        items = "".join(
            "<item>" + "".join(f"<g:{c}>{xml_escape(str(p[c]))}</g:{c}>" for c in columns if p[c]) + "</item>\n"
            for p in products
        )
        files["feed.xml"] = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0">'
            f"<channel><title>{xml_escape(spec.brand)}</title>\n{items}</channel></rss>\n"
        ).encode()
    else:
        rows = ["\t".join(columns)] + ["\t".join(str(p[c]) for c in columns) for p in products]
        files["feed.tsv"] = ("\n".join(rows) + "\n").encode()
    for line in spec.lines:
        offered = [p for p in products if p["line"] is line]
        files[f"pages/{_slug(line.name)}.html"] = _page(spec, line, offered).encode()
    return files


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _page(spec: KitSpec, line: ProductLine, products: list[dict[str, object]]) -> str:
    """A saved product-listing page, navigation and footer included, as a browser would save it."""
    e = html.escape
    cards = "".join(
        f"<article><h2>{e(str(p['title']))}</h2><p>{e(str(p['description']))} "
        f"Now {e(str(p['price']).replace(' USD', ''))} dollars.</p></article>"
        for p in products
    )
    claims = "".join(f"<li>{e(c)}</li>" for c, _ in spec.claims)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(line.name)} | {e(spec.brand)}</title>'
        f'<link rel="canonical" href="{e(line.url)}"></head><body>'
        f"<nav><a href='/'>Home</a> | <a href='/sale'>Sale</a> | <a href='/stores'>Stores</a></nav>"
        f"<main><h1>{e(line.name)}</h1>"
        f"<p>Every one of our {e(line.name.lower())} is chosen by {e(spec.brand)} staff and listed with what it "
        f"really does, so you can compare them side by side.</p>{cards}<ul>{claims}</ul></main>"
        f"<footer>© {e(spec.brand)}. Privacy | Terms | Cookie settings</footer>"
        "<script>window.dataLayer=[];</script></body></html>"
    )


def write_kit(files: dict[str, bytes], folder: Path) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return folder
