"""Account archetypes that behave like real accounts, each written as the files a user has: an export, a profile
and a specialist's labels.

The sandbox generator plants waste that simple statistics find. These archetypes do not: waste is spread thin
over many small queries (most with 1-3 clicks), conversions are rare and expensive, some informational
queries convert, and the export formats are the ones people download (Google Ads UI CSV and Excel CSV with
title, date range and Total rows; another tool's CSV without a conversions column; Performance Max without
campaign and ad group columns).

- `lead-gen`: a roofing contractor in Ohio and Indiana, CPA about 230 USD, conversion rate about 5 %.
- `local-no-conversions`: a towing and locksmith service, one campaign per Colorado city, no conversions column.
- `pmax`: an outdoor-apparel shop's Performance Max search terms; new product lines and the brand convert.
- `ecommerce`: the sandbox account (`generate_sandbox`), its planted ground truth mapped to intent classes.
- `null`: lead-gen's queries, every one converting at one uniform rate, so no query is truly bad.

Labels, one row per distinct query: `intent` (a class of `tools.query_intent.Intent`), `waste` (a specialist
would exclude it), `theme` (what kind of query it is) and, for local-no-conversions, `belongs_to`: the served
city a query names, so a negative in another city's campaign is routing, not waste removal.

Seeds below `HELD_OUT_SEEDS` are for tuning; seeds from it on draw other competitor names, cities and
modifiers and are held out: report them apart and never tune on them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sandbox import GOOGLE_ACCOUNT
from sandbox.brand_kits import KitSpec, apparel_spec, kit_files, roofing_spec, towing_spec, trailhead_spec, write_kit
from sandbox.generator import generate_sandbox
from sandbox.store import SandboxStore
from sandbox.themes import BRAND_TERMS, CAMPAIGNS, UNCOVERED_THEMES

ARCHETYPES = ("lead-gen", "local-no-conversions", "pmax", "ecommerce", "null")
HELD_OUT_SEEDS = 100  # seeds >= this are the held-out family
LABEL_COLUMNS = ("search_term", "intent", "waste", "theme", "belongs_to")
DAYS = 30


@dataclass(frozen=True)
class Family:
    """A kind of query: its label, the phrases it is built from and how it converts."""

    theme: str
    intent: str
    waste: bool
    cores: tuple[str, ...]
    share: float  # of the distinct queries
    cvr: float = 0.0  # multiple of the account's base conversion rate
    fractional: bool = False  # data-driven attribution gives it partial conversions
    places: bool = True  # may take a city or region


@dataclass(frozen=True)
class Archetype:
    """What generating one archetype produced; `write` puts it in a directory."""

    name: str
    account: str
    export_name: str
    export: bytes
    profile: dict[str, object]
    labels: pd.DataFrame
    brand_kit: dict[str, bytes] = field(default_factory=dict)  # relative path -> content

    def write(self, out: Path) -> dict[str, Path]:
        out.mkdir(parents=True, exist_ok=True)
        paths = {"export": out / self.export_name, "profile": out / "profile.yaml", "labels": out / "labels.csv"}
        paths["export"].write_bytes(self.export)
        profile = dict(self.profile)
        if self.brand_kit:
            paths["brand_kit"] = write_kit(self.brand_kit, out / "brand_kit")
            profile["brand_kit"] = "brand_kit"  # read relative to profile.yaml
        paths["profile"].write_text(
            yaml.safe_dump({self.account: profile}, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
        self.labels.to_csv(paths["labels"], index=False)
        return paths


def _cores(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split("|"))


# ---- lead generation: a roofing contractor in Ohio and Indiana ----------------------------------------

ROOFING_CITIES = _cores(
    "columbus|cleveland|cincinnati|dayton|toledo|akron|canton|youngstown|mansfield|lima|indianapolis|fort wayne"
    "|evansville|south bend|carmel|fishers|bloomington|lafayette|muncie|kokomo|ohio|indiana|oh|in"
)
OUT_OF_AREA_CITIES = _cores(
    "chicago|detroit|louisville|pittsburgh|lexington ky|grand rapids|ann arbor|erie pa|wheeling wv|nashville"
    "|st louis|milwaukee|michigan|kentucky|pennsylvania|illinois|west virginia|tennessee|peoria|charleston wv"
)
# Competitor names: a pool; each seed draws dozens of them, so that held-out seeds meet names never seen.
COMPETITOR_POOL = _cores(
    "bellwether|kowalski|ridgeline|summitview|keystone|buckeye pro|heartland|hoosier|millcreek|stonebridge"
    "|oakmont|redhawk|blue ridge|crestline|ironclad|lakeshore|pinnacle|liberty|allegiant|brightside|carver"
    "|delgado|everlast|foxworth|granger|hollister|jamison|kessler|landmark|mcallister|northgate|oberlin"
    "|prestige|quinlan|rockford|sterling|trueline|underwood|vanguard|westfield|yoder|zimmerman|amish country"
    "|baker brothers|castle rock|dunmore|eagle crest|fairway|greenleaf|highpoint|integrity|jacobs|kingsley"
    "|legacy|maverick|nationwide|overland|patriot|queen city|riverbend|shelter pro|titan|united|valor"
)
ROOFING_SUFFIXES = ("roofing", "roofing company", "roofing reviews", "roofing llc", "exteriors", "roofing and siding")
ROOFING_MODIFIERS = _cores(
    "near me|company|companies|contractor|contractors|best|local|emergency|quote|estimate|free estimate"
    "|residential|for house|same day|licensed|insured|top rated|2026|cheap|affordable|services"
)
MISSPELLINGS = {
    "roofing": "rofing",
    "roof": "rooff",
    "replacement": "replacment",
    "gutter": "guter",
    "repair": "repiar",
}

LEAD_GEN_FAMILIES = (
    Family(
        "service",
        "on_offer",
        False,
        _cores(
            "roof replacement|roof repair|roofing contractor|roofer|roofers|roofing company|new roof|roof leak repair"
            "|shingle replacement|metal roof installation|roof inspection|gutter installation|gutter replacement"
            "|storm damage roof repair|hail damage roof|flat roof repair|roofing|asphalt shingle roof"
        ),
        0.70,
        cvr=1.15,
    ),
    Family(
        "cost research",
        "informational",
        False,
        _cores("roof replacement cost|cost of new roof|roof repair cost|how much is a new roof|metal roof price"),
        0.06,
        cvr=0.6,
        fractional=True,
    ),
    Family(
        "free estimate",
        "on_offer",
        False,
        _cores("free roof estimate|free roof inspection|free roofing quote"),
        0.02,
        cvr=1.0,
        fractional=True,
    ),
    Family("brand", "brand", False, _cores("acme roofing|acme roofing reviews|acme roofers|acmee roofing"), 0.01, 2.0),
    Family("competitor", "competitor", True, (), 0.07),
    Family(
        "diy",
        "diy",
        True,
        _cores(
            "how to fix a roof leak yourself|roofing nails|shingles home depot|roof patch kit|diy gutter guards"
            "|buy shingles|roofing tar lowes|roll roofing|how to replace shingles|roof sealant spray|drip edge"
        ),
        0.03,
        places=False,
    ),
    Family(
        "free and grants",
        "free",
        True,
        _cores(
            "free roof replacement program|roof grants for seniors|government roof grants|free roof for veterans"
            "|roof replacement assistance low income|habitat for humanity roof repair"
        ),
        0.015,
    ),
    Family(
        "renters",
        "renter",  # not the buyer (the landlord decides): its own class, not research
        True,
        _cores("landlord won't fix roof leak|renter roof leak who pays|apartment roof leaking|tenant rights roof leak"),
        0.01,
        places=False,
    ),
    Family(
        "existing customer",
        "existing_customer",
        True,
        _cores("acme roofing login|acme roofing warranty claim|acme roofing customer service|acme roofing invoice"),
        0.005,
        places=False,
    ),
    Family(
        "spanish",
        "other_language",
        True,
        _cores("reparacion de techos|techadores cerca de mi|techos de lamina precio|reparación de goteras techo"),
        0.01,
    ),
    Family("out of area", "out_of_area", True, _cores("roofing contractor|roof repair|roofers|roof replacement"), 0.03),
    Family(
        "jobs",
        "jobs",
        True,
        _cores("roofing jobs|roofer hiring|roofing laborer jobs|roofing apprenticeship|how to become a roofer"),
        0.015,
    ),
    Family(
        "research",
        "informational",
        True,
        _cores("what is roof pitch|roof pitch calculator|how to measure a roof|types of roof vents|what is flashing"),
        0.01,
        places=False,
    ),
    Family(
        "not offered",
        "not_offered",
        True,
        _cores("skylight installation|skylight repair|solar panel installation|solar roof tiles"),
        0.005,
    ),
    Family(
        "unrelated",
        "adult_unrelated",
        True,
        _cores("roof of mouth pain|car roof rack|raise the roof song|roof top tent|rooftop bar"),
        0.005,
        places=False,
    ),
)
LEAD_GEN_PROFILE: dict[str, object] = {
    "business": "Roofing contractor in Ohio and Indiana: roof replacement, repairs, inspections, gutters",
    "offers": ["roof replacement", "roof repair", "roof inspection", "gutter installation", "metal roof"],
    "not_offered": ["skylights", "solar panels"],
    "locations": ["Ohio", "Indiana"],
    "languages": ["en"],
    "brand_terms": ["acme roofing"],
    "competitors": ["bellwether roofing", "kowalski roofing"],
}
LEAD_GEN_CAMPAIGNS = {"oh": "Search - Roofing - Ohio", "in": "Search - Roofing - Indiana"}
INDIANA = frozenset(ROOFING_CITIES[10:20]) | {"indiana", "in"}


@dataclass(frozen=True)
class Query:
    text: str
    family: Family
    place: str


def _misspell(text: str, pick: random.Random) -> str:
    words = text.split()
    candidates = [i for i, w in enumerate(words) if w in MISSPELLINGS]
    if not candidates:
        return text
    i = pick.choice(candidates)
    words[i] = MISSPELLINGS[words[i]]
    return " ".join(words)


def _queries(
    families: Sequence[Family],
    n: int,
    rng: np.random.Generator,
    *,
    places: Sequence[str],
    foreign_places: Sequence[str],
    modifiers: Sequence[str],
    competitor_phrases: Sequence[str],
) -> list[Query]:
    """`n` distinct queries, each family getting its share; a text two families would both build keeps the first."""
    pick = random.Random(int(rng.integers(2**32)))  # the stdlib's choice is far cheaper per call than numpy's
    seen: set[str] = set()
    out: list[Query] = []
    for family in families:
        cores = family.cores or tuple(competitor_phrases)
        in_area = foreign_places if family.intent == "out_of_area" else places
        want, misses, count = max(1, round(family.share * n)), 0, 0
        while count < want and misses < 200:  # a family whose combinations run out stops short
            text, place = pick.choice(cores), ""
            if pick.random() < 0.5 and family.intent != "other_language":
                modifier = pick.choice(modifiers)
                text = f"{text} {modifier}" if pick.random() < 0.7 else f"{modifier} {text}"
                if pick.random() < 0.3:
                    text = f"{text} {pick.choice(modifiers)}"
            if family.places and in_area and (family.intent == "out_of_area" or pick.random() < 0.45):
                place = pick.choice(in_area)
                text = f"{text} {place}"
            if pick.random() < 0.04:
                text = _misspell(text, pick)
            text = " ".join(text.split())
            if text in seen:
                misses += 1
                continue
            misses = 0
            seen.add(text)
            out.append(Query(text, family, place))
            count += 1
    return out


def _performance(
    queries: Sequence[Query], rng: np.random.Generator, *, base_cvr: float, cpc: float, uniform_cvr: float | None
) -> pd.DataFrame:
    """Impressions, clicks, cost and conversions per query: a heavy tail, so most queries get 0-3 clicks."""
    n = len(queries)
    words = np.array([len(q.text.split()) for q in queries])
    # waste is found by broad match on the tail, so it earns fewer impressions than what the keywords target
    reach = np.where([q.family.waste for q in queries], 0.4, 1.0)
    impressions = np.maximum(1, np.round(reach * rng.lognormal(np.log(40) - 0.45 * words, 1.2, n))).astype(int)
    clicks = rng.binomial(impressions, np.clip(rng.normal(0.09, 0.03, n), 0.01, 0.4))
    cost = np.round(clicks * cpc * rng.lognormal(0, 0.35, n), 2)
    if uniform_cvr is not None:
        rates = np.full(n, uniform_cvr)
    else:
        rates = np.array([q.family.cvr for q in queries]) * base_cvr * rng.gamma(4.0, 0.25, n)
    conversions = rng.binomial(clicks, np.clip(rates, 0, 1)).astype(float)
    fractional = np.array([q.family.fractional for q in queries]) & (uniform_cvr is None)
    credit = np.round(rng.uniform(0.15, 0.95, n), 2)  # data-driven attribution's share of each conversion
    conversions = np.where(fractional & (conversions > 0), np.round(conversions * credit, 2), conversions)
    return pd.DataFrame(
        {"impressions": impressions, "clicks": clicks, "cost": cost, "conversions": conversions}, index=range(n)
    )


def _labels(queries: Sequence[Query], belongs_to: Callable[[Query], str] = lambda q: "") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "search_term": [q.text for q in queries],
            "intent": [q.family.intent for q in queries],
            "waste": [q.family.waste for q in queries],
            "theme": [q.family.theme for q in queries],
            "belongs_to": [belongs_to(q) for q in queries],
        }
    )


def _ui_number(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


def _period(today: dt.date) -> tuple[dt.date, dt.date]:
    return today - dt.timedelta(days=DAYS), today - dt.timedelta(days=1)


def _google_ui_export(
    rows: pd.DataFrame,
    *,
    period: tuple[dt.date, dt.date],
    currency: str,
    columns: Sequence[str],
    excel: bool = False,
) -> bytes:
    """A Google Ads UI search-terms download: title, date range, header, rows, Total rows; numbers with thousands
    separators and ' --' where the UI shows no value. `excel`: the "Excel CSV" (UTF-16 LE with BOM, tabs)."""
    start, end = period
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t" if excel else ",", lineterminator="\n")
    buffer.write(f"Search terms report\n{start:%B} {start.day}, {start.year} - {end:%B} {end.day}, {end.year}\n")
    writer.writerow(columns)

    def cells(r: dict[str, Any], total: str = "") -> list[str]:
        clicks, impressions, cost, conv = int(r["clicks"]), int(r["impressions"]), float(r["cost"]), r["conversions"]
        values = {
            "Search term": total or r["search_term"],
            "Match type": "--" if total else r.get("match_type", "--"),
            "Added/Excluded": "--" if total else "None",
            "Campaign": "" if total else r.get("campaign", ""),
            "Ad group": "" if total else r.get("ad_group", ""),
            "Keyword": "" if total else r.get("keyword", ""),
            "Campaign type": "--" if total and "Campaign" in columns else r.get("campaign_type", "Search"),
            "Clicks": _ui_number(clicks, 0),
            "Impr.": _ui_number(impressions, 0),
            "CTR": f"{clicks / impressions:.2%}" if impressions else " --",
            "Currency code": currency,
            "Avg. CPC": _ui_number(cost / clicks, 2) if clicks else "0.00",
            "Cost": _ui_number(cost, 2),
            "Conv. rate": f"{conv / clicks:.2%}" if clicks else "0.00%",
            "Conversions": _ui_number(conv, 2),
            "Conv. value": _ui_number(float(r.get("conversion_value", 0.0)), 2),
            "Cost / conv.": _ui_number(cost / conv, 2) if conv else " --",
        }
        return [values[c] for c in columns]

    writer.writerows(cells(row) for row in rows.to_dict("records"))
    total = rows[["clicks", "impressions", "cost", "conversions"]].sum()
    total["conversion_value"] = rows["conversion_value"].sum() if "conversion_value" in rows else 0.0
    label = "Total: Performance Max" if "Campaign" not in columns else "Total: Search terms"
    writer.writerow(cells(total.to_dict(), label))
    writer.writerow(cells(total.to_dict(), "Total: Account"))
    text = buffer.getvalue()
    return ("\ufeff" + text).encode("utf-16-le") if excel else text.encode("utf-8")


SEARCH_COLUMNS = (
    "Search term",
    "Match type",
    "Added/Excluded",
    "Campaign",
    "Ad group",
    "Keyword",
    "Clicks",
    "Impr.",
    "CTR",
    "Currency code",
    "Avg. CPC",
    "Cost",
    "Campaign type",
    "Conv. rate",
    "Conversions",
    "Cost / conv.",
)
MATCH_TYPES = (("Broad match", "{}"), ("Phrase match", '"{}"'), ("Exact match (close variant)", "[{}]"))


def _served_rows(
    queries: Sequence[Query],
    metrics: pd.DataFrame,
    rng: np.random.Generator,
    campaign_of: Callable[[Query], str],
    general: str,
) -> pd.DataFrame:
    """One report row per query (a few in two ad groups), with the ad group and keyword that served it."""
    rows = []
    for q in queries:
        on_offer = q.family.intent == "on_offer"
        core = next((c for c in q.family.cores if c in q.text), q.family.cores[0]) if on_offer else general
        match, pattern = MATCH_TYPES[int(rng.integers(len(MATCH_TYPES)))]
        rows.append(
            {
                "search_term": q.text,
                "campaign": campaign_of(q),
                "ad_group": core.title() if on_offer else f"{general.title()} - General",
                "match_type": match,
                "keyword": pattern.format(core),
            }
        )
    return pd.concat([pd.DataFrame(rows), metrics], axis=1)


def lead_gen(
    seed: int = 7, rows: int = 30_000, today: dt.date = dt.date(2026, 12, 1), *, null: bool = False
) -> Archetype:
    """The high-CPA lead-gen contractor (or, `null`, its queries converting at one uniform rate)."""
    rng = np.random.default_rng(seed)
    competitors = [str(c) for c in rng.choice(COMPETITOR_POOL, size=40, replace=False)]
    phrases = [f"{name} {suffix}" for name in competitors for suffix in ROOFING_SUFFIXES]
    modifiers = [str(m) for m in rng.choice(ROOFING_MODIFIERS, size=16, replace=False)]
    queries = _queries(
        LEAD_GEN_FAMILIES,
        rows,
        rng,
        places=ROOFING_CITIES,
        foreign_places=OUT_OF_AREA_CITIES,
        modifiers=modifiers,
        competitor_phrases=phrases,
    )
    metrics = _performance(queries, rng, base_cvr=0.05, cpc=11.5, uniform_cvr=0.05 if null else None)

    def campaign_of(q: Query) -> str:
        state = "in" if q.place in INDIANA else "oh" if q.place else str(rng.choice(["oh", "in"]))
        return LEAD_GEN_CAMPAIGNS[state]

    report = _served_rows(queries, metrics, rng, campaign_of, "roofing")
    name = "null" if null else "lead-gen"
    return Archetype(
        name,
        f"acme-roofing-{name}",
        "search_terms_report.csv",
        _google_ui_export(report, period=_period(today), currency="USD", columns=SEARCH_COLUMNS),
        LEAD_GEN_PROFILE,
        _labels(queries),
    )


# ---- a multi-location towing and locksmith service, no conversions column ------------------------------

TOWING_CITIES = ("denver", "aurora", "lakewood", "littleton", "boulder", "arvada")
TOWING_OUT_OF_AREA = _cores("colorado springs|pueblo|fort collins|greeley|cheyenne|grand junction|loveland|castle rock")
TOWING_COMPETITORS = _cores(
    "honk|urgently|mile high towing|rocky mountain tow|front range towing|a1 lockout|pop a lock"
)
TOWING_FAMILIES = (
    Family(
        "service",
        "on_offer",
        False,
        _cores(
            "tow truck|towing service|towing company|24 hour towing|roadside assistance|car lockout|locked keys in car"
            "|jump start|flat tire change|emergency towing|flatbed towing|motorcycle towing|cheap towing|car locksmith"
            "|towing near me|lockout service"
        ),
        0.66,
        cvr=1.0,
    ),
    Family(
        "cost research", "informational", False, _cores("towing cost|how much does a tow cost|tow price per mile"), 0.05
    ),
    Family("out of area", "out_of_area", True, _cores("tow truck|towing service|car lockout|towing"), 0.08),
    Family(
        "jobs",
        "jobs",
        True,
        _cores("tow truck driver jobs|towing jobs|tow truck driver salary|locksmith apprenticeship"),
        0.05,
    ),
    Family(
        "diy",
        "diy",
        True,
        _cores("how to tow a car with a rope|tow strap|how to unlock car door with string|jumper cables"),
        0.05,
        places=False,
    ),
    Family(
        "not offered",
        "not_offered",
        True,
        _cores("junk car removal|car rental|house locksmith|tow hitch installation"),
        0.04,
    ),
    Family("competitor", "competitor", True, TOWING_COMPETITORS, 0.05),
    Family(
        "unrelated",
        "adult_unrelated",
        True,
        _cores("tow mater|tow truck toy|towing game"),
        0.02,
        places=False,
    ),
)


def local_no_conversions(seed: int = 7, rows: int = 6_000, today: dt.date = dt.date(2026, 12, 1)) -> Archetype:
    """Towing in six cities, one campaign each; another tool's CSV with no conversions column."""
    rng = np.random.default_rng(seed)
    queries = _queries(
        TOWING_FAMILIES,
        rows,
        rng,
        places=TOWING_CITIES,
        foreign_places=TOWING_OUT_OF_AREA,
        modifiers=_cores("near me|fast|24/7|local|best|open now|emergency|cheap|same day"),
        competitor_phrases=(),
    )
    metrics = _performance(queries, rng, base_cvr=0.1, cpc=6.0, uniform_cvr=None)
    start, end = _period(today)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    buffer.write(f"Search query performance {start.isoformat()} - {end.isoformat()}\n")
    writer.writerow(["Search Query", "Campaign Name", "Ad Group Name", "Impressions", "Clicks", "Spend", "Currency"])
    belongs: dict[str, str] = {}
    for i, q in enumerate(queries):
        served_city = q.place if q.place in TOWING_CITIES else str(rng.choice(TOWING_CITIES))
        # a query naming one served city is often matched by another city's broad keywords
        if q.place in TOWING_CITIES and rng.random() < 0.3:
            served_city = str(rng.choice([c for c in TOWING_CITIES if c != q.place]))
        belongs[q.text] = q.place if q.place in TOWING_CITIES and not q.family.waste else ""
        group = "Lockout" if "lock" in q.text else "Roadside" if "tire" in q.text or "jump" in q.text else "Towing"
        m = metrics.loc[i]
        writer.writerow(
            [
                q.text,
                f"Towing | {served_city.title()}",
                group,
                int(m["impressions"]),
                int(m["clicks"]),
                m["cost"],
                "USD",
            ]
        )
    profile: dict[str, object] = {
        "business": "Towing, roadside assistance and car lockout service in the Denver metro area",
        "offers": ["towing", "roadside assistance", "car lockout", "jump start", "flat tire change"],
        "not_offered": ["junk car removal", "house locksmith", "car rental"],
        "locations": [c.title() for c in TOWING_CITIES],
        "languages": ["en"],
        "brand_terms": ["rapidtow"],
        "competitors": ["honk"],
    }
    return Archetype(
        "local-no-conversions",
        "rapidtow-local",
        "search_queries.csv",
        buffer.getvalue().encode("utf-8"),
        profile,
        _labels(queries, lambda q: belongs[q.text]),
    )


