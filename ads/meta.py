"""Meta Marketing API connector: `MetaAccount` implements `ads.account.AdAccount` with facebook-business.

- Budgets: Meta has no budget objects, so a `Budget`'s id is the id of the object that holds the
  `daily_budget`: the ad set (level 'ad_set') or the campaign (level 'campaign', campaign budget
  optimisation, "CBO"). Amounts are minor units (cents), as Meta holds them; insights report spend as a
  decimal string in currency, converted here to minor units.
- Writes: ad set / campaign `daily_budget` (SetBudget), new PAUSED ads with a link-ad creative
  (AddCreativeVariants with MetaAdCopy), and status PAUSED on an ad or an ad set (PauseEntity, what a rollback
  proposes). Every write is confirmed by a read-back before it is 'applied'. Meta has no keywords, so the
  keyword changes (negatives, their removal, ad groups with keywords) fail with a clear message.
- Meta allows about 4 budget changes per ad set per hour; further changes are queued in a small SQLite
  ledger (`MetaSettings.state_path`) and run by `run_queued(now)`, never dropped.
- A local Graph server (sandbox/meta_emulator.py) is reached by setting META_GRAPH_URL: it replaces
  https://graph.facebook.com on this client's own session only (no global SDK state is changed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import pandas as pd
import requests
from facebook_business.adobjects.ad import Ad as MetaAd
from facebook_business.adobjects.adaccount import AdAccount as MetaAdAccount
from facebook_business.adobjects.adcreative import AdCreative
from facebook_business.adobjects.adset import AdSet
from facebook_business.adobjects.campaign import Campaign as MetaCampaign
from facebook_business.api import FacebookAdsApi
from facebook_business.exceptions import FacebookRequestError
from facebook_business.session import FacebookSession
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from ads.account import ApplyResult, ReadBack
from ads.changes import AddCreativeVariants, Change, PauseEntity, ReallocateBudget, SetBudget, parse_change
from ads.entities import (
    AD_METRIC_COLUMNS,
    ASSET_LABEL_COLUMNS,
    DAILY_METRIC_COLUMNS,
    SEARCH_TERM_COLUMNS,
    Account,
    AccountStructure,
    Ad,
    AdGroup,
    Budget,
    Campaign,
    MetaAdCopy,
    MoneyUnit,
    Platform,
    Status,
    from_currency,
)
from ads.errors import ConfigurationError, PlatformError
from ads.limits import limit

DEFAULT_API_VERSION: str = FacebookAdsApi.API_VERSION  # the Graph version the installed SDK targets
BUDGET_CHANGES_PER_HOUR = limit("meta_budget_changes_per_ad_set_per_hour")
BUDGET_WINDOW = dt.timedelta(hours=1)
# Throttling codes: 4 app, 17 user, 32 page, 613 custom, 80000-80014 business-use-case limits.
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
META_STATUS = {Status.ENABLED: "ACTIVE", Status.PAUSED: "PAUSED", Status.REMOVED: "DELETED"}
STATUS_FROM_META = {
    "ACTIVE": Status.ENABLED,
    "PAUSED": Status.PAUSED,
    "DELETED": Status.REMOVED,
    "ARCHIVED": Status.REMOVED,
}
PAGE_SIZE = 500
CAMPAIGN_FIELDS = ["id", "name", "status", "daily_budget"]
AD_SET_FIELDS = ["id", "name", "campaign_id", "status", "daily_budget"]
CREATIVE_FIELDS = ["id", "name", "body", "title", "object_story_spec"]
AD_FIELDS = ["id", "name", "adset_id", "campaign_id", "status", "creative{" + ",".join(CREATIVE_FIELDS) + "}"]
# What PauseEntity reads. Graph refuses a field the node does not have, so reading these also proves that an id
# given as an ad is an ad (adset_id) and one given as an ad set is an ad set (campaign_id and daily_budget).
PAUSABLE_FIELDS = {"ad": ["id", "name", "adset_id", "status"], "ad_group": AD_SET_FIELDS}
# Field expansion (`creative{…}`) goes in params: the SDK's static field check warns about it otherwise.
AD_PARAMS = {"fields": ",".join(AD_FIELDS), "limit": PAGE_SIZE}
INSIGHT_FIELDS = ["date_start", "campaign_id", "adset_id", "impressions", "clicks", "spend", "actions", "action_values"]
AD_INSIGHT_FIELDS = [*INSIGHT_FIELDS[:3], "ad_id", *INSIGHT_FIELDS[3:]]
ENV_NAMES = {
    "app_id": "META_APP_ID",
    "app_secret": "META_APP_SECRET",
    "access_token": "META_ACCESS_TOKEN",
    "graph_url": "META_GRAPH_URL",
    "api_version": "META_API_VERSION",
    "ad_account_id": "META_AD_ACCOUNT_ID",
    "page_id": "META_PAGE_ID",
    "state_path": "META_STATE_PATH",
}
T = TypeVar("T")


class MetaSettings(BaseModel):
    """What the connector needs; `from_env` reads the META_* variables in ENV_NAMES that app.settings passes in."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    app_id: str = Field(min_length=1)
    app_secret: SecretStr
    access_token: SecretStr
    graph_url: str | None = Field(default=None, description="Replaces https://graph.facebook.com, e.g. an emulator.")
    api_version: str = Field(default=DEFAULT_API_VERSION, pattern=r"^v\d+\.\d+$")
    ad_account_id: str | None = Field(default=None, pattern=r"^(act_)?\d+$")
    page_id: str | None = Field(default=None, description="The Facebook Page new ads speak for.")
    state_path: Path = Field(description="SQLite ledger of budget changes (app.settings: under ADPILOT_HOME).")
    conversion_action_type: str = "offsite_conversion.fb_pixel_purchase"
    timeout_seconds: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> MetaSettings:
        """Settings from META_* variables (never the process's own: app.settings passes them in);
        ConfigurationError names every missing or invalid one."""
        values = {field: environ[name] for field, name in ENV_NAMES.items() if environ.get(name)}
        values.update(overrides)
        missing = [ENV_NAMES[f] for f in ("app_id", "app_secret", "access_token") if not values.get(f)]
        if missing:
            raise ConfigurationError(f"Meta settings missing: {', '.join(missing)}")
        try:
            return cls(**values)
        except ValidationError as exc:
            names = ", ".join(ENV_NAMES.get(str(e["loc"][0]), str(e["loc"][0])) for e in exc.errors())
            raise ConfigurationError(f"Meta settings invalid: {names} ({exc.errors()[0]['msg']})") from None


