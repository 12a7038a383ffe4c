"""Accounts on the real platforms, opened from their own settings (environment or google-ads.yaml)."""

from __future__ import annotations

from ads.account import AdAccount
from ads.errors import UnknownAccountError


def open_platform_account(name: str) -> AdAccount:
    """`google-ads:<customer id>` or `meta:act_<id>`; each SDK is imported only when its platform is used."""
    if name.startswith("meta:"):
        from ads.meta import MetaAccount, MetaSettings

        return MetaAccount.from_name(name, MetaSettings.from_env())
    if name.startswith("google-ads:"):
        from ads.google_ads import GoogleAdsAccount

        return GoogleAdsAccount.from_name(name)  # google-ads.yaml (GOOGLE_ADS_CONFIGURATION_FILE_PATH) or GOOGLE_ADS_*
    raise UnknownAccountError(
        f"unknown account '{name}' (accounts are sandbox:…, google-ads:<id>, meta:act_<id>, or an import)"
    )
