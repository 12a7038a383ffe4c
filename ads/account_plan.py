"""What a marketer knows about an account that the platforms do not store.

Google Ads and Meta hold daily budgets, not monthly plans, and nothing of what the business sells, where,
or under which names. An accounts file (YAML, `ADPILOT_ACCOUNTS`) supplies both: the advertiser's profile,
which the intent of every search query is judged against, and the plan; amounts are in the account's currency.
A sandbox account carries its own profile (`ProfileHolder`); an entry with profile fields here replaces it whole:

    google-ads:1234567890:
      business: "Roofing contractor: roof replacement, repairs, inspections, gutters"
      offers: [roof replacement, roof repair, roof inspection, gutter installation]
      not_offered: [skylights]      # what people search for that the business does not sell
      locations: [Ohio, Indiana]    # served regions or cities; queries naming others are out of area
      languages: [en]               # ISO 639-1 codes
      brand_terms: [acme roofing]
      competitors: [bestroof]       # a seed list; more are inferred from the queries
      landing_pages: {roof repair: "https://acme.example/repair"}   # theme or ad group name -> final URL
      brand_kit: kits/acme          # a folder: brand guide, product feed, landing pages (relative to this file)
      monthly_budget_cap: 30000
      campaign_targets:             # campaign name or id -> planned monthly spend
        "Search | Tents": 4800
      schedule: "0 6 * * 1-5"       # a cron expression: when `adpilot schedule` audits it
      schedule_time_zone: Europe/Berlin   # the cron's clock (default UTC)
      notify: [ppc@acme.example, "https://hooks.slack.com/services/T0/B0/XXX"]   # emails and/or webhook URLs
      peak_days:                    # the advertiser's own peaks; budgets are not cut right before one
        - {date: 2026-12-19, name: "Last shipping day before Christmas"}
      retail_peaks: true            # also Black Friday and Cyber Monday (default)
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal, Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from apscheduler.triggers.cron import CronTrigger
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from ads.entities import UNITS_PER_CURRENCY, AccountStructure
from ads.errors import ConfigurationError

Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LanguageCode = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[A-Za-z]{2}$")]
Url = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^https?://[^\s/]+\S*$")]


EMAIL = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+")
WEBHOOK = re.compile(r"https?://[^\s/]+\S*")


def _cron(expression: str) -> str:
    # APScheduler is the scheduler that runs it, so its parser is the one that decides what is valid.
    CronTrigger.from_crontab(expression)
    return expression


def _time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone '{name}'") from None
    return name


CronExpression = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_cron)]
TimeZoneName = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_time_zone)]


def _notify_target(target: str) -> str:
    if not (EMAIL.fullmatch(target) or WEBHOOK.fullmatch(target)):
        raise ValueError(f"'{target}' is neither an email address nor an http(s) webhook URL")
    return target


NotifyTarget = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2000),
    AfterValidator(_notify_target),
    Field(description="An email address, or a webhook URL (Slack incoming-webhook shape)."),
]


class AdvertiserProfile(BaseModel):
    """What the business sells, where, to whom and under which names: what a specialist learns first."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    business: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    offers: tuple[Term, ...] = ()
    not_offered: tuple[Term, ...] = ()
    locations: tuple[Term, ...] = ()
    languages: tuple[LanguageCode, ...] = ()
    brand_terms: tuple[Term, ...] = ()
    competitors: tuple[Term, ...] = ()
    landing_pages: dict[Term, Url] = Field(default_factory=dict)
    brand_in_generic: bool = Field(
        default=True,
        description="False keeps the brand and its variants out of generic (non-brand) campaigns, for the brand "
        "campaign to serve them.",
    )

    @property
    def is_empty(self) -> bool:
        return self.profile() == AdvertiserProfile()

    def profile(self) -> AdvertiserProfile:
        """Only the profile's fields (an `AccountPlan` also holds budgets)."""
        return AdvertiserProfile.model_validate(self.model_dump(include=set(AdvertiserProfile.model_fields)))


