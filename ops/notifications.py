"""Telling someone what a scheduled audit did: an email over SMTP (STARTTLS) with the report attached, and a
webhook in Slack's incoming-webhook shape with the report linked.

Each target is delivered on its own: one that fails is reported in its `Delivery`, and the others still go.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict

from ads.errors import ConfigurationError
from ops.report import ExecutiveSummary

SMTP_TIMEOUT_SECONDS = 30
WEBHOOK_TIMEOUT_SECONDS = 15
# Proposals named in a notification; the rest are in the report and the inbox.
TOP_PROPOSALS = 5


class AuditNotification(BaseModel):
    """What one scheduled audit did, or the one line saying why it failed. Texts are masked already."""

    model_config = ConfigDict(frozen=True)

    account: str
    display_name: str
    outcome: Literal["completed", "failed"]
    due_at: dt.datetime
    note: str | None = None
    summary: ExecutiveSummary | None = None
    waiting: tuple[str, ...] = ()
    drift: tuple[str, ...] = ()  # the policy's drift alerts (ops.policy_metrics)
    error: str | None = None
    inbox_url: str | None = None
    report_url: str | None = None
    report_path: Path | None = None

    @property
    def subject(self) -> str:
        if self.outcome == "failed":
            return f"adpilot: the audit of {self.display_name} failed"
        s = self.summary
        counts = f"{s.applied} applied, {s.waiting} waiting, {s.blocked} blocked" if s else ""
        drift = f", {len(self.drift)} drift alert{'s' if len(self.drift) > 1 else ''}" if self.drift else ""
        return f"adpilot audit of {self.display_name}: {counts}{drift}"

    def lines(self) -> list[str]:
        """The notification as plain lines: what email bodies and webhook texts are made of."""
        when = f"Scheduled for {self.due_at:%Y-%m-%d %H:%M %Z}."
        lines = [when] + ([self.note] if self.note else [])
        if self.outcome == "failed":
            return [*lines, f"The audit failed: {self.error}"]
        if self.summary:
            s = self.summary
            lines += [
                f"{s.applied} applied · {s.waiting} waiting for approval · {s.blocked} blocked"
                + (f" · {s.failed} failed" if s.failed else ""),
                *s.lines(),
            ]
        if self.waiting:
            lines += ["Waiting for approval:", *(f"- {w}" for w in self.waiting)]
        if self.drift:
            lines += ["Policy drift:", *(f"- {d}" for d in self.drift)]
        return lines


class Delivery(BaseModel):
    model_config = ConfigDict(frozen=True)

    target: str
    ok: bool
    error: str | None = None


def email_message(notification: AuditNotification, *, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    message = EmailMessage()
    # An account name is a stranger's text: no line break may reach a header.
    message["Subject"] = " ".join(notification.subject.split())
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    links = [f"Inbox: {notification.inbox_url}"] if notification.inbox_url else []
    if notification.report_url:
        links.append(f"Report: {notification.report_url}")
    elif notification.report_path:
        links.append(f"Report: attached ({notification.report_path.name})")
    message.set_content("\n".join([*notification.lines(), "", *links]) + "\n")
    if notification.report_path and notification.report_path.is_file():
        # As bytes (base64), so the page arrives exactly as written; the charset says how to read it.
        message.add_attachment(
            notification.report_path.read_bytes(),
            maintype="text",
            subtype="html",
            filename=notification.report_path.name,
            params={"charset": "utf-8"},
        )
    return message


def send_email(message: EmailMessage, smtp_url: str) -> None:
    """`smtp://user:pass@host:587` sends after STARTTLS (never in clear); `smtps://…:465` over TLS from the start.

    The server's certificate is checked against the system's CAs (or `SSL_CERT_FILE`)."""
    url = urlsplit(smtp_url)
    if url.scheme not in ("smtp", "smtps") or not url.hostname:
        raise ConfigurationError("setting ADPILOT_SMTP_URL: expected smtp://user:pass@host:587 or smtps://…:465")
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if url.scheme == "smtps":
        client = smtplib.SMTP_SSL(url.hostname, url.port or 465, timeout=SMTP_TIMEOUT_SECONDS, context=context)
    else:
        client = smtplib.SMTP(url.hostname, url.port or 587, timeout=SMTP_TIMEOUT_SECONDS)
    with client:
        if url.scheme == "smtp":
            client.starttls(context=context)
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(message)


def _slack_escape(text: str) -> str:
    # Slack reads &, < and > as control characters: a stranger's text could otherwise make links or mentions.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(notification: AuditNotification) -> dict[str, Any]:
    """A Slack incoming-webhook body: `text` (the fallback every receiver shows) and `blocks`."""
    lines = [_slack_escape(line) for line in notification.lines()]
    links = [f"<{notification.inbox_url}|Open the inbox>"] if notification.inbox_url else []
    if notification.report_url:
        links.append(f"<{notification.report_url}|Read the report>")
    elif notification.report_path:
        links.append(f"Report: `{_slack_escape(str(notification.report_path))}`")
    title = _slack_escape(notification.subject)
    return {
        "text": "\n".join([title, *lines, *links]),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": notification.subject[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:3000]}},
            *([{"type": "section", "text": {"type": "mrkdwn", "text": " · ".join(links)}}] if links else []),
        ],
    }


def send_webhook(url: str, payload: dict[str, Any]) -> None:
    response = httpx.post(url, json=payload, timeout=WEBHOOK_TIMEOUT_SECONDS)
    response.raise_for_status()


def deliver(
    notification: AuditNotification,
    *,
    emails: tuple[str, ...],
    webhooks: tuple[str, ...],
    smtp_url: str | None,
    sender: str,
) -> list[Delivery]:
    """Send to every target; one email for all the addresses, one request per webhook."""
    deliveries: list[Delivery] = []
    if emails:
        target = ", ".join(emails)
        if not smtp_url:
            deliveries.append(Delivery(target=target, ok=False, error="ADPILOT_SMTP_URL is not set"))
        else:
            try:
                send_email(email_message(notification, sender=sender, recipients=emails), smtp_url)
                deliveries.append(Delivery(target=target, ok=True))
            except (OSError, smtplib.SMTPException, ConfigurationError) as error:
                deliveries.append(Delivery(target=target, ok=False, error=_one_line(error)))
    for url in webhooks:
        # A webhook URL is a secret (whoever has it can post): only its host is shown.
        shown = f"{urlsplit(url).scheme}://{urlsplit(url).hostname}/…"
        try:
            send_webhook(url, slack_payload(notification))
            deliveries.append(Delivery(target=shown, ok=True))
        except httpx.HTTPError as error:
            message = f"HTTP {error.response.status_code}" if isinstance(error, httpx.HTTPStatusError) else None
            deliveries.append(Delivery(target=shown, ok=False, error=message or type(error).__name__))
    return deliveries


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {text}"
