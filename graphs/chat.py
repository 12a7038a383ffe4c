"""The chat graph: an agent with the whitelisted tools bound; its proposals take the audit's gate and approval steps.

START → agent ⇄ tools; agent (no tool call) → gate → apply_auto → await_approval → END
        tools (an answer the person confirmed) → END, for the approvals path (app.session) to carry out

The thread remembers what it showed (`ChatState.shown`), so "the first one" or "those terms" resolve to one item
of its last results. The model reads that memory as screened data. Tools that read the conversation or the
change log rather than the account (tools.registry.THREAD_TOOLS) run here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from functools import partial
from typing import Any, Literal, cast

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolCall, ToolMessage
from langgraph.graph import START, StateGraph
from langgraph.prebuilt import ToolNode
from langgraph.runtime import Runtime
from pydantic import ValidationError

from ads.changes import AddNegativeKeywords, Change, parse_change
from ads.entities import Platform
from ads.errors import AdpilotError
from agents.language import Language, language_of, says_yes
from agents.prompts import system_prompt
from graphs.approval import AUTO_APPLY, add_approval_steps, gate_context, proposals, unrepeated
from graphs.context import RunContext, RunServices, ServiceFactory, services
from graphs.state import ChatState
from policies.gate import decide
from policies.screening import data_block, screen
from tools.account_reports import closest_names
from tools.registry import (
    REGISTRY,
    THREAD_TOOLS,
    AnswerArgs,
    ExplainArgs,
    RecentChangesArgs,
    SwitchArgs,
    langchain_tools,
    tool_definitions,
)

SHOWN_PER_KIND = 25  # what the thread block holds of each kind: the reply lists no more than this
NAMES_IN_THREAD = 200  # the account's campaign and ad group names the model may match a name against


def agent(state: ChatState, runtime: Runtime[RunContext], factory: ServiceFactory) -> dict[str, Any]:
    ctx = services(runtime, factory)
    if ctx.model is None:
        raise ValueError("the chat graph needs a model in its context")
    language = language_of(_last_human(state), default=cast(Language, state.get("language", "en")))
    account = ctx.tools.structure().account
    model = ctx.model.bind_tools(tool_definitions())
    prompt = SystemMessage(
        system_prompt(account_name=screen(account.display_name).text, today=ctx.today, language=language)
    )
    thread = SystemMessage(data_block("thread", thread_view(state, ctx, language)))
    return {"messages": [model.invoke([prompt, thread, *state["messages"]])], "language": language}


def thread_view(state: ChatState, ctx: RunServices, language: Language) -> dict[str, Any]:
    """What the model may resolve references against: the thread's last results, the proposals it showed with
    where each stands, the answer waiting for a yes, and the account's names. Screened by `data_block`."""
    structure = ctx.tools.structure()
    changes = proposals(state)
    statuses = {h: _status(state, ctx, c) for h, c in changes.items()}
    shown = {kind: items[:SHOWN_PER_KIND] for kind, items in state.get("shown", {}).items()}
    shown["change"] = [{**item, "status": statuses.get(item["hash"], "")} for item in shown.get("change", [])]
    confirm = state.get("confirm")
    return {
        "account": structure.account.name,
        "today": ctx.today.isoformat(),
        "language": language,
        "turn": turn_of(state),
        "shown": shown,
        "focus": changes[focus].id if (focus := state.get("focus", "")) in changes else None,
        "search": state.get("search"),
        "confirm": confirm if confirm and confirm.get("turn") == turn_of(state) - 1 else None,
        "campaigns": [c.name for c in structure.campaigns][:NAMES_IN_THREAD],
        "ad_groups": [g.name for g in structure.ad_groups][:NAMES_IN_THREAD],
    }


