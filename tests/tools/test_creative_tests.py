"""The creative-test analysis: its Bayesian numbers against worked ones, and its decisions."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special, stats

from ads.changes import PauseEntity
from ads.entities import (
    AD_METRIC_COLUMNS,
    ASSET_LABEL_COLUMNS,
    Account,
    AccountStructure,
    Ad,
    AdGroup,
    Campaign,
    MetaAdCopy,
    Platform,
    ResponsiveSearchAdCopy,
    Status,
)
from policies.gate import GateContext, decide, load_policy
from tools.creative_tests import CreativeTest, evaluate_creative_tests, propose_pauses

TODAY = dt.date(2026, 11, 20)
ACCOUNT = Account(name="sandbox:acme", id="1", display_name="Acme", platform=Platform.GOOGLE_ADS)


def rsa(*headlines: str) -> ResponsiveSearchAdCopy:
    return ResponsiveSearchAdCopy(
        headlines=headlines, descriptions=("Boots for every trail.", "Order today."), final_url="https://a.example/"
    )


def structure(*ads: Ad, account: Account = ACCOUNT) -> AccountStructure:
    return AccountStructure(
        account=account,
        campaigns=(Campaign(id="c1", name="Boots", channel="search"),),
        ad_groups=(AdGroup(id="g1", campaign_id="c1", name="Hiking boots"),),
        ads=ads,
    )


ADS = (
    Ad(id="a1", ad_group_id="g1", copy=rsa("Waterproof Hiking Boots", "Boots Tested on Trails", "Shop Now")),
    Ad(id="a2", ad_group_id="g1", copy=rsa("Hiking Boots Sale", "Boots for Every Trail", "Shop Now")),
)


def metrics(totals: dict[str, tuple[int, int, float]], days: int, *, first_day: dict[str, int] | None = None):
    """Daily rows ending TODAY, each ad's (impressions, clicks, conversions) spread evenly over its days."""
    rows = []
    for ad_id, (impressions, clicks, conversions) in totals.items():
        served = days - (first_day or {}).get(ad_id, 0)
        for d in range(served):
            share = (d + 1) * np.array([impressions, clicks, conversions]) // served - d * np.array(
                [impressions, clicks, conversions]
            ) // served
            day = pd.Timestamp(TODAY - dt.timedelta(days=served - 1 - d))
            rows.append(
                (day, "c1", "g1", ad_id, int(share[0]), int(share[1]), int(share[1]) * 1_000_000)
                + (
                    float(share[2]),
                    float(share[2]) * 50,
                )
            )
    return pd.DataFrame(rows, columns=list(AD_METRIC_COLUMNS))


def only_test(frame: pd.DataFrame, *ads: Ad, labels: pd.DataFrame | None = None) -> CreativeTest:
    report = evaluate_creative_tests(structure(*(ads or ADS)), frame, labels)
    [test] = report.tests
    return test


# -- the Bayesian numbers against worked ones --------------------------------------------------------------


def probability_b_beats_a(alpha_a: float, beta_a: float, alpha_b: float, beta_b: float) -> float:
    """The closed form for two beta posteriors (Evan Miller, "Formulas for Bayesian A/B testing")."""
    return sum(
        math.exp(
            special.betaln(alpha_a + i, beta_a + beta_b)
            - math.log(beta_b + i)
            - special.betaln(1 + i, beta_b)
            - special.betaln(alpha_a, beta_a)
        )
        for i in range(int(alpha_b))
    )


def test_probability_to_be_best_matches_the_closed_form() -> None:
    # 1,000 impressions each: 50 clicks against 70 clicks
    test = only_test(metrics({"a1": (1000, 50, 2), "a2": (1000, 70, 3)}, 14))
    a, b = test.variants
    exact = probability_b_beats_a(1 + 50, 1 + 950, 1 + 70, 1 + 930)
    assert exact == pytest.approx(0.96985, abs=5e-5)
    # the closed form and direct integration of P(B > A) = ∫ f_B(x) F_A(x) dx agree
    direct = integrate.quad(lambda x: stats.beta(71, 931).pdf(x) * stats.beta(51, 951).cdf(x), 0, 0.3, limit=200)[0]
    assert direct == pytest.approx(exact, abs=1e-9)
    assert b.ctr.probability_best == pytest.approx(exact, abs=0.006)  # 20,000 draws: standard error ~0.0013
    assert a.ctr.probability_best == pytest.approx(1 - exact, abs=0.006)
    assert (a.ctr.rate, b.ctr.rate) == (0.05, 0.07)


