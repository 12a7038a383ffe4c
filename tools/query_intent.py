"""The intent of every search query, judged the way a specialist would: against the advertiser's profile.

Each distinct search term gets one `Intent`, a confidence (0-1) and a reason a person can check. The first
rule that holds decides, in this order:

1. a reusable negative theme (`data/intent_lexicons.yaml`: jobs, adult or unrelated, free, DIY, existing
   customer, renter, informational; parts and materials count as DIY for a service business), a weak cue
   yielding to any later rule that decides, matched on whole tokens (`ads.keyword_matching.tokens`) or, in
   German, as the end of a compound; a cue that is part of one of the advertiser's offers is ignored;
2. something the profile says the business does not offer (`not_offered`);
3. another language than the profile's `languages` (stop words and lexicon cues as data, else how common
   the word is in each language, from wordfreq);
4. a place outside the profile's `locations` (`data/gazetteer.yaml`);
5. the advertiser's brand, misspellings and spacing variants included (rapidfuzz);
6. a competitor: the profile's seed list, and brand-like words inferred from the queries;
7. an offer, by the share of the offer's words the query holds and by character n-gram TF-IDF
   similarity (or MiniLM sentence embeddings, when asked for and installed);
8. `unknown` otherwise.

Pure: DataFrames and models in and out, no I/O beyond reading the packaged data once.
"""

from __future__ import annotations

import bisect
import functools
import importlib.resources
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict
from rapidfuzz import fuzz
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from ads.account_plan import AdvertiserProfile
from ads.keyword_matching import close_variant, tokens
from ads.name_matching import COMMON_WORD_ZIPF, NameMatch, NameMatcher, is_common_word, word_frequency


class Intent(StrEnum):
    ON_OFFER = "on_offer"
    BRAND = "brand"
    COMPETITOR = "competitor"
    JOBS = "jobs"
    FREE = "free"
    DIY = "diy"
    INFORMATIONAL = "informational"
    NOT_OFFERED = "not_offered"
    OUT_OF_AREA = "out_of_area"
    OTHER_LANGUAGE = "other_language"
    EXISTING_CUSTOMER = "existing_customer"
    RENTER = "renter"
    ADULT_UNRELATED = "adult_unrelated"
    UNKNOWN = "unknown"


# Lexicon themes in the order they win when a query holds cues of several ("how to become a roofer": jobs).
THEME_ORDER: tuple[Intent, ...] = (
    Intent.JOBS,
    Intent.ADULT_UNRELATED,
    Intent.FREE,
    Intent.DIY,
    Intent.EXISTING_CUSTOMER,
    Intent.RENTER,
    Intent.INFORMATIONAL,
)
MAX_NAME_HEADS = 3  # category words an ordinary-word rival's name goes before ("roofing", "roofers", "exteriors")
STRONG_CUE = 0.65  # the lexicons' weak cues sit at 0.5-0.6
OFFER_THRESHOLD = {"tfidf": 0.45, "embeddings": 0.55}
NO_PROFILE_NOTICE = (
    "no advertiser profile for this account: only the reusable lexicons were used, so on-offer, brand, "
    "competitor, location and language judgments are missing (draft one with `adpilot profile infer`)"
)

Phrase = tuple[str, ...]


@dataclass(frozen=True)
class Cue:
    theme: Intent
    language: str
    text: str
    confidence: float


@dataclass(frozen=True)
class Lexicons:
    version: int
    cues: dict[Phrase, list[Cue]]
    unless: dict[Intent, frozenset[Phrase]]
    service_unless: dict[Intent, frozenset[Phrase]]  # exceptions for a service business only ("hiring a")
    compound_heads: list[tuple[str, Cue]]
    service_cues: dict[Phrase, list[Cue]]  # strong for a service business (`is_service_business`), else weak
    service_words: frozenset[str]
    business_markers: tuple[Phrase, ...]  # words after a category word that make the words before it a name
    service_business_markers: tuple[Phrase, ...]  # the same, for a service business only ("reviews")
    weak_confidence: dict[Intent, float]
    vocabulary: dict[str, frozenset[str]]  # language -> its function, common and cue words
    function_words: frozenset[str]  # of every language


@dataclass(frozen=True)
class Place:
    name: str
    region: str
    country: str
    abbreviation: bool = False


def _data(name: str) -> Any:
    return yaml.safe_load(importlib.resources.files("tools").joinpath("data", name).read_text(encoding="utf-8"))


@functools.cache
def load_lexicons() -> Lexicons:
    data = _data("intent_lexicons.yaml")
    cues: dict[Phrase, list[Cue]] = defaultdict(list)
    unless: dict[Intent, frozenset[Phrase]] = {}
    service_unless: dict[Intent, frozenset[Phrase]] = {}
    heads: list[tuple[str, Cue]] = []
    service_cues: dict[Phrase, list[Cue]] = defaultdict(list)
    vocabulary: dict[str, set[str]] = defaultdict(set)
    for key in ("function_words", "common_words"):
        for language, words in data[key].items():
            for word in words:
                vocabulary[language].update(tokens(word))
    function_words = frozenset(w for words in data["function_words"].values() for text in words for w in tokens(text))
    for name, theme in data["themes"].items():
        intent = Intent(name)
        for key, confidence in (("cues", theme["confidence"]), ("weak", theme["weak_confidence"])):
            for language, texts in (theme.get(key) or {}).items():
                for text in texts:
                    cues[tokens(text)].append(Cue(intent, language, text, confidence))
                    vocabulary[language].update(tokens(text))
        for language, texts in (theme.get("service_cues") or {}).items():
            for text in texts:
                service_cues[tokens(text)].append(Cue(intent, language, text, theme["confidence"]))
                vocabulary[language].update(tokens(text))
        unless[intent] = frozenset(tokens(text) for texts in (theme.get("unless") or {}).values() for text in texts)
        service_unless[intent] = frozenset(
            tokens(text) for texts in (theme.get("service_unless") or {}).values() for text in texts
        )
        for language, texts in (theme.get("compound_heads") or {}).items():
            heads.extend((tokens(text)[0], Cue(intent, language, text, theme["confidence"])) for text in texts)
    return Lexicons(
        version=int(data["version"]),
        cues=dict(cues),
        unless=unless,
        service_unless=service_unless,
        compound_heads=heads,
        service_cues=dict(service_cues),
        business_markers=tuple(tokens(t) for texts in data["business_markers"].values() for t in texts),
        service_business_markers=tuple(tokens(t) for texts in data["service_business_markers"].values() for t in texts),
        weak_confidence={Intent(name): theme["weak_confidence"] for name, theme in data["themes"].items()},
        service_words=frozenset(w for words in data["service_words"].values() for text in words for w in tokens(text)),
        vocabulary={language: frozenset(words) for language, words in vocabulary.items()},
        function_words=function_words,
    )


def is_service_business(profile: AdvertiserProfile) -> bool:
    """Whether most of the profile's offers are services ("roof repair", "towing"), not goods."""
    words = load_lexicons().service_words
    # German compounds end in the service word: "dachsanierung", "rohrreinigung".
    services = sum(any(t.endswith(w) for t in tokens(o) for w in words) for o in profile.offers)
    return bool(profile.offers) and 2 * services >= len(profile.offers)


@functools.cache
def exceptions(theme: str, *, service: bool) -> frozenset[Phrase]:
    """The phrases that cancel a theme, for a service business or another advertiser."""
    lexicons = load_lexicons()
    own = lexicons.unless.get(Intent(theme), frozenset())
    return own | lexicons.service_unless.get(Intent(theme), frozenset()) if service else own


def stands_alone(cue: str, theme: str, *, service: bool) -> bool:
    """Whether a cue may be a negative keyword by itself: no exception of its theme holds it ("free" is in
    "free shipping", so a negative "free" would block the buyers the exception lets through; "hiring" is in a
    service business's "hiring a", but a shop's "hiring" is only ever staff)."""
    phrase = tokens(cue)
    return not any(contains_phrase(p, phrase) for p in exceptions(theme, service=service))


