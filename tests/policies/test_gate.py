from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ads.changes import (
    ROLLBACK_METRIC,
    AddCreativeVariants,
    AddNegativeKeywords,
    BudgetLeg,
    CreateAdGroup,
    Evidence,
    KeywordSpec,
    NegativeBasis,
    NegativeSpec,
    PauseEntity,
    QueryEvidence,
    ReallocateBudget,
    RemoveNegativeKeywords,
    SetBudget,
    parse_change,
)
from ads.entities import Account, MatchType, MetaAdCopy, Platform, ResponsiveSearchAdCopy
from ads.errors import PolicyError
from ads.keyword_matching import matches
from policies.gate import Decision, GateContext, Policy, account_blocks, decide, load_policy, policy_from_dict

POLICY = load_policy()
TODAY = dt.date(2026, 11, 20)
USD = 1_000_000  # one dollar in Google micros
GOOGLE = Account(
    name="sandbox:acme",
    id="1",
    display_name="Acme",
    platform=Platform.GOOGLE_ADS,
    monthly_budget_cap=10_000 * USD,
    brand_terms=("acme",),
)
META = Account(name="meta:shop", id="act_2", display_name="Shop", platform=Platform.META, monthly_budget_cap=None)
PROPERTIES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def account_terms(queries: Any) -> pd.DataFrame:
    """The account's own search terms: all in campaign c1 and ad group c1, the targets of `negatives()`."""
    rows = [
        {
            "search_term": q.search_term,
            "campaign_id": "c1",
            "ad_group_id": "c1",
            "clicks": q.clicks,
            "impressions": q.impressions,
            "cost": q.cost,
            "conversions": q.conversions,
        }
        for q in queries
    ]
    columns = ["search_term", "campaign_id", "ad_group_id", "clicks", "impressions", "cost", "conversions"]
    return pd.DataFrame(rows, columns=columns)


def context(account: Account = GOOGLE, policy: Policy = POLICY, terms: Any = (), **fields: Any) -> GateContext:
    return GateContext(policy=policy, account=account, today=TODAY, search_terms=account_terms(terms), **fields)


def named_terms(change: AddNegativeKeywords) -> list[QueryEvidence]:
    """The terms a change claims to block or names as evidence, taken as the account's real search terms."""
    return [*(q for k in change.keywords for q in k.blocks), *change.evidence.queries]


def query(term: str, clicks: int = 25, cost: int = 10 * USD, conversions: float = 0.0) -> QueryEvidence:
    return QueryEvidence(search_term=term, clicks=clicks, impressions=clicks * 10, cost=cost, conversions=conversions)


def negatives(
    *specs: NegativeSpec, level: str = "campaign", queries: tuple[QueryEvidence, ...] = ()
) -> AddNegativeKeywords:
    return AddNegativeKeywords(
        account="sandbox:acme",
        rationale="wasted spend",
        level=level,
        target_id="c1",
        target_name="Shoes",
        keywords=specs,
        evidence={"queries": queries},
    )


def negative(text: str, match: MatchType = MatchType.EXACT, **blocked: Any) -> NegativeSpec:
    return NegativeSpec(text=text, match_type=match, blocks=(query(text, **blocked),))


def budget(from_amount: int, to_amount: int, account: Account = GOOGLE, level: str = "campaign") -> SetBudget:
    return SetBudget(
        account=account.name,
        rationale="pacing",
        budget_id="b1",
        budget_name="Main",
        level=level,
        from_amount=from_amount,
        to_amount=to_amount,
    )


RSA = ResponsiveSearchAdCopy(
    headlines=("Trail Running Shoes", "Waterproof Trail Shoes", "Shop Light Trail Shoes"),
    descriptions=("Grip on wet rock and mud.", "Free returns within 30 days."),
    path1="trail",
    final_url="https://acme.example/trail",
)


def ad_group(ad: ResponsiveSearchAdCopy = RSA, paused: bool = True) -> CreateAdGroup:
    return CreateAdGroup(
        account="sandbox:acme",
        rationale="new theme",
        campaign_id="c1",
        name="Trail",
        keywords=(KeywordSpec(text="trail shoes", match_type=MatchType.PHRASE),),
        ad=ad,
        paused=paused,
    )


