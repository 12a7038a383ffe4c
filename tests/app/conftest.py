"""The CLI through Typer's runner, for the tests of the commands."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from app.cli import app


@pytest.fixture
def cli() -> Callable[..., tuple[int, str, str]]:
    """Runs `adpilot ARGS…`; returns (exit code, stdout, stderr). A crash (not a clean exit) is re-raised."""
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args))
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    return run