@functools.cache
def load_gazetteer() -> dict[Phrase, Place]:
    data = _data("gazetteer.yaml")
    places: dict[Phrase, Place] = {}

    def add(texts: Iterable[str], name: str | None, region: str, country: str) -> None:
        for text in texts:
            phrase = tokens(text)
            short = name is not None and len(phrase) == 1 and len(phrase[0]) <= 3  # "tx", "nrw"; not cities
            places.setdefault(phrase, Place(name or text.title(), region, country, short))

    for country, names in data["countries"].items():
        add(names, country, "", country)
    for country, regions in data["regions"].items():
        for region, names in regions.items():
            add(names, region, region, country)
    for country, regions in data["cities"].items():
        for region, cities in regions.items():
            add(cities, None, region, country)
    return places


def find_phrases(
    words: Phrase, table: dict[Phrase, Any], lengths: Sequence[int] | None = None
) -> list[tuple[int, Phrase]]:
    """(start, phrase) of every phrase of `table` in `words`, longest first, not overlapping.

    `lengths`: the phrase lengths of `table`, longest first, when the caller looks up many queries in one table."""
    if lengths is None:
        lengths = sorted({len(phrase) for phrase in table}, reverse=True)
    taken = [False] * len(words)
    found = []
    for n in lengths:
        for i in range(len(words) - n + 1):
            if words[i : i + n] in table and not any(taken[i : i + n]):
                found.append((i, words[i : i + n]))
                taken[i : i + n] = [True] * n
    return sorted(found)


def contains_phrase(words: Phrase, phrase: Phrase) -> bool:
    """Whether `phrase` appears in `words`, contiguous and in order."""
    n = len(phrase)
    return any(words[i : i + n] == phrase for i in range(len(words) - n + 1))


@functools.lru_cache(maxsize=200_000)
def _compound_cues(word: str) -> tuple[Cue, ...]:
    """The cues of the compound heads `word` ends with ("roofjobs"); per word, not per query's word."""
    return tuple(
        cue for head, cue in load_lexicons().compound_heads if word.endswith(head) and len(word) >= len(head) + 3
    )


@functools.lru_cache(maxsize=200_000)
def word_languages(word: str, extra: tuple[str, ...] = ()) -> frozenset[str]:
    """The languages a word belongs to: the data's word lists first, else wordfreq's frequencies.

    `extra` adds languages the data has no lists for (a profile's `fr`, say) to the frequency comparison.
    """
    vocabulary = load_lexicons().vocabulary
    listed = frozenset(lang for lang, words in vocabulary.items() if word in words)
    if listed or len(word) < 3 or not word.isalpha():
        return listed
    frequency = {lang: word_frequency(word, lang) for lang in {*vocabulary, *extra}}
    best = max(frequency.values())
    if best < COMMON_WORD_ZIPF:
        return frozenset()  # rare everywhere: a name, a typo or a place, no evidence of language
    return frozenset(lang for lang, z in frequency.items() if z >= best - 1.0)


def query_languages(queries: Iterable[str]) -> Counter[str]:
    """How many queries read as each language: the language most of a query's words belong to (ties count all)."""
    counts: Counter[str] = Counter()
    for query in queries:
        votes = Counter(lang for word in tokens(query) for lang in word_languages(word))
        if votes:
            top = max(votes.values())
            counts.update(lang for lang, n in votes.items() if n == top)
    return counts


# ---- names: brand and competitors ---------------------------------------------------------------


