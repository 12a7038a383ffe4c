"""The change log is append-only and answers what the apply path asks of it."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from ads.changes import SetBudget
from ops.change_log import ChangeLog


def budget(to: int) -> SetBudget:
    return SetBudget(account="sandbox:x", rationale="pacing", budget_id="b1", from_amount=100_000_000, to_amount=to)


def test_entries_cannot_be_updated_or_deleted(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "changes.sqlite")
    log.append(budget(105_000_000), "applied", decided_by="policy:budgets.auto_apply")
    raw = sqlite3.connect(tmp_path / "changes.sqlite")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("UPDATE entries SET status = 'failed'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("DELETE FROM entries")


def test_latest_status_intents_and_budget_counts(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "changes.sqlite")
    first, second = budget(105_000_000), budget(106_000_000)
    log.append(first, "intent", decided_by="policy:x")
    log.append(second, "intent", decided_by="policy:x")
    log.append(second, "applied", decided_by="policy:x", before={"daily_amount": 1}, after={"daily_amount": 2})
    assert [e.change_hash for e in log.unresolved_intents("sandbox:x")] == [first.hash]
    assert log.is_applied(second.hash) and not log.is_applied(first.hash)
    assert log.latest(second.hash).after == {"daily_amount": 2}
    hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    assert log.budget_changes_since("b1", hour_ago) == 1
    assert log.budget_changes_since("other", hour_ago) == 0
    assert log.entries(change=first.id)[0].parsed_change() == first
