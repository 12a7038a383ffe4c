"""The audit graph: read the account, analyse it in parallel, gate every proposal, apply or ask, report.

START → load_account → {search_terms, creatives, pacing} → gate → apply_auto → write_report → await_approval → END
(each answer to await_approval rewrites the report)

A daily audit proposes much of what yesterday's did: what the account already holds, and what a person rejected
and is still cooling off, is left out (and listed in each analysis's `left_out`); what still waits is refreshed in
the queue by the gate rather than added twice.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pandas as pd
from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime

from ads.changes import Change
from ads.entities import UNITS_PER_CURRENCY, ReportPeriod
from graphs.approval import add_approval_steps, unrepeated
from graphs.context import RunContext, RunServices, ServiceFactory, services
from graphs.state import AuditInput, AuditState
from ops.report import write_report
from tools.account_reports import Window
from tools.pacing import daily_spend_series
from tools.registry import ToolResult


def _proposed(ctx: RunServices, *results: ToolResult) -> tuple[list[dict[str, Any]], list[str]]:
    """The analyses' proposals worth making (as state holds them) and a line for each left out."""
    changes: list[Change] = [c for r in results for c in r.proposals]
    kept, left_out = unrepeated(ctx, changes)
    return [c.model_dump(mode="json") for c in kept], left_out


def load_account(state: AuditState, runtime: Runtime[RunContext], factory: ServiceFactory) -> dict[str, Any]:
    ctx = services(runtime, factory)
    structure = ctx.tools.structure()
    account = structure.account
    return {
        "account": account.name,
        "findings": {
            "account": {
                "name": account.name,
                "display_name": account.display_name,
                "platform": account.platform.value,
                "currency": account.currency,
                "campaigns": len(structure.campaigns),
                "ad_groups": len(structure.ad_groups),
                "today": ctx.today.isoformat(),
            }
        },
    }


def analyse_search_terms(state: AuditState, runtime: Runtime[RunContext], factory: ServiceFactory) -> dict[str, Any]:
    ctx = services(runtime, factory)
    period = Window.LAST_90_DAYS.period(ctx.today)
    if ctx.tools.search_terms(period).empty:
        return {"findings": {"search_terms": {"note": "This account has no search-term data for the last 90 days."}}}
    clusters = ctx.run_tool("cluster_search_queries", {"window": Window.LAST_90_DAYS})
    negatives = ctx.run_tool("mine_negative_keywords", {"window": Window.LAST_90_DAYS})
    ad_groups = ctx.run_tool("propose_ad_groups", {"window": Window.LAST_90_DAYS})
    proposed, left_out = _proposed(ctx, negatives, ad_groups)
    return {
        "proposals": proposed,
        "findings": {
            "search_terms": {
                "period": period.model_dump(mode="json"),
                "clusters": clusters.data,
                "summaries": [clusters.summary, negatives.summary, ad_groups.summary],
                "notices": negatives.data["notices"],
                "left_out": left_out,
            }
        },
    }


def analyse_creatives(state: AuditState, runtime: Runtime[RunContext], factory: ServiceFactory) -> dict[str, Any]:
    ctx = services(runtime, factory)
    creatives = ctx.run_tool("propose_creative_variants", {})
    proposed, left_out = _proposed(ctx, creatives)
    return {"proposals": proposed, "findings": {"creatives": {"summaries": [creatives.summary], "left_out": left_out}}}


def analyse_pacing(state: AuditState, runtime: Runtime[RunContext], factory: ServiceFactory) -> dict[str, Any]:
    ctx = services(runtime, factory)
    pacing = ctx.run_tool("budgets_and_pacing", {})
    budgets = ctx.run_tool("propose_budget_changes", {})
    proposed, left_out = _proposed(ctx, budgets)
    return {
        "proposals": proposed,
        "findings": {
            "pacing": {"report": pacing.data, "summaries": [pacing.summary, budgets.summary], "left_out": left_out}
        },
    }


def pacing_series(ctx: RunServices) -> pd.DataFrame:
    """Cumulative spend per day this month beside the even-pace line to the month's target, in currency units."""
    structure = ctx.tools.structure()
    metrics = ctx.tools.metrics(ReportPeriod(start=ctx.today.replace(day=1), end=ctx.today))
    target = sum(c.monthly_target or 0 for c in structure.campaigns) or None
    series = daily_spend_series(metrics, ctx.today, monthly_target=target)
    unit = UNITS_PER_CURRENCY[structure.account.money_unit]
    return pd.DataFrame(
        {
            "actual": series["cumulative_spend"].astype("Float64") / unit,
            "target": series["ideal_cumulative"].astype("Float64") / unit,
        },
        index=pd.RangeIndex(1, len(series) + 1),
    )


def report(state: AuditState, runtime: Runtime[RunContext], factory: ServiceFactory) -> dict[str, Any]:
    ctx = services(runtime, factory)
    return {
        "report": write_report(
            state,
            account=ctx.tools.structure().account,
            today=ctx.today,
            reports_dir=ctx.reports_dir,
            pacing=pacing_series(ctx),
        )
    }


def build_audit_graph(factory: ServiceFactory) -> StateGraph[AuditState, RunContext, AuditInput, AuditState]:
    """The audit, its nodes running with the services `factory` builds from each run's context."""
    builder = StateGraph(AuditState, context_schema=RunContext, input_schema=AuditInput)
    builder.add_node("load_account", partial(load_account, factory=factory))
    analyses = {"search_terms": analyse_search_terms, "creatives": analyse_creatives, "pacing": analyse_pacing}
    for name, node in analyses.items():
        builder.add_node(name, partial(node, factory=factory))
        builder.add_edge("load_account", name)
    builder.add_edge(START, "load_account")
    builder.add_node("write_report", partial(report, factory=factory))
    add_approval_steps(builder, factory, graph="audit", report="write_report")
    builder.add_edge(list(analyses), "gate")
    return builder
