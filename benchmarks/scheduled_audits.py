"""Scheduled audits as a system cron runs them, each command a fresh `adpilot` process, on the 1st of a month.

    .venv/bin/python benchmarks/scheduled_audits.py [--today 2026-12-01]

Both sandbox accounts get a schedule and notify a local SMTP server (STARTTLS, login) and a local webhook.
Prints, per command, seconds and peak RSS; then what a recipient gets: deliveries, the report's sections,
numbers left unformatted in its tables, whether the pacing chart has lines on the 1st, and whether a run
missed while "the machine was off" (its schedule seen three days ago) was run and noted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.local_servers import serve  # noqa: E402 - the repository root is put on the path first
from tests.local_smtp import smtp_server, write_certificate  # noqa: E402

SECTIONS = ('id="summary"', 'id="kpis"', 'id="proposals"', 'id="pacing"', 'id="themes"', "@media print")
RAW_NUMBER = re.compile(r"\d{4,}(\.\d+)?|\d+\.0")


def adpilot(env: dict[str, str], *args: str) -> tuple[Any, float, float, int]:
    """(JSON output, seconds, the process's own peak RSS in MiB, exit code) of one fresh `adpilot` process.

    Exit 1 is an answer (`schedule run` says a delivery or an audit failed); anything else stops the script."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "app", *args], stdout=out, stderr=err, env=env, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        if code not in (0, 1):
            sys.exit(f"adpilot {' '.join(args)} failed ({code}): {err.read().strip()[-500:]}")
        text = out.read()
        return (json.loads(text) if text.strip() else None), seconds, usage.ru_maxrss / 1024, code


def report_figures(account: str, path: Path) -> str:
    html = path.read_text(encoding="utf-8")
    cells = re.findall(r'<td class="num[^"]*">([^<]*)</td>', html)
    raw = [c for c in cells if RAW_NUMBER.fullmatch(c.strip())]
    lines = re.findall(r'<polyline fill="none"[^>]*points="([^"]+)"', html)
    return (
        f"report {account}: {sum(s in html for s in SECTIONS)}/{len(SECTIONS)} sections, "
        f"{len(cells)} number cells with {len(raw)} unformatted, {len(lines)} chart lines drawn, "
        f"{len(html) / 1024:.0f} KiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--today", default="2026-12-01", help="ADPILOT_TODAY; the 1st is the hard day for a chart")
    args = parser.parse_args()
    logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd's own deprecation notes, not ours
    received: list[tuple[float, dict[str, Any]]] = []

    def hook(path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        received.append((time.perf_counter(), json.loads(body)))
        return 200, b"ok"

    with tempfile.TemporaryDirectory() as work, serve(hook) as webhook_base:
        folder = Path(work)
        certificate = write_certificate(folder)
        home = folder / "home"
        env = {
            **os.environ,
            "ADPILOT_HOME": str(home),
            "ADPILOT_TODAY": args.today,
            "ADPILOT_BASE_URL": "http://127.0.0.1:8765",
            "SSL_CERT_FILE": str(certificate[0]),
            "PYTHONPATH": str(ROOT),
        }
        env.pop("ADPILOT_ACCOUNTS", None)
        created, seconds, rss, _ = adpilot(env, "sandbox", "create", "--json")
        assert isinstance(created, dict)
        accounts = created["accounts"]
        plans = {
            name: {"schedule": "0 6 * * *", "notify": ["ppc@example.com", f"{webhook_base}/hook"]} for name in accounts
        }
        (folder / "accounts.yaml").write_text(json.dumps(plans), encoding="utf-8")
        env["ADPILOT_ACCOUNTS"] = str(folder / "accounts.yaml")
        rows = [("sandbox create", seconds, rss)]

        with smtp_server(certificate) as (smtp_url, mailbox):
            env["ADPILOT_SMTP_URL"] = smtp_url
            listed, seconds, rss, _ = adpilot(env, "schedule", "list", "--json")
            rows.append(("schedule list", seconds, rss))
            nothing, seconds, rss, _ = adpilot(env, "schedule", "run", "--json")
            rows.append(("schedule run (nothing due)", seconds, rss))
            # The machine was off: the schedules were first seen three days ago, and nothing ran since.
            with sqlite3.connect(home / "schedule.sqlite") as db:
                db.execute(
                    "UPDATE schedule_seen SET seen_at = ?",
                    ((dt.datetime.now(dt.UTC) - dt.timedelta(days=3)).isoformat(),),
                )
            started = time.perf_counter()
            missed, seconds, rss, code = adpilot(env, "schedule", "run", "--json")
            rows.append((f"schedule run (missed runs, {len(accounts)} audits)", seconds, rss))
            now_run, seconds, rss, _ = adpilot(env, "schedule", "run", "--now", "--json")
            rows.append((f"schedule run --now ({len(accounts)} audits)", seconds, rss))
            emails = len(mailbox.messages)
            report_lines = [report_figures(r["account"], Path(r["report"])) for r in now_run]

    print(f"scheduled audits on {args.today}, {len(accounts)} accounts; each command a fresh process")
    print(f"{'command':<42} {'seconds':>8} {'peak RSS':>10}")
    for name, seconds, rss in rows:
        print(f"{name:<42} {seconds:>8.1f} {rss:>7.0f} MiB")
    assert isinstance(missed, list) and isinstance(now_run, list) and isinstance(listed, list)
    records = missed + now_run
    deliveries = [d for r in records for d in r["deliveries"]]
    first_hook = (received[0][0] - started) if received else float("nan")
    print(f"listed {len(listed)} schedules; nothing due on the first run: {nothing == []}")
    noted = sum(1 for r in missed if (r["note"] or "").startswith("Missed run"))
    print(f"missed runs run at the next start and noted: {noted}/{len(accounts)}")
    print(f"audits completed: {sum(r['outcome'] == 'completed' for r in records)}/{len(records)}")
    delivered = sum(d["ok"] for d in deliveries)
    print(f"notifications delivered: {delivered}/{len(deliveries)} ({emails} emails, {len(received)} webhooks)")
    print(f"first webhook {first_hook:.1f} s after the cron's `schedule run` started")
    for line in report_lines:
        print(line)


if __name__ == "__main__":
    main()
