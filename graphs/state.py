"""Graph state. Changes, decisions and results are kept as JSON dicts so checkpoints stay plain data."""

from __future__ import annotations

import operator
from typing import Annotated, Any

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict


def merge(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    return {**left, **right}


def add_unproposed(left: list[dict[str, Any]], right: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Append the changes not proposed yet: one proposal per change (content hash) in a thread, whatever the
    number of turns or runs that propose it again."""
    seen = {p["hash"] for p in left}
    added = []
    for proposal in right:
        if proposal["hash"] not in seen:
            seen.add(proposal["hash"])
            added.append(proposal)
    return [*left, *added]


class ProposalState(TypedDict, total=False):
    """What the gate and approval steps read and write; shared by the audit and chat graphs."""

    account: str
    proposals: Annotated[list[dict[str, Any]], add_unproposed]  # Change dumps, in the order proposed, each once
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
    """A conversation. Besides its messages it remembers what it showed last, so a reference ("the first one",
    "those terms", "that negative") resolves to one item of the thread's last results, never to a guess."""

    messages: Annotated[list[AnyMessage], add_messages]
    language: str  # "en" or "de": the language of the person's last message
    # per kind (search_term, campaign, ad_group, ad_copy, theme, budget, change, log_entry): the items the last
    # result of that kind showed, in display order, as {"name", "line"} (a change's name is its id, plus "hash")
    shown: Annotated[dict[str, list[dict[str, Any]]], merge]
    search: dict[str, Any]  # the arguments of the last search-term read: what "those terms" were
    focus: str  # the hash of the change the conversation last acted on or explained
    # an answer to a proposal waiting for the person's yes: hash, id, action, note, and the turn it was asked in
    confirm: dict[str, Any] | None
    answering: list[dict[str, Any]]  # answers the person confirmed, for the approvals path to carry out
