"""Scheduled audits: each account's `schedule` (cron) in the accounts file, run and told to its `notify` targets.

Two front doors share this module: `adpilot schedule run`, which a system cron calls and which runs what is due
then exits, and `AuditScheduler`, which runs the same schedule inside a long-lived process (`adpilot serve`)
with APScheduler.

What ran is kept in `$ADPILOT_HOME/schedule.sqlite`, one row per (account, due time), claimed before the audit
starts: two processes never run the same due audit twice, and a run missed while the machine was off is run at
the next start (once, however many were missed) and its notification says so.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, Field, computed_field

from ads.account_plan import AccountPlan, load_account_plans
from ads.errors import AdpilotError
from app.settings import Settings
from ops.locks import write_transaction
from ops.notifications import TOP_PROPOSALS, AuditNotification, Delivery, deliver
from ops.policy_metrics import PolicyMetrics, send_scores
from ops.report import ExecutiveSummary

# A run that starts this long after its due time was missed (the machine was off, nothing was running).
MISSED_AFTER = dt.timedelta(minutes=15)
# How far back missed runs are looked for: a monthly schedule's last run is still found.
LOOKBACK = dt.timedelta(days=35)


class ScheduledAccount(BaseModel):
    """An account with a schedule, and when it ran and runs next."""

    model_config = ConfigDict(frozen=True)

    account: str
    schedule: str
    time_zone: str
    emails: tuple[str, ...]
    # A webhook URL is a secret (whoever has it can post): dumps and listings show only its host.
    webhooks: tuple[str, ...] = Field(exclude=True)
    last_due: dt.datetime | None
    last_outcome: str | None
    next_run: dt.datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def webhook_hosts(self) -> tuple[str, ...]:
        return tuple(urlsplit(url).hostname or "" for url in self.webhooks)

    def trigger(self) -> CronTrigger:
        return CronTrigger.from_crontab(self.schedule, timezone=ZoneInfo(self.time_zone))


class DueRun(BaseModel):
    model_config = ConfigDict(frozen=True)

    account: ScheduledAccount
    due_at: dt.datetime
    missed: int = 0
    missed_at_least: bool = False
    by_hand: bool = False

    @property
    def note(self) -> str | None:
        if self.by_hand:
            return "Run by hand (adpilot schedule run --now)."
        if not self.missed:
            return None
        many = f"at least {self.missed}" if self.missed_at_least else str(self.missed)
        return (
            f"Missed run ({many} scheduled time{'s' if self.missed != 1 else ''} passed while adpilot was not "
            f"running, the last {self.due_at:%Y-%m-%d %H:%M %Z}); run at the next start."
        )


class RunRecord(BaseModel):
    """One scheduled audit as it ended."""

    model_config = ConfigDict(frozen=True)

    account: str
    due_at: dt.datetime
    started_at: dt.datetime
    finished_at: dt.datetime
    outcome: Literal["completed", "failed"]
    note: str | None
    error: str | None
    report: str | None
    thread: str | None
    deliveries: tuple[Delivery, ...]


class ScheduleLog:
    """What ran when, in SQLite beside the change log: the last due time per account, and each run's outcome."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60.0)
        self._lock = threading.Lock()
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS schedule_runs (
                account TEXT NOT NULL, due_at TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,
                outcome TEXT, record TEXT, PRIMARY KEY (account, due_at));
            CREATE TABLE IF NOT EXISTS schedule_seen (account TEXT PRIMARY KEY, seen_at TEXT NOT NULL);
            """
        )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, write_transaction(self._db) as db:
            yield db

    def last_due(self, account: str) -> tuple[dt.datetime | None, str | None]:
        with self._lock:
            row = self._db.execute(
                "SELECT due_at, outcome FROM schedule_runs WHERE account = ? ORDER BY due_at DESC LIMIT 1", (account,)
            ).fetchone()
        return (dt.datetime.fromisoformat(row[0]), row[1]) if row else (None, None)

    def seen_at(self, account: str, now: dt.datetime) -> dt.datetime:
        """When the schedule was first seen: the start of its history, so a new schedule owes no past runs."""
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO schedule_seen VALUES (?, ?)", (account, now.isoformat()))
            row = db.execute("SELECT seen_at FROM schedule_seen WHERE account = ?", (account,)).fetchone()
        return dt.datetime.fromisoformat(row[0])

    def claim(self, account: str, due_at: dt.datetime, now: dt.datetime) -> bool:
        """True for the one process that is to run this due audit."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO schedule_runs (account, due_at, started_at) VALUES (?, ?, ?)",
                (account, due_at.isoformat(), now.isoformat()),
            )
            return cursor.rowcount == 1

    def finish(self, record: RunRecord) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE schedule_runs SET finished_at = ?, outcome = ?, record = ? WHERE account = ? AND due_at = ?",
                (
                    record.finished_at.isoformat(),
                    record.outcome,
                    record.model_dump_json(),
                    record.account,
                    record.due_at.isoformat(),
                ),
            )

    def records(self, account: str) -> list[RunRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT record FROM schedule_runs WHERE account = ? AND record IS NOT NULL ORDER BY due_at", (account,)
            ).fetchall()
        return [RunRecord.model_validate_json(r[0]) for r in rows]

    def close(self) -> None:
        self._db.close()