# ---- Performance Max: an outdoor-apparel shop ---------------------------------------------------------

PMAX_FAMILIES = (
    Family(
        "catalogue",
        "on_offer",
        False,
        _cores(
            "rain jacket|fleece jacket|hiking pants|base layer|down jacket|softshell jacket|merino base layer"
            "|insulated vest|waterproof jacket women|mens hiking pants"
        ),
        0.5,
        cvr=1.0,
    ),
    # new product lines: names that look like someone else's brand, and they convert
    Family(
        "new lines", "on_offer", False, _cores("kestrel shell|vireo trail shoe|vireo runner|kestrel jacket"), 0.1, 1.4
    ),
    Family("brand", "brand", False, _cores("northpeak|northpeak jacket|northpeak fleece|northpeak outlet"), 0.08, 2.5),
    Family(
        "existing customer",
        "existing_customer",
        True,
        _cores("northpeak order status|northpeak returns|northpeak customer service|northpeak login"),
        0.03,
    ),
    Family("competitor", "competitor", True, (), 0.06),
    Family("jobs", "jobs", True, _cores("northpeak careers|outdoor retail jobs|northpeak jobs"), 0.02),
    Family("not offered", "not_offered", True, _cores("ski rental|kayak|tent rental|climbing rope"), 0.05),
    Family("diy", "diy", True, _cores("jacket zipper repair|how to wash a down jacket|waterproofing spray"), 0.05),
    Family("free", "free", True, _cores("free jacket giveaway|free hiking gear"), 0.02),
    Family("german", "other_language", True, _cores("regenjacke damen|wanderhose herren|fleecejacke"), 0.03),
)
PMAX_COMPETITORS = _cores(
    "arcwild|summitra|glacierline|timberhawk|alpenfox|ridgewell|boulderco|cascadia gear|fjellmark|redpine"
    "|stormpeak|wolfden|cedar and co|highmoor|trekford|granitewear"
)


