"""What a graph run is for, and the services it runs with.

`RunContext` is the runtime context LangGraph passes to every node (`invoke(..., context=...)`): a small
serialisable schema, so `langgraph dev`, Studio and agent-chat-ui can send it as JSON and the schemas endpoint
can describe it. It is never checkpointed.

`RunServices` is what the nodes work with: the opened account, the policy, the change log, tracing, the model.
A `ServiceFactory` (app.services in every front door) builds them from the context and the settings, once per
run: a resumed run gets a freshly opened account and the policy as it is on disk now.
"""

from __future__ import annotations

import datetime as dt
import threading
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from ads.account import AdAccount
from ads.account_plan import AccountPlan
from ops.change_log import ChangeLog
from ops.tracing import Tracing
from policies.copy_rules import text_rules
from policies.gate import Policy
from tools.creatives import CopyWriter
from tools.registry import ClusterNamer, DerivedCache, IntentJudge, ToolContext, ToolResult, run_tool


class RunContext(BaseModel):
    """The runtime context of a run: which account, who answers for it, and which day it is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account: str = Field(min_length=1, description="sandbox:…, google-ads:<customer id>, meta:act_<id> or an import")
    reviewer: str = Field(default="a person", min_length=1, description="Who answers approvals in this run.")
    today: dt.date | None = Field(default=None, description="Fixes 'today'; default ADPILOT_TODAY, else the date.")
    # The run's services, built on first use (see `services`); not part of the schema.
    _services: RunServices | None = PrivateAttr(default=None)


@dataclass
class RunServices:
    account: AdAccount
    policy: Policy
    change_log: ChangeLog
    today: dt.date
    reports_dir: Path
    tracing: Tracing | None = None
    model: BaseChatModel | None = None
    copy_writer: CopyWriter | None = None
    intent_judge: IntentJudge | None = None
    cluster_namer: ClusterNamer | None = None
    plan: AccountPlan | None = None
    reviewer: str = "a person"
    derived: DerivedCache | None = None
    accounts: tuple[str, ...] = ()  # the accounts a chat may switch to ("what about Meta?")
    tools: ToolContext = field(init=False)

    def __post_init__(self) -> None:
        self.tools = ToolContext(
            account=self.account,
            today=self.today,
            copy_writer=self.copy_writer,
            plan=self.plan,
            intent_judge=self.intent_judge,
            cluster_namer=self.cluster_namer,
            derived=self.derived,
            copy_rules=text_rules(self.policy),
            budget_history=self.change_log,
        )

    def run_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        """A whitelisted tool called by a graph node, traced as a tool observation like the chat's calls."""
        span = (
            self.tracing.client.start_as_current_observation(name=name, as_type="tool", input=arguments)
            if self.tracing
            else nullcontext()
        )
        with span as observation:
            result = run_tool(name, self.tools, arguments)
            if observation is not None:
                observation.update(output={"summary": result.summary, "proposals": len(result.proposals)})
        return result

    def event(self, name: str, **payload: object) -> None:
        if self.tracing:
            self.tracing.event(name, **payload)


class ServiceFactory(Protocol):
    def __call__(self, context: RunContext) -> RunServices: ...


_building = threading.Lock()  # the analyses run in parallel threads; the first of them builds the services


def services(context: RunContext | Runtime[RunContext], factory: ServiceFactory) -> RunServices:
    """The services of the run `context` belongs to, built once and kept on it: every node of one run shares
    the opened account and what its tools have read."""
    if isinstance(context, Runtime):
        context = context.context
    with _building:
        if context._services is None:
            context._services = factory(context)
        return context._services
