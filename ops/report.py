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
from policies.screening import mask_sensitive

_templates = Environment(loader=PackageLoader("ops", "templates"), autoescape=select_autoescape(["html"]))


def pacing_chart(series: pd.DataFrame, width: int = 640, height: int = 240) -> dict[str, Any]:
    """The geometry of a line chart of cumulative spend (solid) against the target line (dashed).

    Only numbers: the template draws the SVG, so its autoescaping covers every text in it."""
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

    return {
        "width": width,
        "height": height,
        "top": f"{top:,.0f}",
        "last_day": last_day,
        "target": points("target"),
        "actual": points("actual"),
    }


def write_report(
    state: Mapping[str, Any], *, account: Account, today: dt.date, reports_dir: Path, pacing: pd.DataFrame
) -> dict[str, str]:
    """Write `<reports>/<account>-<timestamp>.html` and `.json` atomically; returns their paths.

    `pacing` holds cumulative spend per day of the month (`actual`) and the even pace to target (`target`).
    """
    # Search terms, names and messages are typed by strangers: secrets and PII are masked in both files.
    rows = mask_sensitive(proposal_rows(state, account.money))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    base = reports_dir / f"{account.name.replace(':', '_')}-{stamp}"
    findings = mask_sensitive(state.get("findings", {}))
    document = {
        "account": mask_sensitive(account.name),
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
        account=mask_sensitive(account),
        today=today,
        rows=rows,
        findings=findings,
        clusters=clusters,
        chart=pacing_chart(pacing),
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