def pmax(seed: int = 7, rows: int = 8_000, today: dt.date = dt.date(2026, 12, 1)) -> Archetype:
    """Performance Max search terms (no campaign or ad group columns) as the UI's Excel CSV."""
    rng = np.random.default_rng(seed)
    competitors = [str(c) for c in rng.choice(PMAX_COMPETITORS, size=12, replace=False)]
    products = ("jacket", "fleece", "pants", "vest", "outlet", "sale")
    queries = _queries(
        PMAX_FAMILIES,
        rows,
        rng,
        places=(),
        foreign_places=(),
        modifiers=_cores(
            "womens|mens|sale|best|lightweight|packable|black|navy|green|red|on sale|discount|size guide|review"
            "|xl|small|plus size|tall|kids|for hiking|for travel|waterproof|warm|winter|summer|clearance|near me"
        ),
        competitor_phrases=[f"{c} {p}" for c in competitors for p in products],
    )
    metrics = _performance(queries, rng, base_cvr=0.035, cpc=0.9, uniform_cvr=None)
    frame = pd.DataFrame({"search_term": [q.text for q in queries], **metrics})
    frame["match_type"], frame["campaign_type"] = "--", "Performance Max"
    frame["conversion_value"] = np.round(frame["conversions"] * rng.uniform(60, 180, len(frame)), 2)
    columns = ("Search term", "Match type", "Campaign type", "Clicks", "Impr.", "Currency code", "Cost", "Conversions")
    profile: dict[str, object] = {
        "business": "Online shop for outdoor apparel: jackets, fleece, hiking pants, base layers, trail shoes",
        "offers": ["rain jacket", "fleece jacket", "hiking pants", "base layer", "down jacket", "trail shoes"],
        "not_offered": ["rentals", "kayaks", "climbing gear"],
        "languages": ["en"],
        "brand_terms": ["northpeak"],
        "competitors": competitors[:2],
    }
    return Archetype(
        "pmax",
        "northpeak-pmax",
        "pmax_search_terms.csv",
        _google_ui_export(frame, period=_period(today), currency="USD", columns=(*columns, "Conv. value"), excel=True),
        profile,
        _labels(queries),
    )