def schedule_log(settings: Settings) -> ScheduleLog:
    return ScheduleLog(settings.home / "schedule.sqlite")


def scheduled_accounts(settings: Settings, log: ScheduleLog, now: dt.datetime) -> list[ScheduledAccount]:
    """Every account of the accounts file with a `schedule`, with its last and next run."""
    plans: dict[str, AccountPlan] = load_account_plans(settings.accounts_path) if settings.accounts_path else {}
    found = []
    for name, plan in sorted(plans.items()):
        if plan.schedule is None:
            continue
        last_due, last_outcome = log.last_due(name)
        trigger = CronTrigger.from_crontab(plan.schedule, timezone=ZoneInfo(plan.schedule_time_zone))
        found.append(
            ScheduledAccount(
                account=name,
                schedule=plan.schedule,
                time_zone=plan.schedule_time_zone,
                emails=plan.notify_emails,
                webhooks=plan.notify_webhooks,
                last_due=last_due,
                last_outcome=last_outcome,
                next_run=trigger.get_next_fire_time(None, now),
            )
        )
    return found


def due_runs(accounts: list[ScheduledAccount], log: ScheduleLog, now: dt.datetime) -> list[DueRun]:
    """The audits due at `now`: the latest scheduled time since each account's last run (or since its schedule
    was first seen) that has passed. A run due long ago, or several, were missed: they come down to this one."""
    due = []
    for account in accounts:
        since = account.last_due or log.seen_at(account.account, now)
        start = max(since, now - LOOKBACK)
        trigger = account.trigger()
        fire = trigger.get_next_fire_time(None, start + dt.timedelta(seconds=1))
        latest, passed = None, 0
        while fire is not None and fire <= now:
            latest, passed = fire, passed + 1
            fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(seconds=1))
        if latest is None:
            continue
        missed = passed if passed > 1 or now - latest > MISSED_AFTER else 0
        due.append(DueRun(account=account, due_at=latest, missed=missed, missed_at_least=start > since))
    return due