class PeakDay(BaseModel):
    """A day demand peaks (a sale, a holiday): budgets are not cut to the minimum right before it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    date: dt.date
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class AccountPlan(AdvertiserProfile):
    brand_kit: Path | None = Field(
        default=None, description="The advertiser's brand kit folder; relative paths are read from the accounts file's."
    )
    monthly_budget_cap: Decimal | None = Field(default=None, gt=0)
    campaign_targets: dict[str, Decimal] = Field(default_factory=dict)
    peak_days: tuple[PeakDay, ...] = ()
    retail_peaks: bool = Field(default=True, description="Black Friday and Cyber Monday count as peak days too.")
    schedule: CronExpression | None = Field(default=None, description="When scheduled audits run (5-field cron).")
    schedule_time_zone: TimeZoneName = "UTC"
    notify: tuple[NotifyTarget, ...] = ()

    @property
    def notify_emails(self) -> tuple[str, ...]:
        return tuple(t for t in self.notify if EMAIL.fullmatch(t))

    @property
    def notify_webhooks(self) -> tuple[str, ...]:
        return tuple(t for t in self.notify if WEBHOOK.fullmatch(t))

    def apply_to(self, structure: AccountStructure) -> AccountStructure:
        """The structure with the plan's facts filled in.

        What the platform reported is kept where the plan is silent.
        """
        account = structure.account
        unit = UNITS_PER_CURRENCY[account.money_unit]
        cap = (
            round(self.monthly_budget_cap * unit) if self.monthly_budget_cap is not None else account.monthly_budget_cap
        )
        campaigns = tuple(
            c.model_copy(update={"monthly_target": round(target * unit)})
            if (target := self.campaign_targets.get(c.name, self.campaign_targets.get(c.id))) is not None
            else c
            for c in structure.campaigns
        )
        return structure.model_copy(
            update={
                "account": account.model_copy(
                    update={"brand_terms": self.brand_terms or account.brand_terms, "monthly_budget_cap": cap}
                ),
                "campaigns": campaigns,
            }
        )


@runtime_checkable
class ProfileHolder(Protocol):
    """An account that carries its advertiser's profile (a sandbox account, generated with its business)."""

    def advertiser_profile(self) -> AdvertiserProfile | None: ...


@dataclass(frozen=True)
class PlanInForce:
    plan: AccountPlan | None
    source: Literal["accounts file", "account"] | None  # where the profile in force was read; None: no profile
    source_path: Path | None = None  # the accounts file, or the store that holds the account

    def describe(self) -> str:
        if self.source == "accounts file":
            return f"the accounts file {self.source_path}"
        if self.source == "account":
            return (
                f"the account itself, in {self.source_path} (the sandbox generated it with the account); "
                "an entry with profile fields in the accounts file (ADPILOT_ACCOUNTS) overrides it"
            )
        return "nowhere"


def plan_in_force(
    file_plan: AccountPlan | None,
    accounts_path: Path | None,
    carried: AdvertiserProfile | None,
    carrier_path: Path | None,
) -> PlanInForce:
    """The accounts file's plan, with the profile the account carries (kept in `carrier_path`) when the file gives
    the account no profile fields. A profile is taken whole from one place: half of one and half of another would
    describe no business."""
    if file_plan is not None and not file_plan.is_empty:
        return PlanInForce(file_plan, "accounts file", accounts_path)
    if carried is None or carried.is_empty:
        return PlanInForce(file_plan, None)
    plan = (file_plan or AccountPlan()).model_copy(update=carried.profile().model_dump())
    return PlanInForce(plan, "account", carrier_path)


def load_account_plans(path: Path) -> dict[str, AccountPlan]:
    """Account name -> plan; ConfigurationError names the file and the account or field that is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise ConfigurationError(f"{path}: cannot read the accounts file ({error.strerror})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise ConfigurationError(f"{path}: {where}the accounts file is not valid YAML") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}: expected account names mapped to their plans")
    plans = {}
    for name, plan in data.items():
        try:
            plans[str(name)] = AccountPlan.model_validate(plan or {})
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            raise ConfigurationError(f"{path}: {name}: {field}: {first['msg']}") from None
        kit = plans[str(name)].brand_kit
        if kit is not None and not kit.is_absolute():
            plans[str(name)] = plans[str(name)].model_copy(update={"brand_kit": path.parent / kit})
    return plans