def tools(state: ChatState, runtime: Runtime[RunContext], factory: ServiceFactory) -> dict[str, Any]:
    """Run the requested tools; tool output reaches the model only as screened, delimited data."""
    ctx = services(runtime, factory)
    last = state["messages"][-1]
    calls: list[ToolCall] = list(getattr(last, "tool_calls", []))
    for call in calls:
        if call["name"] not in REGISTRY:
            ctx.event(
                "tool.rejected",
                input={"tool": call["name"], "args": call.get("args")},
                output={"reason": "not in the whitelist"},
            )
    update: dict[str, Any] = {}
    results: dict[str, ToolMessage] = {}
    batch: list[ToolCall] = []

    def run_batch() -> None:  # account tools, in one ToolNode, on the account the thread is on by now
        if batch:
            node = ToolNode(langchain_tools(services(runtime, factory).tools), handle_tool_errors=True)
            output = node.invoke({"messages": [AIMessage(content="", tool_calls=batch)]})
            results.update({m.tool_call_id: m for m in output["messages"]})
            batch.clear()

    for call in calls:
        if call["name"] in THREAD_TOOLS:
            run_batch()
            results[str(call["id"])] = _thread_tool(
                call, cast(ChatState, {**state, **update}), runtime, factory, update
            )
        else:
            batch.append(call)
    run_batch()
    ctx = services(runtime, factory)  # switch_account may have moved the run to another account
    screened = _screened_results([results[str(c["id"])] for c in calls], calls, state, ctx, update)
    return {**update, **screened}  # `update` read after the call: it fills in what the thread remembers


def _screened_results(
    messages: list[ToolMessage], calls: list[ToolCall], state: ChatState, ctx: RunServices, update: dict[str, Any]
) -> dict[str, Any]:
    """The results as screened data blocks; the proposals worth gating; what this turn showed, per kind."""
    existing = {c.content_key(): c for c in proposals(state).values()}
    shown: dict[str, list[dict[str, Any]]] = {}
    screened, fresh = [], []
    for message, call in zip(messages, calls, strict=True):
        artifact = message.artifact if isinstance(message.artifact, dict) else {}
        if message.status == "error":
            ctx.event("tool.error", input={"tool": message.name}, output={"error": str(message.content)[:500]})
        # What the account holds, or a person rejected and is cooling off, is not proposed again in a later turn;
        # the same change proposed again with fresh evidence is shown as the one already proposed.
        kept, left_out = unrepeated(ctx, [parse_change(p) for p in artifact.get("proposals", [])])
        for line in left_out:
            ctx.event("proposal.left_out", output={"why": line})
        listed = [existing.get(c.content_key(), c) for c in kept]
        fresh += [c for c in listed if c.content_key() not in existing]
        items = [
            {"kind": i["kind"], "name": screen(i["name"]).text, "line": screen(i["line"]).text}
            for i in artifact.get("shown", [])
        ]
        for item in items:
            shown.setdefault(item["kind"], []).append({"name": item["name"], "line": item["line"]})
        if listed:
            shown.setdefault("change", []).extend(
                {"name": c.id, "hash": c.hash, "line": screen(c.summary()).text} for c in listed
            )
        if call["name"] in ("search_terms", "mine_negative_keywords") and artifact.get("did_you_mean") is None:
            update["search"] = {k: v for k, v in call["args"].items() if k in ("campaign", "ad_group", "window")}
        screened.append(
            message.model_copy(
                update={
                    "content": data_block(message.name or "tool", _as_data(message.content)),
                    "artifact": {
                        **artifact,
                        "summary": screen(str(artifact.get("summary", ""))).text,
                        "proposals": [c.model_dump(mode="json") for c in listed],
                        "shown": items,
                        "listed": [{"name": c.id, "line": screen(c.summary()).text} for c in listed],
                    },
                }
            )
        )
    result: dict[str, Any] = {"messages": screened, "proposals": [c.model_dump(mode="json") for c in fresh]}
    if shown:
        result["shown"] = {**update.get("shown", {}), **shown}
    return result


def _as_data(content: Any) -> dict[str, Any] | str:
    """Tool results are JSON objects; errors are plain text."""
    try:
        value = json.loads(content)
    except (TypeError, ValueError):
        return str(content)
    return value if isinstance(value, dict) else str(content)


# ---- tools that read the conversation or the change log --------------------------------------------------------


ThreadTool = Callable[[Any, ChatState, Runtime[RunContext], ServiceFactory, dict[str, Any]], dict[str, Any]]


