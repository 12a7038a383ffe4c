"""Notifications against a local SMTP server (aiosmtpd, STARTTLS and AUTH) and a local webhook receiver."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ops.notifications import AuditNotification, deliver, slack_payload
from ops.report import ExecutiveSummary
from tests.local_servers import serve
from tests.local_smtp import Mailbox, smtp_server, write_certificate

DUE = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)


def notification(tmp_path: Path, **changes: Any) -> AuditNotification:
    report = tmp_path / "sandbox_trailhead-20261120T060000.html"
    report.write_text("<!doctype html><h1>Audit</h1>", encoding="utf-8")
    summary = ExecutiveSummary(
        changed="Applied 2: 2 negative keyword changes.",
        waits="3 wait for your approval: 3 new ad groups.",
        matters="About 700.00 USD a month goes to search terms that never converted; approving abc stops it.",
        applied=2,
        waiting=3,
        blocked=1,
        failed=0,
    )
    values: dict[str, Any] = {
        "account": "sandbox:trailhead",
        "display_name": "Trailhead <Outfitters> & Co",
        "outcome": "completed",
        "due_at": DUE,
        "summary": summary,
        "waiting": ("abc: Create ad group 'Headlamp'",),
        "inbox_url": "http://127.0.0.1:8765/?account=sandbox%3Atrailhead",
        "report_path": report,
    }
    return AuditNotification.model_validate(values | changes)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def smtp(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Mailbox]]:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # the client trusts the test's certificate only
    with smtp_server(certificate) as running:
        yield running


def test_an_email_goes_over_starttls_with_login_summary_links_and_the_report_attached(
    tmp_path: Path, smtp: tuple[str, Mailbox]
) -> None:
    url, mailbox = smtp
    sent = deliver(
        notification(tmp_path), emails=("a@example.com", "b@example.com"), webhooks=(), smtp_url=url, sender="ap@x.io"
    )
    assert [d.ok for d in sent] == [True], sent
    assert mailbox.tls_used == [True]
    message = mailbox.messages[0]
    assert message["To"] == "a@example.com, b@example.com"
    assert message["Subject"].strip() == "adpilot audit of Trailhead <Outfitters> & Co: 2 applied, 3 waiting, 1 blocked"
    body = message.get_body(("plain",)).get_content()
    assert "2 applied · 3 waiting for approval · 1 blocked" in body
    assert "About 700.00 USD a month" in body and "- abc: Create ad group 'Headlamp'" in body
    assert "Inbox: http://127.0.0.1:8765/?account=sandbox%3Atrailhead" in body
    [attached] = message.iter_attachments()
    assert attached.get_filename() == "sandbox_trailhead-20261120T060000.html"
    assert attached.get_content() == "<!doctype html><h1>Audit</h1>"


def test_wrong_credentials_or_no_starttls_are_reported_and_nothing_is_sent_in_clear(
    tmp_path: Path, smtp: tuple[str, Mailbox]
) -> None:
    url, mailbox = smtp
    wrong = deliver(
        notification(tmp_path), emails=("a@example.com",), webhooks=(), smtp_url=url.replace("s3cret", "x"), sender="s"
    )
    assert not wrong[0].ok and "SMTPAuthenticationError" in (wrong[0].error or "")

    with smtp_server(None) as (plain_url, plain):  # offers no STARTTLS
        refused = deliver(notification(tmp_path), emails=("a@x.io",), webhooks=(), smtp_url=plain_url, sender="s")
    assert not refused[0].ok and "STARTTLS" in (refused[0].error or "").upper()
    assert plain.messages == [] and mailbox.messages == []


def test_email_targets_without_an_smtp_url_are_reported_not_dropped(tmp_path: Path) -> None:
    [delivery] = deliver(notification(tmp_path), emails=("a@x.io",), webhooks=(), smtp_url=None, sender="s")
    assert not delivery.ok and delivery.error == "ADPILOT_SMTP_URL is not set"


def test_a_webhook_gets_a_slack_shaped_body_with_strangers_text_escaped(tmp_path: Path) -> None:
    received: list[dict[str, Any]] = []

    def handle(path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        assert headers["content-type"] == "application/json"
        received.append(json.loads(body))
        return 200, b"ok"

    with serve(handle) as base:
        [delivery] = deliver(
            notification(tmp_path), emails=(), webhooks=(f"{base}/T0/B0/SECRET",), smtp_url=None, sender="s"
        )
    assert delivery.ok and "SECRET" not in delivery.target
    [payload] = received
    assert payload == slack_payload(notification(tmp_path))
    assert payload["text"].startswith("adpilot audit of Trailhead &lt;Outfitters&gt; &amp; Co: 2 applied")
    assert "<http://127.0.0.1:8765/?account=sandbox%3Atrailhead|Open the inbox>" in payload["text"]
    assert [b["type"] for b in payload["blocks"]] == ["header", "section", "section"]
    assert "3 wait for your approval" in payload["blocks"][1]["text"]["text"]


def test_a_failed_audit_says_so_in_one_line_and_a_refusing_webhook_is_reported(tmp_path: Path) -> None:
    failed = notification(tmp_path, outcome="failed", summary=None, waiting=(), error="unknown account 'sandbox:x'")
    assert failed.subject == "adpilot: the audit of Trailhead <Outfitters> & Co failed"
    assert failed.lines()[-1] == "The audit failed: unknown account 'sandbox:x'"
    with serve(lambda path, headers, body: (404, b"no_service")) as base:
        [delivery] = deliver(failed, emails=(), webhooks=(f"{base}/hook",), smtp_url=None, sender="s")
    assert not delivery.ok and delivery.error == "HTTP 404"


def test_drift_alerts_reach_the_webhook_escaped_and_the_subject_counts_them(tmp_path: Path) -> None:
    received: list[dict[str, Any]] = []

    def handle(path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        received.append(json.loads(body))
        return 200, b"ok"

    alert = "rule negatives.brand_term decides nearly every <add_negative_keywords>: 95% in 2026-W47"
    drifting = notification(tmp_path, drift=(alert,))
    assert drifting.subject.endswith("1 blocked, 1 drift alert")
    with serve(handle) as base:
        [delivery] = deliver(drifting, emails=(), webhooks=(f"{base}/hook",), smtp_url=None, sender="s")
    assert delivery.ok
    text = received[0]["blocks"][1]["text"]["text"]
    assert "Policy drift:\n- rule negatives.brand_term decides nearly every &lt;add_negative_keywords&gt;" in text
    assert "Policy drift" not in "\n".join(notification(tmp_path).lines())
