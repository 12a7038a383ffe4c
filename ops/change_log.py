"""The change log: an append-only SQLite record of every change adpilot tried to apply.

Rows are never updated or deleted (triggers refuse it). Applying writes an `intent` row first and
a result row after the read-back, so a crash in between is found and reconciled on the next run.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from ads.changes import Change, parse_change
from ads.errors import AdpilotError

EntryStatus = Literal[
    "intent",
    "applied",
    "already_applied",
    "failed",
    "queued",
    "rejected",
    "reconciled",
    "abandoned",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    account TEXT NOT NULL,
    change_id TEXT NOT NULL,
    change_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    change_json TEXT NOT NULL,
    before_json TEXT NOT NULL DEFAULT '{}',
    after_json TEXT NOT NULL DEFAULT '{}',
    resource_names TEXT NOT NULL DEFAULT '[]',
    trace_id TEXT,
    message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS entries_hash ON entries (change_hash);
CREATE INDEX IF NOT EXISTS entries_account ON entries (account);
CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'the change log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS entries_no_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'the change log is append-only'); END;
CREATE TABLE IF NOT EXISTS threads (
    thread_id TEXT PRIMARY KEY,
    graph TEXT NOT NULL,
    account TEXT NOT NULL,
    started_at TEXT NOT NULL
);
"""


class LogEntry(BaseModel):
    id: int
    recorded_at: dt.datetime
    account: str
    change_id: str
    change_hash: str
    kind: str
    status: EntryStatus
    decided_by: str
    change: dict[str, Any]
    before: dict[str, Any]
    after: dict[str, Any]
    resource_names: list[str]
    trace_id: str | None
    message: str

    def parsed_change(self) -> Change:
        return parse_change(self.change)


class ThreadRecord(BaseModel):
    thread_id: str
    graph: str
    account: str
    started_at: dt.datetime


class ChangeLog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as error:
            raise AdpilotError(f"{path}: not a readable change log ({error})") from error

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def append(
        self,
        change: Change,
        status: EntryStatus,
        *,
        decided_by: str,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        resource_names: tuple[str, ...] | list[str] = (),
        trace_id: str | None = None,
        message: str = "",
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO entries (recorded_at, account, change_id, change_hash, kind, status, decided_by,"
                " change_json, before_json, after_json, resource_names, trace_id, message)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    dt.datetime.now(dt.UTC).isoformat(),
                    change.account,
                    change.id,
                    change.hash,
                    change.kind,
                    status,
                    decided_by,
                    change.model_dump_json(),
                    json.dumps(before or {}, default=str),
                    json.dumps(after or {}, default=str),
                    json.dumps(list(resource_names)),
                    trace_id,
                    message,
                ),
            )

    def entries(
        self, *, account: str | None = None, change: str | None = None, limit: int | None = None
    ) -> list[LogEntry]:
        """Newest first. `change` matches a change id or full hash."""
        sql, params = "SELECT * FROM entries WHERE 1=1", list[str | int]()
        if account:
            sql, params = sql + " AND account = ?", [*params, account]
        if change:
            sql, params = sql + " AND (change_id = ? OR change_hash = ?)", [*params, change, change]
        sql += " ORDER BY id DESC" + (f" LIMIT {int(limit)}" if limit else "")
        return [self._entry(row) for row in self._db.execute(sql, params)]

    def entry(self, entry_id: int) -> LogEntry:
        row = self._db.execute("SELECT * FROM entries WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise AdpilotError(f"no change log entry {entry_id} (see `adpilot changes log`)")
        return self._entry(row)

    def latest(self, change_hash: str) -> LogEntry | None:
        found = self.entries(change=change_hash, limit=1)
        return found[0] if found else None

    def is_applied(self, change_hash: str) -> bool:
        latest = self.latest(change_hash)
        return latest is not None and latest.status in ("applied", "already_applied", "reconciled")

    def unresolved_intents(self, account: str) -> list[LogEntry]:
        """Intents with no later result: the process stopped between apply and log."""
        rows = self._db.execute(
            "SELECT * FROM entries e WHERE account = ? AND status = 'intent' AND NOT EXISTS ("
            " SELECT 1 FROM entries later WHERE later.change_hash = e.change_hash AND later.id > e.id)",
            (account,),
        )
        return [self._entry(row) for row in rows]

    def budget_changes_since(self, budget_id: str, since: dt.datetime) -> int:
        rows = self._db.execute(
            "SELECT change_json FROM entries WHERE kind = 'set_budget' AND status = 'applied' AND recorded_at >= ?",
            (since.isoformat(),),
        )
        return sum(1 for (text,) in rows if json.loads(text).get("budget_id") == budget_id)

    def register_thread(self, thread_id: str, graph: str, account: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO threads (thread_id, graph, account, started_at) VALUES (?,?,?,?)",
                (thread_id, graph, account, dt.datetime.now(dt.UTC).isoformat()),
            )

    def threads(self, graph: str | None = None) -> list[ThreadRecord]:
        sql = "SELECT thread_id, graph, account, started_at FROM threads"
        rows = self._db.execute(
            sql + (" WHERE graph = ?" if graph else "") + " ORDER BY started_at DESC", (graph,) if graph else ()
        )
        return [ThreadRecord(thread_id=r[0], graph=r[1], account=r[2], started_at=r[3]) for r in rows]

    def close(self) -> None:
        self._db.close()

    @staticmethod
    def _entry(row: tuple) -> LogEntry:
        (
            id_,
            recorded_at,
            account,
            change_id,
            change_hash,
            kind,
            status,
            decided_by,
            change_json,
            before_json,
            after_json,
            resource_names,
            trace_id,
            message,
        ) = row
        return LogEntry(
            id=id_,
            recorded_at=recorded_at,
            account=account,
            change_id=change_id,
            change_hash=change_hash,
            kind=kind,
            status=status,
            decided_by=decided_by,
            change=json.loads(change_json),
            before=json.loads(before_json),
            after=json.loads(after_json),
            resource_names=json.loads(resource_names),
            trace_id=trace_id,
            message=message,
        )
