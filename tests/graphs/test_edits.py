"""Edits and approvals cannot walk around the gate: through the CLI and through an Agent Inbox-shaped resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langgraph.types import Command

from app.session import Session
from app.settings import load_settings
from sandbox import GOOGLE_ACCOUNT
from tests.cli_runner import run


def pending(kind: str, level: str | None = None) -> dict[str, Any]:
    items = json.loads(run("approvals", "list", "--json")[1])
    for item in items:
        if item["kind"] == kind:
            change = json.loads(run("approvals", "show", item["id"], "--json")[1])["change"]
            if level is None or change.get("level") == level:
                return change
    raise AssertionError(f"no pending {kind}")


def tents_campaign() -> str:
    structure = Session(load_settings()).open_account(GOOGLE_ACCOUNT).structure()
    return next(c.id for c in structure.campaigns if c.name == "Search | Tents")


def edit(tmp_path: Path, change_id: str, fields: Any) -> tuple[int, str, str]:
    path = tmp_path / "edit.json"
    path.write_text(json.dumps(fields))
    return run("approvals", "edit", change_id, "--file", str(path), "--json")


WIDENING = {
    # Forged evidence: the edit claims "tent" blocks one cheap, non-converting query.
    "keywords": [
        {
            "text": "tent",
            "match_type": "phrase",
            "blocks": [{"search_term": "tent pegs free", "clicks": 50, "cost": 90_000_000, "conversions": 0}],
        }
    ],
}


def test_an_edit_that_widens_a_negative_is_judged_on_the_accounts_terms_not_its_own(home: Path, tmp_path: Path) -> None:
    run("demo", "--json")
    shared = pending("create_shared_negative_list")  # a theme list the account does not have yet
    code, out, err = edit(tmp_path, shared["id"], {**WIDENING, "campaign_ids": [tents_campaign()]})
    assert code == 0, err
    answer = json.loads(out)
    assert answer["review"]["type"] == "edit" and answer["new_id"] != shared["id"]
    assert (answer["decision"]["outcome"], answer["decision"]["rule"]) == ("blocked", "negatives.blocks_conversions")
    assert answer["result"] is None  # nothing applied
    entries = json.loads(run("changes", "log", "--json")[1])
    assert not [e for e in entries if e["change_id"] == answer["new_id"] and e["status"] == "applied"]
    assert any(e["change_id"] == shared["id"] and e["status"] == "edited" for e in entries)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "__SAME__"}, "changes nothing"),
        ({"name": ""}, "name: String should have at least 1 character"),
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"evidence": {"metrics": {"clicks": 1e9}}}, "sets evidence, which cannot be edited"),
        ({"account": "sandbox:other"}, "sets account, which cannot be edited"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_bad_edits_are_one_line_and_the_change_stays_pending(
    home: Path, tmp_path: Path, fields: Any, message: str
) -> None:
    run("demo", "--json")
    ad_group = pending("create_ad_group")
    if fields == {"name": "__SAME__"}:
        fields = {"name": ad_group["name"]}
    code, _, err = edit(tmp_path, ad_group["id"], fields)
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1, err
    assert ad_group["id"] in {p["id"] for p in json.loads(run("approvals", "list", "--json")[1])}


def test_an_edit_file_that_does_not_parse_names_its_line(home: Path, tmp_path: Path) -> None:
    run("demo", "--json")
    ad_group = pending("create_ad_group")
    path = tmp_path / "edit.json"
    path.write_text('{\n  "name": "x",\n}\n')
    code, _, err = run("approvals", "edit", ad_group["id"], "--file", str(path))
    assert code == 1 and f"{path}: line 3, column 1" in err


def test_an_approval_is_gated_again_under_the_policy_in_force(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("demo", "--json")
    creative = pending("add_creative_variants")
    strict = tmp_path / "strict.yaml"
    default = (Path(__file__).parents[2] / "policies" / "default.yaml").read_text()
    strict.write_text(default.replace("headline_max_chars: 30", "headline_max_chars: 10"))
    monkeypatch.setenv("ADPILOT_POLICY", str(strict))
    code, out, err = run("approvals", "approve", creative["id"], "--json")
    assert code == 0, err
    result = json.loads(out)["result"]
    assert result["status"] == "blocked" and "creatives.copy" in result["message"]
    structure = Session(load_settings()).open_account(GOOGLE_ACCOUNT).structure()
    assert not [a for a in structure.ads if a.ad_group_id == creative["ad_group_id"] and a.status == "paused"]
    entries = json.loads(run("changes", "log", "--json")[1])
    assert [e["status"] for e in entries if e["change_id"] == creative["id"]] == ["blocked"]


def test_an_agent_inbox_edit_with_forged_evidence_is_not_auto_applied(home: Path) -> None:
    session = Session(load_settings())
    outcome = session.audit(GOOGLE_ACCOUNT)
    shared = next(c for c in outcome.pending if c.kind == "create_shared_negative_list")
    fields = {**WIDENING, "campaign_ids": [tents_campaign()]}
    # Agent Inbox answers a list in request order, with the edited action as {"action", "args"}.
    answers: list[Any] = [
        {"type": "edit", "args": {"action": shared.kind, "args": fields}} if c.hash == shared.hash else None
        for c in outcome.pending
    ]
    context = session.run_context(GOOGLE_ACCOUNT)
    config = {"configurable": {"thread_id": outcome.thread_id}}
    session.graphs["audit"].invoke(Command(resume=answers), config, context=context)
    values = session.graphs["audit"].get_state(config).values
    new_hash = values["reviews"][shared.hash]["replaced_by"]
    assert values["decisions"][new_hash]["outcome"] == "blocked"
    assert new_hash not in values.get("results", {})


def test_an_agent_inbox_edit_that_changes_nothing_leaves_the_change_pending(home: Path) -> None:
    session = Session(load_settings())
    outcome = session.audit(GOOGLE_ACCOUNT)
    ad_group = next(c for c in outcome.pending if c.kind == "create_ad_group")
    answers = [
        {"type": "edit", "args": {"action": c.kind, "args": {"name": ad_group.name}}}
        if c.hash == ad_group.hash
        else None
        for c in outcome.pending
    ]
    config = {"configurable": {"thread_id": outcome.thread_id}}
    session.graphs["audit"].invoke(Command(resume=answers), config, context=session.run_context(GOOGLE_ACCOUNT))
    assert ad_group.hash in {p.change.hash for p in session.pending_approvals()}
