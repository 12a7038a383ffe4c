"""Settings come from the documented variables only."""

from __future__ import annotations

from pathlib import Path

import pytest

from ads.errors import ConfigurationError
from app.settings import load_settings


def test_home_is_adpilot_home_never_the_users_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ADPILOT_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "user-home"))
    assert load_settings().home == Path(".adpilot")
    monkeypatch.setenv("ADPILOT_HOME", str(tmp_path / "data"))
    assert load_settings().home == tmp_path / "data"


def test_a_bad_date_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ADPILOT_TODAY", "next tuesday")
    with pytest.raises(ConfigurationError, match="ADPILOT_TODAY"):
        load_settings()
