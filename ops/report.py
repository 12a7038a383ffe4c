"""The audit report: one self-contained HTML page a marketer can forward (inline SVG chart, print stylesheet),
and its JSON twin.

The page leads with three lines (what changed, what waits, what matters most), then the KPIs against the
previous period, pacing per budget with a chart that reads on the 1st too (last month's curve and this
month's plan) and each budget's response curve, the proposals with their copy, the search-term themes by
cost, and the policy: what the gate decided and what became of it, by rule and week, with drift alerts
(ops.policy_metrics).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, ConfigDict

from ads.changes import parse_change
from ads.entities import UNITS_PER_CURRENCY, Account
from ads.statuses import APPLIED_STATUSES
from ops.policy_metrics import TRAILING_WEEKS, PolicyMetrics
from ops.proposal_rows import proposal_rows
from policies.screening import mask_sensitive

# The days the KPI table compares: the last 30 complete days against the 30 before them.
KPI_DAYS = 30
# Themes shown in the report, costliest first; the note under the table says how many more there are.
MAX_THEMES = 25
# ISO weeks of policy metrics the report shows (the drift test looks back as far).
POLICY_WEEKS = TRAILING_WEEKS + 1
KIND_LABELS = {
    "add_negative_keywords": "negative keyword change",
    "create_ad_group": "new ad group",
    "add_creative_variants": "ad variant",
    "set_budget": "budget change",
    "remove_negative_keywords": "negative keyword removal",
    "remove_shared_negative_list": "shared negative list removal",
    "pause_entity": "pause",
    "reallocate_budget": "budget reallocation",
}


def count_text(value: float | None) -> str:
    """A count as people read it: thousands separators, no '.0' on whole numbers, one decimal otherwise."""
    if value is None or pd.isna(value):
        return "–"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _templates_env() -> Environment:
    env = Environment(loader=PackageLoader("ops", "templates"), autoescape=select_autoescape(["html"]))
    env.filters["count"] = count_text
    env.filters["percent"] = lambda v: "–" if v is None else f"{v:+.0%}"
    env.filters["share"] = lambda v: "–" if v is None else f"{v:.0%}"
    env.filters["hours"] = lambda v: "–" if v is None else f"{v:,.1f} h"
    return env


_templates = _templates_env()


class Kpi(BaseModel):
    """One line of the KPI table: both periods' values as text, and the relative change."""

    model_config = ConfigDict(frozen=True)

    name: str
    current: str
    previous: str
    change: float | None
    # Whether the change is good news: up for clicks, conversions and ROAS, down for CPA; None for spend.
    good: bool | None


class KpiTable(BaseModel):
    model_config = ConfigDict(frozen=True)

    current: tuple[dt.date, dt.date]
    previous: tuple[dt.date, dt.date]
    rows: tuple[Kpi, ...]


def kpi_table(metrics: pd.DataFrame, today: dt.date, account: Account) -> KpiTable | None:
    """Spend, clicks, conversions and CPA (ROAS where conversions carry a value) for the last KPI_DAYS complete
    days against the KPI_DAYS before them. None when the account has no daily metrics in either period."""
    end = today - dt.timedelta(days=1)
    start = end - dt.timedelta(days=KPI_DAYS - 1)
    previous_end = start - dt.timedelta(days=1)
    previous_start = previous_end - dt.timedelta(days=KPI_DAYS - 1)
    if metrics.empty:
        return None
    money, unit = account.money, UNITS_PER_CURRENCY[account.money_unit]
    dates = pd.to_datetime(metrics["date"]).dt.date
    columns = ["cost", "clicks", "conversions", "conversion_value"]
    now = metrics.loc[(dates >= start) & (dates <= end), columns].sum()
    before = metrics.loc[(dates >= previous_start) & (dates <= previous_end), columns].sum()
    if now["cost"] == 0 and before["cost"] == 0:
        return None

    def change(current: float, previous: float) -> float | None:
        return (current - previous) / previous if previous else None

    def kpi(name: str, current: float | None, previous: float | None, text: Callable[[float], str], up: bool | None):
        delta = change(current, previous) if current is not None and previous is not None else None
        good = None if up is None or delta is None or delta == 0 else (delta > 0) == up
        return Kpi(
            name=name,
            current="–" if current is None else text(current),
            previous="–" if previous is None else text(previous),
            change=delta,
            good=good,
        )

    def ratio(numerator: float, denominator: float) -> float | None:
        return numerator / denominator if denominator else None

    rows = [
        kpi("Spend", now["cost"], before["cost"], lambda v: money(round(v)), None),
        kpi("Clicks", now["clicks"], before["clicks"], count_text, True),
        kpi("Conversions", now["conversions"], before["conversions"], count_text, True),
    ]
    # ROAS where conversions carry a value (e-commerce); CPA for leads, where they do not.
    if now["conversion_value"] > 0 or before["conversion_value"] > 0:
        # Conversion values are in currency units, costs in the account's money unit.
        roas = (
            ratio(now["conversion_value"] * unit, now["cost"]),
            ratio(before["conversion_value"] * unit, before["cost"]),
        )
        rows.append(kpi("ROAS", *roas, lambda v: f"{v:,.2f}×", True))
    else:
        cpa = (ratio(now["cost"], now["conversions"]), ratio(before["cost"], before["conversions"]))
        rows.append(kpi("CPA", *cpa, lambda v: money(round(v)), False))
    return KpiTable(current=(start, end), previous=(previous_start, previous_end), rows=tuple(rows))


