"""The CLI through Typer's runner: the demo, approvals, the change log, traces and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_runner import run


def test_demo_json_lists_every_proposal_with_its_decision(home: Path) -> None:
    code, out, _ = run("demo", "--json")
    assert code == 0
    document = json.loads(out)
    assert document["model"].startswith("offline planner")
    assert document["proposals"]
    for proposal in document["proposals"]:
        assert {"id", "kind", "decision", "rule", "summary", "change"} <= set(proposal)
        assert proposal["decision"] in ("auto_apply", "needs_approval", "blocked")
    ids = {p["id"] for p in document["proposals"]}
    assert set(document["applied"]) | set(document["pending"]) | set(document["blocked"]) <= ids
    assert Path(document["report"]).exists()


def test_demo_creates_a_missing_sandbox_and_prints_a_table(home: Path) -> None:
    (home / "sandbox.sqlite").unlink()
    code, out, _ = run("demo")
    assert code == 0
    assert "model: offline planner" in out and "Created the sandbox" in out
    assert "Proposals for" in out and "Report:" in out


def test_approve_and_reject_then_stale_approvals_fail_clearly(home: Path) -> None:
    run("demo", "--json")
    code, out, _ = run("approvals", "list", "--json")
    pending = json.loads(out)
    assert code == 0 and len(pending) >= 2
    first, second = pending[0]["id"], pending[1]["id"]

    code, out, _ = run("approvals", "approve", first, "--by", "maria", "--json")
    assert code == 0 and json.loads(out)["result"]["status"] == "applied"
    code, out, _ = run("approvals", "reject", second, "--reason", "not this quarter", "--json")
    assert code == 0 and json.loads(out)["review"]["type"] == "reject"

    code, out, err = run("approvals", "approve", first)
    assert code == 1 and "already approved by maria at" in err and len(err.strip().splitlines()) == 1
    code, _, err = run("approvals", "approve", second)
    assert code == 1 and "already rejected by cli user at" in err
    code, _, err = run("approvals", "reject", second, "--reason", "again")
    assert code == 1 and "already rejected by cli user at" in err

    code, out, _ = run("changes", "log", "--json")
    entries = json.loads(out)
    assert any(
        e["change_id"] == first and e["status"] == "applied" and e["decided_by"] == "person:maria" for e in entries
    )
    assert any(e["change_id"] == second and e["status"] == "rejected" for e in entries)


def test_traces_lists_the_local_traces(home: Path) -> None:
    run("demo", "--json")
    code, out, _ = run("traces", "--json")
    traces = json.loads(out)
    assert code == 0 and traces and traces[0]["spans"] > 5 and traces[0]["events"] > 0


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (lambda home: None, ("audit", "--account", "sandbox:nope"), "unknown account 'sandbox:nope'"),
        (lambda home: (home / "sandbox.sqlite").write_bytes(b"not a database" * 100), ("audit",), "sandbox.sqlite"),
        (lambda home: (home / "sandbox.sqlite").unlink(), ("audit",), "sandbox.sqlite"),
        (lambda home: None, ("approvals", "approve", "0123456789"), "no pending change"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(home: Path, setup, args: tuple[str, ...], message: str) -> None:
    setup(home)
    code, out, err = run(*args)
    assert code == 1
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_malformed_policy_refuses_to_load(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = home / "policy.yaml"
    policy.write_text("negatives: [unclosed\n")
    monkeypatch.setenv("ADPILOT_POLICY", str(policy))
    code, _, err = run("audit")
    assert code == 1 and "policy.yaml" in err and len(err.strip().splitlines()) == 1


def test_sandbox_create(home: Path) -> None:
    code, out, _ = run("sandbox", "create", "--rows", "3000", "--seed", "3", "--json")
    assert code == 0
    assert set(json.loads(out)["accounts"]) == {"sandbox:trailhead", "sandbox:trailhead-meta"}


def test_chat_repl_answers_each_line_on_one_thread_until_an_empty_line(home: Path) -> None:
    code, out, err = run("chat", input="how is the account doing?\nare my budgets on track?\n\n")
    assert code == 0, err
    assert out.count("adpilot:") == 2
    threads = {line.split("thread: ")[1] for line in out.splitlines() if "thread: " in line}
    assert len(threads) == 1  # the second question continued the first conversation


def test_changes_without_a_subcommand_shows_the_log(home: Path) -> None:
    code, out, _ = run("changes")
    assert code == 0 and "The change log is empty." in out
    run("demo", "--json")
    code, out, _ = run("changes")
    assert code == 0 and "Change log" in out and "applied" in out
