"""Negatives that send a query where it belongs, rather than cut it: the basis of each is `routing`.

A specialist reads a search-term report for queries served in the wrong place, not only for waste:
- **sculpting**: a query served by an ad group other than the one whose keywords fit it best (the keyword that
  holds most of the query's words, exact before phrase before broad, matched by `ads.keyword_matching`) gets an
  exact negative in the serving ad group, so the better ad group serves it. Only when a keyword of the serving ad
  group also holds the query (else Google matched it by meaning, and how well it fits there is unknown), the
  better ad group is live, in a campaign of the same channel and not for another city, none of the account's
  negatives stops the query there, the query reads as on-offer or unknown (waste is `tools.negatives`' business)
  and it converted nothing where it ran;
- **geo campaigns**: a query naming a served city (profile `locations`, `data/gazetteer.yaml`) that ran in the
  campaign for another served city (campaigns named after a city) gets a phrase negative of the city in that
  campaign, or exact negatives of the queries when the phrase would block something it must not;
- **brand out of generic campaigns**, when the profile sets `brand_in_generic: false` and a live brand campaign
  exists: phrase negatives of the brand as people typed it (misspellings and spacing variants included,
  `ads.name_matching`) in each non-brand campaign that served brand queries;
- **consistency**: a campaign or shared-list negative whose queries are off-offer (not on-offer, not brand, by
  `tools.query_intent`) that already excludes them in some campaigns while they spend in others is proposed for
  those others, naming the campaigns that have it.

Safety, as for every negative: nothing proposed blocks a query that converted where the negative goes, the text
of a keyword of that campaign (or a plural/singular variant of one) or a brand term (outside the brand rule).
Each rationale states what the report shows for the period it covers. All work is on distinct query texts and
grouped frames, so a report of 300k distinct terms takes seconds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from ads.account_plan import AdvertiserProfile
from ads.changes import AddNegativeKeywords, Evidence, NegativeBasis, NegativeSpec, QueryEvidence
from ads.entities import AccountStructure, MatchType, ReportPeriod, Status
from ads.keyword_matching import KeywordMatcher, normalise, tokens
from ads.name_matching import NameMatcher
from tools.advertiser_profile import campaign_kind
from tools.negatives import blocked_metrics, search_term_rows
from tools.query_intent import Intent, IntentClassification, Place, find_phrases, load_gazetteer

# How tightly a keyword holds a query, after how many of its words it holds.
MATCH_TIGHTNESS = {MatchType.EXACT: 3, MatchType.PHRASE: 2, MatchType.BROAD: 1}
# Intent classes a consistent exclusion may rest on: anything a specialist would not route elsewhere.
NOT_EXCLUDABLE = frozenset({Intent.ON_OFFER.value, Intent.BRAND.value})


class RoutingSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_clicks: int = Field(
        default=1, ge=0, description="A query is routed once it took this many clicks where it ran."
    )
    max_keywords_per_change: int = Field(default=100, ge=1, description="The costliest ones are kept.")
    max_blocks_listed: int = Field(default=20, ge=1)


@dataclass
class _Proposal:
    level: str  # "campaign" or "ad_group"
    target_id: str
    text: str
    match_type: MatchType
    text_ids: np.ndarray  # the query texts it blocks where it goes
    note: str  # what the data shows, for the rationale
    intent: str | None = None


class _Report:
    """The report's rows per (query text, campaign, ad group), the account's live entities, and safety checks."""

    def __init__(
        self,
        terms: pd.DataFrame,
        structure: AccountStructure,
        intents: IntentClassification,
        profile: AdvertiserProfile | None,
    ) -> None:
        rows = search_term_rows(terms)
        term_codes, distinct = pd.factorize(rows["search_term"])
        words_of = [tokens(t) for t in distinct]
        texts, text_codes = np.unique(np.array([" ".join(w) for w in words_of], dtype=object), return_inverse=True)
        rows["text_id"] = text_codes[term_codes]
        rows = rows[texts[rows["text_id"].to_numpy()] != ""]
        self.texts = pd.Index(texts)
        self.text = texts
        self.words: list[frozenset[str]] = [frozenset(t.split()) for t in texts.tolist()]
        metrics = ["impressions", "clicks", "cost", "conversions"]
        keys = rows[["text_id", "campaign_id", "ad_group_id"]].astype(
            {"campaign_id": "category", "ad_group_id": "category"}
        )
        grouped = rows[metrics].groupby([keys["text_id"], keys["campaign_id"], keys["ad_group_id"]], observed=True)
        self.served = grouped.sum().reset_index().astype({"campaign_id": str, "ad_group_id": str})
        self.by_campaign = self.served.groupby(["text_id", "campaign_id"], as_index=False, sort=False)[metrics].sum()
        intent_of = intents.intents.drop_duplicates("search_term").set_index("search_term")["intent"]
        self.intent = np.full(len(texts), Intent.UNKNOWN.value, dtype=object)
        self.intent[text_codes] = intent_of.reindex(distinct).fillna(Intent.UNKNOWN.value).to_numpy()

        self.structure = structure
        self.campaigns = {c.id: c for c in structure.campaigns}
        self.groups = {g.id: g for g in structure.ad_groups}
        live_campaigns = {c.id for c in structure.campaigns if c.status is Status.ENABLED}
        self.live_groups = {
            g.id for g in structure.ad_groups if g.status is Status.ENABLED and g.campaign_id in live_campaigns
        }
        self.live_campaigns = {self.groups[g].campaign_id for g in self.live_groups}
        self.keywords = [
            k for k in structure.keywords if k.status is Status.ENABLED and k.ad_group_id in self.live_groups
        ]
        self.brand_terms = tuple(
            profile.brand_terms if profile and profile.brand_terms else structure.account.brand_terms
        )
        self.brand = NameMatcher(self.brand_terms)
        self.money = structure.account.money
        self.served_places = _served_places(profile)
        self.cities = _campaign_cities(self)
        self.existing = {(n.level, n.owner_id, normalise(n.text), n.match_type) for n in structure.negatives}

    def holding_any(self, text_ids: np.ndarray, phrases: Iterable[str]) -> np.ndarray:
        """The texts of `text_ids` that hold a word of `phrases`: a cheap cut before the matcher."""
        needed = {w for phrase in phrases for w in tokens(phrase)}
        return text_ids[[not needed.isdisjoint(self.words[t]) for t in text_ids.tolist()]]

    def text_list(self, text_ids: np.ndarray | pd.Series) -> list[str]:
        return self.text[np.asarray(text_ids, dtype=np.int64)].tolist()

    def campaign_name(self, campaign_id: str) -> str:
        campaign = self.campaigns.get(campaign_id)
        return campaign.name if campaign else campaign_id

    def group_name(self, group_id: str) -> str:
        group = self.groups.get(group_id)
        return group.name if group else group_id

    def channel(self, campaign_id: str) -> str | None:
        campaign = self.campaigns.get(campaign_id)
        return campaign.channel if campaign else None

    def keyword_texts(self, campaign_id: str) -> list[str]:
        return [k.text for k in self.keywords if self.groups[k.ad_group_id].campaign_id == campaign_id]

    def safe(
        self, negatives: Sequence[tuple[str, MatchType]], campaign_id: str, *, brand_ok: bool = False
    ) -> np.ndarray:
        """Per negative: it blocks no keyword of the campaign (nor a plural/singular of one) and no brand term."""
        protected = self.keyword_texts(campaign_id) + ([] if brand_ok else list(self.brand_terms))
        unsafe = np.zeros(len(negatives), dtype=bool)
        if protected and negatives:
            for negative in (True, False):
                unsafe[KeywordMatcher(negatives, negative=negative).pairs(protected)[1]] = True
        if not brand_ok and self.brand_terms:
            named = self.brand.find_all([tokens(text) for text, _ in negatives])
            unsafe |= np.array([found is not None for found in named], dtype=bool)
        return ~unsafe

    def excluded(self, text_ids: np.ndarray) -> set[tuple[int, str]]:
        """(text id, ad group id) pairs where the account's own negatives already stop the query."""
        negatives = self.structure.negatives
        if not negatives or not text_ids.size:
            return set()
        lists = {s.id: set(s.campaign_ids) for s in self.structure.shared_lists}
        groups_of: dict[str, list[str]] = defaultdict(list)
        for group in self.structure.ad_groups:
            groups_of[group.campaign_id].append(group.id)
        reach = [
            [n.owner_id]
            if n.level == "ad_group"
            else groups_of[n.owner_id]
            if n.level == "campaign"
            else [g for c in lists.get(n.owner_id, ()) for g in groups_of[c]]
            for n in negatives
        ]
        matcher = KeywordMatcher([(n.text, n.match_type) for n in negatives], negative=True)
        query_index, negative_index = matcher.pairs(self.text_list(text_ids))
        return {
            (int(text_ids[q]), group) for q, n in zip(query_index, negative_index, strict=True) for group in reach[n]
        }

    def query_evidence(self, frame: pd.DataFrame, limit: int) -> tuple[QueryEvidence, ...]:
        top = frame.sort_values(["cost", "clicks"], ascending=False, kind="stable").head(limit)
        return tuple(
            QueryEvidence(
                search_term=self.text[row.text_id],
                clicks=int(row.clicks),
                impressions=int(row.impressions),
                cost=int(row.cost),
                conversions=float(row.conversions),
            )
            for row in top.itertuples(index=False)
        )


