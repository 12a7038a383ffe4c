"""The account archetypes: deterministic, importable through the CLI, fully labelled, in the formats they claim."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from ads.account_plan import load_account_plans
from ads.search_term_reports import COLUMN_ALIASES, read_search_term_report
from sandbox.archetypes import ARCHETYPES, Archetype, generate_archetype
from tests.cli_runner import run
from tools.query_intent import Intent

TODAY = dt.date(2026, 12, 1)
ROWS = {"lead-gen": 1500, "null": 1500, "local-no-conversions": 800, "pmax": 800, "ecommerce": 3000}


def make(name: str, tmp_path: Path, seed: int = 7) -> Archetype:
    return generate_archetype(name, seed=seed, rows=ROWS[name], today=TODAY, work_dir=tmp_path)


@pytest.mark.parametrize("name", ["lead-gen", "local-no-conversions", "pmax", "null"])
def test_the_same_seed_writes_the_same_files_and_another_seed_other_ones(name: str, tmp_path: Path) -> None:
    first, again, other = make(name, tmp_path), make(name, tmp_path), make(name, tmp_path, seed=101)
    assert first.export == again.export
    pd.testing.assert_frame_equal(first.labels, again.labels)
    assert first.export != other.export


@pytest.mark.parametrize("name", ARCHETYPES)
def test_labels_cover_every_distinct_query_with_a_known_intent(name: str, tmp_path: Path) -> None:
    archetype = make(name, tmp_path)
    paths = archetype.write(tmp_path / name)
    report = read_search_term_report(paths["export"])
    labels = pd.read_csv(paths["labels"], keep_default_na=False)
    assert set(report.frame["search_term"]) == set(labels["search_term"])
    assert labels["search_term"].is_unique
    assert set(labels["intent"]) <= {str(intent) for intent in Intent}
    assert report.period is not None and report.period.end <= TODAY
    assert archetype.account in load_account_plans(paths["profile"])


@pytest.mark.parametrize("name", ["lead-gen", "local-no-conversions", "pmax"])
def test_the_cli_writes_an_archetype_that_imports_through_the_cli(
    name: str, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run("sandbox", "archetype", name, "--out", str(tmp_path / "out"), "--rows", "400", "--json")
    assert code == 0, err
    written = json.loads(out)
    assert {Path(written[key]).name for key in ("export", "profile", "labels")} >= {"profile.yaml", "labels.csv"}
    monkeypatch.setenv("ADPILOT_ACCOUNTS", written["profile"])
    code, out, err = run("import", "search-terms", written["export"], "--account", written["account"], "--json")
    assert code == 0, err
    imported = json.loads(out)
    labels = pd.read_csv(written["labels"], keep_default_na=False)
    assert imported["rows"] >= len(labels) and imported["skipped"] == []
    today = dt.date.fromisoformat(os.environ["ADPILOT_TODAY"])
    start, end = today - dt.timedelta(days=30), today - dt.timedelta(days=1)
    assert imported["period"] == {"start": start.isoformat(), "end": end.isoformat()}  # the file's own 30 days
    code, out, err = run("search-terms", "negatives", "--account", written["account"], "--json")
    assert code == 0, err
    assert json.loads(out)["account"] == written["account"]


def test_an_unknown_archetype_is_one_line_and_exit_1(home: Path, tmp_path: Path) -> None:
    code, _, err = run("sandbox", "archetype", "roofing", "--out", str(tmp_path / "out"))
    assert code == 1
    assert "unknown archetype 'roofing'" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_the_local_export_has_no_conversions_column(tmp_path: Path) -> None:
    paths = make("local-no-conversions", tmp_path).write(tmp_path / "local")
    header = paths["export"].read_text(encoding="utf-8").splitlines()[1].lower().split(",")
    conversion_names = {a for k in ("conversions", "conversion_value") for n in COLUMN_ALIASES[k].values() for a in n}
    assert not conversion_names & set(header)
    frame = read_search_term_report(paths["export"]).frame
    assert frame["conversions"].sum() == 0
    assert frame["campaign_name"].nunique() == 6  # one campaign per served city


def test_the_local_labels_name_the_city_a_query_belongs_to_and_some_run_in_another_citys_campaign(
    tmp_path: Path,
) -> None:
    archetype = make("local-no-conversions", tmp_path)
    frame = read_search_term_report(archetype.write(tmp_path / "local")["export"]).frame
    belongs = frame["search_term"].map(archetype.labels.set_index("search_term")["belongs_to"])
    named = belongs != ""
    served = [campaign.lower().endswith(city) for campaign, city in zip(frame["campaign_name"], belongs, strict=True)]
    elsewhere = named & ~pd.Series(served, index=frame.index)
    assert named.sum() > 50 and 0 < elsewhere.sum() < named.sum()
    assert not archetype.labels.loc[archetype.labels["belongs_to"] != "", "waste"].any()


def test_the_pmax_export_has_no_campaign_or_ad_group_columns(tmp_path: Path) -> None:
    archetype = make("pmax", tmp_path)
    raw = archetype.export
    assert raw.startswith(b"\xff\xfe")  # the UI's Excel CSV: UTF-16 LE with a BOM, tab-separated
    header = raw.decode("utf-16").splitlines()[2].split("\t")
    assert "Campaign" not in header and "Ad group" not in header
    report = read_search_term_report(archetype.write(tmp_path / "pmax")["export"])
    assert (report.frame["campaign_name"] == "").all() and (report.frame["ad_group_name"] == "").all()
    converting = report.frame.loc[report.frame["conversions"] > 0, "search_term"]
    assert converting.str.contains("northpeak").any()  # the brand word converts
    assert converting.str.contains("kestrel|vireo").any()  # and so do the new product lines


def test_lead_gen_is_high_cpa_with_thin_waste_and_fractional_conversions(tmp_path: Path) -> None:
    archetype = generate_archetype("lead-gen", seed=7, rows=6000, today=TODAY, work_dir=tmp_path)
    frame = read_search_term_report(archetype.write(tmp_path / "lg")["export"]).frame
    frame = frame.join(archetype.labels.set_index("search_term"), on="search_term")
    cost = frame["cost"].sum() / 1e6
    assert 0.04 < frame["conversions"].sum() / frame["clicks"].sum() < 0.065
    assert 180 < cost / frame["conversions"].sum() < 280
    waste = frame[frame["waste"]]
    assert waste["conversions"].sum() == 0
    assert 0.04 < waste["cost"].sum() / 1e6 / cost < 0.15
    clicked = waste[waste["clicks"] > 0]
    assert (clicked["clicks"] <= 3).mean() > 0.8  # waste is spread thin
    competitors = frame.loc[frame["intent"] == "competitor", "search_term"].str.split().str[0].nunique()
    assert competitors >= 20
    assert ((frame["conversions"] % 1) > 0).any()  # data-driven attribution
    assert (frame["intent"] == "other_language").any()
    free_estimates = frame[frame["theme"] == "free estimate"]
    assert not free_estimates["waste"].any() and free_estimates["conversions"].sum() > 0


def test_null_accounts_convert_at_one_uniform_rate(tmp_path: Path) -> None:
    archetype = generate_archetype("null", seed=3, rows=6000, today=TODAY, work_dir=tmp_path)
    frame = read_search_term_report(archetype.write(tmp_path / "null")["export"]).frame
    frame = frame.join(archetype.labels.set_index("search_term"), on="search_term")
    assert (frame["conversions"] % 1 == 0).all()
    by_waste = frame.groupby("waste")[["clicks", "conversions"]].sum()
    table = [[row.conversions, row.clicks - row.conversions] for row in by_waste.itertuples()]
    assert chi2_contingency(table).pvalue > 0.001  # waste and the rest convert alike
    assert 0.04 < frame["conversions"].sum() / frame["clicks"].sum() < 0.06
