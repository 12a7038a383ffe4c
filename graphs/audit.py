"""The audit graph: read the account, analyse it in parallel, gate every proposal, apply or ask, report.

START → load_account → {search_terms, creatives, pacing} → gate → apply_auto → write_report → await_approval → END
(each answer to await_approval rewrites the report)

A daily audit proposes much of what yesterday's did: what the account already holds, and what a person rejected
and is still cooling off, is left out (and listed in each analysis's `left_out`); what still waits is refreshed in
the queue by the gate rather than added twice.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

import pandas as pd
from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime

from ads.changes import Change
from ads.entities import UNITS_PER_CURRENCY, AccountStructure, ReportPeriod
from graphs.approval import add_approval_steps, unrepeated
from graphs.context import RunContext, RunServices, ServiceFactory, services
from graphs.state import AuditInput, AuditState
from ops.policy_metrics import policy_metrics
from ops.report import KPI_DAYS, MAX_THEMES, write_report
from tools.account_reports import Window
from tools.pacing import daily_spend_series
from tools.registry import ClusterArgs, ToolResult


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
    # The report lists themes by cost; the tool's list is by size and cut, so the count and cost are of them all.
    themes = ctx.tools.clusters(period, ClusterArgs().granularity, ClusterArgs().backend).clusters
    negatives = ctx.run_tool("mine_negative_keywords", {"window": Window.LAST_90_DAYS})
    ad_groups = ctx.run_tool("propose_ad_groups", {"window": Window.LAST_90_DAYS})
    proposed, left_out = _proposed(ctx, negatives, ad_groups)
    return {
        "proposals": proposed,
        "findings": {
            "search_terms": {
                "period": period.model_dump(mode="json"),
                "clusters": clusters.data,
                "themes": {
                    "count": len(themes),
                    "cost": sum(c.cost for c in themes),
                    "clusters": [c.model_dump() for c in sorted(themes, key=lambda c: -c.cost)[:MAX_THEMES]],
                },
                "summaries": [clusters.summary, negatives.summary, ad_groups.summary],
                "notices": negatives.data["notices"],
                "left_out": left_out,
            }
        },
    }


def analyse_creatives(state: AuditState, runtime: Runtime[RunContext], factory: ServiceFactory) -> dict[str, Any]:
    ctx = services(runtime, factory)
    creatives = ctx.run_tool("propose_creative_variants", {})
    tests = ctx.run_tool("evaluate_creative_tests", {"window": Window.LAST_90_DAYS})
    proposed, left_out = _proposed(ctx, creatives, tests)
    return {
        "proposals": proposed,
        "findings": {
            "creatives": {"summaries": [creatives.summary, tests.summary], "tests": tests.data, "left_out": left_out}
        },
    }


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


def pacing_series(
    structure: AccountStructure, metrics: pd.DataFrame, today: dt.date, projected: int | None
) -> pd.DataFrame:
    """Cumulative spend by day of month, in currency units: this month's (`actual`, complete days), last month's
    (`last_month`), the straight line from there to the `projected` month end, and the even pace to the month's
    `target`. Last month's curve and the plan are what the chart has to say on the 1st, when this month has no day.
    """
    unit = UNITS_PER_CURRENCY[structure.account.money_unit]
    target = sum(c.monthly_target or 0 for c in structure.campaigns) or None
    month = daily_spend_series(metrics, today, monthly_target=target)
    previous_end = today.replace(day=1) - dt.timedelta(days=1)
    days = pd.to_datetime(metrics["date"]).dt.date if not metrics.empty else pd.Series([], dtype=object)
    previous = metrics.loc[(days >= previous_end.replace(day=1)) & (days <= previous_end)] if len(days) else metrics
    last_month = (
        previous.groupby(pd.to_datetime(previous["date"]).dt.day)["cost"]
        .sum()
        .reindex(range(1, previous_end.day + 1), fill_value=0)
        .cumsum()
        if not previous.empty
        else pd.Series(dtype="float64")
    )
    index = pd.RangeIndex(1, max(len(month), previous_end.day) + 1)
    frame = pd.DataFrame(index=index)
    frame["actual"] = pd.Series(month["cumulative_spend"].astype("Float64").array, index=index[: len(month)]) / unit
    frame["target"] = pd.Series(month["ideal_cumulative"].astype("Float64").array, index=index[: len(month)]) / unit
    frame["last_month"] = last_month.reindex(index).astype("Float64") / unit
    if projected is not None:
        # From the last complete day's total (0 before the 1st) straight to the projected month end.
        elapsed, spent = today.day - 1, float(frame["actual"].get(today.day - 1, 0) or 0) * unit
        step = (projected - spent) / (len(month) - elapsed)
        frame["projected"] = pd.Series(
            {d: (spent + (d - elapsed) * step) / unit for d in range(max(elapsed, 1), len(month) + 1)}, dtype="Float64"
        ).reindex(index)
    return frame


def report_metrics(ctx: RunServices) -> pd.DataFrame:
    """Daily metrics from the first of last month, or the start of the KPI table's previous period, to today."""
    start = min(ctx.today.replace(day=1) - dt.timedelta(days=1), ctx.today - dt.timedelta(days=2 * KPI_DAYS)).replace(
        day=1
    )
    return ctx.tools.metrics(ReportPeriod(start=start, end=ctx.today))


def report(state: AuditState, runtime: Runtime[RunContext], factory: ServiceFactory) -> dict[str, Any]:
    ctx = services(runtime, factory)
    structure = ctx.tools.structure()
    metrics = report_metrics(ctx)
    projected = state.get("findings", {}).get("pacing", {}).get("report", {}).get("account_projected")
    return {
        "report": write_report(
            state,
            account=structure.account,
            today=ctx.today,
            reports_dir=ctx.reports_dir,
            pacing=pacing_series(structure, metrics, ctx.today, projected),
            metrics=metrics,
            policy=policy_metrics(ctx.change_log, account=structure.account.name),
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
