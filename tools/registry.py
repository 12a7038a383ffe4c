"""The whitelist: every tool an agent or an audit may call is defined here, and only here.

A tool reads an account and analyses it; none writes. Tools that propose changes return them
as data (`ToolResult.proposals`); only the gate and the apply path in graphs/ act on them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.resources
import json
import pickle
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

import pandas as pd
from langchain_core.tools import StructuredTool
from pydantic import BaseModel, ConfigDict, Field

from ads.account import AdAccount, AdReports, ImportedSearchTerms
from ads.account_plan import AccountPlan, AdvertiserProfile
from ads.ad_copy import CopyTextRules
from ads.changes import AddCreativeVariants, Change, ReallocateBudget, SetBudget
from ads.entities import (
    AD_METRIC_COLUMNS,
    ASSET_LABEL_COLUMNS,
    AccountStructure,
    Platform,
    ReportPeriod,
    ResponsiveSearchAdCopy,
)
from tools import account_reports
from tools.account_reports import Window
from tools.ad_groups import propose_ad_groups
from tools.brand_kit import BrandKit, BrandKitHolder, load_brand_kit, parse_brand_kit
from tools.copy_grounding import KitIndex, build_index
from tools.creative_tests import CreativeTestReport, evaluate_creative_tests, propose_pauses
from tools.creatives import CopyGrounds, CopyWriter, propose_creative_variants
from tools.negative_routing import route_negatives
from tools.negatives import NO_CONVERSIONS_NOTICE, mine_negatives
from tools.pacing import (
    NO_REVERSAL_DAYS,
    PACING_HISTORY_DAYS,
    PacingReport,
    guard_warnings,
    pace_budgets,
    peak_calendar,
    plan_budgets,
)
from tools.query_clusters import ClusteringResult, cluster_queries
from tools.query_intent import IntentClassification, classify_intents, summarise_intents

# A configured model's second opinion on the queries the offline classifier is unsure of (agents.intent_judge),
# and its names for query themes (agents.cluster_namer). Offline, neither is set.
IntentJudge = Callable[[IntentClassification, pd.DataFrame, AdvertiserProfile | None], IntentClassification]
ClusterNamer = Callable[[ClusteringResult], ClusteringResult]

# What a model sees of one tool result; longer results keep their most important rows (the rest stay in the artifact).
MAX_CONTENT_CHARS = 12_000
T = TypeVar("T")


@runtime_checkable
class KitIndexCache(Protocol):
    """Where a brand kit's search index is kept between processes, by the kit's digest (the sandbox store)."""

    def kit_index(self, digest: str) -> bytes | None: ...

    def save_kit_index(self, digest: str, data: bytes) -> None: ...


class DerivedCache(Protocol):
    """Where results derived from an account's search terms outlive the process (`sandbox.derived.DerivedStore`)."""

    def get_or_compute(
        self, kind: str, parameters: tuple[Any, ...], compute: Callable[[], T], *, code: Callable[..., Any]
    ) -> T: ...


class BudgetHistory(Protocol):
    """The applied budget changes a run may read (`ops.change_log.ChangeLog`): tools read it, never write."""

    def budget_directions_since(self, account: str, since: dt.date) -> dict[str, int]: ...


