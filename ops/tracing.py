"""Tracing through the Langfuse SDK: to a Langfuse server when keys are set, else to local JSON-lines files.

Every graph run passes a Langfuse `CallbackHandler`; gate decisions and applied changes are
events of their own. Inputs and outputs are masked (secrets, PII) before any exporter sees them.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langfuse import Langfuse
from langfuse.langchain import CallbackHandler
from langfuse.types import MaskOtelSpansParams, MaskOtelSpansResult, OtelSpanPatch
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from pydantic import BaseModel

from policies.screening import langfuse_mask, mask_sensitive

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


class MaskingCallbackHandler(CallbackHandler):
    """Langfuse's LangChain handler, with each error's status message masked where it is made.

    The SDK copies that message into the OpenTelemetry span status, which no export-stage hook can patch,
    so an exception quoting a search term would otherwise leave unmasked."""

    def _get_error_level_and_status_message(self, error: BaseException) -> tuple[Any, str]:
        level, message = super()._get_error_level_and_status_message(error)
        return level, mask_sensitive(message)


@dataclass
class Tracing:
    client: Langfuse
    public_key: str
    destination: str

    def callbacks(self) -> list[BaseCallbackHandler]:
        return [MaskingCallbackHandler(public_key=self.public_key)]

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
) -> Tracing:
    """Langfuse when keys are given; otherwise the same spans go to `home/traces` (or `span_exporter`)."""
    if public_key and secret_key and span_exporter is None:
        client = Langfuse(
            public_key=public_key,
            secret_key=secret_key,
            base_url=base_url,
            mask=langfuse_mask,
            mask_otel_spans=mask_span_attributes,
        )
        return Tracing(client, public_key, f"Langfuse at {base_url or 'https://cloud.langfuse.com'}")
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
    return Tracing(client, local_key, f"local files in {directory}" if span_exporter is None else "a span exporter")


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


class TraceSummary(BaseModel):
    trace_id: str
    name: str
    started: dt.datetime
    seconds: float
    spans: int
    events: int


def list_local_traces(home: Path, limit: int = 20) -> list[TraceSummary]:
    """The newest local traces, read back from the JSON-lines files."""
    spans: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((home / "traces").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                spans.setdefault(record["trace_id"], []).append(record)
    summaries = []
    for trace_id, records in spans.items():
        root = next((r for r in records if r["parent_id"] is None and r["type"] != "event"), records[0])
        start = min(r["start"] for r in records)
        end = max(r["end"] for r in records)
        summaries.append(
            TraceSummary(
                trace_id=trace_id,
                name=root["name"],
                started=dt.datetime.fromtimestamp(start / 1e9, dt.UTC),
                seconds=round((end - start) / 1e9, 3),
                spans=len(records),
                events=sum(1 for r in records if r["type"] == "event"),
            )
        )
    return sorted(summaries, key=lambda s: s.started, reverse=True)[:limit]
