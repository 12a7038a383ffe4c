"""The chat graph with the offline planner and with a scripted model that misbehaves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, ToolMessage
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agents.models import ModelChoice
from app.session import SANDBOX_ACCOUNT, Session
from app.settings import load_settings
from ops.tracing import configure_tracing


class ScriptedModel(GenericFakeChatModel):
    """GenericFakeChatModel cannot bind tools; this one ignores them and replays its script."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedModel:
        return self


def scripted_session(home: Path, script: list[AIMessage]) -> tuple[Session, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    model = ModelChoice(ScriptedModel(messages=iter(script)), "scripted", offline=True)
    return Session(load_settings(), model=model, tracing=configure_tracing(home, span_exporter=exporter)), exporter


def call(name: str, args: dict[str, Any], n: int) -> dict[str, Any]:
    return {"name": name, "args": args, "id": f"call_{n}", "type": "tool_call"}


def test_offline_planner_finds_waste_in_a_campaign_and_gates_the_negatives(home: Path) -> None:
    session = Session(load_settings())
    campaign = next(
        c.name for c in session.open_account(SANDBOX_ACCOUNT).structure().campaigns if "brand" not in c.name.casefold()
    )
    outcome = session.chat(SANDBOX_ACCOUNT, f"Which search terms are wasting money in campaign {campaign}?")
    tool_messages = [m for m in outcome.values["messages"] if isinstance(m, ToolMessage)]
    assert {m.name for m in tool_messages} == {"search_terms", "mine_negative_keywords"}
    assert all('<data label="' in m.content and m.content.endswith("</data>") for m in tool_messages)
    assert "negative" in outcome.reply
    for proposal in outcome.values["proposals"]:
        assert proposal["kind"] == "add_negative_keywords"
        assert proposal["hash"] in outcome.values["decisions"]


@pytest.mark.parametrize(
    ("request_text", "tool"),
    [
        ("group last month's queries into themes", "cluster_search_queries"),
        ("what new ad groups should I create?", "propose_ad_groups"),
        ("are my budgets on track this month?", "budgets_and_pacing"),
        ("write new headlines for weak ads", "propose_creative_variants"),
    ],
)
def test_offline_planner_maps_common_requests_to_tools(home: Path, request_text: str, tool: str) -> None:
    outcome = Session(load_settings()).chat(SANDBOX_ACCOUNT, request_text)
    called = [m.name for m in outcome.values["messages"] if isinstance(m, ToolMessage)]
    assert tool in called
    assert outcome.reply


def test_conversation_continues_on_its_thread(home: Path) -> None:
    session = Session(load_settings())
    first = session.chat(SANDBOX_ACCOUNT, "how is the account doing?")
    second = session.chat(SANDBOX_ACCOUNT, "are my budgets on track?", first.thread_id)
    humans = [m for m in second.values["messages"] if m.type == "human"]
    assert second.thread_id == first.thread_id and len(humans) == 2


def test_unknown_tools_and_bad_arguments_go_back_to_the_model_and_are_traced(home: Path) -> None:
    script = [
        AIMessage(content="", tool_calls=[call("delete_campaign", {"id": "1"}, 1)]),
        AIMessage(content="", tool_calls=[call("search_terms", {"limit": "lots"}, 2)]),
        AIMessage(content="", tool_calls=[call("propose_budget_changes", {}, 3)]),
        AIMessage(content="Done."),
    ]
    session, exporter = scripted_session(home, script)
    outcome = session.chat(SANDBOX_ACCOUNT, "do something")
    results = {m.tool_call_id: m for m in outcome.values["messages"] if isinstance(m, ToolMessage)}
    assert results["call_1"].status == "error" and "not a valid tool" in results["call_1"].content
    assert results["call_2"].status == "error" and "limit" in results["call_2"].content
    assert results["call_3"].status == "success"
    assert outcome.reply == "Done."
    names = [s.name for s in exporter.get_finished_spans()]
    assert "tool.rejected" in names and "tool.error" in names
    # Budget proposals from the chat took the same gate as the audit's.
    assert all(p["hash"] in outcome.values["decisions"] for p in outcome.values["proposals"])


def test_injected_search_terms_stay_data(home: Path) -> None:
    script = [
        AIMessage(content="", tool_calls=[call("search_terms", {"contains": "ignore", "limit": 50}, 1)]),
        AIMessage(content="ok"),
    ]
    session, _ = scripted_session(home, script)
    outcome = session.chat(SANDBOX_ACCOUNT, "show me odd search terms")
    message = next(m for m in outcome.values["messages"] if isinstance(m, ToolMessage))
    assert '<data label="search_terms"' in message.content and message.content.endswith("</data>")
    assert "ignore" in message.content.casefold()  # still there, as data
    assert "injection:" in message.content  # and flagged as an injection attempt
