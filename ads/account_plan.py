"""What a marketer knows about an account that the platforms do not store: brand terms, monthly targets, a cap.

Google Ads and Meta hold daily budgets, not monthly plans, and no list of the advertiser's brand terms.
An accounts file (YAML, `ADPILOT_ACCOUNTS`) supplies them; amounts are in the account's currency:

    google-ads:1234567890:
      brand_terms: [trailhead, trailhead outfitters]
      monthly_budget_cap: 30000
      campaign_targets:            # campaign name or id -> planned monthly spend
        "Search | Tents": 4800
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ads.entities import UNITS_PER_CURRENCY, AccountStructure
from ads.errors import ConfigurationError


class AccountPlan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    brand_terms: tuple[str, ...] = ()
    monthly_budget_cap: Decimal | None = Field(default=None, gt=0)
    campaign_targets: dict[str, Decimal] = Field(default_factory=dict)

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
    return plans
