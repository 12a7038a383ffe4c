"""`adpilot demo` on the 1st of a month and mid-month: every kind of proposal, a creative test's decision and a
reallocation, on a sandbox generated for that day."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest

from sandbox.generator import generate_sandbox
from sandbox.store import SandboxStore
from tests.cli_runner import run


@pytest.mark.parametrize("today", [dt.date(2026, 12, 1), dt.date(2026, 12, 15)], ids=str)
def test_the_demo_shows_all_four_kinds_a_creative_test_and_a_reallocation(
    today: dt.date, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (home / "sandbox.sqlite").unlink()
    generate_sandbox(SandboxStore.create(home / "sandbox.sqlite"), seed=7, rows=6000, today=today)
    monkeypatch.setenv("ADPILOT_TODAY", today.isoformat())
    code, out, _ = run("demo", "--json")
    assert code == 0
    proposals = json.loads(out)["proposals"]
    kinds = Counter(p["kind"] for p in proposals)
    assert kinds["add_negative_keywords"] + kinds["create_shared_negative_list"] > 0
    assert kinds["create_ad_group"] > 0 and kinds["add_creative_variants"] > 0
    assert kinds["pause_entity"] > 0  # a creative test decided a loser
    assert kinds["reallocate_budget"] == 1
    [move] = [p for p in proposals if p["kind"] == "reallocate_budget"]
    assert move["decision"] == "needs_approval" and move["rule"] == "budget.reallocation"
    # One edit per budget: no budget has a pacing change beside its leg.
    legs = {leg["budget_id"] for leg in move["change"]["legs"]}
    paced = {p["change"]["budget_id"] for p in proposals if p["kind"] == "set_budget"}
    assert not legs & paced
