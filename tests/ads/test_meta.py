"""MetaAccount with the real facebook-business SDK against the local Graph emulator."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from facebook_business.api import FacebookAdsApi

from ads.account import AdAccount
from ads.changes import (
    AddCreativeVariants,
    AddNegativeKeywords,
    KeywordSpec,
    NegativeSpec,
    PauseEntity,
    RemoveNegativeKeywords,
)
from ads.entities import DAILY_METRIC_COLUMNS, SEARCH_TERM_COLUMNS, MatchType, MetaAdCopy, Status
from ads.errors import ConfigurationError, PlatformError
from ads.meta import MetaAccount, MetaSettings
from sandbox.meta_emulator import MetaEmulator
from tests.meta_sample import DAYS, NAME, START, T0, Clock, connect_meta, daily_budget, set_budget

pytestmark = pytest.mark.usefixtures("fresh_meta_account")

# -- settings --


def test_settings_name_every_missing_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="META_APP_ID, META_ACCESS_TOKEN"):
        MetaSettings.from_env({"META_APP_SECRET": "s"})
    with pytest.raises(ConfigurationError, match="META_API_VERSION"):
        MetaSettings.from_env(
            {"META_APP_ID": "1", "META_APP_SECRET": "s", "META_ACCESS_TOKEN": "t", "META_API_VERSION": "26"}
        )
    settings = MetaSettings.from_env(
        {"META_APP_ID": "1", "META_APP_SECRET": "s", "META_ACCESS_TOKEN": "t"}, state_path=tmp_path / "ledger.sqlite"
    )
    assert settings.api_version == FacebookAdsApi.API_VERSION
    with pytest.raises(ConfigurationError, match="META_AD_ACCOUNT_ID"):
        MetaAccount(settings)
    with pytest.raises(ConfigurationError, match="meta:act_<id>"):
        MetaAccount.from_name("google-ads:123", settings)


# -- reads --


def test_account_and_structure(meta: MetaAccount) -> None:
    assert isinstance(meta, AdAccount)
    assert meta.account.name == NAME and meta.account.display_name == "Trailhead (Meta)"
    structure = meta.structure()
    assert {c.id: (c.channel, c.budget_id) for c in structure.campaigns} == {
        "2001": ("meta", None),
        "2002": ("meta", "2002"),
    }
    budgets = {b.id: b for b in structure.budgets}
    assert budgets["2002"].level == "campaign" and budgets["2002"].daily_amount == 8000
    assert budgets["2002"].ad_group_ids == ("3003",)
    assert budgets["3002"].level == "ad_set" and budgets["3002"].ad_group_ids == ("3002",)
    ad_sets = {s.id: s for s in structure.ad_groups}
    assert ad_sets["3003"].budget_id == "2002" and ad_sets["3002"].status is Status.PAUSED
    ads = {a.id: a for a in structure.ads}
    assert "5004" not in ads  # deleted
    assert ads["5002"].copy_ == MetaAdCopy(
        primary_text="Gear up for the trail, offer 2",
        headline="Trail boots 2",
        description="Free returns",
        link_url="https://trailhead.example/boots",
    )


def test_daily_metrics_match_the_sandbox(meta: MetaAccount, meta_emulator: MetaEmulator) -> None:
    end = START + dt.timedelta(days=DAYS - 1)
    got = meta.daily_metrics(START, end)
    assert tuple(got.columns) == DAILY_METRIC_COLUMNS
    expected = meta_emulator.sandbox.daily_metrics(START, end)
    key = ["date", "campaign_id", "ad_group_id"]
    pd.testing.assert_frame_equal(
        got.sort_values(key).reset_index(drop=True), expected.sort_values(key).reset_index(drop=True), check_dtype=False
    )
    assert got["cost"].dtype == "int64" and got["conversions"].sum() > 0
    assert meta.daily_metrics(START - dt.timedelta(days=40), START - dt.timedelta(days=30)).empty


def test_search_terms_are_empty_on_meta(meta: MetaAccount) -> None:
    frame = meta.search_terms(START, START)
    assert frame.empty and tuple(frame.columns) == SEARCH_TERM_COLUMNS


# -- writes --


def test_budget_update_is_read_back_and_reapply_is_already_applied(
    meta: MetaAccount, meta_emulator: MetaEmulator
) -> None:
    current = daily_budget(meta, "3001")
    change = set_budget("3001", current, current + 500)
    [result] = meta.apply([change], validate_only=False)
    assert result.status == "applied", result.message
    assert (result.before, result.after) == ({"daily_budget": current}, {"daily_budget": current + 500})
    assert meta.read_back(change).present
    stored = next(b for b in meta_emulator.sandbox.structure().budgets if b.id == "4001")
    assert stored.daily_amount == current + 500
    assert meta.apply([change], validate_only=False)[0].status == "already_applied"
    stale = meta.apply([set_budget("3001", current, current + 900)], validate_only=False)[0]
    assert stale.status == "failed" and f"is now {current + 500}" in stale.message


def test_validate_only_writes_nothing(meta: MetaAccount, meta_emulator: MetaEmulator) -> None:
    current = daily_budget(meta, "3002")
    ad = AddCreativeVariants(
        account=NAME,
        rationale="test",
        ad_group_id="3002",
        ad=MetaAdCopy(primary_text="Validate me", headline="Only a check", link_url="https://trailhead.example/v"),
    )
    writes = meta_emulator.writes
    results = meta.apply([set_budget("3002", current, current + 100), ad], validate_only=True)
    assert [r.status for r in results] == ["validated", "validated"], [r.message for r in results]
    assert meta_emulator.writes == writes
    assert daily_budget(meta, "3002") == current and not meta.read_back(ad).present
    bad = meta.apply([set_budget("3002", current, 50)], validate_only=True)[0]
    assert bad.status == "failed" and "invalid parameter 'daily_budget' (code 100)" in bad.message


def test_new_ad_is_created_paused_with_its_copy(meta: MetaAccount, meta_emulator: MetaEmulator) -> None:
    copy = MetaAdCopy(
        primary_text="Waterproof boots for wet trails",
        headline="Stay dry out there",
        description="Ships free",
        link_url="https://trailhead.example/wet",
        call_to_action="SHOP_NOW",
    )
    change = AddCreativeVariants(account=NAME, rationale="new angle", ad_group_id="3001", ad=copy)
    [result] = meta.apply([change], validate_only=False)
    assert result.status == "applied", result.message
    ad_id = result.resource_names[0]
    stored = next(a for a in meta_emulator.sandbox.structure().ads if a.id == ad_id)
    assert (stored.status, stored.ad_group_id, stored.copy_) == (Status.PAUSED, "3001", copy)
    assert meta.read_back(change).resource_names == (ad_id,)
    assert meta.apply([change], validate_only=False)[0].status == "already_applied"


def test_unsupported_kinds_fail_clearly(meta: MetaAccount) -> None:
    change = AddNegativeKeywords(
        account=NAME,
        rationale="x",
        level="campaign",
        target_id="2001",
        keywords=(NegativeSpec(text="jobs", match_type=MatchType.PHRASE),),
    )
    result = meta.apply([change], validate_only=False)[0]
    assert result.status == "failed" and "not supported on Meta" in result.message
    other = set_budget("3001", 1, 2).model_copy(update={"account": "meta:act_1"})
    assert "not 'meta:act_1234567890'" in meta.apply([other], validate_only=False)[0].message


def test_campaign_budget_optimisation_refuses_ad_set_changes(meta: MetaAccount, meta_emulator: MetaEmulator) -> None:
    writes = meta_emulator.writes
    result = meta.apply([set_budget("3003", 8000, 9000)], validate_only=False)[0]
    assert result.status == "failed" and "campaign budget optimisation" in result.message
    assert "campaign 2002" in result.message and meta_emulator.writes == writes
    campaign = meta.apply([set_budget("2002", 8000, 8800, level="campaign")], validate_only=False)[0]
    assert campaign.status == "applied", campaign.message
    assert daily_budget(meta, "2002") == 8800


# -- errors --


def test_bad_token_permission_and_rate_limit_become_clear_messages(
    meta_emulator: MetaEmulator, tmp_path: Path, meta_clock: Clock
) -> None:
    with pytest.raises(PlatformError, match=r"access token \(code 190\)"):
        _ = connect_meta(meta_emulator, tmp_path, meta_clock, META_ACCESS_TOKEN="EAAexpired").account
    read_only = connect_meta(meta_emulator, tmp_path, meta_clock, META_ACCESS_TOKEN=meta_emulator.read_only_token)
    current = daily_budget(read_only, "3001")
    result = read_only.apply([set_budget("3001", current, current + 100)], validate_only=False)[0]
    assert result.status == "failed" and "permission (code 200)" in result.message
    meta_emulator.fail_next_with_rate_limit = 1
    with pytest.raises(PlatformError, match=r"rate limit reached \(code 17\)"):
        read_only.structure()


# -- the hourly budget-change limit --


def test_fifth_budget_change_in_an_hour_is_queued_then_runs(meta: MetaAccount, meta_clock: Clock) -> None:
    amount = daily_budget(meta, "3002")
    changes = [set_budget("3002", amount + 100 * i, amount + 100 * (i + 1)) for i in range(5)]
    for minute, change in enumerate(changes[:4]):
        meta_clock.now = T0 + dt.timedelta(minutes=minute)
        assert meta.apply([change], validate_only=False)[0].status == "applied"
    meta_clock.now = T0 + dt.timedelta(minutes=10)
    queued = meta.apply([changes[4]], validate_only=False)[0]
    assert queued.status == "queued"
    assert "Meta allows 4" in queued.message and "2026-11-20 10:00 UTC" in queued.message
    assert [q.change.hash for q in meta.pending_budget_changes()] == [changes[4].hash]
    assert daily_budget(meta, "3002") == amount + 400
    assert meta.apply([changes[4]], validate_only=False)[0].status == "queued"  # not queued twice
    assert len(meta.pending_budget_changes()) == 1
    assert meta.run_queued(T0 + dt.timedelta(minutes=30)) == []  # not due yet
    [ran] = meta.run_queued(T0 + dt.timedelta(minutes=61))
    assert ran.status == "applied" and daily_budget(meta, "3002") == amount + 500
    assert meta.pending_budget_changes() == []


def test_a_rate_limit_from_meta_on_a_budget_write_queues_it(meta: MetaAccount, meta_emulator: MetaEmulator) -> None:
    current = daily_budget(meta, "3001")
    change = set_budget("3001", current, current + 200)
    meta_emulator.fail_next_write_with_rate_limit = 1
    result = meta.apply([change], validate_only=False)[0]
    assert result.status == "queued" and "code 17" in result.message and "10:00 UTC" in result.message
    assert daily_budget(meta, "3001") == current
    [ran] = meta.run_queued(T0 + dt.timedelta(hours=1))
    assert ran.status == "applied" and daily_budget(meta, "3001") == current + 200


# -- the inverse changes a rollback proposes (these tests change the shared emulator: keep them last) --


def _pause(level: str, entity_id: str) -> PauseEntity:
    return PauseEntity(account=NAME, rationale="rolls back", level=level, entity_id=entity_id)


def _stored_status(meta_emulator: MetaEmulator, entity_id: str) -> Status:
    structure = meta_emulator.sandbox.structure()
    return next(e.status for e in (*structure.ad_groups, *structure.ads) if e.id == entity_id)


@pytest.mark.parametrize(("level", "entity_id"), [("ad", "5003"), ("ad_group", "3003")])
def test_pause_an_ad_or_an_ad_set(meta: MetaAccount, meta_emulator: MetaEmulator, level: str, entity_id: str) -> None:
    change = _pause(level, entity_id)
    assert meta.read_back(change).model_dump(exclude={"change_hash"}) == {
        "present": False,
        "state": {"status": "enabled"},
        "resource_names": (entity_id,),
    }
    writes = meta_emulator.writes
    assert meta.apply([change], validate_only=True)[0].status == "validated"
    assert meta_emulator.writes == writes and _stored_status(meta_emulator, entity_id) is Status.ENABLED
    [result] = meta.apply([change], validate_only=False)
    assert (result.status, result.before, result.after) == ("applied", {"status": "enabled"}, {"status": "paused"})
    assert _stored_status(meta_emulator, entity_id) is Status.PAUSED and meta_emulator.writes == writes + 1
    assert meta.apply([change], validate_only=False)[0].status == "already_applied"
    assert meta_emulator.writes == writes + 1


def test_pausing_the_wrong_kind_of_object_or_a_deleted_ad_fails(meta: MetaAccount, meta_emulator: MetaEmulator) -> None:
    writes = meta_emulator.writes
    results = meta.apply(
        [_pause("ad", "3001"), _pause("ad_group", "5001"), _pause("ad", "5004"), _pause("ad", "999")],
        validate_only=False,
    )
    assert [r.status for r in results] == ["failed"] * 4
    assert "nonexisting field (adset_id) on node type (AdSet)" in results[0].message
    assert "on node type (Ad)" in results[1].message
    assert results[2].message == "ad 5004 is deleted or archived; there is nothing to pause"
    assert "'999' does not exist" in results[3].message
    assert meta_emulator.writes == writes


def test_removing_negatives_is_not_supported_on_meta(meta: MetaAccount) -> None:
    change = RemoveNegativeKeywords(
        account=NAME,
        rationale="rolls back",
        level="campaign",
        target_id="2001",
        keywords=(KeywordSpec(text="jobs", match_type=MatchType.PHRASE),),
    )
    for validate_only in (True, False):
        result = meta.apply([change], validate_only=validate_only)[0]
        assert result.status == "failed"
        assert (
            result.message == "remove negative keywords is not supported on Meta (Meta has no keywords or search ads)"
        )


def test_read_back_gives_the_ad_id_a_rollback_pauses(meta: MetaAccount) -> None:
    copy = MetaAdCopy(
        primary_text="Gear up for the trail, offer 1",
        headline="Trail boots 1",
        description="Free returns",
        link_url="https://trailhead.example/boots",
    )
    change = AddCreativeVariants(account=NAME, rationale="r", ad_group_id="3001", ad=copy)
    assert meta.read_back(change).state["ad_id"] == "5001"
