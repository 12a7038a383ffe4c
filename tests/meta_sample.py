"""The small Meta account the emulator, connector and apply-path tests share, and a clock they can move."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from ads.changes import SetBudget
from ads.entities import Account, AccountStructure, Ad, AdGroup, Budget, Campaign, MetaAdCopy, Platform, Status
from ads.meta import MetaAccount, MetaSettings
from sandbox.meta_emulator import MetaEmulator
from sandbox.store import SandboxAccount, SandboxStore

META_ACCOUNT = "sandbox:trailhead-meta"
START = dt.date(2026, 11, 1)
DAYS = 10


def _copy(n: int) -> MetaAdCopy:
    return MetaAdCopy(
        primary_text=f"Gear up for the trail, offer {n}",
        headline=f"Trail boots {n}",
        description="Free returns",
        link_url="https://trailhead.example/boots",
    )


def tiny_meta_structure() -> AccountStructure:
    """Two campaigns: 2001 with ad set budgets (ad sets 3001, 3002), 2002 with a campaign budget (ad set 3003)."""
    account = Account(name=META_ACCOUNT, id="1234567890", display_name="Trailhead (Meta)", platform=Platform.META)
    return AccountStructure(
        account=account,
        campaigns=(
            Campaign(id="2001", name="Prospecting", channel="meta"),
            Campaign(id="2002", name="Retargeting", channel="meta", budget_id="4003"),
        ),
        budgets=(
            Budget(
                id="4001",
                name="Hikers",
                level="ad_set",
                daily_amount=5000,
                campaign_ids=("2001",),
                ad_group_ids=("3001",),
            ),
            Budget(
                id="4002",
                name="Campers",
                level="ad_set",
                daily_amount=3000,
                campaign_ids=("2001",),
                ad_group_ids=("3002",),
            ),
            Budget(
                id="4003",
                name="Retargeting",
                level="campaign",
                daily_amount=8000,
                campaign_ids=("2002",),
                ad_group_ids=("3003",),
            ),
        ),
        ad_groups=(
            AdGroup(id="3001", campaign_id="2001", name="Hikers", budget_id="4001"),
            AdGroup(id="3002", campaign_id="2001", name="Campers", budget_id="4002", status=Status.PAUSED),
            AdGroup(id="3003", campaign_id="2002", name="Site visitors", budget_id="4003"),
        ),
        ads=(
            Ad(id="5001", ad_group_id="3001", copy=_copy(1)),
            Ad(id="5002", ad_group_id="3002", copy=_copy(2)),
            Ad(id="5003", ad_group_id="3003", copy=_copy(3)),
            Ad(id="5004", ad_group_id="3001", status=Status.REMOVED, copy=_copy(4)),
        ),
    )


def tiny_meta_account(path: Path) -> SandboxAccount:
    """The tiny structure with ten days of metrics for each ad set."""
    sandbox = SandboxStore.create(path).save_account(tiny_meta_structure())
    rows = [
        {
            "date": START + dt.timedelta(days=d),
            "campaign_id": c,
            "ad_group_id": s,
            "impressions": 1000 + 10 * d,
            "clicks": 20 + d,
            "cost": 1234 + 101 * d + int(s),
            "conversions": float(d % 3),
            "conversion_value": 45.5 * (d % 3),
        }
        for d in range(DAYS)
        for c, s in (("2001", "3001"), ("2001", "3002"), ("2002", "3003"))
    ]
    sandbox.add_daily_metrics(pd.DataFrame(rows))
    return sandbox


NAME = "meta:act_1234567890"
T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def connect_meta(emulator: MetaEmulator, tmp_path: Path, clock: Clock, **overrides: str) -> MetaAccount:
    """A MetaAccount on the emulator, its hourly budget-change ledger under `tmp_path`."""
    settings = MetaSettings.from_env(
        {**emulator.client_settings(), **overrides}, state_path=tmp_path / "meta-ledger.sqlite"
    )
    return MetaAccount(settings, clock=clock)


def daily_budget(meta: MetaAccount, budget_id: str) -> int:
    return next(b.daily_amount for b in meta.structure().budgets if b.id == budget_id)


def set_budget(budget_id: str, from_amount: int, to_amount: int, level: str = "ad_set") -> SetBudget:
    return SetBudget(
        account=NAME, rationale="pacing", budget_id=budget_id, level=level, from_amount=from_amount, to_amount=to_amount
    )
