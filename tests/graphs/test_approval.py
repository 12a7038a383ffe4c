"""A person's answers: Agent Inbox requests, edits that become new changes, answers for several changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from ads.changes import SetBudget, parse_change
from app.session import SANDBOX_ACCOUNT, Session
from app.settings import load_settings


def test_pending_changes_are_langchain_v1_action_requests(home: Path) -> None:
    session = Session(load_settings())
    outcome = session.audit(SANDBOX_ACCOUNT)
    config = {"configurable": {"thread_id": outcome.thread_id}}
    [interrupt] = session.graphs["audit"].get_state(config).interrupts
    request = interrupt.value
    assert set(request) == {"action_requests", "review_configs"}
    actions, reviews = request["action_requests"], request["review_configs"]
    assert [a["args"]["hash"] for a in actions] == [c.hash for c in outcome.pending]
    for action, review in zip(actions, reviews, strict=True):
        assert set(action) == {"name", "args", "description"}
        assert action["name"] == parse_change(action["args"]).kind == review["action_name"]
        assert review["allowed_decisions"] == ["approve", "edit", "reject"]
        assert f"change {action['args']['id']}" in action["description"]


def test_an_edited_change_is_a_new_change_and_goes_through_the_gate_again(home: Path) -> None:
    session = Session(load_settings())
    outcome = session.audit(SANDBOX_ACCOUNT)
    budget = next(c for c in outcome.pending if isinstance(c, SetBudget))
    smaller_step = round(budget.from_amount * 1.05 / 1_000_000) * 1_000_000  # within the ±10 % auto-apply rule

    item, after = session.answer(budget.id, {"type": "edit", "args": {"to_amount": smaller_step}}, reviewer="maria")
    values = after.values
    edited = next(
        parse_change(p) for p in values["proposals"] if p["kind"] == "set_budget" and p["to_amount"] == smaller_step
    )
    assert edited.hash != budget.hash
    assert values["reviews"][budget.hash] == {"type": "edit", "by": "maria", "replaced_by": edited.hash}
    assert values["decisions"][edited.hash]["outcome"] == "auto_apply"
    assert values["results"][edited.hash]["status"] == "applied"
    assert budget.hash not in values["results"]  # the original was never applied
    remaining = {p.change.hash for p in session.pending_approvals()}
    assert budget.hash not in remaining and remaining  # the other changes still wait


def test_a_rejection_is_logged_with_the_reason(home: Path) -> None:
    session = Session(load_settings())
    outcome = session.audit(SANDBOX_ACCOUNT)
    change = outcome.pending[0]
    session.answer(change.id, {"type": "ignore", "reason": "seasonal"}, reviewer="li")
    [entry] = session.change_log.entries(change=change.hash)
    assert entry.status == "rejected" and entry.decided_by == "person:li" and entry.message == "seasonal"


def _resume(session: Session, thread_id: str, answer: object) -> dict[str, Any]:
    config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
    session.graphs["audit"].invoke(Command(resume=answer), config, context=session.run_context(SANDBOX_ACCOUNT))
    return session.graphs["audit"].get_state(config).values


def test_v1_decisions_approve_edit_and_reject_in_request_order(home: Path) -> None:
    session = Session(load_settings())
    outcome = session.audit(SANDBOX_ACCOUNT)
    budget = next(c for c in outcome.pending if isinstance(c, SetBudget))
    others = [c for c in outcome.pending if c.hash != budget.hash]
    first, rejected = others[0], others[1]
    smaller = round(budget.from_amount * 1.05 / 1_000_000) * 1_000_000
    by_hash: dict[str, dict[str, Any]] = {
        first.hash: {"type": "approve"},
        rejected.hash: {"type": "reject", "message": "wrong season"},
        # agent-chat-ui sends back every argument, the edited one among them
        budget.hash: {
            "type": "edit",
            "edited_action": {"name": budget.kind, "args": {**budget.model_dump(mode="json"), "to_amount": smaller}},
        },
    }
    decisions = [by_hash.get(c.hash, {"type": "reject", "message": "later"}) for c in outcome.pending]
    values = _resume(session, outcome.thread_id, {"decisions": decisions})
    assert values["reviews"][first.hash]["type"] == "accept"
    assert values["results"][first.hash]["status"] == "applied"
    assert values["reviews"][rejected.hash] == {"type": "reject", "by": "a person", "reason": "wrong season"}
    edited = parse_change(
        next(p for p in values["proposals"] if p["hash"] == values["reviews"][budget.hash]["replaced_by"])
    )
    assert isinstance(edited, SetBudget) and edited.to_amount == smaller
    [entry] = session.change_log.entries(change=rejected.hash)
    assert entry.status == "rejected" and entry.message == "wrong season"


def test_legacy_agent_inbox_accept_is_still_read(home: Path) -> None:
    session = Session(load_settings())
    outcome = session.audit(SANDBOX_ACCOUNT)
    change = outcome.pending[0]
    values = _resume(session, outcome.thread_id, [{"type": "accept", "args": None}])
    assert values["reviews"][change.hash]["type"] == "accept"
    assert change.hash in values["results"]


def test_a_response_in_an_audit_is_a_comment_and_the_change_still_waits(home: Path) -> None:
    session = Session(load_settings())
    outcome = session.audit(SANDBOX_ACCOUNT)
    change = outcome.pending[0]
    values = _resume(session, outcome.thread_id, [{"type": "response", "args": "check with the client first"}])
    assert change.hash not in values["reviews"] and change.hash not in values.get("results", {})
    assert values["comments"][-1]["message"] == "check with the client first"
    [entry] = session.change_log.entries(change=change.hash)
    assert entry.status == "commented" and entry.message == "check with the client first"
    config: RunnableConfig = {"configurable": {"thread_id": outcome.thread_id}}
    [interrupt] = session.graphs["audit"].get_state(config).interrupts  # asked again
    assert change.hash in {a["args"]["hash"] for a in interrupt.value["action_requests"]}
