"""The gate: a validated policy and a pure `decide(change, context) -> Decision`.

Every proposal, whoever made it, passes here. The gate fails closed: a change kind, field or
case the policy does not name needs a person's approval, and an error while evaluating a rule
never turns into `auto_apply`. Limits the platforms enforce (ads/limits.py) bound the policy:
a policy looser than one of them refuses to load.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from ads.changes import (
    ROLLBACK_METRIC,
    AddCreativeVariants,
    AddNegativeKeywords,
    Change,
    CreateAdGroup,
    CreateSharedNegativeList,
    NegativeBasis,
    PauseEntity,
    QueryEvidence,
    ReallocateBudget,
    RemoveSharedNegativeList,
    SetBudget,
)
from ads.entities import Account, MatchType, Platform, SharedNegativeList, from_currency
from ads.errors import PolicyError
from ads.keyword_matching import KeywordMatcher, tokens
from ads.limits import PLATFORM_LIMITS
from ads.name_matching import NameMatcher
from policies.copy_rules import check_ad_copy
from policies.reproposal import ReproposalPolicy
from policies.screening import mask_sensitive

Outcome = Literal["auto_apply", "needs_approval", "blocked"]
Origin = Literal["audit", "chat", "rollback"]  # the graph whose run proposed a change
DEFAULT_POLICY_NAME = "default.yaml"


# --- the policy, as it is written in YAML -------------------------------------------------------


def _at_most_platform(limit_name: str) -> AfterValidator:
    limit = PLATFORM_LIMITS[limit_name]

    def check(value: float) -> float:
        if value > limit.value:
            raise ValueError(f"{value:g} is looser than the platform limit of {limit.value:g} ({limit.source})")
        return value

    return AfterValidator(check)


def _at_least_platform(limit_name: str) -> AfterValidator:
    limit = PLATFORM_LIMITS[limit_name]

    def check(value: float) -> float:
        if value < limit.value:
            raise ValueError(f"{value:g} is looser than the platform limit of {limit.value:g} ({limit.source})")
        return value

    return AfterValidator(check)


# Strict: a boolean or a string where a number belongs is an error, not coerced (`max_words: true` is not 1).
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False, strict=True)]
Count = Annotated[int, Field(gt=0, strict=True)]
Length = Annotated[int, Field(gt=0, strict=True)]
Money = Annotated[float, Field(gt=0, allow_inf_nan=False, strict=True, description="In currency, e.g. 5.00")]
Flag = Annotated[bool, Field(strict=True)]


class PolicySection(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NegativesPolicy(PolicySection):
    """add_negative_keywords. The auto-apply thresholds have no defaults: the file must state them."""

    auto_apply_levels: tuple[Literal["campaign", "ad_group", "shared_list"], ...]
    auto_apply_max_keywords: Count
    # Zero would auto-apply a negative on no evidence at all.
    auto_apply_min_clicks: Count
    auto_apply_min_cost: Money
    max_words: Annotated[Length, _at_most_platform("negative_keyword_max_words")] = 10
    shared_list_max_keywords: Annotated[Length, _at_most_platform("shared_negative_list_max_keywords")] = 5000


class BudgetsPolicy(PolicySection):
    """set_budget. Moves are shares of the current daily amount: 0.10 is 10 %."""

    max_auto_move: Share
    max_move: Annotated[Share, Field(gt=0)]
    meta_max_changes_per_hour: Annotated[Count, _at_most_platform("meta_budget_changes_per_ad_set_per_hour")] = 4
    # Each budget edit may restart an ad set's learning phase; more than a few a week keeps it learning.
    meta_max_changes_per_week: Count = 2

    @model_validator(mode="after")
    def _auto_within_max(self) -> BudgetsPolicy:
        if self.max_auto_move > self.max_move:
            raise ValueError(f"max_auto_move {self.max_auto_move:g} is larger than max_move {self.max_move:g}")
        return self


class CreationPolicy(PolicySection):
    """create_ad_group / add_creative_variants: always reviewed by a person; copy is checked first."""

    require_paused: Flag = True


class PausesPolicy(PolicySection):
    """pause_entity: a paused ad or ad group stops serving at once, so a person always decides. Nothing in it
    can make a pause apply by itself."""


class RsaCopyPolicy(PolicySection):
    min_headlines: Annotated[Length, _at_least_platform("rsa_min_headlines")] = 3
    max_headlines: Annotated[Length, _at_most_platform("rsa_max_headlines")] = 15
    headline_max_chars: Annotated[Length, _at_most_platform("rsa_headline_max_chars")] = 30
    min_descriptions: Annotated[Length, _at_least_platform("rsa_min_descriptions")] = 2
    max_descriptions: Annotated[Length, _at_most_platform("rsa_max_descriptions")] = 4
    description_max_chars: Annotated[Length, _at_most_platform("rsa_description_max_chars")] = 90
    path_max_chars: Annotated[Length, _at_most_platform("rsa_path_max_chars")] = 15

    @model_validator(mode="after")
    def _min_within_max(self) -> RsaCopyPolicy:
        if self.min_headlines > self.max_headlines:
            raise ValueError(f"min_headlines {self.min_headlines} is larger than max_headlines {self.max_headlines}")
        if self.min_descriptions > self.max_descriptions:
            raise ValueError(
                f"min_descriptions {self.min_descriptions} is larger than max_descriptions {self.max_descriptions}"
            )
        return self


class MetaCopyPolicy(PolicySection):
    """Meta's lengths are recommendations, not limits: they become violations only when set here."""

    headline_max_chars: Length | None = None
    primary_text_max_chars: Length | None = None
    description_max_chars: Length | None = None


