"""When a change a person rejected may be proposed again: after the policy's cooling-off period, or sooner when
the evidence behind it has grown past the policy's threshold (a rejected negative whose terms kept wasting money).

Pure: the rejected and the new proposal of one content, the two dates, the policy section.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from ads.changes import Evidence

# What a change rests on, in the order it is measured: the spend, else the clicks, else the impressions.
EVIDENCE_WEIGHTS = ("cost", "clicks", "impressions")


class ReproposalPolicy(BaseModel):
    """The `reproposal` section of the policy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rejected_cooling_off_days: Annotated[int, Field(ge=0, strict=True)]
    evidence_growth: Annotated[float, Field(gt=0, allow_inf_nan=False, strict=True)]


class Reproposal(BaseModel):
    """Whether a rejected change's new proposal goes to a person again, and why in one line."""

    model_config = ConfigDict(frozen=True)

    allowed: bool
    why: str


def evidence_weight(evidence: Evidence) -> tuple[str, float] | None:
    """The metric a change rests on and its value, or None when its evidence names none of them."""
    for name in EVIDENCE_WEIGHTS:
        if name in evidence.metrics:
            return name, evidence.metrics[name]
    return None


def reproposal(
    rejected: Evidence,
    rejected_on: dt.date,
    proposed: Evidence,
    today: dt.date,
    policy: ReproposalPolicy | None,
) -> Reproposal:
    """A policy without the section lets a rejected change come back at once: a person sees it again rather than
    adpilot hiding it on a rule nobody wrote."""
    if policy is None:
        return Reproposal(allowed=True, why="the policy sets no cooling-off period")
    until = rejected_on + dt.timedelta(days=policy.rejected_cooling_off_days)
    if today >= until:
        return Reproposal(allowed=True, why=f"its cooling-off period ended on {until:%Y-%m-%d}")
    before, now = evidence_weight(rejected), evidence_weight(proposed)
    if before is not None and now is not None and before[0] == now[0]:
        name = before[0]
        if before[1] > 0:
            grown = (now[1] - before[1]) / before[1]
        else:
            grown = float("inf") if now[1] > 0 else 0.0
        if grown >= policy.evidence_growth:
            growth = f"grew by {grown:.0%}" if grown < float("inf") else "grew from none"
            return Reproposal(allowed=True, why=f"its {name} {growth} since it was rejected")
    return Reproposal(
        allowed=False,
        why=f"cooling off until {until:%Y-%m-%d} unless its evidence grows by {policy.evidence_growth:.0%}",
    )
