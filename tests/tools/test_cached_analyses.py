"""What the search-term analyses cache per word or per text gives what they computed per query before."""

from __future__ import annotations

import pytest

from tools.query_intent import _compound_cues, classify_intents, load_lexicons


@pytest.mark.parametrize("word", ["dachdeckerjobs", "jobs", "xjobs", "solarförderung", "roofing", "bauanleitung", ""])
def test_compound_cues_per_word_are_the_heads_the_word_ends_with(word: str) -> None:
    heads = load_lexicons().compound_heads
    expected = [cue for head, cue in heads if word.endswith(head) and len(word) >= len(head) + 3]
    assert list(_compound_cues(word)) == expected


def test_a_compound_head_classifies_every_query_that_holds_the_word() -> None:
    frame = classify_intents(["dachdeckerjobs berlin", "berlin dachdeckerjobs", "xjobs"], None).intents
    intents = dict(zip(frame["search_term"], frame["intent"], strict=True))
    assert intents["dachdeckerjobs berlin"] == intents["berlin dachdeckerjobs"] == "jobs"
    assert intents["xjobs"] != "jobs"  # too short to be a compound of "jobs"
