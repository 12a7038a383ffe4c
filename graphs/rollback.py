"""Rollback: the inverse of an applied change, proposed as new changes that take the gate like any other.

START → gate → apply_auto → await_approval → END, with the inverse changes as input.
"""

from __future__ import annotations

from langgraph.graph import START, StateGraph
from pydantic import ValidationError

from ads.account import AdAccount
from ads.changes import (
    ROLLBACK_METRIC,
    AddCreativeVariants,
    AddNegativeKeywords,
    Change,
    CreateAdGroup,
    CreateSharedNegativeList,
    Evidence,
    KeywordSpec,
    PauseEntity,
    ReallocateBudget,
    RemoveNegativeKeywords,
    RemoveSharedNegativeList,
    SetBudget,
)
from ads.errors import AdpilotError
from ads.statuses import APPLIED_STATUSES
from graphs.approval import add_approval_steps
from graphs.context import RunContext, ServiceFactory
from graphs.state import ProposalState
from ops.change_log import LogEntry


def inverse_changes(entry: LogEntry, account: AdAccount) -> list[Change]:
    """What undoes `entry`, given the account as it is now."""
    if entry.status not in APPLIED_STATUSES:
        raise AdpilotError(
            f"change log entry {entry.id} is '{entry.status}'; only an applied change can be rolled back"
        )
    change = entry.parsed_change()
    common = {
        "account": change.account,
        "rationale": f"Rolls back change {change.id} "
        f"(change log entry {entry.id}, {entry.recorded_at:%Y-%m-%d %H:%M} UTC): "
        f"{change.summary()}.",
        "evidence": Evidence(metrics={ROLLBACK_METRIC: float(entry.id)}),
    }
    match change:
        case AddNegativeKeywords():
            keywords = tuple(KeywordSpec(text=k.text, match_type=k.match_type) for k in change.keywords)
            return [
                RemoveNegativeKeywords(
                    level=change.level,
                    target_id=change.target_id,
                    target_name=change.target_name,
                    keywords=keywords,
                    **common,
                )
            ]
        case SetBudget():
            current = {b.id: b.daily_amount for b in account.structure().budgets}.get(change.budget_id)
            if current is None:
                raise AdpilotError(f"budget {change.budget_id} is no longer in {change.account}; nothing to restore")
            restore = change.model_dump(exclude={"hash", "id", "rationale", "evidence"})
            return [
                SetBudget.model_validate(restore | {"from_amount": current, "to_amount": change.from_amount, **common})
            ]
        case ReallocateBudget():
            amounts = {b.id: b.daily_amount for b in account.structure().budgets}
            gone = [leg.budget_id for leg in change.legs if leg.budget_id not in amounts]
            if gone:
                raise AdpilotError(f"budget(s) {', '.join(gone)} no longer in {change.account}; nothing to restore")
            legs = tuple(
                leg.model_copy(update={"from_amount": amounts[leg.budget_id], "to_amount": leg.from_amount})
                for leg in change.legs
            )
            try:
                restore = change.model_dump(exclude={"hash", "id", "rationale", "evidence", "legs"})
                return [ReallocateBudget.model_validate(restore | {"legs": legs, **common})]
            except ValidationError as error:
                raise AdpilotError(
                    f"change {change.id} cannot be rolled back as one reallocation: {error.errors()[0]['msg']}"
                ) from None
        case CreateSharedNegativeList():
            created = account.read_back(change).state.get("shared_list_id")
            if not created:
                raise AdpilotError(
                    f"the shared list '{change.name}' created by change {change.id} is not in the account"
                )
            return [
                RemoveSharedNegativeList(
                    shared_list_id=str(created),
                    name=change.name,
                    keyword_count=len(change.keywords),
                    campaign_ids=change.campaign_ids,
                    **common,
                )
            ]
        case CreateAdGroup():
            created = account.read_back(change).state.get("ad_group_id")
            if not created:
                raise AdpilotError(f"the ad group '{change.name}' created by change {change.id} is not in the account")
            return [PauseEntity(level="ad_group", entity_id=str(created), entity_name=change.name, **common)]
        case AddCreativeVariants():
            created = account.read_back(change).state.get("ad_id")
            if not created:
                raise AdpilotError(f"the ad created by change {change.id} is not in the account")
            return [PauseEntity(level="ad", entity_id=str(created), **common)]
    raise AdpilotError(f"change {change.id} ({change.kind}) has no inverse adpilot can apply")


def build_rollback_graph(
    factory: ServiceFactory,
) -> StateGraph[ProposalState, RunContext, ProposalState, ProposalState]:
    builder = StateGraph(ProposalState, context_schema=RunContext)
    add_approval_steps(builder, factory, graph="rollback")
    builder.add_edge(START, "gate")
    return builder
