"""Account plans: brand terms, monthly targets and a cap that the platforms do not store."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ads.account_plan import AccountPlan, load_account_plans
from ads.entities import Account, AccountStructure, Campaign, Platform
from ads.errors import ConfigurationError


def structure(platform: Platform) -> AccountStructure:
    account = Account(name="x", id="1", display_name="X", platform=platform, brand_terms=("old",))
    return AccountStructure(
        account=account,
        campaigns=(
            Campaign(id="11", name="Search | Tents", channel="search"),
            Campaign(id="12", name="Search | Boots", channel="search", monthly_target=5),
        ),
    )


def test_plan_fills_targets_cap_and_brand_in_the_accounts_unit() -> None:
    plan = AccountPlan(
        brand_terms=("trailhead",), monthly_budget_cap="30000", campaign_targets={"Search | Tents": "4800.50"}
    )
    google = plan.apply_to(structure(Platform.GOOGLE_ADS))
    assert google.campaigns[0].monthly_target == 4_800_500_000  # micros
    assert google.campaigns[1].monthly_target == 5  # the plan is silent: kept
    assert google.account.monthly_budget_cap == 30_000_000_000 and google.account.brand_terms == ("trailhead",)
    meta = AccountPlan(campaign_targets={"11": 100}).apply_to(structure(Platform.META))
    assert meta.campaigns[0].monthly_target == 10_000 and meta.account.brand_terms == ("old",)  # minor units; by id


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("google-ads:1:\n  campaign_targets: {a: lots}\n", "google-ads:1: campaign_targets.a"),
        ("google-ads:1:\n  budgets: 3\n", "google-ads:1: budgets"),
        ("google-ads:1: [unclosed\n", "line 2"),
        ("- a list\n", "expected account names"),
    ],
)
def test_a_bad_accounts_file_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=message) as error:
        load_account_plans(path)
    assert str(error.value).startswith(str(path))


def test_the_profile_fields_load_typed_and_apart_from_the_plan(tmp_path: Path) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text(
        "acme-roofing:\n"
        '  business: "Roofing contractor"\n'
        "  offers: [roof replacement, ' roof repair ']\n"
        "  not_offered: [skylights]\n"
        "  locations: [Ohio, Indiana]\n"
        "  languages: [EN]\n"
        "  brand_terms: [acme roofing]\n"
        "  competitors: [bestroof]\n"
        '  landing_pages: {roof repair: "https://acme.example/repair"}\n'
        "  monthly_budget_cap: 9000\n"
    )
    plan = load_account_plans(path)["acme-roofing"]
    profile = plan.profile()
    assert profile.offers == ("roof replacement", "roof repair") and profile.languages == ("en",)
    assert profile.landing_pages == {"roof repair": "https://acme.example/repair"}
    assert "monthly_budget_cap" not in profile.model_dump() and not profile.is_empty
    assert AccountPlan(monthly_budget_cap=5).profile().is_empty


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("acme:\n  languages: [english]\n", "acme: languages.0: String should match pattern"),
        ("acme:\n  offers: roof repair\n", "acme: offers: Input should be a valid tuple"),
        ("acme:\n  landing_pages: {repair: acme.example}\n", "acme: landing_pages.repair: String should match"),
        ("acme:\n  offers: ['']\n", "acme: offers.0: String should have at least 1 character"),
    ],
)
def test_a_malformed_profile_names_file_account_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=message) as error:
        load_account_plans(path)
    assert str(error.value).startswith(f"{path}: ") and "\n" not in str(error.value)


def test_schedule_time_zone_and_notify_targets_load_typed(tmp_path: Path) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text(
        "acme:\n"
        '  schedule: " 0 6 * * 1-5 "\n'
        "  schedule_time_zone: Europe/Berlin\n"
        "  notify: [ppc@acme.example, 'https://hooks.slack.com/services/T0/B0/X']\n"
    )
    plan = load_account_plans(path)["acme"]
    assert plan.schedule == "0 6 * * 1-5" and plan.schedule_time_zone == "Europe/Berlin"
    assert plan.notify_emails == ("ppc@acme.example",)
    assert plan.notify_webhooks == ("https://hooks.slack.com/services/T0/B0/X",)
    assert AccountPlan().schedule is None and AccountPlan().notify == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("acme:\n  schedule: '0 6 * *'\n", "acme: schedule: Value error, Wrong number of fields"),
        ("acme:\n  schedule: '0 6 * * 8'\n", "acme: schedule: Value error"),
        ("acme:\n  schedule: '0 6 * * *'\n  schedule_time_zone: Mars/Olympus\n", "unknown time zone 'Mars/Olympus'"),
        ("acme:\n  notify: [ppc at acme]\n", "acme: notify.0: Value error, 'ppc at acme' is neither an email"),
        ("acme:\n  notify: ['ftp://x.example/hook']\n", "acme: notify.0: Value error"),
    ],
)
def test_a_bad_schedule_or_notify_target_names_the_account_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        load_account_plans(path)