def pacing_chart(series: pd.DataFrame, width: int = 640, height: int = 260) -> dict[str, Any]:
    """The geometry of a chart of cumulative spend by day of month, in currency units:
    `last_month` (grey), this month's `actual` (solid blue), `projected` (dotted) and the `target` plan (dashed).

    Only numbers: the template draws the SVG, so its autoescaping covers every text in it."""
    columns = [c for c in ("target", "actual", "last_month", "projected") if c in series]
    values = pd.concat([series[c] for c in columns]).dropna()
    top = max(float(values.max()) if len(values) else 0.0, 1.0)
    last_day = int(series.index.max())
    left, right, bottom, top_margin = 70, 20, 30, 20

    def x(day: int) -> float:
        return left + (day - 1) / max(last_day - 1, 1) * (width - left - right)

    def y(value: float) -> float:
        return height - bottom - value / top * (height - bottom - top_margin)

    def points(column: str) -> str:
        if column not in series:
            return ""
        return " ".join(f"{x(int(day)):.1f},{y(float(value)):.1f}" for day, value in series[column].dropna().items())

    ticks = [{"y": f"{y(top * share):.1f}", "label": f"{top * share:,.0f}"} for share in (0.0, 0.25, 0.5, 0.75, 1.0)]
    days = sorted({1, 8, 15, 22, last_day})
    return {
        "width": width,
        "height": height,
        "left": left,
        "bottom": height - bottom,
        "right": width - right,
        "ticks": ticks,
        "days": [{"x": f"{x(d):.1f}", "label": d} for d in days],
        **{column: points(column) for column in ("target", "actual", "last_month", "projected")},
    }


# Told apart with the common colour-vision deficiencies (Okabe & Ito's palette, its pale yellow swapped for grey,
# which reads on white); curves past eight repeat them.
CURVE_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#7f7f7f")


def curves_chart(
    report: Mapping[str, Any], units: int, money: Callable[[int], str], width: int = 640, height: int = 260
) -> dict[str, Any] | None:
    """The geometry of the response curves: conversions a day against daily spend (in currency units), one
    line per budget, a dot at its daily amount, and in the legend what its next conversion costs there.
    None when no budget has a curve. Only numbers and the budgets' names (autoescaped by the template)."""
    curves = [c for c in report.get("curves", []) if c.get("points")]
    if not curves:
        return None
    right_end = max(p["spend"] for c in curves for p in c["points"]) / units
    top = max(max(p["conversions"] for c in curves for p in c["points"]), 1e-9)
    left, right, bottom, top_margin = 70, 20, 30, 20

    def x(spend: float) -> float:
        return left + spend / max(right_end, 1e-9) * (width - left - right)

    def y(conversions: float) -> float:
        return height - bottom - conversions / top * (height - bottom - top_margin)

    lines = []
    for i, c in enumerate(curves):
        curve, daily = c["curve"], c["daily_amount"]
        at_daily = curve["vmax"] * daily / (daily + curve["half_saturation"])
        lines.append(
            {
                "name": c["budget_name"],
                "colour": CURVE_COLOURS[i % len(CURVE_COLOURS)],
                "points": " ".join(f"{x(p['spend'] / units):.1f},{y(p['conversions']):.1f}" for p in c["points"]),
                "dot_x": f"{x(daily / units):.1f}",
                "dot_y": f"{y(at_daily):.1f}",
                "marginal": money(c["marginal_cpa"]) if c.get("marginal_cpa") is not None else "no conversions",
                "r_squared": curve.get("r_squared"),
                "prior_weight": curve.get("prior_weight"),
            }
        )
    return {
        "width": width,
        "height": height,
        "left": left,
        "bottom": height - bottom,
        "right": width - right,
        "y_ticks": [
            {"y": f"{y(top * share):.1f}", "label": f"{top * share:,.1f}"} for share in (0.0, 0.25, 0.5, 0.75, 1.0)
        ],
        "x_ticks": [
            {"x": f"{x(right_end * share):.1f}", "label": f"{right_end * share:,.0f}"}
            for share in (0.0, 0.25, 0.5, 0.75, 1.0)
        ],
        "lines": lines,
    }


