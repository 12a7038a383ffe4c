"""Scheduled audits: what is due, missed runs, one run per due time, the in-process scheduler, and the CLI that a
system cron calls, with notifications to a local SMTP server and a local webhook receiver."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.scheduler import AuditScheduler, ScheduledAudits
from app.settings import load_settings
from sandbox import GOOGLE_ACCOUNT
from tests.cli_runner import run
from tests.local_servers import serve
from tests.local_smtp import Mailbox, smtp_server, write_certificate

MISSING = "sandbox:closed-down"  # no such account: its audits fail at once, which is what these tests need


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def hooks() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    def handle(path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        received.append(json.loads(body))
        return 200, b"ok"

    with serve(handle) as base:
        yield f"{base}/services/T0/B0/SECRET", received


def accounts_file(home: Path, monkeypatch: pytest.MonkeyPatch, plans: dict[str, dict[str, Any]]) -> Path:
    path = home / "accounts.yaml"
    path.write_text(json.dumps(plans), encoding="utf-8")  # JSON is YAML
    monkeypatch.setenv("ADPILOT_ACCOUNTS", str(path))
    return path


def test_a_new_schedule_owes_nothing_then_runs_once_per_due_time_and_a_missed_run_is_run_and_noted(
    home: Path, monkeypatch: pytest.MonkeyPatch, hooks: tuple[str, list[dict[str, Any]]]
) -> None:
    hook, received = hooks
    accounts_file(home, monkeypatch, {MISSING: {"schedule": "0 6 * * *", "notify": [hook]}})
    clock = Clock(dt.datetime(2026, 11, 20, 5, 0, tzinfo=dt.UTC))
    audits = ScheduledAudits(load_settings(), clock=clock)
    assert audits.due() == []  # first seen at 05:00: yesterday's 06:00 was before its time

    clock.now = dt.datetime(2026, 11, 20, 6, 2, tzinfo=dt.UTC)
    [due] = audits.due()
    assert due.due_at == dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC) and due.missed == 0 and due.note is None
    [record] = audits.run_due()
    assert record.outcome == "failed" and MISSING in (record.error or "") and "\n" not in (record.error or "")
    assert [d.ok for d in record.deliveries] == [True]
    assert "The audit failed: " in received[0]["text"] and "SECRET" not in record.deliveries[0].target
    assert audits.run_due() == []  # that due time has run

    # The machine was off for three mornings: one run at the next start, which says what was missed.
    clock.now = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
    [due] = audits.due()
    assert due.due_at == dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC) and due.missed == 3
    [record] = audits.run_due()
    assert record.note and record.note.startswith("Missed run (3 scheduled times passed")
    assert record.note in received[1]["text"]
    assert audits.run_due() == []
    assert [r.due_at.day for r in audits.log.records(MISSING)] == [20, 23]


def test_two_processes_run_a_due_audit_once(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    accounts_file(home, monkeypatch, {MISSING: {"schedule": "*/30 * * * *"}})
    clock = Clock(dt.datetime(2026, 11, 20, 5, 59, tzinfo=dt.UTC))
    first, second = (ScheduledAudits(load_settings(), clock=clock) for _ in range(2))
    assert first.due() == []
    clock.now = dt.datetime(2026, 11, 20, 6, 1, tzinfo=dt.UTC)
    [due] = first.due()
    assert second.due() == [due]
    assert first.run(due) is not None
    assert second.run(due) is None  # claimed by the first
    assert second.run_due() == []


def test_the_in_process_scheduler_runs_a_missed_run_at_start_and_keeps_the_crons(
    home: Path, monkeypatch: pytest.MonkeyPatch, hooks: tuple[str, list[dict[str, Any]]]
) -> None:
    hook, received = hooks
    accounts_file(home, monkeypatch, {MISSING: {"schedule": "0 6 * * *", "notify": [hook]}})
    clock = Clock(dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    audits = ScheduledAudits(load_settings(), clock=clock)
    assert audits.due() == []  # seen three days ago; the process was not running since
    clock.now = dt.datetime.now(dt.UTC)
    scheduler = AuditScheduler(audits)
    scheduler.start()
    try:
        deadline = time.monotonic() + 30
        while not received and time.monotonic() < deadline:
            time.sleep(0.1)
        jobs = scheduler.jobs()
    finally:
        scheduler.shutdown()
    assert received and "Missed run (" in received[0]["text"]
    next_run = jobs[MISSING]
    assert next_run is not None and (next_run.hour, next_run.minute) == (6, 0)


def test_schedule_list_and_run_now_audit_and_notify_by_email_and_webhook(
    home: Path, monkeypatch: pytest.MonkeyPatch, hooks: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    hook, received = hooks
    certificate = write_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    accounts_file(
        home,
        monkeypatch,
        {
            GOOGLE_ACCOUNT: {
                "schedule": "0 6 * * 1-5",
                "schedule_time_zone": "Europe/Berlin",
                "notify": ["a@x.io", hook],
            },
            "sandbox:unscheduled": {"brand_terms": ["x"]},
        },
    )
    monkeypatch.setenv("ADPILOT_BASE_URL", "http://127.0.0.1:8765/")
    code, out, _ = run("schedule", "list", "--json")
    assert code == 0
    [listed] = json.loads(out)
    assert listed["account"] == GOOGLE_ACCOUNT and listed["emails"] == ["a@x.io"]
    assert listed["webhook_hosts"] == ["127.0.0.1"] and "webhooks" not in listed and "SECRET" not in out
    next_run = dt.datetime.fromisoformat(listed["next_run"])
    assert next_run.utcoffset() == dt.timedelta(hours=1) and (next_run.hour, next_run.weekday() < 5) == (6, True)

    mailbox: Mailbox
    with smtp_server(certificate) as (url, mailbox):
        monkeypatch.setenv("ADPILOT_SMTP_URL", url)
        code, out, err = run("schedule", "run", "--now", "--json")
    assert code == 0, err
    [record] = json.loads(out)
    assert record["outcome"] == "completed" and record["note"] == "Run by hand (adpilot schedule run --now)."
    assert [d["ok"] for d in record["deliveries"]] == [True, True]
    document = json.loads(Path(record["report"]).with_suffix(".json").read_text())
    summary = document["summary"]
    counts = f"{summary['applied']} applied · {summary['waiting']} waiting for approval · {summary['blocked']} blocked"

    [payload] = received
    assert counts in payload["text"] and summary["matters"].replace("&", "&amp;")[:40] in payload["text"]
    assert "<http://127.0.0.1:8765/?account=sandbox%3Atrailhead|Open the inbox>" in payload["text"]
    assert f"<http://127.0.0.1:8765/reports/{Path(record['report']).stem}|Read the report>" in payload["text"]

    [message] = mailbox.messages
    assert mailbox.tls_used == [True] and message["To"] == "a@x.io"
    body = message.get_body(("plain",))
    assert body is not None and counts in body.get_content()
    [attached] = message.iter_attachments()
    assert attached.get_content() == Path(record["report"]).read_text(encoding="utf-8")

    code, out, _ = run("schedule", "list")
    assert code == 0 and "completed" in out


def test_schedule_run_exits_non_zero_when_an_audit_failed_and_says_why(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts_file(home, monkeypatch, {MISSING: {"schedule": "0 6 * * *"}})
    code, out, _ = run("schedule", "run", "--now")
    assert code == 1
    assert f"failed: {MISSING}" in out and "unknown account" in out.lower()
    code, out, _ = run("schedule", "run")
    assert code == 0 and "Nothing is due (1 scheduled account)." in out


def test_a_bad_schedule_or_target_names_the_file_account_and_field(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = accounts_file(home, monkeypatch, {MISSING: {"schedule": "0 25 * * *"}})
    code, _, err = run("schedule", "list")
    assert code == 1 and f"{path}: {MISSING}: schedule:" in err and "23" in err
    accounts_file(home, monkeypatch, {MISSING: {"schedule": "0 6 * * *", "notify": ["ppc at acme"]}})
    code, _, err = run("schedule", "list")
    assert code == 1 and "notify.0:" in err and "neither an email address nor an http(s) webhook URL" in err