class InferredCompetitor(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    queries: int  # distinct queries that hold it together with the advertiser's category words
    examples: tuple[str, ...]


def _content_words(text: str) -> set[str]:
    function_words = load_lexicons().function_words
    return {close_variant(w) for w in tokens(text) if w not in function_words}


def _offer_words(profile: AdvertiserProfile) -> set[str]:
    return set().union(*(_content_words(offer) for offer in profile.offers))


def infer_competitors(
    queries: Sequence[str], profile: AdvertiserProfile, *, own_words: Iterable[str] = (), min_queries: int = 2
) -> list[InferredCompetitor]:
    """Names of other businesses that people type together with the advertiser's category words.

    A candidate word is never the advertiser's (brand, offers, `own_words` such as its keywords, or a compound
    or near-spelling of them), a lexicon or modifier word, nor a place. Two kinds of evidence, each from at least
    `min_queries` distinct queries:
    - a rare word (not an ordinary word in English, German or Spanish) that comes with the category words in most
      of its queries and does not trail them the way a town does ("roof repair kokomo");
    - the name slot: words right before a category word ("maverick roofing", "blue ridge roofing llc") in most
      of their queries. Ordinary words there ("integrity", "landmark") are names only when some query also calls
      them a business (`business_markers`: "llc", "gmbh"; for a service business "reviews" too), and they seldom
      go with more category words (a descriptor does: "slate roof repair"); the longest run of words that keeps
      most of the slot's queries is the name ("blue ridge", not "ridge"; "shelter pro" and "buckeye pro").
    """
    category = _offer_words(profile)
    if not category:
        return []
    lexicons, places = load_lexicons(), load_gazetteer()
    excluded = set().union(*lexicons.vocabulary.values()) | {w for phrase in places for w in phrase}
    names = (*profile.brand_terms, *profile.offers, *profile.not_offered, *profile.locations)
    excluded |= {w for name in names for w in tokens(name)}  # a served town the gazetteer lacks is no rival
    excluded |= {w for text in own_words for w in tokens(text)}
    excluded |= {w for phrase in (*lexicons.cues, *lexicons.service_cues) for w in phrase}
    own = {w for name in (*profile.brand_terms, *profile.offers) for w in tokens(name)} | category
    near_names = [w for w in own if len(w) >= 4]
    stems = sorted(w for w in category if len(w) >= 4)

    @functools.cache
    def is_category(word: str) -> bool:  # an offer word or a derivation of one ("roofing", "roofers")
        return close_variant(word) in category or any(word.startswith(stem) for stem in stems)

    @functools.cache
    def candidate(word: str) -> bool:
        return (
            len(word) >= 3
            and word.isalpha()
            and word not in excluded
            and not is_category(word)
            and not any(name in word or fuzz.ratio(word, name) >= 80 for name in near_names)
        )

    markers = lexicons.business_markers + (lexicons.service_business_markers if is_service_business(profile) else ())
    with_category: Counter[str] = Counter()
    overall: Counter[str] = Counter()
    trailing: Counter[str] = Counter()
    slot: Counter[Phrase] = Counter()
    marked: Counter[Phrase] = Counter()
    heads: dict[Phrase, set[str]] = defaultdict(set)  # the category words each run stands before
    described: Counter[Phrase] = Counter()  # slot queries with more category words than the one it stands before
    examples: dict[str, list[str]] = defaultdict(list)
    for query in dict.fromkeys(queries):
        words = tokens(query)
        held = [is_category(w) for w in words]
        # A business word stands where a category word would: "delgado exteriors", "kowalski gmbh".
        business = [any(words[i : i + len(m)] == m for m in markers) for i in range(len(words))]
        runs: set[Phrase] = set()
        named: set[Phrase] = set()
        for i in (i for i in range(1, len(words)) if held[i] or business[i]):
            start = i
            while start > 0 and i - start < 3 and candidate(words[start - 1]):
                start -= 1
            is_business = any(business[i:])
            for k in range(start, i):
                runs.add(words[k:i])
                heads[words[k:i]].add(close_variant(words[i]))
                if is_business:
                    named.add(words[k:i])
        slot.update(runs)
        marked.update(named)
        if sum(held) > 1:
            described.update(runs)
        for run in runs:
            if len(examples[" ".join(run)]) < 3:
                examples[" ".join(run)].append(query)
        for position, word in enumerate(words):
            if not candidate(word) or word in words[:position]:
                continue
            overall[word] += 1
            if any(held):
                with_category[word] += 1
                if len(examples[word]) < 3:
                    examples[word].append(query)
            if 0 < position == len(words) - 1 and any(held[:position]):
                trailing[word] += 1

    found: dict[str, int] = {}
    for word, count in with_category.items():
        rare = len(word) >= 4 and not is_common_word(word, ("en", "de", "es"))
        if rare and count >= min_queries and count * 2 >= overall[word] and trailing[word] * 2 < count:
            found[word] = count
    extensions: dict[Phrase, list[Phrase]] = defaultdict(list)
    for run, count in slot.items():
        if len(run) > 1 and count >= min_queries:
            extensions[run[1:]].append(run)

    def names_in(run: Phrase) -> list[Phrase]:
        """The run, or the longer runs that hold most of its slot queries: "blue ridge" and not "ridge";
        "shelter pro" and "buckeye pro", not "pro"."""
        longer = extensions.get(run, [])
        if longer and sum(slot[r] for r in longer) * 5 >= slot[run] * 4:
            return [name for r in longer for name in names_in(r)]
        return [run]

    for run, count in slot.items():
        if len(run) > 1 or count < min_queries or count * 2 < overall[run[0]]:
            continue
        for name in names_in(run):
            ordinary = all(is_common_word(w, ("en", "de", "es")) for w in name)
            # An ordinary word is a name only where a query calls it a business, it keeps to the name slot, stands
            # before few category words and seldom with more of them: a descriptor goes with every product
            # ("youth sleeping bag") and with the service's other words ("slate roof repair").
            if not ordinary or (
                marked[name]
                and slot[name] * 5 >= min(overall[w] for w in name) * 4
                and len(heads[name]) <= MAX_NAME_HEADS
                and described[name] * 5 <= slot[name]
            ):
                found.setdefault(" ".join(name), slot[name])
    # A name that holds a shorter one found adds nothing ("damco group" beside "damco").
    phrases = [tokens(name) for name in found]
    found = {
        name: count
        for name, count in found.items()
        if not any(p != tokens(name) and contains_phrase(tokens(name), p) for p in phrases)
    }
    ranked = sorted(found.items(), key=lambda item: (-item[1], item[0]))
    return [InferredCompetitor(name=n, queries=c, examples=tuple(examples[n])) for n, c in ranked]


# ---- the classifier -----------------------------------------------------------------------------


class IntentClassification(BaseModel):
    """One row per distinct search term: `search_term`, `intent`, `offer`, `confidence`, `reason`, `cue`: the
    query's words that decided it (empty when the whole query did, as for another language or an offer), and
    `cue_alone`: whether that cue may be a negative by itself for this advertiser (`stands_alone`)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    intents: pd.DataFrame
    competitors: list[InferredCompetitor]
    notices: list[str]
    lexicon_version: int


@dataclass
class _Judgement:
    intent: Intent
    confidence: float
    reason: str
    offer: str = ""
    cue: str = ""  # the words of the query that decided it, when a few words did ("park ranger", a city's name)
    cue_alone: bool = True  # no exception of its theme holds the cue


class _Classifier:
    def __init__(self, profile: AdvertiserProfile, competitors: Sequence[InferredCompetitor]) -> None:
        self.profile = profile
        self.lexicons = load_lexicons()
        offer_phrases = [tokens(offer) for offer in profile.offers]
        service = is_service_business(profile)
        self.service = service
        self.unless = {theme: exceptions(theme, service=service) for theme in Intent}
        weak = self.lexicons.weak_confidence
        every = defaultdict(list, {phrase: list(cues) for phrase, cues in self.lexicons.cues.items()})
        for phrase, cues in self.lexicons.service_cues.items():
            every[phrase].extend(cue if service else replace(cue, confidence=weak[cue.theme]) for cue in cues)
        # A cue the business itself sells is no sign of waste for it ("parts" for a parts shop).
        self.cues = {
            phrase: cues
            for phrase, cues in every.items()
            if not any(contains_phrase(offer, phrase) for offer in offer_phrases)
        }
        self.not_offered = [(text, tuple(map(close_variant, tokens(text)))) for text in profile.not_offered]
        self.brand = NameMatcher(profile.brand_terms)
        self.seed_competitors = NameMatcher(profile.competitors)
        self.inferred = {tokens(c.name): c for c in competitors}
        self.inferred_lengths = sorted({len(p) for p in self.inferred}, reverse=True)
        self.languages = tuple(profile.languages)
        self.places = load_gazetteer()
        self.served, self.around_served = self._served_places(profile.locations)
        self.cue_lengths = sorted({len(p) for p in self.cues}, reverse=True)
        self.place_lengths = sorted({len(p) for p in self.places}, reverse=True)

    def _served_places(self, locations: Sequence[str]) -> tuple[set[str], set[str]]:
        """The served places' names, and the regions that hold a served city (named alone, they are in area)."""
        served: set[str] = set()
        around: set[str] = set()
        for location in locations:
            phrase = tokens(location)
            place = self.places.get(phrase)
            if place is None:  # a place the gazetteer does not know: served by its own name
                self.places = {**self.places, phrase: Place(location, location, "")}
                served.add(location)
            else:
                served.add(place.name)
                around.update({place.region, place.country} - {place.name})
        return served, around

    def judge_all(self, queries: Sequence[str]) -> list[_Judgement | None]:
        """A judgement per query, or None where only the offer similarity can tell."""
        words = [tokens(q) for q in queries]
        brand = self.brand.find_all(words)
        competitor = self.seed_competitors.find_all(words)
        return [self._judge(*row) for row in zip(words, brand, competitor, strict=True)]

    def _judge(self, words: Phrase, brand: NameMatch | None, competitor: NameMatch | None) -> _Judgement | None:
        if not words:
            return _Judgement(Intent.UNKNOWN, 0.0, "no words")
        theme = self._theme(words)
        if theme and theme.confidence >= STRONG_CUE:
            return theme
        # A weak cue only leans one way: any later rule that decides wins ("trueline roofing cheap": a rival).
        for judge in (self._not_offered, self._language, self._area):
            found = judge(words)
            if found:
                return found
        return self._names(words, brand, competitor) or theme

    def _theme(self, words: Phrase) -> _Judgement | None:
        found = find_phrases(words, self.cues, self.cue_lengths)
        hits: list[tuple[Cue, str]] = [(cue, " ".join(phrase)) for _, phrase in found for cue in self.cues[phrase]]
        for word in words:
            hits.extend((cue, word) for cue in _compound_cues(word))
        # "free roof inspection" is a lead as much as "free inspection": an exception holds in any order.
        present = set(words)
        hits = [hit for hit in hits if not any(set(p) <= present for p in self.unless[hit[0].theme])]
        if not hits:
            return None
        # A strong cue beats a weak one ("cheap ... login": a customer), then the theme order decides, then a cue
        # that can be a negative alone ("giveaway" over the "free" of "free tent giveaway").
        cue, shown = min(
            hits,
            key=lambda hit: (
                hit[0].confidence < STRONG_CUE,
                THEME_ORDER.index(hit[0].theme),
                not stands_alone(hit[0].text, hit[0].theme, service=self.service),
                -hit[0].confidence,
            ),
        )
        label = cue.theme.value.replace("_", " ")
        return _Judgement(
            cue.theme,
            cue.confidence,
            f'matched "{cue.text}" ({label} lexicon, {cue.language})',
            cue=shown,
            cue_alone=stands_alone(cue.text, cue.theme, service=self.service),
        )

    def _not_offered(self, words: Phrase) -> _Judgement | None:
        variants = tuple(map(close_variant, words))
        for text, phrase in self.not_offered:
            n = len(phrase)
            start = next((i for i in range(len(variants) - n + 1) if variants[i : i + n] == phrase), None)
            if phrase and start is not None:
                return _Judgement(
                    Intent.NOT_OFFERED,
                    0.9,
                    f'names "{text}", which the profile says is not offered',
                    # the query's own words: a negative matches no close variant ("rentals" misses "ski rental")
                    cue=" ".join(words[start : start + n]),
                )
        return None

    def _language(self, words: Phrase) -> _Judgement | None:
        if not self.languages:
            return None
        own, foreign = 0, []
        for word in words:
            languages = word_languages(word, self.languages)
            if languages & set(self.languages):
                own += 1
            elif languages:
                foreign.append((word, sorted(languages)[0]))
        if not foreign or len(foreign) <= own or len(foreign) * 2 < len(words):
            return None
        language = Counter(lang for _, lang in foreign).most_common(1)[0][0]
        shown = ", ".join(f'"{w}"' for w, _ in foreign[:3])
        confidence = 0.8 if len(foreign) >= 2 else 0.6
        return _Judgement(
            Intent.OTHER_LANGUAGE, confidence, f"{shown} read as {language}, not {'/'.join(self.languages)}"
        )

    def _area(self, words: Phrase) -> _Judgement | None:
        if not self.profile.locations:
            return None
        found = find_phrases(words, self.places, self.place_lengths)
        named = [self.places[phrase] for _, phrase in found]
        if not named or any(self._is_served(place) for place in named):
            return None
        place = named[0]
        confidence = 0.65 if place.abbreviation else 0.85
        return _Judgement(
            Intent.OUT_OF_AREA, confidence, f'names "{place.name}", not a served location', cue=" ".join(found[0][1])
        )

    def _is_served(self, place: Place) -> bool:
        return bool({place.name, place.region, place.country} & self.served) or place.name in self.around_served

    def _names(self, words: Phrase, brand: NameMatch | None, competitor: NameMatch | None) -> _Judgement | None:
        if brand:
            name, how, score, shown = brand
            return _Judgement(Intent.BRAND, round(0.95 * score, 2), f'{how} the brand "{name}"', cue=shown)
        if competitor:
            name, how, score, shown = competitor
            return _Judgement(Intent.COMPETITOR, round(0.9 * score, 2), f'{how} the competitor "{name}"', cue=shown)
        for _, phrase in find_phrases(words, self.inferred, self.inferred_lengths)[:1]:
            inferred, shown = self.inferred[phrase], " ".join(phrase)
            return _Judgement(
                Intent.COMPETITOR,
                0.7,
                f'"{shown}" looks like another business\'s name ({inferred.queries} queries with the category words)',
                cue=shown,
            )
        return None


def _offer_cover(queries: Sequence[str], offers: Sequence[str]) -> np.ndarray:
    """(queries x offers) share of each offer's words the query holds; a word is also held by its derivations
    ("roofer", "roofing" hold "roof"). Sparse products, so that it stays fast on hundreds of thousands of queries."""
    query_words = [_content_words(q) for q in queries]
    offer_words = [_content_words(o) for o in offers]
    vocabulary = {w: i for i, w in enumerate(sorted(set().union(*query_words)))}
    needed = {w: i for i, w in enumerate(sorted(set().union(*offer_words)))}

    ordered = sorted(vocabulary)
    pairs: list[tuple[int, int]] = []
    for word, j in needed.items():
        held_by = {word} & vocabulary.keys()
        if len(word) >= 4:
            start = bisect.bisect_left(ordered, word)  # longer words that start with it
            while start < len(ordered) and ordered[start].startswith(word):
                held_by.add(ordered[start])
                start += 1
            held_by.update(w for k in range(4, len(word)) if (w := word[:k]) in vocabulary)  # its stems
        pairs.extend((vocabulary[w], j) for w in held_by)
    holders = sparse.csr_matrix(
        (np.ones(len(pairs)), ([i for i, _ in pairs], [j for _, j in pairs])), shape=(len(vocabulary), len(needed))
    )
    rows = [i for i, words in enumerate(query_words) for _ in words]
    present = sparse.csr_matrix(
        (np.ones(len(rows)), (rows, [vocabulary[w] for words in query_words for w in words])),
        shape=(len(queries), len(vocabulary)),
    )
    held = (present @ holders).minimum(1)
    weights = sparse.csr_matrix(
        (
            [1 / len(words) for words in offer_words for _ in words],
            (
                [needed[w] for words in offer_words for w in words],
                [j for j, words in enumerate(offer_words) for _ in words],
            ),
        ),
        shape=(len(needed), len(offers)),
    )
    return np.asarray((held @ weights).todense()).reshape(len(queries), len(offers))


def _offer_scores(
    queries: Sequence[str], offers: Sequence[str], backend: Literal["tfidf", "embeddings"]
) -> tuple[np.ndarray, np.ndarray]:
    """For each query, the index of the closest offer and its score (0-1)."""
    variant = [" ".join(map(close_variant, tokens(text))) for text in (*queries, *offers)]
    if backend == "embeddings":
        from tools.query_embeddings import embed_queries

        vectors = embed_queries(variant)
        similarity = vectors[: len(queries)] @ vectors[len(queries) :].T
    else:
        matrix = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True).fit_transform(variant)
        similarity = (matrix[: len(queries)] @ matrix[len(queries) :].T).toarray()
    # The share of an offer's own words a query holds is the most legible evidence; similarity covers the rest.
    cover = _offer_cover(queries, offers)
    scores = np.maximum(similarity, np.where(cover > 0, 0.4 + 0.5 * cover, 0.0))
    best = scores.argmax(axis=1)
    return best, scores[np.arange(len(queries)), best]


