"""Policy metrics and drift alerts: what the gate decided, what became of each proposal, per rule, kind and ISO week.

Read from the change log: its `decisions` (one per proposed change per run, with the policy's digest) and its
entries (what was applied, and by whom; a person's rejection or edit).

A **proposal** is one gate decision on one proposed change in one run. A change proposed again by a later run
(the next audit) is a new proposal; the older one then counts as unanswered. Each proposal ends in one outcome:

- `auto_applied`: the gate let it apply by itself and the account holds it (applied, already there, reconciled);
- `approved`: a person approved it (whatever the apply then did: the log has that);
- `rejected`, `edited`: a person rejected it, or edited it into a new change (which is a proposal of its own);
- `blocked`: the gate blocked it, or refused it when asked again just before applying it by itself;
- `unanswered`: it waits for a person, or a later run proposed it again before anyone answered;
- `not_applied`: the gate let it apply by itself but it did not reach the account (failed, queued, abandoned).

A log entry belongs to the latest proposal of its change (same hash) made before it.

The rates, for any set of proposals (all, one kind, one rule; all weeks or one):

- **auto-apply rate** = auto_applied / proposals;
- **block rate** = blocked / proposals;
- **approval rate** = approved / answered, and **rejection rate** = rejected / answered, where answered =
  approved + rejected + edited (a person's answers only; a proposal's week is the week it was proposed);
- **policy-hit rate** of a rule = the proposals that rule decided / all proposals of its kind;
- **time to answer**: hours from the gate's decision to a person's first answer (median and p90, linear
  interpolation), over the answered proposals.

Drift: the latest ISO week with proposals is tested against the pooled TRAILING_WEEKS weeks before it. A rate
leaves its band when both have at least `min_count` proposals (answers, for the approval rate) and at least
MIN_TRAILING_WEEKS weeks of them, an exact one-sided binomial test of this week's count against the trailing rate
gives p < ALPHA, and the change is large enough to act on: the block rate (all proposals, or one kind's) at least
doubled; the approval rate fell by at least a quarter; one rule decides at least EVERYTHING of its kind's
proposals and at least twice its trailing share. An alert names the policy change, when this week's decisions were
made under a policy digest the trailing weeks never used.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from ads.errors import AdpilotError, UnknownAccountError
from ads.statuses import APPLIED_STATUSES
from ops.change_log import ChangeLog

OUTCOMES = ("auto_applied", "approved", "rejected", "edited", "blocked", "unanswered", "not_applied")
ALL = "all"  # the kind or rule of a row that sums over them
TRAILING_WEEKS = 8
MIN_TRAILING_WEEKS = 2
MIN_COUNT = 20
ALPHA = 0.01
BLOCK_RATE_FACTOR = 2.0  # "doubled"
APPROVAL_FALL = 0.25  # "fell by at least a quarter" of its trailing value
EVERYTHING = 0.8  # a rule that decides this share of its kind's proposals "fires on everything"

MOMENT = "datetime64[us, UTC]"  # one resolution for the log's timestamps, however few there are

Metric = Literal["block_rate", "approval_rate", "rule_hit_rate"]


class RateRow(BaseModel):
    """The counts and rates of one set of proposals: all (kind and rule `all`), one kind (rule `all`) or one rule."""

    model_config = ConfigDict(frozen=True)

    week: str | None = None  # an ISO week, 2026-W47; None over the whole period
    kind: str
    rule: str
    proposals: int
    auto_applied: int
    approved: int
    rejected: int
    edited: int
    blocked: int
    unanswered: int
    not_applied: int
    auto_apply_rate: float | None
    approval_rate: float | None
    rejection_rate: float | None
    block_rate: float | None
    policy_hit_rate: float | None  # rules only
    answer_hours_median: float | None
    answer_hours_p90: float | None


class DriftAlert(BaseModel):
    model_config = ConfigDict(frozen=True)

    metric: Metric
    kind: str
    rule: str
    week: str
    count: int
    total: int
    rate: float
    trailing_count: int
    trailing_total: int
    trailing_rate: float
    trailing_weeks: int
    p_value: float
    policy_change: str | None
    message: str


class PolicyMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)

    account: str | None
    since: dt.date | None
    policies: list[str]  # the policy digests the decisions were made under, oldest first
    rows: list[RateRow]  # all, then each kind, each followed by its rules
    weekly: list[RateRow]  # the same per ISO week, oldest first
    alerts: list[DriftAlert]

    @property
    def total(self) -> RateRow | None:
        return self.rows[0] if self.rows else None

    def scores(self) -> dict[str, float]:
        """The rates over the whole period, as Langfuse scores are named."""
        total = self.total
        if total is None:
            return {}
        rates = {
            "auto_apply_rate": total.auto_apply_rate,
            "approval_rate": total.approval_rate,
            "rejection_rate": total.rejection_rate,
            "block_rate": total.block_rate,
        }
        named = {f"policy.{name}": value for name, value in rates.items() if value is not None}
        hits = {
            f"policy.hit_rate.{r.kind}.{r.rule}": r.policy_hit_rate for r in self.rows if r.policy_hit_rate is not None
        }
        return named | hits | {"policy.drift_alerts": float(len(self.alerts))}


def proposal_outcomes(decisions: pd.DataFrame, entries: pd.DataFrame) -> pd.DataFrame:
    """One row per proposal (decision) with its `outcome`, `answer_hours`, ISO `week` and `week_start` (Monday).

    `decisions`: change_hash, kind, outcome, rule, policy, decided_at, decided_on; `entries`: change_hash, status,
    decided_by, recorded_at (both as the change log holds them)."""
    frame = (
        decisions.rename(columns={"outcome": "decision"})
        .assign(
            decided_at=pd.to_datetime(decisions["decided_at"], utc=True, format="ISO8601").astype(MOMENT),
            decided_on=pd.to_datetime(decisions["decided_on"]),
        )
        .reset_index(drop=True)
    )
    frame["proposal"] = frame.index
    frame["change_hash"] = frame["change_hash"].astype("str")
    # Typed even when empty (no entry yet), so the keys match.
    logged = entries.astype({"change_hash": "str", "status": "str", "decided_by": "str"}).assign(
        recorded_at=pd.to_datetime(entries["recorded_at"], utc=True, format="ISO8601").astype(MOMENT)
    )
    # Each entry belongs to the latest proposal of its change made before it.
    owned = pd.merge_asof(
        logged.sort_values("recorded_at"),
        frame[["change_hash", "decided_at", "proposal"]].sort_values("decided_at"),
        left_on="recorded_at",
        right_on="decided_at",
        by="change_hash",
        direction="backward",
    ).dropna(subset=["proposal"])
    owned["proposal"] = owned["proposal"].astype(int)
    by_person = owned[owned["decided_by"].str.startswith("person:") & (owned["status"] != "commented")]
    first = by_person.sort_values("recorded_at").groupby("proposal")[["status", "recorded_at"]].first()
    frame = frame.join(first.rename(columns={"status": "answer", "recorded_at": "answered_at"}), on="proposal")
    by_policy = owned[owned["decided_by"].str.startswith("policy:")]
    applied = set(by_policy.loc[by_policy["status"].isin(APPLIED_STATUSES), "proposal"])
    refused = set(by_policy.loc[by_policy["status"] == "blocked", "proposal"])

    answer = frame["answer"]
    by_answer = np.where(answer.isin(["rejected", "edited"]), answer, np.where(answer.isna(), "unanswered", "approved"))
    by_itself = np.where(
        frame["proposal"].isin(applied),
        "auto_applied",
        np.where(frame["proposal"].isin(refused), "blocked", "not_applied"),
    )
    gate = frame["decision"]
    frame["outcome"] = np.select([gate == "blocked", gate == "auto_apply"], ["blocked", by_itself], by_answer)
    waited = pd.to_datetime(frame["answered_at"], utc=True) - frame["decided_at"]
    frame["answer_hours"] = waited.dt.total_seconds() / 3600
    iso = frame["decided_on"].dt.isocalendar()
    frame["week"] = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    frame["week_start"] = frame["decided_on"] - pd.to_timedelta(frame["decided_on"].dt.day_of_week, unit="D")
    return frame


def rate_table(proposals: pd.DataFrame, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Counts and rates of `proposals` for all of them, each kind and each rule (within each group of `by`)."""
    keys = [*by, "kind", "rule"]
    levels = []
    for summed in (("kind", "rule"), ("rule",), ()):
        level = proposals.assign(**dict.fromkeys(summed, ALL))
        counts = pd.crosstab([level[k] for k in keys], level["outcome"]).reindex(columns=list(OUTCOMES), fill_value=0)
        hours = level.groupby(keys)["answer_hours"]
        counts["answer_hours_median"] = hours.quantile(0.5)
        counts["answer_hours_p90"] = hours.quantile(0.9)
        levels.append(counts)
    table = pd.concat(levels).reset_index()
    table["proposals"] = table[list(OUTCOMES)].sum(axis=1)
    answered = table[["approved", "rejected", "edited"]].sum(axis=1)

    def share(part: pd.Series, whole: pd.Series) -> pd.Series:
        return (part / whole.where(whole > 0)).astype("float64")

    table["auto_apply_rate"] = share(table["auto_applied"], table["proposals"])
    table["block_rate"] = share(table["blocked"], table["proposals"])
    table["approval_rate"] = share(table["approved"], answered)
    table["rejection_rate"] = share(table["rejected"], answered)
    of_kind = table.loc[table["rule"] == ALL, [*by, "kind", "proposals"]].rename(columns={"proposals": "of_kind"})
    table = table.merge(of_kind, on=[*by, "kind"], how="left")
    table["policy_hit_rate"] = share(table["proposals"], table["of_kind"]).where(table["rule"] != ALL)
    # All first, then each kind followed by its rules.
    table = table.sort_values([*by, "kind", "rule"], key=lambda c: c.where(c != ALL, "") if c.name != "week" else c)
    return table[[*by, "kind", "rule", "proposals", *OUTCOMES, *RATES, "answer_hours_median", "answer_hours_p90"]]