def creative(ad: Any, account: Account = GOOGLE) -> AddCreativeVariants:
    return AddCreativeVariants(account=account.name, rationale="test copy", ad_group_id="g1", ad=ad)


# (name, change, context, outcome, rule, words the reason must hold)
CASES = [
    (
        "negatives auto",
        negatives(negative("shoe repair"), negative("free", MatchType.PHRASE)),
        None,
        "auto_apply",
        "negatives.auto_apply",
        ["2 exact/phrase", "20 clicks", "5.00 USD"],
    ),
    (
        "negatives holding personal data",
        negatives(negative("boots mail jane.doe@example.com")),
        None,
        "blocked",
        "negatives.personal_data",
        ['"boots mail [email]" holds personal data'],
    ),
    (
        "negatives on intent alone",
        negatives(
            negative("shoe repair"),
            negative("jobs", MatchType.PHRASE).model_copy(update={"basis": NegativeBasis.INTENT}),
        ),
        None,
        "needs_approval",
        "negatives.intent_only",
        ['"jobs" rests on intent'],
    ),
    (
        "negatives for routing",
        negatives(negative("trail shoes").model_copy(update={"basis": NegativeBasis.ROUTING})),
        None,
        "needs_approval",
        "negatives.routing_only",
        ["rests on routing"],
    ),
    (
        "negatives shared list",
        negatives(negative("shoe repair"), level="shared_list"),
        None,
        "needs_approval",
        "negatives.level",
        ["shared list"],
    ),
    (
        "negatives too many",
        negatives(*(negative(f"term {i}") for i in range(26))),
        None,
        "needs_approval",
        "negatives.max_keywords",
        ["26 keywords", "25"],
    ),
    (
        "negatives few clicks",
        negatives(negative("shoe repair", clicks=12)),
        None,
        "needs_approval",
        "negatives.min_clicks",
        ["12 clicks", "20"],
    ),
    (
        "negatives cheap",
        negatives(negative("shoe repair", cost=2 * USD)),
        None,
        "needs_approval",
        "negatives.min_cost",
        ["2.00 USD", "5.00 USD"],
    ),
    (
        "negatives no evidence",
        negatives(NegativeSpec(text="shoe repair", match_type=MatchType.EXACT)),
        None,
        "needs_approval",
        "negatives.no_evidence",
        ["shoe repair"],
    ),
    (
        "negatives brand",
        negatives(negative("acme jobs")),
        None,
        "needs_approval",
        "negatives.brand_term",
        ['"acme"'],
    ),
    (
        "negatives converting term",
        negatives(negative("shoe repair", conversions=2)),
        None,
        "blocked",
        "negatives.blocks_conversions",
        ['"shoe repair"', "2 conversions"],
    ),
    (
        "negatives converting evidence",
        negatives(negative("free", MatchType.PHRASE), queries=(query("free trail shoes", conversions=1.5),)),
        None,
        "blocked",
        "negatives.blocks_conversions",
        ['"free trail shoes"', "1.5 conversions"],
    ),
    (
        "negatives broad",
        negatives(NegativeSpec.model_construct(text="shoes", match_type=MatchType.BROAD, blocks=(query("shoes"),))),
        None,
        "blocked",
        "negatives.broad",
        ['"shoes"', "broad"],
    ),
    (
        "negatives too many words",
        negatives(negative("a b c d e f g h i j k")),
        None,
        "blocked",
        "negatives.max_words",
        ["11 words", "10"],
    ),
    (
        "budget +5%",
        budget(100 * USD, 105 * USD),
        context(daily_budget_total=100 * USD),
        "auto_apply",
        "budget.auto_apply",
        ["+5%", "10%", "100.00 USD", "105.00 USD"],
    ),
    ("budget -10%", budget(100 * USD, 90 * USD), context(), "auto_apply", "budget.auto_apply", ["-10%"]),
    (
        "budget -10% proposed in a chat",
        budget(100 * USD, 90 * USD),
        context(origin="chat"),
        "needs_approval",
        "origin.chat",
        ["proposed in a chat", "would auto-apply it under budget.auto_apply"],
    ),
    (
        "budget +60% proposed in a chat",
        budget(100 * USD, 160 * USD),
        context(origin="chat"),
        "blocked",
        "budget.max_move",
        [],
    ),
    (
        "budget +30%",
        budget(100 * USD, 130 * USD),
        context(daily_budget_total=100 * USD),
        "needs_approval",
        "budget.needs_approval",
        ["+30%", "10%"],
    ),
    (
        "budget +62%",
        budget(100 * USD, 162 * USD),
        context(daily_budget_total=100 * USD),
        "blocked",
        "budget.max_move",
        ["+62%", "exceeds the 50% limit"],
    ),
    ("budget -60%", budget(100 * USD, 40 * USD), context(), "blocked", "budget.max_move", ["-60%", "50%"]),
    (
        "budget over cap",
        budget(100 * USD, 105 * USD),
        context(month_to_date_spend=9_000 * USD, daily_budget_total=100 * USD, days_left_in_month=10),
        "blocked",
        "budget.monthly_cap",
        ["10,050.00 USD", "10,000.00 USD", "10 days"],
    ),
    (
        "budget cut over cap",
        budget(100 * USD, 95 * USD),
        context(month_to_date_spend=9_900 * USD, daily_budget_total=100 * USD, days_left_in_month=10),
        "auto_apply",
        "budget.auto_apply",
        ["-5%"],
    ),
    ("budget from zero", budget(0, 50 * USD), context(), "needs_approval", "budget.no_current_amount", ["Main"]),
    (
        "meta rate limit",
        budget(1000, 1050, META, "ad_set"),
        context(META, budget_changes_last_hour={"b1": 4}),
        "blocked",
        "budget.rate_limit",
        ["4 times", "retry after the hour"],
    ),
    (
        "meta under rate limit",
        budget(1000, 1050, META, "ad_set"),
        context(META, budget_changes_last_hour={"b1": 3}),
        "auto_apply",
        "budget.auto_apply",
        ["+5%", "10.00 USD"],
    ),
    ("ad group", ad_group(), context(), "needs_approval", "ad_groups.needs_approval", ["ad group"]),
    (
        "ad group long headline",
        ad_group(RSA.model_copy(update={"headlines": ("H" * 31, *RSA.headlines[1:])})),
        context(),
        "blocked",
        "ad_groups.copy",
        ["headline 1", "31 characters", "30"],
    ),
    ("ad group live", ad_group(paused=False), context(), "blocked", "ad_groups.require_paused", ["paused"]),
    ("creative", creative(RSA), context(), "needs_approval", "creatives.needs_approval", ["creative"]),
    (
        "creative claim",
        creative(MetaAdCopy(primary_text="Risk-free trial", headline="Shoes", link_url="https://shop.example"), META),
        context(META),
        "blocked",
        "creatives.copy",
        ["primary text", "risk-free"],
    ),
    ("other account", budget(100, 105, META), context(GOOGLE), "blocked", "account.mismatch", ["meta:shop"]),
    (
        "read-only",
        budget(100 * USD, 105 * USD),
        context(GOOGLE.model_copy(update={"read_only": True})),
        "blocked",
        "account.read_only",
        ["read-only"],
    ),
]


