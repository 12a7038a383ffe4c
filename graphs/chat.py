"""The chat graph: an agent with the whitelisted tools bound; its proposals take the audit's gate and approval steps.

START → agent ⇄ tools; agent (no tool call) → gate → apply_auto → await_approval → END
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any, Literal

from langchain_core.messages import AIMessage, SystemMessage, ToolMessage
from langgraph.graph import START, StateGraph
from langgraph.prebuilt import ToolNode
from langgraph.runtime import Runtime

from ads.changes import parse_change
from agents.prompts import system_prompt
from graphs.approval import add_approval_steps, unrepeated
from graphs.context import RunContext, ServiceFactory, services
from graphs.state import ChatState
from policies.screening import data_block, screen
from tools.registry import REGISTRY, langchain_tools, tool_definitions


def agent(state: ChatState, runtime: Runtime[RunContext], factory: ServiceFactory) -> dict[str, Any]:
    ctx = services(runtime, factory)
    if ctx.model is None:
        raise ValueError("the chat graph needs a model in its context")
    account = ctx.tools.structure().account
    model = ctx.model.bind_tools(tool_definitions())
    prompt = SystemMessage(system_prompt(account_name=screen(account.display_name).text, today=ctx.today))
    return {"messages": [model.invoke([prompt, *state["messages"]])]}


def tools(state: ChatState, runtime: Runtime[RunContext], factory: ServiceFactory) -> dict[str, Any]:
    """Run the requested tools; tool output reaches the model only as screened, delimited data."""
    ctx = services(runtime, factory)
    last = state["messages"][-1]
    for call in getattr(last, "tool_calls", []):
        if call["name"] not in REGISTRY:
            ctx.event(
                "tool.rejected",
                input={"tool": call["name"], "args": call.get("args")},
                output={"reason": "not in the whitelist"},
            )
    node = ToolNode(langchain_tools(ctx.tools), handle_tool_errors=True)
    output = node.invoke(state)
    messages: list[ToolMessage] = output["messages"]
    proposals: list[dict[str, Any]] = []
    screened = []
    for message in messages:
        artifact = message.artifact if isinstance(message.artifact, dict) else {}
        proposals.extend(artifact.get("proposals", []))
        if message.status == "error":
            ctx.event("tool.error", input={"tool": message.name}, output={"error": str(message.content)[:500]})
        screened.append(
            message.model_copy(
                update={
                    "content": data_block(message.name or "tool", _as_data(message.content)),
                    "artifact": {**artifact, "summary": screen(str(artifact.get("summary", ""))).text},
                }
            )
        )
    # What the account holds, or a person rejected and is cooling off, is not proposed again in a later turn.
    kept, left_out = unrepeated(ctx, [parse_change(p) for p in proposals])
    for line in left_out:
        ctx.event("proposal.left_out", output={"why": line})
    return {"messages": screened, "proposals": [c.model_dump(mode="json") for c in kept]}


def _as_data(content: Any) -> dict[str, Any] | str:
    """Tool results are JSON objects; errors are plain text."""
    try:
        value = json.loads(content)
    except (TypeError, ValueError):
        return str(content)
    return value if isinstance(value, dict) else str(content)


def route_after_agent(state: ChatState) -> Literal["tools", "gate", "__end__"]:
    last = state["messages"][-1]
    if isinstance(last, AIMessage) and last.tool_calls:
        return "tools"
    decided = state.get("decisions", {})
    return "gate" if any(p["hash"] not in decided for p in state.get("proposals", [])) else "__end__"  # END


def build_chat_graph(factory: ServiceFactory) -> StateGraph[ChatState, RunContext, ChatState, ChatState]:
    """The chat, its nodes running with the services `factory` builds from each run's context."""
    builder = StateGraph(ChatState, context_schema=RunContext)
    builder.add_node("agent", partial(agent, factory=factory))
    builder.add_node("tools", partial(tools, factory=factory))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", route_after_agent)
    builder.add_edge("tools", "agent")
    add_approval_steps(builder, factory, graph="chat", respond_to="agent")
    return builder
