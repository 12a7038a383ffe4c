"""The configured chat model of one run, guarded: a turn it cannot serve is served by the offline planner.

Three things send a turn to the offline planner, and the reply says which:
- the run's token budget would be exceeded by the next call;
- the model fails after its retries (a server that is down, errors, times out);
- the model is weak: no tool call and no useful text (an empty answer, an echo of the question, a refusal
  to use the tools), which would otherwise reach the user as the reply, in silence.
The planner then plans the turn's tools and answers from what they computed. Once a turn has fallen back
it stays with the planner (the marker is on the turn's messages, so it survives a checkpoint).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import openai
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableBinding
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field
from rapidfuzz import fuzz

from agents.batched_questions import TokenBudget, estimate_tokens, reported_tokens
from agents.offline_planner import OfflinePlanner, this_turn

ANSWER_TOKENS = 1_000  # reserved for a turn's answer, beyond its prompt
ECHO_SIMILARITY = 85  # rapidfuzz ratio (0-100) from which an answer repeats the question rather than answers it
REFUSAL = re.compile(
    r"\b(?:i|we)\s+(?:can(?:no|')t|am\s+unable\s+to|do\s+not|don't)\s+(?:have\s+)?(?:access|use|call|run|browse)\b"
    r"|\bas\s+an\s+ai\b|\bno\s+access\s+to\s+(?:the\s+|your\s+)?(?:tools?|account|data)\b",
    re.IGNORECASE,
)


def weakness(reply: AIMessage, messages: Sequence[BaseMessage]) -> str | None:
    """What makes `reply` no answer to the turn's question, or None when it calls a tool or says something."""
    if reply.tool_calls:
        return None
    text = " ".join(reply.text.split())
    if not text:
        return "answered with no tool call and no text"
    question = next((" ".join(m.text.split()) for m in reversed(messages) if isinstance(m, HumanMessage)), "")
    if question and fuzz.ratio(text.casefold(), question.casefold()) >= ECHO_SIMILARITY:
        return "answered with an echo of the question and no tool call"
    if REFUSAL.search(text):
        return "refused to use the tools"
    return None


class GuardedChatModel(BaseChatModel):
    """`inner` (a configured chat model) under the run's token budget, with the offline planner behind it."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    inner: BaseChatModel
    budget: TokenBudget
    model_name: str  # how the reply names the model that failed
    fallback: BaseChatModel = Field(default_factory=OfflinePlanner)
    tools: tuple[dict[str, Any], ...] = ()

    @property
    def _llm_type(self) -> str:
        return "adpilot-guarded-chat-model"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,  # the inner model and the planner choose their tools
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self.model_copy(update={"tools": tuple(convert_to_openai_tool(t) for t in tools)})

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        earlier = next(
            (m.response_metadata["fallback"] for m in this_turn(messages) if "fallback" in m.response_metadata), None
        )
        if earlier is not None:
            return self._fall_back(messages, earlier)
        estimate = estimate_tokens(messages, ANSWER_TOKENS, self.tools)
        if not self.budget.reserve(estimate):
            return self._fall_back(messages, f"the token budget of {self.budget.limit:,} tokens for this run is spent")
        bound = self.inner.bind_tools(list(self.tools)) if self.tools else self.inner
        # This call is the generation the trace shows (with the inner model's name, usage and route), so the
        # inner call is not traced again; a binding's own config would bring the graph's callbacks back.
        model, bound_kwargs = (bound.bound, bound.kwargs) if isinstance(bound, RunnableBinding) else (bound, {})
        try:
            reply = model.invoke(messages, {"callbacks": []}, stop=stop, **bound_kwargs)
        except openai.OpenAIError as error:  # after the client's retries: an outage must not end the run
            return self._fall_back(messages, f"{self.model_name} failed ({type(error).__name__}: {str(error)[:120]})")
        self.budget.settle(estimate, reported_tokens(reply))
        if not isinstance(reply, AIMessage):
            return self._fall_back(messages, f"{self.model_name} gave no message")
        if problem := weakness(reply, messages):
            return self._fall_back(messages, f"{self.model_name} {problem}")
        served_by = reply.response_metadata.get("model_name") or self.model_name
        return ChatResult(generations=[ChatGeneration(message=reply)], llm_output={"model_name": served_by})

    def _fall_back(self, messages: list[BaseMessage], reason: str) -> ChatResult:
        planner = self.fallback.bind_tools(list(self.tools)) if self.tools else self.fallback
        reply = planner.invoke(messages, config={"callbacks": []})
        content = str(reply.text)
        if content:  # the turn's answer says why the planner gave it
            content += f"\n\nNote: {reason}; the offline planner answered this turn from the tools' results."
        message = reply.model_copy(
            update={"content": content, "response_metadata": {**reply.response_metadata, "fallback": reason}}
        )
        name = str(getattr(self.fallback, "model_name", "offline planner"))
        return ChatResult(generations=[ChatGeneration(message=message)], llm_output={"model_name": name})
