"""Policy metrics on a change log built by hand through its API (exact counts, rates and hours), drift on synthetic
weekly series (fires, and does not), the gate's decisions as an audit records them, and `adpilot metrics`."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import ops.change_log
from ads.changes import PauseEntity, SetBudget
from ops.change_log import ChangeLog
from ops.policy_metrics import ALL, RateRow, drift_alerts, policy_metrics
from policies.gate import Decision
from tests.cli_runner import run

ACCOUNT = "sandbox:x"
MONDAY = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)  # ISO week 2026-W47


class Clock:
    def __init__(self) -> None:
        self.now = MONDAY

    def at(self, moment: dt.datetime) -> None:
        self.now = moment


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """The change log's clock, which stamps decisions and entries."""
    clock = Clock()
    monkeypatch.setattr(ops.change_log, "_now", lambda: clock.now.isoformat())
    yield clock


def budget(n: int) -> SetBudget:
    return SetBudget(account=ACCOUNT, rationale="pacing", budget_id=f"b{n}", from_amount=100_000_000, to_amount=n)


def pause(n: int) -> PauseEntity:
    return PauseEntity(account=ACCOUNT, rationale="loser", level="ad", entity_id=f"ad{n}")


def decided(change: SetBudget | PauseEntity, outcome: str, rule: str) -> Decision:
    return Decision(
        change_id=change.id, change_hash=change.hash, kind=change.kind, outcome=outcome, rule=rule, reason="test"
    )  # type: ignore[arg-type]


def row(rows: list[RateRow], kind: str = ALL, rule: str = ALL, week: str | None = None) -> RateRow:
    [found] = [r for r in rows if (r.kind, r.rule, r.week) == (kind, rule, week)]
    return found