RATES = ("auto_apply_rate", "approval_rate", "rejection_rate", "block_rate", "policy_hit_rate")


def _rows(table: pd.DataFrame) -> list[RateRow]:
    records = table.astype(object).where(table.notna(), None).to_dict("records")
    return [RateRow(**{str(k): v for k, v in record.items()}) for record in records]


class _Window(BaseModel):
    """This week and the trailing weeks a drift test compares it with."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    week: str
    now: pd.DataFrame
    before: pd.DataFrame
    weeks: int
    policy_change: str | None


def _window(proposals: pd.DataFrame) -> _Window | None:
    latest = proposals["week_start"].max()
    start = latest - pd.Timedelta(weeks=TRAILING_WEEKS)
    now = proposals[proposals["week_start"] == latest]
    before = proposals[(proposals["week_start"] < latest) & (proposals["week_start"] >= start)]
    if before["week"].nunique() < MIN_TRAILING_WEEKS:
        return None
    new = sorted(set(now["policy"]) - set(before["policy"]))
    change = f"the policy changed ({', '.join(sorted(set(before['policy'])))} → {', '.join(new)})" if new else None
    return _Window(
        week=str(now["week"].iloc[0]), now=now, before=before, weeks=before["week"].nunique(), policy_change=change
    )


def _alert(
    window: _Window,
    metric: Metric,
    kind: str,
    rule: str,
    what: str,
    counts: tuple[int, int, int, int],
    *,
    min_count: int,
    alpha: float,
) -> DriftAlert | None:
    """An alert when this week's `count` of `total` left the band of the trailing weeks' rate (see the module)."""
    from scipy.stats import binomtest  # a second of import: only when there is something to test

    count, total, trailing_count, trailing_total = counts
    if total < min_count or trailing_total < min_count:
        return None
    rate, base = count / total, trailing_count / trailing_total
    if metric == "approval_rate":
        large, alternative = rate <= (1 - APPROVAL_FALL) * base, "less"
    else:
        large, alternative = rate > base and rate >= BLOCK_RATE_FACTOR * base, "greater"
        large = large and (metric != "rule_hit_rate" or rate >= EVERYTHING)
    if not large:
        return None
    p_value = float(binomtest(count, total, base, alternative=alternative).pvalue)
    if p_value >= alpha:
        return None
    message = (
        f"{what}: {rate:.0%} in {window.week} ({count} of {total}) against {base:.0%} over the {window.weeks} weeks "
        f"before ({trailing_count} of {trailing_total}; binomial p = {p_value:.2g})"
        + (f"; {window.policy_change}" if window.policy_change else "")
    )
    return DriftAlert(
        metric=metric,
        kind=kind,
        rule=rule,
        week=window.week,
        count=count,
        total=total,
        rate=rate,
        trailing_count=trailing_count,
        trailing_total=trailing_total,
        trailing_rate=base,
        trailing_weeks=window.weeks,
        p_value=p_value,
        policy_change=window.policy_change,
        message=message,
    )


def drift_alerts(proposals: pd.DataFrame, *, min_count: int = MIN_COUNT, alpha: float = ALPHA) -> list[DriftAlert]:
    """The alerts of the latest ISO week with proposals, against the TRAILING_WEEKS weeks before it.

    `proposals` needs week, week_start, kind, rule, outcome and policy (as `proposal_outcomes` makes them)."""
    window = _window(proposals) if not proposals.empty else None
    if window is None:
        return []
    now, before = window.now, window.before
    found: list[DriftAlert | None] = []
    for kind in [ALL, *sorted(now["kind"].unique())]:
        this, then = (now, before) if kind == ALL else (now[now["kind"] == kind], before[before["kind"] == kind])
        blocked = (int((this["outcome"] == "blocked").sum()), len(this), int((then["outcome"] == "blocked").sum()))
        what = "the block rate doubled" if kind == ALL else f"the block rate of {kind} doubled"
        found.append(
            _alert(window, "block_rate", kind, ALL, what, (*blocked, len(then)), min_count=min_count, alpha=alpha)
        )
    answered = [frame[frame["outcome"].isin(["approved", "rejected", "edited"])] for frame in (now, before)]
    approvals = [(int((frame["outcome"] == "approved").sum()), len(frame)) for frame in answered]
    found.append(
        _alert(
            window,
            "approval_rate",
            ALL,
            ALL,
            "approvals fell",
            (*approvals[0], *approvals[1]),
            min_count=min_count,
            alpha=alpha,
        )
    )
    for (kind, rule), fired in now.groupby(["kind", "rule"]):
        then = before[before["kind"] == kind]
        counts = (len(fired), int((now["kind"] == kind).sum()), int((then["rule"] == rule).sum()), len(then))
        what = f"rule {rule} decides nearly every {kind}"
        found.append(
            _alert(window, "rule_hit_rate", str(kind), str(rule), what, counts, min_count=min_count, alpha=alpha)
        )
    return [alert for alert in found if alert is not None]


def policy_metrics(log: ChangeLog, *, account: str | None = None, since: dt.date | None = None) -> PolicyMetrics:
    """The metrics and drift alerts of `account` (every account when None) from `since` (the run's day) on."""
    decisions = pd.DataFrame(
        [d.model_dump(mode="json") for d in log.decisions(account=account, since=since)],
        columns=["change_hash", "kind", "outcome", "rule", "policy", "decided_at", "decided_on"],
    )
    if decisions.empty:
        return PolicyMetrics(account=account, since=since, policies=[], rows=[], weekly=[], alerts=[])
    entries = pd.DataFrame(
        [
            {k: getattr(e, k) for k in ("change_hash", "status", "decided_by")} | {"recorded_at": e.recorded_at}
            for e in log.entries(account=account)
        ],
        columns=["change_hash", "status", "decided_by", "recorded_at"],
    ).astype({"recorded_at": "object"})
    proposals = proposal_outcomes(decisions, entries)
    return PolicyMetrics(
        account=account,
        since=since,
        policies=list(dict.fromkeys(proposals["policy"])),
        rows=_rows(rate_table(proposals)),
        weekly=_rows(rate_table(proposals, by=("week",))),
        alerts=drift_alerts(proposals),
    )


def parse_since(text: str | None, today: dt.date) -> dt.date | None:
    """The day `--since` (or the page's `since`) names; AdpilotError in one line when it is not a date up to today."""
    if not text:
        return None
    try:
        since = dt.date.fromisoformat(text)
    except ValueError:
        raise AdpilotError(f"since: expected a date as YYYY-MM-DD, got {text!r}") from None
    if since > today:
        raise AdpilotError(f"since {since} is after today ({today})")
    return since


def known_account(log: ChangeLog, account: str) -> str:
    """`account` if the gate ever decided something for it; else UnknownAccountError naming those it did."""
    known = sorted({d.account for d in log.decisions()})
    if account not in known:
        listed = ", ".join(known[:10]) + (" …" if len(known) > 10 else "") if known else "none yet"
        raise UnknownAccountError(f"account {account!r}: the gate has decided nothing for it (accounts: {listed})")
    return account


def send_scores(client: Any, metrics: PolicyMetrics) -> int:
    """The rates as Langfuse scores (SDK `create_score`) on one `policy_metrics` trace; returns how many."""
    scores = metrics.scores()
    with client.start_as_current_observation(
        name="policy_metrics", as_type="span", input={"account": metrics.account, "since": metrics.since}
    ) as span:
        for name, value in scores.items():
            client.create_score(
                name=name,
                value=value,
                trace_id=span.trace_id,
                data_type="NUMERIC",
                metadata={"account": metrics.account or ALL, "policies": metrics.policies},
            )
        span.update(output={"alerts": [a.message for a in metrics.alerts]})
    return len(scores)