@pytest.mark.parametrize(
    ("change", "ctx", "outcome", "rule", "words"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_default_rules(change: Any, ctx: GateContext | None, outcome: str, rule: str, words: list[str]) -> None:
    decision = decide(change, ctx or context(terms=named_terms(change)))
    assert (decision.outcome, decision.rule) == (outcome, rule), decision.reason
    for word in words:
        assert word in decision.reason
    assert (decision.change_id, decision.change_hash, decision.kind) == (change.id, change.hash, change.kind)


def test_policy_without_a_section_fails_closed() -> None:
    policy = POLICY.model_copy(update={"budgets": None})
    decision = decide(budget(100 * USD, 101 * USD), context(policy=policy))
    assert (decision.outcome, decision.rule) == ("needs_approval", "default.fail_closed")
    assert "'budgets'" in decision.reason and "set_budget" in decision.reason


def test_an_error_inside_a_rule_fails_closed_not_open() -> None:
    corrupt = SetBudget.model_construct(
        account="sandbox:acme",
        rationale="x",
        evidence=None,
        kind="set_budget",
        budget_id="b1",
        budget_name="",
        level="campaign",
        from_amount=None,
        to_amount=105,
    )
    decision = decide(corrupt, context())
    assert (decision.outcome, decision.rule) == ("needs_approval", "default.fail_closed")
    assert "TypeError" in decision.reason


@pytest.mark.parametrize(
    ("keyword", "match", "term", "expected"),
    [
        ("free", MatchType.PHRASE, "free trail shoes", True),
        ("trail shoes", MatchType.PHRASE, "free trail shoes", True),
        ("shoes trail", MatchType.PHRASE, "free trail shoes", False),
        ("free", MatchType.PHRASE, "freedom shoes", False),
        ("free trail shoes", MatchType.EXACT, "Free  Trail Shoes", True),
        ("trail shoes", MatchType.EXACT, "free trail shoes", False),
    ],
)
def test_negative_matching(keyword: str, match: MatchType, term: str, expected: bool) -> None:
    assert matches(term, keyword, match, negative=True) is expected


# --- loading the policy ----------------------------------------------------------------------------

DEFAULT_YAML = yaml.safe_load((Path(__file__).parents[2] / "policies" / "default.yaml").read_text())


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def test_default_policy_loads_with_its_numbers() -> None:
    assert POLICY.version == 1
    assert (POLICY.budgets.max_auto_move, POLICY.budgets.max_move) == (0.10, 0.50)
    assert POLICY.negatives.auto_apply_levels == ("campaign", "ad_group")
    assert "free shipping" in POLICY.ad_copy.forbidden_claims


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "version: 1\nbudgets:\n  max_auto_move: [0.1\n  max_move: 0.5\n",
            "{path}: line 4: YAML does not parse: expected ',' or ']', but got ':'",
        ),
        (
            "version: 1\nbudgets:\n  max_auto_move: 0.1\n  max_auto_move: 0.5\n",
            "{path}: line 4: YAML does not parse: duplicate key 'max_auto_move'",
        ),
        (
            "version: 1\nbudgets:\n  max_auto_move: lots\n  max_move: 0.5\n",
            "{path}: budgets.max_auto_move: Input should be a valid number",
        ),
        (
            "version: 1\nbudgets:\n  max_auto_mov: 0.1\n  max_move: 0.5\n",
            "{path}: budgets.max_auto_mov: Extra inputs are not permitted (+1 more)",
        ),
        (
            "version: 1\nad_copy:\n  rsa:\n    headline_max_chars: 40\n",
            "{path}: ad_copy.rsa.headline_max_chars: 40 is looser than the platform limit of 30 "
            "(Google Ads Help: About responsive search ads (headline up to 30 characters))",
        ),
        (
            "version: 1\nbudgets:\n  max_auto_move: 0.1\n  max_move: 0.5\n  meta_max_changes_per_hour: 10\n",
            "{path}: budgets.meta_max_changes_per_hour: 10 is looser than the platform limit of 4 "
            "(Meta Marketing API: ad set budget change rate limit (about 4 per hour))",
        ),
        (
            "version: 1\nbudgets:\n  max_auto_move: 0.6\n  max_move: 0.5\n",
            "{path}: budgets: max_auto_move 0.6 is larger than max_move 0.5",
        ),
        ("- version: 1\n", "{path}: expected a mapping of policy sections, got list"),
    ],
)
def test_bad_policy_files_refuse_to_load_with_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert str(raised.value) == message.format(path=path)


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"nope\.yaml: cannot be read: No such file or directory$"):
        load_policy(tmp_path / "nope.yaml")


