"""The one apply path: validate, apply, read back, log; idempotent and crash-safe."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from ads.account import ApplyResult
from ads.changes import Change, SetBudget
from ops.apply import apply_changes, reconcile
from ops.change_log import ChangeLog
from sandbox.store import SandboxAccount, SandboxStore


@pytest.fixture
def account(home: Path) -> SandboxAccount:
    return SandboxStore(home / "sandbox.sqlite").open_account("sandbox:trailhead")


@pytest.fixture
def log(home: Path) -> ChangeLog:
    return ChangeLog(home / "changes.sqlite")


def budget_change(account: SandboxAccount, factor: float = 1.05) -> SetBudget:
    budget = account.structure().budgets[0]
    return SetBudget(
        account=account.account.name,
        rationale="test",
        budget_id=budget.id,
        budget_name=budget.name,
        from_amount=budget.daily_amount,
        to_amount=round(budget.daily_amount * factor),
    )


def statuses(log: ChangeLog, change: Change) -> list[str]:
    return [e.status for e in reversed(log.entries(change=change.hash))]


def test_applies_reads_back_and_logs(allow_all, account: SandboxAccount, log: ChangeLog) -> None:
    change = budget_change(account)
    [result] = apply_changes(account, [change], decided_by={change.hash: "policy:test"}, log=log, gate=allow_all)
    assert result.status == "applied"
    assert {b.id: b.daily_amount for b in account.structure().budgets}[change.budget_id] == change.to_amount
    assert statuses(log, change) == ["intent", "applied"]
    assert log.latest(change.hash).decided_by == "policy:test"


def test_reapplying_the_same_change_sends_nothing(allow_all, account: SandboxAccount, log: ChangeLog) -> None:
    change = budget_change(account)
    apply_changes(account, [change], decided_by={}, log=log, gate=allow_all)
    [again] = apply_changes(account, [change], decided_by={}, log=log, gate=allow_all)
    assert again.status == "already_applied"
    assert statuses(log, change) == ["intent", "applied"]


def test_a_change_that_fails_validation_writes_nothing(allow_all, account: SandboxAccount, log: ChangeLog) -> None:
    stale = budget_change(account).model_copy(update={"from_amount": 1})
    stale = SetBudget.model_validate(stale.model_dump(exclude={"hash", "id"}))
    before = account.structure().budgets
    [result] = apply_changes(account, [stale], decided_by={}, log=log, gate=allow_all)
    assert result.status == "failed" and result.message
    assert account.structure().budgets == before
    assert statuses(log, stale) == ["failed"]


def test_a_crash_between_apply_and_log_is_reconciled_by_reading_back(account: SandboxAccount, log: ChangeLog) -> None:
    reached, lost = budget_change(account, 1.05), budget_change(account, 0.95)
    # The process wrote its intents, the first change reached the account, then the process died.
    log.append(reached, "intent", decided_by="policy:test")
    log.append(lost, "intent", decided_by="policy:test")
    account.apply([reached], validate_only=False)
    settled = reconcile(account, log)
    assert {r.change_hash: r.status for r in settled} == {reached.hash: "applied", lost.hash: "failed"}
    assert statuses(log, reached) == ["intent", "reconciled"]
    assert statuses(log, lost) == ["intent", "abandoned"]
    assert log.unresolved_intents(account.account.name) == []


class SilentlyDroppingAccount:
    """Says it applied, writes nothing: the read-back must catch it."""

    def __init__(self, inner: SandboxAccount) -> None:
        self.inner = inner
        self.account = inner.account

    def apply(self, changes: Sequence[Change], *, validate_only: bool) -> list[ApplyResult]:
        if validate_only:
            return self.inner.apply(changes, validate_only=True)
        return [ApplyResult(change_hash=c.hash, status="applied") for c in changes]

    def read_back(self, change: Change):
        return self.inner.read_back(change)


def test_nothing_counts_as_applied_without_the_read_back(allow_all, account: SandboxAccount, log: ChangeLog) -> None:
    change = budget_change(account)
    [result] = apply_changes(SilentlyDroppingAccount(account), [change], decided_by={}, log=log, gate=allow_all)
    assert result.status == "failed" and "read-back" in result.message
    assert not log.is_applied(change.hash)


def test_a_change_rolled_back_can_be_applied_again(allow_all, account: SandboxAccount, log: ChangeLog) -> None:
    raised = budget_change(account, 1.05)
    apply_changes(account, [raised], decided_by={}, log=log, gate=allow_all)
    restore = SetBudget(
        account=raised.account,
        rationale="rollback",
        budget_id=raised.budget_id,
        from_amount=raised.to_amount,
        to_amount=raised.from_amount,
    )
    apply_changes(account, [restore], decided_by={}, log=log, gate=allow_all)
    [again] = apply_changes(account, [raised], decided_by={}, log=log, gate=allow_all)
    assert again.status == "applied"
    assert {b.id: b.daily_amount for b in account.structure().budgets}[raised.budget_id] == raised.to_amount
