"""Races between real processes on one ADPILOT_HOME: answers, applies, reconciles and first runs.

Each test starts `python -m app …` (or a small script) in several processes at once, for a bounded number
of rounds, and checks exactly-once and that no answer is lost. Before the fixes every one of these failed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from app.session import Session
from app.settings import load_settings
from ops.apply import reconcile
from ops.change_log import ChangeLog
from sandbox import GOOGLE_ACCOUNT
from tests.cli_runner import run

ROUNDS = 2
# The processes run this checkout's code, not whichever one the virtualenv installed (a worktree's, say).
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")]),
}


def start(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "app", *args],
        env={**ENV, "ADPILOT_HOME": str(home)},
        cwd=home.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


def script(code: str, home: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**ENV, "ADPILOT_HOME": str(home)},
        cwd=home.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_concurrent_answers_to_one_audit_are_all_kept_and_one_change_takes_one_answer(home: Path, round_: int) -> None:
    code, out, _ = run("demo", "--json")
    assert code == 0
    pending = [p for p in json.loads(run("approvals", "list", "--json")[1]) if p["kind"] != "set_budget"]
    approve, reject, contested = pending[0]["id"], pending[1]["id"], pending[2]["id"]

    processes = [
        start(home, "approvals", "approve", approve, "--by", "ana"),
        start(home, "approvals", "reject", reject, "--reason", "off brand", "--by", "ben"),
        start(home, "approvals", "approve", contested, "--by", "cleo"),
        start(home, "approvals", "reject", contested, "--reason", "too broad", "--by", "dev"),
    ]
    (a, _, a_err), (r, _, r_err), *contest = [finish(p) for p in processes]
    assert a == 0, a_err
    assert r == 0, r_err
    # Exactly one of the two answers to the contested change took effect; the other was refused in one line.
    assert sorted(code for code, _, _ in contest) == [0, 1], contest
    refused = next(err for code, _, err in contest if code == 1)
    assert "already" in refused and " by " in refused and len(refused.strip().splitlines()) == 1

    entries = json.loads(run("changes", "log", "--json")[1])
    statuses = {(e["change_id"], e["status"]) for e in entries}
    assert (approve, "applied") in statuses
    assert (reject, "rejected") in statuses  # the rejection is not lost
    contested_outcomes = {s for cid, s in statuses if cid == contested} - {"intent"}
    assert contested_outcomes in ({"applied"}, {"rejected"}), contested_outcomes
    still_pending = {p["id"] for p in json.loads(run("approvals", "list", "--json")[1])}
    assert not {approve, reject, contested} & still_pending
    applied_reject = [e for e in entries if e["change_id"] == reject and e["status"] == "applied"]
    assert applied_reject == []


APPLY_ONE_CREATIVE = """
    import json, sys
    from pathlib import Path
    from ads.changes import parse_change
    from sandbox.store import SandboxStore
    change = parse_change(Path(sys.argv[1]).read_text())
    account = SandboxStore(Path(sys.argv[2])).open_account(change.account)
    [result] = account.apply([change], validate_only=False)
    print(result.status)
"""

APPLY_THROUGH_THE_PATH = """
    import sys
    from pathlib import Path
    from ads.changes import parse_change
    from ops.apply import apply_changes
    from ops.change_log import ChangeLog
    from policies.gate import Decision
    from sandbox.store import SandboxStore
    change = parse_change(Path(sys.argv[1]).read_text())
    account = SandboxStore(Path(sys.argv[2])).open_account(change.account)
    allow = lambda c: Decision(change_id=c.id, change_hash=c.hash, kind=c.kind, outcome="needs_approval",
                               rule="test", reason="test")
    log = ChangeLog(Path(sys.argv[3]))
    [result] = apply_changes(account, [change], decided_by={change.hash: "person:test"}, log=log, gate=allow)
    print(result.status)
"""


@pytest.mark.parametrize("through", ["store", "apply_changes"])
def test_two_processes_applying_one_creative_create_one_ad(home: Path, through: str) -> None:
    session = Session(load_settings())
    creatives = session.run_tool(GOOGLE_ACCOUNT, "propose_creative_variants").proposals
    session.change_log.close()
    account = session.open_account(GOOGLE_ACCOUNT)
    for round_, change in enumerate(creatives[:3]):
        path = home / f"creative-{round_}.json"
        path.write_text(change.model_dump_json())
        args = [str(path), str(home / "sandbox.sqlite"), str(home / "changes.sqlite")]
        code = APPLY_ONE_CREATIVE if through == "store" else APPLY_THROUGH_THE_PATH
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", textwrap.dedent(code), *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=home.parent,
                env=ENV,
            )
            for _ in range(2)
        ]
        results = [p.communicate(timeout=120) for p in processes]
        assert all(p.returncode == 0 for p in processes), results
        assert sorted(out.strip() for out, _ in results) == ["already_applied", "applied"]
        ads = [a for a in account.structure().ads if a.ad_group_id == change.ad_group_id and a.copy_ == change.ad]
        assert len(ads) == 1


def test_reconcile_leaves_a_live_processs_intent_alone(home: Path) -> None:
    session = Session(load_settings())
    [change, *_] = session.run_tool(GOOGLE_ACCOUNT, "propose_creative_variants").proposals
    (home / "creative.json").write_text(change.model_dump_json())
    holder = script(
        f"""
        import time
        from pathlib import Path
        from ads.changes import parse_change
        from ops.change_log import ChangeLog
        change = parse_change(Path({str(home / "creative.json")!r}).read_text())
        ChangeLog(Path({str(home / "changes.sqlite")!r})).append(change, "intent", decided_by="person:test")
        print("intent", flush=True)
        time.sleep(120)
        """,
        home,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "intent"
    log = ChangeLog(home / "changes.sqlite")
    account = session.open_account(GOOGLE_ACCOUNT)
    try:
        assert reconcile(account, log) == []  # the other process is still at work
        assert [e.status for e in log.entries(change=change.hash)] == ["intent"]
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    [settled] = reconcile(account, log)  # its process is gone: settle by reading the account back
    assert settled.status == "failed" and "never reached the account" in settled.message
    assert [e.status for e in log.entries(change=change.hash)] == ["abandoned", "intent"]


def test_two_first_demos_in_one_empty_home_both_finish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "empty-home"
    monkeypatch.setenv("ADPILOT_TODAY", "2026-11-20")
    processes = [start(home, "demo", "--json") for _ in range(2)]
    time.sleep(0.1)
    for code, out, err in (finish(p) for p in processes):
        assert code == 0, err
        assert "Traceback" not in err
        assert json.loads(out)["proposals"]
    assert [p.name for p in home.glob("sandbox.sqlite*")] == ["sandbox.sqlite"]


def test_two_audits_at_once_leave_each_change_waiting_once(home: Path) -> None:
    from ads.changes import parse_change

    processes = [start(home, "audit", "--json") for _ in range(2)]
    for code, _, err in (finish(p) for p in processes):
        assert code == 0, err
    pending = json.loads(run("approvals", "list", "--json")[1])
    keys = [parse_change(p["change"]).content_key() for p in pending]
    assert pending and len(keys) == len(set(keys))
    # The run that queued second took the first one's place: its versions are history, not waiting twice.
    log = ChangeLog(home / "changes.sqlite")
    assert all(len(log.history(p["account"], key)) == 2 for p, key in zip(pending, keys, strict=True))


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_a_chat_yes_and_an_approval_of_the_same_change_at_once_take_one_answer(home: Path, round_: int) -> None:
    session = Session(load_settings())
    waste = session.chat(GOOGLE_ACCOUNT, "which search terms are wasting money in the Tents campaign?")
    change = waste.values["shown"]["change"][0]
    assert waste.values["decisions"][change["hash"]]["outcome"] == "needs_approval"
    ask = session.chat(GOOGLE_ACCOUNT, "apply the first one", waste.thread_id)
    assert ask.values["confirm"]["hash"] == change["hash"]

    processes = [
        start(home, "chat", "--message", "yes", "--thread", waste.thread_id, "--json"),
        start(home, "approvals", "approve", change["name"], "--by", "cleo"),
    ]
    (chat_code, chat_out, chat_err), (cli_code, _, cli_err) = [finish(p) for p in processes]
    assert chat_code == 0, chat_err
    reply = json.loads(chat_out)["reply"]
    answer = ChangeLog(load_settings().change_log_path).answer(change["hash"])
    assert answer is not None and answer.answered_by in ("chat user", "cleo")
    if answer.answered_by == "cleo":  # the approval won: the chat says so, and applies nothing
        assert cli_code == 0, cli_err
        assert "already approved by cleo" in reply, reply
    else:  # the chat won: the approval is refused in one line, with a non-zero exit
        assert cli_code == 1 and len(cli_err.strip().splitlines()) == 1, cli_err
        assert "already approved by chat user" in cli_err or "no longer pending" in cli_err, cli_err
        assert f"change {change['name']} is applied" in reply, reply
    log = ChangeLog(load_settings().change_log_path)
    assert [e.status for e in log.entries(change=change["hash"])].count("applied") == 1
    assert change["hash"] not in {p.change.hash for p in Session(load_settings()).pending_approvals()}