def test_a_stricter_policy_loads(tmp_path: Path) -> None:
    stricter = {**DEFAULT_YAML, "ad_copy": {**DEFAULT_YAML["ad_copy"], "rsa": {"headline_max_chars": 25}}}
    policy = load_policy(write(tmp_path, yaml.safe_dump(stricter)))
    assert policy.ad_copy.rsa.headline_max_chars == 25
    long_headline = RSA.model_copy(update={"headlines": ("Twenty-six characters long", *RSA.headlines[1:])})
    assert decide(ad_group(long_headline), context(policy=policy)).rule == "ad_groups.copy"


# --- properties ------------------------------------------------------------------------------------

amounts = st.integers(min_value=0, max_value=10_000 * USD)


@st.composite
def budget_cases(draw: st.DrawFn) -> tuple[SetBudget, GateContext]:
    account = draw(st.sampled_from([GOOGLE, META, GOOGLE.model_copy(update={"monthly_budget_cap": None})]))
    change = SetBudget(
        account=account.name,
        rationale="r",
        budget_id="b1",
        level=draw(st.sampled_from(["campaign", "ad_set"])),
        from_amount=draw(amounts),
        to_amount=draw(st.integers(min_value=1, max_value=10_000 * USD)),
    )
    ctx = context(
        account,
        month_to_date_spend=draw(amounts),
        daily_budget_total=draw(amounts),
        days_left_in_month=draw(st.integers(1, 31)),
        budget_changes_last_hour=draw(st.dictionaries(st.sampled_from(["b1", "b2"]), st.integers(0, 9))),
    )
    return change, ctx