def test_expected_loss_and_lift_interval_match_numerical_integration() -> None:
    test = only_test(metrics({"a1": (1000, 50, 2), "a2": (1000, 70, 3)}, 14))
    a, b = test.variants
    post_a, post_b = stats.beta(51, 951), stats.beta(71, 931)
    # E[(B - A)+]: what choosing A loses, integrated over A's density
    shortfall_a = integrate.quad(
        lambda x: post_a.pdf(x) * integrate.quad(lambda y: (y - x) * post_b.pdf(y), x, 1)[0], 0, 0.2, limit=200
    )[0]
    expected_max = post_a.mean() + shortfall_a  # E[max(A, B)] = E[A] + E[(B - A)+]
    assert a.ctr.expected_loss == pytest.approx(shortfall_a / expected_max, rel=0.03)
    assert b.ctr.expected_loss == pytest.approx((shortfall_a + post_a.mean() - post_b.mean()) / expected_max, rel=0.1)
    # B / A - 1 <= q has probability ∫ f_A(x) F_B((1 + q) x) dx: 2.5 % and 97.5 % at the interval's ends
    below = lambda q: integrate.quad(lambda x: post_a.pdf(x) * post_b.cdf((1 + q) * x), 0, 0.2, limit=200)[0]  # noqa: E731
    assert below(b.ctr.lift_low) == pytest.approx(0.025, abs=0.004)
    assert below(b.ctr.lift_high) == pytest.approx(0.975, abs=0.004)
    assert below(b.ctr.lift) == pytest.approx(0.5, abs=0.01)
    assert b.ctr.versus_ad_id == "a1" and a.ctr.versus_ad_id == "a2"


def test_the_same_data_gives_the_same_numbers() -> None:
    frame = metrics({"a1": (1000, 50, 2), "a2": (1000, 70, 3)}, 14)
    assert only_test(frame) == only_test(frame)


# -- decisions ----------------------------------------------------------------------------------------------


CLEAR = {"a1": (20_000, 1_000, 60), "a2": (20_000, 700, 28)}


def test_a_clear_loser_is_paused_with_its_evidence_and_the_other_wins() -> None:
    test = only_test(metrics(CLEAR, 30))
    assert test.status == "winner" and test.winner_ad_id == "a1"
    assert [v.verdict for v in test.variants] == ["winner", "loser"]
    [pause] = propose_pauses(evaluate_creative_tests(structure(*ADS), metrics(CLEAR, 30)), structure(*ADS))
    assert isinstance(pause, PauseEntity) and (pause.level, pause.entity_id) == ("ad", "a2")
    evidence = pause.evidence.metrics
    assert (evidence["impressions"], evidence["clicks"], evidence["days"]) == (20_000, 700, 30)
    assert evidence["ctr"] == 0.035 and evidence["leader_ctr"] == 0.05
    assert evidence["probability_best_ctr"] < 0.001 and evidence["ctr_lift_high"] < 0
    assert evidence["ctr_lift_low"] < evidence["ctr_lift"] == pytest.approx(-0.3, abs=0.02)
    assert (pause.evidence.period_start, pause.evidence.period_end) == ("2026-10-22", "2026-11-20")
    assert "3.50%" in pause.rationale and "5.00%" in pause.rationale and "credible interval" in pause.rationale
    # and a person always decides
    decision = decide(pause, GateContext(policy=load_policy(), account=ACCOUNT, today=TODAY))
    assert (decision.outcome, decision.rule) == ("needs_approval", "pauses.needs_approval")


def test_too_little_data_decides_nothing_whatever_the_numbers_say() -> None:
    # the same 30 % gap, but the second ad started four days ago
    frame = metrics({"a1": (20_000, 1_000, 60), "a2": (800, 28, 1)}, 30, first_day={"a2": 26})
    test = only_test(frame)
    assert test.status == "not_enough_data" and test.days == 4
    assert {v.verdict for v in test.variants} == {"undecided"}
    assert test.days_needed is not None and test.days_needed >= 3  # at least a week together
    assert "Not enough data yet" in test.reason and f"{test.days_needed} more day" in test.reason
    assert propose_pauses(evaluate_creative_tests(structure(*ADS), frame), structure(*ADS)) == []


