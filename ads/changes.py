"""The kinds of change adpilot can propose, as one discriminated union.

Four come from the analyses; RemoveNegativeKeywords, RemoveSharedNegativeList and PauseEntity are the inverses a
rollback proposes.

A change is a value: its content hash is computed from every field, so an approval that
binds to the hash no longer fits once anything in the change is edited.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, computed_field, field_validator

from ads.entities import AdCopy, MatchType, MetaAdCopy, MoneyUnit, ResponsiveSearchAdCopy, format_money


class QueryEvidence(BaseModel):
    """A search term and what it did over the report period."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    search_term: str
    clicks: int = 0
    impressions: int = 0
    cost: int = 0
    conversions: float = 0.0


# Evidence metrics and read-back fields under these names are money, in the account's money unit; the rest are
# counts or ratios.
MONEY_METRICS = frozenset(
    {
        "cost",
        "cpa",
        "target_cpa",
        "account_cpa",
        "mtd",
        "target",
        "projected",
        "run_rate",
        "value_per_conversion",
        "daily_amount",
        "daily_amounts",
        "daily_budget",
        "spent_today",
        "marginal_cpa_before",
        "marginal_cpa_after",
        "paced_amount",
        "reallocated_total",
    }
)


def format_count(value: float) -> str:
    """A count or a ratio as a person reads it: 26,305 and 36.5, not 2.63e+04."""
    return f"{value:,.0f}" if abs(value) >= 1000 or float(value).is_integer() else f"{value:,.4g}"


# Evidence metric names with a meaning for the gate: the log entry a rollback undoes, and the daily total a
# reallocation leg keeps (its legs are approved together).
ROLLBACK_METRIC = "rolls_back_entry"
REALLOCATION_METRIC = "reallocated_total"


class Evidence(BaseModel):
    """The numbers that justify a change."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    period_start: str | None = None
    period_end: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    queries: tuple[QueryEvidence, ...] = ()

    def lines(self, money: Callable[[int], str]) -> list[str]:
        """Each metric as a person reads it: money as currency, counts with separators. A metric per budget is
        named '<budget id> <metric>'."""
        return [
            f"{name.replace('_', ' ')}: "
            + (money(round(value)) if name.rsplit(" ", 1)[-1] in MONEY_METRICS else format_count(value))
            for name, value in self.metrics.items()
        ]


class KeywordSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(min_length=1, max_length=80)
    match_type: MatchType


class NegativeBasis(StrEnum):
    """Why a negative is proposed: what the query means, what it did, both, or to send it elsewhere."""

    INTENT = "intent"
    PERFORMANCE = "performance"
    BOTH = "both"
    ROUTING = "routing"


class NegativeSpec(KeywordSpec):
    """A negative keyword, why it is proposed, the search terms it would block and what speaks against it."""

    basis: NegativeBasis = NegativeBasis.PERFORMANCE
    intent: str | None = Field(default=None, description="The intent class of what it blocks, e.g. 'competitor'.")
    blocks: tuple[QueryEvidence, ...] = ()
    counter_evidence: tuple[QueryEvidence, ...] = Field(
        default=(), description="Converting search terms that share its words (not blocked by it), with conversions."
    )

    @field_validator("match_type")
    @classmethod
    def _exact_or_phrase(cls, value: MatchType) -> MatchType:
        if value is MatchType.BROAD:
            raise ValueError("negative keywords are proposed in exact or phrase match only")
        return value


class ChangeBase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    account: str = Field(description="Account name, e.g. 'sandbox:acme' or 'google-ads:1234567890'.")
    rationale: str = Field(description="Why, in plain words a marketer would use.")
    evidence: Evidence = Field(default_factory=Evidence)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def hash(self) -> str:
        content = self.model_dump(mode="json", exclude={"hash", "id"})
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def content_key(self) -> str:
        """What the change does, with its evidence, rationale and the terms a negative claims to block left
        out: two changes with one content key make the same edit to the account."""
        content = self.model_dump(mode="json", exclude={"hash", "id", "evidence", "rationale"})
        for keyword in content.get("keywords", ()):
            keyword.pop("blocks", None)
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def id(self) -> str:
        """Short handle people type; the full hash is what approvals bind to."""
        return self.hash[:10]


class AddNegativeKeywords(ChangeBase):
    kind: Literal["add_negative_keywords"] = "add_negative_keywords"
    level: Literal["campaign", "ad_group", "shared_list"]
    target_id: str = Field(description="Campaign id, ad group id or shared list id.")
    target_name: str = ""
    keywords: tuple[NegativeSpec, ...] = Field(min_length=1)

    def summary(self) -> str:
        words = ", ".join(keyword_label(k) for k in self.keywords[:4])
        more = f" (+{len(self.keywords) - 4} more)" if len(self.keywords) > 4 else ""
        target = f"{self.level.replace('_', ' ')} {self.target_name or self.target_id}"
        return f"Add {len(self.keywords)} negative(s) to {target}: {words}{more}"


class CreateSharedNegativeList(ChangeBase):
    """A new shared negative keyword list for an account-wide theme ("Competitors", "Jobs"), its keywords, and
    the campaigns it is attached to (Google Ads; Meta has no negative keywords)."""

    kind: Literal["create_shared_negative_list"] = "create_shared_negative_list"
    name: str = Field(min_length=1, max_length=255)
    keywords: tuple[NegativeSpec, ...] = Field(min_length=1)
    campaign_ids: tuple[str, ...] = Field(default=(), description="Campaigns the new list is attached to.")
    campaign_names: tuple[str, ...] = ()

    @property
    def level(self) -> Literal["shared_list"]:
        return "shared_list"  # where its negatives live, as for AddNegativeKeywords

    @property
    def target_id(self) -> str:
        return ""  # the list has no id before it exists

    def summary(self) -> str:
        words = ", ".join(keyword_label(k) for k in self.keywords[:4])
        more = f" (+{len(self.keywords) - 4} more)" if len(self.keywords) > 4 else ""
        where = f", attached to {len(self.campaign_ids)} campaign(s)" if self.campaign_ids else ", attached to none"
        return f"Create shared negative list '{self.name}' with {len(self.keywords)} negative(s){where}: {words}{more}"


class SourceRef(BaseModel):
    """One chunk of the advertiser's brand kit: its file and the chunk's number in that file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    doc: str
    chunk: int = Field(ge=0)


