"""Meta's hourly budget limit through the one apply path: the fifth change is queued, logged, and runs later."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ads.changes import BudgetLeg, ReallocateBudget
from ads.entities import MoneyUnit
from ops.apply import apply_changes
from ops.change_log import ChangeLog
from tests.meta_sample import NAME, T0, daily_budget, set_budget

pytestmark = pytest.mark.usefixtures("fresh_meta_account")


def test_a_queued_budget_change_runs_at_the_next_apply_once_due(allow_all, meta, meta_clock, tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "changes.sqlite")
    amount = daily_budget(meta, "3002")
    changes = [set_budget("3002", amount + 100 * i, amount + 100 * (i + 1)) for i in range(5)]
    for minute, change in enumerate(changes):
        meta_clock.now = T0 + dt.timedelta(minutes=minute)
        [result] = apply_changes(meta, [change], decided_by={change.hash: "policy:test"}, log=log, gate=allow_all)
    assert result.status == "queued" and log.latest(changes[4].hash).status == "queued"
    assert daily_budget(meta, "3002") == amount + 400

    meta_clock.now = T0 + dt.timedelta(minutes=70)
    unrelated = set_budget("3001", daily_budget(meta, "3001"), daily_budget(meta, "3001") + 100)
    apply_changes(meta, [unrelated], decided_by={}, log=log, gate=allow_all)  # any later apply first runs what is due
    assert daily_budget(meta, "3002") == amount + 500
    assert [e.status for e in reversed(log.entries(change=changes[4].hash))] == ["intent", "queued", "applied"]
    assert log.latest(changes[4].hash).decided_by == "policy:test"


def _reallocation(meta, moves: dict[str, int]) -> ReallocateBudget:  # noqa: ANN001
    return ReallocateBudget(
        account=NAME,
        rationale="test",
        unit=MoneyUnit.MINOR,
        legs=tuple(
            BudgetLeg(budget_id=b, level="ad_set", from_amount=daily_budget(meta, b), to_amount=to)
            for b, to in moves.items()
        ),
    )


def test_a_reallocation_sets_both_ad_sets_or_restores_the_first(allow_all, meta, meta_emulator, tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "changes.sqlite")
    first, second = daily_budget(meta, "3001"), daily_budget(meta, "3002")
    change = _reallocation(meta, {"3001": first - 500, "3002": second + 500})
    [result] = apply_changes(meta, [change], decided_by={}, log=log, gate=allow_all)
    assert result.status == "applied", result.message
    assert (daily_budget(meta, "3001"), daily_budget(meta, "3002")) == (first - 500, second + 500)

    # The second leg's write fails after the first was set: the first is put back, and the change failed.
    again = _reallocation(meta, {"3001": first, "3002": second})
    meta_emulator.fail_writes_to = {"3002"}
    [failed] = apply_changes(meta, [again], decided_by={}, log=log, gate=allow_all)
    assert failed.status == "failed" and "restored 3001" in failed.message, failed.message
    assert (daily_budget(meta, "3001"), daily_budget(meta, "3002")) == (first - 500, second + 500)
    assert log.latest(again.hash).status == "failed"
