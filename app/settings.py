"""Settings from the environment (and `.env`), validated once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ads.errors import ConfigurationError
from ops.model_costs import ModelPrice, price_of

# USD per million tokens, as the providers list them (OpenAI pricing page, 2026); a model not listed has no cost.
DEFAULT_MODEL_PRICES = {
    "gpt-4.1": ModelPrice(input=2.00, output=8.00),
    "gpt-4.1-mini": ModelPrice(input=0.40, output=1.60),
    "gpt-4.1-nano": ModelPrice(input=0.10, output=0.40),
    "gpt-4o": ModelPrice(input=2.50, output=10.00),
    "gpt-4o-mini": ModelPrice(input=0.15, output=0.60),
}


class Settings(BaseSettings):
    # Only the documented variable names are read: with field names allowed, HOME would set `home`.
    # An empty value (as in .env.example) means unset.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    home: Path = Field(default=Path(".adpilot"), validation_alias="ADPILOT_HOME")
    today_override: dt.date | None = Field(default=None, validation_alias="ADPILOT_TODAY")
    policy_path: Path | None = Field(default=None, validation_alias="ADPILOT_POLICY")
    accounts_path: Path | None = Field(default=None, validation_alias="ADPILOT_ACCOUNTS")
    openai_api_key: str | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    # The strong model writes copy and holds the conversation; the fast one classifies and names (default: the same).
    openai_model: str = Field(default="gpt-4.1-mini", validation_alias="OPENAI_MODEL")
    openai_model_fast: str | None = Field(default=None, validation_alias="OPENAI_MODEL_FAST")
    # Every model call: this many retries (the client backs off exponentially between them), each this long at most.
    openai_max_retries: int = Field(default=2, ge=0, le=10, validation_alias="OPENAI_MAX_RETRIES")
    openai_timeout_seconds: float = Field(default=60.0, gt=0, validation_alias="OPENAI_TIMEOUT_SECONDS")
    # Tokens one run (an audit, a chat turn) may spend on all its model calls; unset, the policy's `models` default.
    max_tokens_per_run: int | None = Field(default=None, ge=0, validation_alias="ADPILOT_MAX_TOKENS_PER_RUN")
    # Price per model, for the cost on each traced generation: JSON, e.g. {"my-model": {"input": 1, "output": 2}}.
    model_prices: dict[str, ModelPrice] = Field(
        default_factory=lambda: dict(DEFAULT_MODEL_PRICES), validation_alias="ADPILOT_MODEL_PRICES"
    )
    langfuse_public_key: str | None = Field(default=None, validation_alias="LANGFUSE_PUBLIC_KEY")
    langfuse_secret_key: str | None = Field(default=None, validation_alias="LANGFUSE_SECRET_KEY")
    langfuse_base_url: str | None = Field(default=None, validation_alias="LANGFUSE_BASE_URL")
    # The platforms' connectors get these passed in (`platform_variables`); they never read the environment.
    google_ads_configuration_file_path: Path | None = Field(
        default=None, validation_alias="GOOGLE_ADS_CONFIGURATION_FILE_PATH"
    )
    google_ads_developer_token: SecretStr | None = Field(default=None, validation_alias="GOOGLE_ADS_DEVELOPER_TOKEN")
    google_ads_client_id: str | None = Field(default=None, validation_alias="GOOGLE_ADS_CLIENT_ID")
    google_ads_client_secret: SecretStr | None = Field(default=None, validation_alias="GOOGLE_ADS_CLIENT_SECRET")
    google_ads_refresh_token: SecretStr | None = Field(default=None, validation_alias="GOOGLE_ADS_REFRESH_TOKEN")
    google_ads_access_token: SecretStr | None = Field(default=None, validation_alias="GOOGLE_ADS_ACCESS_TOKEN")
    google_ads_login_customer_id: str | None = Field(default=None, validation_alias="GOOGLE_ADS_LOGIN_CUSTOMER_ID")
    google_ads_api_version: str | None = Field(default=None, validation_alias="GOOGLE_ADS_API_VERSION")
    google_ads_endpoint: str | None = Field(default=None, validation_alias="GOOGLE_ADS_ENDPOINT")
    google_ads_local_channel: bool | None = Field(default=None, validation_alias="GOOGLE_ADS_LOCAL_CHANNEL")
    meta_app_id: str | None = Field(default=None, validation_alias="META_APP_ID")
    meta_app_secret: SecretStr | None = Field(default=None, validation_alias="META_APP_SECRET")
    meta_access_token: SecretStr | None = Field(default=None, validation_alias="META_ACCESS_TOKEN")
    meta_page_id: str | None = Field(default=None, validation_alias="META_PAGE_ID")
    meta_api_version: str | None = Field(default=None, validation_alias="META_API_VERSION")
    meta_graph_url: str | None = Field(default=None, validation_alias="META_GRAPH_URL")
    meta_state_path: Path | None = Field(default=None, validation_alias="META_STATE_PATH")
    # Scheduled audits' notifications: smtp://user:pass@host:587 (STARTTLS) or smtps://…:465, the sender,
    # and where the web app is reached, for the links to the inbox and the reports.
    smtp_url: str | None = Field(default=None, validation_alias="ADPILOT_SMTP_URL")
    smtp_from: str = Field(default="adpilot@localhost", validation_alias="ADPILOT_SMTP_FROM")
    base_url: str | None = Field(default=None, validation_alias="ADPILOT_BASE_URL")

    @field_validator("model_prices")
    @classmethod
    def _add_to_default_prices(cls, prices: dict[str, ModelPrice]) -> dict[str, ModelPrice]:
        return {**DEFAULT_MODEL_PRICES, **prices}

    @property
    def today(self) -> dt.date:
        return self.today_override or dt.date.today()

    @property
    def fast_model(self) -> str:
        return self.openai_model_fast or self.openai_model

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

    @property
    def meta_ledger_path(self) -> Path:
        """Meta's budget-change ledger (about 4 changes per ad set an hour): META_STATE_PATH, else in the home."""
        return self.meta_state_path or self.home / "meta_budget_ledger.sqlite"

    def model_price(self, model: str | None) -> ModelPrice | None:
        """A model's price from the table; the offline planner (None) costs nothing; None for an unknown model."""
        if model is None:
            return ModelPrice(input=0, output=0)
        return price_of(model, self.model_prices)

    def platform_variables(self, prefix: str) -> dict[str, str]:
        """The set variables whose names start with `prefix` (GOOGLE_ADS_ or META_), as a connector reads them."""
        found: dict[str, str] = {}
        for name, field in type(self).model_fields.items():
            alias = str(field.validation_alias)
            value = getattr(self, name)
            if alias.startswith(prefix) and value is not None:
                found[alias] = (
                    value.get_secret_value()
                    if isinstance(value, SecretStr)
                    else str(value).lower()
                    if isinstance(value, bool)
                    else str(value)
                )
        return found


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        raise ConfigurationError(f"setting {first['loc'][0]}: {first['msg']}") from error
