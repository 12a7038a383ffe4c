"""Hostile search terms reach no artifact raw: reports (HTML and JSON), traces, and the change log's output.

Secrets and PII typed into search terms are masked in everything adpilot writes or shows; markup stays text
in the HTML report. The store and the change log's database may keep the raw text (they are the record).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd

from sandbox import GOOGLE_ACCOUNT
from sandbox.store import SandboxStore
from tests.cli_runner import run

SECRETS = ("sk-proj-Abc123def456GHI789jkl", "jane.doe@example.com", "+1 415 555 0134")
MARKUP = ("<script>alert(1)</script>", "</text><svg onload=alert(2)>")
TERMS = (
    f"{MARKUP[0]} boots",
    f"boots {MARKUP[1]}",
    f"boots {SECRETS[0]}",
    f"boots mail {SECRETS[1]}",
    f"boots call {SECRETS[2]}",
    '=HYPERLINK("http://x.example/boots")',
)


def _plant(home: Path) -> None:
    """Expensive, never-converting hostile terms in one sandbox ad group, so negatives are mined from them."""
    account = SandboxStore(home / "sandbox.sqlite").open_account(GOOGLE_ACCOUNT)
    group = account.structure().ad_groups[0]
    frame = pd.DataFrame(
        {
            "search_term": TERMS,
            "campaign_id": group.campaign_id,
            "campaign_name": "",
            "ad_group_id": group.id,
            "ad_group_name": group.name,
            "keyword": "",
            "match_type": "",
            "impressions": 4000,
            "clicks": 300,
            "cost": 450_000_000,
            "conversions": 0.0,
            "conversion_value": 0.0,
        }
    )
    account.add_search_terms(frame, dt.date(2026, 11, 1), dt.date(2026, 11, 19))


def _csv(path: Path) -> Path:
    lines = ["Search term,Campaign,Ad group,Clicks,Impr.,Cost,Conversions,Currency code"]
    lines += ['"{}",Boots,Hiking,300,4000,450.00,0,USD'.format(term.replace('"', '""')) for term in TERMS]
    lines += ["hiking boots,Boots,Hiking,40,900,30.00,4,USD"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_no_artifact_holds_a_raw_secret_or_live_markup(home: Path, tmp_path: Path) -> None:
    _plant(home)
    assert run("import", "search-terms", str(_csv(tmp_path / "hostile.csv")), "--account", "acme")[0] == 0
    reports = []
    artifacts: dict[str, str] = {}
    for account in (GOOGLE_ACCOUNT, "acme"):
        code, out, _ = run("audit", "--account", account, "--json")
        assert code == 0
        reports.append(json.loads(out)["report"])
        artifacts[f"audit --account {account} --json"] = out
    artifacts["approvals list --json"] = run("approvals", "list", "--json")[1]
    # the planted terms did reach the audit: negatives were proposed from them, and some wait for a person
    pending = json.loads(run("approvals", "list", "--json")[1])
    for item in pending:
        for args in (("approvals", "show", item["id"]), ("approvals", "show", item["id"], "--json")):
            artifacts[" ".join(args)] = run(*args)[1]
    assert pending and all(run("approvals", "approve", p["id"], "--by", "maria")[0] == 0 for p in pending[:3])

    for report in reports:
        for path in (Path(report), Path(report).with_suffix(".json")):
            artifacts[str(path)] = path.read_text(encoding="utf-8")
    for trace in sorted((home / "traces").glob("*.jsonl")):
        artifacts[str(trace)] = trace.read_text(encoding="utf-8")
    for args in (("changes", "log"), ("changes", "log", "--json")):
        code, out, _ = run(*args)
        assert code == 0 and out.strip()
        artifacts[" ".join(args)] = out

    assert any("boots" in text and "[secret]" in text for text in artifacts.values())
    assert any("status_message" in text for text in artifacts.values())
    assert any("&lt;script&gt;" in artifacts[report] for report in reports)  # the markup reached a report, as text
    for name, text in artifacts.items():
        leaked = [secret for secret in SECRETS if secret in text]
        assert not leaked, f"{name} holds {leaked}"
    for report in reports:
        html = artifacts[report]
        assert "<script" not in html and "<svg onload" not in html and "</text><svg" not in html
        assert "Content-Security-Policy" in html and "default-src 'none'" in html


def test_the_chart_escapes_a_currency_that_slipped_past_the_import(tmp_path: Path) -> None:
    from ads.entities import Account, Platform
    from ops.report import write_report

    account = Account.model_construct(  # as if built without validation, from an older store
        name="acme",
        id="acme",
        display_name="Acme <b>",
        platform=Platform.GOOGLE_ADS,
        currency="USD</text><script>alert(4)</script>",
        time_zone="UTC",
        monthly_budget_cap=None,
        brand_terms=(),
        read_only=True,
    )
    pacing = pd.DataFrame({"actual": [1.0, 2.0], "target": [1.5, 3.0]}, index=[1, 2])
    paths = write_report(
        {}, account=account, today=dt.date(2026, 11, 20), reports_dir=tmp_path, pacing=pacing, metrics=pd.DataFrame()
    )
    html = Path(paths["html"]).read_text(encoding="utf-8")
    assert "<script" not in html and "USD&lt;/text&gt;&lt;script&gt;" in html and "Acme &lt;b&gt;" in html