def route_negatives(
    terms: pd.DataFrame,
    structure: AccountStructure,
    intents: IntentClassification,
    *,
    profile: AdvertiserProfile | None = None,
    period: ReportPeriod | None = None,
    settings: RoutingSettings | None = None,
) -> list[AddNegativeKeywords]:
    """Routing negatives (sculpting, geo, brand out of generic, consistency), one change per rule and target."""
    settings = settings or RoutingSettings()
    report = _Report(terms, structure, intents, profile)
    if report.served.empty:
        return []
    changes = []
    for rule, proposals in (
        ("sculpt", _sculpt(report, settings)),
        ("geo", _geo(report, profile, settings)),
        ("brand", _brand_out_of_generic(report, profile)),
        ("consistency", _consistency(report)),
    ):
        changes.extend(_changes(report, rule, proposals, period, settings))
    return sorted(changes, key=lambda c: (-c.evidence.metrics["cost"], c.target_id, c.rationale))


# ---- sculpting ----------------------------------------------------------------------------------


def _fit(report: _Report, text_ids: np.ndarray) -> pd.DataFrame:
    """(text_id, ad_group_id, fit, keyword) for every live ad group a keyword of which matches the query."""
    keywords = report.keywords
    matcher = KeywordMatcher([(k.text, k.match_type) for k in keywords], negative=False)
    query_index, keyword_index = matcher.pairs(report.text_list(text_ids))
    fit = np.array([4 * len(tokens(k.text)) + MATCH_TIGHTNESS[k.match_type] for k in keywords], dtype=np.int64)
    pairs = pd.DataFrame(
        {
            "text_id": text_ids[query_index],
            "ad_group_id": np.array([k.ad_group_id for k in keywords], dtype=object)[keyword_index],
            "fit": fit[keyword_index],
            "keyword": np.array([_label(k.text, k.match_type) for k in keywords], dtype=object)[keyword_index],
        }
    )
    return pairs.sort_values("fit", ascending=False, kind="stable").drop_duplicates(["text_id", "ad_group_id"])


