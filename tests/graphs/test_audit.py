"""The audit graph end to end on the sandbox, with the offline planner and real tools, gate and apply path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ads.changes import parse_change
from app.session import SANDBOX_ACCOUNT, Session
from app.settings import load_settings
from ops.tracing import configure_tracing

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def traced(home: Path) -> tuple[Session, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    settings = load_settings()
    session = Session(settings, tracing=configure_tracing(home, span_exporter=exporter))
    return session, exporter


def test_audit_gates_every_proposal_applies_auto_and_holds_the_rest(traced) -> None:
    session, _ = traced
    outcome = session.audit(SANDBOX_ACCOUNT)
    values = outcome.values
    changes = [parse_change(p) for p in values["proposals"]]
    kinds = {c.kind for c in changes}
    assert {"create_ad_group", "add_creative_variants", "set_budget"} <= kinds
    assert {"add_negative_keywords", "create_shared_negative_list"} & kinds  # the sandbox's themes go to lists
    assert set(values["decisions"]) == {c.hash for c in changes}

    auto = [c for c in changes if values["decisions"][c.hash]["outcome"] == "auto_apply"]
    held = [c for c in changes if values["decisions"][c.hash]["outcome"] == "needs_approval"]
    assert auto and held
    for change in auto:
        assert values["results"][change.hash]["status"] == "applied"
        assert session.open_account(SANDBOX_ACCOUNT).read_back(change).present
        assert session.change_log.is_applied(change.hash)
    # Ad groups and creatives always wait for a person; nothing held is in the account.
    assert all(
        values["decisions"][c.hash]["outcome"] != "auto_apply"
        for c in changes
        if c.kind in ("create_ad_group", "add_creative_variants")
    )
    for change in held:
        assert change.hash not in values["results"]
        assert not session.open_account(SANDBOX_ACCOUNT).read_back(change).present
    assert {c.hash for c in outcome.pending} == {c.hash for c in held}

    html = Path(values["report"]["html"]).read_text()
    assert "<svg" in html and held[0].id in html
    document = json.loads(Path(values["report"]["json"]).read_text())
    assert len(document["proposals"]) == len(changes)


def test_tracing_has_a_span_per_node_tool_and_gate_decision(traced) -> None:
    session, exporter = traced
    outcome = session.audit(SANDBOX_ACCOUNT)
    spans = exporter.get_finished_spans()
    names = [s.name for s in spans]
    for node in ("load_account", "search_terms", "creatives", "pacing", "gate", "apply_auto", "await_approval"):
        assert node in names, node
    tool_spans = [s for s in spans if s.attributes.get("langfuse.observation.type") == "tool"]
    assert {s.name for s in tool_spans} >= {
        "cluster_search_queries",
        "mine_negative_keywords",
        "propose_ad_groups",
        "propose_creative_variants",
        "evaluate_creative_tests",
        "budgets_and_pacing",
        "propose_budget_changes",
    }
    decisions = [s for s in spans if s.name == "gate.decision"]
    assert len(decisions) == len(outcome.values["proposals"])
    applied_events = [s for s in spans if s.name == "change.applied"]
    assert len(applied_events) == sum(1 for r in outcome.values["results"].values() if r["status"] == "applied")
    assert len({s.context.trace_id for s in spans}) == 1  # one run, one trace


def test_pending_approval_survives_a_restart_and_resumes_in_a_fresh_process(home: Path) -> None:
    first = Session(load_settings())
    outcome = first.audit(SANDBOX_ACCOUNT)
    budget_or_negative = next(c for c in outcome.pending if c.kind in ("set_budget", "add_negative_keywords"))
    first.change_log.close()
    del first

    env = {**os.environ, "ADPILOT_HOME": str(home)}
    run = subprocess.run(
        [sys.executable, "-m", "app", "approvals", "approve", budget_or_negative.id, "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=home.parent,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    assert answer["result"]["status"] == "applied"

    second = Session(load_settings())
    assert second.change_log.is_applied(budget_or_negative.hash)
    assert second.open_account(SANDBOX_ACCOUNT).read_back(budget_or_negative).present
    assert budget_or_negative.hash not in {p.change.hash for p in second.pending_approvals()}


def test_audit_runs_the_creative_tests_and_their_pauses_wait_for_a_person(traced) -> None:
    from sandbox.generator import PLANTED_CREATIVE_TESTS

    session, _ = traced
    values = session.audit(SANDBOX_ACCOUNT).values
    tests = values["findings"]["creatives"]["tests"]["tests"]
    status = {t["ad_group_name"]: t["status"] for t in tests}
    assert status["Daypacks"] == "not_enough_data"  # the planted thin test
    pauses = [c for c in map(parse_change, values["proposals"]) if c.kind == "pause_entity"]
    assert pauses, "the planted winner's siblings are clear losers"
    losers = {v["ad_id"]: t["ad_group_name"] for t in tests for v in t["variants"] if v["verdict"] == "loser"}
    assert {p.entity_id for p in pauses} == set(losers)
    assert {PLANTED_CREATIVE_TESTS.get(losers[p.entity_id]) for p in pauses} == {"winner"}
    for pause in pauses:
        decision = values["decisions"][pause.hash]
        assert (decision["outcome"], decision["rule"]) == ("needs_approval", "pauses.needs_approval")
        assert pause.hash not in values["results"]
    assert any("clear loser(s) proposed for pausing" in s for s in values["findings"]["creatives"]["summaries"])
