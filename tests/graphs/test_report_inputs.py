"""What the audit graph hands the report: the pacing chart's series, which on the 1st still has last month's curve,
the plan and a projection."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ads.entities import Account, AccountStructure, Campaign, Platform
from graphs.audit import pacing_series

STRUCTURE = AccountStructure(
    account=Account(name="x", id="1", display_name="X", platform=Platform.GOOGLE_ADS),
    campaigns=(
        Campaign(id="11", name="Tents", channel="search", monthly_target=3_100_000_000),
        Campaign(id="12", name="Boots", channel="search"),
    ),
)


def metrics(start: dt.date, end: dt.date, cost: int) -> pd.DataFrame:
    dates = pd.date_range(start, end, freq="D")
    return pd.DataFrame({"date": dates, "campaign_id": "11", "ad_group_id": "1", "cost": cost})


def test_on_the_first_the_series_has_last_month_the_plan_and_a_projection_but_no_actual() -> None:
    today = dt.date(2026, 12, 1)
    history = metrics(dt.date(2026, 10, 1), today, 100_000_000)  # 100 a day, today's partial day included
    series = pacing_series(STRUCTURE, history, today, projected=3_255_000_000)
    assert list(series.index) == list(range(1, 32))
    assert series["actual"].isna().all()
    assert series["last_month"].iloc[29] == 3000.0 and pd.isna(series["last_month"].iloc[30])  # 30 days of 100
    assert series["target"].iloc[30] == 3100.0 and series["target"].iloc[0] == 100.0
    assert series["projected"].iloc[0] == 105.0 and series["projected"].iloc[30] == 3255.0


def test_mid_month_the_projection_starts_from_the_last_complete_day() -> None:
    today = dt.date(2026, 11, 11)
    series = pacing_series(STRUCTURE, metrics(dt.date(2026, 10, 1), today, 50_000_000), today, projected=1_500_000_000)
    assert series["actual"].iloc[9] == 500.0 and pd.isna(series["actual"].iloc[10])  # 1st–10th complete
    assert series["projected"].first_valid_index() == 10 and series["projected"].iloc[9] == 500.0
    assert series["projected"].iloc[29] == 1500.0 and series["last_month"].iloc[30] == 1550.0
