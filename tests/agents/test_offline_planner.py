"""The offline planner's plans: a gold set of requests and the tool calls they should produce."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from agents.offline_planner import OfflinePlanner, converse, plan
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


# The account's names as the chat's thread block hands them to the planner.
NAMES = {
    "campaigns": ["Search | Tents", "Search | Hiking Boots", "Search | Rain Jackets"],
    "ad_groups": ["Four Season Tents", "Men's Rain Jackets", "Women's Rain Jackets", "Daypacks"],
}
NAMED = [
    ("Show me the search terms in the Tents campaign.", [("search_terms", {"campaign": "Search | Tents"})]),
    (  # the clause goes on after the name
        "Welche Suchbegriffe in der Kampagne Tents verschwenden Geld?",
        [
            ("search_terms", {"campaign": "Search | Tents", "without_conversions": True}),
            ("mine_negative_keywords", {"campaign": "Search | Tents"}),
        ],
    ),
    # A name that is no campaign goes to the tool as typed, which refuses it with the closest names.
    ("Show me the search terms in campaign Generic - Tents.", [("search_terms", {"campaign": "Generic - Tents"})]),
    ("search terms for the Hikng Boots campaign", [("search_terms", {"campaign": "Hikng Boots"})]),
    ("show search terms in ad group Four Seasons Tentz", [("search_terms", {"ad_group": "Four Seasons Tentz"})]),
    ("Suchbegriffe der Anzeigengruppe Daypack", [("search_terms", {"ad_group": "Daypacks"})]),
    (  # written exactly, "Men's" is not the longer "Women's"
        "Write 5 headlines for Men's Rain Jackets",
        [("propose_creative_variants", {"ad_group": "Men's Rain Jackets", "count": 5})],
    ),
    (
        "search terms for Rain Jackets last 30 days",
        [("search_terms", {"window": "last_30_days", "campaign": "Search | Rain Jackets"})],
    ),
    ('Show me search terms containing "free".', [("search_terms", {"contains": "free"})]),
    ("Which search terms have no conversions?", [("search_terms", {"without_conversions": True})]),
    ("Show me the headline numbers for the last 90 days.", [("account_overview", {"window": "last_90_days"})]),
    ("Schlüssel die Ausgaben dieses Monats nach Kampagnen auf.", [("campaign_performance", {"window": "this_month"})]),
    ("Passe meine Budgets an.", [("budgets_and_pacing", {}), ("propose_budget_changes", {})]),
    ("How much do we spend on competitor and job searches?", [("classify_search_intent", {})]),
    ("Welche neuen Anzeigengruppen sollte ich anlegen?", [("propose_ad_groups", {})]),
]


@pytest.mark.parametrize(("request_text", "expected"), NAMED)
def test_plans_resolve_the_accounts_names_in_english_and_german(
    request_text: str, expected: list[tuple[str, dict]]
) -> None:
    calls = plan(request_text, ALL, NAMES)
    assert [(c["name"], c["args"]) for c in calls] == expected
    for c in calls:
        REGISTRY[c["name"]].args_schema.model_validate(c["args"])


def test_conversation_turns_thanks_a_new_period_another_account_and_the_change_log() -> None:
    assert (
        converse("thanks, that's all", ALL, {})
        == "You're welcome. Ask me anything else about the account, or type quit to leave."
    )
    assert isinstance(converse("Danke, das war's.", ALL, {"language": "de"}), str)
    again = converse("Und im letzten Monat?", ALL, NAMES, ["Wie laufen meine Kampagnen?"])
    assert [(c["name"], c["args"]) for c in again] == [("campaign_performance", {"window": "last_month"})]
    # a new question that names a period is not a follow-up
    fresh = converse("How did the account do over the last 7 days?", ALL, NAMES, ["Wie laufen meine Kampagnen?"])
    assert [(c["name"], c["args"]) for c in fresh] == [("account_overview", {"window": "last_7_days"})]
    switch = converse("Wechsle zum Meta-Konto.", ALL, {})
    assert [(c["name"], c["args"]) for c in switch] == [("switch_account", {"account": "Meta"})]
    changes = converse("Show me the changes from the last 7 days.", ALL, {})
    assert [(c["name"], c["args"]) for c in changes] == [("recent_changes", {"days": 7})]
    budgets = converse("Propose budget changes to get the most conversions for the same total.", ALL, {})
    assert [c["name"] for c in budgets] == ["budgets_and_pacing", "propose_budget_changes"]
