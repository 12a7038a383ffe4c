"""Which chat models adpilot uses, chosen once from settings: OpenAI-compatible when configured, else offline.

Two routes: a fast (cheap) model classifies search intents and names themes, a strong one writes ad copy and
holds the conversation. Every configured call is retried with the client's exponential backoff, has a timeout,
goes through the response cache when one is given, and names its route in the trace (the model's metadata).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from langchain_core.caches import BaseCache
from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI

from agents.offline_planner import OfflinePlanner


class Route(StrEnum):
    FAST = "fast"  # classification and naming: OPENAI_MODEL_FAST
    STRONG = "strong"  # copy and conversation: OPENAI_MODEL


@dataclass(frozen=True)
class ModelChoice:
    model: BaseChatModel  # the strong route
    label: str
    offline: bool
    fast: BaseChatModel | None = None  # None: the strong model takes the fast route too
    name: str = OfflinePlanner.model_fields["model_name"].default
    fast_name: str = OfflinePlanner.model_fields["model_name"].default

    def route(self, route: Route) -> tuple[BaseChatModel, str]:
        """The model of `route`, and its name."""
        if route is Route.FAST and self.fast is not None:
            return self.fast, self.fast_name
        return self.model, self.name


def select_model(
    *,
    api_key: str | None,
    base_url: str | None,
    model_name: str,
    fast_model_name: str | None = None,
    cache: BaseCache | None = None,
    max_retries: int = 2,
    timeout: float = 60.0,
) -> ModelChoice:
    """`ChatOpenAI` when an API key is set, else the offline planner.

    `base_url` points `ChatOpenAI` at any OpenAI-compatible server (vLLM, Ollama, llama.cpp …).
    """
    if not api_key:
        return ModelChoice(OfflinePlanner(), "offline planner (deterministic, no network)", offline=True)

    def chat_model(name: str, route: Route) -> ChatOpenAI:
        return ChatOpenAI(
            model=name,
            api_key=api_key,
            base_url=base_url,
            temperature=0,
            max_retries=max_retries,
            timeout=timeout,
            cache=cache,
            metadata={"route": route.value},
        )

    fast_name = fast_model_name or model_name
    label = f"{model_name} via {base_url or 'api.openai.com'}"
    if fast_name != model_name:
        label += f" ({fast_name} classifies and names)"
    return ModelChoice(
        chat_model(model_name, Route.STRONG),
        label,
        offline=False,
        fast=chat_model(fast_name, Route.FAST),
        name=model_name,
        fast_name=fast_name,
    )
