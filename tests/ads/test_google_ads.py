"""GoogleAdsAccount, with the real google-ads client, against the local emulator on a free port."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from ads.account import AdAccount
from ads.changes import (
    AddCreativeVariants,
    CreateAdGroup,
    KeywordSpec,
    MetaAdCopy,
    PauseEntity,
    RemoveNegativeKeywords,
    SetBudget,
)
from ads.entities import (
    MatchType,
    NegativeKeyword,
    ResponsiveSearchAdCopy,
    Status,
)
from ads.errors import ConfigurationError, PlatformError
from ads.google_ads import GoogleAdsAccount, GoogleAdsSettings, newest_api_version
from sandbox.google_ads_emulator import GoogleAdsEmulator
from sandbox.store import SandboxAccount
from tests.google_ads_sample import (
    ACCOUNT,
    BOOTS_COPY,
    CUSTOMER_ID,
    TODAY,
    Sleeps,
    negative_keys,
    negatives,
    sample_structure,
)

TENTS_COPY = ResponsiveSearchAdCopy(
    headlines=("Ultralight Tents", "Pitch In Minutes", "Free Returns"),
    descriptions=("Two-person tents.", "Shop now."),
    final_url="https://trailhead.example/tents",
)


@pytest.fixture(autouse=True)
def fresh_account(fresh_google_ads_account: None, sleeps: Sleeps) -> None:
    sleeps.clear()


# -- settings ---------------------------------------------------------------------------------


def test_missing_settings_are_all_named() -> None:
    with pytest.raises(ConfigurationError) as caught:
        GoogleAdsSettings.load(environ={"GOOGLE_ADS_CLIENT_ID": "id"})
    message = str(caught.value)
    for name in ("developer_token", "customer_id", "client_secret", "refresh_token"):
        assert name in message
    assert "client_id," not in message and "\n" not in message


def test_settings_from_yaml_with_environment_overrides(tmp_path: Path) -> None:
    path = tmp_path / "google-ads.yaml"
    path.write_text(
        "developer_token: file-token\nclient_id: a\nclient_secret: b\nrefresh_token: c\n"
        "login_customer_id: 111-222-3333\ncustomer_id: 123-456-7890\nuse_proto_plus: true\n"
    )
    settings = GoogleAdsSettings.load(path, environ={"GOOGLE_ADS_DEVELOPER_TOKEN": "env-token"})
    assert settings.developer_token == "env-token"
    assert (settings.customer_id, settings.login_customer_id) == ("1234567890", "1112223333")
    assert settings.api_version == newest_api_version() == "v26"
    assert settings.endpoint == "googleads.googleapis.com" and not settings.local_channel


def test_local_channel_is_refused_for_a_remote_endpoint() -> None:
    with pytest.raises(ConfigurationError, match="loopback"):
        GoogleAdsSettings.load(
            environ={
                "GOOGLE_ADS_DEVELOPER_TOKEN": "t",
                "GOOGLE_ADS_CUSTOMER_ID": "1234567890",
                "GOOGLE_ADS_ACCESS_TOKEN": "x",
                "GOOGLE_ADS_LOCAL_CHANNEL": "true",
                "GOOGLE_ADS_ENDPOINT": "googleads.googleapis.com:443",
            }
        )


def test_a_malformed_customer_id_names_the_setting() -> None:
    with pytest.raises(ConfigurationError, match="customer_id"):
        GoogleAdsSettings.load(
            environ={
                "GOOGLE_ADS_DEVELOPER_TOKEN": "t",
                "GOOGLE_ADS_CUSTOMER_ID": "acme",
                "GOOGLE_ADS_ACCESS_TOKEN": "x",
            }
        )


def test_an_account_name_picks_the_customer(google_ads_emulator: GoogleAdsEmulator) -> None:
    environ = {k: v for k, v in google_ads_emulator.client_settings().items() if k != "GOOGLE_ADS_CUSTOMER_ID"}
    with pytest.raises(ConfigurationError, match="customer_id"):
        GoogleAdsSettings.load(environ=environ)
    account = GoogleAdsAccount.from_name(
        "google-ads:123-456-7890", GoogleAdsSettings.load(environ=environ, customer_id="1112223333")
    )
    assert account.customer_id == CUSTOMER_ID and account.account.name == ACCOUNT
    with pytest.raises(ConfigurationError, match="not a Google Ads account name"):
        GoogleAdsAccount.from_name("google-ads:acme")


# -- reads ------------------------------------------------------------------------------------


def test_it_is_an_ad_account_named_after_the_customer(google: GoogleAdsAccount) -> None:
    assert isinstance(google, AdAccount)
    account = google.account
    assert (account.name, account.id, account.display_name) == (ACCOUNT, CUSTOMER_ID, "Trailhead Outfitters")
    assert (account.currency, account.time_zone, account.money_unit.value) == ("USD", "America/Denver", "micros")


def test_structure_reads_every_entity_kind(google: GoogleAdsAccount) -> None:
    expected = sample_structure()
    got = google.structure()
    assert got.account == google.account
    for field in ("campaigns", "budgets", "ad_groups", "keywords", "shared_lists", "ads"):
        assert sorted(getattr(got, field), key=lambda e: e.id) == sorted(getattr(expected, field), key=lambda e: e.id)
    assert sorted(got.negatives, key=lambda n: n.id) == sorted(expected.negatives, key=lambda n: n.id)


def test_daily_metrics_match_the_sandbox(google: GoogleAdsAccount, google_ads_sandbox: SandboxAccount) -> None:
    start, end = TODAY - dt.timedelta(days=9), TODAY
    pd.testing.assert_frame_equal(google.daily_metrics(start, end), google_ads_sandbox.daily_metrics(start, end))


def test_search_terms_match_the_sandbox(google: GoogleAdsAccount, google_ads_sandbox: SandboxAccount) -> None:
    start, end = TODAY - dt.timedelta(days=1), TODAY
    got = google.search_terms(start, end)
    pd.testing.assert_frame_equal(got, google_ads_sandbox.search_terms(start, end))
    assert got.loc[got.search_term == "hiking boot jobs", "clicks"].item() == 6


# -- apply ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("level", "target"), [("campaign", "12"), ("ad_group", "31"), ("shared_list", "61")])
def test_negatives_at_each_level_are_validated_applied_and_read_back(
    google: GoogleAdsAccount,
    google_ads_sandbox: SandboxAccount,
    google_ads_emulator: GoogleAdsEmulator,
    level: str,
    target: str,
) -> None:
    change = negatives(level, target, "tent stakes", "diy backpack")
    (validated,) = google.apply([change], validate_only=True)
    assert validated.status == "validated" and not google.read_back(change).present
    (applied,) = google.apply([change], validate_only=False)
    assert applied.status == "applied", applied.message
    assert {
        (level, target, "tent stakes", MatchType.EXACT),
        (level, target, "diy backpack", MatchType.EXACT),
    } <= negative_keys(google_ads_sandbox)
    assert len(applied.resource_names) == 2
    # validate-only first, then the real request with partial failure on
    assert [(r.validate_only, r.partial_failure) for r in google_ads_emulator.mutate_requests] == [
        (True, True),
        (True, True),
        (False, True),
    ]
    assert google.read_back(change).present


def test_re_applying_is_already_applied_and_sends_nothing(
    google: GoogleAdsAccount, google_ads_emulator: GoogleAdsEmulator
) -> None:
    change = negatives("campaign", "11", "jobs", match_type="phrase")  # present in the account already
    (result,) = google.apply([change], validate_only=False)
    assert result.status == "already_applied"
    assert google_ads_emulator.mutate_requests == []


def test_only_the_missing_keywords_of_a_change_are_sent(
    google: GoogleAdsAccount, google_ads_emulator: GoogleAdsEmulator
) -> None:
    change = negatives("campaign", "11", "jobs", "careers", match_type="phrase")
    assert google.read_back(change).state == {"present": ['"jobs"'], "missing": ['"careers"']}
    (result,) = google.apply([change], validate_only=False)
    assert result.status == "applied"
    assert [len(r.mutate_operations) for r in google_ads_emulator.mutate_requests] == [1, 1]


def test_create_ad_group_makes_a_paused_group_with_keywords_and_rsa(
    google: GoogleAdsAccount, google_ads_sandbox: SandboxAccount
) -> None:
    change = CreateAdGroup(
        account=ACCOUNT,
        rationale="uncovered theme converts",
        campaign_id="12",
        name="Ultralight tents",
        keywords=(
            KeywordSpec(text="ultralight tent", match_type="phrase"),
            KeywordSpec(text="1 person tent", match_type="exact"),
        ),
        ad=TENTS_COPY,
    )
    (result,) = google.apply([change], validate_only=False)
    assert result.status == "applied", result.message
    structure = google_ads_sandbox.structure()
    (group,) = [g for g in structure.ad_groups if g.name == "Ultralight tents"]
    assert (group.campaign_id, group.status) == ("12", Status.PAUSED)
    assert {(k.text, k.match_type) for k in structure.keywords if k.ad_group_id == group.id} == {
        ("ultralight tent", MatchType.PHRASE),
        ("1 person tent", MatchType.EXACT),
    }
    (ad,) = [a for a in structure.ads if a.ad_group_id == group.id]
    assert ad.copy_ == TENTS_COPY and ad.status is Status.PAUSED
    assert result.after["ad_group_id"] == group.id and google.read_back(change).present


def test_creative_variant_is_added_paused(google: GoogleAdsAccount, google_ads_sandbox: SandboxAccount) -> None:
    copy = BOOTS_COPY.model_copy(update={"headlines": ("Waterproof Boots", "Free Shipping", "Shop Trailhead")})
    change = AddCreativeVariants(account=ACCOUNT, rationale="test a waterproof angle", ad_group_id="31", ad=copy)
    (result,) = google.apply([change], validate_only=False)
    assert result.status == "applied", result.message
    (ad,) = [a for a in google_ads_sandbox.structure().ads if a.copy_ == copy]
    assert (ad.ad_group_id, ad.status) == ("31", Status.PAUSED)


def test_meta_shaped_changes_are_refused_on_google(
    google: GoogleAdsAccount, google_ads_emulator: GoogleAdsEmulator
) -> None:
    copy = AddCreativeVariants(
        account=ACCOUNT,
        rationale="x",
        ad_group_id="31",
        ad=MetaAdCopy(primary_text="Boots", headline="Boots", link_url="https://trailhead.example"),
    )
    ad_set = SetBudget(
        account=ACCOUNT, rationale="x", budget_id="21", level="ad_set", unit="minor", from_amount=5000, to_amount=6000
    )
    results = google.apply([copy, ad_set], validate_only=True)
    assert [r.status for r in results] == ["failed", "failed"]
    assert "responsive search ads" in results[0].message and "ad set budgets in minor units" in results[1].message
    assert google_ads_emulator.mutate_requests == []


def test_set_budget_applies_and_a_stale_one_fails(google: GoogleAdsAccount, google_ads_sandbox: SandboxAccount) -> None:
    change = SetBudget(
        account=ACCOUNT, rationale="pacing under", budget_id="22", from_amount=30_000_000, to_amount=36_000_000
    )
    (result,) = google.apply([change], validate_only=False)
    assert result.status == "applied"
    assert (result.before, result.after) == ({"daily_amount": 30_000_000}, {"daily_amount": 36_000_000})
    assert {b.id: b.daily_amount for b in google_ads_sandbox.structure().budgets}["22"] == 36_000_000
    assert google.apply([change], validate_only=False)[0].status == "already_applied"
    stale = SetBudget(account=ACCOUNT, rationale="x", budget_id="22", from_amount=30_000_000, to_amount=20_000_000)
    (result,) = google.apply([stale], validate_only=False)
    assert result.status == "failed" and result.message == "budget 22 is now 36000000, the change expected 30000000"


def test_a_validate_only_failure_names_the_headline_and_writes_nothing(
    google: GoogleAdsAccount, google_ads_sandbox: SandboxAccount, google_ads_emulator: GoogleAdsEmulator
) -> None:
    long_headline = "Waterproof Hiking Boots For Every Trail"
    copy = BOOTS_COPY.model_copy(update={"headlines": ("Boots", long_headline, "Shop")})
    before = google_ads_sandbox.structure()
    (result,) = google.apply(
        [AddCreativeVariants(account=ACCOUNT, rationale="x", ad_group_id="31", ad=copy)], validate_only=False
    )
    assert result.status == "failed"
    assert f"headline {long_headline!r}" in result.message and "string_length_error.TOO_LONG" in result.message
    assert google_ads_sandbox.structure() == before
    assert [r.validate_only for r in google_ads_emulator.mutate_requests] == [True]


def test_a_batch_maps_each_failure_to_its_own_change(
    google: GoogleAdsAccount, google_ads_sandbox: SandboxAccount
) -> None:
    good = negatives("campaign", "11", "tent stakes")
    unknown = negatives("ad_group", "999", "cheap boots")
    budget = SetBudget(account=ACCOUNT, rationale="x", budget_id="21", from_amount=50_000_000, to_amount=45_000_000)
    results = google.apply([good, unknown, budget], validate_only=False)
    assert [r.status for r in results] == ["applied", "failed", "applied"]
    assert "negative keyword [cheap boots]" in results[1].message and "RESOURCE_NOT_FOUND" in results[1].message
    assert ("campaign", "11", "tent stakes", MatchType.EXACT) in negative_keys(google_ads_sandbox)


def test_a_partial_failure_in_the_real_request_fails_only_its_change(
    google: GoogleAdsAccount, google_ads_sandbox: SandboxAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = negatives("campaign", "11", "tent stakes"), negatives("campaign", "12", "cheap tents")
    service = google.google_ads_service
    real_mutate = service.mutate

    def someone_else_adds_it_first(request, **kwargs):
        # between validation and the real request another user adds the second change's keyword
        if not request.validate_only:
            google_ads_sandbox.write(
                upserts=[
                    NegativeKeyword(
                        id=google_ads_sandbox.new_id(),
                        level="campaign",
                        owner_id="12",
                        text="cheap tents",
                        match_type=MatchType.EXACT,
                    )
                ]
            )
        return real_mutate(request=request, **kwargs)

    monkeypatch.setattr(service, "mutate", someone_else_adds_it_first)
    results = google.apply([first, second], validate_only=False)
    assert [r.status for r in results] == ["applied", "failed"]
    assert "negative keyword [cheap tents]" in results[1].message and "RESOURCE_ALREADY_EXISTS" in results[1].message


def test_operations_are_chunked_per_request(
    google_ads_emulator: GoogleAdsEmulator, google_ads_sandbox: SandboxAccount
) -> None:
    settings = GoogleAdsSettings.load(
        environ={**google_ads_emulator.client_settings(), "GOOGLE_ADS_MAX_OPERATIONS_PER_REQUEST": "2"}
    )
    small = GoogleAdsAccount(settings)
    change = negatives("campaign", "12", "a1", "a2", "a3", "a4", "a5")
    (result,) = small.apply([change], validate_only=False)
    assert result.status == "applied"
    assert [len(r.mutate_operations) for r in google_ads_emulator.mutate_requests] == [2, 2, 1, 2, 2, 1]


def test_quota_exhaustion_is_retried_with_backoff(
    google: GoogleAdsAccount, google_ads_emulator: GoogleAdsEmulator, sleeps: Sleeps
) -> None:
    google_ads_emulator.fail_next_with_quota = 2
    change = SetBudget(account=ACCOUNT, rationale="x", budget_id="21", from_amount=50_000_000, to_amount=52_000_000)
    (result,) = google.apply([change], validate_only=False)
    assert result.status == "applied"
    assert sleeps == [0.5, 1.0]


def test_quota_exhaustion_past_the_limit_fails_the_change(
    google: GoogleAdsAccount, google_ads_emulator: GoogleAdsEmulator, sleeps: Sleeps
) -> None:
    google_ads_emulator.fail_next_with_quota = 100
    (result,) = google.apply([negatives("campaign", "11", "tent stakes")], validate_only=False)
    assert result.status == "failed" and "RESOURCE_EXHAUSTED" in result.message and "4 attempt(s)" in result.message
    assert sleeps == [0.5, 1.0, 2.0]


def test_bad_credentials_fail_each_change_with_the_reason(google_ads_emulator: GoogleAdsEmulator) -> None:
    wrong = GoogleAdsAccount(
        GoogleAdsSettings.load(environ={**google_ads_emulator.client_settings(), "GOOGLE_ADS_ACCESS_TOKEN": "stolen"})
    )
    (result,) = wrong.apply([negatives("campaign", "11", "tent stakes")], validate_only=False)
    assert result.status == "failed" and "UNAUTHENTICATED" in result.message and "OAUTH_TOKEN_INVALID" in result.message
    with pytest.raises(PlatformError, match="UNAUTHENTICATED"):
        wrong.structure()


def test_permission_denied_on_another_customer(google_ads_emulator: GoogleAdsEmulator) -> None:
    other = GoogleAdsAccount(
        GoogleAdsSettings.load(
            environ={**google_ads_emulator.client_settings(), "GOOGLE_ADS_CUSTOMER_ID": "9999999999"}
        )
    )
    change = negatives("campaign", "11", "tent stakes").model_copy(update={"account": "google-ads:9999999999"})
    (result,) = other.apply([change], validate_only=False)
    assert result.status == "failed" and "PERMISSION_DENIED" in result.message


def test_a_change_for_another_account_is_refused(google: GoogleAdsAccount) -> None:
    change = negatives("campaign", "11", "tent stakes").model_copy(update={"account": "sandbox:trailhead"})
    (result,) = google.apply([change], validate_only=True)
    assert result.status == "failed" and "sandbox:trailhead" in result.message


def test_a_network_failure_is_reported(google_ads_emulator: GoogleAdsEmulator) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = GoogleAdsAccount(
        GoogleAdsSettings.load(
            environ={
                **google_ads_emulator.client_settings(),
                "GOOGLE_ADS_ENDPOINT": f"127.0.0.1:{port}",
                "GOOGLE_ADS_TIMEOUT_SECONDS": "5",
            }
        )
    )
    (result,) = down.apply([negatives("campaign", "11", "tent stakes")], validate_only=False)
    assert result.status == "failed" and "network failure reaching 127.0.0.1" in result.message


# -- the inverse changes a rollback proposes ----------------------------------------------------


def removal(level: str, target: str, *texts: str, match_type: str = "exact") -> RemoveNegativeKeywords:
    return RemoveNegativeKeywords(
        account=ACCOUNT,
        rationale="rolls back",
        level=level,
        target_id=target,
        keywords=tuple(KeywordSpec(text=t, match_type=match_type) for t in texts),
    )


def pause(level: str, entity_id: str) -> PauseEntity:
    return PauseEntity(account=ACCOUNT, rationale="rolls back", level=level, entity_id=entity_id)


@pytest.mark.parametrize(
    ("level", "target", "collection", "operation"),
    [
        ("campaign", "12", "campaignCriteria", "campaign_criterion_operation"),
        ("ad_group", "31", "adGroupCriteria", "ad_group_criterion_operation"),
        ("shared_list", "61", "sharedCriteria", "shared_criterion_operation"),
    ],
)
def test_negatives_added_at_each_level_are_removed(
    google: GoogleAdsAccount,
    google_ads_sandbox: SandboxAccount,
    google_ads_emulator: GoogleAdsEmulator,
    level: str,
    target: str,
    collection: str,
    operation: str,
) -> None:
    assert (
        google.apply([negatives(level, target, "tent stakes", "diy backpack")], validate_only=False)[0].status
        == "applied"
    )
    others = negative_keys(google_ads_sandbox) - {
        (level, target, t, MatchType.EXACT) for t in ("tent stakes", "diy backpack")
    }
    change = removal(level, target, "Tent  Stakes", "diy backpack", "never added")  # as the platform compares them
    before = google.read_back(change)
    assert not before.present and before.state == {
        "target_exists": True,
        "still_present": ["[Tent  Stakes]", "[diy backpack]"],
    }
    assert all(f"/{collection}/{target}~" in name for name in before.resource_names)
    google_ads_emulator.mutate_requests.clear()
    (validated,) = google.apply([change], validate_only=True)
    assert validated.status == "validated" and len(negative_keys(google_ads_sandbox)) == len(others) + 2
    (applied,) = google.apply([change], validate_only=False)
    assert applied.status == "applied", applied.message
    assert negative_keys(google_ads_sandbox) == others
    assert set(applied.resource_names) == set(before.resource_names)
    sent = [getattr(op, operation) for r in google_ads_emulator.mutate_requests for op in r.mutate_operations]
    # validate_only=True, then apply's own validation and the real request
    assert sorted(op.remove for op in sent) == sorted(before.resource_names * 3)
    assert [(r.validate_only, r.partial_failure) for r in google_ads_emulator.mutate_requests] == [
        (True, True),
        (True, True),
        (False, True),
    ]
    google_ads_emulator.mutate_requests.clear()
    assert google.apply([change], validate_only=False)[0].status == "already_applied"
    assert google_ads_emulator.mutate_requests == []


def test_removing_a_negative_that_is_not_there_is_already_applied(
    google: GoogleAdsAccount, google_ads_sandbox: SandboxAccount, google_ads_emulator: GoogleAdsEmulator
) -> None:
    before = negative_keys(google_ads_sandbox)
    wrong_match = removal("campaign", "11", "jobs", match_type="exact")  # the campaign holds "jobs" as phrase
    results = google.apply([removal("campaign", "11", "never added"), wrong_match], validate_only=False)
    assert [r.status for r in results] == ["already_applied", "already_applied"]
    assert negative_keys(google_ads_sandbox) == before and google_ads_emulator.mutate_requests == []


def test_removing_from_a_place_that_does_not_exist_fails(
    google: GoogleAdsAccount, google_ads_emulator: GoogleAdsEmulator
) -> None:
    (result,) = google.apply([removal("shared_list", "999", "free")], validate_only=False)
    assert (result.status, result.message) == ("failed", "shared list 999 does not exist")
    assert google_ads_emulator.mutate_requests == []


@pytest.mark.parametrize(
    ("level", "entity_id", "resource_name", "operation"),
    [
        ("ad_group", "32", "customers/1234567890/adGroups/32", "ad_group_operation"),
        ("ad", "71", "customers/1234567890/adGroupAds/31~71", "ad_group_ad_operation"),
    ],
)
def test_pause_an_ad_group_or_an_ad(
    google: GoogleAdsAccount,
    google_ads_sandbox: SandboxAccount,
    google_ads_emulator: GoogleAdsEmulator,
    level: str,
    entity_id: str,
    resource_name: str,
    operation: str,
) -> None:
    change = pause(level, entity_id)

    def status() -> Status:
        structure = google_ads_sandbox.structure()
        return next(e.status for e in (*structure.ad_groups, *structure.ads) if e.id == entity_id)

    assert google.read_back(change).model_dump(exclude={"change_hash"}) == {
        "present": False,
        "state": {"status": "enabled"},
        "resource_names": (resource_name,),
    }
    assert google.apply([change], validate_only=True)[0].status == "validated" and status() is Status.ENABLED
    (applied,) = google.apply([change], validate_only=False)
    assert (applied.status, applied.after, applied.resource_names) == (
        "applied",
        {"status": "paused"},
        (resource_name,),
    )
    assert status() is Status.PAUSED
    update = getattr(google_ads_emulator.mutate_requests[-1].mutate_operations[0], operation)
    assert (update.update.status.name, list(update.update_mask.paths)) == ("PAUSED", ["resource_name", "status"])
    google_ads_emulator.mutate_requests.clear()
    assert google.apply([change], validate_only=False)[0].status == "already_applied"
    assert google_ads_emulator.mutate_requests == []


def test_pausing_what_does_not_exist_fails(google: GoogleAdsAccount, google_ads_emulator: GoogleAdsEmulator) -> None:
    results = google.apply([pause("ad", "999"), pause("ad_group", "71")], validate_only=False)
    assert [(r.status, r.message) for r in results] == [
        ("failed", "ad 999 does not exist"),
        ("failed", "ad group 71 does not exist"),
    ]
    assert google_ads_emulator.mutate_requests == []


def test_the_emulator_refuses_a_removal_of_an_unknown_criterion_and_a_status_of_removed(
    google: GoogleAdsAccount, google_ads_sandbox: SandboxAccount
) -> None:
    t = google._types
    service = google.google_ads_service
    operations = [
        t.services.MutateOperation(
            campaign_criterion_operation=t.services.CampaignCriterionOperation(
                remove="customers/1234567890/campaignCriteria/12~51"
            )
        ),  # negative 51 belongs to campaign 11
        t.services.MutateOperation(
            ad_group_operation=t.services.AdGroupOperation(
                update=t.resources.AdGroup(resource_name="customers/1234567890/adGroups/31", status="REMOVED"),
                update_mask={"paths": ["status"]},
            )
        ),
        t.services.MutateOperation(
            campaign_criterion_operation=t.services.CampaignCriterionOperation(
                remove="customers/1234567890/campaignCriteria/11~51"
            )
        ),
    ]
    before = google_ads_sandbox.structure()
    response = service.mutate(
        request=t.services.MutateGoogleAdsRequest(
            customer_id=CUSTOMER_ID, mutate_operations=operations, partial_failure=True
        )
    )
    failure = t.errors.GoogleAdsFailure.deserialize(response.partial_failure_error.details[0].value)
    assert [(e.location.field_path_elements[0].index, e.message.split(":")[0]) for e in failure.errors] == [
        (0, "Resource was not found"),
        (1, "Status REMOVED cannot be set by an update (use a remove operation)."),
    ]
    after = google_ads_sandbox.structure()
    assert [n.id for n in after.negatives] == [n.id for n in before.negatives if n.id != "51"]
    assert after.ad_groups == before.ad_groups


def test_read_back_gives_the_created_ids_a_rollback_pauses(
    google: GoogleAdsAccount, google_ads_sandbox: SandboxAccount
) -> None:
    group = CreateAdGroup(
        account=ACCOUNT,
        rationale="r",
        campaign_id="12",
        name="Ultralight tents",
        keywords=(KeywordSpec(text="ultralight tent", match_type="phrase"),),
        ad=TENTS_COPY,
    )
    google.apply([group], validate_only=False)
    created = next(g.id for g in google_ads_sandbox.structure().ad_groups if g.name == "Ultralight tents")
    assert google.read_back(group).state["ad_group_id"] == created
    variant = AddCreativeVariants(account=ACCOUNT, rationale="r", ad_group_id="31", ad=BOOTS_COPY)
    assert google.read_back(variant).state["ad_id"] == "71"
