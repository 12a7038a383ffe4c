"""The policy metrics page: the figures `adpilot metrics` prints, after answers given in the inbox; bad input in
one line; and the page in Chromium, screenshotted."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.session import Session
from tests.app.web.conftest import served_environment, serving
from tests.app.web.test_web_http import bearer, pending, refusal
from tests.cli_runner import run

CHROMIUM = Path("/usr/bin/chromium")


def first_row(html: str, table: str) -> list[str]:
    """The number cells of the `all` row of the table of class `table`."""
    found = re.search(rf'<table class="{table}">.*?<tr style="font-weight:600"><td>all</td>(.*?)</tr>', html, re.S)
    assert found, html[:2000]
    return re.findall(r'<td class="num">([^<]*)</td>', found.group(1))


def test_the_page_shows_the_figures_of_adpilot_metrics(client: TestClient, token: str, audited: Session) -> None:
    for change in pending(client, token, "add_creative_variants")[:2]:
        answer = client.post(f"/changes/{change}/reject", headers=bearer(token), data={"reason": "off-brand"})
        assert answer.status_code == 200
    code, out, _ = run("metrics", "--json")
    assert code == 0
    total = json.loads(out)["rows"][0]
    assert total["rejected"] == 2 and total["rejection_rate"] == 1.0

    page = client.get("/metrics", headers=bearer(token))
    assert page.status_code == 200
    counts = ("proposals", "auto_applied", "approved", "rejected", "edited", "blocked", "unanswered", "not_applied")
    assert first_row(page.text, "policy-counts") == [str(total[k]) for k in counts]
    assert first_row(page.text, "policy-rates")[2] == "100%"  # the rejection rate
    assert 'id="drift"' in page.text and "2026-W47" in page.text

    one = client.get("/metrics", headers=bearer(token), params={"account": "sandbox:trailhead", "since": "2026-11-20"})
    assert one.status_code == 200 and '<option value="sandbox:trailhead" selected>' in one.text


def test_bad_input_is_refused_in_one_line(client: TestClient, token: str) -> None:
    bad = client.get("/metrics", headers=bearer(token), params={"since": "<b>soon</b>"})
    assert bad.status_code == 409
    assert refusal(bad.text) == "since: expected a date as YYYY-MM-DD, got &#39;&lt;b&gt;soon&lt;/b&gt;&#39;"
    unknown = client.get("/metrics", headers=bearer(token), params={"account": "meta:act_1"})
    assert unknown.status_code == 409 and "the gate has decided nothing for it" in refusal(unknown.text)
    assert client.get("/metrics").status_code == 401


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)")
def test_the_page_in_chromium(tmp_path: Path, sandbox_template: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    home = tmp_path / "adpilot-home"
    home.mkdir()
    shutil.copy(sandbox_template, home / "sandbox.sqlite")
    audit = subprocess.run(
        [sys.executable, "-m", "app", "audit", "--json"],
        env=served_environment(home),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert audit.returncode == 0, audit.stderr[-2000:]
    with serving(home) as served, playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(base_url=served["url"], viewport={"width": 1280, "height": 900})
            page.goto("/")
            page.fill("#token", served["token"])
            page.click("button[type=submit]")
            page.wait_for_selector("#reviewer")
            page.click("text=Policy metrics")
            page.wait_for_selector("table.policy-rates")
            assert page.get_by_role("heading", name="Policy metrics").is_visible()
            assert page.locator("#drift").inner_text().startswith("No drift")
            rows = page.locator("table.policy-rates tr")
            assert rows.count() > 3 and "all" in rows.nth(1).inner_text()
            assert page.locator("table.policy-weeks tr").count() == 2  # header and 2026-W47
            shot = tmp_path / "metrics.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 20_000
            for table in ("policy-counts", "policy-rates"):
                box = page.locator(f"table.{table}").bounding_box()
                assert box is not None and box["x"] + box["width"] <= 1280, table  # it fits the window
        finally:
            browser.close()
