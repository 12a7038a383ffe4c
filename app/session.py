"""One CLI invocation's world: settings, the model, tracing, the change log, checkpoints and the graphs.

The CLI's commands are thin: they call a `Session` method and print what it returns.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from ads.account import AdAccount
from ads.changes import Change
from ads.errors import AdpilotError, StaleApprovalError
from ads.statuses import APPLIED_STATUSES
from agents.models import ModelChoice
from app.services import AppServices
from app.settings import Settings
from graphs.approval import edit_fields, edited_change, gate_context, pending_approval
from graphs.audit import build_audit_graph
from graphs.chat import answered_message, build_chat_graph
from graphs.context import RunContext, RunServices, services
from graphs.rollback import build_rollback_graph, inverse_changes
from graphs.state import ProposalState
from ops.change_log import AlreadyAnsweredError, LogEntry, QueueItem
from ops.tracing import Tracing
from policies.gate import Policy
from sandbox import GOOGLE_ACCOUNT, META_ACCOUNT
from sandbox.generator import generate_sandbox
from sandbox.store import SandboxStore
from tools.account_reports import Window
from tools.advertiser_profile import DraftProfile, infer_profile
from tools.query_clusters import ClusteringResult
from tools.registry import ToolResult

SANDBOX_ACCOUNT = GOOGLE_ACCOUNT


@dataclass(frozen=True)
class PendingApproval:
    thread_id: str
    graph: str
    account: str
    change: Change
    decision: dict[str, Any]


@dataclass(frozen=True)
class ChangeRecord:
    """One change as `approvals show` shows it, whatever became of it."""

    change: Change
    status: str  # pending, being answered, the change log's latest status for it, or the queue's (superseded)
    queued: QueueItem | None  # its row in the queue, when it waited for a person
    versions: list[QueueItem]  # every version of its content that waited for a person, oldest first
    entries: list[LogEntry]  # newest first


@dataclass
class RunOutcome:
    """A finished or paused graph run: its thread and its state values."""

    thread_id: str
    values: dict[str, Any]
    pending: list[Change] = field(default_factory=list)
    turn_start: int = 0  # in a chat, where this turn's messages begin

    @property
    def reply(self) -> str:
        messages = [m for m in self.values.get("messages", []) if isinstance(m, AIMessage) and m.content]
        return str(messages[-1].content) if messages else ""

    @property
    def tool_calls(self) -> list[dict[str, Any]]:
        """This turn's tool calls, in order, as name and arguments."""
        turn = self.values.get("messages", [])[self.turn_start :]
        return [{"name": c["name"], "args": c["args"]} for m in turn if isinstance(m, AIMessage) for c in m.tool_calls]


