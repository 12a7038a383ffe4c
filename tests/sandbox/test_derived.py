"""Derived data in the store: each command reuses what an earlier one derived from the same import.

Each `Session` here stands for one fresh CLI process: it opens the account anew, with an empty in-memory cache.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd

from app.session import Session
from app.settings import load_settings
from tests.cli_runner import run
from tools.account_reports import Window
from tools.query_clusters import ClusteringResult
from tools.query_intent import IntentClassification
from tools.registry import ToolContext, run_tool

ACCOUNT = "derived-test"
NOUNS = ("hiking boots", "rain jacket", "camping tent", "daypack")
MODIFIERS = ("", "best", "cheap", "waterproof", "mens", "womens", "free", "jobs", "diy", "used")
QUALIFIERS = ("", "near me", "online", "sale", "repair", "review")


def _report(path: Path, first_day: str, last_day: str, scale: int = 1) -> Path:
    lines = [
        "Search terms report",
        f'"{first_day} - {last_day}"',
        "Search term,Match type,Campaign,Ad group,Keyword,Clicks,Impr.,Cost,Conversions,Currency code",
    ]
    for i, (noun, modifier, qualifier) in enumerate(itertools.product(NOUNS, MODIFIERS, QUALIFIERS)):
        term = " ".join(w for w in (modifier, noun, qualifier) if w)
        clicks = (i % 7 + 1) * scale
        conversions = 0 if modifier in ("free", "jobs", "diy") else i % 3
        campaign = noun.split()[-1].title()
        lines.append(
            f"{term},Broad match,{campaign},{noun.title()},{noun},{clicks},{clicks * 20},"
            f"{clicks * 1.75:.2f},{conversions},USD"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _import(path: Path) -> None:
    code, out, err = run("import", "search-terms", str(path), "--account", ACCOUNT)
    assert code == 0, out + err


def _tools() -> ToolContext:
    """The tool context a fresh process gets."""
    return Session(load_settings()).run_services(ACCOUNT).tools


def _stored(home: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(home / "sandbox.sqlite") as conn:
        return conn.execute(
            "SELECT kind, fingerprint FROM derived_data WHERE account = ? ORDER BY kind", (ACCOUNT,)
        ).fetchall()


def _assert_same(a: ClusteringResult | IntentClassification, b: ClusteringResult | IntentClassification) -> None:
    """Equal results: the same frame, and the same everything else."""
    frame = "assignments" if isinstance(a, ClusteringResult) else "intents"
    pd.testing.assert_frame_equal(getattr(a, frame), getattr(b, frame))
    assert a.model_dump(exclude={frame}) == b.model_dump(exclude={frame})


def test_a_later_command_reuses_what_an_earlier_one_derived(home: Path, tmp_path: Path) -> None:
    _import(_report(tmp_path / "report.csv", "October 1, 2026", "October 30, 2026"))
    first = _tools()
    period = Window.LAST_90_DAYS.period(first.today)
    clusters = first.clusters(period, 1.0, "tfidf")
    intents = first.intents(period)
    assert first.derived is not None
    assert first.derived.computed == ["search_terms", "clusters", "intents"]  # type: ignore[attr-defined]
    assert [kind for kind, _ in _stored(home)] == ["clusters", "intents", "search_terms"]

    second = _tools()
    _assert_same(second.clusters(period, 1.0, "tfidf"), clusters)
    _assert_same(second.intents(period), intents)
    assert second.derived.computed == []  # type: ignore[union-attr]
    assert second.derived.reused == ["clusters", "intents"]  # type: ignore[union-attr]
    # other parameters are another result, computed from the stored search terms
    second.clusters(period, 2.0, "tfidf")
    assert second.derived.computed == ["clusters"]  # type: ignore[union-attr]
    assert second.derived.reused == ["clusters", "intents", "search_terms"]  # type: ignore[union-attr]


def test_results_are_the_same_with_and_without_the_store(home: Path, tmp_path: Path) -> None:
    _import(_report(tmp_path / "report.csv", "October 1, 2026", "October 30, 2026"))
    _tools().intents(Window.LAST_90_DAYS.period(_tools().today))  # fill the store
    cached, uncached = _tools(), _tools()
    uncached.derived = None
    period = Window.LAST_90_DAYS.period(cached.today)
    pd.testing.assert_frame_equal(cached.search_terms(period), uncached.search_terms(period))
    _assert_same(cached.clusters(period, 1.0, "tfidf"), uncached.clusters(period, 1.0, "tfidf"))
    _assert_same(cached.intents(period), uncached.intents(period))
    negatives = [run_tool("mine_negative_keywords", tools).model_dump(mode="json") for tools in (cached, uncached)]
    assert negatives[0] == negatives[1]
    assert cached.derived.reused == ["search_terms", "intents"]  # type: ignore[union-attr]


def test_a_new_import_invalidates_what_was_derived(home: Path, tmp_path: Path) -> None:
    _import(_report(tmp_path / "october.csv", "October 1, 2026", "October 30, 2026"))
    first = _tools()
    period = Window.LAST_90_DAYS.period(first.today)
    before = first.search_terms(period)
    first.clusters(period, 1.0, "tfidf")
    (old_fingerprint,) = {fingerprint for _, fingerprint in _stored(home)}

    _import(_report(tmp_path / "november.csv", "October 31, 2026", "November 19, 2026", scale=3))
    second = _tools()
    after = second.search_terms(Window.LAST_90_DAYS.period(second.today))
    assert second.derived.computed == ["search_terms"]  # type: ignore[union-attr]
    assert after["clicks"].sum() == 4 * before["clicks"].sum()  # both reports, not the stored first one alone
    stored = _stored(home)
    assert [kind for kind, _ in stored] == ["search_terms"]  # the stale clusters are gone
    assert stored[0][1] != old_fingerprint


def test_two_processes_deriving_at_once_agree_and_leave_one_result(home: Path, tmp_path: Path) -> None:
    _import(_report(tmp_path / "report.csv", "October 1, 2026", "October 30, 2026"))
    command = [sys.executable, "-m", "app", "search-terms", "clusters", "--account", ACCOUNT, "--json"]
    env = {**os.environ, "ADPILOT_HOME": str(home)}
    processes = [
        subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        outputs.append(json.loads(out))
    assert outputs[0] == outputs[1]
    assert sorted(kind for kind, _ in _stored(home)) == ["clusters", "search_terms"]
    code, out, _ = run("search-terms", "clusters", "--account", ACCOUNT, "--json")  # from the store now
    assert code == 0 and json.loads(out) == outputs[0]