def _sculpt(report: _Report, settings: RoutingSettings) -> list[_Proposal]:
    served = report.served[report.served["clicks"] >= max(settings.min_clicks, 0)]
    if served.empty or not report.keywords:
        return []
    fits = _fit(report, np.unique(served["text_id"].to_numpy()))
    ranked = fits.groupby("text_id", sort=False)
    best = ranked.head(1).set_index("text_id")
    runner_up = ranked.nth(1).set_index("text_id")["fit"]
    best = best[best["fit"] > runner_up.reindex(best.index).fillna(-1)]  # one ad group fits best, no tie
    frame = served.merge(fits[["text_id", "ad_group_id", "fit"]], on=["text_id", "ad_group_id"], how="left")
    # Where none of the serving ad group's keywords holds the query, Google matched it by meaning (broad match,
    # misspellings): how well it fits there is unknown, so it is not moved.
    frame = frame[frame["fit"].notna()]
    frame = frame.join(best.add_prefix("best_"), on="text_id", how="inner")
    frame = frame[(frame["best_ad_group_id"] != frame["ad_group_id"]) & (frame["best_fit"] > frame["fit"])]
    # Only queries worth serving are routed: off-offer ones are waste, the brand has its own rule.
    worth = np.isin(report.intent[frame["text_id"].to_numpy()], [Intent.ON_OFFER.value, Intent.UNKNOWN.value])
    frame = frame[(frame["conversions"] <= 0).to_numpy() & worth]
    if frame.empty:
        return []
    stopped = report.excluded(np.unique(frame["text_id"].to_numpy()))
    frame = frame[[(t, g) not in stopped for t, g in zip(frame["text_id"], frame["best_ad_group_id"], strict=True)]]
    best_campaign = frame["best_ad_group_id"].map({g: group.campaign_id for g, group in report.groups.items()})
    same_channel = [
        report.channel(a) == report.channel(b) for a, b in zip(frame["campaign_id"], best_campaign, strict=True)
    ]
    cities = report.cities
    same_area = [cities.get(a) == cities.get(b) for a, b in zip(frame["campaign_id"], best_campaign, strict=True)]
    frame = frame.assign(best_campaign_id=best_campaign.to_numpy())[np.array(same_channel) & np.array(same_area)]
    there = report.served[["text_id", "ad_group_id", "clicks", "conversions"]].rename(
        columns={"ad_group_id": "best_ad_group_id", "clicks": "clicks_there", "conversions": "conversions_there"}
    )
    frame = frame.merge(there, on=["text_id", "best_ad_group_id"], how="left")
    proposals = []
    for (group_id, campaign_id), rows in frame.groupby(["ad_group_id", "campaign_id"], sort=False):
        negatives = [(text, MatchType.EXACT) for text in report.text_list(rows["text_id"])]
        safe = report.safe(negatives, str(campaign_id))
        for row, (text, _), ok in zip(rows.itertuples(index=False), negatives, safe, strict=True):
            if not ok:
                continue
            target = str(row.best_ad_group_id)
            did_there = (
                f"{int(row.clicks_there)} clicks and {row.conversions_there:g} conversions there"
                if not pd.isna(row.clicks_there)
                else "it did not run there in the period"
            )
            where = (
                f"ad group '{report.group_name(target)}'"
                if report.groups[target].campaign_id == campaign_id
                else f"ad group '{report.group_name(target)}' of campaign "
                f"'{report.campaign_name(row.best_campaign_id)}'"
            )
            proposals.append(
                _Proposal(
                    "ad_group",
                    str(group_id),
                    text,
                    MatchType.EXACT,
                    np.array([row.text_id]),
                    f"[{text}]: {int(row.clicks)} clicks, {report.money(int(row.cost))}, no conversion in "
                    f"'{report.group_name(str(group_id))}'; {where} holds the closer keyword {row.best_keyword} "
                    f"({did_there})",
                    str(report.intent[row.text_id]),
                )
            )
    return proposals