def test_more_traffic_needs_fewer_days() -> None:
    slow = only_test(metrics({"a1": (3_000, 150, 5), "a2": (3_000, 140, 5)}, 10))
    fast = only_test(metrics({"a1": (6_000, 300, 10), "a2": (6_000, 280, 10)}, 10))
    assert slow.status == fast.status == "not_enough_data"
    assert slow.days_needed is not None and fast.days_needed is not None and fast.days_needed < slow.days_needed


def test_equal_ads_with_plenty_of_data_show_no_difference() -> None:
    test = only_test(metrics({"a1": (60_000, 3_000, 90), "a2": (60_000, 3_010, 91)}, 60))
    assert test.status == "no_difference" and "No variant differs by 20%" in test.reason
    assert {v.verdict for v in test.variants} == {"keep"} and test.days_needed is None


def test_a_lower_ctr_that_converts_better_is_not_paused() -> None:
    # a2 gets fewer clicks, but twice the conversions from the same impressions: the CTR leader may be clickbait
    test = only_test(metrics({"a1": (20_000, 1_000, 20), "a2": (20_000, 700, 40)}, 30))
    assert test.status == "not_enough_data" and not any(v.verdict == "loser" for v in test.variants)
    assert test.variants[1].more_conversions_than_leader > 0.9
    assert "conversions cannot tell yet" in test.reason


def test_paused_ads_and_single_ad_groups_are_not_tested() -> None:
    paused = ADS[1].model_copy(update={"status": Status.PAUSED})
    assert evaluate_creative_tests(structure(ADS[0], paused), metrics(CLEAR, 30)).tests == ()
    empty = evaluate_creative_tests(structure(*ADS), pd.DataFrame(columns=list(AD_METRIC_COLUMNS)))
    assert empty.tests == () and empty.notices


def test_three_variants_pause_only_the_clear_loser() -> None:
    third = Ad(id="a3", ad_group_id="g1", copy=rsa("Boots From $79", "Free Returns", "Shop Now"))
    frame = metrics({"a1": (20_000, 1_000, 60), "a2": (20_000, 990, 59), "a3": (20_000, 650, 25)}, 30)
    test = only_test(frame, *ADS, third)
    assert test.status == "losers" and [v.verdict for v in test.variants] == ["undecided", "undecided", "loser"]
    assert [
        p.entity_id
        for p in propose_pauses(evaluate_creative_tests(structure(*ADS, third), frame), structure(*ADS, third))
    ] == ["a3"]


def test_a_winner_names_its_best_assets() -> None:
    # what the next variant keeps (tests/tools/test_creatives.py shows it kept)
    labels = pd.DataFrame(
        [
            ("g1", "a1", "headline", "Waterproof Hiking Boots", "good"),
            ("g1", "a1", "headline", "Boots Tested on Trails", "best"),
            ("g1", "a1", "headline", "Shop Now", "low"),
            ("g1", "a1", "description", "Boots for every trail.", "best"),
            ("g1", "a2", "headline", "Hiking Boots Sale", "best"),
        ],
        columns=list(ASSET_LABEL_COLUMNS),
    )
    test = only_test(metrics(CLEAR, 30), labels=labels)
    assert [(a.field, a.text, a.performance_label) for a in test.best_assets] == [
        ("description", "Boots for every trail.", "best"),
        ("headline", "Boots Tested on Trails", "best"),
        ("headline", "Waterproof Hiking Boots", "good"),
    ]
    meta_account = ACCOUNT.model_copy(update={"platform": Platform.META, "name": "sandbox:acme-meta"})
    copy = MetaAdCopy(primary_text="Boots tested on trails.", headline="Trail Boots", link_url="https://a.example/")
    meta_ads = (Ad(id="a1", ad_group_id="g1", copy=copy), ADS[1].model_copy(update={"copy_": copy}))
    [meta_test] = evaluate_creative_tests(structure(*meta_ads, account=meta_account), metrics(CLEAR, 30)).tests
    assert [(a.field, a.text) for a in meta_test.best_assets] == [
        ("primary_text", "Boots tested on trails."),
        ("headline", "Trail Boots"),
    ]
