"""The change log: an append-only SQLite record of every change adpilot tried to apply.

Rows are never updated or deleted (triggers refuse it). Applying writes an `intent` row first and
a result row after the read-back, so a crash in between is found and reconciled on the next run.
Each intent holds a lease naming its process, so a reconcile never settles another live run's intent.

Beside the log: `answers`, one row per change hash that a person answered (claimed before the run
resumes, settled after), so two people cannot both answer one change; and lock files for the
per-thread and per-account critical sections (`ops.locks`).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ads.changes import Change, parse_change
from ads.errors import AdpilotError, StaleApprovalError
from ads.statuses import APPLIED_STATUSES, EntryStatus
from ops.locks import exclusive, lock_path, owner_alive, process_owner

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
CREATE TABLE IF NOT EXISTS leases (
    entry_id INTEGER PRIMARY KEY REFERENCES entries (id),
    owner TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS answers (
    change_hash TEXT PRIMARY KEY,
    change_id TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    type TEXT NOT NULL,
    answered_by TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    answered_at TEXT NOT NULL,
    owner TEXT NOT NULL,
    settled INTEGER NOT NULL DEFAULT 0
);
"""

# An intent's lease: long enough for one batch of API calls; past it another process may settle the intent.
INTENT_LEASE = dt.timedelta(minutes=15)


class AnswerRecord(BaseModel):
    change_hash: str
    change_id: str
    thread_id: str
    type: str
    answered_by: str
    reason: str
    answered_at: dt.datetime
    owner: str
    settled: bool

    def describe(self) -> str:
        verb = {"accept": "approved", "reject": "rejected", "edit": "edited"}.get(self.type, self.type)
        return f"already {verb} by {self.answered_by} at {self.answered_at:%Y-%m-%d %H:%M:%S} UTC"


class AlreadyAnsweredError(StaleApprovalError):
    """A second answer to a change that a person already answered."""


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
            # Several processes share the file: wait for each other's write transactions instead of failing.
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60.0)
            self._db.execute("PRAGMA journal_mode=WAL")
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
    ) -> int:
        """Append one entry; an `intent` also takes a lease for this process. Returns the entry id."""
        with self.transaction() as db:
            cursor = db.execute(
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
            entry_id = int(cursor.lastrowid or 0)
            if status == "intent":
                expires = dt.datetime.now(dt.UTC) + INTENT_LEASE
                db.execute(
                    "INSERT INTO leases (entry_id, owner, expires_at) VALUES (?,?,?)",
                    (entry_id, process_owner(), expires.isoformat()),
                )
        return entry_id

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
        return latest is not None and latest.status in APPLIED_STATUSES

    def unresolved_intents(self, account: str) -> list[LogEntry]:
        """Intents with no later result whose process is gone or whose lease ran out: it stopped between
        apply and log. A live process's intent in flight is left alone."""
        now = dt.datetime.now(dt.UTC)
        me = process_owner()
        leases = {
            entry_id: (owner, dt.datetime.fromisoformat(expires))
            for entry_id, owner, expires in self._db.execute("SELECT entry_id, owner, expires_at FROM leases")
        }

        def settled_elsewhere(entry: LogEntry) -> bool:
            owner, expires = leases.get(entry.id, ("", now))
            return owner != me and owner_alive(owner) and expires > now

        return [entry for entry in self._open_intents(account) if not settled_elsewhere(entry)]

    def _open_intents(self, account: str) -> list[LogEntry]:
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

    # ---- answers --------------------------------------------------------------------------

    def answer(self, change_ref: str) -> AnswerRecord | None:
        """The answer to the change whose full hash or id is `change_ref`, if a person answered it."""
        row = self._db.execute(
            "SELECT change_hash, change_id, thread_id, type, answered_by, reason, answered_at, owner, settled "
            "FROM answers WHERE change_hash = ? OR change_id = ?",
            (change_ref, change_ref),
        ).fetchone()
        if row is None:
            return None
        keys = ("change_hash", "change_id", "thread_id", "type", "answered_by", "reason", "answered_at", "owner")
        return AnswerRecord(**dict(zip(keys, row[:8], strict=True)), settled=bool(row[8]))

    def claim_answer(
        self, change: Change, *, thread_id: str, type: str, answered_by: str, reason: str = ""
    ) -> AnswerRecord:
        """Record that a person answers `change`, before the run acts on it. Raises AlreadyAnsweredError when
        someone else answered it first; an unsettled claim of a process that died is taken over."""
        with self.transaction() as db:
            existing = self.answer(change.hash)
            if existing is not None:
                if existing.settled or owner_alive(existing.owner):
                    raise AlreadyAnsweredError(f"change {change.id} is {existing.describe()}")
                db.execute("DELETE FROM answers WHERE change_hash = ?", (change.hash,))
            now = dt.datetime.now(dt.UTC).isoformat()
            db.execute(
                "INSERT INTO answers (change_hash, change_id, thread_id, type, answered_by, reason, answered_at, owner)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (change.hash, change.id, thread_id, type, answered_by, reason, now, process_owner()),
            )
        record = self.answer(change.hash)
        assert record is not None
        return record

    def settle_answer(self, change_hash: str) -> None:
        """The run acted on the answer: it is final."""
        with self.transaction() as db:
            db.execute("UPDATE answers SET settled = 1 WHERE change_hash = ?", (change_hash,))

    def release_answer(self, change_hash: str) -> None:
        """The run failed before acting on the answer: the change is open again."""
        with self.transaction() as db:
            db.execute("DELETE FROM answers WHERE change_hash = ? AND settled = 0", (change_hash,))

    def answered(self) -> set[str]:
        """Hashes of every change a person has answered (settled or in flight)."""
        return {row[0] for row in self._db.execute("SELECT change_hash FROM answers")}

    # ---- locks ----------------------------------------------------------------------------

    def exclusive(self, name: str, *, what: str) -> AbstractContextManager[None]:
        """A cross-process lock named `name`, kept beside the log (see ops.locks)."""
        return exclusive(lock_path(self.path.parent / "locks", name), what=what)

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
