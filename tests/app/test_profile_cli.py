"""`adpilot profile show|infer` and the classify_search_intent tool, on the sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from app.cli import app
from sandbox.themes import CAMPAIGNS, SITE

runner = CliRunner()
FIXTURES = Path(__file__).parents[1] / "ads" / "fixtures"


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_infer_drafts_the_sandbox_profile_from_the_account(home: Path) -> None:
    code, out, _ = run("profile", "infer", "--account", "sandbox:trailhead", "--json")
    assert code == 0
    document = json.loads(out)
    profile = document["profile"]
    product_groups = {g.name.lower() for c in CAMPAIGNS if c.kind == "generic" for g in c.ad_groups}
    assert set(profile["offers"]) == product_groups
    assert profile["brand_terms"][0] == "trailhead" and "trailhead outfitters" in profile["brand_terms"]
    assert not {"trailhead brand", "summit supply"} & set(profile["offers"])
    assert {"summit supply", "ridgeline outdoor", "pine and peak"} <= set(profile["competitors"])
    inferred = {c["name"]: c for c in document["inferred_competitors"]}
    assert "northpeak" in inferred and inferred["northpeak"]["queries"] >= 2  # planted in the queries only
    assert profile["languages"] == ["en"]
    assert profile["landing_pages"]["backpacking tents"] == f"{SITE}/tents/backpacking-tents"
    assert profile["business"].startswith("Trailhead Outfitters: hiking boots, tents")
    assert set(document["evidence"]) >= {"brand_terms", "offers", "languages", "competitors"}


def test_the_inferred_yaml_saves_as_the_accounts_file_and_is_shown_in_force(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run("profile", "infer", "--account", "sandbox:trailhead")
    assert code == 0 and out.startswith("# A draft read from the account sandbox:trailhead")
    accounts = home / "accounts.yaml"
    accounts.write_text(out)
    monkeypatch.setenv("ADPILOT_ACCOUNTS", str(accounts))
    code, out, _ = run("profile", "show", "--account", "sandbox:trailhead", "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown["notice"] is None and (shown["source"], shown["source_path"]) == ("accounts file", str(accounts))
    assert shown["profile"] == yaml.safe_load(accounts.read_text())["sandbox:trailhead"]
    code, out, _ = run("profile", "show", "--account", "sandbox:trailhead")
    assert code == 0 and "brand_terms:\n  - trailhead\n" in out and "not_offered" not in out  # empty fields left out


def test_show_says_plainly_when_there_is_no_profile(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run("import", "search-terms", str(FIXTURES / "google_ui_en.csv"), "--account", "outdoor-export")
    assert code == 0, err
    code, out, _ = run("profile", "show", "--account", "outdoor-export")
    assert code == 0 and "No profile" in out and "profile infer" in out  # an import carries none
    accounts = home / "accounts.yaml"
    accounts.write_text("outdoor-export:\n  monthly_budget_cap: 3000\n")
    monkeypatch.setenv("ADPILOT_ACCOUNTS", str(accounts))
    code, out, _ = run("profile", "show", "--account", "outdoor-export", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["profile"] is None and shown["source"] is None and str(accounts) in shown["notice"]


def test_a_sandbox_account_s_own_profile_is_in_force_until_the_accounts_file_gives_one(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run("profile", "show", "--account", "sandbox:trailhead", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["notice"] is None
    assert (shown["source"], shown["source_path"]) == ("account", str(home / "sandbox.sqlite"))
    assert "summit supply" in shown["profile"]["competitors"] and shown["profile"]["locations"] == ["United States"]
    code, out, _ = run("profile", "show", "--account", "sandbox:trailhead-meta")
    assert code == 0 and "from the account itself" in out and "- northpeak\n" in out

    accounts = home / "accounts.yaml"
    monkeypatch.setenv("ADPILOT_ACCOUNTS", str(accounts))
    accounts.write_text("sandbox:trailhead:\n  monthly_budget_cap: 3000\n")  # a plan, no profile: the account's
    code, out, _ = run("profile", "show", "--account", "sandbox:trailhead", "--json")
    assert json.loads(out)["source"] == "account" and json.loads(out)["profile"] == shown["profile"]
    accounts.write_text("sandbox:trailhead:\n  offers: [tents]\n  monthly_budget_cap: 3000\n")
    code, out, _ = run("profile", "show", "--account", "sandbox:trailhead", "--json")
    overridden = json.loads(out)
    assert (overridden["source"], overridden["source_path"]) == ("accounts file", str(accounts))
    assert overridden["profile"]["offers"] == ["tents"] and overridden["profile"]["competitors"] == []  # taken whole


def test_runs_use_the_profile_in_force_with_the_accounts_file_s_plan(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.session import Session
    from app.settings import load_settings

    accounts = home / "accounts.yaml"
    accounts.write_text("sandbox:trailhead:\n  monthly_budget_cap: 3000\n")
    monkeypatch.setenv("ADPILOT_ACCOUNTS", str(accounts))
    tools = Session(load_settings()).run_services("sandbox:trailhead").tools
    profile = tools.profile()
    assert profile is not None and "northpeak" in profile.competitors
    assert tools.plan is not None and tools.plan.monthly_budget_cap == 3000  # the file's plan, the account's profile
    assert tools.structure().account.monthly_budget_cap == 3000 * 1_000_000


def test_a_malformed_profile_is_one_line_naming_file_account_and_field(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = home / "accounts.yaml"
    accounts.write_text("sandbox:trailhead:\n  locations: Ohio\n")
    monkeypatch.setenv("ADPILOT_ACCOUNTS", str(accounts))
    code, out, err = run("profile", "show", "--account", "sandbox:trailhead")
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert f"{accounts}: sandbox:trailhead: locations" in err


def test_the_intent_tool_counts_queries_and_cost_per_class_and_names_a_missing_profile(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.session import Session
    from app.settings import load_settings

    result = Session(load_settings()).run_tool("sandbox:trailhead", "classify_search_intent", {"top": 3})
    assert result.data["notices"] == []  # the sandbox's own profile
    classes = {c["intent"]: c for c in result.data["classes"]}
    assert {"on_offer", "brand", "competitor", "not_offered", "jobs"} <= set(classes)
    assert classes["jobs"]["queries"] > 0 and classes["jobs"]["cost"] > 0 and len(classes["jobs"]["top"]) == 3
    assert "cascadia" in {c["name"] for c in result.data["competitors"]}  # a rival only the queries name

    code, _, err = run("import", "search-terms", str(FIXTURES / "google_ui_en.csv"), "--account", "outdoor-export")
    assert code == 0, err
    result = Session(load_settings()).run_tool("outdoor-export", "classify_search_intent", {"top": 3})
    assert "no advertiser profile" in result.summary and result.data["notices"]
    classes = {c["intent"]: c for c in result.data["classes"]}
    assert not {"on_offer", "brand", "competitor", "not_offered"} & set(classes)

    accounts = home / "accounts.yaml"
    accounts.write_text(run("profile", "infer", "--account", "sandbox:trailhead")[1])
    monkeypatch.setenv("ADPILOT_ACCOUNTS", str(accounts))
    result = Session(load_settings()).run_tool("sandbox:trailhead", "classify_search_intent")
    classes = {c["intent"]: c for c in result.data["classes"]}
    assert result.data["notices"] == [] and {"on_offer", "brand", "competitor", "jobs"} <= set(classes)
    assert classes["on_offer"]["cost"] > classes["jobs"]["cost"]
    assert "northpeak" in {c["name"] for c in result.data["competitors"]}
    assert "on offer" in result.summary and "USD" in result.summary