class CopyPolicy(PolicySection):
    rsa: RsaCopyPolicy = RsaCopyPolicy()
    meta: MetaCopyPolicy = MetaCopyPolicy()
    forbidden_claims: tuple[Annotated[str, Field(min_length=1)], ...] = ()
    allowed_claims: tuple[str, ...] = Field(default=(), description="Forbidden claims this advertiser may make.")
    allowed_acronyms: tuple[str, ...] = ()
    max_caps_letters: Length = 4
    forbid_repeated_exclamation: Flag = True


class ModelsPolicy(PolicySection):
    """A configured model's calls. ADPILOT_MAX_TOKENS_PER_RUN, when set, replaces the budget."""

    max_tokens_per_run: Count = 200_000  # all model calls of one run: chat turns, intent judging, naming, copy


class Policy(PolicySection):
    """A section left out means that change kind always needs a person's approval."""

    version: Literal[1]
    negatives: NegativesPolicy | None = None
    budgets: BudgetsPolicy | None = None
    ad_groups: CreationPolicy | None = None
    creatives: CreationPolicy | None = None
    pauses: PausesPolicy | None = None
    ad_copy: CopyPolicy = CopyPolicy()
    # Left out: a rejected change may be proposed again at the next audit.
    reproposal: ReproposalPolicy | None = None
    models: ModelsPolicy = ModelsPolicy()

    def digest(self) -> str:
        """A short hash of the policy in force, recorded on each decision: metrics can tell when it changed."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:12]


class _UniqueKeyLoader(yaml.SafeLoader):
    """safe_load, except that a key given twice is an error instead of the last one silently winning."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_policy(path: Path | None = None) -> Policy:
    """The policy in `path`, or the packaged default. Raises PolicyError with one line naming the problem."""
    name = DEFAULT_POLICY_NAME if path is None else str(path)
    try:
        if path is None:
            text = resources.files("policies").joinpath(DEFAULT_POLICY_NAME).read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError(f"{name}: cannot be read: {getattr(error, 'strerror', None) or error}") from error
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise PolicyError(f"{name}: {where}YAML does not parse: {problem}".replace("\n", " ")) from error
    return policy_from_dict(data, name)