def classify_intents(
    terms: pd.DataFrame | Sequence[str],
    profile: AdvertiserProfile | None,
    *,
    backend: Literal["tfidf", "embeddings"] = "tfidf",
    own_words: Iterable[str] = (),
) -> IntentClassification:
    """The intent of each distinct search term (a frame with `search_term`, or the terms themselves).

    `own_words`: texts of the advertiser's own (its keywords, say), whose words are never read as a competitor.
    """
    raw = terms["search_term"] if isinstance(terms, pd.DataFrame) else pd.Series(list(terms), dtype=object)
    queries = list(dict.fromkeys(str(q) for q in raw))
    notices = []
    if profile is None or profile.is_empty:
        notices.append(NO_PROFILE_NOTICE)
        profile = AdvertiserProfile()
    elif not profile.offers:
        notices.append("the profile lists no offers: no query can be judged on-offer")
    competitors = infer_competitors(queries, profile, own_words=own_words)
    classifier = _Classifier(profile, competitors)
    judgements = classifier.judge_all(queries)
    # A weak cue is open too: "cheap roof repair" and "buy hiking boots" are on offer, "cheap stuff" leans free.
    open_rows = [i for i, j in enumerate(judgements) if j is None or j.confidence < STRONG_CUE]
    if open_rows and profile.offers:
        best, score = _offer_scores([queries[i] for i in open_rows], profile.offers, backend)
        threshold = OFFER_THRESHOLD[backend]
        for row, offer_index, value in zip(open_rows, best, score, strict=True):
            offer = profile.offers[offer_index]
            if value >= threshold:
                judgements[row] = _Judgement(
                    Intent.ON_OFFER, round(float(value), 2), f'close to the offer "{offer}"', offer
                )
            elif judgements[row] is None:
                judgements[row] = _Judgement(Intent.UNKNOWN, 0.0, f'closest offer "{offer}" only {value:.2f}')
    judged = [j or _Judgement(Intent.UNKNOWN, 0.0, "no cue, and no offers to compare with") for j in judgements]
    frame = pd.DataFrame(
        {
            "search_term": queries,
            "intent": [j.intent.value for j in judged],
            "offer": [j.offer for j in judged],
            "confidence": [j.confidence for j in judged],
            "reason": [j.reason for j in judged],
            "cue": [j.cue for j in judged],
            "cue_alone": [j.cue_alone for j in judged],
        }
    )
    return IntentClassification(
        intents=frame, competitors=competitors, notices=notices, lexicon_version=load_lexicons().version
    )


