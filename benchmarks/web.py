"""The web app as a team uses it: `adpilot serve` in a fresh process over a home with audits waiting.

    .venv/bin/python benchmarks/web.py [--audits 3] [--requests 20]

After `--audits` audits of the sandbox (each `adpilot audit`, a fresh process), it starts `adpilot serve --port 0
--json` and prints: seconds until it listens; the inbox page's median and worst time over `--requests` loads;
an approval's time (through the same path as `adpilot approvals approve`); one chat turn streamed to its end;
the server's peak RSS. Quality: the inbox shows exactly what `adpilot approvals list --json` lists, the approved
change is applied in the change log, and a second answer to it is refused.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TODAY = "2026-11-20"
CARD = re.compile(r'data-hash="([0-9a-f]{64})" data-kind="([a-z_]+)"')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--audits", type=int, default=3)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "ADPILOT_HOME": str(Path(folder) / "home"), "ADPILOT_TODAY": TODAY}

        def cli(*command: str) -> str:
            done = subprocess.run(
                [sys.executable, "-m", "app", *command], env=env, cwd=folder, capture_output=True, text=True
            )
            if done.returncode != 0:
                raise SystemExit(f"adpilot {' '.join(command)} failed: {done.stderr.strip()}")
            return done.stdout

        cli("sandbox", "create")
        for _ in range(args.audits):
            cli("audit", "--json")
        listed = {p["hash"] for p in json.loads(cli("approvals", "list", "--json"))}

        started = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", "0", "--json"],
            env=env,
            cwd=folder,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            served = json.loads(server.stdout.readline())
            listening = time.perf_counter() - started
            web = httpx.Client(
                base_url=served["url"],
                headers={"Authorization": f"Bearer {served['token']}"},
                timeout=300,
                follow_redirects=True,
            )
            loads, cards = [], []
            for _ in range(args.requests):
                t = time.perf_counter()
                page = web.get("/")
                loads.append(time.perf_counter() - t)
                cards = CARD.findall(page.text)
            budget = next(h for h, kind in cards if kind == "set_budget")
            t = time.perf_counter()
            approved = web.post(f"/changes/{budget}/approve")
            approve_seconds = time.perf_counter() - t
            second = web.post(f"/changes/{budget}/approve")
            log = json.loads(cli("changes", "log", "--json"))

            t = time.perf_counter()
            question = {"account": "sandbox:trailhead", "message": "which search terms waste money?"}
            turn = web.post("/chat", data=question)
            stream = re.search(r'sse-connect="(/chat/stream/[0-9a-f]+)"', turn.text)
            assert stream, "the chat page has no stream"
            events = web.get(stream.group(1)).text.count("event: message")
            chat_seconds = time.perf_counter() - t
            peak = next(
                int(line.split()[1]) // 1024
                for line in Path(f"/proc/{server.pid}/status").read_text().splitlines()
                if line.startswith("VmHWM:")
            )
        finally:
            server.terminate()
            server.wait(timeout=30)

    shown = {h for h, _ in cards}
    print(f"audits waiting: {args.audits}; changes pending: {len(listed)}")
    print(f"{'serve: seconds until listening':44} {listening:8.2f}")
    print(f"{'inbox page: median / worst seconds':44} {statistics.median(loads):8.3f} / {max(loads):.3f}")
    print(f"{'approve through the web: seconds':44} {approve_seconds:8.2f}")
    print(f"{'chat turn, posted to streamed end: seconds':44} {chat_seconds:8.2f} ({events} streamed parts)")
    print(f"{'server peak RSS: MiB':44} {peak:8d}")
    same = "pass" if shown == listed else f"FAIL ({len(shown)} shown, {len(listed)} listed)"
    print(f"inbox shows what `approvals list` lists: {same}")
    applied = any(e["change_hash"] == budget and e["status"] == "applied" for e in log)
    print(f"approved change applied in the change log: {'pass' if approved.status_code == 200 and applied else 'FAIL'}")
    print(f"second answer refused (409): {'pass' if second.status_code == 409 else f'FAIL ({second.status_code})'}")


if __name__ == "__main__":
    main()
