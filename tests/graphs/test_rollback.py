"""Rollback proposes the inverse of a logged change, through the same gate and apply path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ads.changes import CreateSharedNegativeList, NegativeSpec, parse_change
from ads.entities import MatchType
from app.session import SANDBOX_ACCOUNT, Session
from app.settings import load_settings
from tests.cli_runner import run


def approve_waiting(kind: str) -> tuple[Any, int]:
    """Audit the sandbox, approve the first change of `kind` that waits for a person; the change and its log entry."""
    waiting = next(c for c in Session(load_settings()).audit(SANDBOX_ACCOUNT).pending if c.kind == kind)
    code, _, err = run("approvals", "approve", waiting.id)
    assert code == 0, err
    return waiting, Session(load_settings()).change_log.entries(change=waiting.hash, limit=1)[0].id


def test_rolling_back_negatives_removes_them_after_approval(home: Path) -> None:
    # The account already has a list for free-seekers: the audit adds its new negatives to it, for a person to
    # approve (they rest on intent), instead of proposing a new list.
    account = Session(load_settings()).open_account(SANDBOX_ACCOUNT)
    campaigns = account.structure().campaigns
    keyword = NegativeSpec(text="free tent rental", match_type=MatchType.EXACT, intent="free")
    listed = CreateSharedNegativeList(
        account=SANDBOX_ACCOUNT,
        name="Free and grants",
        keywords=(keyword,),
        campaign_ids=tuple(c.id for c in campaigns),
        campaign_names=tuple(c.name for c in campaigns),
        rationale="set up by hand before the audit",
    )
    assert account.apply([listed], validate_only=False)[0].status == "applied"
    _, entry_id = approve_waiting("add_negative_keywords")
    original = Session(load_settings()).change_log.entry(entry_id).parsed_change()

    code, out, err = run("changes", "rollback", str(entry_id), "--json")
    assert code == 0, err
    [proposal] = json.loads(out)["proposals"]
    inverse = parse_change(proposal["change"])
    assert original.level == "shared_list" and original.target_name == "Free and grants"
    assert inverse.kind == "remove_negative_keywords" and inverse.target_id == original.target_id
    assert {k.text for k in inverse.keywords} == {k.text for k in original.keywords}
    assert proposal["decision"] == "needs_approval"  # the policy names no rollback kind: it fails closed

    code, out, err = run("approvals", "approve", proposal["id"], "--json")
    assert code == 0, err
    assert json.loads(out)["result"]["status"] == "applied"
    account = Session(load_settings()).open_account(SANDBOX_ACCOUNT)
    assert not account.read_back(original).present


def test_rolling_back_a_created_ad_group_pauses_it(home: Path) -> None:
    _, entry_id = approve_waiting("create_ad_group")
    code, out, _ = run("changes", "rollback", str(entry_id), "--json")
    [proposal] = json.loads(out)["proposals"]
    assert code == 0 and proposal["kind"] == "pause_entity" and proposal["change"]["level"] == "ad_group"


def test_only_applied_changes_roll_back(home: Path) -> None:
    session = Session(load_settings())
    outcome = session.audit(SANDBOX_ACCOUNT)
    rejected = outcome.pending[0]
    run("approvals", "reject", rejected.id, "--reason", "no")
    entry = Session(load_settings()).change_log.entries(change=rejected.hash)[0]
    code, _, err = run("changes", "rollback", str(entry.id))
    assert code == 1 and "only an applied change can be rolled back" in err
    code, _, err = run("changes", "rollback", "99999")
    assert code == 1 and "no change log entry 99999" in err


def test_rolling_back_a_budget_change_restores_the_amount_through_its_own_rule(home: Path) -> None:
    move, entry_id = approve_waiting("set_budget")

    code, out, err = run("changes", "rollback", str(entry_id), "--json")
    assert code == 0, err
    [proposal] = json.loads(out)["proposals"]
    inverse = parse_change(proposal["change"])
    assert (inverse.from_amount, inverse.to_amount) == (move.to_amount, move.from_amount)
    assert (proposal["decision"], proposal["rule"]) == ("needs_approval", "budget.rollback")

    code, out, err = run("approvals", "approve", proposal["id"], "--json")
    assert code == 0 and json.loads(out)["result"]["status"] == "applied", err
    budgets = Session(load_settings()).open_account(SANDBOX_ACCOUNT).structure().budgets
    assert next(b.daily_amount for b in budgets if b.id == move.budget_id) == move.from_amount


def test_rolling_back_a_new_shared_list_removes_it_after_a_person_approves(home: Path) -> None:
    create, entry_id = approve_waiting("create_shared_negative_list")
    account = Session(load_settings()).open_account(SANDBOX_ACCOUNT)
    list_id = account.read_back(create).state["shared_list_id"]

    code, out, err = run("changes", "rollback", str(entry_id), "--json")
    assert code == 0, err
    [proposal] = json.loads(out)["proposals"]
    inverse = parse_change(proposal["change"])
    assert inverse.kind == "remove_shared_negative_list" and inverse.shared_list_id == list_id
    assert (inverse.name, inverse.campaign_ids) == (create.name, create.campaign_ids)
    assert (proposal["decision"], proposal["rule"]) == ("needs_approval", "negatives.remove_shared_list")
    code, out, _ = run("approvals", "show", proposal["id"])
    assert code == 0 and f"Remove shared negative list '{create.name}' ({list_id})" in out

    code, out, err = run("approvals", "approve", proposal["id"], "--json")
    assert code == 0 and json.loads(out)["result"]["status"] == "applied", err
    structure = Session(load_settings()).open_account(SANDBOX_ACCOUNT).structure()
    assert list_id not in {s.id for s in structure.shared_lists}
    assert not [n for n in structure.negatives if n.owner_id == list_id]