# ---- the existing e-commerce sandbox account ----------------------------------------------------------

# the generator's truth -> (intent class, waste)
SANDBOX_WASTE_INTENTS = {
    "jobs": "jobs",
    "free": "free",
    "diy": "diy",
    "competitor": "competitor",
    "wrong_product": "not_offered",
}


def sandbox_labels(truth: pd.DataFrame) -> pd.DataFrame:
    """The generator's planted truth as a specialist's labels; injection queries are `unknown`, not waste."""
    uncovered = {theme.name for theme in UNCOVERED_THEMES}
    intents = [
        "unknown"
        if row.is_injection
        else SANDBOX_WASTE_INTENTS[row.waste_kind]
        if row.is_waste
        else "brand"
        if row.is_brand
        else "competitor"
        if row.theme == "competitor conquest"  # the account bids on competitors' names on purpose
        else "on_offer"
        for row in truth.itertuples()
    ]
    themes = [
        "injection"
        if row.is_injection
        else "uncovered theme"
        if row.theme in uncovered
        else row.waste_kind or row.theme
        for row in truth.itertuples()
    ]
    return pd.DataFrame(
        {
            "search_term": truth["search_term"].to_numpy(),
            "intent": intents,
            "waste": truth["is_waste"].to_numpy(),
            "theme": themes,
            "belongs_to": "",
        }
    )


