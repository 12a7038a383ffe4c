"""ChatOpenAI against a local OpenAI-compatible server: the chat graph and the LLM copy writer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ads.entities import Platform, ResponsiveSearchAdCopy
from agents.copy_writer import LLMCopyWriter
from agents.models import select_model
from app.session import SANDBOX_ACCOUNT, Session
from app.settings import load_settings
from policies.screening import data_block
from tests.local_servers import chat_completion, serve
from tools.creatives import CreativeBrief, write_copy
from tools.registry import REGISTRY


def test_chat_graph_calls_tools_through_an_openai_compatible_server(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests: list[dict[str, Any]] = []

    def handle(path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        request = json.loads(body)
        requests.append(request)
        if len(requests) == 1:
            call = {"id": "call_1", "type": "function", "function": {"name": "budgets_and_pacing", "arguments": "{}"}}
            return 200, chat_completion({"content": None, "tool_calls": [call]})
        return 200, chat_completion({"content": "Two budgets are off pace."})

    with serve(handle) as base_url:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", f"{base_url}/v1")
        monkeypatch.setenv("OPENAI_MODEL", "stub-model")
        session = Session(load_settings())
        assert session.model.label == f"stub-model via {base_url}/v1" and not session.model.offline
        outcome = session.chat(SANDBOX_ACCOUNT, "are my budgets on track?")

    assert outcome.reply == "Two budgets are off pace."
    assert {t["function"]["name"] for t in requests[0]["tools"]} == set(REGISTRY)
    tool_message = next(m for m in requests[1]["messages"] if m["role"] == "tool")
    assert '<data label="budgets_and_pacing"' in tool_message["content"]
    assert "Month to date" in tool_message["content"]


def test_llm_copy_writer_output_is_checked_and_completed(monkeypatch: pytest.MonkeyPatch) -> None:
    draft = {
        "headlines": [
            "Waterproof Hiking Boots",
            "This Headline Is Far Too Long To Ever Fit In Thirty",
            "Best Boots Guaranteed",
        ],
        "descriptions": ["Boots for wet trails, fitted in store."],
    }

    def handle(path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        request = json.loads(body)
        assert '<data label="creative_brief"' in request["messages"][-1]["content"]
        return 200, chat_completion({"content": json.dumps(draft)})

    with serve(handle) as base_url:
        model = select_model(api_key="sk-test", base_url=f"{base_url}/v1", model_name="stub-model").model
        brief = CreativeBrief(
            platform=Platform.GOOGLE_ADS,
            theme="hiking boots",
            keywords=("waterproof boots",),
            landing_url="https://example.com/boots",
        )
        copy = write_copy(brief, LLMCopyWriter(model, data_block))

    assert isinstance(copy, ResponsiveSearchAdCopy)
    assert copy.headlines[0] == "Waterproof Hiking Boots"  # the model's valid asset comes first
    assert all(len(h) <= 30 for h in copy.headlines) and 3 <= len(copy.headlines) <= 15
    assert "This Headline Is Far Too Long To Ever Fit In Thirty" not in copy.headlines
    assert "Best Boots Guaranteed" not in copy.headlines  # a forbidden claim is dropped
    assert copy.final_url == "https://example.com/boots"