@dataclass
class ToolContext:
    """What tools may read: one account, and what 'today' is. Reports are read once per context."""

    account: AdAccount
    today: dt.date
    copy_writer: CopyWriter | None = None
    plan: AccountPlan | None = None  # brand terms and monthly targets the platform does not store
    intent_judge: IntentJudge | None = None
    cluster_namer: ClusterNamer | None = None
    derived: DerivedCache | None = None  # search terms, clusters and intents kept across processes
    copy_rules: CopyTextRules = field(default_factory=CopyTextRules)  # the policy's, handed in by the graph
    # BM25 alone, or with MiniLM embeddings too (the extra; its import alone takes 6-20 s on 2 cores).
    kit_retrieval: Literal["bm25", "hybrid"] = "bm25"
    budget_history: BudgetHistory | None = None  # the change log; a reallocation does not undo a recent change
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)
    # Analyses run in parallel graph branches; one lock keeps account reads serial and done once.
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def _cached(self, key: Any, load: Callable[[], Any]) -> Any:
        with self._lock:
            if key not in self._cache:
                self._cache[key] = load()
            return self._cache[key]

    def _derived(self, kind: str, parameters: tuple[Any, ...], compute: Callable[[], T], code: Callable[..., Any]) -> T:
        if self.derived is None:
            return compute()
        return self.derived.get_or_compute(kind, parameters, compute, code=code)

    def structure(self) -> AccountStructure:
        def load() -> AccountStructure:
            structure = self.account.structure()
            return self.plan.apply_to(structure) if self.plan else structure

        return self._cached("structure", load)

    def metrics(self, period: ReportPeriod) -> pd.DataFrame:
        return self._cached(("metrics", period), lambda: self.account.daily_metrics(period.start, period.end))

    def ad_metrics(self, period: ReportPeriod) -> pd.DataFrame:
        """Each ad's daily metrics; empty (with the columns) for an account that reports none, like an import."""
        if not isinstance(self.account, AdReports):
            return pd.DataFrame(columns=list(AD_METRIC_COLUMNS))
        read = self.account.ad_metrics
        return self._cached(("ad_metrics", period), lambda: read(period.start, period.end))

    def asset_labels(self) -> pd.DataFrame:
        if not isinstance(self.account, AdReports):
            return pd.DataFrame(columns=list(ASSET_LABEL_COLUMNS))
        return self._cached("asset_labels", self.account.asset_labels)

    def creative_tests(self, period: ReportPeriod) -> CreativeTestReport:
        return self._cached(
            ("creative_tests", period),
            lambda: evaluate_creative_tests(self.structure(), self.ad_metrics(period), self.asset_labels()),
        )

    def search_terms(self, period: ReportPeriod) -> pd.DataFrame:
        def load() -> pd.DataFrame:
            read = self.account.search_terms
            return self._derived("search_terms", (period,), lambda: read(period.start, period.end), read)

        return self._cached(("terms", period), load)

    def clusters(self, period: ReportPeriod, granularity: float, backend: str) -> ClusteringResult:
        def load() -> ClusteringResult:
            result = self._derived(
                "clusters",
                (period, granularity, backend),
                lambda: cluster_queries(self.search_terms(period), backend=backend, granularity=granularity),
                cluster_queries,
            )
            return self.cluster_namer(result) if self.cluster_namer else result

        return self._cached(("clusters", period, granularity, backend), load)

    def profile(self) -> AdvertiserProfile | None:
        return self.plan.profile() if self.plan else None

    def intents(self, period: ReportPeriod) -> IntentClassification:
        def load() -> IntentClassification:
            keywords = [k.text for k in self.structure().keywords]
            profile = self.profile()
            parameters = (period, profile.model_dump_json() if profile else None, sorted(keywords), _lexicons_digest())
            result = self._derived(
                "intents",
                parameters,
                lambda: classify_intents(self.search_terms(period), profile, own_words=keywords),
                classify_intents,
            )
            return self.intent_judge(result, self.search_terms(period), profile) if self.intent_judge else result

        return self._cached(("intents", period), load)

    def search_terms_have_conversions(self) -> bool:
        """False when an imported report had no conversions column (the platforms' APIs always report them)."""
        return not isinstance(self.account, ImportedSearchTerms) or self.account.search_terms_have_conversions()

    def search_term_period(self, window: ReportPeriod) -> ReportPeriod | None:
        """What the search terms really cover within `window`: an imported report's own period, else the window."""
        if not isinstance(self.account, ImportedSearchTerms):
            return window
        covered = self.account.search_term_period()
        if covered is None:
            return window
        start, end = max(covered.start, window.start), min(covered.end, window.end)
        return ReportPeriod(start=start, end=end) if start <= end else None

    def pacing(self) -> PacingReport:
        # Pacing needs the whole month so far, a week of run-rate and the weeks the response curves rest on.
        start = min(self.today.replace(day=1), self.today - dt.timedelta(days=PACING_HISTORY_DAYS))
        period = ReportPeriod(start=start, end=self.today)
        plan = self.plan
        peaks = peak_calendar(plan.peak_days if plan else (), self.today, retail=plan.retail_peaks if plan else True)
        return self._cached(
            "pacing", lambda: pace_budgets(self.structure(), self.metrics(period), self.today, peak_days=peaks)
        )

    def recent_budget_directions(self) -> dict[str, int]:
        """Budget id -> +1 / -1: the direction of its last budget change applied in the last NO_REVERSAL_DAYS."""
        history = self.budget_history
        if history is None:
            return {}
        since = self.today - dt.timedelta(days=NO_REVERSAL_DAYS)
        account = self.structure().account.name
        return self._cached("budget_directions", lambda: history.budget_directions_since(account, since))

    def brand_kit(self) -> BrandKit | None:
        """The accounts file's kit folder for this account, else the kit the account carries (sandbox)."""

        def load() -> BrandKit | None:
            if self.plan is not None and self.plan.brand_kit is not None:
                return load_brand_kit(self.plan.brand_kit)
            if isinstance(self.account, BrandKitHolder) and (files := self.account.brand_kit_files()):
                return parse_brand_kit(files, where=f"the brand kit of {self.account.account.name}")
            return None

        return self._cached("brand_kit", load)

    def copy_grounds(self) -> CopyGrounds | None:
        """The kit, its index (built once per kit and kept where the account can keep it), the policy's copy
        rules and every competitor's name: the profile's and those inferred from the queries."""
        kit = self.brand_kit()
        if kit is None:
            return None
        competitors = list(self.plan.competitors) if self.plan else []
        if self.plan is not None and self.plan.offers and self.account.account.platform is Platform.GOOGLE_ADS:
            competitors += [c.name for c in self.intents(Window.LAST_30_DAYS.period(self.today)).competitors]
        return CopyGrounds(kit=kit, index=self._kit_index(kit), rules=self.copy_rules, competitors=tuple(competitors))

    def _kit_index(self, kit: BrandKit) -> KitIndex:
        from tools.query_embeddings import embeddings_available

        embeddings = self.kit_retrieval == "hybrid" and embeddings_available()
        key = f"{kit.digest}:{'hybrid' if embeddings else 'bm25'}"
        cache = self.account if isinstance(self.account, KitIndexCache) else None
        # The store is the user's own file, like the LangGraph checkpoints (also pickles).
        if cache is not None and (kept := cache.kit_index(key)) is not None:
            return pickle.loads(kept)  # noqa: S301
        index = build_index(kit, embeddings=embeddings)
        if cache is not None:
            cache.save_kit_index(key, pickle.dumps(index))
        return index

    def money(self, amount: int) -> str:
        return self.structure().account.money(amount)


