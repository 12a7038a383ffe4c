"""Cost and latency control of a configured model, against local OpenAI-compatible servers the tests start:
the run's token budget, the response cache, routing, an outage and a weak model falling back to the planner."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.session import SANDBOX_ACCOUNT, Session
from app.settings import load_settings
from ops.tracing import list_local_traces, read_local_trace
from tests.cli_runner import run
from tests.local_servers import chat_completion, serve

FELL_BACK = "the offline planner answered this turn from the tools' results"
Handler = Callable[[str, dict[str, str], bytes], tuple[int, dict[str, Any]]]


class ScriptedModel:
    """Answers a chat turn with one tool call, then with text once the tool's result is in; records requests."""

    def __init__(self, tool: str = "budgets_and_pacing", text: str = "Two budgets are off pace.") -> None:
        self.tool, self.text = tool, text
        self.requests: list[dict[str, Any]] = []
        self.total_tokens = 15

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        request = json.loads(body)
        self.requests.append(request)
        if "response_format" in request:  # the cluster namer's structured question
            reply = chat_completion({"content": json.dumps({"answers": []})}, model=request["model"])
        elif any(m["role"] == "tool" for m in request["messages"]):
            reply = chat_completion({"content": self.text}, model=request["model"])
        else:
            call = {"id": "call_1", "type": "function", "function": {"name": self.tool, "arguments": "{}"}}
            reply = chat_completion({"content": None, "tool_calls": [call]}, model=request["model"])
        reply["usage"] = {"prompt_tokens": self.total_tokens - 5, "completion_tokens": 5}
        reply["usage"]["total_tokens"] = self.total_tokens
        return 200, reply


def configure(monkeypatch: pytest.MonkeyPatch, base_url: str, **extra: str) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{base_url}/v1")
    monkeypatch.setenv("OPENAI_MODEL", "gpt-4.1-mini")
    monkeypatch.setenv("OPENAI_MAX_RETRIES", "1")
    for name, value in extra.items():
        monkeypatch.setenv(name, value)