def pacing_rows(report: Mapping[str, Any], money: Callable[[int], str]) -> list[dict[str, Any]]:
    """Each active budget's month: spent so far, run-rate, projection against its target, as text."""
    rows = []
    for b in report.get("budgets", []):
        target, projected = b.get("monthly_target"), b["projected_month_spend"]
        rows.append(
            {
                "name": b["budget_name"],
                "level": b["level"].replace("_", " "),
                "daily": money(b["daily_amount"]),
                "mtd": money(b["month_to_date_spend"]),
                "run_rate": money(b["run_rate"]),
                "projected": money(projected),
                "target": money(target) if target else "no target",
                "vs_target": (projected - target) / target if target else None,
                "recommended": money(b["recommended_daily_amount"]) if b.get("recommended_daily_amount") else "",
                "status": b["status"],
            }
        )
    return rows


class ExecutiveSummary(BaseModel):
    """The three lines at the top of the report, and of a scheduled audit's notification."""

    model_config = ConfigDict(frozen=True)

    changed: str
    waits: str
    matters: str
    applied: int
    waiting: int
    blocked: int
    failed: int

    def lines(self) -> list[str]:
        return [self.changed, self.waits, self.matters]


def _kinds(rows: list[dict[str, Any]]) -> str:
    counts = Counter(r["kind"] for r in rows)
    return ", ".join(
        f"{n} {KIND_LABELS.get(kind, kind.replace('_', ' '))}{'s' if n > 1 else ''}" for kind, n in counts.most_common()
    )


def executive_summary(
    rows: list[dict[str, Any]], findings: Mapping[str, Any], money: Callable[[int], str]
) -> ExecutiveSummary:
    """What changed, what waits, and what matters most: the largest sum of money at stake per month, among the
    budgets heading off their target and the non-converting spend that a negative not yet applied would stop."""
    applied = [r for r in rows if r["status"] in APPLIED_STATUSES]
    waiting = [r for r in rows if r["status"] == "pending"]
    blocked = [r for r in rows if r["status"] == "blocked"]
    failed = [r for r in rows if r["status"] == "failed"]
    changed = f"Applied {len(applied)}: {_kinds(applied)}." if applied else "Nothing was applied."
    if failed:
        changed += f" {len(failed)} failed to apply: {_kinds(failed)}."
    waits = f"{len(waiting)} wait for your approval: {_kinds(waiting)}." if waiting else "Nothing waits for approval."
    if blocked:
        waits += f" {len(blocked)} blocked by the policy."

    candidates: list[tuple[float, str]] = []
    budget_changes = {r["change"].get("budget_id"): r for r in rows if r["kind"] == "set_budget"}
    for b in findings.get("pacing", {}).get("report", {}).get("budgets", []):
        target = b.get("monthly_target")
        fix = budget_changes.get(b["budget_id"])
        # A budget whose fix this audit applied is taken care of; one whose fix waits says which change it is.
        if not target or b["status"] not in ("overspending", "underspending") or (fix and fix in applied):
            continue
        gap = b["projected_month_spend"] - target
        then = f" Approving {fix['id']} brings it back towards the target." if fix and fix in waiting else ""
        candidates.append(
            (
                abs(gap),
                f"{b['budget_name']} is heading for {money(b['projected_month_spend'])} this month against a "
                f"{money(target)} target ({gap / target:+.0%}).{then}",
            )
        )
    for r in rows:
        metrics = r["change"].get("evidence", {}).get("metrics", {})
        evidence = r["change"].get("evidence", {})
        # Only a waiting negative is still the reader's to decide; applied ones are done, refused ones were refused.
        if r["kind"] != "add_negative_keywords" or r["status"] != "pending" or not metrics.get("cost"):
            continue
        if metrics.get("conversions", 0) or not (evidence.get("period_start") and evidence.get("period_end")):
            continue
        days = (dt.date.fromisoformat(evidence["period_end"]) - dt.date.fromisoformat(evidence["period_start"])).days
        monthly = metrics["cost"] / max(days + 1, 1) * 30
        candidates.append(
            (
                monthly,
                f"About {money(round(monthly))} a month goes to search terms that never converted; "
                f"approving {r['id']} ({r['summary']}) stops it.",
            )
        )
    matters = (
        max(candidates)[1]
        if candidates
        else "Nothing stands out: no budget is off its target and no spend goes to search terms that never convert."
    )
    return ExecutiveSummary(
        changed=changed,
        waits=waits,
        matters=matters,
        applied=len(applied),
        waiting=len(waiting),
        blocked=len(blocked),
        failed=len(failed),
    )