class QueuedBudgetChange(BaseModel):
    """A budget change held back by Meta's per-ad-set hourly limit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    change: SetBudget
    object_id: str
    queued_at: dt.datetime
    not_before: dt.datetime
    reason: str


# --- creative copy <-> Graph creative JSON (shared with sandbox/meta_emulator.py) -----------------------------


def meta_creative_spec(copy: MetaAdCopy, page_id: str) -> dict[str, Any]:
    """The `object_story_spec` of a link ad carrying this copy."""
    link_data: dict[str, Any] = {
        "message": copy.primary_text,
        "name": copy.headline,
        "link": copy.link_url,
        "call_to_action": {"type": copy.call_to_action, "value": {"link": copy.link_url}},
    }
    if copy.description:
        link_data["description"] = copy.description
    return {"page_id": page_id, "link_data": link_data}


def meta_ad_copy(creative: Mapping[str, Any]) -> MetaAdCopy | None:
    """The copy of a link-ad creative; None for creatives that are not link ads (video, dynamic, ...)."""
    link_data = (creative.get("object_story_spec") or {}).get("link_data") or {}
    primary_text = link_data.get("message") or creative.get("body")
    headline = link_data.get("name") or creative.get("title")
    link = link_data.get("link")
    if not (primary_text and headline and link):
        return None
    return MetaAdCopy(
        primary_text=primary_text,
        headline=headline,
        description=link_data.get("description", ""),
        link_url=link,
        call_to_action=(link_data.get("call_to_action") or {}).get("type", "LEARN_MORE"),
    )


# --- errors ----------------------------------------------------------------------------------------------------


def describe_meta_error(error: FacebookRequestError) -> str:
    """One line that says what Meta refused and what to do about it."""
    code = error.api_error_code()
    text = " ".join(str(error.api_error_message() or "no message").split())[:300]
    if code == 190:
        return f"Meta rejected the access token (code 190): it is invalid or expired; set META_ACCESS_TOKEN ({text})"
    if code == 10 or (code is not None and 200 <= code <= 299):
        return f"Meta denied permission (code {code}): the token lacks ads_management/ads_read on this object ({text})"
    if code in RATE_LIMIT_CODES:
        return f"Meta rate limit reached (code {code}): wait and retry later ({text})"
    if code == 100:
        return f"Meta rejected invalid parameter '{_blamed_field(error, text)}' (code 100): {text}"
    return f"Meta refused the request (code {code}, HTTP {error.http_status()}): {text}"


def _blamed_field(error: FacebookRequestError, text: str) -> str:
    specs = error.api_blame_field_specs() or []
    if specs and specs[0]:
        return ".".join(str(part) for part in specs[0])
    match = re.search(r"[Pp]aram(?:eter)? \(?(\w+)\)?|field \((\w+)\)", text)
    return next((g for g in match.groups() if g), "unknown") if match else "unknown"


def _is_rate_limit(error: FacebookRequestError) -> bool:
    return error.api_error_code() in RATE_LIMIT_CODES


# --- the ledger of budget changes -------------------------------------------------------------------------------


class BudgetChangeLedger:
    """Budget changes applied per object (for the hourly limit) and the queue of held-back ones, in SQLite."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._transaction() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS budget_changes ("
                "object_id TEXT NOT NULL, change_hash TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            conn.execute(
                "CREATE TABLE IF NOT EXISTS queued_budget_changes ("
                "seq INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, change_hash TEXT UNIQUE, "
                "object_id TEXT NOT NULL, change_json TEXT NOT NULL, queued_at TEXT NOT NULL, "
                "not_before TEXT NOT NULL, reason TEXT NOT NULL)"
            )

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with contextlib.closing(sqlite3.connect(self.path, timeout=10)) as conn, conn:
            yield conn

    def changes_since(self, object_id: str, since: dt.datetime) -> list[dt.datetime]:
        with self._transaction() as conn:
            rows = conn.execute(
                "SELECT applied_at FROM budget_changes WHERE object_id = ? AND applied_at > ? ORDER BY applied_at",
                (object_id, _iso(since)),
            ).fetchall()
        return [dt.datetime.fromisoformat(r[0]) for r in rows]

    def record(self, object_id: str, change_hash: str, at: dt.datetime) -> None:
        """An applied change counts against the hourly limit and leaves the queue, in one transaction."""
        with self._transaction() as conn:
            conn.execute("INSERT INTO budget_changes VALUES (?, ?, ?)", (object_id, change_hash, _iso(at)))
            conn.execute("DELETE FROM queued_budget_changes WHERE change_hash = ?", (change_hash,))

    def enqueue(self, account: str, item: QueuedBudgetChange) -> QueuedBudgetChange:
        """Queue it, or move its time if it is queued already; returns the queued entry."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO queued_budget_changes (account, change_hash, object_id, change_json, queued_at, "
                "not_before, reason) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(change_hash) DO UPDATE SET "
                "not_before = MAX(not_before, excluded.not_before), reason = excluded.reason",
                (
                    account,
                    item.change.hash,
                    item.object_id,
                    item.change.model_dump_json(),
                    _iso(item.queued_at),
                    _iso(item.not_before),
                    item.reason,
                ),
            )
        return next(q for q in self.queued(account) if q.change.hash == item.change.hash)

    def dequeue(self, change_hash: str) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM queued_budget_changes WHERE change_hash = ?", (change_hash,))

    def queued(self, account: str) -> list[QueuedBudgetChange]:
        with self._transaction() as conn:
            rows = conn.execute(
                "SELECT change_json, object_id, queued_at, not_before, reason FROM "
                "queued_budget_changes WHERE account = ? ORDER BY seq",
                (account,),
            ).fetchall()
        return [
            QueuedBudgetChange(
                change=parse_change(r[0]),
                object_id=r[1],
                queued_at=dt.datetime.fromisoformat(r[2]),
                not_before=dt.datetime.fromisoformat(r[3]),
                reason=r[4],
            )
            for r in rows
        ]


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("budget ledger times must be timezone-aware")
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- the account -------------------------------------------------------------------------------------------------


class MetaAccount:
    """A Meta ad account read and changed through the Marketing API. Named `meta:act_<id>`."""

    def __init__(
        self, settings: MetaSettings, ad_account_id: str | None = None, *, clock: Callable[[], dt.datetime] = _utc_now
    ) -> None:
        account_id = ad_account_id or settings.ad_account_id
        if not account_id:
            raise ConfigurationError("Meta settings missing: META_AD_ACCOUNT_ID (or pass the ad account id)")
        self.settings = settings
        self.ad_account_id = account_id if account_id.startswith("act_") else f"act_{account_id}"
        self._clock = clock
        session = FacebookSession(
            settings.app_id,
            settings.app_secret.get_secret_value(),
            settings.access_token.get_secret_value(),
            timeout=settings.timeout_seconds,
        )
        if settings.graph_url:
            session.GRAPH = settings.graph_url.rstrip("/")  # instance attribute: this client only
        # The constructor, not FacebookAdsApi.init: no process-wide default API, no sys.excepthook crash reporter.
        self._api = FacebookAdsApi(session, settings.api_version)
        self._ledger = BudgetChangeLedger(settings.state_path)
        self._account: Account | None = None

    @classmethod
    def from_name(cls, name: str, settings: MetaSettings, **kwargs: Any) -> MetaAccount:
        """`meta:act_123` → the account act_123."""
        match = re.fullmatch(r"meta:(act_\d+)", name)
        if not match:
            raise ConfigurationError(f"not a Meta account name: '{name}' (expected meta:act_<id>)")
        return cls(settings, match.group(1), **kwargs)

    # -- reads --

    @property
    def account(self) -> Account:
        if self._account is None:
            data = self._call(
                lambda: (
                    self._ad_account()
                    .api_get(fields=["account_id", "name", "currency", "timezone_name"])
                    .export_all_data()
                )
            )
            self._account = Account(
                name=f"meta:{self.ad_account_id}",
                id=self.ad_account_id.removeprefix("act_"),
                display_name=data.get("name") or self.ad_account_id,
                platform=Platform.META,
                currency=data.get("currency", "USD"),
                time_zone=data.get("timezone_name", "UTC"),
            )
        return self._account

    def structure(self) -> AccountStructure:
        act = self._ad_account()
        campaigns = self._call(
            lambda: self._rows(act.get_campaigns(fields=CAMPAIGN_FIELDS, params={"limit": PAGE_SIZE}))
        )
        ad_sets = self._call(lambda: self._rows(act.get_ad_sets(fields=AD_SET_FIELDS, params={"limit": PAGE_SIZE})))
        meta_ads = self._call(lambda: self._rows(act.get_ads(params=AD_PARAMS)))

        cbo = {c["id"]: c for c in campaigns if c.get("daily_budget")}
        budgets = [
            Budget(
                id=c["id"],
                name=c.get("name", c["id"]),
                level="campaign",
                daily_amount=int(c["daily_budget"]),
                campaign_ids=(c["id"],),
                ad_group_ids=tuple(s["id"] for s in ad_sets if s.get("campaign_id") == c["id"]),
            )
            for c in cbo.values()
        ]
        budgets += [
            Budget(
                id=s["id"],
                name=s.get("name", s["id"]),
                level="ad_set",
                daily_amount=int(s["daily_budget"]),
                campaign_ids=(s["campaign_id"],),
                ad_group_ids=(s["id"],),
            )
            for s in ad_sets
            if s.get("daily_budget")
        ]
        ad_groups = [
            AdGroup(
                id=s["id"],
                campaign_id=s["campaign_id"],
                name=s.get("name", s["id"]),
                status=_status(s),
                budget_id=s["id"] if s.get("daily_budget") else (s["campaign_id"] if s["campaign_id"] in cbo else None),
            )
            for s in ad_sets
        ]
        ads = [
            Ad(id=a["id"], ad_group_id=a["adset_id"], status=_status(a), copy_=copy)
            for a in meta_ads
            if (copy := meta_ad_copy(a.get("creative") or {})) is not None
        ]
        return AccountStructure(
            account=self.account,
            campaigns=tuple(
                Campaign(
                    id=c["id"],
                    name=c.get("name", c["id"]),
                    channel="meta",
                    status=_status(c),
                    budget_id=c["id"] if c["id"] in cbo else None,
                )
                for c in campaigns
            ),
            budgets=tuple(budgets),
            ad_groups=tuple(ad_groups),
            ads=tuple(ads),
        )

    def daily_metrics(self, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Daily ad-set insights; cost in minor units, conversions from `settings.conversion_action_type`."""
        return self._insights("adset", start, end).loc[:, list(DAILY_METRIC_COLUMNS)]

    def ad_metrics(self, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Daily ad insights (level=ad), columns AD_METRIC_COLUMNS."""
        return self._insights("ad", start, end)

    def asset_labels(self) -> pd.DataFrame:
        """Meta labels no assets: always empty, with the contract's columns."""
        return pd.DataFrame(columns=list(ASSET_LABEL_COLUMNS), dtype=str)

    def _insights(self, level: Literal["ad", "adset"], start: dt.date, end: dt.date) -> pd.DataFrame:
        params = {
            "level": level,
            "time_increment": 1,
            "limit": PAGE_SIZE,
            "time_range": {"since": start.isoformat(), "until": end.isoformat()},
        }
        fields = AD_INSIGHT_FIELDS if level == "ad" else INSIGHT_FIELDS
        rows = self._call(lambda: self._rows(self._ad_account().get_insights(fields=fields, params=params)))
        action = self.settings.conversion_action_type
        frame = pd.DataFrame(
            {
                "date": pd.to_datetime([r["date_start"] for r in rows]),
                "campaign_id": [str(r["campaign_id"]) for r in rows],
                "ad_group_id": [str(r["adset_id"]) for r in rows],
                "ad_id": [str(r.get("ad_id", "")) for r in rows],
                "impressions": [int(r.get("impressions", 0)) for r in rows],
                "clicks": [int(r.get("clicks", 0)) for r in rows],
                "cost": [from_currency(float(r.get("spend", 0)), MoneyUnit.MINOR) for r in rows],
                "conversions": [_action_total(r.get("actions"), action) for r in rows],
                "conversion_value": [_action_total(r.get("action_values"), action) for r in rows],
            },
            columns=list(AD_METRIC_COLUMNS),
        )
        return frame.astype(
            {
                "impressions": "int64",
                "clicks": "int64",
                "cost": "int64",
                "conversions": "float64",
                "conversion_value": "float64",
            }
        )

    def search_terms(self, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Meta has no search terms: always an empty frame with the contract's columns."""
        return pd.DataFrame(columns=list(SEARCH_TERM_COLUMNS))

    # -- writes --

    def apply(self, changes: Sequence[Change], *, validate_only: bool) -> list[ApplyResult]:
        return [self._apply_one(change, validate_only=validate_only, now=self._clock()) for change in changes]

    def pending_budget_changes(self) -> list[QueuedBudgetChange]:
        return self._ledger.queued(self.account.name)

    def run_queued(self, now: dt.datetime | None = None) -> list[ApplyResult]:
        """Run the queued budget changes that are due, in the order they were queued (per ad set)."""
        now = now or self._clock()
        results: list[ApplyResult] = []
        waiting: set[str] = set()
        for item in self.pending_budget_changes():
            if item.object_id in waiting or item.not_before > now:
                waiting.add(item.object_id)
                continue
            result = self._apply_one(item.change, validate_only=False, now=now, from_queue=True)
            if result.status == "queued":
                waiting.add(item.object_id)
            elif result.status != "applied":  # applied ones leave the queue with their ledger entry
                self._ledger.dequeue(item.change.hash)
            results.append(result)
        return results

    def read_back(self, change: Change) -> ReadBack:
        if isinstance(change, ReallocateBudget):
            amounts = {
                leg.budget_id: self._budget_holder(leg_change).get("daily_budget") for leg, leg_change in _legs(change)
            }
            return ReadBack(
                change_hash=change.hash,
                present=all(amounts[leg.budget_id] == leg.to_amount for leg in change.legs),
                state={"daily_amounts": amounts},
                resource_names=tuple(amounts),
            )
        if isinstance(change, SetBudget):
            holder = self._budget_holder(change)
            return ReadBack(
                change_hash=change.hash,
                present=holder.get("daily_budget") == change.to_amount,
                state=holder,
                resource_names=(change.budget_id,),
            )
        if isinstance(change, AddCreativeVariants) and isinstance(change.ad, MetaAdCopy):
            ads = self._call(lambda: self._rows(AdSet(change.ad_group_id, api=self._api).get_ads(params=AD_PARAMS)))
            matching = [a for a in ads if meta_ad_copy(a.get("creative") or {}) == change.ad]
            return ReadBack(
                change_hash=change.hash,
                present=bool(matching),
                state={
                    "ads": [{"id": a["id"], "status": a.get("status")} for a in matching],
                    "ad_id": matching[0]["id"] if matching else None,
                },
                resource_names=tuple(a["id"] for a in matching),
            )
        if isinstance(change, PauseEntity):
            node = self._pausable(change)
            data = self._call(lambda: node.api_get(fields=PAUSABLE_FIELDS[change.level]).export_all_data())
            return ReadBack(
                change_hash=change.hash,
                present=_status(data) is Status.PAUSED,
                state={"status": str(_status(data))},
                resource_names=(change.entity_id,),
            )
        return ReadBack(change_hash=change.hash, present=False, state={"unsupported": _unsupported(change)})

    # -- internals --

    def _apply_one(
        self, change: Change, *, validate_only: bool, now: dt.datetime, from_queue: bool = False
    ) -> ApplyResult:
        if change.account != self.account.name:
            return _failed(change, f"change is for account '{change.account}', not '{self.account.name}'")
        try:
            if isinstance(change, ReallocateBudget):
                return self._reallocate(change, validate_only=validate_only, now=now)
            if isinstance(change, SetBudget):
                return self._set_budget(change, validate_only=validate_only, now=now, from_queue=from_queue)
            if isinstance(change, AddCreativeVariants) and isinstance(change.ad, MetaAdCopy):
                return self._add_ad(change, validate_only=validate_only)
            if isinstance(change, PauseEntity):
                return self._pause(change, validate_only=validate_only)
            return _failed(change, _unsupported(change))
        except PlatformError as exc:
            return _failed(change, str(exc))

    def _set_budget(self, change: SetBudget, *, validate_only: bool, now: dt.datetime, from_queue: bool) -> ApplyResult:
        holder = self._budget_holder(change)
        if change.level == "ad_set" and holder["campaign_daily_budget"] is not None:
            return _failed(
                change,
                f"ad set {change.budget_id} is in campaign {holder['campaign_id']}, which uses "
                "campaign budget optimisation; change the campaign budget instead",
            )
        if holder["daily_budget"] is None:
            where = "its ad sets hold the budget" if change.level == "campaign" else "it has no daily budget"
            return _failed(
                change, f"{change.level.replace('_', ' ')} {change.budget_id} has no daily budget to change: {where}"
            )
        before = {"daily_budget": holder["daily_budget"]}
        if holder["daily_budget"] == change.to_amount:
            return ApplyResult(
                change_hash=change.hash,
                status="already_applied",
                before=before,
                after=before,
                resource_names=(change.budget_id,),
            )
        if holder["daily_budget"] != change.from_amount:
            return _failed(
                change,
                f"budget {change.budget_id} is now {holder['daily_budget']}, the change expected {change.from_amount}",
            )
        target = _budget_node(change, self._api)
        if validate_only:
            self._call(
                lambda: target.api_update(
                    params={"daily_budget": change.to_amount, "execution_options": ["validate_only"]}
                )
            )
            return ApplyResult(
                change_hash=change.hash, status="validated", before=before, resource_names=(change.budget_id,)
            )
        recent = self._ledger.changes_since(change.budget_id, now - BUDGET_WINDOW)
        behind_queue = not from_queue and any(q.object_id == change.budget_id for q in self.pending_budget_changes())
        if behind_queue or len(recent) >= BUDGET_CHANGES_PER_HOUR:
            free_at = (
                recent[len(recent) - BUDGET_CHANGES_PER_HOUR] + BUDGET_WINDOW
                if len(recent) >= BUDGET_CHANGES_PER_HOUR
                else now
            )
            reason = (
                f"{len(recent)} budget changes to {change.budget_id} in the last hour "
                f"(Meta allows {BUDGET_CHANGES_PER_HOUR})"
                if not behind_queue
                else f"earlier changes to {change.budget_id} are queued"
            )
            return self._queue(change, now, free_at, reason)
        try:
            self._call(lambda: target.api_update(params={"daily_budget": change.to_amount}))
        except PlatformError as exc:
            if isinstance(exc.__cause__, FacebookRequestError) and _is_rate_limit(exc.__cause__):
                return self._queue(change, now, now + BUDGET_WINDOW, str(exc))
            raise
        after = self._budget_holder(change)
        if after["daily_budget"] != change.to_amount:
            return _failed(
                change,
                f"Meta accepted the update but {change.budget_id} reads back "
                f"{after['daily_budget']}, not {change.to_amount}",
            )
        self._ledger.record(change.budget_id, change.hash, now)
        return ApplyResult(
            change_hash=change.hash,
            status="applied",
            before=before,
            after={"daily_budget": after["daily_budget"]},
            resource_names=(change.budget_id,),
        )

    def _reallocate(self, change: ReallocateBudget, *, validate_only: bool, now: dt.datetime) -> ApplyResult:
        """Meta has no transaction over several objects: the legs are validated, then set in order, and when one
        fails (or would have to wait for the hourly limit) the legs already set are restored, newest first."""
        legs = _legs(change)
        before = {"daily_amounts": {leg.budget_id: leg.from_amount for leg in change.legs}}
        for _, leg_change in legs:
            checked = self._set_budget(leg_change, validate_only=True, now=now, from_queue=False)
            if checked.status != "validated":
                return _failed(change, f"leg {leg_change.budget_id}: {checked.message or checked.status}")
        if validate_only:
            return ApplyResult(change_hash=change.hash, status="validated", before=before)
        done: list[SetBudget] = []
        for _, leg_change in legs:
            try:
                result = self._set_budget(leg_change, validate_only=False, now=now, from_queue=False)
            except PlatformError as exc:
                result = _failed(leg_change, str(exc))
            if result.status == "applied":
                done.append(leg_change)
                continue
            if result.status == "queued":
                self._ledger.dequeue(leg_change.hash)  # a leg must not run on its own later
            restored = [self._restore(leg) for leg in reversed(done)]
            note = "; restored " + ", ".join(restored) if restored else ""
            return _failed(
                change, f"leg {leg_change.budget_id} not set ({result.message or result.status}){note}; nothing moved"
            )
        after = self.read_back(change)
        return ApplyResult(
            change_hash=change.hash,
            status="applied" if after.present else "failed",
            before=before,
            after=after.state,
            resource_names=after.resource_names,
            message="" if after.present else f"legs set, but the read-back shows {after.state}",
        )

    def _restore(self, leg: SetBudget) -> str:
        """Put a leg that was set back to its earlier amount; what happened, for the result's message."""
        undo = leg.model_copy(update={"from_amount": leg.to_amount, "to_amount": leg.from_amount})
        try:
            self._call(lambda: _budget_node(undo, self._api).api_update(params={"daily_budget": undo.to_amount}))
        except PlatformError as exc:
            return f"{leg.budget_id} FAILED ({exc}): it is still {leg.to_amount}"
        return f"{leg.budget_id} to {leg.from_amount}"

    def _queue(self, change: SetBudget, now: dt.datetime, not_before: dt.datetime, reason: str) -> ApplyResult:
        item = self._ledger.enqueue(
            self.account.name,
            QueuedBudgetChange(
                change=change, object_id=change.budget_id, queued_at=now, not_before=not_before, reason=reason
            ),
        )
        return ApplyResult(
            change_hash=change.hash,
            status="queued",
            resource_names=(change.budget_id,),
            message=f"queued: {reason}; may run at or after "
            f"{item.not_before.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC (run_queued)",
        )

    def _budget_holder(self, change: SetBudget) -> dict[str, Any]:
        """The current daily budget of the ad set or campaign a SetBudget targets, and its campaign's."""
        if change.level == "campaign":
            campaign = self._call(
                lambda: MetaCampaign(change.budget_id, api=self._api).api_get(fields=CAMPAIGN_FIELDS).export_all_data()
            )
            return {
                "daily_budget": _int_or_none(campaign.get("daily_budget")),
                "campaign_id": change.budget_id,
                "campaign_daily_budget": _int_or_none(campaign.get("daily_budget")),
            }
        ad_set = self._call(
            lambda: AdSet(change.budget_id, api=self._api).api_get(fields=AD_SET_FIELDS).export_all_data()
        )
        campaign = self._call(
            lambda: MetaCampaign(ad_set["campaign_id"], api=self._api).api_get(fields=CAMPAIGN_FIELDS).export_all_data()
        )
        return {
            "daily_budget": _int_or_none(ad_set.get("daily_budget")),
            "campaign_id": ad_set["campaign_id"],
            "campaign_daily_budget": _int_or_none(campaign.get("daily_budget")),
        }

    def _add_ad(self, change: AddCreativeVariants, *, validate_only: bool) -> ApplyResult:
        assert isinstance(change.ad, MetaAdCopy)
        if not self.settings.page_id:
            return _failed(change, "META_PAGE_ID is not set: a Meta ad needs the Facebook Page it speaks for")
        existing = self.read_back(change)
        if existing.present:
            return ApplyResult(
                change_hash=change.hash,
                status="already_applied",
                after=existing.state,
                resource_names=existing.resource_names,
            )
        act = self._ad_account()
        creative = {
            "name": f"adpilot {change.id}",
            "object_story_spec": meta_creative_spec(change.ad, self.settings.page_id),
        }
        status = MetaAd.Status.paused if change.paused else MetaAd.Status.active
        ad_params = {"name": f"adpilot {change.id}", "adset_id": change.ad_group_id, "status": status}
        if validate_only:
            only = {"execution_options": ["validate_only"]}
            self._call(lambda: act.create_ad_creative(params={**creative, **only}))
            self._call(lambda: act.create_ad(params={**ad_params, "creative": creative, **only}))
            return ApplyResult(change_hash=change.hash, status="validated", resource_names=(change.ad_group_id,))
        created = self._call(lambda: act.create_ad_creative(params=creative))
        try:
            ad = self._call(lambda: act.create_ad(params={**ad_params, "creative": {"creative_id": created["id"]}}))
        except PlatformError:
            # An unused creative is harmless but clutters the library: remove it so nothing is half-written.
            with contextlib.suppress(PlatformError):
                self._call(lambda: AdCreative(created["id"], api=self._api).api_delete())
            raise
        confirmed = self.read_back(change)
        if ad["id"] not in confirmed.resource_names:
            return _failed(change, f"Meta created ad {ad['id']} but it does not read back with the proposed copy")
        return ApplyResult(
            change_hash=change.hash,
            status="applied",
            after={"ad_id": ad["id"], "status": status},
            resource_names=(ad["id"], created["id"]),
        )

    def _pausable(self, change: PauseEntity) -> MetaAd | AdSet:
        return (
            MetaAd(change.entity_id, api=self._api) if change.level == "ad" else AdSet(change.entity_id, api=self._api)
        )

    def _pause(self, change: PauseEntity, *, validate_only: bool) -> ApplyResult:
        before = self.read_back(change)
        what = f"{'ad' if change.level == 'ad' else 'ad set'} {change.entity_id}"
        if before.present:
            return ApplyResult(
                change_hash=change.hash,
                status="already_applied",
                before=before.state,
                after=before.state,
                resource_names=before.resource_names,
            )
        if before.state["status"] == Status.REMOVED:
            return _failed(change, f"{what} is deleted or archived; there is nothing to pause")
        node = self._pausable(change)
        if validate_only:
            self._call(lambda: node.api_update(params={"status": "PAUSED", "execution_options": ["validate_only"]}))
            return ApplyResult(
                change_hash=change.hash, status="validated", before=before.state, resource_names=before.resource_names
            )
        self._call(lambda: node.api_update(params={"status": "PAUSED"}))
        after = self.read_back(change)
        if not after.present:
            return _failed(
                change, f"Meta accepted the update but {what} reads back {after.state['status']}, not paused"
            )
        return ApplyResult(
            change_hash=change.hash,
            status="applied",
            before=before.state,
            after=after.state,
            resource_names=after.resource_names,
        )

    def _ad_account(self) -> MetaAdAccount:
        return MetaAdAccount(self.ad_account_id, api=self._api)

    @staticmethod
    def _rows(cursor: Any) -> list[dict[str, Any]]:
        return [obj.export_all_data() for obj in cursor]

    def _call(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except FacebookRequestError as exc:
            raise PlatformError(describe_meta_error(exc)) from exc
        except requests.RequestException as exc:
            graph = self.settings.graph_url or FacebookSession.GRAPH
            raise PlatformError(f"could not reach the Meta Graph API at {graph}: {type(exc).__name__}") from exc


def _status(obj: Mapping[str, Any]) -> Status:
    return STATUS_FROM_META.get(str(obj.get("status", "ACTIVE")), Status.ENABLED)


def _int_or_none(value: Any) -> int | None:
    return int(value) if value not in (None, "", "0", 0) else None


def _action_total(actions: Any, action_type: str) -> float:
    return sum(float(a.get("value", 0)) for a in actions or () if a.get("action_type") == action_type)


def _unsupported(change: Change) -> str:
    what = "a responsive search ad" if isinstance(change, AddCreativeVariants) else change.kind.replace("_", " ")
    return f"{what} is not supported on Meta (Meta has no keywords or search ads)"


def _failed(change: Change, message: str) -> ApplyResult:
    return ApplyResult(change_hash=change.hash, status="failed", message=message)


__all__ = [
    "BudgetChangeLedger",
    "DEFAULT_API_VERSION",
    "MetaAccount",
    "MetaSettings",
    "QueuedBudgetChange",
    "describe_meta_error",
    "meta_ad_copy",
    "meta_creative_spec",
]


def _budget_node(change: SetBudget, api: Any) -> Any:
    """The ad set or campaign whose daily_budget a SetBudget sets."""
    return AdSet(change.budget_id, api=api) if change.level == "ad_set" else MetaCampaign(change.budget_id, api=api)


def _legs(change: ReallocateBudget) -> list[tuple[Any, SetBudget]]:
    """Each leg of a reallocation with the SetBudget that moves it alone (the apply path never sees those)."""
    return [
        (
            leg,
            SetBudget(
                account=change.account,
                rationale=change.rationale,
                budget_id=leg.budget_id,
                budget_name=leg.budget_name,
                level=leg.level,
                currency=change.currency,
                unit=change.unit,
                from_amount=leg.from_amount,
                to_amount=leg.to_amount,
            ),
        )
        for leg in change.legs
    ]