def policy_from_dict(data: Any, name: str = "policy") -> Policy:
    """Validate an already-parsed policy; `name` is what the error message calls it."""
    if not isinstance(data, dict):
        raise PolicyError(f"{name}: expected a mapping of policy sections, got {type(data).__name__}")
    try:
        return Policy.model_validate(data)
    except ValidationError as error:
        # A misspelt key also makes the real key "missing"; the misspelling is the one to report.
        first = min(error.errors(), key=lambda detail: detail["type"] != "extra_forbidden")
        field = ".".join(str(part) for part in first["loc"]) or "(top level)"
        reason = first["msg"].removeprefix("Value error, ")
        more = f" (+{error.error_count() - 1} more)" if error.error_count() > 1 else ""
        raise PolicyError(f"{name}: {field}: {reason}{more}".replace("\n", " ")) from error


# --- the decision --------------------------------------------------------------------------------


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    change_id: str
    change_hash: str
    kind: str
    outcome: Outcome
    rule: str = Field(description="The rule that fired, e.g. 'negatives.auto_apply' or 'default.fail_closed'.")
    reason: str = Field(description="Plain words with the numbers.")


class GateContext(BaseModel):
    """Everything decide() may look at besides the change. Money is in the account's unit."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    policy: Policy
    account: Account
    today: dt.date
    month_to_date_spend: int = 0
    daily_budget_total: int = Field(default=0, description="Sum of the account's current daily budgets.")
    days_left_in_month: int = Field(default=1, ge=0, description="Including today.")
    budget_changes_last_hour: dict[str, int] = Field(
        default_factory=dict, description="Budget id -> changes applied to it in the last hour."
    )
    budget_changes_last_week: dict[str, int] = Field(
        default_factory=dict, description="Budget id -> changes applied to it in the last 7 days."
    )
    previous_budget_amounts: dict[str, tuple[int, ...]] = Field(
        default_factory=dict,
        description="Budget id -> daily amounts it had before a change adpilot applied (from the change log).",
    )
    search_terms: pd.DataFrame | None = Field(
        default=None,
        description="The account's own search terms over the analysis window (SEARCH_TERM_COLUMNS); a negative "
        "is judged on what it blocks among them, never on the evidence it carries. None: not available.",
    )
    shared_lists: tuple[SharedNegativeList, ...] = ()
    origin: Origin = Field(
        default="audit", description="The kind of run that proposed the change (see the origin.chat rule)."
    )


class Verdict(BaseModel):
    """What a rule concludes; decide() adds the change's identity."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    rule: str
    reason: str


def decide(change: Change, context: GateContext) -> Decision:
    """Pure and deterministic: the same change and context always give the same decision."""
    try:
        verdict = _verdict(change, context)
    except Exception as error:  # noqa: BLE001 - any failure inside a rule must fail closed
        verdict = Verdict(
            outcome="needs_approval",
            rule="default.fail_closed",
            reason=f"the gate could not evaluate this change ({type(error).__name__}: {error}); "
            "a person must review it",
        )
    return Decision(
        change_id=change.id,
        change_hash=change.hash,
        kind=str(getattr(change, "kind", "unknown")),
        outcome=verdict.outcome,
        rule=verdict.rule,
        reason=verdict.reason,
    )


def _verdict(change: Change, context: GateContext) -> Verdict:
    account = context.account
    if change.account != account.name:
        return Verdict(
            outcome="blocked",
            rule="account.mismatch",
            reason=f"the change is for account {change.account!r}, not {account.name!r}",
        )
    if account.read_only:
        return Verdict(
            outcome="blocked",
            rule="account.read_only",
            reason=f"account {account.name!r} is read-only (an imported report); nothing can be applied",
        )
    section_name, rule = _RULES.get(type(change), (None, None))
    section = getattr(context.policy, section_name, None) if section_name else None
    if rule is None or section is None:
        kind = getattr(change, "kind", type(change).__name__)
        missing = f"no '{section_name}' section" if section_name else "no rule"
        return Verdict(
            outcome="needs_approval",
            rule="default.fail_closed",
            reason=f"the policy has {missing} for {kind} changes, so a person must approve them",
        )
    return _chat_waits(rule(change, section, context), context)


def _chat_waits(verdict: Verdict, context: GateContext) -> Verdict:
    """Rule origin.chat: in a chat the model chooses the tools, and it reads text strangers typed, so nothing a
    chat proposes applies by itself. What the policy would auto-apply waits for a person instead; what it holds or
    blocks stays held or blocked."""
    if context.origin != "chat" or verdict.outcome != "auto_apply":
        return verdict
    return Verdict(
        outcome="needs_approval",
        rule="origin.chat",
        reason=f"proposed in a chat, where the model chose the tools, so a person approves it (the policy alone "
        f"would auto-apply it under {verdict.rule}: {verdict.reason})",
    )


