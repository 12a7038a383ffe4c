"""The change log: an append-only SQLite record of every change adpilot tried to apply.

Rows are never updated or deleted (triggers refuse it). Applying writes an `intent` row first and
a result row after the read-back, so a crash in between is found and reconciled on the next run.
Each intent holds a lease naming its process, so a reconcile never settles another live run's intent.

Beside the log: `answers`, one row per change hash that a person answered (claimed before the run
resumes, settled after), so two people cannot both answer one change; `queue`, the index of what waits
for a person (one row per proposed version, at most one open per account and content: a change proposed
again while an equal one waits takes that one's place, and the older row stays as its history; the log's
entries close rows in the same transaction); `decisions`, the gate's decision on each proposed change in
each run, with the digest of the policy that made it (what `ops.policy_metrics` counts); and lock files for the
per-thread and per-account critical sections (`ops.locks`).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ads.changes import Change, parse_change
from ads.errors import AdpilotError, StaleApprovalError
from ads.statuses import APPLIED_STATUSES, EntryStatus, QueueStatus
from ops.locks import exclusive, lock_path, owner_alive, process_owner, write_transaction

if TYPE_CHECKING:
    from policies.gate import Decision

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
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    content_key TEXT NOT NULL,
    change_hash TEXT NOT NULL,
    change_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    graph TEXT NOT NULL,
    change_json TEXT NOT NULL,
    decision_json TEXT NOT NULL,
    proposed_at TEXT NOT NULL,
    proposed_on TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    closed_at TEXT,
    closed_on TEXT,
    closed_by TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    replaced_by TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS queue_one_open ON queue (account, content_key) WHERE status = 'open';
CREATE INDEX IF NOT EXISTS queue_status ON queue (status, id);
CREATE INDEX IF NOT EXISTS queue_content ON queue (account, content_key, id);
CREATE INDEX IF NOT EXISTS queue_hash ON queue (change_hash, id);
CREATE INDEX IF NOT EXISTS queue_change_id ON queue (change_id, id);
CREATE INDEX IF NOT EXISTS queue_thread ON queue (thread_id, status);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    decided_at TEXT NOT NULL,
    decided_on TEXT NOT NULL,
    account TEXT NOT NULL,
    change_id TEXT NOT NULL,
    change_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    outcome TEXT NOT NULL,
    rule TEXT NOT NULL,
    policy TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    graph TEXT NOT NULL,
    UNIQUE (thread_id, change_hash)
);
CREATE INDEX IF NOT EXISTS decisions_account ON decisions (account, decided_on);
"""

# How a log entry closes the open queue row it answers: (the row's status, whether every open row with the
# change's content closes, not only this version). Applying, rejecting or editing settles the content, whichever
# version was answered; a failure, a platform queue or a refusal concerns the version sent.
QUEUE_CLOSES: dict[str, tuple[QueueStatus, bool]] = {
    "applied": ("applied", True),
    "already_applied": ("applied", True),
    "reconciled": ("applied", True),
    "rejected": ("rejected", True),
    "edited": ("edited", True),
    "failed": ("failed", False),
    "queued": ("queued", False),
    "blocked": ("blocked", False),
}

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
    finished_at: dt.datetime | None = None  # set once nothing in the thread waits for a person


class QueueItem(BaseModel):
    """One proposed version of a change that waited, or waits, for a person."""

    id: int
    account: str
    content_key: str
    change_hash: str
    change_id: str
    kind: str
    thread_id: str
    graph: str
    change: dict[str, Any]
    decision: dict[str, Any]
    proposed_at: dt.datetime
    proposed_on: dt.date  # the run's "today", which ADPILOT_TODAY may fix
    status: QueueStatus
    closed_at: dt.datetime | None
    closed_on: dt.date | None  # the answering run's "today"
    closed_by: str
    reason: str
    replaced_by: str | None

    def parsed_change(self) -> Change:
        return parse_change(self.change)

    def describe(self) -> str:
        """Why this version cannot be answered any more, as the tail of "change ID …"."""
        if self.status == "superseded" and self.replaced_by:
            return f"was proposed again as {self.replaced_by[:10]} with fresh evidence; answer that one"
        if self.status == "applied":
            return "is already applied; nothing to answer"
        by = f" by {self.closed_by.removeprefix('person:')}" if self.closed_by else ""
        when = f" at {self.closed_at:%Y-%m-%d %H:%M:%S} UTC" if self.closed_at else ""
        return f"is no longer pending (it was {self.status}{by}{when})"


