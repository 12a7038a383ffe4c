"""The one path that changes an account: re-gate, validate, apply, read back, log, report.

Audits, chat and approvals all call `apply_changes`. A change counts as applied only when the
account's read-back confirms it; a change already in place (same hash) is reported, not re-sent.

Exactly once per change hash: the whole path runs under one lock per account, across processes, so
the presence check, the write and the log entry of one change never interleave with another run's.
Immediately before sending, the gate decides again under the policy in force: what it blocks is never
applied, whoever approved it, and only a person's approval lets a `needs_approval` change through.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ads.account import AdAccount, ApplyResult, QueuedChanges
from ads.changes import Change
from ops.change_log import ChangeLog, EntryStatus
from ops.tracing import Tracing
from policies.gate import Decision

PERSON = "person:"


def by_person(name: str) -> str:
    """How a person's approval is recorded in `decided_by`."""
    return f"{PERSON}{name}"


def _refusal(change: Change, decision: Decision, approved_by: str) -> ApplyResult | None:
    """Why the gate, asked again now, does not let `change` through; None when it does."""
    if decision.outcome == "auto_apply" or (decision.outcome == "needs_approval" and approved_by.startswith(PERSON)):
        return None
    why = "the policy blocks it" if decision.outcome == "blocked" else "it needs a person's approval"
    return ApplyResult(
        change_hash=change.hash,
        status="blocked",
        message=f"not applied: asked again before applying, the gate says {why}: {decision.reason} ({decision.rule})",
    )


def reconcile(account: AdAccount, log: ChangeLog) -> list[ApplyResult]:
    """Settle intents left by a run that stopped between apply and log, by reading the account back."""
    results = []
    for intent in log.unresolved_intents(account.account.name):
        change = intent.parsed_change()
        back = account.read_back(change)
        status: EntryStatus = "reconciled" if back.present else "abandoned"
        message = (
            "read back after an interrupted run: the change is in the account"
            if back.present
            else "read back after an interrupted run: the change never reached the account"
        )
        log.append(
            change,
            status,
            decided_by=intent.decided_by,
            after=back.state,
            resource_names=back.resource_names,
            message=message,
        )
        results.append(
            ApplyResult(
                change_hash=change.hash,
                status="applied" if back.present else "failed",
                message=message,
                resource_names=back.resource_names,
                after=back.state,
            )
        )
    return results


def run_due_queue(account: AdAccount, log: ChangeLog, tracing: Tracing | None = None) -> list[ApplyResult]:
    """Send the changes a platform queued earlier that may run now, and log how each ended."""
    if not isinstance(account, QueuedChanges):
        return []
    results = account.run_queued()
    for result in results:
        queued = log.latest(result.change_hash)
        if queued is None:
            continue  # queued outside adpilot's log; the platform's ledger still tracks it
        change = queued.parsed_change()
        if result.status == "applied" and not account.read_back(change).present:
            result = result.model_copy(update={"status": "failed", "message": "read-back does not show the change"})
        assert result.status != "validated"  # only a validate_only apply answers that
        log.append(
            change,
            result.status,
            decided_by=queued.decided_by,
            before=result.before,
            after=result.after,
            resource_names=result.resource_names,
            message=result.message or "ran from the platform's queue",
        )
        if tracing:
            tracing.event(f"change.{result.status}", input={"change": change, "from_queue": True}, output=result)
    return results


def apply_changes(
    account: AdAccount,
    changes: Sequence[Change],
    *,
    decided_by: dict[str, str],
    log: ChangeLog,
    gate: Callable[[Change], Decision],
    tracing: Tracing | None = None,
) -> list[ApplyResult]:
    """Apply `changes` (allowed by the gate or a person); one result per change, in order.

    `decided_by` maps each change hash to the policy rule or the person (`by_person`) that allowed it;
    `gate` decides a change again, on the account's current data and the policy in force.
    """
    with log.exclusive(f"apply-{account.account.name}", what=f"applying changes to {account.account.name}"):
        reconcile(account, log)
        run_due_queue(account, log, tracing)
        trace_id = tracing.trace_id() if tracing else None
        results: dict[str, ApplyResult] = {}
        to_apply: list[Change] = []
        for change in changes:
            refusal = _refusal(change, gate(change), decided_by.get(change.hash, "unknown"))
            if refusal is not None:
                results[change.hash] = refusal
            # The account is the truth, not the log: a change rolled back since can be applied again.
            elif account.read_back(change).present:
                results[change.hash] = ApplyResult(
                    change_hash=change.hash, status="already_applied", message="already in the account; nothing sent"
                )
            else:
                to_apply.append(change)

        validated = {r.change_hash: r for r in account.apply(to_apply, validate_only=True)} if to_apply else {}
        valid = [c for c in to_apply if validated[c.hash].status == "validated"]
        for change in to_apply:
            if validated[change.hash].status != "validated":
                results[change.hash] = validated[change.hash]
        for change in valid:
            log.append(change, "intent", decided_by=decided_by.get(change.hash, "unknown"), trace_id=trace_id)

        for result in account.apply(valid, validate_only=False) if valid else []:
            results[result.change_hash] = result
        for change in valid:
            result = results[change.hash]
            if result.status == "applied":
                back = account.read_back(change)
                if not back.present:
                    result = result.model_copy(
                        update={
                            "status": "failed",
                            "message": "the platform accepted the change but the read-back does not show it",
                        }
                    )
                else:
                    result = result.model_copy(
                        update={
                            "after": back.state or result.after,
                            "resource_names": result.resource_names or back.resource_names,
                        }
                    )
                results[change.hash] = result

        sent = {c.hash for c in valid}
        for change in changes:
            result = results[change.hash]
            # An already-applied change is logged once, the first time adpilot sees it in the account.
            if change.hash in sent or not log.is_applied(change.hash):
                assert result.status != "validated"  # only a validate_only apply answers that
                log.append(
                    change,
                    result.status,
                    decided_by=decided_by.get(change.hash, "unknown"),
                    before=result.before,
                    after=result.after,
                    resource_names=result.resource_names,
                    trace_id=trace_id,
                    message=result.message,
                )
            if tracing:
                tracing.event(
                    f"change.{result.status}",
                    input={"change": change, "decided_by": decided_by.get(change.hash)},
                    output=result,
                )
        return [results[c.hash] for c in changes]
