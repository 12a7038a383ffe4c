"""Response curves fitted on synthetic days with known parameters, and reallocation at the same total."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools.budget_response import DEFAULT_RHO, Bounds, ResponseCurve, curve_points, fit_response_curves, reallocate

PROPERTIES = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def synthetic_days(truth: dict[str, tuple[float, float, float]], days: int, seed: int, noise: float) -> pd.DataFrame:
    """truth: key -> (vmax, half-saturation, typical spend); spend varies 0.4-1.6x the typical spend."""
    rng = np.random.default_rng(seed)
    rows = []
    for key, (vmax, half, typical) in truth.items():
        spend = typical * rng.uniform(0.4, 1.6, days)
        expected = vmax * spend / (spend + half)
        rows += [
            {"key": key, "cost": s, "conversions": max(e * (1 + noise * rng.standard_normal()), 0.0)}
            for s, e in zip(spend, expected, strict=True)
        ]
    return pd.DataFrame(rows)


def curve(key: str, vmax: float, half: float) -> ResponseCurve:
    return ResponseCurve(
        key=key,
        vmax=vmax,
        half_saturation=half,
        days=30,
        mean_spend=half,
        mean_conversions=vmax / 2,
        r_squared=None,
        spend_variation=0.0,
        prior_weight=0.3,
        source="fit",
    )


def test_fit_recovers_known_hill_parameters_from_varied_spend() -> None:
    truth = {"a": (40.0, 200.0, 150.0), "b": (12.0, 50.0, 80.0), "c": (30.0, 600.0, 400.0)}
    fitted = fit_response_curves(synthetic_days(truth, days=120, seed=1, noise=0.03))
    for key, (vmax, half, _) in truth.items():
        got = fitted.curves[key]
        assert got.source == "fit" and got.days == 120
        assert got.vmax == pytest.approx(vmax, rel=0.15), key
        assert got.half_saturation == pytest.approx(half, rel=0.2), key
        assert got.r_squared is not None and got.r_squared > 0.8
        assert got.prior_weight == pytest.approx(14 / (14 + 120), abs=1e-4)
        # Marginal CPA = (s + h)^2 / (vmax h) at the truth's own parameters, within the fit's error.
        spend = 150.0
        assert got.marginal_cpa(spend) == pytest.approx((spend + half) ** 2 / (vmax * half), rel=0.2)


def test_thin_data_is_shrunk_towards_the_account_curve() -> None:
    # Two well-measured budgets share a shape (half-saturation = 0.5x typical spend); a third has five days
    # at one constant spend, which says nothing about its shape: it takes the account's.
    truth = {"a": (30.0, 50.0, 100.0), "b": (15.0, 100.0, 200.0)}
    days = synthetic_days(truth, days=90, seed=2, noise=0.03)
    thin = pd.DataFrame({"key": "thin", "cost": [300.0] * 5, "conversions": [6.0] * 5})
    fitted = fit_response_curves(pd.concat([days, thin], ignore_index=True))
    assert fitted.account_rho == pytest.approx(0.5, rel=0.25)
    thin_curve = fitted.curves["thin"]
    assert thin_curve.prior_weight == pytest.approx(14 / 19, abs=1e-4) and thin_curve.spend_variation == 0
    assert thin_curve.r_squared is None  # its own days do not vary
    assert thin_curve.half_saturation / 300 == pytest.approx(fitted.account_rho, rel=0.05)
    assert thin_curve.conversions(300) == pytest.approx(6.0, rel=0.05)  # and it still goes through its own level


def test_without_any_variation_the_account_shape_is_the_default_prior() -> None:
    flat = pd.DataFrame({"key": ["a"] * 10 + ["b"] * 10, "cost": [100.0] * 10 + [50.0] * 10, "conversions": 2.0})
    assert fit_response_curves(flat).account_rho == pytest.approx(DEFAULT_RHO, rel=0.01)


def test_a_budget_without_conversions_has_no_marginal_cpa() -> None:
    frame = pd.DataFrame({"key": "dead", "cost": [50.0, 60.0, 70.0], "conversions": 0.0})
    dead = fit_response_curves(frame).curves["dead"]
    assert dead.source == "no_conversions" and dead.marginal_cpa(60) is None and dead.conversions(100) == 0


def test_curve_points_start_at_zero_and_rise() -> None:
    points = curve_points(curve("a", 20.0, 100.0), 300.0, points=7)
    assert [p.spend for p in points] == [0, 50, 100, 150, 200, 250, 300]
    assert points[0].conversions == 0 and points[2].conversions == pytest.approx(10.0)
    assert all(a.conversions < b.conversions for a, b in zip(points, points[1:], strict=False))


def test_unbounded_reallocation_equalises_marginal_cpa() -> None:
    curves = {"cheap": curve("cheap", 40.0, 100.0), "dear": curve("dear", 10.0, 100.0)}
    bounds = {k: Bounds(current=100, low=1, high=10_000) for k in curves}
    amounts = reallocate(curves, bounds, step=1)
    assert sum(amounts.values()) == 200 and amounts["cheap"] > 100 > amounts["dear"]
    # Optimum: 40*100/(x+100)^2 = 10*100/(200-x+100)^2  ->  x + 100 = 2 (300 - x)  ->  x = 500/3.
    assert amounts["cheap"] == pytest.approx(500 / 3, abs=1)
    mcpa = [curves[k].marginal_cpa(amounts[k]) for k in curves]
    assert mcpa[0] == pytest.approx(mcpa[1], rel=0.03)
    before = sum(c.conversions(100) for c in curves.values())
    assert sum(curves[k].conversions(amounts[k]) for k in curves) > before


def test_bounds_stop_the_move_short() -> None:
    curves = {"cheap": curve("cheap", 40.0, 100.0), "dear": curve("dear", 10.0, 100.0)}
    bounds = {k: Bounds(current=100, low=80, high=120) for k in curves}
    assert reallocate(curves, bounds, step=1) == {"cheap": 120, "dear": 80}


def test_bounds_must_hold_the_current_amount() -> None:
    with pytest.raises(ValueError, match="outside"):
        Bounds(current=100, low=110, high=120)


@st.composite
def allocation_problems(draw: st.DrawFn) -> tuple[dict[str, ResponseCurve], dict[str, Bounds], int]:
    step = draw(st.sampled_from([1, 100, 1_000_000]))
    n = draw(st.integers(2, 6))
    curves, bounds = {}, {}
    for i in range(n):
        key = f"b{i}"
        current = draw(st.integers(5, 500)) * step + draw(st.integers(0, step - 1))
        half = current * draw(st.floats(0.1, 5.0))
        curves[key] = curve(key, draw(st.floats(0.0, 200.0)), half)
        share = draw(st.floats(0.0, 0.5))
        bounds[key] = Bounds(
            current=current, low=math.ceil(current * (1 - share)), high=math.floor(current * (1 + share))
        )
    return curves, bounds, step


@PROPERTIES
@given(allocation_problems())
def test_reallocation_stays_in_bounds_and_never_raises_the_total(
    problem: tuple[dict[str, ResponseCurve], dict[str, Bounds], int],
) -> None:
    curves, bounds, step = problem
    amounts = reallocate(curves, bounds, step=step)
    assert set(amounts) == set(bounds)
    total = sum(b.current for b in bounds.values())
    assert total - len(bounds) * step <= sum(amounts.values()) <= total
    for key, amount in amounts.items():
        assert bounds[key].low <= amount <= bounds[key].high, key