def test_counts_rates_and_hours_to_answer_from_a_hand_built_log(tmp_path: Path, clock: Clock) -> None:
    log = ChangeLog(tmp_path / "changes.sqlite")
    a, b, c, d, e, f, i = (budget(n) for n in (101_000_000, 102_000_000, 103_000_000, 104, 105, 106, 107))
    g, h = pause(1), pause(2)
    hour = dt.timedelta(hours=1)
    first_run = [
        decided(a, "auto_apply", "budget.auto_apply"),  # applied by the policy
        decided(b, "auto_apply", "budget.auto_apply"),  # failed to apply: not applied
        decided(i, "auto_apply", "budget.auto_apply"),  # refused when asked again before applying: blocked
        decided(c, "needs_approval", "budget.needs_approval"),  # approved after 2 h
        decided(d, "needs_approval", "budget.needs_approval"),  # rejected after 4 h
        decided(e, "blocked", "budget.max_move"),
        decided(f, "needs_approval", "budget.needs_approval"),  # proposed again next week before an answer
        decided(g, "needs_approval", "pauses.needs_approval"),  # edited after 10 h
        decided(h, "needs_approval", "pauses.needs_approval"),  # a comment after 1 h, rejected after 6 h
    ]
    log.record_decisions(first_run, account=ACCOUNT, policy="p1", thread_id="t1", graph="audit", today=MONDAY.date())
    # The gate step run again (a resumed run) adds nothing.
    log.record_decisions(first_run, account=ACCOUNT, policy="p1", thread_id="t1", graph="audit", today=MONDAY.date())
    log.append(a, "intent", decided_by="policy:budget.auto_apply")
    log.append(a, "applied", decided_by="policy:budget.auto_apply")
    log.append(b, "intent", decided_by="policy:budget.auto_apply")
    log.append(b, "failed", decided_by="policy:budget.auto_apply")
    log.append(i, "blocked", decided_by="policy:budget.auto_apply")
    clock.at(MONDAY + hour)
    log.append(h, "commented", decided_by="person:ana", message="why this ad?")
    clock.at(MONDAY + 2 * hour)
    log.append(c, "intent", decided_by="person:ana")
    log.append(c, "applied", decided_by="person:ana")
    clock.at(MONDAY + 4 * hour)
    log.append(d, "rejected", decided_by="person:ana", message="not now")
    clock.at(MONDAY + 6 * hour)
    log.append(h, "rejected", decided_by="person:ben", message="keep it")
    clock.at(MONDAY + 10 * hour)
    log.append(g, "edited", decided_by="person:ben", message="edited into …")
    next_week = MONDAY + dt.timedelta(days=7)
    clock.at(next_week)
    again = [decided(f, "needs_approval", "budget.needs_approval")]
    log.record_decisions(again, account=ACCOUNT, policy="p2", thread_id="t2", graph="audit", today=next_week.date())
    clock.at(next_week + hour)
    log.append(f, "intent", decided_by="person:ana")
    log.append(f, "applied", decided_by="person:ana")

    metrics = policy_metrics(log)
    total = row(metrics.rows)
    counts = (total.proposals, total.auto_applied, total.approved, total.rejected, total.edited, total.blocked)
    assert counts == (10, 1, 2, 2, 1, 2)
    assert (total.unanswered, total.not_applied) == (1, 1)  # f's first proposal; b
    assert (total.auto_apply_rate, total.block_rate) == (0.1, 0.2)
    assert (total.approval_rate, total.rejection_rate) == (0.4, 0.4)  # of 5 answered
    # Hours to answer: c 2, d 4, h 6 (the comment is no answer), g 10, f's second proposal 1.
    assert total.answer_hours_median == 4.0 and total.answer_hours_p90 == pytest.approx(8.4)

    budgets = row(metrics.rows, "set_budget")
    assert (budgets.proposals, budgets.approved, budgets.rejected, budgets.blocked) == (8, 2, 1, 2)
    assert budgets.approval_rate == pytest.approx(2 / 3) and budgets.policy_hit_rate is None
    hits = {r.rule: r.policy_hit_rate for r in metrics.rows if r.kind == "set_budget" and r.rule != ALL}
    assert hits == {"budget.auto_apply": 3 / 8, "budget.max_move": 1 / 8, "budget.needs_approval": 4 / 8}
    pauses = row(metrics.rows, "pause_entity")
    assert (pauses.rejected, pauses.edited, pauses.approval_rate, pauses.rejection_rate) == (1, 1, 0.0, 0.5)
    assert row(metrics.rows, "pause_entity", "pauses.needs_approval").policy_hit_rate == 1.0
    # Order: all, then each kind followed by its rules.
    assert [(r.kind, r.rule) for r in metrics.rows][:3] == [
        (ALL, ALL),
        ("pause_entity", ALL),
        ("pause_entity", "pauses.needs_approval"),
    ]

    w47, w48 = row(metrics.weekly, week="2026-W47"), row(metrics.weekly, week="2026-W48")
    assert (w47.proposals, w47.approved, w47.unanswered, w48.proposals, w48.approved) == (9, 1, 1, 1, 1)
    assert w48.answer_hours_median == 1.0
    assert metrics.policies == ["p1", "p2"]
    assert metrics.alerts == []  # two weeks of ten proposals: far too few to tell

    since = policy_metrics(log, since=next_week.date())
    assert row(since.rows).proposals == 1
    assert metrics.scores()["policy.block_rate"] == 0.2
    assert metrics.scores()["policy.hit_rate.set_budget.budget.max_move"] == 1 / 8


def test_decisions_with_no_log_entry_yet(tmp_path: Path, clock: Clock) -> None:
    log = ChangeLog(tmp_path / "changes.sqlite")
    made = [decided(budget(104), "needs_approval", "budget.needs_approval"), decided(pause(1), "blocked", "x.y")]
    log.record_decisions(made, account=ACCOUNT, policy="p1", thread_id="t1", graph="audit", today=MONDAY.date())
    total = row(policy_metrics(log).rows)
    assert (total.proposals, total.unanswered, total.blocked, total.approval_rate) == (2, 1, 1, None)


def weeks(*counts: dict[tuple[str, str, str], int], policies: tuple[str, ...] = ()) -> pd.DataFrame:
    """Synthetic proposals: one dict of (kind, rule, outcome) -> count per ISO week, from 2026-W40 on."""
    rows = []
    start = pd.Timestamp("2026-09-28")  # a Monday, 2026-W40
    for n, week in enumerate(counts):
        monday = start + pd.Timedelta(weeks=n)
        label = f"{monday.isocalendar().year}-W{monday.isocalendar().week:02d}"
        policy = policies[n] if policies else "p1"
        for (kind, rule, outcome), k in week.items():
            proposal = {"week": label, "week_start": monday, "kind": kind, "rule": rule, "outcome": outcome}
            rows += [proposal | {"policy": policy}] * k
    return pd.DataFrame(rows)


