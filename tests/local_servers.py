"""Small HTTP servers on 127.0.0.1 that stand in for OpenAI-compatible and Langfuse endpoints in tests."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@contextmanager
def serve(handle: Callable[[str, dict[str, str], bytes], tuple[int, dict[str, Any] | bytes]]) -> Iterator[str]:
    """Serve `handle(path, lower-cased headers, body) -> (status, json or bytes)` for POSTs on a free port.

    Yields the base URL.
    """
    with _serve_http(lambda method, path, headers, body: handle(path, headers, body), methods=("POST",)) as url:
        yield url


@contextmanager
def _serve_http(
    answer: Callable[[str, str, dict[str, str], bytes], tuple[int, Any]], *, methods: tuple[str, ...]
) -> Iterator[str]:
    """`answer(method, path, lower-cased headers, body) -> (status, json or bytes)` on a free port."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, payload = answer(self.command, self.path, headers, body)
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    for method in methods:
        setattr(Handler, f"do_{method}", Handler._answer)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def chat_completion(message: dict[str, Any], *, model: str = "stub-model") -> dict[str, Any]:
    """An OpenAI chat.completions response wrapping one assistant message."""
    finish = "tool_calls" if message.get("tool_calls") else "stop"
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def decode_otlp(headers: dict[str, str], body: bytes) -> list[dict[str, Any]]:
    """Spans from an OTLP/HTTP protobuf export, as {name, attributes}."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    if headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource in request.resource_spans:
        for scope in resource.scope_spans:
            for span in scope.spans:
                attributes = {a.key: a.value.string_value for a in span.attributes}
                spans.append({"name": span.name, "attributes": attributes})
    return spans


class LocalLangfuse:
    """The part of Langfuse's public API that datasets, experiments and scores use, in memory: datasets and their
    items (upserted by id), OTLP spans and scores as received. Start it with `serve_langfuse()`."""

    def __init__(self) -> None:
        self.datasets: dict[str, dict[str, Any]] = {}
        self.items: dict[str, dict[str, Any]] = {}
        self.spans: list[dict[str, Any]] = []
        self.scores: list[dict[str, Any]] = []
        self.auth: set[str] = set()

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        from urllib.parse import parse_qs, unquote, urlsplit

        self.auth.add(headers.get("authorization", ""))
        url = urlsplit(path)
        now = "2026-11-20T00:00:00.000Z"
        if method == "POST" and url.path == "/api/public/otel/v1/traces":
            self.spans.extend(decode_otlp(headers, body))
            return 200, {}
        raw = gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body
        sent: Any = json.loads(raw) if raw else {}
        if method == "POST" and url.path == "/api/public/scores":
            self.scores.extend(sent if isinstance(sent, list) else [sent])
            return 200, {}
        if method == "POST" and url.path == "/api/public/v2/datasets":
            dataset = self.datasets.setdefault(
                sent["name"], {"id": f"ds-{len(self.datasets)}", "projectId": "p", "createdAt": now}
            )
            dataset.update(name=sent["name"], description=sent.get("description"), metadata=sent.get("metadata"))
            dataset["updatedAt"] = now
            return 200, dataset
        if method == "GET" and url.path.startswith("/api/public/v2/datasets/"):
            name = unquote(url.path.removeprefix("/api/public/v2/datasets/"))
            return (200, self.datasets[name]) if name in self.datasets else (404, {"message": "not found"})
        if method == "POST" and url.path == "/api/public/dataset-items":
            dataset = self.datasets[sent["datasetName"]]
            item = {
                **{k: sent.get(k) for k in ("id", "input", "expectedOutput", "metadata")},
                "status": "ACTIVE",
                "datasetId": dataset["id"],
                "datasetName": dataset["name"],
                "mediaReferences": [],
                "createdAt": now,
                "updatedAt": now,
            }
            self.items[sent["id"]] = item
            return 200, item
        if method == "GET" and url.path == "/api/public/dataset-items":
            query = parse_qs(url.query)
            name = unquote(query["datasetName"][0])
            page, limit = int(query.get("page", ["1"])[0]), int(query.get("limit", ["50"])[0])
            found = [i for i in self.items.values() if i["datasetName"] == name]
            pages = max(1, -(-len(found) // limit))
            meta = {"page": page, "limit": limit, "totalItems": len(found), "totalPages": pages}
            return 200, {"data": found[(page - 1) * limit : page * limit], "meta": meta}
        return 404, {"message": f"{method} {url.path} is not served here"}


@contextmanager
def serve_langfuse() -> Iterator[tuple[str, LocalLangfuse]]:
    """A `LocalLangfuse` on a free port; yields its base URL and the server's state."""
    langfuse = LocalLangfuse()
    with _serve_http(langfuse.handle, methods=("GET", "POST")) as url:
        yield url, langfuse
