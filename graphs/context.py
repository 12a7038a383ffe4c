"""The runtime context a graph run gets: the account, the policy, the change log, the model.

It is passed to `invoke(..., context=...)` and never checkpointed, so a resumed run gets a
freshly opened account and the policy as it is on disk now.
"""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from ads.account import AdAccount
from ads.account_plan import AccountPlan
from ops.change_log import ChangeLog
from ops.tracing import Tracing
from policies.copy_rules import text_rules
from policies.gate import Policy
from tools.creatives import CopyWriter
from tools.registry import ClusterNamer, DerivedCache, IntentJudge, ToolContext, ToolResult, run_tool


@dataclass
class RunContext:
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