NEG = "add_negative_keywords"


def block_week(blocked: int, total: int = 50) -> dict[tuple[str, str, str], int]:
    return {
        (NEG, "negatives.brand_term", "blocked"): blocked,
        (NEG, "negatives.auto_apply", "auto_applied"): total - blocked,
    }


def test_the_block_rate_doubling_after_a_policy_change_fires_and_names_the_change() -> None:
    series = weeks(*[block_week(5)] * 6, block_week(20), policies=("p1",) * 6 + ("p2",))
    alerts = [a for a in drift_alerts(series) if a.metric == "block_rate"]
    assert {a.kind for a in alerts} == {ALL, NEG}
    alert = next(a for a in alerts if a.kind == ALL)
    assert (alert.week, alert.count, alert.total, alert.trailing_count, alert.trailing_total) == (
        "2026-W46",
        20,
        50,
        30,
        300,
    )
    assert alert.rate == 0.4 and alert.trailing_rate == 0.1 and alert.trailing_weeks == 6 and alert.p_value < 1e-6
    assert alert.policy_change == "the policy changed (p1 → p2)" and "p1 → p2" in alert.message


@pytest.mark.parametrize(
    ("latest", "why"),
    [
        (block_week(8), "16% against 10%: up, but not doubled"),
        (block_week(6, total=12), "a thin week: 12 proposals"),
        (block_week(5), "the same rate"),
    ],
)
def test_the_block_rate_within_its_band_or_a_thin_week_does_not_fire(latest: dict, why: str) -> None:
    assert [a for a in drift_alerts(weeks(*[block_week(5)] * 6, latest)) if a.metric == "block_rate"] == [], why


def test_one_trailing_week_is_no_band() -> None:
    assert drift_alerts(weeks(block_week(5), block_week(40))) == []


def answers(approved: int, rejected: int) -> dict[tuple[str, str, str], int]:
    rule = ("set_budget", "budget.needs_approval")
    return {(*rule, "approved"): approved, (*rule, "rejected"): rejected, (*rule, "unanswered"): 5}


def test_approvals_falling_fire_and_a_small_dip_does_not() -> None:
    [alert] = drift_alerts(weeks(*[answers(24, 6)] * 4, answers(12, 18)))
    assert (alert.metric, alert.rate, alert.trailing_rate, alert.total) == ("approval_rate", 0.4, 0.8, 30)
    assert alert.message.startswith("approvals fell: 40% in 2026-W44 (12 of 30) against 80%")
    assert drift_alerts(weeks(*[answers(24, 6)] * 4, answers(21, 9))) == []  # 70%: less than a quarter down


def rule_week(brand: int, total: int = 40) -> dict[tuple[str, str, str], int]:
    return {
        (NEG, "negatives.min_clicks", "unanswered"): (total - brand) // 2,
        (NEG, "negatives.auto_apply", "auto_applied"): total - brand - (total - brand) // 2,
        (NEG, "negatives.brand_term", "unanswered"): brand,
        ("create_ad_group", "ad_groups.needs_approval", "unanswered"): 30,
    }


def test_a_rule_that_suddenly_fires_on_everything_alerts_and_one_that_always_did_does_not() -> None:
    alerts = drift_alerts(weeks(*[rule_week(4)] * 5, rule_week(38)))
    [alert] = [a for a in alerts if a.metric == "rule_hit_rate"]
    assert (alert.kind, alert.rule, alert.count, alert.total) == (NEG, "negatives.brand_term", 38, 40)
    assert alert.trailing_rate == 0.1 and alert.policy_change is None
    # ad_groups.needs_approval decides every create_ad_group, every week: its share never moved.
    assert not [a for a in alerts if a.rule == "ad_groups.needs_approval"]
    # Twice its share (10% to 25%) is not "everything".
    assert not [a for a in drift_alerts(weeks(*[rule_week(4)] * 5, rule_week(10))) if a.metric == "rule_hit_rate"]


