"""Which language a marketer writes in (English or German), and whether a short answer says yes or no.

Read by the chat graph (the reply's language, and whether a person confirmed an answer to a proposal) and by the
offline planner (which intent table and which sentences to use).
"""

from __future__ import annotations

import re
from typing import Literal

Language = Literal["en", "de"]
LANGUAGES: tuple[Language, ...] = ("en", "de")

# Frequent words of each language that are rare in the other; a search term or a campaign name in the text
# (often English in a German sentence) does not outweigh the sentence's own function words.
_WORDS: dict[Language, frozenset[str]] = {
    "en": frozenset(
        "the and what which why how is are was my me show give about for of with this that these those please "
        "yes no it its do does did should could would can new last campaign campaigns terms wasting what's".split()
    ),
    "de": frozenset(
        "der die das und was welche welcher welches warum wieso weshalb wie ist sind war mein meine meinen mir "
        "zeig zeige gib über für mit diese dieser dieses bitte ja nein es tun soll sollte kann neue letzten "
        "letzte kampagne kampagnen suchbegriffe suchanfragen geändert gestern heute läuft nicht ich wir uns "
        "genehmige ablehnen lehne anzeigengruppe anzeigengruppen überschriften hilfe woche monat".split()
    ),
}
_UMLAUT = re.compile(r"[äöüß]", re.IGNORECASE)
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")

_YES = re.compile(
    r"^\s*(yes|yep|yeah|y|ok(ay)?|sure|confirm(ed)?|do it|go ahead|please do|ja|jawohl|jep|klar|genau|"
    r"bestätige?n?|mach (es|das)|bitte ja)\b[\s!.]*",
    re.IGNORECASE,
)
_NO = re.compile(
    r"^\s*(no|nope|n|cancel|don'?t|do not|stop|leave it|never ?mind|nein|nö|abbrechen|lass (es|das)|nicht)\b",
    re.IGNORECASE,
)


def language_of(text: str, default: Language = "en") -> Language:
    """German when the text holds more German than English function words (umlauts count for German);
    `default` (the conversation's language so far) when it holds neither, as in "ok" or a bare campaign name."""
    words = [w.casefold() for w in _TOKEN.findall(text)]
    german = sum(w in _WORDS["de"] for w in words) + (1 if _UMLAUT.search(text) else 0)
    english = sum(w in _WORDS["en"] for w in words)
    if german == english:
        return default
    return "de" if german > english else "en"


def says_yes(text: str) -> bool:
    """A confirmation: "yes", "ok, do it", "ja", "klar" (not "yes, but…" questions' second halves)."""
    return bool(_YES.match(text)) and not says_no(text)


def says_no(text: str) -> bool:
    return bool(_NO.match(text))