def _lexicons_digest() -> str:
    """The intent lexicons and gazetteer are data files: a change to them changes every intent."""
    files = sorted(importlib.resources.files("tools").joinpath("data").iterdir(), key=lambda f: f.name)
    return hashlib.sha256(b"".join(f.read_bytes() for f in files if f.is_file())).hexdigest()


ShownKind = Literal["search_term", "campaign", "ad_group", "ad_copy", "theme", "budget", "change"]


class Shown(BaseModel):
    """One item a result shows a person, in display order: what "the first one" or "those terms" refer to."""

    kind: ShownKind
    name: str = Field(description="What a reference resolves to: the term, the campaign's name, a change id.")
    line: str = Field(description="The item as a reply lists it, with its numbers.")


class ToolResult(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    tool: str
    summary: str = Field(description="A few plain sentences a marketer can read.")
    data: Any = None
    proposals: list[Change] = Field(default_factory=list)
    shown: list[Shown] = Field(default_factory=list)
    did_you_mean: list[str] | None = Field(default=None, description="Set when a name matched nothing.")

    def content(self) -> str:
        """The JSON a model reads: summary, data and a one-line view of each proposal.

        Past MAX_CONTENT_CHARS, each list (data rows, a field of rows, the proposals) keeps the rows that fit,
        costliest first where rows have a cost, and `omitted` says how many were left out."""
        proposals = [{"id": c.id, "kind": c.kind, "summary": c.summary()} for c in self.proposals]
        body = {"summary": self.summary, "data": self.data, "proposals": proposals}
        text = json.dumps(body, default=str, ensure_ascii=False)
        if len(text) <= MAX_CONTENT_CHARS:
            return text
        data = self.data
        lists = {
            key: _most_important_first(value)
            for key, value in (data.items() if isinstance(data, dict) else [(None, data)])
            if isinstance(value, list)
        }
        total = sum(map(len, lists.values())) + len(proposals)

        def shortened(keep: int) -> dict[str, Any]:
            kept = {key: rows[:keep] for key, rows in lists.items()}
            omitted = total - sum(map(len, kept.values())) - min(keep, len(proposals))
            return {
                "summary": f"{self.summary[: MAX_CONTENT_CHARS // 2]} (Too long to show whole: {omitted} of "
                f"{total} rows left out, the least costly or last ones.)",
                "data": kept[None] if None in kept else {**data, **kept} if isinstance(data, dict) else data,
                "proposals": proposals[:keep],
                "omitted": omitted,
            }

        low, high = 0, max([len(proposals), *map(len, lists.values())])  # the most rows per list that fit
        while low < high:
            middle = (low + high + 1) // 2
            if len(json.dumps(shortened(middle), default=str, ensure_ascii=False)) <= MAX_CONTENT_CHARS:
                low = middle
            else:
                high = middle - 1
        return json.dumps(shortened(low), default=str, ensure_ascii=False)


def _most_important_first(rows: list[Any]) -> list[Any]:
    """Rows with a cost, costliest first; other rows keep their order."""
    if rows and all(isinstance(row, dict) and isinstance(row.get("cost"), int | float) for row in rows):
        return sorted(rows, key=lambda row: row["cost"], reverse=True)
    return rows


# ---- argument schemas -------------------------------------------------------------------


class WindowArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    window: Window = Field(default=Window.LAST_30_DAYS, description="Report window.")


class SearchTermArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    window: Window = Field(default=Window.LAST_90_DAYS)
    campaign: str | None = Field(default=None, description="Only campaigns whose name contains this text.")
    ad_group: str | None = Field(default=None, description="Only ad groups whose name contains this text.")
    contains: str | None = Field(default=None, description="Only search terms containing this text.")
    without_conversions: bool = Field(default=False, description="Only terms with no conversions.")
    limit: int = Field(default=10, ge=1, le=200, description="How many of the most expensive terms to show.")


class ClusterArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    window: Window = Field(default=Window.LAST_90_DAYS)
    granularity: float = Field(
        default=1.0, ge=0.25, le=4.0, description="Below 1 for broader themes, above 1 for finer."
    )
    backend: Literal["tfidf", "embeddings"] = "tfidf"


class NegativeArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    window: Window = Field(default=Window.LAST_90_DAYS)
    campaign: str | None = Field(
        default=None, description="Only negatives for campaigns whose name contains this text."
    )


class AdGroupArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    window: Window = Field(default=Window.LAST_90_DAYS)
    granularity: float = Field(default=1.0, ge=0.25, le=4.0)


class IntentArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    window: Window = Field(default=Window.LAST_90_DAYS)
    top: int = Field(default=5, ge=1, le=20, description="How many of the most expensive queries to show per class.")


class CreativeTestArgs(WindowArgs):
    window: Window = Field(default=Window.LAST_90_DAYS, description="Report window the ads are compared over.")


class CreativeArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ad_group: str | None = Field(default=None, description="Write for this ad group (name), whatever its ads do.")
    count: int | None = Field(default=None, ge=3, le=15, description="How many headlines each new RSA gets.")


class RecentChangesArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: dt.date | None = Field(default=None, description="Changes recorded on or after this day (YYYY-MM-DD).")
    days: int | None = Field(default=None, ge=1, le=365, description="Changes of the last N days (default 7).")


class ExplainArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    change: str | None = Field(default=None, description="A change id; none for the last proposal shown.")


class AnswerArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    change: str = Field(min_length=4, description="The change id (or full hash) to answer.")
    action: Literal["approve", "reject"]
    note: str | None = Field(default=None, max_length=500, description="The person's reason, in their words.")


class SwitchArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account: str = Field(min_length=1, description="The account's name, or its platform ('Meta', 'Google').")


class NoArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- the tools --------------------------------------------------------------------------


def _overview(ctx: ToolContext, args: WindowArgs) -> ToolResult:
    period = args.window.period(ctx.today)
    overview = account_reports.account_overview(ctx.structure(), ctx.metrics(period), period)
    cpa = ctx.money(overview.cost_per_conversion) if overview.cost_per_conversion else "n/a"
    summary = (
        f"{overview.display_name} ({overview.platform}), {period.start} to {period.end}: "
        f"spent {ctx.money(overview.cost)}, "
        f"{overview.clicks:,} clicks, {overview.conversions:,.1f} conversions, cost per conversion {cpa}; "
        f"{overview.campaigns} campaigns, {overview.ad_groups} ad groups."
    )
    return ToolResult(tool="account_overview", summary=summary, data=overview.model_dump(mode="json"))


def _campaigns(ctx: ToolContext, args: WindowArgs) -> ToolResult:
    period = args.window.period(ctx.today)
    rows = account_reports.campaign_performance(ctx.structure(), ctx.metrics(period))
    lines = [
        f"{r.campaign}: {ctx.money(r.cost)}, {r.conversions:,.1f} conv., CPA "
        f"{ctx.money(r.cost_per_conversion) if r.cost_per_conversion else 'n/a'}"
        for r in rows[:8]
    ]
    summary = f"{len(rows)} campaigns with spend, {period.start} to {period.end}. " + "; ".join(lines)
    shown = [Shown(kind="campaign", name=r.campaign, line=line) for r, line in zip(rows, lines, strict=False)]
    return ToolResult(tool="campaign_performance", summary=summary, data=[r.model_dump() for r in rows], shown=shown)


@dataclass(frozen=True)
class Scope:
    """The campaigns and ad groups a request names, or why it names none."""

    campaign_ids: list[str] | None = None
    ad_group_ids: list[str] | None = None
    refusal: str | None = None  # 'No campaign matches "X"; did you mean …?'
    did_you_mean: list[str] = field(default_factory=list)
    label: str = ""  # " in campaign(s) matching 'X'"


def resolve_scope(structure: AccountStructure, campaign: str | None, ad_group: str | None = None) -> Scope:
    """Names resolve to what they contain, or are refused with the closest names as a question."""
    found: dict[str, list[str]] = {}
    labels = []
    for what, name, find, names in (
        ("campaign", campaign, account_reports.find_campaigns, [c.name for c in structure.campaigns]),
        ("ad group", ad_group, account_reports.find_ad_groups, [g.name for g in structure.ad_groups]),
    ):
        if not name:
            continue
        ids = find(structure, name)
        if not ids:
            closest = account_reports.closest_names(name, names)
            ask = (
                "; did you mean " + " or ".join(f'"{n}"' for n in closest) + "?"
                if closest
                else f". The {what}s are: " + ", ".join(f'"{n}"' for n in names[:12]) + "."
            )
            return Scope(refusal=f'No {what} matches "{name}"{ask}', did_you_mean=closest)
        found[what] = ids
        labels.append(f" in {what}s matching '{name}'")
    return Scope(campaign_ids=found.get("campaign"), ad_group_ids=found.get("ad group"), label="".join(labels))


def _refused(tool: str, scope: Scope) -> ToolResult:
    data = {"did_you_mean": scope.did_you_mean}
    return ToolResult(tool=tool, summary=scope.refusal or "", data=data, did_you_mean=scope.did_you_mean)


def _search_terms(ctx: ToolContext, args: SearchTermArgs) -> ToolResult:
    period = args.window.period(ctx.today)
    scope = resolve_scope(ctx.structure(), args.campaign, args.ad_group)
    if scope.refusal:
        return _refused("search_terms", scope)
    frame = account_reports.filter_search_terms(
        ctx.search_terms(period),
        campaign_ids=scope.campaign_ids,
        ad_group_ids=scope.ad_group_ids,
        contains=args.contains,
        without_conversions=args.without_conversions,
    )
    top = frame.head(args.limit)
    summary = (
        f"{len(frame):,} search terms{scope.label} from {period.start} to {period.end}, "
        f"costing {ctx.money(int(frame['cost'].sum()))}" + (f"; the {len(top)} most expensive:" if len(top) else ".")
    )
    shown = [
        Shown(
            kind="search_term",
            name=str(row.search_term),
            line=f"{row.search_term}: {ctx.money(int(row.cost))}, {int(row.clicks):,} clicks, "
            f"{float(row.conversions):,.1f} conv.",
        )
        for row in top.itertuples(index=False)
    ]
    return ToolResult(tool="search_terms", summary=summary, data=top.to_dict(orient="records"), shown=shown)


def _pacing(ctx: ToolContext, args: NoArgs) -> ToolResult:
    report = ctx.pacing()
    off = [b for b in report.budgets if b.status in ("overspending", "underspending")]
    lines = [
        f"{b.budget_name} is {b.status} (projected {ctx.money(b.projected_month_spend)} against "
        f"{ctx.money(b.monthly_target or 0)})"
        for b in off
    ]
    warnings = [*report.warnings, *guard_warnings(report, ctx.structure())]
    summary = (
        f"Month to date the account spent {ctx.money(report.account_month_to_date)}, projected "
        f"{ctx.money(report.account_projected)} by month end. "
        + ("; ".join(lines) if lines else "Every budget is on track.")
        + "".join(f" Warning: {w}" for w in warnings)
    )
    # `budgets` is the per-budget pacing table and `curves` each budget's response curve points, for the report.
    data = report.model_dump(mode="json") | {"warnings": warnings}
    shown = [
        Shown(
            kind="budget",
            name=b.budget_name,
            line=f"{b.budget_name}: {b.status}, projected {ctx.money(b.projected_month_spend)}"
            + (f" against {ctx.money(b.monthly_target)}" if b.monthly_target else ""),
        )
        for b in report.budgets
    ]
    return ToolResult(tool="budgets_and_pacing", summary=summary, data=data, shown=shown)


def _clusters(ctx: ToolContext, args: ClusterArgs) -> ToolResult:
    period = args.window.period(ctx.today)
    result = ctx.clusters(period, args.granularity, args.backend)
    lines = [
        f"{c.name} ({c.size} queries, {ctx.money(c.cost)}, {c.conversions:,.1f} conv.)" for c in result.clusters[:10]
    ]
    summary = (
        f"{len(result.clusters)} themes in the search terms from {period.start} to {period.end}. Biggest: "
        + "; ".join(lines)
    )
    shown = [Shown(kind="theme", name=c.name, line=line) for c, line in zip(result.clusters, lines, strict=False)]
    return ToolResult(
        tool="cluster_search_queries",
        summary=summary,
        data=[c.model_dump() for c in result.clusters[:40]],
        shown=shown,
    )


def _negatives(ctx: ToolContext, args: NegativeArgs) -> ToolResult:
    period = args.window.period(ctx.today)
    terms = ctx.search_terms(period)
    intents = ctx.intents(period)
    has_conversions = ctx.search_terms_have_conversions()
    notices = [*intents.notices] + ([] if has_conversions else [NO_CONVERSIONS_NOTICE])
    evidence_period = ctx.search_term_period(period)
    changes = mine_negatives(
        terms, ctx.structure(), intents=intents.intents, period=evidence_period, has_conversions=has_conversions
    )
    changes += route_negatives(terms, ctx.structure(), intents, profile=ctx.profile(), period=evidence_period)
    if args.campaign:
        scope = resolve_scope(ctx.structure(), args.campaign)
        if scope.refusal:
            return _refused("mine_negative_keywords", scope)
        wanted = set(scope.campaign_ids or ())
        ad_group_campaign = {g.id: g.campaign_id for g in ctx.structure().ad_groups}
        changes = [
            c
            for c in changes
            if c.level == "shared_list" or c.target_id in wanted or ad_group_campaign.get(c.target_id) in wanted
        ]
    keywords = sum(len(c.keywords) for c in changes)
    wasted = sum(int(c.evidence.metrics.get("cost", 0)) for c in changes)
    shared = sum(len(c.keywords) for c in changes if c.level == "shared_list")
    by_basis = Counter(k.basis.value for c in changes for k in c.keywords)
    bases = ", ".join(f"{n} on {basis}" for basis, n in sorted(by_basis.items()))
    when = f"between {evidence_period.start} and {evidence_period.end}" if evidence_period else "in the report"
    summary = (
        f"{keywords} negative keywords in {len(changes)} proposal(s) would block search terms that cost "
        f"{ctx.money(wasted)}{' with no conversions' if has_conversions else ''} {when}"
        + (f" ({bases})" if bases else "")
        + (f"; {shared} of them go to a shared list and apply account-wide." if shared else ".")
    )
    return ToolResult(
        tool="mine_negative_keywords", summary=summary, data={"notices": notices}, proposals=list(changes)
    )


def _intents(ctx: ToolContext, args: IntentArgs) -> ToolResult:
    period = args.window.period(ctx.today)
    terms = ctx.search_terms(period)
    result = ctx.intents(period)
    classes = summarise_intents(result, terms, top=args.top)
    lines = [f"{c.intent.replace('_', ' ')} {c.queries:,} ({ctx.money(c.cost)})" for c in classes]
    summary = (
        f"The intent of {len(result.intents):,} distinct search terms from {period.start} to {period.end}: "
        + "; ".join(lines)
        + "."
        + "".join(f" Note: {notice}." for notice in result.notices)
    )
    data = {
        "classes": [c.model_dump() for c in classes],
        "competitors": [c.model_dump() for c in result.competitors],
        "notices": result.notices,
        "lexicon_version": result.lexicon_version,
    }
    return ToolResult(tool="classify_search_intent", summary=summary, data=data)


def _ad_groups(ctx: ToolContext, args: AdGroupArgs) -> ToolResult:
    period = args.window.period(ctx.today)
    clusters = ctx.clusters(period, args.granularity, "tfidf")
    profile = ctx.profile()
    changes = propose_ad_groups(
        ctx.search_terms(period),
        clusters,
        ctx.structure(),
        landing_pages=profile.landing_pages if profile else None,
        competitor_terms=profile.competitors if profile else (),
        served_places=profile.locations if profile else (),
        grounds=ctx.copy_grounds(),
    )
    names = ", ".join(f"'{c.name}'" for c in changes[:6])
    summary = f"{len(changes)} new ad groups for themes no keyword covers yet" + (f": {names}." if changes else ".")
    return ToolResult(tool="propose_ad_groups", summary=summary, proposals=list(changes))


def _creatives(ctx: ToolContext, args: CreativeArgs) -> ToolResult:
    period = Window.LAST_30_DAYS.period(ctx.today)
    scope = resolve_scope(ctx.structure(), None, args.ad_group)
    if scope.refusal:
        return _refused("propose_creative_variants", scope)
    grounds = ctx.copy_grounds()
    if grounds is None:
        summary = (
            "No new ad variants: the account has no brand kit, and copy is written only from the advertiser's "
            "facts. Name a kit folder as `brand_kit:` for this account in the accounts file (ADPILOT_ACCOUNTS)."
        )
        return ToolResult(tool="propose_creative_variants", summary=summary)
    changes = propose_creative_variants(
        ctx.structure(),
        ctx.metrics(period),
        grounds,
        writer=ctx.copy_writer,
        ad_group_ids=scope.ad_group_ids,
        headlines=args.count,
        tests=ctx.creative_tests(Window.LAST_90_DAYS.period(ctx.today)),  # the audit's test window
    )
    sourced = sum(1 for c in changes for a in c.assets if a.sources)
    total = sum(len(c.assets) for c in changes)
    which = f"for ad groups matching '{args.ad_group}'" if args.ad_group else "for ad groups with too few or weak ads"
    summary = (
        f"{len(changes)} new ad variants, each created paused, {which}, written "
        f"from the brand kit: {sourced} of {total} assets cite their sources, the rest are calls to action."
    )
    shown = [Shown(kind="ad_copy", name=c.ad_group_name, line=_copy_line(c)) for c in changes]
    return ToolResult(tool="propose_creative_variants", summary=summary, proposals=list(changes), shown=shown)


def _copy_line(change: AddCreativeVariants) -> str:
    """The new ad's copy as a person reads it: every headline and description."""
    ad = change.ad
    if isinstance(ad, ResponsiveSearchAdCopy):
        return (
            f"{change.ad_group_name}: headlines "
            + " | ".join(ad.headlines)
            + "; descriptions "
            + " | ".join(ad.descriptions)
        )
    return f"{change.ad_group_name}: {ad.headline} | {ad.primary_text} | {ad.description}"


def _creative_tests(ctx: ToolContext, args: WindowArgs) -> ToolResult:
    period = args.window.period(ctx.today)
    report = ctx.creative_tests(period)
    changes = propose_pauses(report, ctx.structure())
    counts = Counter(t.status for t in report.tests)
    winners = [t.ad_group_name for t in report.tests if t.status == "winner"]
    summary = (
        f"{len(report.tests)} ad groups test two or more ads ({period.start} to {period.end}): "
        + ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in sorted(counts.items()))
        + (f"; winners in {', '.join(winners)}" if winners else "")
        + f". {len(changes)} clear loser(s) proposed for pausing, each for a person to approve."
        + "".join(f" Note: {notice}" for notice in report.notices)
    )
    return ToolResult(
        tool="evaluate_creative_tests", summary=summary, data=report.model_dump(mode="json"), proposals=list(changes)
    )