def test_an_audit_records_each_decision_with_the_policy_digest(home: Path) -> None:
    from app.session import Session
    from app.settings import load_settings

    session = Session(load_settings())
    outcome = session.audit("sandbox:trailhead")
    decisions = session.change_log.decisions(account="sandbox:trailhead")
    assert {d.change_hash: d.outcome for d in decisions} == {
        key: value["outcome"] for key, value in outcome.values["decisions"].items()
    }
    assert {d.policy for d in decisions} == {session.policy.digest()} and {d.graph for d in decisions} == {"audit"}
    metrics = policy_metrics(session.change_log, account="sandbox:trailhead")
    assert row(metrics.rows).proposals == len(decisions)
    applied = sum(1 for r in outcome.values.get("results", {}).values() if r["status"] == "applied")
    assert row(metrics.rows).auto_applied == applied
    # The report's JSON twin carries the same figures; its page has the Policy section.
    document = json.loads(Path(outcome.values["report"]["json"]).read_text(encoding="utf-8"))
    assert document["policy"]["rows"][0]["proposals"] == len(decisions)
    assert 'id="policy"' in Path(outcome.values["report"]["html"]).read_text(encoding="utf-8")

    code, out, _ = run("metrics", "--json", "--account", "sandbox:trailhead")
    assert code == 0 and json.loads(out)["rows"][0]["proposals"] == len(decisions)
    code, out, _ = run("metrics")
    assert code == 0 and "Proposals and what became of them" in out and "No drift" in out


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("--since", "last week"), "error: since: expected a date as YYYY-MM-DD, got 'last week'"),
        (("--since", "2027-01-01"), "error: since 2027-01-01 is after today (2026-11-20)"),
        (("--account", "sandbox:nope"), "error: account 'sandbox:nope': the gate has decided nothing for it"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(home: Path, args: tuple[str, ...], line: str) -> None:
    code, out, err = run("metrics", *args)
    assert code == 1 and out == ""
    assert err.strip().startswith(line) and len(err.strip().splitlines()) == 1


def test_an_empty_log_says_so(home: Path) -> None:
    assert run("metrics") == (0, "The gate has decided nothing yet.\n", "")
    code, out, _ = run("metrics", "--json")
    assert code == 0 and json.loads(out)["rows"] == [] and json.loads(out)["alerts"] == []


def test_the_rates_reach_langfuse_as_scores(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip

    from tests.local_servers import decode_otlp, serve

    log = ChangeLog(home / "changes.sqlite")
    a, b = budget(101_000_000), budget(150_000_000)
    made = [decided(a, "auto_apply", "budget.auto_apply"), decided(b, "blocked", "budget.max_move")]
    log.record_decisions(made, account=ACCOUNT, policy="p1", thread_id="t1", graph="audit", today=MONDAY.date())
    log.append(a, "applied", decided_by="policy:budget.auto_apply")
    scores: list[dict] = []
    spans: list[dict] = []

    def handle(path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
        if path == "/api/public/otel/v1/traces":
            spans.extend(decode_otlp(headers, body))
            return 200, {}
        assert path == "/api/public/scores", path
        raw = gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body
        scores.extend(json.loads(raw))
        return 200, {}

    with serve(handle) as base_url:
        monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", "pk-lf-test-metrics")
        monkeypatch.setenv("LANGFUSE_SECRET_KEY", "sk-lf-test")
        monkeypatch.setenv("LANGFUSE_BASE_URL", base_url)
        code, out, _ = run("metrics", "--json")
    assert code == 0 and json.loads(out)["langfuse_scores"] == len(scores)
    values = {s["name"]: s["value"] for s in scores}
    assert values["policy.block_rate"] == 0.5 and values["policy.auto_apply_rate"] == 0.5
    assert values["policy.hit_rate.set_budget.budget.max_move"] == 0.5 and values["policy.drift_alerts"] == 0
    # One trace holds them: the `policy_metrics` span, its output the alerts.
    assert len({s["traceId"] for s in scores}) == 1 and "policy_metrics" in {s["name"] for s in spans}
