"""The offline planner: a deterministic chat model that needs no network and no keys.

It maps a marketer's request to whitelisted tools with a small table of intents, then answers
from the tools' (screened) summaries. It never computes a number itself: the tools do.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

# (pattern, tools) in priority order; the first intents that match decide the plan.
INTENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"wast|negative|irrelevant|junk|exclude|useless", ("search_terms", "mine_negative_keywords")),
    (r"ad ?groups?|uncovered|expand|new keywords", ("propose_ad_groups",)),
    (r"theme|cluster|group\w*\b.*\b(quer|search)|categori[sz]e", ("cluster_search_queries",)),
    (
        r"\b(creative|ad|variant)s? tests?\b|a/?b tests?|which ads? (won|wins?|is best|works?)"
        r"|winning ads?|losing ads?",
        ("evaluate_creative_tests",),
    ),
    (r"creative|ad copy|headline|\brsa\b|variant|new ads?\b", ("propose_creative_variants",)),
    (
        r"(budget|pacing|pace|overspend|underspend|month.end).*(fix|change|adjust|propos|should|increase|lower|raise)"
        r"|(fix|change|adjust|propos|increase|lower|raise).*(budget|pacing)",
        ("budgets_and_pacing", "propose_budget_changes"),
    ),
    (r"budget|pacing|pace|overspend|underspend|month.end|on track", ("budgets_and_pacing",)),
    (r"search terms?|quer(y|ies)", ("search_terms",)),
    (r"campaign", ("campaign_performance",)),
)
WINDOWS: tuple[tuple[str, str], ...] = (
    (r"last month|previous month", "last_month"),
    (r"this month|month to date|mtd", "this_month"),
    (r"last (7 days|week)|past week", "last_7_days"),
    (r"last 30 days|past 30 days|last four weeks", "last_30_days"),
    (r"90 days|quarter|3 months", "last_90_days"),
)
CAMPAIGN = re.compile(
    r"(?:in|for|of) (?:the )?campaign\s+[\"'“]?([^\"'”?!.,]+)"
    r"|(?:in|for) the\s+[\"'“]?([^\"'”?!.,]+?)[\"'”]?\s+campaign",
    re.IGNORECASE,
)


def plan(request: str, available: Sequence[str]) -> list[dict[str, Any]]:
    """Tool calls for a request, using only tools in `available`."""
    text = request.casefold()
    names: list[str] = []
    for pattern, tools in INTENTS:
        if re.search(pattern, text):
            names.extend(t for t in tools if t not in names)
            break
    names = [n for n in names if n in available] or [n for n in ("account_overview",) if n in available]
    window = next((w for pattern, w in WINDOWS if re.search(pattern, text)), None)
    match = CAMPAIGN.search(request)
    campaign = next((g.strip() for g in match.groups() if g), None) if match else None
    calls = []
    for name in names:
        args: dict[str, Any] = {}
        if window and name not in ("budgets_and_pacing", "propose_budget_changes", "propose_creative_variants"):
            args["window"] = window
        if campaign and name in ("search_terms", "mine_negative_keywords"):
            args["campaign"] = campaign
        if name == "search_terms" and "mine_negative_keywords" in names:
            args["without_conversions"] = True
        calls.append({"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:12]}", "type": "tool_call"})
    return calls


def answer(results: Sequence[ToolMessage]) -> str:
    """A reply built from the tools' screened summaries."""
    lines, proposed, failed = [], 0, []
    for message in results:
        artifact = message.artifact if isinstance(message.artifact, dict) else {}
        if message.status == "error":
            failed.append(f"{message.name}: {str(message.content)[:200]}")
            continue
        if artifact.get("summary"):
            lines.append(f"- {artifact['summary']}")
        proposed += len(artifact.get("proposals", []))
    parts = ["Here is what I found:", *lines] if lines else []
    if proposed:
        parts.append(
            f"I proposed {proposed} change(s). Each goes through the policy gate: changes inside the policy are "
            "applied, the rest wait for your approval (`adpilot approvals list`) or are blocked."
        )
    if failed:
        parts.append("Some tools could not run: " + "; ".join(failed))
    return "\n".join(parts) or "I could not find anything to report for that request."


class OfflinePlanner(BaseChatModel):
    """Deterministic `BaseChatModel` with tool calling; used when no model API is configured."""

    model_name: str = "adpilot-offline-planner"  # traces name the model like any other
    tool_names: tuple[str, ...] = ()

    @property
    def _llm_type(self) -> str:
        return "adpilot-offline-planner"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,  # the planner picks its tools itself
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        names = tuple(convert_to_openai_tool(t)["function"]["name"] for t in tools)
        return self.model_copy(update={"tool_names": names})

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        last_human = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
        since = messages[last_human + 1 :]
        tool_results = [m for m in since if isinstance(m, ToolMessage)]
        if last_human >= 0 and not tool_results:
            request = str(messages[last_human].content)
            message = AIMessage(content="", tool_calls=plan(request, self.tool_names))
        else:
            message = AIMessage(content=answer(tool_results))
        return ChatResult(generations=[ChatGeneration(message=message)])
