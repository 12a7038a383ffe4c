"""The Meta Graph emulator, driven by the real facebook-business SDK (and plain HTTP for error bodies)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import requests
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adset import AdSet
from facebook_business.api import FacebookAdsApi
from facebook_business.exceptions import FacebookRequestError
from facebook_business.session import FacebookSession

from ads.entities import Account, AccountStructure, Ad, AdGroup, Budget, Campaign, MetaAdCopy, Platform, Status
from sandbox.meta_emulator import MetaEmulator, start_meta_emulator
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


def tiny_meta_account(path: Path) -> SandboxAccount:
    """Two campaigns: 2001 with ad set budgets (ad sets 3001, 3002), 2002 with a campaign budget (ad set 3003)."""
    account = Account(name=META_ACCOUNT, id="1234567890", display_name="Trailhead (Meta)", platform=Platform.META)
    structure = AccountStructure(
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
    sandbox = SandboxStore.create(path).save_account(structure)
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


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MetaEmulator]:
    with start_meta_emulator(tiny_meta_account(tmp_path_factory.mktemp("meta") / "sandbox.sqlite")) as server:
        yield server


def _api(emulator: MetaEmulator, token: str | None = None) -> FacebookAdsApi:
    session = FacebookSession(emulator.app_id, emulator.app_secret, token or emulator.access_token)
    session.GRAPH = emulator.base_url
    return FacebookAdsApi(session)


def _get(emulator: MetaEmulator, path: str, token: str, **params: str) -> requests.Response:
    proof = hmac.new(emulator.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
    return requests.get(
        f"{emulator.base_url}/v26.0/{path}",
        timeout=5,
        params={"access_token": token, "appsecret_proof": proof, **params},
    )


def test_account_node_and_edges_read_through_the_sdk(emulator: MetaEmulator) -> None:
    account = AdAccount(emulator.account_id, api=_api(emulator))
    assert account.api_get(fields=["name", "currency"]).export_all_data() == {
        "id": "act_1234567890",
        "name": "Trailhead (Meta)",
        "currency": "USD",
    }
    ad_sets = {s["id"]: s.export_all_data() for s in account.get_ad_sets(fields=["name", "daily_budget", "status"])}
    assert ad_sets["3001"]["daily_budget"] == "5000"
    assert ad_sets["3002"]["status"] == "PAUSED"
    assert "daily_budget" not in ad_sets["3003"]  # the campaign holds that budget
    campaigns = {c["id"]: c.get("daily_budget") for c in account.get_campaigns(fields=["daily_budget"])}
    assert campaigns == {"2001": None, "2002": "8000"}
    ads = [a.export_all_data() for a in account.get_ads(params={"fields": "adset_id,creative{body,title}"})]
    assert sorted(a["id"] for a in ads) == ["5001", "5002", "5003"]  # the deleted ad is left out
    first = next(a for a in ads if a["id"] == "5001")
    assert first["creative"]["body"] == "Gear up for the trail, offer 1"
    assert first["creative"]["title"] == "Trail boots 1"


def test_lists_page_with_cursors(emulator: MetaEmulator) -> None:
    cursor = AdAccount(emulator.account_id, api=_api(emulator)).get_insights(
        fields=["adset_id", "spend"],
        params={
            "level": "adset",
            "time_increment": 1,
            "limit": 7,
            "time_range": {"since": START.isoformat(), "until": (START + dt.timedelta(days=DAYS - 1)).isoformat()},
        },
    )
    rows = [r.export_all_data() for r in cursor]
    assert len(rows) == 3 * DAYS  # five pages of seven, followed through paging.next / cursors.after
    first = next(r for r in rows if r["adset_id"] == "3001" and r["date_start"] == START.isoformat())
    assert first["spend"] == f"{(1234 + 3001) / 100:.2f}"


def test_insights_report_conversions_as_actions(emulator: MetaEmulator) -> None:
    rows = AdAccount(emulator.account_id, api=_api(emulator)).get_insights(
        fields=["campaign_id", "actions", "action_values", "impressions"],
        params={"level": "campaign", "time_range": {"since": "2026-11-01", "until": "2026-11-10"}},
    )
    by_campaign = {r["campaign_id"]: r.export_all_data() for r in rows}
    assert by_campaign["2002"]["actions"][0]["value"] == repr(float(sum(d % 3 for d in range(DAYS))))
    assert by_campaign["2001"]["impressions"] == str(2 * sum(1000 + 10 * d for d in range(DAYS)))


def test_update_writes_the_sandbox_and_validate_only_does_not(emulator: MetaEmulator) -> None:
    ad_set = AdSet("3002", api=_api(emulator))
    writes = emulator.writes
    ad_set.api_update(params={"daily_budget": 3100, "execution_options": ["validate_only"]})
    assert emulator.writes == writes
    assert AdSet("3002", api=_api(emulator)).api_get(fields=["daily_budget"])["daily_budget"] == "3000"
    ad_set.api_update(params={"daily_budget": 3300})
    assert AdSet("3002", api=_api(emulator)).api_get(fields=["daily_budget"])["daily_budget"] == "3300"
    budget = next(b for b in emulator.sandbox.structure().budgets if b.id == "4002")
    assert budget.daily_amount == 3300


def test_bad_input_gets_a_graph_error_naming_the_field(emulator: MetaEmulator) -> None:
    with pytest.raises(FacebookRequestError) as raised:
        AdSet("3001", api=_api(emulator)).api_update(params={"daily_budget": 50})
    assert raised.value.api_error_code() == 100
    assert raised.value.api_blame_field_specs() == [["daily_budget"]]
    with pytest.raises(FacebookRequestError) as raised:
        AdSet("3003", api=_api(emulator)).api_update(params={"daily_budget": 9000})
    assert "campaign budget optimization" in raised.value.api_error_message()
    unknown_field = _get(emulator, "3001", emulator.access_token, fields="name,colour").json()["error"]
    assert "nonexisting field (colour)" in unknown_field["message"]
    assert unknown_field["error_data"]["blame_field_specs"] == [["colour"]]


def test_token_permission_and_rate_limit_errors(emulator: MetaEmulator) -> None:
    bad = _get(emulator, "3001", "EAAnot-a-token")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == 190
    assert set(bad.json()["error"]) >= {"message", "type", "code", "error_subcode", "fbtrace_id"}
    missing = requests.get(f"{emulator.base_url}/v26.0/3001", timeout=5)
    assert missing.json()["error"]["code"] == 104
    with pytest.raises(FacebookRequestError) as raised:
        AdSet("3001", api=_api(emulator, emulator.read_only_token)).api_update(params={"daily_budget": 6000})
    assert (raised.value.http_status(), raised.value.api_error_code()) == (403, 200)
    assert _get(emulator, "3001", emulator.read_only_token).status_code == 200  # reading is allowed
    emulator.fail_next_with_rate_limit = 1
    limited = _get(emulator, "3001", emulator.access_token)
    assert limited.json()["error"]["code"] == 17
    assert _get(emulator, "3001", emulator.access_token).status_code == 200  # only the next one failed
    foreign = _get(emulator, "act_999", emulator.access_token)
    assert (foreign.json()["error"]["code"], foreign.json()["error"]["error_subcode"]) == (100, 33)


def test_create_creative_and_paused_ad(emulator: MetaEmulator) -> None:
    account = AdAccount(emulator.account_id, api=_api(emulator))
    spec = {
        "page_id": emulator.page_id,
        "link_data": {"message": "New trail text", "name": "New headline", "link": "https://trailhead.example/new"},
    }
    creative = account.create_ad_creative(params={"name": "c", "object_story_spec": spec})
    ad = account.create_ad(
        params={"name": "new", "adset_id": "3001", "status": "PAUSED", "creative": {"creative_id": creative["id"]}}
    )
    stored = next(a for a in emulator.sandbox.structure().ads if a.id == ad["id"])
    assert stored.status is Status.PAUSED and stored.ad_group_id == "3001"
    assert stored.copy_.primary_text == "New trail text"
    with pytest.raises(FacebookRequestError) as raised:
        account.create_ad_creative(params={"object_story_spec": {**spec, "page_id": "42"}})
    assert raised.value.api_blame_field_specs() == [["object_story_spec", "page_id"]]
    with pytest.raises(FacebookRequestError) as raised:
        account.create_ad(params={"adset_id": "999", "status": "PAUSED", "creative": {"creative_id": creative["id"]}})
    assert raised.value.api_blame_field_specs() == [["adset_id"]]


def test_client_settings_name_what_a_client_needs(emulator: MetaEmulator) -> None:
    settings = emulator.client_settings()
    assert settings["META_GRAPH_URL"] == emulator.base_url
    assert settings["META_AD_ACCOUNT_ID"] == emulator.account_id
    assert json.loads(requests.get(f"{emulator.base_url}/nope", timeout=5).text)["error"]["code"] == 2500
