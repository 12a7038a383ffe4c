"""Shared fixtures: one generated sandbox per test session, copied into a fresh ADPILOT_HOME per test."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

TODAY = dt.date(2026, 11, 20)


@pytest.fixture(scope="session")
def sandbox_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sandbox.generator import generate_sandbox
    from sandbox.store import SandboxStore

    path = tmp_path_factory.mktemp("sandbox-template") / "sandbox.sqlite"
    generate_sandbox(SandboxStore.create(path), seed=7, rows=6000, today=TODAY)
    return path


@pytest.fixture
def home(tmp_path: Path, sandbox_template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An ADPILOT_HOME holding a fresh copy of the sandbox, with no model or Langfuse keys."""
    home = tmp_path / "adpilot-home"
    home.mkdir()
    shutil.copy(sandbox_template, home / "sandbox.sqlite")
    monkeypatch.setenv("ADPILOT_HOME", str(home))
    monkeypatch.setenv("ADPILOT_TODAY", TODAY.isoformat())
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "LANGFUSE_PUBLIC_KEY",
        "LANGFUSE_SECRET_KEY",
        "LANGFUSE_BASE_URL",
        "ADPILOT_POLICY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # so no stray .env of the developer is read
    return home


@pytest.fixture
def allow_all() -> Callable[[Any], Any]:
    """A gate that lets every change through, for tests of the apply mechanics themselves."""
    from policies.gate import Decision

    def allow(change: Any) -> Decision:
        return Decision(
            change_id=change.id,
            change_hash=change.hash,
            kind=change.kind,
            outcome="auto_apply",
            rule="test.allow_all",
            reason="the test allows every change",
        )

    return allow
