"""Past audit reports, the change log with each change's history, and rollback through the gate."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ads.errors import AdpilotError
from ads.statuses import APPLIED_STATUSES
from app.web.pages import Caller, account_money, caller, form_caller, render, web
from app.web.views import entry_view
from ops.proposal_rows import proposal_rows

router = APIRouter()
# A report's name as ops.report writes it: nothing that could reach outside the reports directory.
REPORT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def _report_summary(document: dict[str, Any], name: str) -> dict[str, Any]:
    statuses = [p.get("status", "") for p in document.get("proposals", [])]
    return {
        "name": name,
        "account": document.get("account", ""),
        "generated_at": str(document.get("generated_at", ""))[:19].replace("T", " "),
        "applied": sum(s in APPLIED_STATUSES for s in statuses),
        "pending": statuses.count("pending"),
        "blocked": statuses.count("blocked"),
    }


@router.get("/reports", response_class=HTMLResponse)
def reports(request: Request, who: Annotated[Caller, Depends(caller)]) -> HTMLResponse:
    folder = web(request).session.settings.reports_dir
    found = []
    for path in sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        if not path.with_suffix(".html").exists():
            continue
        try:
            found.append(_report_summary(json.loads(path.read_text(encoding="utf-8")), path.stem))
        except (OSError, ValueError):
            continue  # a report being written, or not ours: not listed
    return render(request, "reports.html", who, reports=found)


@router.get("/reports/{name}", response_class=HTMLResponse)
def report(request: Request, name: str, who: Annotated[Caller, Depends(caller)]) -> HTMLResponse:
    folder = web(request).session.settings.reports_dir
    path = folder / f"{name}.html"
    if not REPORT_NAME.fullmatch(name) or not path.is_file():
        raise AdpilotError(f"no report named '{name}'")
    # ops.report escaped and masked what it wrote; it is served as it is.
    return HTMLResponse(
        path.read_text(encoding="utf-8"),
        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:"},
    )


@router.get("/log", response_class=HTMLResponse)
def change_log(
    request: Request, who: Annotated[Caller, Depends(caller)], account: str = "", limit: int = 100
) -> HTMLResponse:
    state = web(request)
    with state.lock:
        entries = state.session.change_log.entries(account=account or None, limit=max(1, min(limit, 1000)))
        money = {name: account_money(state, name) for name in {e.account for e in entries}}
    return render(
        request,
        "log.html",
        who,
        entries=[{**entry_view(e, money[e.account]), "undoable": e.status in APPLIED_STATUSES} for e in entries],
        account=account,
    )


@router.post("/log/{entry_id}/rollback", response_class=HTMLResponse)
def rollback(request: Request, entry_id: int, who: Annotated[Caller, Depends(form_caller)]) -> HTMLResponse:
    """Propose the inverse of a logged change; the gate decides on it like on any proposal."""
    state = web(request)
    with state.lock:
        outcome = state.session.rollback(entry_id)
        money = state.session.open_account(outcome.values["account"]).account.money
        rows = proposal_rows(outcome.values, money)
    return render(
        request,
        "rollback.html",
        who,
        entry=entry_id,
        proposals=[
            {k: r[k] for k in ("id", "hash", "kind", "summary", "decision", "reason", "status", "message")}
            for r in rows
        ],
    )
