"""Traces go to Langfuse (here a local OTLP receiver) when keys are set, masked; else to local files."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from app.session import SANDBOX_ACCOUNT, Session
from app.settings import load_settings
from ops.tracing import configure_tracing, list_local_traces
from tests.local_servers import decode_otlp, serve


def test_spans_reach_langfuse_with_auth_and_masked_pii(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[dict[str, Any]] = []
    auth: list[str] = []

    def handle(path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        assert path == "/api/public/otel/v1/traces"
        auth.append(headers.get("authorization", ""))
        received.extend(decode_otlp(headers, body))
        return 200, {}

    with serve(handle) as base_url:
        monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", "pk-lf-test-export")
        monkeypatch.setenv("LANGFUSE_SECRET_KEY", "sk-lf-test")
        monkeypatch.setenv("LANGFUSE_BASE_URL", base_url)
        session = Session(load_settings())
        assert session.tracing.destination == f"Langfuse at {base_url}"
        session.chat(SANDBOX_ACCOUNT, "are my budgets on track?")
        session.tracing.event(
            "screening.check", input={"term": "boots mail jane.doe@example.com sk-abcdefghijklmnopqrstuv"}
        )
        session.tracing.flush()

    assert auth and auth[0] == "Basic " + base64.b64encode(b"pk-lf-test-export:sk-lf-test").decode()
    names = {s["name"] for s in received}
    assert {"chat", "agent", "tools", "budgets_and_pacing"} <= names
    check = next(s for s in received if s["name"] == "screening.check")
    exported = check["attributes"]["langfuse.observation.input"]
    assert "jane.doe@example.com" not in exported and "sk-abcdefghijklmnopqrstuv" not in exported
    assert "boots" in exported


def test_without_keys_spans_go_to_local_files(home: Path) -> None:
    session = Session(load_settings())
    assert session.tracing.destination.startswith("local files")
    session.chat(SANDBOX_ACCOUNT, "how is the account doing?")
    traces = list_local_traces(home)
    assert len(traces) == 1 and traces[0].name == "chat" and traces[0].spans >= 4
    assert list((home / "traces").glob("*.jsonl"))


def test_each_destination_gets_its_own_client(tmp_path: Path) -> None:
    first, second = configure_tracing(tmp_path / "a"), configure_tracing(tmp_path / "b")
    assert first.public_key != second.public_key


def test_an_interrupt_payload_is_masked_in_the_span_status_message(tmp_path: Path) -> None:
    from typing import TypedDict

    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import interrupt

    class State(TypedDict, total=False):
        answer: str

    def await_approval(state: State) -> State:
        return {"answer": interrupt({"term": "boots sk-proj-Abc123def456GHI789jkl mail jane.doe@example.com"})}

    builder = StateGraph(State)
    builder.add_node("await_approval", await_approval)
    builder.add_edge(START, "await_approval")
    builder.add_edge("await_approval", END)
    tracing = configure_tracing(tmp_path)
    config = {"configurable": {"thread_id": "audit-acme-20240215T235959-0f9e8d"}, "callbacks": tracing.callbacks()}
    builder.compile(checkpointer=InMemorySaver()).invoke({}, config=config)
    tracing.flush()

    records = [
        json.loads(line) for path in (tmp_path / "traces").glob("*.jsonl") for line in path.read_text().splitlines()
    ]
    span = next(r for r in records if r["name"] == "await_approval")
    status = span["attributes"]["langfuse.observation.status_message"]
    assert "boots" in status and "[secret]" in status and "[email]" in status
    text = json.dumps(records)
    assert "sk-proj-Abc123def456GHI789jkl" not in text and "jane.doe@example.com" not in text


def test_an_error_quoting_a_search_term_is_masked_in_the_span_status(tmp_path: Path) -> None:
    from typing import TypedDict

    from langgraph.graph import END, START, StateGraph

    class State(TypedDict, total=False):
        answer: str

    def load(state: State) -> State:
        raise ValueError("bad row: 'boots mail jane.doe@example.com'")

    builder = StateGraph(State)
    builder.add_node("load", load)
    builder.add_edge(START, "load")
    builder.add_edge("load", END)
    tracing = configure_tracing(tmp_path)
    with pytest.raises(ValueError):
        builder.compile().invoke({}, config={"callbacks": tracing.callbacks()})
    tracing.flush()

    records = [
        json.loads(line) for path in (tmp_path / "traces").glob("*.jsonl") for line in path.read_text().splitlines()
    ]
    span = next(r for r in records if r["name"] == "load")
    assert span["status"]["code"] == "ERROR" and "boots mail [email]" in span["status"]["description"]
    assert "jane.doe@example.com" not in json.dumps(records)