class AssetSources(BaseModel):
    """What one headline or description rests on: the kit chunks it was written from, or `generic` for a
    pure call to action that states no fact."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    asset: str = Field(description="The asset as a marketer names it: 'headline 2', 'primary text'.")
    text: str
    sources: tuple[SourceRef, ...] = ()
    generic: bool = False


class CreateAdGroup(ChangeBase):
    kind: Literal["create_ad_group"] = "create_ad_group"
    campaign_id: str
    campaign_name: str = ""
    name: str = Field(min_length=1, max_length=255)
    keywords: tuple[KeywordSpec, ...] = Field(min_length=1)
    ad: ResponsiveSearchAdCopy
    paused: bool = True
    assets: tuple[AssetSources, ...] = Field(
        default=(), description="Each asset of `ad` with its sources; empty for a keyword draft (no brand kit facts)."
    )

    def summary(self) -> str:
        campaign = self.campaign_name or self.campaign_id
        return f"Create ad group '{self.name}' in {campaign} with {len(self.keywords)} keywords and an RSA"


class AddCreativeVariants(ChangeBase):
    kind: Literal["add_creative_variants"] = "add_creative_variants"
    ad_group_id: str
    ad_group_name: str = ""
    ad: AdCopy
    paused: bool = True
    assets: tuple[AssetSources, ...] = Field(default=(), description="Each asset of `ad` with its sources.")

    def summary(self) -> str:
        what = "responsive search ad" if isinstance(self.ad, ResponsiveSearchAdCopy) else "Meta ad"
        return f"Add a paused {what} variant to {self.ad_group_name or self.ad_group_id}"


class SetBudget(ChangeBase):
    kind: Literal["set_budget"] = "set_budget"
    budget_id: str
    budget_name: str = ""
    level: Literal["campaign", "ad_set"] = "campaign"
    currency: str = "USD"
    unit: MoneyUnit = Field(default=MoneyUnit.MICROS, description="micros for Google Ads, minor units for Meta.")
    from_amount: int = Field(ge=0, description="Current daily amount, in the account's money unit.")
    to_amount: int = Field(gt=0, description="Proposed daily amount, in the account's money unit.")

    @property
    def relative_change(self) -> float:
        """+0.10 for a 10% increase; infinite when there was no budget before."""
        if self.from_amount == 0:
            return float("inf")
        return (self.to_amount - self.from_amount) / self.from_amount

    def summary(self) -> str:
        amounts = (format_money(a, self.unit, self.currency) for a in (self.from_amount, self.to_amount))
        budget = self.budget_name or self.budget_id
        return f"Set the daily budget of {budget} from {' to '.join(amounts)} ({self.relative_change:+.0%})"


class BudgetLeg(BaseModel):
    """One budget of a reallocation: its daily amount now and after."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    budget_id: str
    budget_name: str = ""
    level: Literal["campaign", "ad_set"] = "campaign"
    from_amount: int = Field(gt=0, description="Current daily amount, in the account's money unit.")
    to_amount: int = Field(gt=0, description="Proposed daily amount, in the account's money unit.")

    @property
    def relative_change(self) -> float:
        return (self.to_amount - self.from_amount) / self.from_amount


