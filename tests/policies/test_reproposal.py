"""When a rejected change may be proposed again: after the cooling-off period, or when its evidence grew enough."""

from __future__ import annotations

import datetime as dt

import pytest

from ads.changes import Evidence
from policies.gate import load_policy
from policies.reproposal import ReproposalPolicy, reproposal

POLICY = ReproposalPolicy(rejected_cooling_off_days=30, evidence_growth=0.5)
REJECTED_ON = dt.date(2026, 11, 20)


def spend(cost: float, clicks: float = 10) -> Evidence:
    return Evidence(metrics={"cost": cost, "clicks": clicks})


@pytest.mark.parametrize(
    ("today", "now", "allowed", "why"),
    [
        (dt.date(2026, 11, 21), spend(100), False, "cooling off until 2026-12-20"),
        (dt.date(2026, 11, 21), spend(149), False, "cooling off"),
        (dt.date(2026, 11, 21), spend(150), True, "its cost grew by 50%"),
        (dt.date(2026, 12, 20), spend(10), True, "ended on 2026-12-20"),
        # Clicks grew, but the cost is what it rests on, and that did not.
        (dt.date(2026, 11, 21), spend(100, clicks=1000), False, "cooling off"),
    ],
)
def test_cooling_off_and_evidence_growth(today: dt.date, now: Evidence, allowed: bool, why: str) -> None:
    verdict = reproposal(spend(100), REJECTED_ON, now, today, POLICY)
    assert verdict.allowed is allowed and why in verdict.why


def test_evidence_without_a_weight_waits_for_the_period() -> None:
    pacing = Evidence(metrics={"mtd": 1e9, "projected_vs_target": 1.4})
    assert not reproposal(pacing, REJECTED_ON, pacing, dt.date(2026, 11, 25), POLICY).allowed
    assert reproposal(pacing, REJECTED_ON, pacing, dt.date(2026, 12, 25), POLICY).allowed


def test_a_policy_without_the_section_shows_it_again_at_once() -> None:
    assert reproposal(spend(100), REJECTED_ON, spend(100), REJECTED_ON, None).allowed


def test_the_default_policy_sets_a_cooling_off_period() -> None:
    assert load_policy().reproposal == POLICY