def _thread_tool(
    call: ToolCall, state: ChatState, runtime: Runtime[RunContext], factory: ServiceFactory, update: dict[str, Any]
) -> ToolMessage:
    """One thread tool's result as a ToolMessage, like the ToolNode's; bad arguments go back to the model."""
    spec = REGISTRY[call["name"]]
    try:
        args = spec.args_schema.model_validate(call.get("args") or {})
        artifact = THREAD_TOOL_RUNS[call["name"]](args, state, runtime, factory, update)
    except (ValidationError, AdpilotError) as error:
        return ToolMessage(
            content=f"Error: {error}\n Please fix your mistakes.",
            tool_call_id=call["id"],
            name=call["name"],
            status="error",
        )
    body = {k: v for k, v in artifact.items() if k != "proposals"}
    return ToolMessage(
        content=json.dumps(body, ensure_ascii=False, default=str),
        tool_call_id=call["id"],
        name=call["name"],
        artifact=artifact,
    )


def _help(args: Any, state: ChatState, runtime: Runtime[RunContext], factory: ServiceFactory, update: Any) -> dict:
    topics = [
        "search terms for a campaign or an ad group (and which waste money)",
        "negative keywords to add",
        "the themes in the search terms",
        "new ad groups for uncovered themes",
        "new ad copy for an ad group ('write 3 new headlines for Four Season Tents')",
        "budgets and pacing, and budget changes",
        "campaign performance for a period",
        "what changed (the change log)",
        "another account ('what about Meta?')",
        "approving or rejecting a proposal ('apply the first one', 'reject it, too broad'), after you confirm",
        "why a proposal was made ('why?')",
    ]
    return {"summary": "You can ask about: " + "; ".join(topics) + ".", "help": topics}


def _recent_changes(
    args: RecentChangesArgs, state: ChatState, runtime: Runtime[RunContext], factory: ServiceFactory, update: Any
) -> dict[str, Any]:
    ctx = services(runtime, factory)
    since = args.since or ctx.today - dt.timedelta(days=args.days or 7)
    account = ctx.tools.structure().account
    entries = [
        e
        for e in ctx.change_log.entries(account=account.name)
        if e.recorded_at.date() >= since and e.status != "intent"
    ]
    shown = [
        {
            "kind": "log_entry",
            "name": e.change_id,
            "line": f"{e.recorded_at:%Y-%m-%d %H:%M} UTC, {e.status}: {e.parsed_change().summary()} "
            f"({e.decided_by}; change {e.change_id})",
        }
        for e in entries
    ]
    summary = f"{len(entries)} change log entries for {account.display_name} since {since}" + (
        ":" if entries else "; nothing was recorded in that time."
    )
    return {"summary": summary, "since": since.isoformat(), "entries": len(entries), "shown": shown}


def _explain(
    args: ExplainArgs, state: ChatState, runtime: Runtime[RunContext], factory: ServiceFactory, update: dict[str, Any]
) -> dict[str, Any]:
    ctx = services(runtime, factory)
    change, decision = _find_change(state, ctx, args.change)
    if decision is None:  # never gated (a change log entry of another run): what the gate says now
        decision = decide(change, gate_context(ctx)).model_dump(mode="json")
    money = ctx.tools.structure().account.money
    evidence = change.evidence.lines(money)
    blocks = (
        [f"{q.search_term} ({money(q.cost)}, {q.clicks} clicks)" for k in change.keywords for q in k.blocks][:8]
        if isinstance(change, AddNegativeKeywords)
        else []
    )
    update["focus"] = change.hash
    summary = (
        f"Change {change.id}: {change.summary()}. Why: {change.rationale}"
        + (f" Evidence: {'; '.join(evidence)}." if evidence else "")
        + (f" It blocks: {', '.join(blocks)}." if blocks else "")
        + f" The gate: {decision['outcome'].replace('_', ' ')} under rule {decision['rule']}: {decision['reason']}"
        + f" Now: {_status(state, ctx, change)}."
    )
    return {"summary": summary, "change": change.id, "rule": decision["rule"], "outcome": decision["outcome"]}


