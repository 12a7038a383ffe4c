"""The inbox: changes waiting for a person, and their answers through the same path as `adpilot approvals`.

Every form carries the full content hash of the change it shows. The answer goes to `Session.answer` with that
hash, so a page left open while the change was answered, edited or proposed anew cannot act on what it shows.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from ads.changes import Change
from ads.errors import AdpilotError
from app.web.pages import Caller, account_money, caller, form_caller, render, web
from app.web.views import answer_record_view, answer_view, change_diff, change_view, edit_fields_from_form, entry_view
from graphs.approval import edited_change, gate_context
from policies.gate import decide

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def inbox(request: Request, who: Annotated[Caller, Depends(caller)], account: str = "", kind: str = "") -> HTMLResponse:
    state = web(request)
    with state.lock:
        pending = state.session.pending_approvals()
        money = {p.account: state.session.open_account(p.account).account.money for p in pending}
    shown = [p for p in pending if (not account or p.account == account) and (not kind or p.change.kind == kind)]
    return render(
        request,
        "inbox.html",
        who,
        changes=[{**change_view(p.change, p.decision, money[p.account]), "thread": p.thread_id} for p in shown],
        accounts=sorted({p.account for p in pending}),
        kinds=sorted({p.change.kind for p in pending}),
        account=account,
        kind=kind,
        total=len(pending),
    )


@router.get("/changes/{change_hash}", response_class=HTMLResponse)
def change_page(request: Request, change_hash: str, who: Annotated[Caller, Depends(caller)]) -> HTMLResponse:
    """A pending change with its answer forms; any other change with its history."""
    state = web(request)
    with state.lock:
        item = next((p for p in state.session.pending_approvals() if p.change.hash == change_hash), None)
        if item is not None:
            money = state.session.open_account(item.account).account.money
            view = {**change_view(item.change, item.decision, money), "thread": item.thread_id}
            return render(request, "change.html", who, change=view)
        entries = state.session.change_log.entries(change=change_hash)
        answer = state.session.change_log.answer(change_hash)
    if not entries and answer is None:
        raise AdpilotError(f"no change with hash {change_hash[:16]}… (it may have been edited into a new change)")
    return render(
        request,
        "history.html",
        who,
        change_hash=change_hash,
        entries=[entry_view(e, account_money(state, e.account)) for e in entries],
        answer=answer_record_view(answer),
    )


def _answer(request: Request, who: Caller, change_hash: str, response: dict[str, Any]) -> HTMLResponse:
    state = web(request)
    with state.lock:
        item, outcome = state.session.answer(change_hash, response, reviewer=who.reviewer.name)
        money = account_money(state, item.change.account)
    return render(request, "answer.html", who, answer=answer_view(item.change, outcome.values, money))


@router.post("/changes/{change_hash}/approve", response_class=HTMLResponse)
def approve(request: Request, change_hash: str, who: Annotated[Caller, Depends(form_caller)]) -> HTMLResponse:
    return _answer(request, who, change_hash, {"type": "accept"})


@router.post("/changes/{change_hash}/reject", response_class=HTMLResponse)
def reject(
    request: Request,
    change_hash: str,
    who: Annotated[Caller, Depends(form_caller)],
    reason: Annotated[str, Form()] = "",
) -> HTMLResponse:
    if not reason.strip():
        raise AdpilotError("a rejection needs a reason (it is recorded in the change log)")
    return _answer(request, who, change_hash, {"type": "reject", "reason": reason.strip()})


async def form_fields(request: Request) -> dict[str, str]:
    return {key: value for key, value in (await request.form()).items() if isinstance(value, str)}


def _form_edit(request: Request, change_hash: str, form: dict[str, str]) -> tuple[Change, str, Any]:
    """The pending change, its account, and the fields the form replaces (checked by the change's schema)."""
    item = web(request).session.find_pending(change_hash)
    try:
        return item.change, item.account, edit_fields_from_form(item.change, form)
    except ValueError as error:
        raise AdpilotError(str(error)) from None


@router.post("/changes/{change_hash}/preview", response_class=HTMLResponse)
def preview_edit(
    request: Request,
    change_hash: str,
    who: Annotated[Caller, Depends(form_caller)],
    form: Annotated[dict[str, str], Depends(form_fields)],
) -> HTMLResponse:
    """What an edit would make, validated by the change's schema, and what the gate would decide of it."""
    state = web(request)
    with state.lock:
        change, account, replaced = _form_edit(request, change_hash, form)
        context = gate_context(state.session.run_services(account))
        edited = edited_change(change, replaced, context)
        decision = decide(edited, context)
    return render(
        request,
        "preview.html",
        who,
        diff=change_diff(change, edited),
        outcome=decision.outcome,
        reason=decision.reason,
        rule=decision.rule,
        new_id=edited.id,
    )


@router.post("/changes/{change_hash}/edit", response_class=HTMLResponse)
def edit(
    request: Request,
    change_hash: str,
    who: Annotated[Caller, Depends(form_caller)],
    form: Annotated[dict[str, str], Depends(form_fields)],
) -> HTMLResponse:
    state = web(request)
    with state.lock:
        _, _, replaced = _form_edit(request, change_hash, form)
    return _answer(request, who, change_hash, {"type": "edit", "args": replaced})
