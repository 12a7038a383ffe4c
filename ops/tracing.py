"""Tracing through the Langfuse SDK: to a Langfuse server when keys are set, else to local JSON-lines files.

Every graph run passes a Langfuse `CallbackHandler`; gate decisions and applied changes are
events of their own. Inputs and outputs are masked (secrets, PII) before any exporter sees them.
Every model call is a generation with its tokens (usage details), its cost from a price table (cost
details), its latency (the span's times), its route and whether the response cache answered it.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from langfuse import Langfuse, LangfuseGeneration
from langfuse.langchain import CallbackHandler
from langfuse.types import MaskOtelSpansParams, MaskOtelSpansResult, OtelSpanPatch
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from pydantic import BaseModel

from ads.errors import AdpilotError
from ops.model_costs import ModelPrice, price_of
from policies.screening import langfuse_mask, mask_sensitive


class TraceNotFoundError(AdpilotError):
    """`adpilot traces show` was given an id no local trace has."""


# Span attributes the SDK's `mask=` already masked, with their structure (so our hashes in them are kept).
_MASKED_BY_SDK = (
    "langfuse.observation.input",
    "langfuse.observation.output",
    "langfuse.observation.metadata",
    "langfuse.trace.input",
    "langfuse.trace.output",
    "langfuse.trace.metadata",
)


def mask_span_attributes(*, params: MaskOtelSpansParams) -> MaskOtelSpansResult:
    """The SDK's export-stage hook: masks every other text attribute of every span before any exporter sees it.

    `mask=` never sees a span's status message, and LangGraph's interrupt payload (the changes awaiting
    approval, with their search terms) becomes the `await_approval` span's status message."""
    patches = {}
    for identifier, span in params.spans.items():
        masked: dict[str, Any] = {}
        for key, value in span.attributes.items():
            if key.startswith(_MASKED_BY_SDK) or not isinstance(value, str | tuple):
                continue
            shown = mask_sensitive(value) if isinstance(value, str) else tuple(mask_sensitive(list(value)))
            if shown != value:
                masked[key] = shown
        if masked:
            patches[identifier] = OtelSpanPatch(set_attributes=masked)
    return MaskOtelSpansResult(span_patches=patches)


class LocalSpanExporter(SpanExporter):
    """Appends finished spans, one JSON object a line, to `<dir>/<UTC date>.jsonl`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.directory.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps(span_record(span), default=str) for span in spans]
        path = self.directory / f"{dt.datetime.now(dt.UTC):%Y-%m-%d}.jsonl"
        with self._lock, path.open("a", encoding="utf-8") as out:
            out.write("".join(line + "\n" for line in lines))
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def span_record(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    assert context is not None  # an SDK span always carries its context
    return {
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
        "parent_id": f"{span.parent.span_id:016x}" if span.parent else None,
        "name": span.name,
        "type": (span.attributes or {}).get("langfuse.observation.type", "span"),
        "start": span.start_time,
        "end": span.end_time,
        "status": {"code": span.status.status_code.name, "description": span.status.description},
        "attributes": dict(span.attributes or {}),
    }


def generation_details(response: LLMResult, prices: Mapping[str, ModelPrice]) -> dict[str, Any]:
    """A model call's cost details and metadata (cache hit, fallback), read from its response."""
    last = response.generations[-1][-1] if response.generations and response.generations[-1] else None
    message = last.message if isinstance(last, ChatGeneration) and isinstance(last.message, AIMessage) else None
    if message is None:
        return {}
    meta = message.response_metadata
    metadata = {"cache_hit": bool(meta.get("cache_hit"))}
    if "fallback" in meta:
        metadata["fallback"] = meta["fallback"]
    details: dict[str, Any] = {"metadata": metadata}
    model = str((response.llm_output or {}).get("model_name") or meta.get("model_name") or "")
    price = price_of(model, prices)
    usage = message.usage_metadata
    if price is not None and usage is not None:
        details["cost_details"] = price.cost(usage["input_tokens"], usage["output_tokens"])
    return details


