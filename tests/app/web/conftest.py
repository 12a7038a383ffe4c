"""A home with one audit waiting for a person, the web app over it, and a token for it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.session import Session
from app.settings import load_settings
from app.web.access import TokenStore
from app.web.app import create_app
from app.web.server import token_store
from sandbox import GOOGLE_ACCOUNT
from tests.conftest import TODAY


@pytest.fixture
def audited(home: Path) -> Session:
    session = Session(load_settings())
    session.audit(GOOGLE_ACCOUNT)
    return session


@pytest.fixture
def tokens(audited: Session) -> TokenStore:
    return token_store(audited)


@pytest.fixture
def token(tokens: TokenStore) -> str:
    return tokens.issue("maria")


@pytest.fixture
def client(audited: Session, tokens: TokenStore) -> Iterator[TestClient]:
    with TestClient(create_app(audited, tokens)) as client:
        yield client


def served_environment(home: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LANGFUSE_", "ADPILOT_"))}
    return {**environment, "ADPILOT_HOME": str(home), "ADPILOT_TODAY": TODAY.isoformat()}


@contextmanager
def serving(home: Path) -> Iterator[dict[str, str]]:
    """`adpilot serve --port 0 --json` in its own process; yields the line it prints once it listens."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", "0", "--json"],
        env=served_environment(home),
        cwd=home.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise AssertionError(f"adpilot serve printed nothing: {process.communicate(timeout=30)[1][-2000:]}")
        yield json.loads(line)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
