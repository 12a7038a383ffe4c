"""A person's answers: Agent Inbox requests, edits that become new changes, answers for several changes."""

from __future__ import annotations

from pathlib import Path

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
