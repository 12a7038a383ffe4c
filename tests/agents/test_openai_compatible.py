"""ChatOpenAI against a local OpenAI-compatible server: the chat graph and the LLM copy writer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ads.changes import SourceRef
from ads.entities import Platform, ResponsiveSearchAdCopy
from agents.copy_writer import LLMCopyWriter
from agents.models import select_model
from app.session import SANDBOX_ACCOUNT, Session
from app.settings import load_settings
from policies.copy_rules import text_rules
from policies.gate import load_policy
from policies.screening import data_block
from sandbox.brand_kits import kit_files, trailhead_spec
from tests.local_servers import chat_completion, serve
from tools.brand_kit import parse_brand_kit
from tools.copy_grounding import build_index
from tools.creatives import CopyGrounds, CreativeBrief, Fact, write_copy
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


def test_llm_copy_writer_cites_facts_and_its_output_is_checked() -> None:
    kit = parse_brand_kit(kit_files(trailhead_spec(), np.random.default_rng(7)), where="kit")
    grounds = CopyGrounds(kit=kit, index=build_index(kit, embeddings=False), rules=text_rules(load_policy()))
    boot = next(c for c in kit.chunks if c.kind == "product" and "Waterproof Boot" in c.text)
    product = next(p for p in kit.products if p.id == boot.product_id)
    source = {"doc": boot.doc, "chunk": boot.chunk}
    draft = {
        "headlines": [
            {"text": "Waterproof Hiking Boots", "sources": [source]},
            {"text": "This Headline Is Far Too Long To Ever Fit In Thirty", "sources": [source]},
            {"text": "Best Boots Guaranteed", "sources": [source]},  # a superlative no proof supports
            {"text": "Boots From $1", "sources": [source]},  # a price the feed does not give
            {"text": "Shop Now", "generic": True},
        ],
        "descriptions": [{"text": "Boots for wet trails, fitted in store.", "sources": []}],
    }
    requests: list[dict[str, Any]] = []

    def handle(path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        request = json.loads(body)
        requests.append(request)
        return 200, chat_completion({"content": json.dumps(draft)})

    brief = CreativeBrief(
        platform=Platform.GOOGLE_ADS,
        theme="Waterproof Boots",
        keywords=("waterproof boots",),
        landing_url=product.link,
        brand=kit.guide.brand,
        facts=(Fact(source=SourceRef(**source), kind="product", text=boot.text, product=product),),
    )
    with serve(handle) as base_url:
        model = select_model(api_key="sk-test", base_url=f"{base_url}/v1", model_name="stub-model").model
        ad = write_copy(brief, grounds, LLMCopyWriter(model, data_block))

    prompt = requests[0]["messages"][-1]["content"]
    assert '<data label="creative_brief"' in prompt and boot.text[:40] in prompt  # the facts reach the model
    assert ad is not None and isinstance(ad.copy_, ResponsiveSearchAdCopy)
    assert ad.copy_.headlines[0] == "Waterproof Hiking Boots"  # the model's valid, sourced asset comes first
    assert ad.assets[0].sources == (SourceRef(**source),)
    dropped = {"This Headline Is Far Too Long To Ever Fit In Thirty", "Best Boots Guaranteed", "Boots From $1"}
    assert not dropped & set(ad.copy_.headlines)
    assert "Boots for wet trails, fitted in store." not in ad.copy_.descriptions  # no source
    assert ad.copy_.final_url == product.link