class DecisionRecord(BaseModel):
    """The gate's decision on one proposed change in one run, as it was proposed (not the re-check before applying)."""

    id: int
    decided_at: dt.datetime
    decided_on: dt.date  # the run's "today", which ADPILOT_TODAY may fix
    account: str
    change_id: str
    change_hash: str
    kind: str
    outcome: str
    rule: str
    policy: str  # the policy's digest (`Policy.digest`)
    thread_id: str
    graph: str


class ChangeLog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        try:
            # Several processes share the file: wait for each other's write transactions instead of failing.
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60.0)
            self._switch_to_wal()
            # In one write transaction taken up front: two processes creating the schema at once would otherwise
            # each read it, then both ask to write, and SQLite fails one at once rather than wait (a deadlock).
            self._db.executescript(f"BEGIN IMMEDIATE;\n{SCHEMA}\nCOMMIT;")
            if not self._has_finished_column():  # a log from before threads were marked finished gains the column
                with self.transaction() as db:
                    if not self._has_finished_column():
                        db.execute("ALTER TABLE threads ADD COLUMN finished_at TEXT")
        except sqlite3.DatabaseError as error:
            raise AdpilotError(f"{path}: not a readable change log ({error})") from error

    def _switch_to_wal(self) -> None:
        # Changing the journal mode needs the file to itself and does not wait on the busy timeout: retry briefly.
        for attempt in range(600):
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or attempt == 599:
                    raise
                time.sleep(0.1)

    def _has_finished_column(self) -> bool:
        return "finished_at" in {row[1] for row in self._db.execute("PRAGMA table_info(threads)")}

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return write_transaction(self._db)

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
        on: dt.date | None = None,
    ) -> int:
        """Append one entry; an `intent` also takes a lease for this process, and a result closes the queue row it
        settles (see QUEUE_CLOSES), on the run's day `on`. Returns the entry id."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO entries (recorded_at, account, change_id, change_hash, kind, status, decided_by,"
                " change_json, before_json, after_json, resource_names, trace_id, message)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    _now(),
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
            self._close_queued(db, change, status, decided_by=decided_by, reason=message, on=on)
        return entry_id

    def _close_queued(
        self, db: sqlite3.Connection, change: Change, status: str, *, decided_by: str, reason: str, on: dt.date | None
    ) -> None:
        if status not in QUEUE_CLOSES:
            return
        closed, whole_content = QUEUE_CLOSES[status]
        where, params = (
            ("account = ? AND content_key = ?", [change.account, change.content_key()])
            if whole_content
            else ("change_hash = ?", [change.hash])
        )
        threads = {
            row[0] for row in db.execute(f"SELECT thread_id FROM queue WHERE status = 'open' AND {where}", params)
        }
        db.execute(
            f"UPDATE queue SET status = ?, closed_at = ?, closed_on = ?, closed_by = ?, reason = ?"
            f" WHERE status = 'open' AND {where}",
            [closed, _now(), on.isoformat() if on else None, decided_by, reason, *params],
        )
        _finish_idle(db, threads)

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
            "SELECT change_json FROM entries WHERE kind IN ('set_budget', 'reallocate_budget') AND status = 'applied' "
            "AND recorded_at >= ?",
            (since.isoformat(),),
        )
        # A reallocation changes each budget it has a leg for.
        return sum(
            1
            for (text,) in rows
            if budget_id
            in {(data := json.loads(text)).get("budget_id"), *(leg["budget_id"] for leg in data.get("legs", ()))}
        )

    def budget_directions_since(self, account: str, since: dt.date) -> dict[str, int]:
        """Budget id -> +1 (raised) or -1 (cut): its last applied budget change recorded on or after `since`."""
        rows = self._db.execute(
            "SELECT change_json FROM entries WHERE kind IN ('set_budget', 'reallocate_budget') "
            f"AND status IN ({','.join('?' * len(APPLIED_STATUSES))}) AND account = ? AND recorded_at >= ? ORDER BY id",
            (*sorted(APPLIED_STATUSES), account, dt.datetime.combine(since, dt.time(), dt.UTC).isoformat()),
        )
        directions: dict[str, int] = {}
        for (text,) in rows:
            data = json.loads(text)
            for edit in data.get("legs") or [data]:
                if edit["to_amount"] != edit["from_amount"]:
                    directions[edit["budget_id"]] = 1 if edit["to_amount"] > edit["from_amount"] else -1
        return directions

    def register_thread(self, thread_id: str, graph: str, account: str) -> None:
        with self.transaction() as db:
            _register_thread(db, thread_id, graph, account)

    def threads(self, graph: str | None = None, *, finished: bool | None = None) -> list[ThreadRecord]:
        sql, params = "SELECT thread_id, graph, account, started_at, finished_at FROM threads WHERE 1=1", list[str]()
        if graph:
            sql, params = sql + " AND graph = ?", [graph]
        if finished is not None:
            sql += " AND finished_at IS NOT NULL" if finished else " AND finished_at IS NULL"
        rows = self._db.execute(sql + " ORDER BY started_at DESC", params)
        keys = ("thread_id", "graph", "account", "started_at", "finished_at")
        return [ThreadRecord(**dict(zip(keys, row, strict=True))) for row in rows]

    def finish_thread(self, thread_id: str) -> None:
        """Mark the thread finished if nothing in it waits for a person."""
        with self.transaction() as db:
            _finish_idle(db, {thread_id})

    # ---- the queue ------------------------------------------------------------------------

    def enqueue(
        self, change: Change, decision: dict[str, Any], *, thread_id: str, graph: str, today: dt.date
    ) -> QueueItem | None:
        """Put a change that waits for a person in the queue, in `thread_id`'s run. The open version with the same
        content (in any run) is superseded by it: this one takes its place, with the fresh evidence, and the older
        row stays as history. Returns the superseded version, if any."""
        now = _now()
        with self.transaction() as db:
            _register_thread(db, thread_id, graph, change.account)
            previous = self._queue_row(
                db,
                "account = ? AND content_key = ? AND status = 'open'",
                (change.account, change.content_key()),
            )
            if previous is not None:
                db.execute(
                    "UPDATE queue SET status = 'superseded', closed_at = ?, replaced_by = ? WHERE id = ?",
                    (now, change.hash, previous.id),
                )
            # A version answered before and proposed again (its cooling-off over, or rolled back since) is open again.
            db.execute("DELETE FROM answers WHERE change_hash = ? AND settled = 1", (change.hash,))
            db.execute(
                "INSERT INTO queue (account, content_key, change_hash, change_id, kind, thread_id, graph, change_json,"
                " decision_json, proposed_at, proposed_on) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    change.account,
                    change.content_key(),
                    change.hash,
                    change.id,
                    change.kind,
                    thread_id,
                    graph,
                    change.model_dump_json(),
                    json.dumps(decision, default=str),
                    now,
                    today.isoformat(),
                ),
            )
            db.execute("UPDATE threads SET finished_at = NULL WHERE thread_id = ?", (thread_id,))
            if previous is not None:
                _finish_idle(db, {previous.thread_id})
        return previous

    def open_items(self, *, account: str | None = None, kind: str | None = None) -> list[QueueItem]:
        """What waits for a person, newest first: open rows no one is answering right now."""
        sql = (
            "SELECT * FROM queue q WHERE status = 'open'"
            " AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.change_hash = q.change_hash)"
        )
        params: list[str] = []
        if account:
            sql, params = sql + " AND account = ?", [*params, account]
        if kind:
            sql, params = sql + " AND kind = ?", [*params, kind]
        return [_queue_item(row) for row in self._db.execute(sql + " ORDER BY id DESC", params)]

    def open_hashes(self, thread_id: str) -> set[str]:
        rows = self._db.execute("SELECT change_hash FROM queue WHERE thread_id = ? AND status = 'open'", (thread_id,))
        return {row[0] for row in rows}

    def queue_item(self, change_ref: str) -> QueueItem | None:
        """The newest queue row of the change whose id or full hash is `change_ref`."""
        return self._queue_row(self._db, "change_hash = ? OR change_id = ?", (change_ref, change_ref))

    def history(self, account: str, content_key: str) -> list[QueueItem]:
        """Every version of one content that waited for a person, oldest first."""
        rows = self._db.execute(
            "SELECT * FROM queue WHERE account = ? AND content_key = ? ORDER BY id", (account, content_key)
        )
        return [_queue_item(row) for row in rows]

    def last_rejection(self, account: str, content_key: str) -> QueueItem | None:
        return self._queue_row(
            self._db, "account = ? AND content_key = ? AND status = 'rejected'", (account, content_key)
        )

    @staticmethod
    def _queue_row(db: sqlite3.Connection, where: str, params: tuple[str, ...]) -> QueueItem | None:
        row = db.execute(f"SELECT * FROM queue WHERE {where} ORDER BY id DESC LIMIT 1", params).fetchone()
        return None if row is None else _queue_item(row)

    # ---- the gate's decisions -----------------------------------------------------------------

    def record_decisions(
        self, decisions: list[Decision], *, account: str, policy: str, thread_id: str, graph: str, today: dt.date
    ) -> None:
        """Keep the gate's decisions on a run's proposals, with the policy's digest; once per change and thread, so
        a gate step run again after a crash adds nothing."""
        now = _now()
        with self.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO decisions (decided_at, decided_on, account, change_id, change_hash, kind,"
                " outcome, rule, policy, thread_id, graph) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (now, today.isoformat(), account, d.change_id, d.change_hash, d.kind, d.outcome, d.rule, policy)
                    + (thread_id, graph)
                    for d in decisions
                ],
            )

    def decisions(self, *, account: str | None = None, since: dt.date | None = None) -> list[DecisionRecord]:
        """The gate's decisions, oldest first; `since` compares with the run's day."""
        sql, params = "SELECT * FROM decisions WHERE 1=1", list[str]()
        if account:
            sql, params = sql + " AND account = ?", [*params, account]
        if since:
            sql, params = sql + " AND decided_on >= ?", [*params, since.isoformat()]
        rows = self._db.execute(sql + " ORDER BY id", params)
        return [DecisionRecord(**dict(zip(DecisionRecord.model_fields, row, strict=True))) for row in rows]

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
        someone else answered it first, and StaleApprovalError when the queue closed it (superseded by a newer
        version, applied); an unsettled claim of a process that died is taken over."""
        with self.transaction() as db:
            existing = self.answer(change.hash)
            if existing is not None:
                if existing.settled or owner_alive(existing.owner):
                    raise AlreadyAnsweredError(f"change {change.id} is {existing.describe()}")
                db.execute("DELETE FROM answers WHERE change_hash = ?", (change.hash,))
            queued = self._queue_row(db, "change_hash = ?", (change.hash,))
            if queued is not None and queued.status != "open":
                raise StaleApprovalError(f"change {change.id} {queued.describe()}")
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


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _register_thread(db: sqlite3.Connection, thread_id: str, graph: str, account: str) -> None:
    db.execute(
        "INSERT OR IGNORE INTO threads (thread_id, graph, account, started_at) VALUES (?,?,?,?)",
        (thread_id, graph, account, _now()),
    )


def _finish_idle(db: sqlite3.Connection, thread_ids: set[str]) -> None:
    """Mark each of `thread_ids` finished once no row of it is open."""
    for thread_id in thread_ids:
        db.execute(
            "UPDATE threads SET finished_at = ? WHERE thread_id = ? AND finished_at IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM queue WHERE thread_id = ? AND status = 'open')",
            (_now(), thread_id, thread_id),
        )


def _queue_item(row: tuple) -> QueueItem:
    keys = (
        "id",
        "account",
        "content_key",
        "change_hash",
        "change_id",
        "kind",
        "thread_id",
        "graph",
        "change",
        "decision",
        "proposed_at",
        "proposed_on",
        "status",
        "closed_at",
        "closed_on",
        "closed_by",
        "reason",
        "replaced_by",
    )
    fields = dict(zip(keys, row, strict=True))
    return QueueItem(**fields | {"change": json.loads(fields["change"]), "decision": json.loads(fields["decision"])})
