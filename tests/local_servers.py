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
    """Serve `handle(path, lower-cased headers, body) -> (status, json or bytes)` on a free port.

    Yields the base URL.
    """

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, payload = handle(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

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
