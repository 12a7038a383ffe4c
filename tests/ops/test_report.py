"""The audit report: its figures (KPIs, summary, pacing rows, numbers as people read them), a real audit's page,
and that page rendered in Chromium."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ads.entities import Account, Platform
from ops.report import count_text, curves_chart, executive_summary, kpi_table, pacing_chart, pacing_rows

ACCOUNT = Account(name="sandbox:x", id="1", display_name="X", platform=Platform.GOOGLE_ADS, currency="EUR")
TODAY = dt.date(2026, 12, 1)
CHROMIUM = Path("/usr/bin/chromium")


def daily(start: dt.date, days: int, **per_day: float) -> pd.DataFrame:
    dates = pd.date_range(start, periods=days, freq="D")
    return pd.DataFrame({"date": dates, "campaign_id": "c", "ad_group_id": "g", "impressions": 100, **per_day})


def test_counts_read_as_people_write_them() -> None:
    assert [count_text(v) for v in (3599.0, 1234567, 12.5, 0.0, None)] == ["3,599", "1,234,567", "12.5", "0", "–"]


def test_the_kpis_compare_the_last_30_complete_days_with_the_30_before() -> None:
    previous = daily(dt.date(2026, 10, 2), 30, cost=10_000_000, clicks=10, conversions=1.0, conversion_value=0.0)
    current = daily(dt.date(2026, 11, 1), 30, cost=12_000_000, clicks=9, conversions=1.5, conversion_value=0.0)
    today_partial = daily(TODAY, 1, cost=99_000_000, clicks=99, conversions=9.0, conversion_value=0.0)
    table = kpi_table(pd.concat([previous, current, today_partial]), TODAY, ACCOUNT)
    assert table is not None
    assert table.current == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert table.previous == (dt.date(2026, 10, 2), dt.date(2026, 10, 31))
    rows = {k.name: k for k in table.rows}
    assert (rows["Spend"].current, rows["Spend"].previous) == ("360.00 EUR", "300.00 EUR")
    assert rows["Spend"].change == pytest.approx(0.2) and rows["Spend"].good is None
    assert (rows["Clicks"].current, rows["Clicks"].good) == ("270", False)
    assert (rows["Conversions"].current, rows["Conversions"].previous) == ("45", "30")
    # No conversion values: cost per conversion, where down is good (8.00 from 10.00).
    assert (rows["CPA"].current, rows["CPA"].previous, rows["CPA"].good) == ("8.00 EUR", "10.00 EUR", True)
    assert "ROAS" not in rows


def test_roas_where_conversions_carry_a_value_and_none_without_metrics() -> None:
    metrics = daily(dt.date(2026, 10, 2), 60, cost=10_000_000, clicks=10, conversions=1.0, conversion_value=40.0)
    table = kpi_table(metrics, TODAY, ACCOUNT)
    assert table is not None
    roas = {k.name: k for k in table.rows}["ROAS"]
    assert (roas.current, roas.change) == ("4.00×", 0.0)  # 40 EUR of value per 10 EUR spent
    assert kpi_table(metrics.iloc[0:0], TODAY, ACCOUNT) is None


def row(kind: str, status: str, **change: Any) -> dict[str, Any]:
    return {
        "id": f"{kind[:4]}-{status}",
        "kind": kind,
        "status": status,
        "summary": f"{kind} {status}",
        "change": change,
    }


def test_the_summary_says_what_changed_what_waits_and_the_largest_sum_at_stake() -> None:
    negatives = {"evidence": {"metrics": {"cost": 900_000_000, "conversions": 0.0}, "period_start": "2026-09-02",
                              "period_end": "2026-11-30"}}  # fmt: skip
    rows = [
        row("add_negative_keywords", "applied", **negatives),
        row("add_negative_keywords", "pending", **negatives),
        row("create_ad_group", "pending"),
        row("create_ad_group", "pending"),
        row("set_budget", "blocked"),
    ]
    pacing = {"report": {"budgets": [
        {"budget_id": "b1", "budget_name": "Tents", "monthly_target": 1_000_000_000,
         "projected_month_spend": 1_400_000_000, "status": "overspending"},
    ]}}  # fmt: skip
    summary = executive_summary(rows, {"pacing": pacing}, ACCOUNT.money)
    assert summary.changed == "Applied 1: 1 negative keyword change."
    assert (
        summary.waits
        == "3 wait for your approval: 2 new ad groups, 1 negative keyword change. 1 blocked by the policy."
    )
    # 400 EUR a month over target outweighs 900 EUR over 90 days (300 EUR a month) of non-converting spend.
    assert summary.matters == "Tents is heading for 1,400.00 EUR this month against a 1,000.00 EUR target (+40%)."
    # A budget whose fix waits names it; one whose fix was applied is taken care of.
    fix = row("set_budget", "pending", budget_id="b1")
    matters = executive_summary([*rows, fix], {"pacing": pacing}, ACCOUNT.money).matters
    assert matters.endswith("(+40%). Approving set_-pending brings it back towards the target.")
    applied = executive_summary(
        [*rows, row("set_budget", "applied", budget_id="b1")], {"pacing": pacing}, ACCOUNT.money
    )
    assert applied.matters.startswith("About 300.00 EUR a month")
    pacing["report"]["budgets"][0]["projected_month_spend"] = 1_200_000_000
    matters = executive_summary(rows, {"pacing": pacing}, ACCOUNT.money).matters
    assert matters.startswith(
        "About 300.00 EUR a month goes to search terms that never converted; approving add_-pending"
    )
    quiet = executive_summary([], {}, ACCOUNT.money)
    assert quiet.lines()[:2] == ["Nothing was applied.", "Nothing waits for approval."]
    assert quiet.matters.startswith("Nothing stands out")


def test_pacing_rows_show_money_and_the_gap_to_target() -> None:
    budget = {
        **{"budget_name": "Tents budget", "level": "campaign", "daily_amount": 150_000_000, "status": "overspending"},
        **{"month_to_date_spend": 0, "run_rate": 160_000_000, "projected_month_spend": 4_960_000_000},
        **{"monthly_target": 4_000_000_000, "recommended_daily_amount": 129_000_000},
    }
    [shown] = pacing_rows({"budgets": [budget]}, ACCOUNT.money)
    assert (shown["daily"], shown["projected"], shown["target"]) == ("150.00 EUR", "4,960.00 EUR", "4,000.00 EUR")
    assert shown["vs_target"] == pytest.approx(0.24) and shown["recommended"] == "129.00 EUR"


def test_the_chart_on_the_first_draws_last_month_and_the_plan() -> None:
    index = pd.RangeIndex(1, 32)
    series = pd.DataFrame(
        {
            "actual": pd.Series([pd.NA] * 31, index=index, dtype="Float64"),
            "target": pd.Series([d * 10.0 for d in index], index=index, dtype="Float64"),
            "last_month": pd.Series([d * 11.0 if d <= 30 else pd.NA for d in index], index=index, dtype="Float64"),
            "projected": pd.Series([d * 10.5 for d in index], index=index, dtype="Float64"),
        }
    )
    chart = pacing_chart(series)
    assert chart["actual"] == ""
    assert len(chart["last_month"].split()) == 30 and len(chart["target"].split()) == 31
    assert chart["ticks"][-1]["label"] == "330" and chart["days"][-1]["label"] == 31


def test_the_curves_chart_puts_each_budget_on_its_curve_at_its_daily_amount() -> None:
    def curve(name: str, vmax: float, half: float, daily: int, marginal: int | None) -> dict[str, Any]:
        points = [{"spend": s * 10**6, "conversions": vmax * s / (s + half)} for s in range(0, 201, 10)]
        return {
            "budget_name": name,
            "daily_amount": daily * 10**6,
            "marginal_cpa": marginal,
            "curve": {"vmax": vmax, "half_saturation": half * 10**6, "r_squared": 0.5, "prior_weight": 0.2},
            "points": points,
        }

    chart = curves_chart(
        {"curves": [curve("A", 10.0, 50.0, 100, 15 * 10**6), curve("B", 4.0, 100.0, 50, None)]}, 10**6, ACCOUNT.money
    )
    assert chart is not None and [line["name"] for line in chart["lines"]] == ["A", "B"]
    assert chart["x_ticks"][-1]["label"] == "200" and chart["y_ticks"][-1]["label"] == "8.0"  # A's top: 10*200/250
    a, b = chart["lines"]
    assert a["marginal"] == ACCOUNT.money(15 * 10**6) and b["marginal"] == "no conversions"
    # The dot is on the line: A at 100 a day is the curve's 11th point.
    assert f"{a['dot_x']},{a['dot_y']}" == a["points"].split()[10]
    assert curves_chart({"curves": []}, 10**6, ACCOUNT.money) is None


@pytest.fixture(scope="module")
def audited_report(tmp_path_factory: pytest.TempPathFactory, sandbox_template: Path) -> Path:
    """A real audit of the sandbox, on a day whose month has data (the fixture's sandbox ends on 2026-11-20)."""
    from app.session import Session
    from app.settings import Settings

    home = tmp_path_factory.mktemp("report-home")
    shutil.copy(sandbox_template, home / "sandbox.sqlite")
    settings = Settings.model_validate({"ADPILOT_HOME": str(home), "ADPILOT_TODAY": "2026-11-20"})
    outcome = Session(settings).audit("sandbox:trailhead")
    return Path(outcome.values["report"]["html"])


def test_a_real_audits_page_has_its_sections_and_no_raw_numbers(audited_report: Path) -> None:
    html = audited_report.read_text(encoding="utf-8")
    for section in ('id="summary"', 'id="kpis"', 'id="proposals"', 'id="pacing"', 'id="themes"', "@media print"):
        assert section in html, section
    assert "What matters most" in html and "Headlines" in html and "<svg" in html
    # each asset of proposed copy names the brand-kit chunks it rests on, or says it is a call to action
    assert re.search(r'class="sources">— from [^<]+ §\d+', html) and "— call to action" in html
    cells = re.findall(r'<td class="num[^"]*">([^<]*)</td>', html)
    assert cells and not [c for c in cells if re.fullmatch(r"\d{4,}(\.\d+)?|\d+\.0", c.strip())], cells[:20]
    themes = html[html.index('id="themes"') : html.index('id="creatives"')]
    costs = [float(c.replace(",", "")) for c in re.findall(r'<td class="num">([\d,]+\.\d\d) USD</td>', themes)]
    assert costs == sorted(costs, reverse=True) and costs  # themes, costliest first
    assert 'id="themes-cut"' in html  # the sandbox has more themes than the report lists


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)")
def test_the_report_renders_in_chromium_with_its_key_sections(audited_report: Path, tmp_path: Path) -> None:
    playwright = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
    )
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(audited_report.as_uri())
            for heading in ("Key figures", "Proposals", "Budget pacing", "Search-term themes", "Policy"):
                assert page.get_by_role("heading", name=heading).is_visible(), heading
            summary = page.locator("#summary")
            assert summary.is_visible() and summary.locator("p").count() == 3
            assert page.locator("#kpis + table tr").count() == 5  # header and four KPIs
            chart = page.locator("svg[role=img]").first.bounding_box()
            assert chart is not None and chart["width"] > 500 and chart["height"] > 150
            assert page.locator("svg polyline").count() >= 3
            curves = page.get_by_role("img", name="Response curves: conversions a day against daily spend, per budget")
            box = curves.bounding_box()
            assert box is not None and box["width"] > 500 and box["height"] > 150
            assert curves.locator("polyline").count() == curves.locator("circle").count() >= 2
            for legend in page.locator("p.legend span").all():  # every legend entry fits the page
                entry = legend.bounding_box()
                assert entry is not None and entry["x"] + entry["width"] <= 1200, legend.text_content()
            for table in ("#policy-counts", "#policy-rates"):  # the Policy section's tables fit the page
                box = page.locator(table).bounding_box()
                assert box is not None and box["x"] + box["width"] <= 1200, table
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 20_000
            page.emulate_media(media="print")
            assert page.locator("details table").first.is_visible()  # folded evidence is printed open
        finally:
            browser.close()
