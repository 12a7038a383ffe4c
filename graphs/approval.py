"""The steps every proposal takes, in the audit and the chat alike: gate → auto-apply → approval.

`await_approval` interrupts with one Agent Inbox request per pending change. A person may answer
some of them; the step applies what was accepted, records what was rejected, sends edited
changes back through the gate as new changes, and interrupts again for whatever is still open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from langgraph.graph import END, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt
from pydantic import ValidationError

from ads.changes import AddNegativeKeywords, Change, SetBudget, parse_change
from ads.errors import AdpilotError
from ads.statuses import APPLIED_STATUSES
from graphs.context import RunContext
from graphs.state import ProposalState
from ops.apply import apply_changes, by_person
from policies.gate import Decision, GateContext, account_blocks, decide
from tools.account_reports import Window

AUTO_APPLY, NEEDS_APPROVAL = "auto_apply", "needs_approval"


def proposals(state: ProposalState) -> dict[str, Change]:
    """Every change proposed in this thread, by hash, in the order proposed."""
    return {change.hash: change for change in (parse_change(p) for p in state.get("proposals", []))}


def pending_approval(state: ProposalState) -> list[Change]:
    decisions, results, reviews = state.get("decisions", {}), state.get("results", {}), state.get("reviews", {})
    return [
        change
        for key, change in proposals(state).items()
        if decisions.get(key, {}).get("outcome") == NEEDS_APPROVAL and key not in results and key not in reviews
    ]


def gate_context(ctx: RunContext) -> GateContext:
    """What the gate judges on, read from the account now: budgets, spend, and its own search terms."""
    pacing = ctx.tools.pacing()
    structure = ctx.tools.structure()
    now = dt.datetime.now(dt.UTC)
    hour_ago, week_ago = now - dt.timedelta(hours=1), now - dt.timedelta(days=7)
    previous: dict[str, set[int]] = {}
    for entry in ctx.change_log.entries(account=structure.account.name):
        change = entry.parsed_change() if entry.kind == "set_budget" and entry.status in APPLIED_STATUSES else None
        if isinstance(change, SetBudget):
            previous.setdefault(change.budget_id, set()).add(change.from_amount)
    terms = ctx.tools.search_terms(Window.LAST_90_DAYS.period(ctx.today))
    return GateContext(
        policy=ctx.policy,
        account=structure.account,
        today=ctx.today,
        month_to_date_spend=pacing.account_month_to_date,
        daily_budget_total=sum(b.daily_amount for b in structure.budgets),
        days_left_in_month=pacing.days_left,
        budget_changes_last_hour={b.id: ctx.change_log.budget_changes_since(b.id, hour_ago) for b in structure.budgets},
        budget_changes_last_week={b.id: ctx.change_log.budget_changes_since(b.id, week_ago) for b in structure.budgets},
        previous_budget_amounts={budget: tuple(sorted(amounts)) for budget, amounts in previous.items()},
        # Only Google search accounts have search terms; elsewhere a negative cannot be checked, so it waits.
        search_terms=terms if not terms.empty else None,
        shared_lists=structure.shared_lists,
    )


def gate(state: ProposalState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    undecided = [c for key, c in proposals(state).items() if key not in state.get("decisions", {})]
    if not undecided:
        return {}
    context = gate_context(ctx)
    decisions: dict[str, dict[str, Any]] = {}
    for change in undecided:
        decision = decide(change, context)
        decisions[change.hash] = decision.model_dump(mode="json")
        ctx.event(
            "gate.decision",
            input={"change_id": change.id, "kind": change.kind, "summary": change.summary()},
            output=decision,
            metadata={"rule": decision.rule},
        )
    return {"decisions": decisions}


def apply_with_gate(ctx: RunContext, changes: list[Change], decided_by: dict[str, str]) -> dict[str, Any]:
    """Apply through the one path, which asks the gate again first; a change it now refuses gets the new decision."""
    context = gate_context(ctx)
    fresh: dict[str, Decision] = {}

    def regate(change: Change) -> Decision:
        fresh[change.hash] = decide(change, context)
        return fresh[change.hash]

    applied = apply_changes(
        ctx.account, changes, decided_by=decided_by, log=ctx.change_log, gate=regate, tracing=ctx.tracing
    )
    refused = {r.change_hash for r in applied if r.status == "blocked"}
    return {
        "results": {r.change_hash: r.model_dump(mode="json") for r in applied},
        "decisions": {key: fresh[key].model_dump(mode="json") for key in refused},
    }


def apply_auto(state: ProposalState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    decisions, results = state.get("decisions", {}), state.get("results", {})
    ready = [
        c
        for key, c in proposals(state).items()
        if decisions.get(key, {}).get("outcome") == AUTO_APPLY and key not in results
    ]
    if not ready:
        return {}
    return apply_with_gate(runtime.context, ready, {c.hash: f"policy:{decisions[c.hash]['rule']}" for c in ready})


class EditError(AdpilotError):
    """A person's edit that cannot become a change: unknown or invalid fields, or no change at all."""


# Fields an edit may not set: who the change is for, what kind it is, and what the account itself measures.
_NOT_EDITABLE = frozenset({"account", "kind", "hash", "id", "evidence"})


