from __future__ import annotations

from typing import get_args

from ads.statuses import APPLIED_STATUSES, ApplyStatus, EntryStatus, ProposalStatus


def test_applied_statuses_are_change_log_statuses() -> None:
    assert set(get_args(EntryStatus)) >= APPLIED_STATUSES


def test_every_apply_status_is_a_proposal_status_and_a_log_status_except_validated() -> None:
    apply_statuses = set(get_args(ApplyStatus))
    assert apply_statuses <= set(get_args(ProposalStatus))
    assert apply_statuses - set(get_args(EntryStatus)) == {"validated"}
