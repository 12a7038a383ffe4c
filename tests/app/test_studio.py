"""The graphs under LangGraph's own server: `langgraph dev` with the in-memory runtime, driven by langgraph_sdk."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ops.change_log import ChangeLog

pytest.importorskip("langgraph_api", reason="the studio extra is not installed (pip install -e '.[studio]')")
from langgraph_sdk import get_sync_client  # noqa: E402

REPO = Path(__file__).parents[2]
LANGGRAPH = shutil.which("langgraph", path=str(Path(sys.executable).parent)) or "langgraph"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(home: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "LANGSMITH_TRACING": "false", "LANGGRAPH_CLI_NO_ANALYTICS": "1"}
    process = subprocess.Popen(
        [LANGGRAPH, "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/ok", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
                time.sleep(0.5)
        else:
            pytest.fail("langgraph dev did not answer /ok within 90 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_audit_runs_under_langgraph_dev_and_resumes_with_v1_decisions(server: str, home: Path) -> None:
    client = get_sync_client(url=server)
    [assistant] = client.assistants.search(graph_id="audit")
    schemas = httpx.get(f"{server}/assistants/{assistant['assistant_id']}/schemas", timeout=30)
    assert schemas.status_code == 200
    assert set(schemas.json()["context_schema"]["properties"]) == {"account", "reviewer", "today"}

    context = {"account": "sandbox:trailhead", "reviewer": "studio-reviewer"}
    thread = client.threads.create()["thread_id"]
    client.runs.wait(thread, "audit", input={"account": "sandbox:trailhead"}, context=context)
    [interrupt] = client.threads.get_state(thread)["interrupts"]
    requests = interrupt["value"]["action_requests"]
    assert len(requests) == len(interrupt["value"]["review_configs"]) >= 2
    approved, rejected = requests[0]["args"], requests[1]["args"]

    decisions = [{"type": "approve"}] + [{"type": "reject", "message": "not this month"}] * (len(requests) - 1)
    client.runs.wait(thread, "audit", command={"resume": {"decisions": decisions}}, context=context)

    log = ChangeLog(home / "changes.sqlite")
    applied = log.entries(change=approved["hash"], limit=1)[0]
    assert applied.status == "applied" and applied.decided_by == "person:studio-reviewer"
    refused = log.entries(change=rejected["hash"], limit=1)[0]
    assert refused.status == "rejected" and refused.message == "not this month"
    values = client.threads.get_state(thread)["values"]
    assert values["results"][approved["hash"]]["status"] == "applied"
    assert not client.threads.get_state(thread)["interrupts"]  # every change answered: the run is done
