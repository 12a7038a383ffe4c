"""The audit graph: read the account, analyse it in parallel, gate every proposal, apply or ask, report.

START → load_account → {search_terms, creatives, pacing} → gate → apply_auto → write_report → await_approval → END
(each answer to await_approval rewrites the report)
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime

from ads.changes import Change
from ads.entities import UNITS_PER_CURRENCY, ReportPeriod
from graphs.approval import add_approval_steps
from graphs.context import RunContext
from graphs.state import AuditInput, AuditState
from ops.report import write_report
from tools.account_reports import Window
from tools.pacing import daily_spend_series
from tools.registry import ToolResult


def _proposed(*results: ToolResult) -> list[dict[str, Any]]:
    changes: list[Change] = [c for r in results for c in r.proposals]
    return [c.model_dump(mode="json") for c in changes]


def load_account(state: AuditState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    structure = runtime.context.tools.structure()
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
                "today": runtime.context.today.isoformat(),
            }
        },
    }


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
        "findings": {
            "search_terms": {
                "period": period.model_dump(mode="json"),
                "clusters": clusters.data,
                "summaries": [clusters.summary, negatives.summary, ad_groups.summary],
                "notices": negatives.data["notices"],
            }
        },
    }


def analyse_creatives(state: AuditState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    creatives = runtime.context.run_tool("propose_creative_variants", {})
    tests = runtime.context.run_tool("evaluate_creative_tests", {"window": Window.LAST_90_DAYS})
    return {
        "proposals": _proposed(creatives, tests),
        "findings": {"creatives": {"summaries": [creatives.summary, tests.summary], "tests": tests.data}},
    }


def analyse_pacing(state: AuditState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    pacing = ctx.run_tool("budgets_and_pacing", {})
    budgets = ctx.run_tool("propose_budget_changes", {})
    return {
        "proposals": _proposed(budgets),
        "findings": {"pacing": {"report": pacing.data, "summaries": [pacing.summary, budgets.summary]}},
    }


def pacing_series(ctx: RunContext) -> pd.DataFrame:
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


def report(state: AuditState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    return {
        "report": write_report(
            state,
            account=ctx.tools.structure().account,
            today=ctx.today,
            reports_dir=ctx.reports_dir,
            pacing=pacing_series(ctx),
        )
    }


def build_audit_graph() -> StateGraph[AuditState, RunContext, AuditInput, AuditState]:
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