@PROPERTIES
@given(budget_cases())
def test_no_budget_move_outside_the_policy_is_auto_applied(case: tuple[SetBudget, GateContext]) -> None:
    change, ctx = case
    decision = decide(change, ctx)
    if decision.outcome == "auto_apply":
        assert change.from_amount > 0 and abs(change.relative_change) <= 0.10
        assert ctx.budget_changes_last_hour.get("b1", 0) < 4 or (
            change.level == "campaign" and ctx.account.platform is Platform.GOOGLE_ADS
        )
        cap = ctx.account.monthly_budget_cap
        if cap is not None and change.to_amount > change.from_amount:
            daily = ctx.daily_budget_total - change.from_amount + change.to_amount
            assert ctx.month_to_date_spend + daily * ctx.days_left_in_month <= cap
    if change.from_amount and abs(change.relative_change) > 0.50:
        assert decision.outcome == "blocked"


terms = st.text(alphabet="abcdefgh ", min_size=1, max_size=20).filter(str.strip)
evidence = st.builds(
    query,
    terms,
    clicks=st.integers(0, 60),
    cost=st.integers(0, 30 * USD),
    conversions=st.sampled_from([0.0, 0.0, 0.5, 3.0]),
)


@st.composite
def negative_specs(draw: st.DrawFn) -> NegativeSpec:
    fields = {
        "text": draw(terms).strip(),
        "match_type": draw(st.sampled_from(list(MatchType))),
        "blocks": tuple(draw(st.lists(evidence, max_size=3))),
    }
    # A broad negative cannot be built the normal way; the gate must still refuse one that slips through.
    return NegativeSpec.model_construct(**fields) if fields["match_type"] is MatchType.BROAD else NegativeSpec(**fields)


@PROPERTIES
@given(
    st.lists(negative_specs(), min_size=1, max_size=30),
    st.sampled_from(["campaign", "ad_group", "shared_list"]),
    st.lists(evidence, max_size=4),
)
def test_no_risky_negative_is_auto_applied(specs: list[NegativeSpec], level: str, queries: list[QueryEvidence]) -> None:
    change = negatives(*specs, level=level, queries=tuple(queries))
    account = named_terms(change)
    decision = decide(change, context(terms=account))
    if decision.outcome == "auto_apply":
        assert level != "shared_list" and len(specs) <= 25
        for spec in specs:
            assert spec.match_type is not MatchType.BROAD
            blocked = [q for q in account if matches(q.search_term, spec.text, spec.match_type, negative=True)]
            assert blocked and all(q.conversions == 0 for q in blocked)
            assert sum(q.clicks for q in blocked) >= 20
    if any(spec.match_type is MatchType.BROAD for spec in specs):
        assert decision.outcome == "blocked"


headlines = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz ABC!#1", min_size=1, max_size=35), min_size=1, max_size=16
)