def _budget_changes(ctx: ToolContext, args: NoArgs) -> ToolResult:
    report, structure = ctx.pacing(), ctx.structure()
    proposals, no_reallocation = plan_budgets(report, structure, recent=ctx.recent_budget_directions())
    pacing = [c for c in proposals if isinstance(c, SetBudget)]
    moves = [c for c in proposals if isinstance(c, ReallocateBudget)]
    summary = (
        f"{len(pacing)} daily budget change{'' if len(pacing) == 1 else 's'} would bring spend back on track "
        "for the month."
    )
    if moves:
        gained = moves[0].evidence.metrics["expected_conversions_gained"]
        summary += (
            " A reallocation moves budget between campaigns, from high to low marginal CPA, starting from where "
            f"pacing puts each and at no higher total: about {gained:,.1f} more conversions over the days left than "
            "pacing alone."
        )
    elif no_reallocation:
        summary += f" No reallocation on marginal return: {no_reallocation}."
    warnings = [*report.warnings, *guard_warnings(report, structure)]
    summary += "".join(f" Warning: {w}" for w in warnings)
    return ToolResult(tool="propose_budget_changes", summary=summary, proposals=proposals)


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    args_schema: type[BaseModel]
    # None: the tool reads the conversation or the change log, not the account; the chat graph runs it.
    run: Callable[[ToolContext, Any], ToolResult] | None


