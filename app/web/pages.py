"""What every route shares: the app's state, who is calling, the CSRF check and page rendering."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from pydantic import BaseModel

from ads.errors import AdpilotError
from app.web.access import Logins, Reviewer, TokenStore, same_secret
from policies.screening import mask_sensitive

if TYPE_CHECKING:
    from app.session import Session

LOGIN_COOKIE = "adpilot_login"
HERE = Path(__file__).parent
# Autoescaping on for every template: account names, search terms and ad copy are typed by strangers.
templates = Jinja2Templates(env=Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True))


class ChatTurn(BaseModel):
    """A message waiting to be answered on its thread's stream."""

    thread_id: str
    account: str
    message: str
    reviewer: str


@dataclass
class Web:
    session: Session
    tokens: TokenStore
    logins: Logins = field(default_factory=Logins)
    # One Session serves every request: its graph runs and answers take turns.
    lock: threading.RLock = field(default_factory=threading.RLock)
    turns: dict[str, ChatTurn] = field(default_factory=dict)


class Caller(BaseModel):
    reviewer: Reviewer
    csrf: str | None = None  # a browser login's; None for a Bearer token, which a browser never sends by itself


class NotSignedIn(Exception):
    """No valid token or login on a request that needs one."""


def web(request: Request) -> Web:
    state: Web = request.app.state.web
    return state


def account_money(state: Web, account: str) -> Callable[[int], str]:
    """How an account shows money; one that no longer opens (removed from the accounts file) says its units."""
    try:
        return state.session.open_account(account).account.money
    except AdpilotError:
        return lambda units: f"{units:,} (money units of {account})"


def caller(request: Request) -> Caller:
    state = web(request)
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        if reviewer := state.tokens.reviewer(header[7:].strip()):
            return Caller(reviewer=reviewer)
        raise NotSignedIn()
    if login := state.logins.get(request.cookies.get(LOGIN_COOKIE)):
        return Caller(reviewer=login.reviewer, csrf=login.csrf)
    raise NotSignedIn()


async def form_caller(request: Request, who: Annotated[Caller, Depends(caller)]) -> Caller:
    """The caller of a form post, whose CSRF token must match their login's."""
    if who.csrf is not None:
        form = await request.form()
        given = form.get("csrf")
        if not same_secret(given if isinstance(given, str) else None, who.csrf):
            raise HTTPException(403, "this form's CSRF token is missing or wrong: reload the page and try again")
    return who


def render(
    request: Request, name: str, who: Caller | None, *, status: int = 200, csrf: str | None = None, **data: Any
) -> HTMLResponse:
    """A page, or the fragment of it that htmx asked for, with every value masked the way the CLI masks it.

    `csrf` overrides the caller's token (the login form has its own); tokens are never masked."""
    context = {
        **mask_sensitive(data),
        "user": who.reviewer.name if who else None,
        "csrf": csrf if csrf is not None else (who.csrf or "") if who else "",
        "partial": request.headers.get("hx-request") == "true",
    }
    return templates.TemplateResponse(request, name, context, status_code=status)
