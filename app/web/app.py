"""The web app (`adpilot serve`): inbox, chat, reports and change log over one Session.

Every route but /health needs a token, as an `Authorization: Bearer` header or through the login form,
which starts a browser login (an HttpOnly cookie) with its own CSRF token for every form.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from ads.errors import AdpilotError
from app.web import chat, history, inbox, metrics
from app.web.access import TokenStore, same_secret
from app.web.pages import HERE, LOGIN_COOKIE, Caller, NotSignedIn, Web, caller, form_caller, render, web

if TYPE_CHECKING:
    from app.session import Session

LOGIN_CSRF_COOKIE = "adpilot_login_csrf"
STATIC = {"htmx.min.js", "sse.min.js"}


def create_app(session: Session, tokens: TokenStore) -> FastAPI:
    # No OpenAPI pages: they would be the one thing served without a token.
    app = FastAPI(title="adpilot", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = Web(session=session, tokens=tokens)
    app.include_router(inbox.router)
    app.include_router(chat.router)
    app.include_router(history.router)
    app.include_router(metrics.router)

    @app.exception_handler(NotSignedIn)
    def not_signed_in(request: Request, _: NotSignedIn) -> Response:
        if request.headers.get("hx-request") == "true":
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return _login_page(request, status=401, message="Sign in with your access token.")

    @app.exception_handler(AdpilotError)
    def refused(request: Request, error: AdpilotError) -> Response:
        # The same one line the CLI prints; 409 because it is the state of a change, or the input, that refuses.
        return _error(request, str(error), 409)

    @app.exception_handler(HTTPException)
    def http_error(request: Request, error: HTTPException) -> Response:
        return _error(request, str(error.detail), error.status_code)

    @app.get("/health")
    def health() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        return _login_page(request)

    @app.post("/login")
    def login(
        request: Request,
        token: Annotated[str, Form()] = "",
        csrf: Annotated[str, Form()] = "",
    ) -> Response:
        if not same_secret(csrf, request.cookies.get(LOGIN_CSRF_COOKIE, "")) or not csrf:
            return _login_page(request, status=403, message="The login form expired: try again.")
        reviewer = tokens.reviewer(token.strip())
        if reviewer is None:
            return _login_page(request, status=401, message="That token is not valid.")
        login_id, _ = web(request).logins.start(reviewer)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(LOGIN_COOKIE, login_id, httponly=True, samesite="strict")
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return response

    @app.post("/logout")
    def logout(request: Request, who: Annotated[Caller, Depends(form_caller)]) -> Response:
        web(request).logins.end(request.cookies.get(LOGIN_COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(LOGIN_COOKIE)
        return response

    @app.get("/static/{name}")
    def static(name: str, who: Annotated[Caller, Depends(caller)]) -> FileResponse:
        if name not in STATIC:
            raise HTTPException(404, f"no static file '{name}'")
        return FileResponse(HERE / "static" / name, media_type="text/javascript")

    return app


def _login_page(request: Request, *, status: int = 200, message: str = "") -> Response:
    # Login CSRF: the form's token must match a cookie only this site could have set.
    csrf = secrets.token_urlsafe(32)
    response = render(request, "login.html", None, status=status, csrf=csrf, message=message)
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="strict")
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _error(request: Request, message: str, status: int) -> Response:
    try:
        who = caller(request)
    except NotSignedIn:
        who = None
    return render(request, "error.html", who, status=status, message=message)