# ---- geo campaigns ------------------------------------------------------------------------------


def _served_places(profile: AdvertiserProfile | None) -> dict[tuple[str, ...], Place]:
    """The gazetteer's phrases of the profile's served locations (the location's own words when it is unknown)."""
    gazetteer = load_gazetteer()
    served: dict[tuple[str, ...], Place] = {}
    for location in profile.locations if profile else ():
        words = tokens(location)
        place = gazetteer.get(words) or next((gazetteer[p] for _, p in find_phrases(words, gazetteer)), None)
        served.update({p: v for p, v in gazetteer.items() if place and v == place} or {words: Place(location, "", "")})
    return served


def _places_named(texts: Iterable[str], served: dict[tuple[str, ...], Place]) -> list[set[str]]:
    words_of_places = {w for phrase in served for w in phrase}
    lengths = sorted({len(p) for p in served}, reverse=True)
    named: list[set[str]] = []
    for text in texts:
        words = tokens(text)
        if words_of_places.isdisjoint(words):
            named.append(set())
        else:
            named.append({served[p].name for _, p in find_phrases(words, served, lengths)})
    return named


def _campaign_cities(report: _Report) -> dict[str, str]:
    """Campaign id -> the one served place its name names (campaigns naming none or several are left out)."""
    campaigns = report.structure.campaigns
    found = _places_named([c.name for c in campaigns], report.served_places)
    return {c.id: next(iter(places)) for c, places in zip(campaigns, found, strict=True) if len(places) == 1}


