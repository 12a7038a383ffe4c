"""The web app over HTTP (FastAPI's TestClient): access, the inbox's answers, chat, reports and the change log."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from app.session import Session
from app.settings import load_settings
from app.web.access import TokenStore
from app.web.app import create_app
from app.web.server import token_store
from sandbox import GOOGLE_ACCOUNT
from tests.app.test_hostile_artifacts import MARKUP, SECRETS
from tests.app.test_hostile_artifacts import _plant as plant_hostile_terms
from tests.app.web.conftest import serving
from tests.cli_runner import run

HASH = re.compile(r'data-hash="([0-9a-f]{64})" data-kind="([a-z_]+)"')


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def pending(client: TestClient, token: str, kind: str | None = None) -> list[str]:
    page = client.get("/", headers=bearer(token), params={"kind": kind or ""})
    assert page.status_code == 200
    return [h for h, k in HASH.findall(page.text) if kind is None or k == kind]


def refusal(html: str) -> str:
    found = re.search(r'class="error-line">(.*?)</span>', html)
    assert found, html[:500]
    return found.group(1)


def test_everything_but_health_needs_a_token(client: TestClient, token: str) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    for path in ("/", "/chat", "/reports", "/log", "/static/htmx.min.js"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"
        assert 'name="token"' in response.text  # the login form
    assert client.get("/", headers=bearer("adp_not-a-token")).status_code == 401
    assert client.post("/changes/" + "0" * 64 + "/approve").status_code == 401
    assert client.get("/static/htmx.min.js", headers=bearer(token)).text.startswith("var htmx=")
    assert client.get("/openapi.json", headers=bearer(token)).status_code == 404


def test_tokens_are_stored_hashed_and_name_the_reviewer(tokens: TokenStore, token: str) -> None:
    stored = tokens.path.read_text()
    assert token not in stored and token[4:] not in stored
    assert json.loads(stored)["tokens"][0]["reviewer"] == "maria"
    assert (tokens.path.stat().st_mode & 0o777) == 0o600
    assert TokenStore(tokens.path).reviewer(token).name == "maria"  # a fresh store (a restart) checks the digest
    assert TokenStore(tokens.path).reviewer(token + "x") is None


def test_login_form_sets_a_cookie_and_forms_need_its_csrf_token(client: TestClient, token: str) -> None:
    def login_csrf(page: str) -> str:
        return re.search(r'name="csrf" value="([^"]+)"', page).group(1)

    forged = client.post("/login", data={"token": token, "csrf": "forged"}, follow_redirects=False)
    assert forged.status_code == 403 and "/" not in forged.headers.get("location", "")
    wrong = client.post("/login", data={"token": "adp_wrong", "csrf": login_csrf(forged.text)})
    assert wrong.status_code == 401 and "not valid" in wrong.text
    signed_in = client.post("/login", data={"token": token, "csrf": login_csrf(wrong.text)}, follow_redirects=False)
    assert signed_in.status_code == 303
    inbox = client.get("/")
    assert inbox.status_code == 200 and '<b id="reviewer">maria</b>' in inbox.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', inbox.text).group(1)
    change = HASH.findall(inbox.text)[0][0]

    refused = client.post(f"/changes/{change}/reject", data={"reason": "no"})
    assert refused.status_code == 403 and "CSRF" in refusal(refused.text)
    assert client.post(f"/changes/{change}/reject", data={"reason": "no", "csrf": "x" * 43}).status_code == 403
    rejected = client.post(f"/changes/{change}/reject", data={"reason": "not this quarter", "csrf": csrf})
    assert rejected.status_code == 200 and "Rejected by maria" in rejected.text

    client.post("/logout", data={"csrf": csrf})
    assert client.get("/").status_code == 401


def test_approve_applies_through_the_cli_path_and_shows_the_read_back(
    client: TestClient, token: str, audited: Session
) -> None:
    budget = pending(client, token, "set_budget")[0]
    answer = client.post(f"/changes/{budget}/approve", headers=bearer(token))
    assert answer.status_code == 200
    assert 'data-status="applied"' in answer.text and "Approved by maria" in answer.text
    assert "Read back from the account" in answer.text and "daily amount" in answer.text
    # money as currency, not the account's micros
    assert re.search(r"<td>[\d,]+\.\d\d USD</td>", answer.text) and not re.search(r">\d{7,}<", answer.text)
    entry = audited.change_log.latest(budget)
    assert entry is not None and entry.status == "applied" and entry.decided_by == "person:maria"
    assert budget not in pending(client, token)

    again = client.post(f"/changes/{budget}/approve", headers=bearer(token))
    assert again.status_code == 409 and refusal(again.text).startswith(
        f"change {budget[:10]} is already approved by maria"
    )
    history = client.get(f"/changes/{budget}", headers=bearer(token))
    assert "already approved by maria" in history.text and "person:maria" in history.text


def test_reject_needs_a_reason_and_records_it(client: TestClient, token: str, audited: Session) -> None:
    change = pending(client, token, "add_creative_variants")[0]
    assert "needs a reason" in refusal(client.post(f"/changes/{change}/reject", headers=bearer(token)).text)
    answer = client.post(f"/changes/{change}/reject", headers=bearer(token), data={"reason": "off-brand tone"})
    assert answer.status_code == 200 and "off-brand tone" in answer.text
    entry = audited.change_log.latest(change)
    assert entry is not None and (entry.status, entry.message, entry.decided_by) == (
        "rejected",
        "off-brand tone",
        "person:maria",
    )
    second = client.post(f"/changes/{change}/reject", headers=bearer(token), data={"reason": "again"})
    assert second.status_code == 409 and "already rejected by maria at" in refusal(second.text)


def test_an_edit_is_previewed_as_a_diff_then_gated_again(client: TestClient, token: str, audited: Session) -> None:
    budget = pending(client, token, "set_budget")[0]
    card = client.get(f"/changes/{budget}", headers=bearer(token)).text
    inputs = dict(re.findall(r'<input id="[^"]+" name="field\.(\w+)" value="([^"]*)"', card))
    assert {"budget_id", "from_amount", "to_amount"} <= set(inputs)
    assert "Proposed daily amount, in the account&#39;s money unit." in card  # the schema's own words
    before = int(inputs["from_amount"])
    five_percent_up = {"field.to_amount": f"{before + before // 20:,}", "field.budget_name": inputs["budget_name"]}

    preview = client.post(f"/changes/{budget}/preview", headers=bearer(token), data=five_percent_up)
    assert preview.status_code == 200
    assert '<span class="remove">-  &#34;to_amount&#34;' in preview.text
    assert f'<span class="add">+  &#34;to_amount&#34;: {before + before // 20},' in preview.text
    assert "auto apply" in preview.text  # +5% is inside the auto-apply band
    assert budget in pending(client, token)  # a preview answers nothing

    bad = client.post(f"/changes/{budget}/edit", headers=bearer(token), data={"field.to_amount": "-5"})
    assert bad.status_code == 409 and "to_amount" in refusal(bad.text)
    typo = client.post(f"/changes/{budget}/edit", headers=bearer(token), data={"field.to_amount": "lots"})
    assert refusal(typo.text) == "field to_amount: not a whole number"
    same = client.post(f"/changes/{budget}/edit", headers=bearer(token), data={"field.to_amount": inputs["to_amount"]})
    assert "changes no field" in refusal(same.text)

    edited = client.post(f"/changes/{budget}/edit", headers=bearer(token), data=five_percent_up)
    assert edited.status_code == 200 and "Edited by maria into a new change" in edited.text
    assert 'class="regated auto_apply"' in edited.text and 'data-status="applied"' in edited.text
    assert audited.change_log.latest(budget).status == "edited"


def test_copy_is_edited_as_json_checked_by_its_schema(client: TestClient, token: str) -> None:
    creative = pending(client, token, "add_creative_variants")[0]
    card = client.get(f"/changes/{creative}", headers=bearer(token)).text
    assert re.search(r'<textarea id="[^"]+" name="field\.ad" rows="\d+">', card)
    broken = client.post(f"/changes/{creative}/preview", headers=bearer(token), data={"field.ad": '{"headlines": ['})
    assert refusal(broken.text).startswith("field ad: not a JSON value: line 1")
    no_url = client.post(
        f"/changes/{creative}/preview",
        headers=bearer(token),
        data={"field.ad": json.dumps({"type": "responsive_search_ad", "headlines": ["a"], "descriptions": ["b"]})},
    )
    assert no_url.status_code == 409 and "final_url" in refusal(no_url.text)


def test_a_stale_page_cannot_answer_a_change_that_moved_on(client: TestClient, token: str, audited: Session) -> None:
    budget = pending(client, token, "set_budget")[0]
    # Someone else edits it (through the CLI's path) while this page is open: the old hash is no longer pending.
    item, _ = audited.answer(budget, {"type": "edit", "args": {"to_amount": 50_000_000}}, reviewer="li")
    stale = client.post(f"/changes/{budget}/approve", headers=bearer(token))
    assert stale.status_code == 409 and "already edited by li" in refusal(stale.text)
    assert audited.change_log.latest(item.change.hash).status == "edited"
    unknown = client.post("/changes/" + "ab" * 32 + "/approve", headers=bearer(token))
    assert unknown.status_code == 409 and "no pending change" in refusal(unknown.text)


def test_filters_by_account_and_kind(client: TestClient, token: str) -> None:
    everything = pending(client, token)
    negatives = pending(client, token, "create_shared_negative_list")
    assert 0 < len(negatives) < len(everything)
    page = client.get("/", headers=bearer(token), params={"kind": "create_shared_negative_list"}).text
    assert {k for _, k in HASH.findall(page)} == {"create_shared_negative_list"}
    assert "<caption>Negative <b>" in page and "<th>search term</th>" in page  # the terms each negative blocks
    other = client.get("/", headers=bearer(token), params={"account": "sandbox:nobody"}).text
    assert not HASH.findall(other) and 'id="empty"' in other


def test_copy_is_shown_asset_by_asset(client: TestClient, token: str) -> None:
    creative = pending(client, token, "add_creative_variants")[0]
    page = client.get(f"/changes/{creative}", headers=bearer(token)).text
    assert "<caption>Ad copy</caption>" in page and "<td>headline 1</td>" in page and "<td>description 1</td>" in page


def test_chat_streams_tool_calls_and_links_proposals_to_the_inbox(client: TestClient, token: str) -> None:
    started = client.post(
        "/chat",
        headers=bearer(token),
        data={"account": "sandbox:trailhead", "message": "which search terms waste money? <script>alert(1)</script>"},
        follow_redirects=False,
    )
    assert started.status_code == 303
    location = started.headers["location"]
    page = client.get(location, headers=bearer(token)).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    turn = re.search(r'sse-connect="(/chat/stream/[0-9a-f]+)"', page).group(1)
    with client.stream("GET", turn, headers=bearer(token)) as events:
        assert events.headers["content-type"].startswith("text/event-stream")
        body = "".join(events.iter_text())
    names = re.findall(r"^event: (\w+)$", body, re.M)
    assert names[-1] == "done" and names.count("message") >= 3
    assert 'class="call tool-call">calls ' in body  # the model's tool calls are shown
    assert '<div class="msg tool">' in body
    links = re.findall(r'href="/changes/([0-9a-f]{64})"', body)
    assert links and set(links) <= set(pending(client, token))
    assert client.get(turn, headers=bearer(token)).status_code == 409  # a turn streams once

    thread = location.split("?")[0]
    history = client.get(thread, headers=bearer(token)).text
    assert "&lt;script&gt;" in history and "tool-call" in history and "sse-connect" not in history
    assert thread.removeprefix("/chat/") in client.get("/chat", headers=bearer(token)).text


def test_untrusted_text_is_masked_like_the_cli_masks_it(client: TestClient, token: str) -> None:
    started = client.post(
        "/chat",
        headers=bearer(token),
        data={"account": "sandbox:trailhead", "message": "mail jane.doe@example.com the numbers"},
        follow_redirects=False,
    )
    page = client.get(started.headers["location"], headers=bearer(token)).text
    assert "jane.doe@example.com" not in page and "[email]" in page


def test_reports_and_the_change_log_with_rollback_through_the_gate(client: TestClient, token: str) -> None:
    reports = client.get("/reports", headers=bearer(token)).text
    name = re.search(r'href="/reports/([^"]+)"', reports).group(1)
    report = client.get(f"/reports/{name}", headers=bearer(token))
    assert report.status_code == 200 and "<html" in report.text.lower()
    assert "default-src 'none'" in report.headers["content-security-policy"]
    assert client.get("/reports/..%2Fchanges", headers=bearer(token)).status_code in (404, 409)

    log = client.get("/log", headers=bearer(token)).text
    entry = re.search(r'action="/log/(\d+)/rollback"', log).group(1)
    undone = client.post(f"/log/{entry}/rollback", headers=bearer(token))
    assert undone.status_code == 200 and "the inverse went through the gate" in undone.text
    assert re.search(r'class="(auto_apply|needs_approval|blocked)"', undone.text)


def test_serve_prints_its_url_and_first_token_once_it_listens(audited: Session) -> None:
    home = audited.settings.home
    with serving(home) as first:
        assert set(first) == {"url", "token"} and first["url"].startswith("http://127.0.0.1:")
        assert httpx.get(first["url"] + "/health").json() == {"status": "ok"}
        assert httpx.get(first["url"] + "/").status_code == 401
        inbox = httpx.get(first["url"] + "/", headers=bearer(first["token"]))
        assert inbox.status_code == 200 and '<b id="reviewer">admin</b>' in inbox.text and HASH.search(inbox.text)
    with serving(home) as again:  # the token was shown once: a restart keeps its digest and prints none
        assert again["token"] is None
        assert httpx.get(again["url"] + "/", headers=bearer(first["token"])).status_code == 200


def test_hostile_search_terms_reach_no_page_raw(home: Path) -> None:
    plant_hostile_terms(home)
    session = Session(load_settings())
    session.audit(GOOGLE_ACCOUNT)
    tokens = token_store(session)
    token = tokens.issue("maria")
    with TestClient(create_app(session, tokens)) as client:
        pages = {path: client.get(path, headers=bearer(token)).text for path in ("/", "/log", "/reports")}
        changes = {h for page in pages.values() for h in re.findall(r'href="/changes/([0-9a-f]{64})"', page)}
        pages |= {h: client.get(f"/changes/{h}", headers=bearer(token)).text for h in changes}
    text = "\n".join(pages.values())
    assert "boots" in text and "alert" in text  # what was made of the hostile terms is shown, as text
    for markup in MARKUP:
        assert markup not in text
    for secret in SECRETS:
        assert secret not in text


def test_new_token_names_a_colleague_who_then_answers_under_that_name(client: TestClient, audited: Session) -> None:
    code, out, _ = run("serve", "--new-token", "li wei", "--json")
    assert code == 0
    issued = json.loads(out)
    assert issued["reviewer"] == "li wei" and issued["token"].startswith("adp_")
    change = pending(client, issued["token"], "add_creative_variants")[0]
    client.post(f"/changes/{change}/reject", headers=bearer(issued["token"]), data={"reason": "later"})
    assert audited.change_log.latest(change).decided_by == "person:li wei"
    code, _, err = run("serve", "--new-token", "  ")
    assert code == 1 and "reviewer name" in err