def test_the_token_budget_stops_the_model_and_the_run_finishes_from_the_tools(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = ScriptedModel()
    model.total_tokens = 49_000  # the first call's reply spends almost all of the budget below
    with serve(model.handle) as base_url:
        configure(monkeypatch, base_url, ADPILOT_MAX_TOKENS_PER_RUN="50000")
        outcome = Session(load_settings()).chat(SANDBOX_ACCOUNT, "are my budgets on track?")

    assert len(model.requests) == 1  # the model asked for the tool; its answer would not fit
    assert "Month to date" in outcome.reply  # the planner's answer from the tool's summary
    assert "the token budget of 50,000 tokens for this run is spent" in outcome.reply
    assert FELL_BACK in outcome.reply
    assert "Two budgets are off pace." not in outcome.reply


def test_the_policy_gives_the_default_budget_and_the_variable_replaces_it(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Session(load_settings()).services.token_limit == 200_000  # policies/default.yaml
    monkeypatch.setenv("ADPILOT_MAX_TOKENS_PER_RUN", "1234")
    assert Session(load_settings()).services.token_limit == 1234


def test_a_repeated_run_is_answered_from_the_cache_and_the_trace_says_so(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = ScriptedModel()
    with serve(model.handle) as base_url:
        configure(monkeypatch, base_url)
        first = Session(load_settings()).chat(SANDBOX_ACCOUNT, "are my budgets on track?")
        asked = len(model.requests)
        second = Session(load_settings()).chat(SANDBOX_ACCOUNT, "are my budgets on track?")  # a new thread

    assert asked == 2 and len(model.requests) == asked  # the second run asked the server nothing
    assert first.reply == second.reply == "Two budgets are off pace."
    newest, oldest = list_local_traces(home)
    assert (oldest.generations, oldest.cache_hits, oldest.tokens_in, oldest.tokens_out) == (2, 0, 20, 10)
    assert oldest.cost == pytest.approx(2 * (10 * 0.40 + 5 * 1.60) / 1e6)  # gpt-4.1-mini in the price table
    assert (newest.generations, newest.cache_hits, newest.tokens_in, newest.cost) == (2, 2, 0, 0)
    assert newest.cache_hit_rate == 1.0
    _, spans = read_local_trace(home, newest.trace_id[:8])
    calls = [s for s in spans if s.type == "generation"]
    assert all(c.cache_hit and c.route == "strong" and c.model == "gpt-4.1-mini" for c in calls)

    code, out, _ = run("traces", "--json")
    assert code == 0 and [t["cache_hit_rate"] for t in json.loads(out)] == [1.0, 0.0]
    code, out, _ = run("traces", "show", newest.trace_id)
    assert code == 0 and "2 from the cache" in out
    code, _, err = run("traces", "show", "ffffffff")
    assert code == 1 and "no local trace with id 'ffffffff'" in err


def test_naming_takes_the_fast_route_and_the_conversation_the_strong_one(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = ScriptedModel(tool="cluster_search_queries", text="Here are your themes.")
    with serve(model.handle) as base_url:
        configure(monkeypatch, base_url, OPENAI_MODEL_FAST="gpt-4.1-nano")
        session = Session(load_settings())
        outcome = session.chat(SANDBOX_ACCOUNT, "group my search queries into themes")

    assert outcome.reply == "Here are your themes."
    naming = [r for r in model.requests if "response_format" in r]
    talking = [r for r in model.requests if "response_format" not in r]
    assert naming and {r["model"] for r in naming} == {"gpt-4.1-nano"}
    assert len(talking) == 2 and {r["model"] for r in talking} == {"gpt-4.1-mini"}
    assert "gpt-4.1-nano classifies and names" in session.model.label
    (trace,) = list_local_traces(home)
    _, spans = read_local_trace(home, trace.trace_id)
    routes = {(s.model, s.route) for s in spans if s.type == "generation"}
    assert routes == {("gpt-4.1-nano", "fast"), ("gpt-4.1-mini", "strong")}


def failing(status: int) -> Handler:
    def handle(path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        return status, {"error": {"message": "overloaded", "type": "server_error"}}

    return handle


def test_a_model_returning_500_falls_back_to_the_planner_and_says_so(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def handle(path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        calls.append(1)
        return failing(500)(path, headers, body)

    with serve(handle) as base_url:
        configure(monkeypatch, base_url)
        code, out, err = run("chat", "--message", "are my budgets on track?", "--json")

    assert code == 0 and "Traceback" not in out + err
    reply = json.loads(out)["reply"]
    assert "Month to date" in reply and FELL_BACK in reply
    assert "gpt-4.1-mini failed (" in reply and "Error code: 500" in reply
    assert len(calls) == 2  # one call and its retry (OPENAI_MAX_RETRIES=1); the turn then stays with the planner


def test_a_model_server_that_went_away_falls_back(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with serve(ScriptedModel().handle) as base_url:
        pass  # the server is gone before the chat starts
    configure(monkeypatch, base_url)
    outcome = Session(load_settings()).chat(SANDBOX_ACCOUNT, "are my budgets on track?")

    assert "Month to date" in outcome.reply
    assert "gpt-4.1-mini failed (OpenAIConnectionError: Connection error.)" in outcome.reply
    assert FELL_BACK in outcome.reply


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "answered with no tool call and no text"),
        ("Are my budgets on track?", "answered with an echo of the question and no tool call"),
        ("I'm sorry, but I cannot access your account or use tools.", "refused to use the tools"),
    ],
)
def test_a_weak_models_useless_turn_falls_back_naming_the_model(
    home: Path, monkeypatch: pytest.MonkeyPatch, content: str, problem: str
) -> None:
    requests: list[dict[str, Any]] = []

    def handle(path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        requests.append(json.loads(body))
        return 200, chat_completion({"content": content})

    with serve(handle) as base_url:
        configure(monkeypatch, base_url)
        outcome = Session(load_settings()).chat(SANDBOX_ACCOUNT, "are my budgets on track?")

    assert len(requests) == 1  # once the turn fell back, the planner keeps it
    assert "Month to date" in outcome.reply  # the planner called the tool and answered from it
    assert f"Note: gpt-4.1-mini {problem}; {FELL_BACK}" in outcome.reply
    (trace,) = list_local_traces(home)
    assert trace.fallbacks == 2  # the planner's tool call and its answer


def test_a_useful_text_answer_is_passed_on(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def handle(path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        return 200, chat_completion({"content": "Hello! Ask me about budgets, search terms or ads."})

    with serve(handle) as base_url:
        configure(monkeypatch, base_url)
        outcome = Session(load_settings()).chat(SANDBOX_ACCOUNT, "hi")

    assert outcome.reply == "Hello! Ask me about budgets, search terms or ads."
