"""Settings from the environment (and `.env`), validated once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from ads.errors import ConfigurationError


class Settings(BaseSettings):
    # Only the documented variable names are read: with field names allowed, HOME would set `home`.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    home: Path = Field(default=Path(".adpilot"), validation_alias="ADPILOT_HOME")
    today_override: dt.date | None = Field(default=None, validation_alias="ADPILOT_TODAY")
    policy_path: Path | None = Field(default=None, validation_alias="ADPILOT_POLICY")
    accounts_path: Path | None = Field(default=None, validation_alias="ADPILOT_ACCOUNTS")
    openai_api_key: str | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    openai_model: str = Field(default="gpt-4.1-mini", validation_alias="OPENAI_MODEL")
    # Tokens one run (an audit, a command) may spend judging queries and naming themes: ~25 batches of 50.
    model_token_budget: int = Field(default=100_000, ge=0, validation_alias="ADPILOT_MODEL_TOKEN_BUDGET")
    langfuse_public_key: str | None = Field(default=None, validation_alias="LANGFUSE_PUBLIC_KEY")
    langfuse_secret_key: str | None = Field(default=None, validation_alias="LANGFUSE_SECRET_KEY")
    langfuse_base_url: str | None = Field(default=None, validation_alias="LANGFUSE_BASE_URL")
    # Scheduled audits' notifications: smtp://user:pass@host:587 (STARTTLS) or smtps://…:465, the sender,
    # and where the web app is reached, for the links to the inbox and the reports.
    smtp_url: str | None = Field(default=None, validation_alias="ADPILOT_SMTP_URL")
    smtp_from: str = Field(default="adpilot@localhost", validation_alias="ADPILOT_SMTP_FROM")
    base_url: str | None = Field(default=None, validation_alias="ADPILOT_BASE_URL")

    @property
    def today(self) -> dt.date:
        return self.today_override or dt.date.today()

    @property
    def sandbox_path(self) -> Path:
        return self.home / "sandbox.sqlite"

    @property
    def checkpoints_path(self) -> Path:
        return self.home / "checkpoints.sqlite"

    @property
    def change_log_path(self) -> Path:
        return self.home / "changes.sqlite"

    @property
    def llm_cache_path(self) -> Path:
        return self.home / "llm_cache.sqlite"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        raise ConfigurationError(f"setting {first['loc'][0]}: {first['msg']}") from error