def ecommerce(
    seed: int = 7, rows: int = 24_000, today: dt.date = dt.date(2026, 12, 1), *, store_dir: Path
) -> Archetype:
    """The sandbox account's search terms as a UI export, with its truth as labels."""
    store = SandboxStore.create(store_dir / "archetype-sandbox.sqlite")
    generate_sandbox(store, seed=seed, rows=rows, today=today)
    account = store.open_account(GOOGLE_ACCOUNT)
    period = account.search_term_period()
    assert period is not None  # the generator always writes search terms
    terms = account.search_terms(period.start, period.end)
    names = {c.id: c.name for c in account.structure().campaigns} | {
        g.id: g.name for g in account.structure().ad_groups
    }
    per_row = (
        terms.groupby(["search_term", "campaign_id", "ad_group_id", "keyword", "match_type"], as_index=False)[
            ["impressions", "clicks", "cost", "conversions", "conversion_value"]
        ]
        .sum()
        .assign(
            campaign=lambda f: f["campaign_id"].map(names),
            ad_group=lambda f: f["ad_group_id"].map(names),
            cost=lambda f: f["cost"] / 1_000_000,
            match_type=lambda f: (
                f["match_type"].map({"exact": "Exact match", "phrase": "Phrase match"}).fillna("Broad match")
            ),
        )
    )
    labels = sandbox_labels(store.ground_truth(GOOGLE_ACCOUNT))
    offers = [g.name.lower() for c in CAMPAIGNS if c.kind == "generic" for g in c.ad_groups]
    profile: dict[str, object] = {
        "business": "Outdoor gear shop: hiking boots, tents, backpacks, outdoor clothing",
        "offers": offers,
        "not_offered": ["rental", "dog", "leaf blower", "sprayer", "wedding", "party"],
        "languages": ["en"],
        "brand_terms": list(BRAND_TERMS),
    }
    return Archetype(
        "ecommerce",
        "trailhead-export",
        "search_terms_report.csv",
        _google_ui_export(
            per_row,
            period=(period.start, period.end),
            currency="USD",
            columns=(*SEARCH_COLUMNS[:-1], "Conv. value", "Cost / conv."),
        ),
        profile,
        labels[labels["search_term"].isin(terms["search_term"])],
    )


