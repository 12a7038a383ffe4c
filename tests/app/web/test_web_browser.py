"""The web app in a real Chromium (Debian's package, driven by Playwright): log in, approve, reject, edit,
401 without a token, and a stale page's answer refused. `make test`'s set-up installs Chromium."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.app.web.conftest import served_environment, serving

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "no Chromium at /usr/bin/chromium (apt-get install chromium): browser tests skipped", allow_module_level=True
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: browser tests skipped")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sandbox_template: Path) -> Iterator[dict[str, str]]:
    """A home audited once through the CLI, served by `adpilot serve` for every test of this module."""
    home = tmp_path_factory.mktemp("browser") / "adpilot-home"
    home.mkdir()
    shutil.copy(sandbox_template, home / "sandbox.sqlite")
    audit = subprocess.run(
        [sys.executable, "-m", "app", "audit", "--json"],
        env=served_environment(home),
        cwd=home.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert audit.returncode == 0, audit.stderr[-2000:]
    with serving(home) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, server: dict[str, str]) -> Iterator[Any]:
    """A signed-in page: the token typed into the login form, as a person does."""
    context = browser.new_context(base_url=server["url"])
    page = context.new_page()
    page.goto("/")
    page.fill("#token", server["token"])
    page.click("button[type=submit]")
    page.wait_for_selector("#reviewer")
    yield page
    context.close()


def first_card(page: Any, kind: str) -> Any:
    page.goto(f"/?kind={kind}")
    return page.locator(".card.change").first


def test_without_a_token_every_page_is_401_and_shows_the_login(browser: Any, server: dict[str, str]) -> None:
    context = browser.new_context(base_url=server["url"])
    page = context.new_page()
    response = page.goto("/log")
    assert response.status == 401 and page.locator("#token").is_visible()
    page.fill("#token", "adp_wrong")
    page.click("button[type=submit]")
    assert page.locator("#login-message").inner_text() == "That token is not valid."
    assert page.goto("/health").status == 200
    context.close()


def test_log_in_approve_a_change_and_see_the_read_back(page: Any) -> None:
    assert page.locator("#reviewer").inner_text() == "admin"
    card = first_card(page, "set_budget")
    card.locator("button.approve").click()
    answer = card.locator(".answer")
    answer.wait_for()
    assert answer.get_attribute("data-status") == "applied"
    assert "Approved by admin" in answer.inner_text()
    readback = card.locator("table.readback").inner_text()
    assert "daily amount" in readback and " USD" in readback
    page.goto("/log")
    assert "person:admin" in page.locator("table.entries").inner_text()


def test_reject_with_a_reason(page: Any) -> None:
    card = first_card(page, "add_creative_variants")
    card.locator("input[name=reason]").fill("the tone is off-brand")
    card.locator("button.reject").click()
    card.locator(".answer").wait_for()
    assert "Rejected by admin: the tone is off-brand" in card.locator(".answer").inner_text()
    page.goto("/log")
    assert "the tone is off-brand" in page.locator("table.entries").inner_text()


def test_edit_a_change_and_see_it_gated_again(page: Any) -> None:
    card = first_card(page, "set_budget")
    card.locator("details.edit summary").click()
    before = int(card.locator("input[name='field.from_amount']").input_value())
    card.locator("input[name='field.to_amount']").fill(str(before + before // 20))
    card.locator("button.preview").click()
    preview = card.locator(".preview-result")
    preview.wait_for()
    assert '+  "to_amount"' in preview.locator("pre.diff").inner_text()
    card.locator("button.save-edit").click()
    answer = card.locator(".answer")
    answer.wait_for()
    assert "into a new change" in answer.inner_text()
    assert answer.locator(".regated").inner_text() == "auto apply"
    assert answer.get_attribute("data-status") == "applied"


def test_a_stale_page_cannot_answer_a_change_answered_elsewhere(page: Any, server: dict[str, str]) -> None:
    card = first_card(page, "create_ad_group")
    change = card.get_attribute("data-hash")
    # A colleague answers it from a script while this page stays open.
    elsewhere = httpx.post(
        f"{server['url']}/changes/{change}/reject",
        headers={"Authorization": f"Bearer {server['token']}"},
        data={"reason": "not now"},
    )
    assert elsewhere.status_code == 200
    card.locator("button.approve").click()
    refusal = card.locator(".refused")
    refusal.wait_for()
    assert "already rejected by admin" in refusal.inner_text()
    assert page.goto(f"/changes/{change}").ok
    assert "rejected" in page.locator("table.entries").inner_text()


def test_a_chat_streams_its_tool_calls_and_links_its_proposals_to_the_inbox(page: Any) -> None:
    page.goto("/chat")
    page.fill("textarea[name=message]", "which search terms waste money?")
    page.click("form.card button")
    page.locator("#stream table.proposals").wait_for()  # the last thing the stream sends
    assert page.locator("#stream .tool-call").count() >= 1
    link = page.locator("#stream table.proposals a").first
    link.click()
    page.locator(".card.change button.approve").wait_for()