class MaskingCallbackHandler(CallbackHandler):
    """Langfuse's LangChain handler, with each error's status message masked where it is made, and each
    generation's cost and cache hit added to the usage the SDK records.

    The SDK copies that message into the OpenTelemetry span status, which no export-stage hook can patch,
    so an exception quoting a search term would otherwise leave unmasked."""

    def __init__(self, *, public_key: str, prices: Mapping[str, ModelPrice]) -> None:
        super().__init__(public_key=public_key)
        self.prices = prices

    def _get_error_level_and_status_message(self, error: BaseException) -> tuple[Any, str]:
        level, message = super()._get_error_level_and_status_message(error)
        return level, mask_sensitive(message)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any) -> Any:
        generation = self._runs.get(run_id)
        if isinstance(generation, LangfuseGeneration):
            generation.update(**generation_details(response, self.prices))
        return super().on_llm_end(response, run_id=run_id, parent_run_id=parent_run_id, **kwargs)


@dataclass
class Tracing:
    client: Langfuse
    public_key: str
    destination: str
    prices: Mapping[str, ModelPrice] = field(default_factory=dict)

    def callbacks(self) -> list[BaseCallbackHandler]:
        return [MaskingCallbackHandler(public_key=self.public_key, prices=self.prices)]

    def event(self, name: str, *, input: Any = None, output: Any = None, metadata: Any = None) -> None:
        self.client.create_event(name=name, input=_jsonable(input), output=_jsonable(output), metadata=metadata)

    def trace_id(self) -> str | None:
        return self.client.get_current_trace_id()

    def flush(self) -> None:
        self.client.flush()


def configure_tracing(
    home: Path,
    *,
    public_key: str | None = None,
    secret_key: str | None = None,
    base_url: str | None = None,
    span_exporter: SpanExporter | None = None,
    prices: Mapping[str, ModelPrice] | None = None,
) -> Tracing:
    """Langfuse when keys are given; otherwise the same spans go to `home/traces` (or `span_exporter`).

    `prices` (by model name) give each generation its cost."""
    if public_key and secret_key and span_exporter is None:
        client = Langfuse(
            public_key=public_key,
            secret_key=secret_key,
            base_url=base_url,
            mask=langfuse_mask,
            mask_otel_spans=mask_span_attributes,
        )
        return Tracing(client, public_key, f"Langfuse at {base_url or 'https://cloud.langfuse.com'}", prices or {})
    directory = home / "traces"
    exporter = span_exporter or LocalSpanExporter(directory)
    # The SDK keeps one client per public key, so each destination gets its own key.
    local_key = f"adpilot-local:{id(exporter) if span_exporter else directory.resolve()}"
    client = Langfuse(
        public_key=local_key,
        secret_key="local",
        base_url="http://127.0.0.1:9",
        span_exporter=exporter,
        mask=langfuse_mask,
        mask_otel_spans=mask_span_attributes,
    )
    destination = f"local files in {directory}" if span_exporter is None else "a span exporter"
    return Tracing(client, local_key, destination, prices or {})


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


class SpanLine(BaseModel):
    """One span of a local trace as `adpilot traces show` prints it; model calls carry their usage and cost."""

    name: str
    type: str
    depth: int
    offset: float  # seconds after the trace started
    seconds: float
    status: str
    model: str | None = None
    route: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float | None = None
    cache_hit: bool = False
    fallback: str | None = None


class TraceSummary(BaseModel):
    trace_id: str
    name: str
    started: dt.datetime
    seconds: float
    spans: int
    events: int
    # The run's model calls (generations): tokens, cost (None when no call's model has a price), cache hits.
    generations: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float | None = None
    cache_hits: int = 0
    fallbacks: int = 0

    @property
    def cache_hit_rate(self) -> float | None:
        return self.cache_hits / self.generations if self.generations else None