DEFAULT_ROWS = {"lead-gen": 30_000, "null": 30_000, "local-no-conversions": 6_000, "pmax": 8_000, "ecommerce": 24_000}


KIT_SPECS: dict[str, Callable[[], KitSpec]] = {
    "lead-gen": roofing_spec,
    "null": roofing_spec,
    "local-no-conversions": towing_spec,
    "pmax": apparel_spec,
    "ecommerce": trailhead_spec,
}


def generate_archetype(name: str, *, seed: int, rows: int | None, today: dt.date, work_dir: Path) -> Archetype:
    """The archetype `name` (one of ARCHETYPES), with its brand kit; `rows` None takes its usual size."""
    if name not in DEFAULT_ROWS:
        raise ValueError(f"unknown archetype '{name}'; one of {', '.join(ARCHETYPES)}")
    size = rows or DEFAULT_ROWS[name]
    if name in {"lead-gen", "null"}:
        archetype = lead_gen(seed, size, today, null=name == "null")
    elif name == "local-no-conversions":
        archetype = local_no_conversions(seed, size, today)
    elif name == "pmax":
        archetype = pmax(seed, size, today)
    else:
        archetype = ecommerce(seed, size, today, store_dir=work_dir)
    # A kit of its own seed stream: the export and labels stay what they were before kits.
    return replace(archetype, brand_kit=kit_files(KIT_SPECS[name](), np.random.default_rng([seed, 1])))