def _geo(report: _Report, profile: AdvertiserProfile | None, settings: RoutingSettings) -> list[_Proposal]:
    served = report.served_places
    cities = report.cities
    if len(set(cities.values())) < 2:
        return []
    home_of = defaultdict(list)
    for campaign_id, city in cities.items():
        if campaign_id in report.live_campaigns:
            home_of[city].append(campaign_id)
    rows = report.by_campaign
    named = _places_named([str(t) for t in report.texts], served)
    phrase_of = {place.name: " ".join(p) for p, place in sorted(served.items(), key=lambda item: len(item[0]))}
    proposals = []
    for campaign_id, city in cities.items():
        here = rows[rows["campaign_id"] == campaign_id]
        if here.empty:
            continue
        names = [named[t] for t in here["text_id"]]
        for other in sorted({n for places in names for n in places} - {city}):
            homes = [c for c in home_of.get(other, []) if report.channel(c) == report.channel(campaign_id)]
            if not homes:
                continue
            naming = np.array([places == {other} for places in names])
            wrong = here[naming & (here["clicks"].to_numpy() >= settings.min_clicks)]
            if wrong.empty or wrong["cost"].sum() <= 0:
                continue
            home = report.campaign_name(homes[0])
            # The city's phrase is the cleanest cut, unless it would block what must stay: a conversion, a query
            # that also names this campaign's city, a keyword or the brand.
            phrase = phrase_of[other]
            blocked = here[[other in places for places in names]]
            phrase_ok = (
                blocked["conversions"].sum() <= 0
                and not any(len(named[t]) > 1 for t in blocked["text_id"])
                and bool(report.safe([(phrase, MatchType.PHRASE)], campaign_id)[0])
            )
            note = (
                f"{len(wrong)} search term(s) naming {other} cost {report.money(int(wrong['cost'].sum()))} in campaign "
                f"'{report.campaign_name(campaign_id)}' (for {city}); campaign '{home}' serves {other}"
            )
            if phrase_ok:
                proposals.append(
                    _Proposal("campaign", campaign_id, phrase, MatchType.PHRASE, blocked["text_id"].to_numpy(), note)
                )
                continue
            wrong = wrong[wrong["conversions"] <= 0]
            negatives = [(text, MatchType.EXACT) for text in report.text_list(wrong["text_id"])]
            for (text, match_type), text_id, ok in zip(
                negatives, wrong["text_id"], report.safe(negatives, campaign_id), strict=True
            ):
                if ok:
                    proposals.append(_Proposal("campaign", campaign_id, text, match_type, np.array([text_id]), note))
    return proposals


# ---- the brand out of generic campaigns ---------------------------------------------------------