def _attribute(record: dict[str, Any], key: str) -> Any:
    value = record["attributes"].get(key)
    try:
        return json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError:
        return value


def _span_line(record: dict[str, Any], depth: int, start: int) -> SpanLine:
    line = SpanLine(
        name=record["name"],
        type=record["type"],
        depth=depth,
        offset=round((record["start"] - start) / 1e9, 3),
        seconds=round((record["end"] - record["start"]) / 1e9, 3),
        status=record["status"]["code"],
    )
    if record["type"] != "generation":
        return line
    usage = _attribute(record, "langfuse.observation.usage_details") or {}
    cost = _attribute(record, "langfuse.observation.cost_details") or {}
    return line.model_copy(
        update={
            "model": record["attributes"].get("langfuse.observation.model.name"),
            "route": _attribute(record, "langfuse.observation.metadata.route"),
            "tokens_in": int(usage.get("input", 0)),
            "tokens_out": int(usage.get("output", 0)),
            "cost": cost.get("total"),
            "cache_hit": _attribute(record, "langfuse.observation.metadata.cache_hit") is True,
            "fallback": _attribute(record, "langfuse.observation.metadata.fallback"),
        }
    )


def _local_spans(home: Path) -> dict[str, list[dict[str, Any]]]:
    spans: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((home / "traces").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                spans.setdefault(record["trace_id"], []).append(record)
    return spans


def _tree(records: list[dict[str, Any]]) -> list[SpanLine]:
    """The spans in the order they ran, each under its parent."""
    start = min(r["start"] for r in records)
    children: dict[str | None, list[dict[str, Any]]] = {}
    known = {r["span_id"] for r in records}
    for record in sorted(records, key=lambda r: r["start"]):
        children.setdefault(record["parent_id"] if record["parent_id"] in known else None, []).append(record)
    lines: list[SpanLine] = []

    def walk(parent: str | None, depth: int) -> None:
        for record in children.get(parent, []):
            lines.append(_span_line(record, depth, start))
            walk(record["span_id"], depth + 1)

    walk(None, 0)
    return lines


def list_local_traces(home: Path, limit: int = 20) -> list[TraceSummary]:
    """The newest local traces, read back from the JSON-lines files, with each run's model-call totals."""
    summaries = []
    for trace_id, records in _local_spans(home).items():
        root = next((r for r in records if r["parent_id"] is None and r["type"] != "event"), records[0])
        start = min(r["start"] for r in records)
        end = max(r["end"] for r in records)
        calls = [line for line in _tree(records) if line.type == "generation"]
        costs = [c.cost for c in calls if c.cost is not None]
        summaries.append(
            TraceSummary(
                trace_id=trace_id,
                name=root["name"],
                started=dt.datetime.fromtimestamp(start / 1e9, dt.UTC),
                seconds=round((end - start) / 1e9, 3),
                spans=len(records),
                events=sum(1 for r in records if r["type"] == "event"),
                generations=len(calls),
                tokens_in=sum(c.tokens_in for c in calls),
                tokens_out=sum(c.tokens_out for c in calls),
                cost=sum(costs) if costs else None,
                cache_hits=sum(c.cache_hit for c in calls),
                fallbacks=sum(c.fallback is not None for c in calls),
            )
        )
    return sorted(summaries, key=lambda s: s.started, reverse=True)[:limit]


def read_local_trace(home: Path, trace_id: str) -> tuple[TraceSummary, list[SpanLine]]:
    """One local trace (its id, or a unique start of it): its totals and its spans."""
    spans = _local_spans(home)
    found = [t for t in spans if t.startswith(trace_id.lower())] if trace_id else []
    if len(found) != 1:
        problem = "no local trace" if not found else f"{len(found)} local traces"
        raise TraceNotFoundError(f"{problem} with id {trace_id!r} in {home / 'traces'} (see `adpilot traces`)")
    summary = next(s for s in list_local_traces(home, limit=len(spans)) if s.trace_id == found[0])
    return summary, _tree(spans[found[0]])
