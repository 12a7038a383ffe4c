"""Graph state. Changes, decisions and results are kept as JSON dicts so checkpoints stay plain data."""

from __future__ import annotations

import operator
from typing import Annotated, Any

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict


def merge(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    return {**left, **right}


class ProposalState(TypedDict, total=False):
    """What the gate and approval steps read and write; shared by the audit and chat graphs."""

    account: str
    proposals: Annotated[list[dict[str, Any]], operator.add]  # Change dumps, in the order proposed
    decisions: Annotated[dict[str, dict[str, Any]], merge]  # change hash → Decision dump
    results: Annotated[dict[str, dict[str, Any]], merge]  # change hash → ApplyResult dump
    reviews: Annotated[dict[str, dict[str, Any]], merge]  # change hash → a person's answer
    comments: Annotated[list[dict[str, Any]], operator.add]  # a person's comments on changes that still wait


class AuditInput(TypedDict):
    account: str


class AuditState(ProposalState, total=False):
    findings: Annotated[dict[str, Any], merge]  # per analysis: what the report shows
    report: dict[str, str]  # paths of the written report


class ChatState(ProposalState, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