REGISTRY: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        ToolSpec(
            "account_overview",
            "Spend, clicks, conversions and structure of the account over a window.",
            WindowArgs,
            _overview,
        ),
        ToolSpec(
            "campaign_performance", "Cost, conversions and CPA per campaign over a window.", WindowArgs, _campaigns
        ),
        ToolSpec(
            "search_terms",
            "The search terms people typed, with filters (campaign, text, no conversions).",
            SearchTermArgs,
            _search_terms,
        ),
        ToolSpec(
            "budgets_and_pacing",
            "Month-to-date spend against monthly targets and the projected month end.",
            NoArgs,
            _pacing,
        ),
        ToolSpec(
            "cluster_search_queries", "Group the search terms into themes, biggest first.", ClusterArgs, _clusters
        ),
        ToolSpec(
            "classify_search_intent",
            "The intent of every search term (on offer, brand, competitor, jobs, free, DIY, out of area, ...): "
            "queries and cost per class, with the most expensive queries and why.",
            IntentArgs,
            _intents,
        ),
        ToolSpec(
            "mine_negative_keywords",
            "Propose exact and phrase negatives for search terms that waste money.",
            NegativeArgs,
            _negatives,
        ),
        ToolSpec(
            "propose_ad_groups",
            "Propose new ad groups for converting themes no keyword covers.",
            AdGroupArgs,
            _ad_groups,
        ),
        ToolSpec(
            "propose_creative_variants",
            "Propose new paused ad variants (RSA or Meta ad copy), for weak ad groups or for one named ad group, "
            "with the copy shown.",
            CreativeArgs,
            _creatives,
        ),
        ToolSpec(
            "evaluate_creative_tests",
            "Compare each ad group's ads on click-through and conversion rate (Bayesian): winners with their best "
            "assets, clear losers proposed for pausing, and how many days tests with too little data still need.",
            CreativeTestArgs,
            _creative_tests,
        ),
        ToolSpec(
            "propose_budget_changes",
            "Propose daily budget changes that land spend on the monthly target, and moves between budgets "
            "from high to low marginal CPA at the same total.",
            NoArgs,
            _budget_changes,
        ),
        ToolSpec(
            "recent_changes",
            "The change log for the account: what was applied, rejected, edited or blocked, newest first.",
            RecentChangesArgs,
            None,
        ),
        ToolSpec(
            "explain_proposal",
            "Why a proposal was made (its evidence) and what the policy gate decided about it, and by which rule.",
            ExplainArgs,
            None,
        ),
        ToolSpec(
            "answer_proposal",
            "Approve or reject a waiting proposal, as the person in this chat. Call it only once the person has "
            "confirmed in the chat; the first call asks them to confirm. The gate decides again before anything "
            "is applied.",
            AnswerArgs,
            None,
        ),
        ToolSpec(
            "switch_account",
            "Continue the conversation on another account, e.g. 'Meta' for the Meta account.",
            SwitchArgs,
            None,
        ),
        ToolSpec("help", "What you can ask adpilot in this chat.", NoArgs, None),
    )
}
THREAD_TOOLS = frozenset(name for name, spec in REGISTRY.items() if spec.run is None)