class ScheduledAudits:
    """Runs due audits and notifies: what `adpilot schedule run` and `AuditScheduler` both call."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], dt.datetime] | None = None,
        base_url: str | None = None,
    ) -> None:
        self.settings = settings
        self.log = schedule_log(settings)
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.base_url = (base_url or settings.base_url or "").rstrip("/") or None

    def accounts(self) -> list[ScheduledAccount]:
        return scheduled_accounts(self.settings, self.log, self.clock())

    def due(self, *, everything: bool = False) -> list[DueRun]:
        now = self.clock()
        accounts = self.accounts()
        if everything:
            return [DueRun(account=a, due_at=now, by_hand=True) for a in accounts]
        return due_runs(accounts, self.log, now)

    def run_due(self, *, everything: bool = False) -> list[RunRecord]:
        """Run what is due (everything with `everything`), one account after the other; claimed runs only."""
        return [record for run in self.due(everything=everything) if (record := self.run(run)) is not None]

    def run(self, due: DueRun) -> RunRecord | None:
        """Audit one account and notify its targets; None when another process has claimed this run."""
        name = due.account.account
        started = self.clock()
        if not self.log.claim(name, due.due_at, started):
            return None
        notification, thread, report = self._audit(due)
        deliveries = deliver(
            notification,
            emails=due.account.emails,
            webhooks=due.account.webhooks,
            smtp_url=self.settings.smtp_url,
            sender=self.settings.smtp_from,
        )
        record = RunRecord(
            account=name,
            due_at=due.due_at,
            started_at=started,
            finished_at=self.clock(),
            outcome=notification.outcome,
            note=due.note,
            error=notification.error,
            report=report,
            thread=thread,
            deliveries=tuple(deliveries),
        )
        self.log.finish(record)
        return record

    def _audit(self, due: DueRun) -> tuple[AuditNotification, str | None, str | None]:
        """The audit's notification, its thread and its report; a failed audit's one line is the notification."""
        import json

        from policies.screening import mask_sensitive

        name = due.account.account
        base = {"account": mask_sensitive(name), "due_at": due.due_at, "note": due.note}
        inbox = f"{self.base_url}/?account={quote(name)}" if self.base_url else None
        try:
            # Imported here: `schedule list` and a `schedule run` with nothing due need none of the graphs.
            from app.session import Session

            session = Session(self.settings)
            outcome = session.audit(name)
            display_name = session.open_account(outcome.values["account"]).account.display_name
        except AdpilotError as error:
            line = " ".join(str(error).split())
            return AuditNotification(**base, display_name=base["account"], outcome="failed", error=line), None, None
        except Exception as error:  # an unattended run must still tell someone, whatever broke
            line = f"{type(error).__name__}: {' '.join(str(error).split())}"
            return AuditNotification(**base, display_name=base["account"], outcome="failed", error=line), None, None
        report = outcome.values.get("report", {})
        # The report's JSON twin holds the summary and proposals, masked: the notification says what it says.
        document = json.loads(Path(report["json"]).read_text(encoding="utf-8"))
        html = Path(report["html"])
        waiting = [f"{p['id']}: {p['summary']}" for p in document["proposals"] if p["status"] == "pending"]
        policy = PolicyMetrics.model_validate(document["policy"]) if document.get("policy") else None
        if policy and self.settings.langfuse_public_key and self.settings.langfuse_secret_key:
            send_scores(session.tracing.client, policy)
            session.tracing.flush()
        notification = AuditNotification(
            **base,
            display_name=mask_sensitive(display_name),
            outcome="completed",
            summary=ExecutiveSummary.model_validate(document["summary"]),
            waiting=tuple(waiting[:TOP_PROPOSALS]),
            drift=tuple(a.message for a in policy.alerts) if policy else (),
            inbox_url=inbox,
            report_url=f"{self.base_url}/reports/{quote(html.stem)}" if self.base_url else None,
            report_path=html,
        )
        return notification, outcome.thread_id, str(html)

    def close(self) -> None:
        self.log.close()


class AuditScheduler:
    """The schedule inside a long-lived process (`adpilot serve`): APScheduler fires each account's cron, and
    `start()` first runs what was missed while nothing was running."""

    def __init__(self, audits: ScheduledAudits) -> None:
        self.audits = audits
        # One audit at a time: they share the machine with the web app, and coalesce any backlog into one run.
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=dt.UTC,
        )

    def start(self) -> None:
        for account in self.audits.accounts():
            self._scheduler.add_job(
                self._fire, account.trigger(), args=[account.account], id=account.account, replace_existing=True
            )
        # The catch-up runs in the scheduler's thread too, so start() returns at once.
        self._scheduler.add_job(self._catch_up, id="catch-up")
        self._scheduler.start()

    def _catch_up(self) -> None:
        self.audits.run_due()

    def _fire(self, account: str) -> None:
        # The cron fired: the due run is the latest time that has passed for it (the same rule as `schedule run`).
        for run in self.audits.due():
            if run.account.account == account:
                self.audits.run(run)

    def jobs(self) -> dict[str, dt.datetime | None]:
        return {job.id: job.next_run_time for job in self._scheduler.get_jobs()}

    def shutdown(self) -> None:
        self._scheduler.shutdown(wait=True)
        self.audits.close()
