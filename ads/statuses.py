"""The status words of a change, from the account's answer to the change log and the proposal list.

Plain strings (Literals), since they are stored in the change log and shown in `--json` output as they are.
"""

from __future__ import annotations

from typing import Literal

# What an account answers for one change (`ads.account.ApplyResult`).
# `blocked`: the gate, asked again just before sending, refused it (ops.apply).
ApplyStatus = Literal["validated", "applied", "already_applied", "queued", "failed", "blocked"]
# What the change log records: an intent before sending, then the result, or a person's rejection or edit
# (`edited`: replaced by a new change) or comment (`commented`: the change still waits); after a crash, the
# next run marks an intent `reconciled` (the account holds it) or `abandoned`.
EntryStatus = Literal[
    "intent",
    "applied",
    "already_applied",
    "failed",
    "queued",
    "blocked",
    "rejected",
    "edited",
    "commented",
    "reconciled",
    "abandoned",
]
# Where a proposal stands in a run: its apply status, else the review's, else the gate's.
ProposalStatus = Literal[ApplyStatus, "pending", "approved", "edited", "rejected", "blocked", "undecided"]

# Where an item of the approval queue stands (`ops.change_log`): `open` waits for a person; `superseded`: the same
# content was proposed again and the newer version took its place; the rest close it the way the log says.
QueueStatus = Literal["open", "superseded", "applied", "rejected", "edited", "failed", "queued", "blocked"]

# The account holds the change: applied now, found already there, or confirmed after a crash.
APPLIED_STATUSES: frozenset[str] = frozenset({"applied", "already_applied", "reconciled"})
