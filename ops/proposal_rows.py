"""Proposals as rows: each change with its decision, review and result, as the CLI, the report and --json show them.

Kept apart from the report so the CLI can show a run without loading the analyses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ads.changes import parse_change
from ads.statuses import ProposalStatus

STATUS_ORDER: dict[ProposalStatus, int] = {
    "applied": 0,
    "already_applied": 0,
    "queued": 1,
    "pending": 2,
    "approved": 3,
    "edited": 3,
    "rejected": 4,
    "failed": 5,
    "blocked": 6,
}


def proposal_rows(state: Mapping[str, Any], money: Callable[[int], str]) -> list[dict[str, Any]]:
    """One row per proposal with its decision, review and result: what the CLI, the report and --json show.

    Applied changes come first, then what waits for a person, then what was refused."""
    decisions, results, reviews = state.get("decisions", {}), state.get("results", {}), state.get("reviews", {})
    rows = []
    for data in state.get("proposals", []):
        change = parse_change(data)
        decision = decisions.get(change.hash, {})
        result = results.get(change.hash)
        review = reviews.get(change.hash)
        if result:
            status = result["status"]
        elif review:
            status = {"accept": "approved", "edit": "edited", "reject": "rejected"}[review["type"]]
        else:
            status = {"needs_approval": "pending", "blocked": "blocked"}.get(decision.get("outcome", ""), "undecided")
        rows.append(
            {
                "id": change.id,
                "hash": change.hash,
                "kind": change.kind,
                "decision": decision.get("outcome", "undecided"),
                "rule": decision.get("rule", ""),
                "reason": decision.get("reason", ""),
                "summary": change.summary(),
                "rationale": change.rationale,
                "status": status,
                "message": (result or {}).get("message", ""),
                "blocks": [
                    {
                        "keyword": k.text,
                        "match_type": k.match_type.value,
                        "terms": [
                            {
                                "term": q.search_term,
                                "clicks": q.clicks,
                                "cost": money(q.cost),
                                "conversions": q.conversions,
                            }
                            for q in k.blocks
                        ],
                    }
                    for k in getattr(change, "keywords", ())
                    if hasattr(k, "blocks")
                ],
                "change": change.model_dump(mode="json"),
            }
        )
    return sorted(rows, key=lambda r: (STATUS_ORDER.get(r["status"], 7), r["kind"]))
