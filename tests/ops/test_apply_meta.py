"""Meta's hourly budget limit through the one apply path: the fifth change is queued, logged, and runs later."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ops.apply import apply_changes
from ops.change_log import ChangeLog
from tests.ads.test_meta import T0, _budget, _set_budget, clock, emulator, meta  # noqa: F401 - fixtures by name


def test_a_queued_budget_change_runs_at_the_next_apply_once_due(allow_all, meta, clock, tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "changes.sqlite")
    amount = _budget(meta, "3002")
    changes = [_set_budget("3002", amount + 100 * i, amount + 100 * (i + 1)) for i in range(5)]
    for minute, change in enumerate(changes):
        clock.now = T0 + dt.timedelta(minutes=minute)
        [result] = apply_changes(meta, [change], decided_by={change.hash: "policy:test"}, log=log, gate=allow_all)
    assert result.status == "queued" and log.latest(changes[4].hash).status == "queued"
    assert _budget(meta, "3002") == amount + 400

    clock.now = T0 + dt.timedelta(minutes=70)
    unrelated = _set_budget("3001", _budget(meta, "3001"), _budget(meta, "3001") + 100)
    apply_changes(meta, [unrelated], decided_by={}, log=log, gate=allow_all)  # any later apply first runs what is due
    assert _budget(meta, "3002") == amount + 500
    assert [e.status for e in reversed(log.entries(change=changes[4].hash))] == ["intent", "queued", "applied"]
    assert log.latest(changes[4].hash).decided_by == "policy:test"