# --- negatives -----------------------------------------------------------------------------------


def account_blocks(change: AddNegativeKeywords, context: GateContext) -> AddNegativeKeywords:
    """`change` with each keyword's `blocks` recomputed from the account's own search terms in the change's scope,
    with the matcher that mined them (ads.keyword_matching), most expensive first. What a change or an edit
    claims it blocks is never trusted. Without the account's search terms, the blocks are emptied."""
    terms = context.search_terms
    if terms is None or terms.empty:
        emptied = tuple(k.model_copy(update={"blocks": ()}) for k in change.keywords)
        return change.model_copy(update={"keywords": emptied})
    if change.level == "campaign":
        scope = terms[terms["campaign_id"] == change.target_id]
    elif change.level == "ad_group":
        scope = terms[terms["ad_group_id"] == change.target_id]
    else:  # a shared list reaches the campaigns it is attached to; a new or unattached one, possibly any
        attached = next((s.campaign_ids for s in context.shared_lists if s.id == change.target_id), ())
        scope = terms[terms["campaign_id"].isin(attached)] if attached else terms
    by_term = scope.groupby("search_term", sort=False)[["clicks", "impressions", "cost", "conversions"]].sum()
    matcher = KeywordMatcher([(k.text, k.match_type) for k in change.keywords], negative=True)
    queries = [
        QueryEvidence(
            search_term=str(term),
            clicks=int(row.clicks),
            impressions=int(row.impressions),
            cost=int(row.cost),
            conversions=float(row.conversions),
        )
        for term, row in zip(by_term.index, by_term.itertuples(index=False), strict=True)
    ]
    keywords = []
    for keyword, hits in zip(change.keywords, matcher.matched_by(list(by_term.index)), strict=True):
        blocks = sorted((queries[i] for i in hits), key=lambda q: (-q.cost, q.search_term))
        keywords.append(keyword.model_copy(update={"blocks": tuple(blocks)}))
    return change.model_copy(update={"keywords": tuple(keywords)})