def _brand_out_of_generic(report: _Report, profile: AdvertiserProfile | None) -> list[_Proposal]:
    if profile is None or profile.brand_in_generic or not report.brand_terms:
        return []
    kind = {c.id: campaign_kind(c) for c in report.structure.campaigns}
    brand_channels = {report.channel(c) for c in report.live_campaigns if kind[c] == "brand"}
    generic = {c for c in report.live_campaigns if kind.get(c) != "brand" and report.channel(c) in brand_channels}
    rows = report.by_campaign[report.by_campaign["campaign_id"].isin(generic)]
    if profile.brand_terms:  # the intent classifier has already found the brand, variants included
        rows = rows[report.intent[rows["text_id"].to_numpy()] == Intent.BRAND.value]
    if rows.empty:
        return []
    text_ids = np.unique(rows["text_id"].to_numpy())
    found = report.brand.find_all([tokens(text) for text in report.text_list(text_ids)])
    name_of = {match.text: match.name for match in found if match is not None}  # as typed -> the brand term
    if not name_of:
        return []
    negatives = [(variant, MatchType.PHRASE) for variant in sorted(name_of)]
    text_ids = report.holding_any(text_ids, name_of)
    query_index, negative_index = KeywordMatcher(negatives, negative=True).pairs(report.text_list(text_ids))
    hits = rows.merge(pd.DataFrame({"text_id": text_ids[query_index], "negative": negative_index}), on="text_id")
    brand_campaigns = ", ".join(
        f"'{report.campaign_name(c)}'" for c in sorted(report.live_campaigns) if kind[c] == "brand"
    )
    safe: dict[str, np.ndarray] = {}
    proposals = []
    for (index, campaign_id), blocked in hits.groupby(["negative", "campaign_id"], sort=True):
        variant, match_type = negatives[int(index)]
        if str(campaign_id) not in safe:
            safe[str(campaign_id)] = report.safe(negatives, str(campaign_id), brand_ok=True)
        if not safe[str(campaign_id)][int(index)] or blocked["conversions"].sum() > 0:
            continue
        name = name_of[variant]
        how = "the brand" if variant == normalise(name) else f'a variant of the brand "{name}"'
        proposals.append(
            _Proposal(
                "campaign",
                str(campaign_id),
                variant,
                match_type,
                blocked["text_id"].to_numpy(),
                f'"{variant}" ({how}): {len(blocked)} search term(s) cost '
                f"{report.money(int(blocked['cost'].sum()))} "
                f"in campaign '{report.campaign_name(str(campaign_id))}', a non-brand campaign; the profile keeps "
                f"the brand out of generic campaigns and {brand_campaigns} serves it",
                Intent.BRAND.value,
            )
        )
    return proposals


# ---- consistency across campaigns ---------------------------------------------------------------


def _consistency(report: _Report) -> list[_Proposal]:
    lists = {s.id: s for s in report.structure.shared_lists}
    covered: dict[tuple[str, MatchType], set[str]] = defaultdict(set)  # the campaigns each exclusion reaches
    sources: dict[tuple[str, MatchType], set[str]] = defaultdict(set)  # and how: campaign negatives, a list
    for negative in report.structure.negatives:
        key = (normalise(negative.text), negative.match_type)
        if negative.match_type is MatchType.BROAD or negative.level == "ad_group" or not key[0]:
            continue
        if negative.level == "campaign":
            covered[key].add(negative.owner_id)
            sources[key].add("campaign negatives")
        elif (shared := lists.get(negative.owner_id)) and shared.campaign_ids:
            covered[key].update(shared.campaign_ids)
            sources[key].add(f"shared list '{shared.name}'")
    negatives = [
        (text, match_type, frozenset(covered[text, match_type]), " and ".join(sorted(sources[text, match_type])))
        for text, match_type in covered
    ]
    if not negatives:
        return []
    rows = report.by_campaign[report.by_campaign["campaign_id"].isin(report.live_campaigns)]
    rows = rows[rows["cost"] > 0]
    text_ids = report.holding_any(np.unique(rows["text_id"].to_numpy()), [text for text, _, _, _ in negatives])
    matcher = KeywordMatcher([(text, match_type) for text, match_type, _, _ in negatives], negative=True)
    query_index, negative_index = matcher.pairs(report.text_list(text_ids))
    pairs = pd.DataFrame({"text_id": text_ids[query_index], "negative": negative_index})
    hits = rows.merge(pairs, on="text_id")
    proposals = []
    for (index, campaign_id), blocked in hits.groupby(["negative", "campaign_id"], sort=True):
        text, match_type, reach, where = negatives[int(index)]
        channels = {report.channel(c) for c in reach}
        if campaign_id in reach or report.channel(str(campaign_id)) not in channels:
            continue
        if blocked["conversions"].sum() > 0 or not report.safe([(text, match_type)], str(campaign_id))[0]:
            continue
        by_intent = (
            pd.Series(blocked["cost"].to_numpy(), index=report.intent[blocked["text_id"]]).groupby(level=0).sum()
        )
        intent = str(by_intent.idxmax())
        if intent in NOT_EXCLUDABLE:
            continue  # an on-offer exclusion elsewhere is sculpting there, not waste here
        names = ", ".join(f"'{report.campaign_name(c)}'" for c in sorted(reach))
        proposals.append(
            _Proposal(
                "campaign",
                str(campaign_id),
                text,
                match_type,
                blocked["text_id"].to_numpy(),
                f"{_label(text, match_type)} already excludes these searches in {names} ({where}); in campaign "
                f"'{report.campaign_name(str(campaign_id))}' {len(blocked)} search term(s) it would block cost "
                f"{report.money(int(blocked['cost'].sum()))} with no conversion (intent: {intent.replace('_', ' ')})",
                intent,
            )
        )
    return proposals