def run_tool(name: str, context: ToolContext, arguments: dict[str, Any] | None = None) -> ToolResult:
    """Run a whitelisted tool by name; KeyError for a name outside the registry, ValidationError for bad args."""
    spec = REGISTRY[name]
    if spec.run is None:
        raise KeyError(f"{name} reads the conversation; only the chat graph runs it")
    return spec.run(context, spec.args_schema.model_validate(arguments or {}))


def tool_definitions() -> list[dict[str, Any]]:
    """OpenAI-style function definitions of every registered tool, for `bind_tools` (no account needed)."""
    return [
        {
            "type": "function",
            "function": {"name": s.name, "description": s.description, "parameters": s.args_schema.model_json_schema()},
        }
        for s in REGISTRY.values()
    ]


def langchain_tools(context: ToolContext) -> list[StructuredTool]:
    """The registry as LangChain tools bound to one account, for a ToolNode."""

    def bind(spec: ToolSpec) -> StructuredTool:
        def call(**kwargs: Any) -> tuple[str, dict[str, Any]]:
            result = run_tool(spec.name, context, kwargs)
            return result.content(), result_artifact(result)

        return StructuredTool.from_function(
            func=call,
            name=spec.name,
            description=spec.description,
            args_schema=spec.args_schema,
            response_format="content_and_artifact",
        )

    return [bind(spec) for spec in REGISTRY.values() if spec.run is not None]


def result_artifact(result: ToolResult) -> dict[str, Any]:
    """What a chat keeps of a result beside the model's JSON: the summary, the proposals, the items shown."""
    return {
        "summary": result.summary,
        "proposals": [c.model_dump(mode="json") for c in result.proposals],
        "shown": [item.model_dump() for item in result.shown],
        "did_you_mean": result.did_you_mean,
    }