@PROPERTIES
@given(headlines, st.lists(st.text(min_size=1, max_size=95), min_size=1, max_size=5), st.booleans(), st.booleans())
def test_new_ad_groups_and_creatives_are_never_auto_applied(
    heads: list[str], descriptions: list[str], paused: bool, as_ad_group: bool
) -> None:
    ad = ResponsiveSearchAdCopy(headlines=tuple(heads), descriptions=tuple(descriptions), final_url="https://a.example")
    change = ad_group(ad, paused) if as_ad_group else creative(ad)
    assert decide(change, context()).outcome != "auto_apply"


@PROPERTIES
@given(budget_cases())
def test_decide_is_deterministic(case: tuple[SetBudget, GateContext]) -> None:
    change, ctx = case
    first = decide(change, ctx)
    assert decide(parse_change(change.model_dump(mode="json")), ctx.model_copy()) == first
    assert isinstance(first, Decision)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@PROPERTIES
@given(
    st.dictionaries(
        st.sampled_from(["version", "negatives", "budgets", "ad_copy", "creatives", "extra"]), json_values, min_size=1
    )
)
def test_random_policy_dicts_load_or_raise_policy_error(data: dict[str, Any]) -> None:
    try:
        policy = policy_from_dict(data, "random.yaml")
    except PolicyError as error:
        assert str(error).startswith("random.yaml: ") and "\n" not in str(error)
    else:
        assert isinstance(policy, Policy)