def edited_change(change: Change, fields: Any, context: GateContext) -> Change:
    """The new change a person's edit makes: `change` with `fields` replaced (named as in its JSON form).

    A negative's blocked terms are recomputed from the account, so an edit cannot carry forged evidence."""
    if not isinstance(fields, dict) or not fields:
        raise EditError(f"the edit of change {change.id} names no fields to replace (a JSON object of fields)")
    locked = sorted(_NOT_EDITABLE & fields.keys())
    if locked:
        raise EditError(f"the edit of change {change.id} sets {', '.join(locked)}, which cannot be edited")
    try:
        edited = parse_change({**change.model_dump(mode="json"), **fields})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:] or first["loc"]) or "(change)"
        more = f" (+{error.error_count() - 1} more)" if error.error_count() > 1 else ""
        raise EditError(f"the edit of change {change.id}: {where}: {first['msg']}{more}") from None
    if edited.content_key() == change.content_key():
        raise EditError(f"the edit changes nothing in change {change.id}; it stays pending as it was")
    if isinstance(edited, AddNegativeKeywords):
        edited = account_blocks(edited, context)
    return edited


def edit_fields(response: dict[str, Any]) -> Any:
    """The replaced fields of an edit answer: ours `{"args": {...}}`, Agent Inbox's `{"args": {"action", "args"}}`
    and LangChain v1's `{"edited_action": {"name", "args"}}`."""
    args = response.get("edited_action") or response.get("args")
    if isinstance(args, dict) and isinstance(args.get("args"), dict) and ("action" in args or "name" in args):
        return args["args"]
    return args


def approval_request(change: Change, decision: dict[str, Any], money: Callable[[int], str]) -> dict[str, Any]:
    """An Agent Inbox interrupt request for one change."""
    evidence = "; ".join(change.evidence.lines(money))
    return {
        "action_request": {"action": change.kind, "args": change.model_dump(mode="json")},
        "config": {"allow_accept": True, "allow_edit": True, "allow_respond": True, "allow_ignore": True},
        "description": (
            f"**{change.summary()}** (change {change.id})\n\n{change.rationale}\n\n"
            f"Gate: {decision['reason']} (rule `{decision['rule']}`)\n\nEvidence: {evidence or 'none recorded'}"
        ),
        "change_id": change.id,
        "change_hash": change.hash,
    }


def make_await_approval(*, done: str, after_answer: str):
    """The approval step: it goes to `done` once no change waits, and to `after_answer` after each answer."""

    def await_approval(state: ProposalState, runtime: Runtime[RunContext]) -> Command:
        open_changes = pending_approval(state)
        if not open_changes:
            return Command(goto=done)
        decisions = state.get("decisions", {})
        money = runtime.context.tools.structure().account.money
        answer = interrupt([approval_request(c, decisions[c.hash], money) for c in open_changes])
        responses = _responses_by_hash(answer, open_changes)
        return _act_on(responses, {c.hash: c for c in open_changes}, runtime.context, after_answer)

    return await_approval


def _responses_by_hash(answer: Any, open_changes: list[Change]) -> dict[str, dict[str, Any]]:
    """Agent Inbox answers come as a list in request order; the CLI answers a dict keyed by change hash."""
    if isinstance(answer, list):
        return {c.hash: r for c, r in zip(open_changes, answer, strict=False) if isinstance(r, dict)}
    if isinstance(answer, dict):
        return {k: v for k, v in answer.items() if isinstance(v, dict)}
    return {}


def _act_on(
    responses: dict[str, dict[str, Any]], open_changes: dict[str, Change], ctx: RunContext, after_answer: str
) -> Command:
    accepted: list[Change] = []
    reviews: dict[str, dict[str, Any]] = {}
    edited: list[dict[str, Any]] = []
    context: GateContext | None = None
    for key, response in responses.items():
        change = open_changes.get(key)
        if change is None:
            continue  # an answer for a change that is no longer open: nothing to do
        kind, by = response.get("type"), str(response.get("by") or ctx.reviewer)
        if kind in ("accept", "approve"):
            accepted.append(change)
            reviews[key] = {"type": "accept", "by": by}
        elif kind == "edit":
            context = context or gate_context(ctx)
            try:
                edit = edited_change(change, edit_fields(response), context)
            except EditError as error:  # the change stays pending; the CLI refuses such edits before resuming
                ctx.event("change.edit_refused", input={"change_id": change.id}, output={"reason": str(error)})
                continue
            edited.append(edit.model_dump(mode="json"))
            reviews[key] = {"type": "edit", "by": by, "replaced_by": edit.hash}
            ctx.change_log.append(change, "edited", decided_by=by_person(by), message=f"edited into {edit.id}")
        else:  # ignore, respond or reject: rejected, with the person's words
            reason = str(response.get("message") or response.get("reason") or response.get("args") or "")
            reviews[key] = {"type": "reject", "by": by, "reason": reason}
            ctx.change_log.append(change, "rejected", decided_by=by_person(by), message=reason)
            ctx.event("change.rejected", input={"change_id": change.id}, output=reviews[key])
    update: dict[str, Any] = {"reviews": reviews, "proposals": edited}
    if accepted:
        update |= apply_with_gate(ctx, accepted, {c.hash: by_person(reviews[c.hash]["by"]) for c in accepted})
    # An edited change is a new change: it goes through the gate again.
    return Command(update=update, goto="gate" if edited else after_answer)


def add_approval_steps(builder: StateGraph[Any, RunContext, Any, Any], *, report: str | None = None) -> None:
    """Add gate → apply_auto → [report →] await_approval → END to a graph.

    With a `report` node, the report is written before the run waits for people and again after
    each answer, so it always shows the current state of every proposal.
    """
    after_answer = report or "await_approval"
    builder.add_node("gate", gate)
    builder.add_node("apply_auto", apply_auto)
    builder.add_node(
        "await_approval",
        make_await_approval(done=END, after_answer=after_answer),
        destinations=tuple({"await_approval", "gate", after_answer, END}),
    )
    builder.add_edge("gate", "apply_auto")
    builder.add_edge("apply_auto", after_answer)
    if report:
        builder.add_edge(report, "await_approval")
