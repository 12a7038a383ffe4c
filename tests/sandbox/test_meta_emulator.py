"""The Meta Graph emulator, driven by the real facebook-business SDK (and plain HTTP for error bodies)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest
import requests
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adset import AdSet
from facebook_business.api import FacebookAdsApi
from facebook_business.exceptions import FacebookRequestError
from facebook_business.session import FacebookSession

from ads.entities import Status
from sandbox.meta_emulator import MetaEmulator
from tests.meta_sample import DAYS, START

pytestmark = pytest.mark.usefixtures("fresh_meta_account")


def _api(meta_emulator: MetaEmulator, token: str | None = None) -> FacebookAdsApi:
    session = FacebookSession(meta_emulator.app_id, meta_emulator.app_secret, token or meta_emulator.access_token)
    session.GRAPH = meta_emulator.base_url
    return FacebookAdsApi(session)


def _get(meta_emulator: MetaEmulator, path: str, token: str, **params: str) -> requests.Response:
    proof = hmac.new(meta_emulator.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
    return requests.get(
        f"{meta_emulator.base_url}/v26.0/{path}",
        timeout=5,
        params={"access_token": token, "appsecret_proof": proof, **params},
    )


def test_account_node_and_edges_read_through_the_sdk(meta_emulator: MetaEmulator) -> None:
    account = AdAccount(meta_emulator.account_id, api=_api(meta_emulator))
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


def test_lists_page_with_cursors(meta_emulator: MetaEmulator) -> None:
    cursor = AdAccount(meta_emulator.account_id, api=_api(meta_emulator)).get_insights(
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


def test_insights_report_conversions_as_actions(meta_emulator: MetaEmulator) -> None:
    rows = AdAccount(meta_emulator.account_id, api=_api(meta_emulator)).get_insights(
        fields=["campaign_id", "actions", "action_values", "impressions"],
        params={"level": "campaign", "time_range": {"since": "2026-11-01", "until": "2026-11-10"}},
    )
    by_campaign = {r["campaign_id"]: r.export_all_data() for r in rows}
    assert by_campaign["2002"]["actions"][0]["value"] == repr(float(sum(d % 3 for d in range(DAYS))))
    assert by_campaign["2001"]["impressions"] == str(2 * sum(1000 + 10 * d for d in range(DAYS)))


def test_update_writes_the_sandbox_and_validate_only_does_not(meta_emulator: MetaEmulator) -> None:
    ad_set = AdSet("3002", api=_api(meta_emulator))
    writes = meta_emulator.writes
    ad_set.api_update(params={"daily_budget": 3100, "execution_options": ["validate_only"]})
    assert meta_emulator.writes == writes
    assert AdSet("3002", api=_api(meta_emulator)).api_get(fields=["daily_budget"])["daily_budget"] == "3000"
    ad_set.api_update(params={"daily_budget": 3300})
    assert AdSet("3002", api=_api(meta_emulator)).api_get(fields=["daily_budget"])["daily_budget"] == "3300"
    budget = next(b for b in meta_emulator.sandbox.structure().budgets if b.id == "4002")
    assert budget.daily_amount == 3300


def test_bad_input_gets_a_graph_error_naming_the_field(meta_emulator: MetaEmulator) -> None:
    with pytest.raises(FacebookRequestError) as raised:
        AdSet("3001", api=_api(meta_emulator)).api_update(params={"daily_budget": 50})
    assert raised.value.api_error_code() == 100
    assert raised.value.api_blame_field_specs() == [["daily_budget"]]
    with pytest.raises(FacebookRequestError) as raised:
        AdSet("3003", api=_api(meta_emulator)).api_update(params={"daily_budget": 9000})
    assert "campaign budget optimization" in raised.value.api_error_message()
    unknown_field = _get(meta_emulator, "3001", meta_emulator.access_token, fields="name,colour").json()["error"]
    assert "nonexisting field (colour)" in unknown_field["message"]
    assert unknown_field["error_data"]["blame_field_specs"] == [["colour"]]


def test_token_permission_and_rate_limit_errors(meta_emulator: MetaEmulator) -> None:
    bad = _get(meta_emulator, "3001", "EAAnot-a-token")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == 190
    assert set(bad.json()["error"]) >= {"message", "type", "code", "error_subcode", "fbtrace_id"}
    missing = requests.get(f"{meta_emulator.base_url}/v26.0/3001", timeout=5)
    assert missing.json()["error"]["code"] == 104
    with pytest.raises(FacebookRequestError) as raised:
        AdSet("3001", api=_api(meta_emulator, meta_emulator.read_only_token)).api_update(params={"daily_budget": 6000})
    assert (raised.value.http_status(), raised.value.api_error_code()) == (403, 200)
    assert _get(meta_emulator, "3001", meta_emulator.read_only_token).status_code == 200  # reading is allowed
    meta_emulator.fail_next_with_rate_limit = 1
    limited = _get(meta_emulator, "3001", meta_emulator.access_token)
    assert limited.json()["error"]["code"] == 17
    assert _get(meta_emulator, "3001", meta_emulator.access_token).status_code == 200  # only the next one failed
    foreign = _get(meta_emulator, "act_999", meta_emulator.access_token)
    assert (foreign.json()["error"]["code"], foreign.json()["error"]["error_subcode"]) == (100, 33)


def test_create_creative_and_paused_ad(meta_emulator: MetaEmulator) -> None:
    account = AdAccount(meta_emulator.account_id, api=_api(meta_emulator))
    spec = {
        "page_id": meta_emulator.page_id,
        "link_data": {"message": "New trail text", "name": "New headline", "link": "https://trailhead.example/new"},
    }
    creative = account.create_ad_creative(params={"name": "c", "object_story_spec": spec})
    ad = account.create_ad(
        params={"name": "new", "adset_id": "3001", "status": "PAUSED", "creative": {"creative_id": creative["id"]}}
    )
    stored = next(a for a in meta_emulator.sandbox.structure().ads if a.id == ad["id"])
    assert stored.status is Status.PAUSED and stored.ad_group_id == "3001"
    assert stored.copy_.primary_text == "New trail text"
    with pytest.raises(FacebookRequestError) as raised:
        account.create_ad_creative(params={"object_story_spec": {**spec, "page_id": "42"}})
    assert raised.value.api_blame_field_specs() == [["object_story_spec", "page_id"]]
    with pytest.raises(FacebookRequestError) as raised:
        account.create_ad(params={"adset_id": "999", "status": "PAUSED", "creative": {"creative_id": creative["id"]}})
    assert raised.value.api_blame_field_specs() == [["adset_id"]]


def test_client_settings_name_what_a_client_needs(meta_emulator: MetaEmulator) -> None:
    settings = meta_emulator.client_settings()
    assert settings["META_GRAPH_URL"] == meta_emulator.base_url
    assert settings["META_AD_ACCOUNT_ID"] == meta_emulator.account_id
    assert json.loads(requests.get(f"{meta_emulator.base_url}/nope", timeout=5).text)["error"]["code"] == 2500
