"""Runs the adpilot CLI in-process through Typer's runner, for the tests of every command."""

from __future__ import annotations

from typer.testing import CliRunner

from app.cli import app

runner = CliRunner()


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `adpilot ARGS` reading `input` as stdin; an exception other than an exit is
    raised, not swallowed."""
    result = runner.invoke(app, list(args), input=input)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr
