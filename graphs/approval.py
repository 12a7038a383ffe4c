"""The steps every proposal takes, in the audit and the chat alike: gate → auto-apply → approval.

`await_approval` interrupts with one LangChain v1 human-in-the-loop action request per pending change.
A person may answer some of them; the step applies what was approved, records what was rejected, sends
edited changes back through the gate as new changes, keeps comments (legacy Agent Inbox `response`s;
in the chat they go to the model), and interrupts again for whatever is still open.

One queue across runs: what the gate holds for a person goes into the change log's queue, where it takes the
place of an equal change another run (or an earlier chat turn) left waiting. A run asks only about its changes
that are still open there; one with nothing open is marked finished.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import Any

from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt
from pydantic import ValidationError

from ads.changes import AddNegativeKeywords, Change, ReallocateBudget, SetBudget, parse_change
from ads.errors import AdpilotError
from ads.statuses import APPLIED_STATUSES
from graphs.context import RunContext, RunServices, ServiceFactory, services
from graphs.state import ProposalState
from ops.apply import apply_changes, by_person
from policies.gate import Decision, GateContext, Origin, account_blocks, decide
from policies.reproposal import reproposal
from policies.screening import screen
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


def gate_context(ctx: RunServices, origin: Origin = "audit") -> GateContext:
    """What the gate judges on, read from the account now: budgets, spend, and its own search terms; and which
    kind of run proposed the changes."""
    pacing = ctx.tools.pacing()
    structure = ctx.tools.structure()
    now = dt.datetime.now(dt.UTC)
    hour_ago, week_ago = now - dt.timedelta(hours=1), now - dt.timedelta(days=7)
    previous: dict[str, set[int]] = {}
    for entry in ctx.change_log.entries(account=structure.account.name):
        budgets = entry.kind in ("set_budget", "reallocate_budget") and entry.status in APPLIED_STATUSES
        change = entry.parsed_change() if budgets else None
        if isinstance(change, SetBudget):
            previous.setdefault(change.budget_id, set()).add(change.from_amount)
        if isinstance(change, ReallocateBudget):
            for leg in change.legs:
                previous.setdefault(leg.budget_id, set()).add(leg.from_amount)
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
        origin=origin,
    )


def unrepeated(ctx: RunServices, changes: list[Change]) -> tuple[list[Change], list[str]]:
    """The changes worth proposing, and one line for each left out: one the account already holds (read back),
    and one a person rejected that is still cooling off under the policy."""
    kept: list[Change] = []
    left_out: list[str] = []
    for change in changes:
        if ctx.account.read_back(change).present:
            left_out.append(f"{change.summary()}: already in the account")
            continue
        rejected = ctx.change_log.last_rejection(change.account, change.content_key())
        if rejected is not None:
            verdict = reproposal(
                rejected.parsed_change().evidence,
                rejected.closed_on or rejected.proposed_on,
                change.evidence,
                ctx.today,
                ctx.policy.reproposal,
            )
            if not verdict.allowed:
                by = rejected.closed_by.removeprefix("person:")
                left_out.append(f"{change.summary()}: rejected by {by} on {rejected.closed_on}; {verdict.why}")
                continue
        kept.append(change)
    return kept, left_out


def make_gate(graph: Origin, factory: ServiceFactory):
    """The gate step of the graph called `graph`: it decides each new proposal, and queues what waits for a person
    under this run's thread."""

    def gate(state: ProposalState, runtime: Runtime[RunContext], config: RunnableConfig) -> dict[str, Any]:
        ctx = services(runtime, factory)
        undecided = [c for key, c in proposals(state).items() if key not in state.get("decisions", {})]
        if not undecided:
            return {}
        context = gate_context(ctx, origin=graph)
        made = [decide(change, context) for change in undecided]
        ctx.change_log.record_decisions(
            made,
            account=context.account.name,
            policy=ctx.policy.digest(),
            thread_id=_thread_id(config),
            graph=graph,
            today=ctx.today,
        )
        decisions: dict[str, dict[str, Any]] = {}
        for change, decision in zip(undecided, made, strict=True):
            decisions[change.hash] = decision.model_dump(mode="json")
            ctx.event(
                "gate.decision",
                input={"change_id": change.id, "kind": change.kind, "summary": change.summary()},
                output=decision,
                metadata={"rule": decision.rule},
            )
            if decision.outcome == NEEDS_APPROVAL:
                replaced = ctx.change_log.enqueue(
                    change, decisions[change.hash], thread_id=_thread_id(config), graph=graph, today=ctx.today
                )
                if replaced is not None:
                    ctx.event(
                        "queue.refreshed", input={"change_id": change.id}, output={"replaces": replaced.change_id}
                    )
        return {"decisions": decisions}

    return gate


def _thread_id(config: RunnableConfig) -> str:
    return str(config.get("configurable", {})["thread_id"])


def apply_with_gate(ctx: RunServices, changes: list[Change], decided_by: dict[str, str]) -> dict[str, Any]:
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


def apply_auto(state: ProposalState, runtime: Runtime[RunContext], factory: ServiceFactory) -> dict[str, Any]:
    decisions, results = state.get("decisions", {}), state.get("results", {})
    ready = [
        c
        for key, c in proposals(state).items()
        if decisions.get(key, {}).get("outcome") == AUTO_APPLY and key not in results
    ]
    if not ready:
        return {}
    return apply_with_gate(
        services(runtime, factory), ready, {c.hash: f"policy:{decisions[c.hash]['rule']}" for c in ready}
    )


class EditError(AdpilotError):
    """A person's edit that cannot become a change: unknown or invalid fields, or no change at all."""


# Fields an edit may not set: who the change is for, what kind it is, and what the account itself measures.
_NOT_EDITABLE = frozenset({"account", "kind", "hash", "id", "evidence"})


def edited_change(change: Change, fields: Any, context: GateContext) -> Change:
    """The new change a person's edit makes: `change` with `fields` replaced (named as in its JSON form).

    Fields given with their current value are not edits (LangChain v1's UIs send back every argument), so only
    what differs counts. A negative's blocked terms are recomputed from the account, so an edit cannot carry
    forged evidence."""
    if not isinstance(fields, dict) or not fields:
        raise EditError(f"the edit of change {change.id} names no fields to replace (a JSON object of fields)")
    current = change.model_dump(mode="json")
    fields = {name: value for name, value in fields.items() if current.get(name, object()) != value}
    locked = sorted(_NOT_EDITABLE & fields.keys())
    if locked:
        raise EditError(f"the edit of change {change.id} sets {', '.join(locked)}, which cannot be edited")
    try:
        edited = parse_change({**current, **fields})
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
    and LangChain v1's `{"edited_action": {"name", "args"}}`. The action's name is the change's kind, so renaming
    it is an edit of `kind`, which `edited_change` refuses."""
    args = response.get("edited_action") or response.get("args")
    if isinstance(args, dict) and isinstance(args.get("args"), dict) and ("action" in args or "name" in args):
        return {**args["args"], "kind": args.get("name", args.get("action"))}
    return args


# What a person may answer in LangChain v1's human-in-the-loop shape; a comment (Agent Inbox's `response`) is
# accepted too, but v1 UIs have no button for it.
ALLOWED_DECISIONS = ("approve", "edit", "reject")


def approval_request(changes: list[Change], decisions: dict[str, Any], money: Callable[[int], str]) -> dict[str, Any]:
    """The interrupt for the changes waiting for a person, in LangChain v1's human-in-the-loop shape (what
    agent-chat-ui renders): one action request per change, named by its kind, with the change as its args (its
    `hash` among them, which the answer binds to), and one review config per request."""
    return {
        "action_requests": [
            {
                "name": c.kind,
                "args": c.model_dump(mode="json"),
                "description": _description(c, decisions[c.hash], money),
            }
            for c in changes
        ],
        "review_configs": [{"action_name": c.kind, "allowed_decisions": list(ALLOWED_DECISIONS)} for c in changes],
    }


def _description(change: Change, decision: dict[str, Any], money: Callable[[int], str]) -> str:
    """Markdown for the reviewer. Search terms and copy in it were typed by strangers: screened, and as code."""
    evidence = "; ".join(change.evidence.lines(money))
    return (
        f"**{_inline_code(change.summary())}** (change {change.id})\n\n{_inline_code(change.rationale)}\n\n"
        f"Gate: {decision['reason']} (rule `{decision['rule']}`)\n\n"
        f"Evidence: {_inline_code(evidence) if evidence else 'none recorded'}"
    )


def _inline_code(text: str) -> str:
    """Untrusted text as one Markdown code span: no link, image or HTML in it is rendered."""
    flat = " ".join(screen(text).text.replace("`", "'").split())
    return f"`{flat}`"


def make_await_approval(*, done: str, after_answer: str, respond_to: str | None, factory: ServiceFactory):
    """The approval step: it goes to `done` once no change waits, and to `after_answer` after each answer; a
    person's comment goes to `respond_to` (the chat's model) when there is one."""

    def await_approval(state: ProposalState, runtime: Runtime[RunContext], config: RunnableConfig) -> Command:
        thread_id = _thread_id(config)
        ctx = services(runtime, factory)
        # A change another run proposed again since waits there now; this run no longer asks about it.
        still_open = ctx.change_log.open_hashes(thread_id)
        open_changes = [c for c in pending_approval(state) if c.hash in still_open]
        if not open_changes:
            ctx.change_log.finish_thread(thread_id)
            return Command(goto=done)
        money = ctx.tools.structure().account.money
        answer = interrupt(approval_request(open_changes, state.get("decisions", {}), money))
        responses = _responses_by_hash(answer, open_changes)
        return _act_on(responses, {c.hash: c for c in open_changes}, ctx, after_answer, respond_to)

    return await_approval


def _responses_by_hash(answer: Any, open_changes: list[Change]) -> dict[str, dict[str, Any]]:
    """Each answer by the hash of its change. LangChain v1 answers `{"decisions": [...]}` and Agent Inbox a list,
    both in request order; the CLI and the web inbox answer a dict keyed by change hash."""
    if isinstance(answer, dict) and isinstance(answer.get("decisions"), list):
        answer = answer["decisions"]
    if isinstance(answer, list):
        return {c.hash: r for c, r in zip(open_changes, answer, strict=False) if isinstance(r, dict)}
    if isinstance(answer, dict):
        return {k: v for k, v in answer.items() if isinstance(v, dict)}
    return {}


def _act_on(
    responses: dict[str, dict[str, Any]],
    open_changes: dict[str, Change],
    ctx: RunServices,
    after_answer: str,
    respond_to: str | None,
) -> Command:
    accepted: list[Change] = []
    reviews: dict[str, dict[str, Any]] = {}
    edited: list[dict[str, Any]] = []
    comments: list[dict[str, Any]] = []
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
            ctx.change_log.append(
                change, "edited", decided_by=by_person(by), message=f"edited into {edit.id}", on=ctx.today
            )
        elif kind in ("response", "respond"):  # a comment, not an answer: the change stays pending
            comments.append({"change_hash": key, "change_id": change.id, "by": by, "message": _said(response)})
            if respond_to is None:
                ctx.change_log.append(
                    change, "commented", decided_by=by_person(by), message=_said(response), on=ctx.today
                )
        else:  # reject, or Agent Inbox's ignore: rejected, with the person's words
            reason = _said(response)
            reviews[key] = {"type": "reject", "by": by, "reason": reason}
            ctx.change_log.append(change, "rejected", decided_by=by_person(by), message=reason, on=ctx.today)
            ctx.event("change.rejected", input={"change_id": change.id}, output=reviews[key])
    update: dict[str, Any] = {"reviews": reviews, "proposals": edited, "comments": comments}
    if accepted:
        update |= apply_with_gate(ctx, accepted, {c.hash: by_person(reviews[c.hash]["by"]) for c in accepted})
    if edited:  # an edited change is a new change: it goes through the gate again
        return Command(update=update, goto="gate")
    if comments and respond_to:  # the chat's model reads the comments and answers them
        update["messages"] = [HumanMessage(_comment_message(c)) for c in comments]
        return Command(update=update, goto=respond_to)
    return Command(update=update, goto=after_answer)


def _said(response: dict[str, Any]) -> str:
    """A person's words in an answer: v1's `message`, our `reason`, Agent Inbox's `args` (a string for a response)."""
    said = response.get("message") or response.get("reason") or response.get("args")
    return said if isinstance(said, str) else ""


def _comment_message(comment: dict[str, Any]) -> str:
    return f"{comment['by']} commented on change {comment['change_id']}, which still waits: {comment['message']}"


def add_approval_steps(
    builder: StateGraph[Any, RunContext, Any, Any],
    factory: ServiceFactory,
    *,
    graph: Origin,
    report: str | None = None,
    respond_to: str | None = None,
) -> None:
    """Add gate → apply_auto → [report →] await_approval → END to the graph called `graph`.

    With a `report` node, the report is written before the run waits for people and again after
    each answer, so it always shows the current state of every proposal. With `respond_to`, a person's
    comment on a change goes to that node (the chat's model); without it, it is kept in the change log.
    """
    after_answer = report or "await_approval"
    builder.add_node("gate", make_gate(graph, factory))
    builder.add_node("apply_auto", partial(apply_auto, factory=factory))
    builder.add_node(
        "await_approval",
        make_await_approval(done=END, after_answer=after_answer, respond_to=respond_to, factory=factory),
        destinations=tuple({"await_approval", "gate", after_answer, END, *([respond_to] if respond_to else [])}),
    )
    builder.add_edge("gate", "apply_auto")
    builder.add_edge("apply_auto", after_answer)
    if report:
        builder.add_edge(report, "await_approval")
