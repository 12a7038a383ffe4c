"""Accounts on the real platforms, opened from their own settings (environment or google-ads.yaml)."""

from __future__ import annotations

from ads.account import AdAccount
from ads.errors import UnknownAccountError
from app.settings import Settings


def open_platform_account(name: str, settings: Settings) -> AdAccount:
    """`google-ads:<customer id>` or `meta:act_<id>`; the SDK is imported only here, when it is needed."""
    if name.startswith("meta:"):
        from ads.meta import MetaAccount, MetaSettings

        return MetaAccount.from_name(name, MetaSettings.from_env())
    raise UnknownAccountError(f"unknown account '{name}': Google Ads support is not configured in this build")
