"""`adpilot serve`: the web app under uvicorn, on a socket bound before it starts so `--port 0` has a port to print."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

import uvicorn
from pydantic import BaseModel

from app.web.access import TokenStore
from app.web.app import create_app

if TYPE_CHECKING:
    from app.session import Session

FIRST_REVIEWER = "admin"


class BackgroundService(Protocol):
    """Something that runs in the web app's process while it serves, such as the in-process audit scheduler."""

    def start(self) -> None: ...

    def shutdown(self) -> None: ...


class Listening(BaseModel):
    url: str
    token: str | None  # only at the first start: afterwards only digests are kept
    reviewer: str | None


def loopback(host: str) -> bool:
    """Whether `host` names this machine only (a name is looked up, as the server will)."""
    try:
        return all(ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None))
    except (OSError, ValueError):
        return False


def token_store(session: Session) -> TokenStore:
    return TokenStore(session.settings.home / "web_tokens.json")


def serve(
    session: Session,
    *,
    host: str,
    port: int,
    on_listening: Callable[[Listening], None],
    services: Callable[[str], Sequence[BackgroundService]] = lambda url: (),
) -> None:
    """Serve until SIGINT or SIGTERM; `on_listening` is called once the server accepts connections.

    `services(url)` makes what runs beside the app (given the URL it serves on, for links in notifications):
    each is started before the server and shut down after it."""
    tokens = token_store(session)
    first = tokens.issue(FIRST_REVIEWER) if tokens.empty() else None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family)
    bound = listener.getsockname()[1]
    url = f"http://[{host}]:{bound}" if family == socket.AF_INET6 else f"http://{host}:{bound}"
    server = uvicorn.Server(
        uvicorn.Config(create_app(session, tokens), log_level="warning", server_header=False, proxy_headers=False)
    )

    def announce() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.02)
        if server.started:
            on_listening(Listening(url=url, token=first, reviewer=FIRST_REVIEWER if first else None))

    threading.Thread(target=announce, name="announce", daemon=True).start()
    running = list(services(url))
    for service in running:
        service.start()
    try:
        server.run(sockets=[listener])
    finally:
        for service in reversed(running):
            service.shutdown()
        listener.close()
