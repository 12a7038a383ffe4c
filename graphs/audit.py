"""The audit graph: read the account, analyse it in parallel, gate every proposal, apply or ask, report.

START → load_account → {search_terms, creatives, pacing} → gate → apply_auto → write_report → await_approval → END
(each answer to await_approval rewrites the report)
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime

from ads.changes import Change
from graphs.approval import add_approval_steps
from graphs.context import RunContext
from graphs.report import write_report
from graphs.state import AuditInput, AuditState
from tools.account_reports import Window
from tools.registry import ToolResult


def _proposed(*results: ToolResult) -> list[dict[str, Any]]:
    changes: list[Change] = [c for r in results for c in r.proposals]
    return [c.model_dump(mode="json") for c in changes]


def load_account(state: AuditState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    structure = runtime.context.tools.structure()
    account = structure.account
    return {"account": account.name, "findings": {"account": {
        "name": account.name, "display_name": account.display_name, "platform": account.platform.value,
        "currency": account.currency, "campaigns": len(structure.campaigns), "ad_groups": len(structure.ad_groups),
        "today": runtime.context.today.isoformat(),
    }}}


def analyse_search_terms(state: AuditState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    period = Window.LAST_90_DAYS.period(ctx.today)
    if ctx.tools.search_terms(period).empty:
        return {"findings": {"search_terms": {"note": "This account has no search-term data for the last 90 days."}}}
    clusters = ctx.run_tool("cluster_search_queries", {"window": Window.LAST_90_DAYS})
    negatives = ctx.run_tool("mine_negative_keywords", {"window": Window.LAST_90_DAYS})
    ad_groups = ctx.run_tool("propose_ad_groups", {"window": Window.LAST_90_DAYS})
    return {
        "proposals": _proposed(negatives, ad_groups),
        "findings": {"search_terms": {
            "period": period.model_dump(mode="json"), "clusters": clusters.data,
            "summaries": [clusters.summary, negatives.summary, ad_groups.summary],
        }},
    }


def analyse_creatives(state: AuditState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    creatives = runtime.context.run_tool("propose_creative_variants", {})
    return {"proposals": _proposed(creatives), "findings": {"creatives": {"summaries": [creatives.summary]}}}


def analyse_pacing(state: AuditState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    pacing = ctx.run_tool("budgets_and_pacing", {})
    budgets = ctx.run_tool("propose_budget_changes", {})
    return {
        "proposals": _proposed(budgets),
        "findings": {"pacing": {"report": pacing.data, "summaries": [pacing.summary, budgets.summary]}},
    }


def report(state: AuditState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    return {"report": write_report(state, runtime.context)}


def build_audit_graph() -> StateGraph:
    builder = StateGraph(AuditState, context_schema=RunContext, input_schema=AuditInput)
    builder.add_node("load_account", load_account)
    analyses = {"search_terms": analyse_search_terms, "creatives": analyse_creatives, "pacing": analyse_pacing}
    for name, node in analyses.items():
        builder.add_node(name, node)
        builder.add_edge("load_account", name)
    builder.add_edge(START, "load_account")
    builder.add_node("write_report", report)
    add_approval_steps(builder, report="write_report")
    builder.add_edge(list(analyses), "gate")
    return builder
