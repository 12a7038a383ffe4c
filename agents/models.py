"""Which chat model adpilot uses, chosen once from settings: OpenAI-compatible when configured, else offline."""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI

from agents.offline_planner import OfflinePlanner


@dataclass(frozen=True)
class ModelChoice:
    model: BaseChatModel
    label: str
    offline: bool


def select_model(*, api_key: str | None, base_url: str | None, model_name: str) -> ModelChoice:
    """`ChatOpenAI` when an API key is set, else the offline planner.

    `base_url` points `ChatOpenAI` at any OpenAI-compatible server (vLLM, Ollama, llama.cpp …).
    """
    if api_key:
        model = ChatOpenAI(
            model=model_name, api_key=api_key, base_url=base_url, temperature=0, max_retries=2, timeout=120
        )
        return ModelChoice(model, f"{model_name} via {base_url or 'api.openai.com'}", offline=False)
    return ModelChoice(OfflinePlanner(), "offline planner (deterministic, no network)", offline=True)