def _negatives(change: AddNegativeKeywords, policy: NegativesPolicy, context: GateContext) -> Verdict:
    account = context.account
    for negative in change.keywords:
        if negative.match_type is MatchType.BROAD:
            return Verdict(
                outcome="blocked",
                rule="negatives.broad",
                reason=f'"{negative.text}" is a broad-match negative; adpilot adds exact or phrase only',
            )
    if context.search_terms is None:
        return Verdict(
            outcome="needs_approval",
            rule="negatives.no_search_terms",
            reason="the account's search terms are not available, so what these negatives block cannot be checked",
        )
    change = account_blocks(change, context)
    for negative in change.keywords:
        if mask_sensitive(negative.text) != negative.text:
            # A stranger's email, phone or card number typed as a query is no keyword, and may not be shown.
            return Verdict(
                outcome="blocked",
                rule="negatives.personal_data",
                reason=f'"{mask_sensitive(negative.text)}" holds personal data or a secret; it is never added',
            )
        if len(tokens(negative.text)) > policy.max_words:
            return Verdict(
                outcome="blocked",
                rule="negatives.max_words",
                reason=f'"{negative.text}" has {len(tokens(negative.text))} words; the limit is {policy.max_words}',
            )
        converting = [q for q in negative.blocks if q.conversions > 0]
        if converting:
            top = max(converting, key=lambda q: q.conversions)
            total = sum(q.conversions for q in converting)
            return Verdict(
                outcome="blocked",
                rule="negatives.blocks_conversions",
                reason=f'"{negative.text}" would block {len(converting)} converting search term(s) with {total:g} '
                f'conversions, e.g. "{top.search_term}", which had {top.conversions:g} conversions',
            )
    if change.level == "shared_list" and len(change.keywords) > policy.shared_list_max_keywords:
        return Verdict(
            outcome="blocked",
            rule="negatives.shared_list_size",
            reason=f"{len(change.keywords)} keywords exceed the shared list limit of {policy.shared_list_max_keywords}",
        )
    target = change.target_name or change.target_id
    unproven = next((n for n in change.keywords if n.basis in (NegativeBasis.INTENT, NegativeBasis.ROUTING)), None)
    if unproven is not None:
        # What a query means, or where it should go, is a judgment; only its own performance is evidence.
        return Verdict(
            outcome="needs_approval",
            rule=f"negatives.{unproven.basis.value}_only",
            reason=f'"{unproven.text}" rests on {unproven.basis.value}, not on its own performance; '
            "a person should confirm it",
        )
    brand_names = NameMatcher(account.brand_terms)
    for negative in change.keywords:
        # Sharing a word with a brand term, or naming it misspelt or spaced apart, may cut brand traffic,
        # the cheapest there is.
        shared = next((b for b in account.brand_terms if set(tokens(b)) & set(tokens(negative.text))), None)
        brand = shared or (found.name if (found := brand_names.find(negative.text)) else None)
        if brand is not None:
            return Verdict(
                outcome="needs_approval",
                rule="negatives.brand_term",
                reason=f'"{negative.text}" touches the brand term "{brand}"; a person should confirm it',
            )
    if change.level not in policy.auto_apply_levels:
        why = " (a shared list reaches every campaign it is attached to)" if change.level == "shared_list" else ""
        return Verdict(
            outcome="needs_approval",
            rule="negatives.level",
            reason=f"negatives at {change.level.replace('_', ' ')} level are not auto-applied{why}",
        )
    if len(change.keywords) > policy.auto_apply_max_keywords:
        return Verdict(
            outcome="needs_approval",
            rule="negatives.max_keywords",
            reason=f"{len(change.keywords)} keywords in one change; at most "
            f"{policy.auto_apply_max_keywords} are auto-applied",
        )
    min_cost = from_currency(policy.auto_apply_min_cost, account.money_unit)
    for negative in change.keywords:
        if not negative.blocks:
            return Verdict(
                outcome="needs_approval",
                rule="negatives.no_evidence",
                reason=f'"{negative.text}" blocks none of the account\'s search terms in the period',
            )
        clicks = sum(q.clicks for q in negative.blocks)
        cost = sum(q.cost for q in negative.blocks)
        if clicks < policy.auto_apply_min_clicks:
            return Verdict(
                outcome="needs_approval",
                rule="negatives.min_clicks",
                reason=f'"{negative.text}" blocks terms with {clicks} clicks; '
                f"auto-apply needs at least {policy.auto_apply_min_clicks}",
            )
        if cost < min_cost:
            return Verdict(
                outcome="needs_approval",
                rule="negatives.min_cost",
                reason=f'"{negative.text}" blocks terms that cost {account.money(cost)}; '
                f"auto-apply needs at least {account.money(min_cost)}",
            )
    return Verdict(
        outcome="auto_apply",
        rule="negatives.auto_apply",
        reason=f"{len(change.keywords)} exact/phrase negative(s) on {change.level.replace('_', ' ')} "
        f"{target}: each blocks terms with ≥ {policy.auto_apply_min_clicks} clicks, "
        f"≥ {account.money(min_cost)} cost and 0 conversions",
    )


def _new_shared_list(change: CreateSharedNegativeList, policy: NegativesPolicy, context: GateContext) -> Verdict:
    """A new list: the negatives' own rules on what it would block in the campaigns it is attached to (anywhere,
    when it is attached to none yet), then always a person, since it reaches every campaign it is attached to."""
    if len(change.keywords) > policy.shared_list_max_keywords:
        return Verdict(
            outcome="blocked",
            rule="negatives.shared_list_size",
            reason=f"{len(change.keywords)} keywords exceed the shared list limit of {policy.shared_list_max_keywords}",
        )
    new = SharedNegativeList(id="", name=change.name, campaign_ids=change.campaign_ids)
    negatives = AddNegativeKeywords(
        account=change.account,
        rationale=change.rationale,
        level="shared_list",
        target_id="",
        target_name=change.name,
        keywords=change.keywords,
    )
    verdict = _negatives(negatives, policy, context.model_copy(update={"shared_lists": (new,)}))
    if verdict.outcome == "blocked":
        return verdict
    return Verdict(
        outcome="needs_approval",
        rule="negatives.new_shared_list",
        reason=f"a new shared negative list '{change.name}' attached to {len(change.campaign_ids)} campaign(s) "
        "reaches every campaign it is attached to; a person creates it",
    )


