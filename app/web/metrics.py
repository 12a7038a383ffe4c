"""Policy metrics in the web app: the figures and drift alerts `adpilot metrics` prints (ops.policy_metrics)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from app.web.pages import Caller, caller, render, web
from ops.policy_metrics import known_account, parse_since, policy_metrics

router = APIRouter()


@router.get("/metrics", response_class=HTMLResponse)
def metrics(
    request: Request, who: Annotated[Caller, Depends(caller)], account: str = "", since: str = ""
) -> HTMLResponse:
    state = web(request)
    session = state.session
    start = parse_since(since, session.settings.today)
    with state.lock:
        log = session.change_log
        found = policy_metrics(log, account=known_account(log, account) if account else None, since=start)
        accounts = sorted({d.account for d in log.decisions()})
    return render(
        request,
        "metrics.html",
        who,
        metrics=found.model_dump(mode="json"),
        weeks=[w.model_dump(mode="json") for w in found.weekly if w.kind == "all"],
        accounts=accounts,
        account=account,
        since=since,
    )