class ReallocateBudget(ChangeBase):
    """Daily budget moved between budgets at no higher total, approved and applied as one change: one leg
    without the others would change the total."""

    kind: Literal["reallocate_budget"] = "reallocate_budget"
    currency: str = "USD"
    unit: MoneyUnit = Field(default=MoneyUnit.MICROS, description="micros for Google Ads, minor units for Meta.")
    legs: tuple[BudgetLeg, ...] = Field(min_length=2)

    @field_validator("legs")
    @classmethod
    def _one_total(cls, legs: tuple[BudgetLeg, ...]) -> tuple[BudgetLeg, ...]:
        if len({leg.budget_id for leg in legs}) != len(legs):
            raise ValueError("each budget appears in one leg only")
        if sum(leg.to_amount for leg in legs) > sum(leg.from_amount for leg in legs):
            raise ValueError("a reallocation does not raise the total daily amount")
        return legs

    def summary(self) -> str:
        def money(amount: int) -> str:
            return format_money(amount, self.unit, self.currency)

        moves = "; ".join(
            f"{leg.budget_name or leg.budget_id} {money(leg.from_amount)} to {money(leg.to_amount)}"
            for leg in self.legs
        )
        before = money(sum(leg.from_amount for leg in self.legs))
        after = money(sum(leg.to_amount for leg in self.legs))
        return f"Reallocate daily budget across {len(self.legs)} budgets (total {before} -> {after} a day): {moves}"


class RemoveNegativeKeywords(ChangeBase):
    """The inverse of AddNegativeKeywords, proposed by a rollback."""

    kind: Literal["remove_negative_keywords"] = "remove_negative_keywords"
    level: Literal["campaign", "ad_group", "shared_list"]
    target_id: str
    target_name: str = ""
    keywords: tuple[KeywordSpec, ...] = Field(min_length=1)

    def summary(self) -> str:
        words = ", ".join(keyword_label(k) for k in self.keywords[:4])
        more = f" (+{len(self.keywords) - 4} more)" if len(self.keywords) > 4 else ""
        return (
            f"Remove {len(self.keywords)} negative(s) from {self.level.replace('_', ' ')} "
            f"{self.target_name or self.target_id}: {words}{more}"
        )


class RemoveSharedNegativeList(ChangeBase):
    """The inverse of CreateSharedNegativeList, proposed by a rollback: the list goes, with its keywords, and so
    it leaves every campaign it was attached to (Google Ads removes a SharedSet's links with it)."""

    kind: Literal["remove_shared_negative_list"] = "remove_shared_negative_list"
    shared_list_id: str
    name: str = ""
    keyword_count: int = Field(default=0, ge=0, description="How many negatives the list held when it was made.")
    campaign_ids: tuple[str, ...] = Field(default=(), description="Campaigns it was attached to when it was made.")

    def summary(self) -> str:
        name = f"'{self.name}' ({self.shared_list_id})" if self.name else self.shared_list_id
        return (
            f"Remove shared negative list {name} with its {self.keyword_count} negative(s), "
            f"detaching it from {len(self.campaign_ids)} campaign(s)"
        )


class PauseEntity(ChangeBase):
    """Pause an ad group or an ad; a rollback proposes it for what CreateAdGroup / AddCreativeVariants made."""

    kind: Literal["pause_entity"] = "pause_entity"
    level: Literal["ad_group", "ad"]
    entity_id: str = Field(description="Ad group (Meta: ad set) id, or ad id.")
    entity_name: str = ""

    def summary(self) -> str:
        name = f"{self.entity_name} ({self.entity_id})" if self.entity_name else self.entity_id
        return f"Pause {self.level.replace('_', ' ')} {name}"


Change = Annotated[
    AddNegativeKeywords
    | CreateAdGroup
    | AddCreativeVariants
    | SetBudget
    | RemoveNegativeKeywords
    | RemoveSharedNegativeList
    | PauseEntity
    | CreateSharedNegativeList
    | ReallocateBudget,
    Field(discriminator="kind"),
]
change_adapter: TypeAdapter[Change] = TypeAdapter(Change)


def parse_change(data: dict[str, Any] | str) -> Change:
    """A change from its JSON form; the computed `hash` and `id` are recomputed, never trusted."""
    fields: dict[str, Any] = json.loads(data) if isinstance(data, str) else data
    return change_adapter.validate_python({k: v for k, v in fields.items() if k not in ("hash", "id")})


def keyword_label(keyword: KeywordSpec) -> str:
    return f"[{keyword.text}]" if keyword.match_type is MatchType.EXACT else f'"{keyword.text}"'


__all__ = [
    "REALLOCATION_METRIC",
    "ROLLBACK_METRIC",
    "AddCreativeVariants",
    "AddNegativeKeywords",
    "AssetSources",
    "BudgetLeg",
    "Change",
    "ChangeBase",
    "CreateAdGroup",
    "CreateSharedNegativeList",
    "Evidence",
    "KeywordSpec",
    "MetaAdCopy",
    "NegativeSpec",
    "PauseEntity",
    "QueryEvidence",
    "ReallocateBudget",
    "RemoveNegativeKeywords",
    "RemoveSharedNegativeList",
    "ResponsiveSearchAdCopy",
    "SetBudget",
    "SourceRef",
    "change_adapter",
    "parse_change",
]