def _sections(data: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for key, value in data.items():
        if isinstance(value, dict):
            found += _sections(value, (*prefix, key))
    return found


@PROPERTIES
@given(st.sampled_from(_sections(DEFAULT_YAML)), st.from_regex(r"[a-z_]{1,12}", fullmatch=True), json_values)
def test_an_unknown_key_anywhere_refuses_to_load(section: tuple[str, ...], key: str, value: Any) -> None:
    data = yaml.safe_load(yaml.safe_dump(DEFAULT_YAML))
    target = data
    for part in section:
        target = target[part]
    if key in target:
        return
    target[key] = value
    with pytest.raises(PolicyError, match=re.escape(".".join((*section, key))) + ": Extra inputs are not permitted"):
        policy_from_dict(data, "random.yaml")


ROLLBACK_CHANGES = [
    RemoveNegativeKeywords(
        account="sandbox:acme",
        rationale="rolls back change 1a2b3c",
        level="campaign",
        target_id="c1",
        keywords=(KeywordSpec(text="shoe repair", match_type=MatchType.EXACT),),
    ),
    PauseEntity(account="sandbox:acme", rationale="rolls back change 4d5e6f", level="ad_group", entity_id="g1"),
    PauseEntity(account="sandbox:acme", rationale="rolls back change 7a8b9c", level="ad", entity_id="a1"),
]


@pytest.mark.parametrize("change", ROLLBACK_CHANGES, ids=lambda c: f"{c.kind}-{getattr(c, 'level', '')}")
def test_the_inverse_changes_of_a_rollback_always_need_approval(change: Any) -> None:
    # no policy section names them, however permissive the policy: fail closed
    permissive = policy_from_dict(
        {
            "version": 1,
            "negatives": {
                "auto_apply_levels": ["campaign", "ad_group", "shared_list"],
                "auto_apply_max_keywords": 100,
                "auto_apply_min_clicks": 1,
                "auto_apply_min_cost": 0.01,
            },
            "budgets": {"max_auto_move": 1, "max_move": 1},
            "ad_groups": {},
            "creatives": {},
        }
    )
    for policy in (POLICY, permissive):
        decision = decide(change, context(policy=policy))
        # the default policy names pauses (always for a person); without that section they fail closed
        named = isinstance(change, PauseEntity) and policy is POLICY
        assert (decision.outcome, decision.rule, decision.kind) == (
            "needs_approval",
            "pauses.needs_approval" if named else "default.fail_closed",
            change.kind,
        )
        assert (named or change.kind in decision.reason) and decision.change_hash == change.hash
    assert decide(change, context(account=META)).outcome == "blocked"  # account checks still come first


def test_a_pause_always_needs_a_person_and_its_section_takes_no_settings() -> None:
    loser = PauseEntity(account="sandbox:acme", rationale="a creative test's clear loser", level="ad", entity_id="a1")
    decision = decide(loser, context())
    assert (decision.outcome, decision.rule) == ("needs_approval", "pauses.needs_approval")
    assert "person" in decision.reason
    with pytest.raises(PolicyError, match="pauses.auto_apply"):
        policy_from_dict({"version": 1, "pauses": {"auto_apply": True}})


def test_the_inverse_changes_round_trip_through_json() -> None:
    for change in ROLLBACK_CHANGES:
        assert parse_change(change.model_dump_json()) == change
    assert ROLLBACK_CHANGES[0].summary() == "Remove 1 negative(s) from campaign c1: [shoe repair]"
    assert ROLLBACK_CHANGES[1].summary() == "Pause ad group g1"
    named = ROLLBACK_CHANGES[2].model_copy(update={"entity_name": "Trail shoes RSA"})
    assert named.summary() == "Pause ad Trail shoes RSA (a1)"


# --- policy values are bounded -------------------------------------------------------------------

SHARES = [("budgets", "max_auto_move"), ("budgets", "max_move")]
COUNTS = [
    ("negatives", "auto_apply_max_keywords"),
    ("negatives", "auto_apply_min_clicks"),
    ("negatives", "max_words"),
    ("negatives", "shared_list_max_keywords"),
    ("budgets", "meta_max_changes_per_hour"),
    ("ad_copy", "rsa", "headline_max_chars"),
    ("ad_copy", "rsa", "min_headlines"),
    ("ad_copy", "max_caps_letters"),
]
MONEY = [("negatives", "auto_apply_min_cost")]
FLAGS = [("ad_groups", "require_paused"), ("creatives", "require_paused"), ("ad_copy", "forbid_repeated_exclamation")]

out_of_range = st.one_of(
    st.tuples(st.sampled_from(SHARES), st.one_of(st.floats(1.0001, 1e6), st.floats(-1e6, -0.0001))),
    st.tuples(st.sampled_from(COUNTS), st.one_of(st.integers(-1000, 0), st.booleans(), st.floats(0.5, 9.5))),
    st.tuples(st.sampled_from(MONEY), st.one_of(st.floats(-1e6, 0), st.booleans())),
    st.tuples(st.sampled_from(SHARES + COUNTS + MONEY), st.sampled_from(["5", "0.1", "lots", "", "true"])),
    st.tuples(st.sampled_from(FLAGS), st.sampled_from([1, 0, "yes", "no", 2.5])),
)


@PROPERTIES
@given(out_of_range)
def test_out_of_range_policy_values_refuse_to_load_naming_the_field(case: tuple[tuple[str, ...], Any]) -> None:
    path, value = case
    data = yaml.safe_load(yaml.safe_dump(DEFAULT_YAML))
    section = data
    for key in path[:-1]:
        section = section[key]
    section[path[-1]] = value
    with pytest.raises(PolicyError) as raised:
        policy_from_dict(data, "bounded.yaml")
    message = str(raised.value)
    assert message.startswith("bounded.yaml: ") and "\n" not in message
    assert ".".join(path) in message or "max_auto_move" in message  # a share above max_move names both


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("budgets", "max_auto_move"), 1000),
        (("negatives", "max_words"), True),
        (("negatives", "auto_apply_min_clicks"), "20"),
        (("negatives", "auto_apply_min_clicks"), 0),
        (("negatives", "auto_apply_min_cost"), 0),
    ],
)
def test_the_reported_nonsense_values_refuse_to_load(path: tuple[str, ...], value: Any) -> None:
    data = yaml.safe_load(yaml.safe_dump(DEFAULT_YAML))
    data[path[0]][path[1]] = value
    with pytest.raises(PolicyError, match=re.escape(".".join(path))):
        policy_from_dict(data, "nonsense.yaml")


# --- the gate judges a negative on the account's own search terms ---------------------------------


def test_forged_evidence_is_ignored_the_account_terms_decide() -> None:
    # The change claims "tent" blocks one cheap, non-converting term; the account says it blocks converting ones.
    forged = negatives(NegativeSpec(text="tent", match_type=MatchType.PHRASE, blocks=(query("tent pegs free"),)))
    account = [query("tent pegs free"), query("4 person tent", conversions=12.0), query("tent sale", conversions=3)]
    decision = decide(forged, context(terms=account))
    assert (decision.outcome, decision.rule) == ("blocked", "negatives.blocks_conversions")
    assert "conversions" in decision.reason


