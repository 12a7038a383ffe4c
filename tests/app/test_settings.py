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


REPO = Path(__file__).parents[2]


def test_env_example_lists_every_setting_with_a_comment() -> None:
    from app.settings import Settings

    lines = (REPO / ".env.example").read_text().splitlines()
    listed = {line.split("=", 1)[0]: i for i, line in enumerate(lines) if line and not line.startswith("#")}
    assert set(listed) == {str(field.validation_alias) for field in Settings.model_fields.values()}
    # each variable sits under a comment (a group of related ones may share one)
    for index in listed.values():
        above = next(line for line in reversed(lines[:index]) if not line or line.startswith("#") or "=" not in line)
        assert above.startswith("#"), lines[index]


def test_a_copy_of_env_example_loads_as_no_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text((REPO / ".env.example").read_text())
    settings = load_settings()
    assert settings.today_override is None and settings.platform_variables("META_") == {}


def test_dot_env_configures_meta_and_its_ledger(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from ads.meta import MetaAccount
    from app.connectors import open_platform_account

    monkeypatch.chdir(tmp_path)
    for name in ("META_APP_ID", "META_APP_SECRET", "META_ACCESS_TOKEN", "META_STATE_PATH", "ADPILOT_HOME"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text("META_APP_ID=1\nMETA_APP_SECRET=s\nMETA_ACCESS_TOKEN=t\nADPILOT_HOME=data\n")
    account = open_platform_account("meta:act_123", load_settings())  # no network until it is read
    assert isinstance(account, MetaAccount)
    assert (tmp_path / "data" / "meta_budget_ledger.sqlite").exists()


def test_platform_settings_never_come_from_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from ads.google_ads import GoogleAdsSettings
    from ads.meta import MetaSettings

    monkeypatch.setenv("META_APP_ID", "1")
    monkeypatch.setenv("GOOGLE_ADS_DEVELOPER_TOKEN", "token")
    with pytest.raises(ConfigurationError, match="META_APP_ID"):
        MetaSettings.from_env({}, state_path=Path("ledger.sqlite"))
    with pytest.raises(ConfigurationError, match="developer_token"):
        GoogleAdsSettings.load(environ={})
