"""One queue, through the CLI as a person uses it: daily audits that do not pile up duplicates, applied and rejected
changes that are not proposed again, the index `approvals list` reads, and `approvals show` for any change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langgraph.graph.state import CompiledStateGraph

from ads.changes import parse_change
from tests.cli_runner import run


def audit_on(day: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> dict:
    monkeypatch.setenv("ADPILOT_TODAY", day)
    code, out, err = run(*(args or ("audit",)), "--json")
    assert code == 0, err
    return json.loads(out)


def pending(*args: str) -> list[dict]:
    code, out, err = run("approvals", "list", "--json", *args)
    assert code == 0, err
    return json.loads(out)


def content(change: dict) -> str:
    return parse_change(change).content_key()


def test_daily_audits_on_the_20th_and_21st_leave_each_change_once(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = audit_on("2026-11-20", monkeypatch, "demo")
    second = audit_on("2026-11-21", monkeypatch)
    listed = pending()
    by_id = {p["id"]: p for p in listed}
    proposed = {p["id"]: p for p in (*first["proposals"], *second["proposals"])}  # the same change on both days once
    keys = [content(proposed[change_id]["change"]) for change_id in by_id]
    assert len(keys) == len(set(keys)) == len(listed)  # no content waits twice

    first_pending = {content(p["change"]): p for p in first["proposals"] if p["status"] == "pending"}
    refreshed = [p for p in second["proposals"] if p["status"] == "pending" and content(p["change"]) in first_pending]
    assert refreshed, "the sandbox re-proposes most of yesterday's changes"
    for proposal in refreshed:
        old = first_pending[content(proposal["change"])]
        assert proposal["id"] in by_id  # the newest version waits, with its own evidence
        if old["id"] != proposal["id"]:
            assert old["id"] not in by_id
            code, _, err = run("approvals", "approve", old["id"])
            assert code == 1 and f"proposed again as {proposal['id']}" in err and len(err.strip().splitlines()) == 1
    # Both versions are kept as the history of the one that waits.
    moved = next(p for p in refreshed if first_pending[content(p["change"])]["id"] != p["id"])
    code, out, _ = run("approvals", "show", moved["id"], "--json")
    shown = json.loads(out)
    assert code == 0 and shown["status"] == "pending"
    old_id = first_pending[content(moved["change"])]["id"]
    assert [(v["change_id"], v["status"]) for v in shown["versions"]] == [(old_id, "superseded"), (moved["id"], "open")]
    assert shown["change"]["evidence"] == moved["change"]["evidence"]

    # Kind and account filters read the same index.
    negatives = pending("--kind", "create_shared_negative_list")
    assert negatives and {p["kind"] for p in negatives} == {"create_shared_negative_list"}
    assert pending("--account", "sandbox:nope") == []


def test_an_applied_creative_is_not_proposed_again(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = audit_on("2026-11-20", monkeypatch, "demo")
    creative = next(p for p in first["proposals"] if p["kind"] == "add_creative_variants" and p["status"] == "pending")
    code, out, err = run("approvals", "approve", creative["id"], "--by", "maria", "--json")
    assert code == 0 and json.loads(out)["result"]["status"] == "applied", err

    second = audit_on("2026-11-21", monkeypatch)
    assert content(creative["change"]) not in {content(p["change"]) for p in second["proposals"]}
    assert any("already in the account" in line for line in second["left_out"])
    assert content(creative["change"]) not in {content(p["change"]) for p in pending()}


def test_a_rejected_change_cools_off_for_the_policys_period(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = audit_on("2026-11-20", monkeypatch, "demo")
    rejected = next(p for p in first["proposals"] if p["kind"] == "create_ad_group" and p["status"] == "pending")
    code, _, err = run("approvals", "reject", rejected["id"], "--reason", "we do not sell this", "--by", "ben")
    assert code == 0, err

    second = audit_on("2026-11-21", monkeypatch)
    assert content(rejected["change"]) not in {content(p["change"]) for p in second["proposals"]}
    [line] = [line for line in second["left_out"] if "rejected by ben" in line]
    assert "cooling off until 2026-12-20" in line

    # A policy without a cooling-off period lets it come back at the next audit.
    policy = home / "policy.yaml"
    default = (Path(__file__).parents[2] / "policies" / "default.yaml").read_text()
    policy.write_text(default.replace("rejected_cooling_off_days: 30", "rejected_cooling_off_days: 0"))
    monkeypatch.setenv("ADPILOT_POLICY", str(policy))
    third = audit_on("2026-11-21", monkeypatch)
    back = [p for p in third["proposals"] if content(p["change"]) == content(rejected["change"])]
    assert [p["status"] for p in back] == ["pending"]
    assert back[0]["id"] in {p["id"] for p in pending()}


def test_approvals_list_reads_the_index_not_the_threads(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    audit_on("2026-11-20", monkeypatch, "demo")
    expected = pending()
    assert expected

    def no_thread_reads(*args: object, **kwargs: object) -> None:
        raise AssertionError("approvals list read a thread's state")

    monkeypatch.setattr(CompiledStateGraph, "get_state", no_thread_reads)
    assert pending() == expected
    code, out, _ = run("approvals", "list")
    assert code == 0 and expected[0]["id"] in out


def test_answers_are_idempotent_logged_with_reason_and_shown_whatever_became_of_them(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = audit_on("2026-11-20", monkeypatch, "demo")
    waiting = [p for p in first["proposals"] if p["status"] == "pending"]
    budget = next(p for p in waiting if p["kind"] == "set_budget")
    negative = max(
        (p for p in waiting if p["kind"] == "create_shared_negative_list"), key=lambda p: len(p["change"]["keywords"])
    )

    code, out, err = run("approvals", "approve", budget["id"], "--by", "maria")
    assert code == 0, err
    assert "daily amount: " in out and " USD" in out and "daily_amount" not in out
    assert str(budget["change"]["to_amount"]) not in out  # no raw micros

    code, out, _ = run("approvals", "show", negative["id"])
    # however many negatives, the screen shows the costliest few (long lines wrap) and says how many more
    shown = [ln for ln in out.splitlines() if ln.startswith(('  "', "  [")) and " blocks " in ln]
    more = len(negative["change"]["keywords"]) - len(shown)
    assert code == 0 and 0 < len(shown) <= 6 and f"… +{more} more negatives (--json shows all)" in out
    assert "Status: waiting for a person" in out and f"approvals show {negative['id']} --json" in out
    code, out, _ = run("approvals", "show", negative["id"], "--json")
    assert len(json.loads(out)["change"]["keywords"]) == len(negative["change"]["keywords"])

    code, _, err = run("approvals", "reject", negative["id"], "--reason", "these are brand terms", "--by", "ben")
    assert code == 0, err
    code, _, err = run("approvals", "reject", negative["id"], "--reason", "again", "--by", "cleo")
    assert code == 1 and "already rejected by ben at 20" in err and len(err.strip().splitlines()) == 1
    code, _, err = run("approvals", "approve", budget["id"])
    assert code == 1 and "already approved by maria at 20" in err

    code, out, _ = run("approvals", "show", negative["id"])
    assert code == 0 and "Status: rejected by ben at" in out and "these are brand terms" in out
    code, out, _ = run("approvals", "show", budget["id"])
    assert code == 0 and "Status: applied by maria" in out and "Read back from the account" in out
    assert " USD" in out.split("Read back from the account")[1]

    code, out, _ = run("changes", "log")
    assert code == 0 and negative["id"] in out
    code, out, _ = run("changes", "log", "--json")
    [entry] = [e for e in json.loads(out) if e["change_id"] == negative["id"] and e["status"] == "rejected"]
    assert entry["decided_by"] == "person:ben" and entry["message"] == "these are brand terms"


def test_show_of_an_unknown_change_is_one_line(home: Path) -> None:
    code, _, err = run("approvals", "show", "0123456789")
    assert code == 1 and "no change '0123456789'" in err and len(err.strip().splitlines()) == 1


def test_show_of_a_creative_names_what_its_copy_rests_on(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    audit = audit_on("2026-11-20", monkeypatch, "demo")
    creative = next(p for p in audit["proposals"] if p["kind"] == "add_creative_variants")
    code, out, _ = run("approvals", "show", creative["id"])
    [line] = [" ".join(out.split("sources: ", 1)[1].split("All of it")[0].split())]
    cited = {f"{s['doc']} §{s['chunk']}" for a in creative["change"]["assets"] for s in a["sources"]}
    assert code == 0 and "rest on the brand kit" in line and cited and any(c in line for c in cited)
    # Each asset on its own line with its own chunks, so a person checks each claim where it comes from.
    assert_assets_shown(out, creative["change"]["assets"])


def assert_assets_shown(out: str, assets: list[dict]) -> None:
    shown = " ".join(out.split())  # long assets wrap
    for asset in assets:
        basis = ", ".join(f"{s['doc']} §{s['chunk']}" for s in asset["sources"]) or "call to action"
        assert " ".join(f"{asset['asset']}: {asset['text']} — {basis}".split()) in shown


def test_show_of_a_new_ad_group_names_what_each_asset_rests_on(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The sandbox's feed carries trekking poles and headlamps, which no ad group bids on yet.
    audit = audit_on("2026-11-20", monkeypatch, "demo")
    groups = [p for p in audit["proposals"] if p["kind"] == "create_ad_group" and p["change"]["assets"]]
    assert groups
    for group in groups:
        code, out, _ = run("approvals", "show", group["id"])
        assert code == 0
        assert_assets_shown(out, group["change"]["assets"])
        assert all(a["sources"] or a["generic"] for a in group["change"]["assets"])
