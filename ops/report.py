"""The audit report: one self-contained HTML page (with an inline SVG pacing chart) and its JSON twin."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from ads.entities import Account
from ops.proposal_rows import proposal_rows

_templates = Environment(loader=PackageLoader("ops", "templates"), autoescape=select_autoescape(["html"]))


def pacing_chart_svg(series: pd.DataFrame, currency: str, width: int = 640, height: int = 240) -> str:
    """A line chart of cumulative spend (solid) against the target line (dashed)."""
    values = pd.concat([series["target"], series["actual"]]).dropna()
    top = max(float(values.max()) if len(values) else 0.0, 1.0)
    last_day = int(series.index.max())

    def points(column: str) -> str:
        values = series[column].dropna()
        return " ".join(
            f"{40 + (day - 1) / max(last_day - 1, 1) * (width - 60):.1f},"
            f"{height - 30 - value / top * (height - 50):.1f}"
            for day, value in values.items()
        )

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


def write_report(
    state: Mapping[str, Any], *, account: Account, today: dt.date, reports_dir: Path, pacing: pd.DataFrame
) -> dict[str, str]:
    """Write `<reports>/<account>-<timestamp>.html` and `.json` atomically; returns their paths.

    `pacing` holds cumulative spend per day of the month (`actual`) and the even pace to target (`target`).
    """
    rows = proposal_rows(state, account.money)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    base = reports_dir / f"{account.name.replace(':', '_')}-{stamp}"
    findings = state.get("findings", {})
    document = {
        "account": account.name,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(),
        "today": today.isoformat(),
        "proposals": rows,
        "findings": findings,
    }
    clusters = [
        {**c, "cost_text": account.money(int(c.get("cost", 0)))}
        for c in findings.get("search_terms", {}).get("clusters") or []
    ]
    html = _templates.get_template("report.html").render(
        account=account,
        today=today,
        rows=rows,
        findings=findings,
        clusters=clusters,
        chart=pacing_chart_svg(pacing, account.currency),
        counts={s: sum(1 for r in rows if r["status"] == s) for s in {r["status"] for r in rows}},
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
