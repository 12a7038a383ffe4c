"""CreateSharedNegativeList: a new theme list with its keywords, attached to campaigns, through the real google-ads
client against the emulator, on the sandbox store, and through the gate; RemoveSharedNegativeList, its rollback."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from ads.changes import (
    CreateSharedNegativeList,
    NegativeBasis,
    NegativeSpec,
    QueryEvidence,
    RemoveSharedNegativeList,
    parse_change,
)
from ads.entities import MatchType
from ads.google_ads import GoogleAdsAccount
from policies.gate import GateContext, decide, load_policy
from sandbox.google_ads_emulator import GoogleAdsEmulator
from sandbox.store import SandboxAccount
from tests.google_ads_sample import ACCOUNT, Sleeps, sample_structure


@pytest.fixture(autouse=True)
def fresh_account(fresh_google_ads_account: None, sleeps: Sleeps) -> None:
    sleeps.clear()


def new_list(
    name: str = "Competitors", campaigns: tuple[str, ...] = ("11", "12"), *texts: str
) -> CreateSharedNegativeList:
    return CreateSharedNegativeList(
        account=ACCOUNT,
        rationale="competitor searches in both campaigns",
        name=name,
        keywords=tuple(
            NegativeSpec(text=t, match_type=MatchType.PHRASE, basis=NegativeBasis.INTENT, intent="competitor")
            for t in texts or ("decathlon", "quechua")
        ),
        campaign_ids=campaigns,
    )


def test_a_new_list_is_created_filled_attached_and_read_back(
    google: GoogleAdsAccount, google_ads_sandbox: SandboxAccount, google_ads_emulator: GoogleAdsEmulator
) -> None:
    change = new_list()
    assert parse_change(change.model_dump(mode="json")) == change
    (validated,) = google.apply([change], validate_only=True)
    assert validated.status == "validated", validated.message
    assert not google.read_back(change).present
    assert not [s for s in google_ads_sandbox.structure().shared_lists if s.name == "Competitors"]

    (applied,) = google.apply([change], validate_only=False)
    assert applied.status == "applied", applied.message
    [created] = [s for s in google_ads_sandbox.structure().shared_lists if s.name == "Competitors"]
    assert set(created.campaign_ids) == {"11", "12"}
    held = {(n.text, n.match_type) for n in google_ads_sandbox.structure().negatives if n.owner_id == created.id}
    assert held == {("decathlon", MatchType.PHRASE), ("quechua", MatchType.PHRASE)}
    # one request: the list (temporary id), 2 criteria on it, 2 campaign links
    operations = google_ads_emulator.mutate_requests[-1].mutate_operations
    assert [op._pb.WhichOneof("operation") for op in operations] == [
        "shared_set_operation",
        "shared_criterion_operation",
        "shared_criterion_operation",
        "campaign_shared_set_operation",
        "campaign_shared_set_operation",
    ]
    back = google.read_back(change)
    assert back.present and back.state["shared_list_id"] == created.id
    assert back.state["missing"] == [] and back.state["unattached_campaigns"] == []

    (again,) = google.apply([change], validate_only=False)
    assert again.status == "already_applied"


def test_a_list_left_half_made_gets_only_what_it_lacks(
    google: GoogleAdsAccount, google_ads_emulator: GoogleAdsEmulator
) -> None:
    (first,) = google.apply([new_list("Jobs", ("11",), "jobs")], validate_only=False)
    assert first.status == "applied", first.message
    wider = new_list("Jobs", ("11", "12"), "jobs", "careers")
    assert google.read_back(wider).state["unattached_campaigns"] == ["12"]
    google_ads_emulator.mutate_requests.clear()
    (second,) = google.apply([wider], validate_only=False)
    assert second.status == "applied", second.message
    operations = google_ads_emulator.mutate_requests[-1].mutate_operations
    assert [op._pb.WhichOneof("operation") for op in operations] == [
        "shared_criterion_operation",
        "campaign_shared_set_operation",
    ]


def test_an_unknown_campaign_fails_in_validation_and_writes_nothing(
    google: GoogleAdsAccount, google_ads_sandbox: SandboxAccount
) -> None:
    (result,) = google.apply([new_list("Free", ("11", "999"), "free")], validate_only=False)
    assert result.status == "failed" and "999" in result.message
    assert not [s for s in google_ads_sandbox.structure().shared_lists if s.name == "Free"]


def test_the_sandbox_store_creates_the_list_and_refuses_a_duplicate_name(google_ads_sandbox: SandboxAccount) -> None:
    account = {"account": google_ads_sandbox.account.name}
    change = new_list().model_copy(update=account)
    (validated,) = google_ads_sandbox.apply([change], validate_only=True)
    assert validated.status == "validated", validated.message
    (applied,) = google_ads_sandbox.apply([change], validate_only=False)
    assert applied.status == "applied", applied.message
    assert applied.resource_names[0].startswith(f"customers/{google_ads_sandbox.account.id}/sharedSets/")
    (again,) = google_ads_sandbox.apply([change], validate_only=False)
    assert again.status == "already_applied"
    duplicate_name = new_list("waste", ("11",), "free").model_copy(update=account)
    (duplicate,) = google_ads_sandbox.apply([duplicate_name], validate_only=True)
    assert (duplicate.status, duplicate.message) == ("failed", "shared list 'waste' already exists")


def gate_context(conversions: float) -> GateContext:
    terms = pd.DataFrame(
        {
            "search_term": ["decathlon tent", "quechua boots"],
            "campaign_id": ["12", "11"],
            "ad_group_id": ["", ""],
            "clicks": [30, 30],
            "impressions": [300, 300],
            "cost": [40_000_000, 40_000_000],
            "conversions": [conversions, 0.0],
        }
    )
    account = sample_structure().account.model_copy(update={"name": ACCOUNT})
    return GateContext(policy=load_policy(), account=account, today=dt.date(2026, 11, 20), search_terms=terms)


def test_the_gate_always_leaves_a_new_list_to_a_person_and_blocks_one_that_blocks_conversions() -> None:
    proven = new_list().model_copy(
        update={
            "keywords": tuple(
                k.model_copy(update={"basis": NegativeBasis.PERFORMANCE, "blocks": (QueryEvidence(search_term="x"),)})
                for k in new_list().keywords
            )
        }
    )
    decision = decide(proven, gate_context(conversions=0))
    assert (decision.outcome, decision.rule) == ("needs_approval", "negatives.new_shared_list")
    blocked = decide(proven, gate_context(conversions=2))
    assert (blocked.outcome, blocked.rule) == ("blocked", "negatives.blocks_conversions")
    too_many = new_list("Big", ("11",), *(f"word{i}" for i in range(5001)))
    assert decide(too_many, gate_context(conversions=0)).rule == "negatives.shared_list_size"


def removal(account: str, list_id: str) -> RemoveSharedNegativeList:
    return RemoveSharedNegativeList(
        account=account,
        rationale="rolls back the new list",
        shared_list_id=list_id,
        name="Competitors",
        keyword_count=2,
        campaign_ids=("11", "12"),
    )


def test_a_removed_list_is_gone_with_its_keywords_and_campaign_links(
    google: GoogleAdsAccount, google_ads_sandbox: SandboxAccount, google_ads_emulator: GoogleAdsEmulator
) -> None:
    (made,) = google.apply([new_list()], validate_only=False)
    assert made.status == "applied", made.message
    list_id = google.read_back(new_list()).state["shared_list_id"]
    change = removal(ACCOUNT, list_id)
    assert parse_change(change.model_dump(mode="json")) == change
    before = google.read_back(change)
    assert not before.present and before.state["attached_campaigns"] == ["11", "12"]
    assert before.state["negatives"] == 2

    google_ads_emulator.mutate_requests.clear()
    (validated,) = google.apply([change], validate_only=True)
    assert validated.status == "validated", validated.message
    assert google.read_back(new_list()).present  # validation wrote nothing
    (removed,) = google.apply([change], validate_only=False)
    assert removed.status == "applied", removed.message
    operations = google_ads_emulator.mutate_requests[-1].mutate_operations
    assert [op._pb.WhichOneof("operation") for op in operations] == ["shared_set_operation"]
    assert operations[0].shared_set_operation.remove == f"customers/{google.customer_id}/sharedSets/{list_id}"

    structure = google_ads_sandbox.structure()
    assert list_id not in {s.id for s in structure.shared_lists}
    assert not [n for n in structure.negatives if n.owner_id == list_id]
    assert google.read_back(change).present and not google.read_back(new_list()).present
    (again,) = google.apply([change], validate_only=False)
    assert again.status == "already_applied"


def test_the_sandbox_store_removes_a_list_in_one_write(google_ads_sandbox: SandboxAccount) -> None:
    name = google_ads_sandbox.account.name
    create = new_list().model_copy(update={"account": name})
    (made,) = google_ads_sandbox.apply([create], validate_only=False)
    assert made.status == "applied", made.message
    list_id = google_ads_sandbox.read_back(create).state["shared_list_id"]
    others = [n for n in google_ads_sandbox.structure().negatives if n.owner_id != list_id]
    change = removal(name, list_id)
    (validated,) = google_ads_sandbox.apply([change], validate_only=True)
    assert validated.status == "validated" and not google_ads_sandbox.read_back(change).present
    (removed,) = google_ads_sandbox.apply([change], validate_only=False)
    assert removed.status == "applied", removed.message
    assert removed.before["attached_campaigns"] == ["11", "12"] and removed.before["negatives"] == 2
    structure = google_ads_sandbox.structure()
    assert list_id not in {s.id for s in structure.shared_lists}
    assert [n for n in structure.negatives if n.owner_id != list_id] == others  # nothing else touched
    assert not [n for n in structure.negatives if n.owner_id == list_id]
    (again,) = google_ads_sandbox.apply([change], validate_only=False)
    assert again.status == "already_applied"


def test_the_gate_always_leaves_removing_a_list_to_a_person() -> None:
    decision = decide(removal(ACCOUNT, "123"), gate_context(conversions=0))
    assert (decision.outcome, decision.rule) == ("needs_approval", "negatives.remove_shared_list")
    assert "'Competitors'" in decision.reason and "2 negative(s)" in decision.reason