def _remove_shared_list(change: RemoveSharedNegativeList, policy: NegativesPolicy, context: GateContext) -> Verdict:
    """Removing a list (a rollback's) unblocks its queries in every campaign it is on at once: always a person."""
    name = f"'{change.name}'" if change.name else change.shared_list_id
    return Verdict(
        outcome="needs_approval",
        rule="negatives.remove_shared_list",
        reason=f"removing the shared negative list {name} lets its {change.keyword_count} negative(s) through again "
        f"in every campaign it is attached to; a person removes it",
    )


# --- budgets -------------------------------------------------------------------------------------


def _budget_step(
    budget_id: str, name: str, meta: bool, move: float, restores: bool, policy: BudgetsPolicy, context: GateContext
) -> Verdict | None:
    """The limits every budget edit meets, a SetBudget or a reallocation's leg: Meta's hourly and weekly rate
    and the step limit. A rollback restoring an amount in force before is no new step: neither the weekly
    limit nor the step applies to it."""
    if meta:
        recent = context.budget_changes_last_hour.get(budget_id, 0)
        if recent >= policy.meta_max_changes_per_hour:
            return Verdict(
                outcome="blocked",
                rule="budget.rate_limit",
                reason=f"budget {name} changed {recent} times in the last hour; Meta allows about "
                f"{policy.meta_max_changes_per_hour} an hour, so queue it and retry after the hour",
            )
        week = context.budget_changes_last_week.get(budget_id, 0)
        if not restores and week >= policy.meta_max_changes_per_week:
            return Verdict(
                outcome="blocked",
                rule="budget.weekly_limit",
                reason=f"budget {name} changed {week} times in the last 7 days; more than "
                f"{policy.meta_max_changes_per_week} a week keeps Meta's delivery learning, so wait",
            )
    if not restores and abs(move) > policy.max_move:
        return Verdict(
            outcome="blocked",
            rule="budget.max_move",
            reason=f"budget move {move:+.0%} on {name} exceeds the {policy.max_move:.0%} limit",
        )
    return None


def _restores(change: SetBudget | ReallocateBudget, budget_id: str, amount: int, context: GateContext) -> bool:
    return ROLLBACK_METRIC in change.evidence.metrics and amount in context.previous_budget_amounts.get(budget_id, ())


def _budget(change: SetBudget, policy: BudgetsPolicy, context: GateContext) -> Verdict:
    account = context.account
    name = change.budget_name or change.budget_id
    meta = change.level == "ad_set" or account.platform is Platform.META
    if change.from_amount == 0:
        return Verdict(
            outcome="needs_approval",
            rule="budget.no_current_amount",
            reason=f"budget {name} has no current daily amount, so the move cannot be measured",
        )
    move = change.relative_change
    cap = account.monthly_budget_cap
    if move > 0 and cap is not None:
        daily_after = context.daily_budget_total - change.from_amount + change.to_amount
        projected = context.month_to_date_spend + daily_after * context.days_left_in_month
        if projected > cap:
            return Verdict(
                outcome="blocked",
                rule="budget.monthly_cap",
                reason=f"projected month spend {account.money(projected)} (spent "
                f"{account.money(context.month_to_date_spend)} + {account.money(daily_after)}/day × "
                f"{context.days_left_in_month} days) exceeds the monthly cap {account.money(cap)}",
            )
    restores = _restores(change, change.budget_id, change.to_amount, context)
    if blocked := _budget_step(change.budget_id, name, meta, move, restores, policy, context):
        return blocked
    moved = (
        f"budget move {move:+.0%} on {name} ({account.money(change.from_amount)} → {account.money(change.to_amount)})"
    )
    if restores:
        # Restoring what was in force undoes a move the step limit already let through; it is no new step.
        return Verdict(
            outcome="needs_approval",
            rule="budget.rollback",
            reason=f"{moved} restores the amount in force before change log entry "
            f"{change.evidence.metrics[ROLLBACK_METRIC]:g}; a rollback is not limited by the {policy.max_move:.0%} "
            "step, but a person approves it",
        )
    if abs(move) <= policy.max_auto_move:
        return Verdict(
            outcome="auto_apply",
            rule="budget.auto_apply",
            reason=f"{moved} is within the {policy.max_auto_move:.0%} auto-apply limit",
        )
    return Verdict(
        outcome="needs_approval",
        rule="budget.needs_approval",
        reason=f"{moved} is above the {policy.max_auto_move:.0%} auto-apply limit",
    )


