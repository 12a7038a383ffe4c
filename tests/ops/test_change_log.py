"""The change log is append-only and answers what the apply path asks of it."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from ads.changes import BudgetLeg, ReallocateBudget, SetBudget
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


def test_budget_directions_are_the_last_applied_change_per_budget_of_the_account(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "changes.sqlite")
    log.append(budget(105_000_000), "applied", decided_by="policy:x")  # b1 raised
    log.append(budget(90_000_000), "rejected", decided_by="person")  # not applied: no direction
    move = ReallocateBudget(
        account="sandbox:x",
        rationale="marginal CPA",
        legs=(
            BudgetLeg(budget_id="b1", from_amount=105_000_000, to_amount=95_000_000),
            BudgetLeg(budget_id="b2", from_amount=100_000_000, to_amount=110_000_000),
        ),
    )
    log.append(move, "applied", decided_by="person")
    other = SetBudget(account="sandbox:y", rationale="pacing", budget_id="b3", from_amount=1, to_amount=2)
    log.append(other, "applied", decided_by="policy:x")
    today = dt.datetime.now(dt.UTC).date()
    assert log.budget_directions_since("sandbox:x", today - dt.timedelta(days=14)) == {"b1": -1, "b2": 1}
    assert log.budget_directions_since("sandbox:x", today + dt.timedelta(days=1)) == {}


def test_the_queue_keeps_one_open_version_per_content_and_marks_idle_threads_finished(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "changes.sqlite")
    day = dt.date(2026, 11, 20)
    old = budget(120_000_000)
    fresh = old.model_copy(update={"evidence": old.evidence.model_copy(update={"metrics": {"mtd": 5.0}})})
    other = budget(130_000_000)
    assert old.content_key() == fresh.content_key() and old.hash != fresh.hash
    assert log.enqueue(old, {"rule": "r"}, thread_id="a", graph="audit", today=day) is None
    log.enqueue(other, {"rule": "r"}, thread_id="a", graph="audit", today=day)
    replaced = log.enqueue(fresh, {"rule": "r"}, thread_id="b", graph="audit", today=day + dt.timedelta(days=1))
    assert replaced is not None and replaced.change_hash == old.hash
    assert [i.change_hash for i in log.open_items()] == [fresh.hash, other.hash]
    assert [(v.change_hash, v.status) for v in log.history("sandbox:x", old.content_key())] == [
        (old.hash, "superseded"),
        (fresh.hash, "open"),
    ]
    assert {t.thread_id for t in log.threads(finished=True)} == set()  # thread a still holds `other`

    # A rejection of any version closes the content, on the run's day, and frees its thread.
    log.append(other, "rejected", decided_by="person:ben", message="not now", on=day)
    log.append(old, "applied", decided_by="person:ana")
    assert log.open_items() == []
    assert log.last_rejection("sandbox:x", other.content_key()).closed_on == day
    assert log.queue_item(fresh.id).status == "applied"
    assert {t.thread_id for t in log.threads(finished=True)} == {"a", "b"}


def test_an_old_log_gains_the_finished_column(tmp_path: Path) -> None:
    path = tmp_path / "changes.sqlite"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE threads (thread_id TEXT PRIMARY KEY, graph TEXT, account TEXT, started_at TEXT)")
    raw.execute("INSERT INTO threads VALUES ('t', 'audit', 'sandbox:x', '2026-11-20T00:00:00+00:00')")
    raw.commit()
    raw.close()
    [thread] = ChangeLog(path).threads()
    assert thread.thread_id == "t" and thread.finished_at is None


def _open_and_close(path: str) -> None:
    ChangeLog(Path(path)).close()


def test_processes_creating_one_change_log_at_once_all_open_it(tmp_path: Path) -> None:
    """Two audits starting together create the schema together; neither may fail with 'database is locked'."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(6) as pool:
        for round_ in range(15):
            pool.map(_open_and_close, [str(tmp_path / f"log-{round_}.sqlite")] * 6)