class IntentClassSummary(BaseModel):
    intent: str
    queries: int
    clicks: int
    cost: int
    conversions: float
    top: list[dict[str, Any]]  # the most expensive queries: search_term, cost, confidence, reason


def summarise_intents(result: IntentClassification, terms: pd.DataFrame, *, top: int = 5) -> list[IntentClassSummary]:
    """Per intent class: queries, clicks, cost and conversions of `terms`, and its most expensive queries."""
    metrics = [c for c in ("clicks", "cost", "conversions") if c in terms.columns]
    totals = terms.groupby("search_term", sort=False)[metrics].sum() if metrics else None
    frame = result.intents.set_index("search_term")
    for column in ("clicks", "cost", "conversions"):
        frame[column] = totals[column].reindex(frame.index).fillna(0) if totals is not None and column in totals else 0
    summaries = []
    for intent, group in frame.groupby("intent", sort=False):
        group = group.sort_values(["cost", "clicks"], ascending=False)
        summaries.append(
            IntentClassSummary(
                intent=str(intent),
                queries=len(group),
                clicks=int(group["clicks"].sum()),
                cost=int(group["cost"].sum()),
                conversions=round(float(group["conversions"].sum()), 2),
                top=[
                    {"search_term": term, "cost": int(row.cost), "confidence": row.confidence, "reason": row.reason}
                    for term, row in group.head(top).iterrows()
                ],
            )
        )
    return sorted(summaries, key=lambda s: (-s.cost, -s.queries))