def _answer(
    args: AnswerArgs, state: ChatState, runtime: Runtime[RunContext], factory: ServiceFactory, update: dict[str, Any]
) -> dict[str, Any]:
    """Ask the person to confirm; once they said yes (the next turn, in so many words), stage the answer for the
    approvals path. The chat never answers by itself, and the gate decides again before anything is applied."""
    ctx = services(runtime, factory)
    change, decision = _find_change(state, ctx, args.change)
    update["focus"] = change.hash
    item = ctx.change_log.queue_item(change.hash)
    if item is None or item.status != "open" or ctx.change_log.answer(change.hash) is not None:
        why = _status(state, ctx, change)
        if decision and decision["outcome"] == "blocked":
            why = f"the gate blocked it under rule {decision['rule']} ({decision['reason']}); it cannot be approved"
        return {"summary": f"Change {change.id} is not waiting for an answer: {why}.", "change": change.id}
    wanted = {"hash": change.hash, "id": change.id, "action": args.action, "note": args.note}
    confirm, turn = state.get("confirm") or {}, turn_of(state)
    confirmed = (
        confirm.get("hash") == change.hash
        and confirm.get("action") == args.action
        and confirm.get("turn") == turn - 1
        and says_yes(_last_human(state))
    )
    if confirmed:
        staged = {**wanted, "note": args.note or confirm.get("note")}
        update["confirm"] = None
        update["answering"] = [*update.get("answering", []), staged]
        verb = "approve" if args.action == "approve" else "reject"
        return {"summary": f"The person confirmed: {verb} change {change.id}.", "answering": staged}
    update["confirm"] = {**wanted, "turn": turn, "summary": change.summary()}
    verb = "Approve" if args.action == "approve" else "Reject"
    return {
        "summary": f"{verb} change {change.id} ({change.summary()})? Nothing is done until the person confirms.",
        "confirm": update["confirm"],
    }


def _switch(
    args: SwitchArgs, state: ChatState, runtime: Runtime[RunContext], factory: ServiceFactory, update: dict[str, Any]
) -> dict[str, Any]:
    """Point the rest of this run, and the thread, at another account the app knows."""
    ctx = services(runtime, factory)
    current = ctx.tools.structure().account.name
    found = _account_named(args.account, current, ctx.accounts, runtime.context, factory)
    if isinstance(found, str):
        return {"summary": found, "accounts": list(ctx.accounts)}
    context = runtime.context
    context._services = found  # every later step of this run (gate, approval) works on the new account
    account = found.tools.structure().account
    update["account"] = account.name
    update["shown"] = {kind: [] for kind in state.get("shown", {}) if kind != "change"}
    update["search"] = None
    return {
        "summary": f"Switched to {account.display_name} ({account.name}, {account.platform.value}).",
        "account": account.name,
        "switched": account.name != current,
    }


THREAD_TOOL_RUNS: dict[str, ThreadTool] = {
    "help": _help,
    "recent_changes": _recent_changes,
    "explain_proposal": _explain,
    "answer_proposal": _answer,
    "switch_account": _switch,
}

_PLATFORM_WORDS = {
    Platform.META: ("meta", "facebook", "instagram", "fb"),
    Platform.GOOGLE_ADS: ("google", "google ads", "adwords", "search"),
}


def _account_named(
    name: str, current: str, accounts: tuple[str, ...], context: RunContext, factory: ServiceFactory
) -> RunServices | str:
    """The services of the account `name` names: its exact name, its platform ('Meta'), or a close name; else why
    none (a question with the closest names)."""
    opened: dict[str, RunServices] = {}

    def open_(account: str) -> RunServices | None:
        if account not in opened:
            try:
                opened[account] = factory(RunContext(account=account, reviewer=context.reviewer, today=context.today))
            except AdpilotError:
                return None
        return opened[account]

    wanted = name.strip().casefold()
    if wanted in {a.casefold() for a in accounts}:
        match = next(a for a in accounts if a.casefold() == wanted)
        return open_(match) or f'The account "{match}" cannot be opened.'
    platform = next((p for p, words in _PLATFORM_WORDS.items() if wanted in words), None)
    if platform is not None:
        candidates = [
            a for a in accounts if (s := open_(a)) is not None and s.tools.structure().account.platform is platform
        ]
        if candidates:  # the current account's sibling first (sandbox:trailhead → sandbox:trailhead-meta)
            best = max(candidates, key=lambda a: (a == current, _common_prefix(a, current)))
            return opened[best]
    closest = closest_names(name, list(accounts), limit=3)
    if closest and (found := open_(closest[0])) is not None and closest[0].casefold().find(wanted) >= 0:
        return found
    ask = "; did you mean " + " or ".join(f'"{a}"' for a in closest) + "?" if closest else ""
    return f'No account matches "{name}"{ask} The accounts are: ' + ", ".join(accounts) + "."