def test_claimed_clicks_do_not_count_only_the_accounts() -> None:
    inflated = negatives(negative("shoe repair", clicks=500, cost=500 * USD))
    decision = decide(inflated, context(terms=[query("shoe repair", clicks=3, cost=1 * USD)]))
    assert (decision.outcome, decision.rule) == ("needs_approval", "negatives.min_clicks")
    assert "3 clicks" in decision.reason


def test_a_negative_without_the_accounts_search_terms_waits_for_a_person() -> None:
    decision = decide(negatives(negative("shoe repair")), context().model_copy(update={"search_terms": None}))
    assert (decision.outcome, decision.rule) == ("needs_approval", "negatives.no_search_terms")


def test_account_blocks_recomputes_in_the_changes_scope() -> None:
    terms = account_terms([query("free shoes"), query("free socks", clicks=3)])
    other = terms.assign(campaign_id="c2", ad_group_id="g2", search_term="free hats")
    ctx = context().model_copy(update={"search_terms": pd.concat([terms, other], ignore_index=True)})
    change = negatives(NegativeSpec(text="free", match_type=MatchType.PHRASE, blocks=(query("invented"),)))
    [keyword] = account_blocks(change, ctx).keywords
    assert [q.search_term for q in keyword.blocks] == ["free shoes", "free socks"]  # not c2's "free hats"


def test_a_budget_rollback_restoring_a_previous_amount_needs_a_person_and_no_step_limit() -> None:
    restore = budget(50 * USD, 100 * USD).model_copy(update={"evidence": Evidence(metrics={ROLLBACK_METRIC: 7.0})})
    restore = SetBudget.model_validate(restore.model_dump(exclude={"hash", "id"}))
    history = context(daily_budget_total=50 * USD, previous_budget_amounts={"b1": (100 * USD,)})
    decision = decide(restore, history)
    assert (decision.outcome, decision.rule) == ("needs_approval", "budget.rollback")
    assert "+100%" in decision.reason and "change log entry 7" in decision.reason
    # An amount the budget never had is no rollback: the step limit applies.
    assert decide(restore, context(daily_budget_total=50 * USD)).rule == "budget.max_move"


def test_meta_budgets_take_only_a_few_edits_a_week_but_a_rollback_is_not_held() -> None:
    change = budget(1000, 1050, META, "ad_set")
    week = context(META, budget_changes_last_week={"b1": 2})
    assert decide(change, week).rule == "budget.weekly_limit" and decide(change, week).outcome == "blocked"
    assert decide(change, context(META, budget_changes_last_week={"b1": 1})).outcome == "auto_apply"
    restore = SetBudget.model_validate(
        change.model_dump(exclude={"hash", "id", "evidence"}) | {"evidence": {"metrics": {ROLLBACK_METRIC: 3.0}}}
    )
    restored = context(META, budget_changes_last_week={"b1": 5}, previous_budget_amounts={"b1": (1050,)})
    assert decide(restore, restored).rule == "budget.rollback"


def test_a_reallocation_waits_for_a_person_and_each_leg_obeys_the_step_limit() -> None:
    def move(*legs: tuple[str, int, int]) -> ReallocateBudget:
        return ReallocateBudget(
            account=GOOGLE.name,
            rationale="test",
            legs=tuple(BudgetLeg(budget_id=b, from_amount=f * USD, to_amount=t * USD) for b, f, t in legs),
        )

    small = decide(move(("b1", 100, 95), ("b2", 100, 105)), context(daily_budget_total=200 * USD))
    assert (small.outcome, small.rule) == ("needs_approval", "budget.reallocation")
    big = decide(move(("b1", 100, 40), ("b2", 100, 160)), context(daily_budget_total=200 * USD))
    assert (big.outcome, big.rule) == ("blocked", "budget.max_move")
    with pytest.raises(ValueError, match="does not raise the total"):
        move(("b1", 100, 90), ("b2", 100, 120))
