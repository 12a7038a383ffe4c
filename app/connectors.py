"""Accounts on the real platforms, opened with the settings `Settings` read (environment, `.env`, google-ads.yaml)."""

from __future__ import annotations

from ads.account import AdAccount
from ads.errors import UnknownAccountError
from app.settings import Settings


def open_platform_account(name: str, settings: Settings) -> AdAccount:
    """`google-ads:<customer id>` or `meta:act_<id>`; each SDK is imported only when its platform is used."""
    if name.startswith("meta:"):
        from ads.meta import MetaAccount, MetaSettings

        meta = MetaSettings.from_env(settings.platform_variables("META_"), state_path=settings.meta_ledger_path)
        return MetaAccount.from_name(name, meta)
    if name.startswith("google-ads:"):
        from ads.google_ads import GoogleAdsAccount

        return GoogleAdsAccount.from_name(name, variables=settings.platform_variables("GOOGLE_ADS_"))
    raise UnknownAccountError(
        f"unknown account '{name}' (accounts are sandbox:…, google-ads:<id>, meta:act_<id>, or an import)"
    )