# ---- changes ------------------------------------------------------------------------------------

RULE_PURPOSE = {
    "sculpt": "so that the ad group whose keywords fit these searches best serves them",
    "geo": "so that each city's campaign serves the searches naming its city",
    "brand": "to keep the brand in the brand campaign",
    "consistency": "to exclude here what other campaigns already exclude",
}


def _changes(
    report: _Report, rule: str, proposals: list[_Proposal], period: ReportPeriod | None, settings: RoutingSettings
) -> list[AddNegativeKeywords]:
    per_target: dict[tuple[str, str], list[_Proposal]] = defaultdict(list)
    for proposal in proposals:
        owner = proposal.target_id
        if (proposal.level, owner, proposal.text, proposal.match_type) in report.existing:
            continue
        if all(
            (p.text, p.match_type) != (proposal.text, proposal.match_type) for p in per_target[proposal.level, owner]
        ):
            per_target[proposal.level, owner].append(proposal)
    source = report.served if rule == "sculpt" else report.by_campaign
    key = "ad_group_id" if rule == "sculpt" else "campaign_id"
    when = f" between {period.start} and {period.end}" if period else ""
    changes = []
    for (level, target_id), chosen in per_target.items():
        here = source[source[key] == target_id]
        specs, notes, costs = [], [], []
        for proposal in chosen:
            blocked = here[here["text_id"].isin(proposal.text_ids)]
            cost = int(blocked["cost"].sum())
            specs.append(
                NegativeSpec(
                    text=proposal.text,
                    match_type=proposal.match_type,
                    basis=NegativeBasis.ROUTING,
                    intent=proposal.intent,
                    blocks=report.query_evidence(blocked, settings.max_blocks_listed),
                )
            )
            notes.append(proposal.note)
            costs.append(cost)
        order = sorted(range(len(specs)), key=lambda i: -costs[i])[: settings.max_keywords_per_change]
        specs = [specs[i] for i in order]
        everything = here[here["text_id"].isin(np.unique(np.concatenate([p.text_ids for p in chosen])))]
        metrics = blocked_metrics(len(specs), everything)
        target_name = report.group_name(target_id) if level == "ad_group" else report.campaign_name(target_id)
        shown = "; ".join(dict.fromkeys(notes[i] for i in order[:3]))
        more = f" ({len(specs) - 3} more)" if len(specs) > 3 else ""
        changes.append(
            AddNegativeKeywords(
                account=report.structure.account.name,
                level="ad_group" if level == "ad_group" else "campaign",
                target_id=target_id,
                target_name=target_name,
                keywords=tuple(specs),
                rationale=(
                    f"Add {len(specs)} negative keyword(s) to {level.replace('_', ' ')} '{target_name}' "
                    f"{RULE_PURPOSE[rule]}. In the report{when}: {shown}{more}. None of them blocks a search term "
                    "that converted here" + ("" if rule == "brand" else ", a brand term") + " or a keyword here."
                ),
                evidence=Evidence(
                    period_start=period.start.isoformat() if period else None,
                    period_end=period.end.isoformat() if period else None,
                    metrics=metrics,
                    queries=report.query_evidence(everything, settings.max_blocks_listed),
                ),
            )
        )
    return changes


def _label(text: str, match_type: MatchType) -> str:
    return (
        f"[{text}]"
        if match_type is MatchType.EXACT
        else f'"{text}"'
        if match_type is MatchType.PHRASE
        else f"{text} (broad)"
    )
