"""The chat: one conversation per thread, streamed over server-sent events as the graph takes its steps.

A message is posted, then its answer is streamed: each model reply and tool call is sent as soon as the
graph's checkpoint holds it, and the proposals it made, with links to the inbox, when the run ends.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from ads.errors import AdpilotError
from app.web.pages import Caller, ChatTurn, Web, caller, form_caller, render, templates, web
from ops.proposal_rows import proposal_rows
from policies.screening import mask_sensitive
from sandbox import GOOGLE_ACCOUNT, META_ACCOUNT

router = APIRouter()
POLL_SECONDS = 0.25


def message_view(message: BaseMessage) -> dict[str, Any] | None:
    if isinstance(message, HumanMessage):
        return {"role": "you", "text": str(message.content), "tool_calls": []}
    if isinstance(message, AIMessage):
        calls = [
            {"name": c["name"], "args": json.dumps(c.get("args", {}), ensure_ascii=False)} for c in message.tool_calls
        ]
        return {"role": "adpilot", "text": str(message.content), "tool_calls": calls}
    if isinstance(message, ToolMessage):
        artifact = message.artifact if isinstance(message.artifact, dict) else {}
        text = str(artifact.get("summary") or "") if message.status != "error" else str(message.content)
        return {"role": "tool", "name": message.name or "tool", "text": text, "error": message.status == "error"}
    return None


def _values(state: Web, thread_id: str) -> dict[str, Any]:
    config = {"configurable": {"thread_id": thread_id}}
    return dict(state.session.graphs["chat"].get_state(config).values)  # type: ignore[arg-type]


def _proposals(state: Web, values: dict[str, Any]) -> list[dict[str, Any]]:
    if not values.get("proposals"):
        return []
    money = state.session.open_account(values["account"]).account.money
    return [
        {k: r[k] for k in ("id", "hash", "kind", "summary", "decision", "reason", "status")}
        for r in proposal_rows(values, money)
    ]


def _fragment(name: str, **data: Any) -> str:
    return templates.get_template(name).render(**mask_sensitive(data))


def _event(name: str, html: str) -> str:
    """One server-sent event; each line of the HTML goes on its own `data:` line, as the format requires."""
    return f"event: {name}\n" + "".join(f"data: {line}\n" for line in html.splitlines() or [""]) + "\n"


@router.get("/chat", response_class=HTMLResponse)
def chats(request: Request, who: Annotated[Caller, Depends(caller)]) -> HTMLResponse:
    state = web(request)
    with state.lock:
        threads = state.session.change_log.threads("chat")
    accounts = sorted({GOOGLE_ACCOUNT, META_ACCOUNT, *state.session.plans, *(t.account for t in threads)})
    return render(
        request,
        "chats.html",
        who,
        threads=[
            {"thread": t.thread_id, "account": t.account, "started": f"{t.started_at:%Y-%m-%d %H:%M}"} for t in threads
        ],
        accounts=accounts,
    )


def _queue(state: Web, who: Caller, thread_id: str, account: str, message: str) -> RedirectResponse:
    if not message.strip():
        raise AdpilotError("the message is empty")
    turn_id = uuid.uuid4().hex
    state.turns[turn_id] = ChatTurn(
        thread_id=thread_id, account=account, message=message.strip(), reviewer=who.reviewer.name
    )
    return RedirectResponse(f"/chat/{thread_id}?turn={turn_id}", status_code=303)


@router.post("/chat")
def new_chat(
    request: Request,
    who: Annotated[Caller, Depends(form_caller)],
    account: Annotated[str, Form()] = GOOGLE_ACCOUNT,
    message: Annotated[str, Form()] = "",
) -> RedirectResponse:
    state = web(request)
    with state.lock:
        name = state.session.open_account(account.strip()).account.name  # an unknown account is refused here
        thread_id = f"chat-{uuid.uuid4().hex[:12]}"
        state.session.change_log.register_thread(thread_id, "chat", name)
    return _queue(state, who, thread_id, name, message)


def _thread(state: Web, thread_id: str) -> str:
    """The account of a known chat thread."""
    with state.lock:
        known = {t.thread_id: t.account for t in state.session.change_log.threads("chat")}
    if thread_id not in known:
        raise AdpilotError(f"unknown chat thread '{thread_id}'")
    return known[thread_id]


@router.post("/chat/{thread_id}")
def follow_up(
    request: Request,
    thread_id: str,
    who: Annotated[Caller, Depends(form_caller)],
    message: Annotated[str, Form()] = "",
) -> RedirectResponse:
    state = web(request)
    return _queue(state, who, thread_id, _thread(state, thread_id), message)


@router.get("/chat/{thread_id}", response_class=HTMLResponse)
def conversation(
    request: Request, thread_id: str, who: Annotated[Caller, Depends(caller)], turn: str = ""
) -> HTMLResponse:
    state = web(request)
    account = _thread(state, thread_id)
    with state.lock:
        values = _values(state, thread_id)
        proposals = _proposals(state, values)
    waiting = state.turns.get(turn)
    if waiting is not None and (waiting.thread_id != thread_id or waiting.reviewer != who.reviewer.name):
        waiting = None
    return render(
        request,
        "chat.html",
        who,
        thread=thread_id,
        account=account,
        messages=[v for m in values.get("messages", []) if (v := message_view(m))],
        proposals=proposals,
        waiting={"id": turn, "message": waiting.message} if waiting else None,
    )


@router.get("/chat/stream/{turn_id}")
async def stream(request: Request, turn_id: str, who: Annotated[Caller, Depends(caller)]) -> StreamingResponse:
    state = web(request)
    turn = state.turns.get(turn_id)
    if turn is None or turn.reviewer != who.reviewer.name:
        raise AdpilotError("no message waits on this stream (it was answered already)")
    del state.turns[turn_id]

    def run() -> None:
        with state.lock:
            state.session.chat(turn.account, turn.message, turn.thread_id, reviewer=turn.reviewer)

    async def events() -> AsyncIterator[str]:
        seen = len((await asyncio.to_thread(_values, state, turn.thread_id)).get("messages", []))
        task = asyncio.ensure_future(asyncio.to_thread(run))
        while True:
            finished = task.done()
            # The checkpoint is read while the run goes on: each step's messages show as soon as they are saved.
            values = await asyncio.to_thread(_values, state, turn.thread_id)
            for message in values.get("messages", [])[seen:]:
                if not isinstance(message, HumanMessage) and (view := message_view(message)):
                    yield _event("message", _fragment("message.html", message=view))
            seen = len(values.get("messages", []))
            if finished:
                break
            await asyncio.sleep(POLL_SECONDS)
        error = task.exception()
        if error is not None:
            text = str(error) if isinstance(error, AdpilotError) else f"the run failed: {type(error).__name__}: {error}"
            yield _event(
                "message", _fragment("message.html", message={"role": "error", "text": text, "tool_calls": []})
            )
        else:
            proposals = await asyncio.to_thread(_proposals, state, values)
            yield _event("message", _fragment("proposals.html", proposals=proposals))
        yield _event("done", "")

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})
