"""The one apply path with the real google-ads client against the emulator: idempotence and crash recovery."""

from __future__ import annotations

from pathlib import Path

import pytest

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