def _common_prefix(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def _find_change(state: ChatState, ctx: RunServices, ref: str | None) -> tuple[Change, dict[str, Any] | None]:
    """The change `ref` names (an id, a hash or its start), from this thread, the queue or the change log; with
    no ref, the one the conversation last acted on, else the first one it showed."""
    changes = proposals(state)
    decisions = state.get("decisions", {})
    if not ref:
        shown = state.get("shown", {}).get("change", [])
        ref = state.get("focus") or (shown[0]["hash"] if shown else None)
        if not ref:
            raise AdpilotError("this conversation has shown no proposal yet; name a change id")
    ref = ref.strip().casefold()
    for key, change in changes.items():
        if key.startswith(ref):
            return change, decisions.get(key)
    if (item := ctx.change_log.queue_item(ref)) is not None:
        return item.parsed_change(), item.decision
    if entries := ctx.change_log.entries(change=ref, limit=1):
        return entries[0].parsed_change(), None
    raise AdpilotError(f"no change '{ref}' in this conversation, the approvals queue or the change log")


def _status(state: ChatState, ctx: RunServices, change: Change) -> str:
    """Where a change stands, in a few words."""
    if (answer := ctx.change_log.answer(change.hash)) is not None:
        return answer.describe()
    if (latest := ctx.change_log.latest(change.hash)) is not None and latest.status != "intent":
        return f"{latest.status} ({latest.decided_by})"
    decision = state.get("decisions", {}).get(change.hash)
    if decision is None:
        return "not decided by the gate yet"
    if decision["outcome"] == AUTO_APPLY:
        return "to be applied by the policy"
    item = ctx.change_log.queue_item(change.hash)
    if decision["outcome"] == "blocked":
        return f"blocked by the gate ({decision['rule']})"
    return "waiting for approval" if item is not None and item.status == "open" else (item.describe() if item else "")


def answered_message(staged: dict[str, Any], call: ToolMessage, outcome: dict[str, Any]) -> ToolMessage:
    """The staged answer's tool message, rewritten with what the approvals path did, for the model to report."""
    body = {"summary": outcome["summary"], "answered": outcome}
    return ToolMessage(
        id=call.id,
        content=data_block("answer_proposal", body),
        tool_call_id=call.tool_call_id,
        name="answer_proposal",
        artifact={"summary": screen(outcome["summary"]).text, "answered": outcome, "proposals": [], "shown": []},
    )


def turn_of(state: ChatState) -> int:
    """The number of the person's current message: a confirmation counts only in the turn right after the
    question."""
    return sum(isinstance(m, HumanMessage) for m in state.get("messages", []))


def _last_human(state: ChatState) -> str:
    humans = [m for m in state.get("messages", []) if isinstance(m, HumanMessage)]
    return str(humans[-1].content) if humans else ""


def route_after_agent(state: ChatState) -> Literal["tools", "gate", "__end__"]:
    last = state["messages"][-1]
    if isinstance(last, AIMessage) and last.tool_calls:
        return "tools"
    decided = state.get("decisions", {})
    return "gate" if any(p["hash"] not in decided for p in state.get("proposals", [])) else "__end__"  # END


def route_after_tools(state: ChatState) -> Literal["agent", "__end__"]:
    """A confirmed answer ends the run here: the session answers it through the approvals path, then resumes."""
    return "__end__" if state.get("answering") else "agent"


def build_chat_graph(factory: ServiceFactory) -> StateGraph[ChatState, RunContext, ChatState, ChatState]:
    """The chat, its nodes running with the services `factory` builds from each run's context."""
    builder = StateGraph(ChatState, context_schema=RunContext)
    builder.add_node("agent", partial(agent, factory=factory))
    builder.add_node("tools", partial(tools, factory=factory))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", route_after_agent)
    builder.add_conditional_edges("tools", route_after_tools)
    add_approval_steps(builder, factory, graph="chat", respond_to="agent")
    return builder
