"""The audit report: one self-contained HTML page (with an inline SVG pacing chart) and its JSON twin."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from ads.changes import parse_change
from ads.entities import UNITS_PER_CURRENCY, ReportPeriod
from graphs.context import RunContext
from graphs.state import AuditState
from tools.pacing import daily_spend_series

_templates = Environment(loader=PackageLoader("graphs", "templates"), autoescape=select_autoescape(["html"]))


STATUS_ORDER = {"applied": 0, "already_applied": 0, "queued": 1, "pending": 2, "approved": 3, "edited": 3,
                "rejected": 4, "failed": 5, "blocked": 6}


def proposal_rows(state: AuditState, money: Any) -> list[dict[str, Any]]:
    """One row per proposal with its decision, review and result: what the CLI, the report and --json show.

    Applied changes come first, then what waits for a person, then what was refused."""
    decisions, results, reviews = state.get("decisions", {}), state.get("results", {}), state.get("reviews", {})
    rows = []
    for data in state.get("proposals", []):
        change = parse_change(data)
        decision = decisions.get(change.hash, {})
        result = results.get(change.hash)
        review = reviews.get(change.hash)
        if result:
            status = result["status"]
        elif review:
            status = {"accept": "approved", "edit": "edited", "reject": "rejected"}[review["type"]]
        else:
            status = {"needs_approval": "pending", "blocked": "blocked"}.get(decision.get("outcome", ""), "undecided")
        rows.append({
            "id": change.id, "hash": change.hash, "kind": change.kind, "decision": decision.get("outcome", "undecided"),
            "rule": decision.get("rule", ""), "reason": decision.get("reason", ""), "summary": change.summary(),
            "rationale": change.rationale, "status": status, "message": (result or {}).get("message", ""),
            "blocks": [
                {"keyword": k.text, "match_type": k.match_type.value,
                 "terms": [{"term": q.search_term, "clicks": q.clicks, "cost": money(q.cost), "conversions": q.conversions}
                           for q in k.blocks]}
                for k in getattr(change, "keywords", ()) if hasattr(k, "blocks")
            ],
            "change": change.model_dump(mode="json"),
        })
    return sorted(rows, key=lambda r: (STATUS_ORDER.get(r["status"], 7), r["kind"]))


def pacing_series(ctx: RunContext) -> pd.DataFrame:
    """Cumulative spend per day this month beside the even-pace line to the month's target, in currency units."""
    structure = ctx.tools.structure()
    metrics = ctx.tools.metrics(ReportPeriod(start=ctx.today.replace(day=1), end=ctx.today))
    target = sum(c.monthly_target or 0 for c in structure.campaigns) or None
    series = daily_spend_series(metrics, ctx.today, monthly_target=target)
    unit = UNITS_PER_CURRENCY[structure.account.money_unit]
    return pd.DataFrame({
        "actual": series["cumulative_spend"].astype("Float64") / unit,
        "target": series["ideal_cumulative"].astype("Float64") / unit,
    }, index=pd.RangeIndex(1, len(series) + 1))


def pacing_chart_svg(series: pd.DataFrame, currency: str, width: int = 640, height: int = 240) -> str:
    """A line chart of cumulative spend (solid) against the target line (dashed)."""
    values = pd.concat([series["target"], series["actual"]]).dropna()
    top = max(float(values.max()) if len(values) else 0.0, 1.0)
    last_day = int(series.index.max())

    def points(column: str) -> str:
        values = series[column].dropna()
        return " ".join(f"{40 + (day - 1) / max(last_day - 1, 1) * (width - 60):.1f},"
                        f"{height - 30 - value / top * (height - 50):.1f}" for day, value in values.items())

    return (
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="Month-to-date spend against target">'
        f'<line x1="40" y1="{height - 30}" x2="{width - 20}" y2="{height - 30}" stroke="#999"/>'
        f'<line x1="40" y1="20" x2="40" y2="{height - 30}" stroke="#999"/>'
        f'<text x="44" y="16" font-size="11">{top:,.0f} {currency}</text>'
        f'<text x="{width - 60}" y="{height - 12}" font-size="11">day {last_day}</text>'
        f'<polyline fill="none" stroke="#888" stroke-dasharray="5,4" points="{points("target")}"/>'
        f'<polyline fill="none" stroke="#1a73e8" stroke-width="2.5" points="{points("actual")}"/>'
        "</svg>"
    )


def write_report(state: AuditState, ctx: RunContext) -> dict[str, str]:
    """Write `<reports>/<account>-<timestamp>.html` and `.json` atomically; returns their paths."""
    account = ctx.tools.structure().account
    rows = proposal_rows(state, account.money)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    base = ctx.reports_dir / f"{account.name.replace(':', '_')}-{stamp}"
    findings = state.get("findings", {})
    document = {
        "account": account.name, "generated_at": dt.datetime.now(dt.UTC).isoformat(), "today": ctx.today.isoformat(),
        "proposals": rows, "findings": findings,
    }
    clusters = [
        {**c, "cost_text": account.money(int(c.get("cost", 0)))}
        for c in findings.get("search_terms", {}).get("clusters") or []
    ]
    html = _templates.get_template("report.html").render(
        account=account, today=ctx.today, rows=rows, findings=findings, clusters=clusters,
        chart=pacing_chart_svg(pacing_series(ctx), account.currency),
        counts={s: sum(1 for r in rows if r["status"] == s) for s in {r["status"] for r in rows}},
    )
    ctx.reports_dir.mkdir(parents=True, exist_ok=True)
    paths = {"html": base.with_suffix(".html"), "json": base.with_suffix(".json")}
    _write_atomically(paths["json"], json.dumps(document, indent=2, default=str))
    _write_atomically(paths["html"], html)
    return {kind: str(path) for kind, path in paths.items()}


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_suffix(path.suffix + ".part")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