def _copy_of(row: dict[str, Any]) -> dict[str, Any] | None:
    """The ad copy a creative or ad-group proposal would create, each asset with its length and sources."""
    ad = row["change"].get("ad")
    if not ad:
        return None

    # What each asset rests on, by its text: the brand kit's chunks, or a pure call to action.
    grounds = {a["text"]: a for a in row["change"].get("assets", ())}

    def asset(text: str) -> dict[str, Any]:
        ground = grounds.get(text, {})
        return {
            "text": text,
            "length": len(text),
            "sources": ground.get("sources") or [],
            "generic": bool(ground.get("generic")),
        }

    if ad.get("type") == "responsive_search_ad":
        parts = {"Headlines": ad.get("headlines", []), "Descriptions": ad.get("descriptions", [])}
        url = ad.get("final_url", "")
    else:
        parts = {
            "Primary text": [ad.get("primary_text", "")],
            "Headline": [ad.get("headline", "")],
            "Description": [ad["description"]] if ad.get("description") else [],
        }
        url = ad.get("link_url", "")
    return {"parts": {name: [asset(v) for v in values] for name, values in parts.items() if values}, "url": url}


def write_report(
    state: Mapping[str, Any],
    *,
    account: Account,
    today: dt.date,
    reports_dir: Path,
    pacing: pd.DataFrame,
    metrics: pd.DataFrame,
    policy: PolicyMetrics | None = None,
) -> dict[str, str]:
    """Write `<reports>/<account>-<timestamp>.html` and `.json` atomically; returns their paths.

    `pacing` holds cumulative spend by day of month, in currency units: `actual` this month, `last_month`,
    `projected` and `target` (see `pacing_chart`). `metrics` are the account's daily metrics covering
    the two KPI periods. `policy` holds the account's policy metrics and drift alerts (the "Policy" section).
    """
    # Search terms, names and messages are typed by strangers: secrets and PII are masked in both files.
    rows = mask_sensitive(proposal_rows(state, account.money))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    base = reports_dir / f"{account.name.replace(':', '_')}-{stamp}"
    findings = mask_sensitive(state.get("findings", {}))
    summary = executive_summary(rows, findings, account.money)
    kpis = kpi_table(metrics, today, account)
    document = {
        "account": mask_sensitive(account.name),
        "generated_at": dt.datetime.now(dt.UTC).isoformat(),
        "today": today.isoformat(),
        "summary": summary.model_dump(),
        "kpis": kpis.model_dump(mode="json") if kpis else None,
        "proposals": rows,
        "findings": findings,
        "policy": mask_sensitive(policy.model_dump(mode="json")) if policy else None,
    }
    themes = findings.get("search_terms", {}).get("themes") or {}
    clusters = sorted(themes.get("clusters", []), key=lambda c: c.get("cost", 0), reverse=True)[:MAX_THEMES]
    shown = [
        {**r, "ad_copy": _copy_of(r), "evidence_lines": parse_change(r["change"]).evidence.lines(account.money)}
        for r in rows
    ]
    html = _templates.get_template("report.html").render(
        account=mask_sensitive(account),
        today=today,
        rows=shown,
        summary=summary,
        kpis=kpis,
        findings=findings,
        pacing_rows=pacing_rows(findings.get("pacing", {}).get("report", {}), account.money),
        clusters=[{**c, "cost_text": account.money(int(c.get("cost", 0)))} for c in clusters],
        themes_total=themes.get("count", len(clusters)),
        themes_cost=account.money(int(themes.get("cost", 0))),
        chart=pacing_chart(pacing),
        curves=curves_chart(
            findings.get("pacing", {}).get("report", {}), UNITS_PER_CURRENCY[account.money_unit], account.money
        ),
        policy=document["policy"],
        policy_weeks=[w for w in (document["policy"] or {}).get("weekly", []) if w["kind"] == "all"][-POLICY_WEEKS:],
    )
    reports_dir.mkdir(parents=True, exist_ok=True)
    paths = {"html": base.with_suffix(".html"), "json": base.with_suffix(".json")}
    _write_atomically(paths["json"], json.dumps(document, indent=2, default=str))
    _write_atomically(paths["html"], html)
    return {kind: str(path) for kind, path in paths.items()}


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_suffix(path.suffix + ".part")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