def _reallocation(change: ReallocateBudget, policy: BudgetsPolicy, context: GateContext) -> Verdict:
    """A reallocation is one change: each leg meets the limits of a budget edit (`_budget_step`), the total does
    not rise (the change's schema), and a person approves it."""
    account = context.account
    for leg in change.legs:
        meta = leg.level == "ad_set" or account.platform is Platform.META
        restores = _restores(change, leg.budget_id, leg.to_amount, context)
        name = leg.budget_name or leg.budget_id
        if blocked := _budget_step(leg.budget_id, name, meta, leg.relative_change, restores, policy, context):
            return blocked
    before = sum(leg.from_amount for leg in change.legs)
    after = sum(leg.to_amount for leg in change.legs)
    return Verdict(
        outcome="needs_approval",
        rule="budget.reallocation",
        reason=f"{len(change.legs)} budgets move together ({account.money(before)} a day before, "
        f"{account.money(after)} after); a person approves a reallocation, and it is applied whole or not at all",
    )


# --- ad groups and creatives ---------------------------------------------------------------------


Creation = CreateAdGroup | AddCreativeVariants


def _creation(section: str, what: str) -> Callable[[Creation, CreationPolicy, GateContext], Verdict]:
    def rule(change: Creation, policy: CreationPolicy, context: GateContext) -> Verdict:
        violations = check_ad_copy(change.ad, context.policy)
        if violations:
            more = f" (+{len(violations) - 3} more)" if len(violations) > 3 else ""
            return Verdict(outcome="blocked", rule=f"{section}.copy", reason="; ".join(violations[:3]) + more)
        if policy.require_paused and not change.paused:
            return Verdict(
                outcome="blocked",
                rule=f"{section}.require_paused",
                reason=f"the {what} would serve at once; the policy only allows creating it paused",
            )
        return Verdict(
            outcome="needs_approval",
            rule=f"{section}.needs_approval",
            reason=f"a new {what} is always reviewed by a person",
        )

    return rule


def _pause(change: PauseEntity, policy: PausesPolicy, context: GateContext) -> Verdict:
    what = "an ad group" if change.level == "ad_group" else "an ad"
    return Verdict(
        outcome="needs_approval",
        rule="pauses.needs_approval",
        reason=f"pausing {what} stops it serving at once; a person always decides",
    )


_RULES: dict[type, tuple[str, Callable[[Any, Any, GateContext], Verdict]]] = {
    AddNegativeKeywords: ("negatives", _negatives),
    CreateSharedNegativeList: ("negatives", _new_shared_list),
    RemoveSharedNegativeList: ("negatives", _remove_shared_list),
    SetBudget: ("budgets", _budget),
    ReallocateBudget: ("budgets", _reallocation),
    CreateAdGroup: ("ad_groups", _creation("ad_groups", "ad group")),
    AddCreativeVariants: ("creatives", _creation("creatives", "creative variant")),
    PauseEntity: ("pauses", _pause),
}

__all__ = [
    "BudgetsPolicy",
    "CopyPolicy",
    "CreationPolicy",
    "Decision",
    "GateContext",
    "MetaCopyPolicy",
    "NegativesPolicy",
    "Origin",
    "Outcome",
    "PausesPolicy",
    "Policy",
    "RsaCopyPolicy",
    "decide",
    "load_policy",
    "account_blocks",
    "policy_from_dict",
]