class Session:
    def __init__(self, settings: Settings, *, model: ModelChoice | None = None, tracing: Tracing | None = None) -> None:
        self.settings = settings
        self.services = AppServices(settings, model=model, tracing=tracing)
        self.policy: Policy = self.services.policy
        self.plans = self.services.plans
        self.model = self.services.model
        self.tracing = self.services.tracing
        self.change_log = self.services.change_log
        # Processes share the checkpoints: wait for each other's writes rather than fail with "database is locked".
        connection = sqlite3.connect(settings.checkpoints_path, check_same_thread=False, timeout=60.0)
        self.checkpointer = SqliteSaver(connection)
        self.graphs: dict[str, CompiledStateGraph[Any, RunContext, Any, Any]] = {
            "audit": build_audit_graph(self.services).compile(checkpointer=self.checkpointer, name="audit"),
            "chat": build_chat_graph(self.services).compile(checkpointer=self.checkpointer, name="chat"),
            "rollback": build_rollback_graph(self.services).compile(checkpointer=self.checkpointer, name="rollback"),
        }

    # ---- accounts ---------------------------------------------------------------------------

    def store(self) -> SandboxStore:
        return self.services.store()

    def create_sandbox(self, *, seed: int = 7, rows: int = 24_000) -> list[str]:
        """Generate into a new file and swap it in, so a failed run leaves the old sandbox as it was."""
        with self.change_log.exclusive("sandbox", what="creating the sandbox"):
            return self._create_sandbox(seed=seed, rows=rows)

    def ensure_sandbox(self) -> bool:
        """Create the sandbox when it is missing; True when it was created. Of two first runs, one builds it
        and the other waits for it."""
        if self.settings.sandbox_path.exists():
            return False
        with self.change_log.exclusive("sandbox", what="creating the sandbox"):
            if self.settings.sandbox_path.exists():
                return False
            self._create_sandbox()
            return True

    def _create_sandbox(self, *, seed: int = 7, rows: int = 24_000) -> list[str]:
        path = self.settings.sandbox_path
        fresh = path.with_name(f"{path.name}.{os.getpid()}.new")
        fresh.unlink(missing_ok=True)
        try:
            names = generate_sandbox(SandboxStore.create(fresh), seed=seed, rows=rows, today=self.settings.today)
            os.replace(fresh, path)
        finally:
            fresh.unlink(missing_ok=True)
        return names

    @contextmanager
    def emulators(self, *, host: str, google_port: int = 0, meta_port: int = 0) -> Iterator[dict[str, Any]]:
        """Both API emulators over the sandbox accounts; yields what a client needs to reach them."""
        from sandbox.google_ads_emulator import start_google_ads_emulator
        from sandbox.meta_emulator import start_meta_emulator

        store = self.store()
        google = start_google_ads_emulator(
            store.open_account(GOOGLE_ACCOUNT), host=host, port=google_port, today=self.settings.today
        )
        try:
            with start_meta_emulator(store.open_account(META_ACCOUNT), host=host, port=meta_port) as meta:
                yield {
                    "google_ads": {
                        "endpoint": google.endpoint,
                        "account": f"google-ads:{google.customer_id}",
                        "trust": "gRPC local credentials (GOOGLE_ADS_LOCAL_CHANNEL=true), loopback only",
                        "environment": google.client_settings(),
                    },
                    "meta": {
                        "base_url": meta.base_url,
                        "account": f"meta:{meta.account_id}",
                        "environment": meta.client_settings(),
                    },
                }
        finally:
            google.stop()

    def open_account(self, name: str) -> AdAccount:
        return self.services.open_account(name)

    def run_context(self, account: str, *, reviewer: str = "a person") -> RunContext:
        """What a run on `account` is for; its services are built from it when the run starts."""
        return RunContext(account=account, reviewer=reviewer)

    def run_services(self, account: str, *, reviewer: str = "a person") -> RunServices:
        """The services a run on `account` gets, for work done outside a graph: tools, the gate's context."""
        return services(self.run_context(account, reviewer=reviewer), self.services)

    def run_tool(self, account: str, name: str, arguments: dict[str, Any] | None = None) -> ToolResult:
        return self.run_services(account).run_tool(name, arguments or {})

    def clusters(self, account: str, *, backend: str, granularity: float) -> ClusteringResult:
        tools = self.run_services(account).tools
        return tools.clusters(Window.LAST_90_DAYS.period(tools.today), granularity, backend)

    # ---- runs -------------------------------------------------------------------------------

    def _one_run_of(self, thread_id: str) -> AbstractContextManager[None]:
        """Runs of one thread take turns across processes: a chat turn and an approval answered elsewhere both
        move its checkpoints."""
        return self.change_log.exclusive(f"thread-{thread_id}", what=f"run {thread_id}")

    def _config(self, thread_id: str, graph: str) -> RunnableConfig:
        return {
            "configurable": {"thread_id": thread_id},
            "callbacks": self.tracing.callbacks(),
            "run_name": graph,
            "recursion_limit": 40,
        }

    def _run(
        self,
        graph: str,
        thread_id: str,
        payload: Any,
        context: RunContext,
        on_step: Callable[[str], None] | None = None,
    ) -> RunOutcome:
        compiled = self.graphs[graph]
        config = self._config(thread_id, graph)
        try:
            for update in compiled.stream(payload, config, context=context, stream_mode="updates"):
                for node in update:
                    if on_step and not node.startswith("__"):
                        on_step(node)
        finally:
            self.tracing.flush()
        values = compiled.get_state(config).values
        return RunOutcome(thread_id=thread_id, values=values, pending=pending_approval(_proposal_state(values)))

    def audit(self, account: str, on_step: Callable[[str], None] | None = None) -> RunOutcome:
        name = self.open_account(account).account.name
        context = self.run_context(name)
        thread_id = f"audit-{name}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        self.change_log.register_thread(thread_id, "audit", name)
        return self._run("audit", thread_id, {"account": name}, context, on_step)

    def chat(
        self, account: str, message: str, thread_id: str | None = None, *, reviewer: str = "chat user"
    ) -> RunOutcome:
        """One turn of a conversation. An answer to a proposal the person confirmed in it is carried out here,
        through `answer` (the approvals path, where the gate decides again), and the model then reports it."""
        known = {t.thread_id: t.account for t in self.change_log.threads("chat")} if thread_id else {}
        if thread_id is None:
            thread_id = f"chat-{uuid.uuid4().hex[:12]}"
        elif thread_id not in known:
            raise AdpilotError(f"unknown chat thread '{thread_id}' (each chat prints its thread id)")
        with self._one_run_of(thread_id):
            values = self.graphs["chat"].get_state(self._config(thread_id, "chat")).values
            # The account the thread is on now: "what about Meta?" moves it.
            account = values.get("account") or known.get(thread_id, account)
            self.change_log.register_thread(thread_id, "chat", self.open_account(account).account.name)
            before = len(values.get("messages", []))
            outcome = self._run(
                "chat",
                thread_id,
                {"messages": [HumanMessage(message)], "account": account},
                self.run_context(account, reviewer=reviewer),
            )
        if staged := outcome.values.get("answering"):
            # Each through `answer`, which takes the thread's turn itself: an answer given elsewhere meanwhile wins,
            # and this one is refused in one line that the model reports.
            answered = [self._answer_in_chat(outcome.values, item, reviewer) for item in staged]
            account = outcome.values.get("account", account)
            # The model reports what was done. As new input, like any turn, not Command(goto=...): the approvals
            # path may have left the thread paused at its approval step for the changes that still wait, and a
            # goto would run that step again beside the model's, whose interrupt discards the model's reply. New
            # input drops the pause instead; the changes stay in the queue and `answer` reopens the step.
            with self._one_run_of(thread_id):
                outcome = self._run(
                    "chat",
                    thread_id,
                    {"messages": answered, "answering": []},
                    self.run_context(account, reviewer=reviewer),
                )
        outcome.turn_start = before
        return outcome

    def _answer_in_chat(self, values: dict[str, Any], staged: dict[str, Any], reviewer: str) -> ToolMessage:
        """A confirmed answer, through the approvals path; what it did, as the answer_proposal tool's result."""
        call = next(
            m
            for m in reversed(values["messages"])
            if isinstance(m, ToolMessage)
            and m.name == "answer_proposal"
            and isinstance(m.artifact, dict)
            and (m.artifact.get("answering") or {}).get("hash") == staged["hash"]
        )
        response = (
            {"type": "accept"}
            if staged["action"] == "approve"
            else {"type": "reject", "reason": staged.get("note") or ""}
        )
        try:
            _, result = self.answer(staged["hash"], response, reviewer=reviewer)
        except AdpilotError as error:
            outcome = {"change": staged["id"], "status": "refused", "summary": f"change {staged['id']}: {error}"}
            return answered_message(staged, call, outcome)
        applied = result.values.get("results", {}).get(staged["hash"])
        decision = result.values.get("decisions", {}).get(staged["hash"], {})
        if staged["action"] == "reject":
            status, said = (
                "rejected",
                f"change {staged['id']} is rejected" + (f" ({staged['note']})" if staged.get("note") else ""),
            )
        elif applied is None:
            status, said = "pending", f"change {staged['id']} was not applied; it still waits"
        else:
            status = applied["status"]
            said = f"change {staged['id']} is {status}: {applied.get('message') or ''}".rstrip(": ")
            if status == "blocked":
                said += f" (the gate, rule {decision.get('rule')}: {decision.get('reason')})"
        outcome = {"change": staged["id"], "status": status, "summary": said, "rule": decision.get("rule")}
        return answered_message(staged, call, outcome)

    def rollback(self, entry_id: int) -> RunOutcome:
        """Propose the inverse of a logged change; it takes the gate and approval steps like any proposal."""
        entry = self.change_log.entry(entry_id)
        context = self.run_context(entry.account)
        inverse = inverse_changes(entry, self.open_account(entry.account))
        thread_id = f"rollback-{entry_id}-{uuid.uuid4().hex[:6]}"
        self.change_log.register_thread(thread_id, "rollback", entry.account)
        return self._run(
            "rollback",
            thread_id,
            {"account": entry.account, "proposals": [c.model_dump(mode="json") for c in inverse]},
            context,
        )

    # ---- approvals --------------------------------------------------------------------------

    def pending_approvals(self, *, account: str | None = None, kind: str | None = None) -> list[PendingApproval]:
        """Changes waiting for a person, newest first, from the change log's queue: each content once (a change
        proposed again took the older one's place), none that a person is answering, none already applied."""
        return [
            PendingApproval(item.thread_id, item.graph, item.account, item.parsed_change(), item.decision)
            for item in self.change_log.open_items(account=account, kind=kind)
        ]

    def find_pending(self, change_ref: str) -> PendingApproval:
        """The pending change whose id (or full hash) is `change_ref`.

        An id is the start of the change's content hash, so an approval can only ever reach the exact
        content a person reviewed: a change that was edited or re-proposed differently has another id.
        """
        item = self.change_log.queue_item(change_ref)
        if item is None or item.status != "open" or self.change_log.answer(item.change_hash) is not None:
            raise self._not_pending(change_ref)
        return PendingApproval(item.thread_id, item.graph, item.account, item.parsed_change(), item.decision)

    def _not_pending(self, change_ref: str) -> StaleApprovalError:
        if (answer := self.change_log.answer(change_ref)) is not None:
            return AlreadyAnsweredError(f"change {answer.change_id} is {answer.describe()}")
        if (queued := self.change_log.queue_item(change_ref)) is not None and queued.status != "open":
            return StaleApprovalError(f"change {queued.change_id} {queued.describe()}")
        for entry in self.change_log.entries(change=change_ref, limit=1):
            if entry.status in APPLIED_STATUSES:
                return StaleApprovalError(f"change {change_ref} is already applied; nothing to approve")
            return StaleApprovalError(f"change {change_ref} is no longer pending (it was {entry.status})")
        return StaleApprovalError(
            f"no pending change '{change_ref}' (see `adpilot approvals list`; an edited or "
            "re-proposed change has a new id)"
        )

    def change_record(self, change_ref: str) -> ChangeRecord:
        """Everything known about one change, pending or not: where it stands, every version of its content that
        waited for a person, and the change log's entries for it."""
        item = self.change_log.queue_item(change_ref)
        entries = self.change_log.entries(change=item.change_hash if item else change_ref)
        if item is None and not entries:
            raise AdpilotError(f"no change '{change_ref}' in the queue or the change log (see `adpilot changes log`)")
        change = item.parsed_change() if item else entries[0].parsed_change()
        logged = next((e.status for e in entries if e.status != "intent"), None)
        if item is not None and item.status == "open":
            status = "pending" if self.change_log.answer(item.change_hash) is None else "being answered"
        else:
            status = logged or (item.status if item else entries[0].status)
        return ChangeRecord(
            change=change,
            status=status,
            queued=item,
            versions=self.change_log.history(change.account, change.content_key()),
            entries=entries,
        )

    def answer(self, change_ref: str, response: dict[str, Any], *, reviewer: str) -> tuple[PendingApproval, RunOutcome]:
        """Resume the paused run that holds the change with a person's answer for it.

        Answers to one thread are serialised across processes, and each change takes one answer: the
        answer is claimed in the change log before the run resumes, so a second one (the same change
        from another process, or a stale page) is refused with who answered it and when."""
        item = self.find_pending(change_ref)
        with self._one_run_of(item.thread_id):
            graph = self.graphs[item.graph]
            config = self._config(item.thread_id, item.graph)
            # Read again under the lock: another answer, or a newer run, may have moved it on while we waited.
            if item.change.hash not in self.change_log.open_hashes(item.thread_id) or item.change.hash not in {
                c.hash for c in pending_approval(_proposal_state(graph.get_state(config).values))
            }:
                raise self._not_pending(item.change.hash)
            context = self.run_context(item.account, reviewer=reviewer)
            if response.get("type") == "edit":  # refuse a bad edit here, as one line, before anything is recorded
                edited_change(item.change, edit_fields(response), gate_context(services(context, self.services)))
            self.change_log.claim_answer(
                item.change,
                thread_id=item.thread_id,
                type={"accept": "accept", "approve": "accept", "edit": "edit"}.get(str(response.get("type")), "reject"),
                answered_by=reviewer,
                reason=str(response.get("reason") or ""),
            )
            try:
                if not graph.get_state(config).interrupts:
                    # A chat that moved on since: reopen its approval step, which interrupts again.
                    self._run(item.graph, item.thread_id, Command(goto="await_approval"), context)
                outcome = self._run(
                    item.graph,
                    item.thread_id,
                    Command(resume={item.change.hash: {**response, "by": reviewer}}),
                    context,
                )
            except BaseException:
                self.change_log.release_answer(item.change.hash)
                raise
            self.change_log.settle_answer(item.change.hash)
        return item, outcome

    def draft_profile(self, account: str) -> DraftProfile:
        """A draft advertiser profile read from the account's structure and last 90 days of search terms."""
        tools = self.run_services(account).tools
        return infer_profile(tools.structure(), tools.search_terms(Window.LAST_90_DAYS.period(tools.today)))


def _proposal_state(values: dict[str, Any]) -> ProposalState:
    """A checkpoint's values, which LangGraph types as a plain dict: every graph's state extends ProposalState."""
    return cast(ProposalState, values)
