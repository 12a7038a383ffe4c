"""Audits end to end through the real google-ads and facebook-business clients, against the local emulators."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ads.changes import parse_change
from app.session import Session
from app.settings import load_settings
from tests.cli_runner import run


@pytest.mark.parametrize("platform", ["google_ads", "meta"])
def test_audit_and_approval_through_the_platform_client(
    home: Path, monkeypatch: pytest.MonkeyPatch, platform: str
) -> None:
    with Session(load_settings()).emulators(host="127.0.0.1") as served:
        for name, value in served[platform]["environment"].items():
            monkeypatch.setenv(name, value)
        account = served[platform]["account"]
        code, out, err = run("audit", "--account", account, "--json")
        assert code == 0, err
        document = json.loads(out)
        assert document["account"] == account and document["proposals"]

        client = Session(load_settings()).open_account(account)
        changes = {p["id"]: parse_change(p["change"]) for p in document["proposals"]}
        for change_id in document["applied"]:  # read back through the platform client itself
            assert client.read_back(changes[change_id]).present
        for change_id in document["pending"]:
            assert not client.read_back(changes[change_id]).present

        pending = document["pending"][0]
        code, out, err = run("approvals", "approve", pending, "--json")
        assert code == 0, err
        assert json.loads(out)["result"]["status"] == "applied", out
        assert client.read_back(changes[pending]).present


def test_sandbox_serve_prints_what_a_client_needs(home: Path) -> None:
    with Session(load_settings()).emulators(host="127.0.0.1") as served:
        assert served["google_ads"]["endpoint"].startswith("127.0.0.1:")
        assert (
            served["google_ads"]["account"]
            == "google-ads:" + served["google_ads"]["environment"]["GOOGLE_ADS_CUSTOMER_ID"]
        )
        assert served["meta"]["base_url"].startswith("http://127.0.0.1:")
        assert served["meta"]["account"].startswith("meta:act_")


def test_an_accounts_file_gives_a_google_audit_its_monthly_targets(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Google Ads stores no monthly targets; the marketer's accounts file does, in currency.
    sandbox = Session(load_settings()).open_account("sandbox:trailhead").structure()
    with Session(load_settings()).emulators(host="127.0.0.1") as served:
        for name, value in served["google_ads"]["environment"].items():
            monkeypatch.setenv(name, value)
        account = served["google_ads"]["account"]
        targets = {c.name: c.monthly_target / 1_000_000 for c in sandbox.campaigns if c.monthly_target}
        plans = home / "accounts.yaml"
        plans.write_text(json.dumps({account: {"brand_terms": ["trailhead"], "campaign_targets": targets}}))
        code, out, _ = run("audit", "--account", account, "--json")
        without = {p["kind"] for p in json.loads(out)["proposals"]}
        monkeypatch.setenv("ADPILOT_ACCOUNTS", str(plans))
        code, out, err = run("audit", "--account", account, "--json")
        assert code == 0, err
        kinds = {p["kind"] for p in json.loads(out)["proposals"]}
    assert "set_budget" not in without and "set_budget" in kinds
