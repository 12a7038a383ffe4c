"""The offline planner's plans: a gold set of requests and the tool calls they should produce."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from agents.offline_planner import OfflinePlanner, plan
from tools.registry import REGISTRY, tool_definitions

ALL = list(REGISTRY)

GOLD = [
    (
        "Which search terms are wasting money in campaign Generic - Tents?",
        [
            ("search_terms", {"campaign": "Generic - Tents", "without_conversions": True}),
            ("mine_negative_keywords", {"campaign": "Generic - Tents"}),
        ],
    ),
    ("group last month's queries into themes", [("cluster_search_queries", {"window": "last_month"})]),
    ("What new ad groups should I create?", [("propose_ad_groups", {})]),
    (
        "Are we going to overspend this month? adjust the budgets",
        [("budgets_and_pacing", {}), ("propose_budget_changes", {})],
    ),
    ("how is pacing looking", [("budgets_and_pacing", {})]),
    ("suggest new RSA headlines", [("propose_creative_variants", {})]),
    ("which ad won the A/B test?", [("evaluate_creative_tests", {})]),
    (
        "how are the creative tests doing over the last 30 days",
        [("evaluate_creative_tests", {"window": "last_30_days"})],
    ),
    ("show search terms from the last 7 days", [("search_terms", {"window": "last_7_days"})]),
    ("hello", [("account_overview", {})]),
]


@pytest.mark.parametrize(("request_text", "expected"), GOLD)
def test_gold_plans(request_text: str, expected: list[tuple[str, dict]]) -> None:
    calls = plan(request_text, ALL)
    assert [(c["name"], c["args"]) for c in calls] == expected
    for c in calls:  # every planned call validates against the tool's own schema
        REGISTRY[c["name"]].args_schema.model_validate(c["args"])


def test_plans_only_with_bound_tools() -> None:
    assert [c["name"] for c in plan("what ad groups should I add?", ["account_overview"])] == ["account_overview"]


def test_model_calls_tools_then_answers_from_their_summaries() -> None:
    model = OfflinePlanner().bind_tools(tool_definitions())
    first = model.invoke([HumanMessage("what new ad groups should I create?")])
    assert isinstance(first, AIMessage) and first.tool_calls[0]["name"] == "propose_ad_groups"
    result = ToolMessage(
        content="<data>…</data>",
        tool_call_id=first.tool_calls[0]["id"],
        name="propose_ad_groups",
        artifact={
            "summary": "2 new ad groups for themes no keyword covers yet.",
            "listed": [{"name": "a1b2c3d4e5", "line": "Create ad group 'Tent Pegs'"}, {"name": "f6", "line": "x"}],
        },
    )
    second = model.invoke([HumanMessage("what new ad groups should I create?"), first, result])
    assert "2 new ad groups" in second.content and "2 change(s)" in second.content
    assert "1. Create ad group 'Tent Pegs' (change a1b2c3d4e5)" in second.content
    assert not second.tool_calls
