"""The one apply path with the real google-ads client against the emulator: idempotence and crash recovery."""

from __future__ import annotations

from pathlib import Path

import pytest

from ads.changes import BudgetLeg, ReallocateBudget
from ops.apply import apply_changes
from ops.change_log import ChangeLog
from tests.google_ads_sample import negative_keys, negatives

pytestmark = pytest.mark.usefixtures("fresh_google_ads_account")


def test_reapplying_through_the_google_client_sends_nothing(
    allow_all, google, google_ads_emulator, tmp_path: Path
) -> None:
    log = ChangeLog(tmp_path / "changes.sqlite")
    change = negatives("campaign", "12", "tent jobs", "tent salary")
    [first] = apply_changes(google, [change], decided_by={}, log=log, gate=allow_all)
    sent = len(google_ads_emulator.mutate_requests)
    [again] = apply_changes(google, [change], decided_by={}, log=log, gate=allow_all)
    assert (first.status, again.status) == ("applied", "already_applied")
    assert len(google_ads_emulator.mutate_requests) == sent and first.resource_names


def test_a_crash_after_the_google_mutate_is_reconciled_on_the_next_run(
    allow_all, google, google_ads_sandbox, tmp_path: Path
) -> None:
    log = ChangeLog(tmp_path / "changes.sqlite")
    change = negatives("campaign", "12", "free tent")
    log.append(change, "intent", decided_by="policy:test")
    google.apply([change], validate_only=False)  # the process dies here, before the result is logged
    assert ("campaign", "12", "free tent") in {k[:3] for k in negative_keys(google_ads_sandbox)}

    other = negatives("campaign", "12", "tent rental")
    apply_changes(google, [other], decided_by={}, log=log, gate=allow_all)  # the next run settles the open intent first
    assert [e.status for e in reversed(log.entries(change=change.hash))] == ["intent", "reconciled"]
    assert log.is_applied(change.hash) and log.unresolved_intents(google.account.name) == []


def _reallocation(sandbox_budgets: dict[str, int], moves: dict[str, int]) -> ReallocateBudget:
    return ReallocateBudget(
        account="google-ads:1234567890",
        rationale="test",
        legs=tuple(
            BudgetLeg(budget_id=b, from_amount=sandbox_budgets.get(b, 1), to_amount=to) for b, to in moves.items()
        ),
    )


def _amounts(sandbox) -> dict[str, int]:  # noqa: ANN001
    return {b.id: b.daily_amount for b in sandbox.structure().budgets}


def test_a_reallocation_is_one_google_request_both_legs_or_neither(
    allow_all, google, google_ads_emulator, google_ads_sandbox, tmp_path: Path
) -> None:
    log = ChangeLog(tmp_path / "changes.sqlite")
    before = _amounts(google_ads_sandbox)  # 21: 50 USD, 22: 30 USD
    change = _reallocation(before, {"21": 45_000_000, "22": 35_000_000})
    sent = len(google_ads_emulator.mutate_requests)
    [result] = apply_changes(google, [change], decided_by={}, log=log, gate=allow_all)
    assert result.status == "applied", result.message
    assert {k: _amounts(google_ads_sandbox)[k] for k in ("21", "22")} == {"21": 45_000_000, "22": 35_000_000}
    requests = google_ads_emulator.mutate_requests[sent:]
    # validate-only first (the apply path's, then the connector's own), then the write: each one request
    # holding both budget operations, partial failure off
    assert [(r.validate_only, r.partial_failure, len(r.mutate_operations)) for r in requests] == [
        (True, False, 2),
        (True, False, 2),
        (False, False, 2),
    ]
    assert result.after == {"daily_amounts": {"21": 45_000_000, "22": 35_000_000}}

    # A leg the platform refuses (no budget 99) fails the whole change: the other budget keeps its amount.
    broken = _reallocation(_amounts(google_ads_sandbox), {"21": 40_000_000, "99": 5_000_000})
    [failed] = apply_changes(google, [broken], decided_by={}, log=log, gate=allow_all)
    assert failed.status == "failed" and _amounts(google_ads_sandbox)["21"] == 45_000_000
