"""Response curves (daily spend -> conversions) per budget, and reallocation on marginal return.

The curve is a saturating Hill curve with slope 1 (Michaelis-Menten): conversions(s) = vmax * s / (s + half).
It is concave, so spend is best split where every budget's marginal return is equal (water-filling).

Fitting, in each budget's own scale (x = spend / mean spend, y = conversions / mean conversions):
- the account's shape: y = (1 + rho) * x / (x + rho) over every budget's days pooled. rho is the
  half-saturation spend relative to today's; marginal CPA at today's spend is (1 + rho) / rho times the
  average CPA. A few pseudo-days at DEFAULT_RHO keep it defined when no budget's spend ever moved;
- each budget: y = v * x / (x + rho_b), fitted by `scipy.optimize.curve_fit` on its own days plus
  PRIOR_DAYS pseudo-days drawn from the account's curve. With few days (or a spend that never moved)
  the account's shape dominates; with many varied days, the budget's own data do.

Uncertainty: the same curve refitted on the budget's own days alone, by its level and elasticity at the mean
spend, gives `own_covariance`. Draws centre on the shrunk fit but spread as the own days allow: the prior's
pseudo-days never narrow them. A spend that never moved leaves the shape undetermined (no covariance): no draws.

Money is in the account's unit throughout; conversions may be conversion value instead.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from scipy.optimize import OptimizeWarning, brentq, curve_fit

# Marginal CPA = 2 x average CPA at today's spend: a common search-account rule of thumb, used only
# as a weak prior for the account's shape.
DEFAULT_RHO = 1.0
ACCOUNT_PRIOR_DAYS = 7
PRIOR_DAYS = 14
RHO_BOUNDS = (0.05, 20.0)
# Pseudo-days are spread over the spends a reallocation may reach.
PRIOR_GRID = np.linspace(0.5, 1.5, 11)

CurveSource = Literal["fit", "no_conversions"]


class ResponseCurve(BaseModel):
    """conversions a day = vmax * spend / (spend + half_saturation); spend in the account's money unit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    vmax: float = Field(ge=0)
    half_saturation: float = Field(gt=0)
    days: int = Field(description="Days with spend the fit used.")
    mean_spend: float
    mean_conversions: float
    r_squared: float | None = Field(description="On the budget's own days; None when they do not vary.")
    spend_variation: float = Field(description="Coefficient of variation of daily spend: how much the data say.")
    prior_weight: float = Field(ge=0, le=1, description="Share of the fit that is the account's curve.")
    source: CurveSource
    own_covariance: tuple[tuple[float, float], tuple[float, float]] | None = Field(
        default=None,
        description="Covariance of (level, elasticity) at the mean spend, fitted on the budget's own days alone; "
        "None when they do not determine the curve's shape.",
    )

    def draws(self, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray] | None:
        """`count` (vmax, half_saturation) pairs from the fit's uncertainty, or None without an own covariance."""
        if self.own_covariance is None or self.mean_conversions <= 0:
            return None
        rho = self.half_saturation / self.mean_spend
        centre = [self.vmax / self.mean_conversions / (1 + rho), rho / (1 + rho)]
        level, elasticity = rng.multivariate_normal(centre, np.array(self.own_covariance), size=count).T
        # Down to 0 (flat: more money buys nothing), which the data may not rule out; up to the fit's bound.
        elasticity = np.clip(elasticity, 0.0, RHO_BOUNDS[1] / (1 + RHO_BOUNDS[1]))
        rho_drawn = elasticity / (1 - elasticity)
        vmax = np.maximum(level, 0.0) * (1 + rho_drawn) * self.mean_conversions
        return vmax, rho_drawn * self.mean_spend

    def conversions(self, spend: float) -> float:
        return self.vmax * spend / (spend + self.half_saturation)

    def marginal(self, spend: float) -> float:
        """Conversions per extra unit of money at `spend`."""
        return self.vmax * self.half_saturation / (spend + self.half_saturation) ** 2

    def marginal_cpa(self, spend: float) -> float | None:
        """Cost of the next conversion at `spend`; None when the curve has no conversions at all."""
        marginal = self.marginal(spend)
        return 1 / marginal if marginal > 0 else None

    def spend_at_marginal(self, marginal: float) -> float:
        """The spend where the marginal return falls to `marginal` (0 when it is below that already at 0)."""
        if self.vmax <= 0:
            return 0.0
        if marginal <= 0:
            return math.inf
        return max(math.sqrt(self.vmax * self.half_saturation / marginal) - self.half_saturation, 0.0)


class CurvePoint(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    spend: int
    conversions: float


class ResponseCurves(BaseModel):
    """Every budget's curve and the account's relative shape they were shrunk towards."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account_rho: float
    account_days: int
    curves: dict[str, ResponseCurve]


def _relative_hill(x: np.ndarray, rho: float) -> np.ndarray:
    return (1 + rho) * x / (x + rho)


def _hill(x: np.ndarray, v: float, rho: float) -> np.ndarray:
    return v * x / (x + rho)


def fit_response_curves(daily: pd.DataFrame, *, outcome: str = "conversions") -> ResponseCurves:
    """Curves per `key` from one row per key and day with `cost` and `outcome` (days without spend are dropped)."""
    daily = daily.loc[daily["cost"] > 0, ["key", "cost", outcome]]
    groups = {str(key): frame for key, frame in daily.groupby("key", sort=True)}
    pooled_x, pooled_y = [], []
    for frame in groups.values():
        mean_y = frame[outcome].mean()
        if mean_y > 0:
            pooled_x.append(frame["cost"].to_numpy(float) / frame["cost"].mean())
            pooled_y.append(frame[outcome].to_numpy(float) / mean_y)
    x = np.concatenate([*pooled_x, PRIOR_GRID])
    y = np.concatenate([*pooled_y, _relative_hill(PRIOR_GRID, DEFAULT_RHO)])
    sigma = np.concatenate(
        [np.ones(len(x) - len(PRIOR_GRID)), np.full(len(PRIOR_GRID), _prior_sigma(ACCOUNT_PRIOR_DAYS))]
    )
    (account_rho,), _ = curve_fit(
        _relative_hill, x, y, p0=[DEFAULT_RHO], sigma=sigma, bounds=([RHO_BOUNDS[0]], [RHO_BOUNDS[1]])
    )
    curves = {key: _fit_one(key, frame, outcome, float(account_rho)) for key, frame in groups.items()}
    return ResponseCurves(account_rho=float(account_rho), account_days=sum(map(len, pooled_x)), curves=curves)


def _level_elasticity(x: np.ndarray, a: float, e: float) -> np.ndarray:
    # The same curve by what a budget's days pin down: a = conversions at today's spend, e = the elasticity there
    # (rho = e / (1 - e)); e = 1 is linear, e = 0 flat. Unlike (v, rho) it stays finite for a linear response.
    return a * x / (e + (1 - e) * x)


def _own_covariance(
    x: np.ndarray, y: np.ndarray, v: float, rho: float
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Covariance of (level, elasticity) on the budget's own days, residual variance from those days; None when
    the days cannot determine both (spend never varied, too few days, or a fit that does not converge)."""
    if len(x) < 3 or np.ptp(x) == 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)  # an undetermined covariance comes back as inf: checked
        try:
            _, covariance = curve_fit(_level_elasticity, x, y, p0=[v / (1 + rho), rho / (1 + rho)], maxfev=2000)
        except RuntimeError:
            return None
    # Not finite or not positive definite (numerically): the days do not pin both parameters down.
    if not np.all(np.isfinite(covariance)) or np.any(np.linalg.eigvalsh(covariance) <= 0):
        return None
    (a, b), (c, d) = covariance
    return (float(a), float(b)), (float(c), float(d))


def _prior_sigma(days: int) -> float:
    # len(PRIOR_GRID) pseudo-points with this sigma weigh as much as `days` real days.
    return math.sqrt(len(PRIOR_GRID) / days)


def _fit_one(key: str, frame: pd.DataFrame, outcome: str, account_rho: float) -> ResponseCurve:
    spend = frame["cost"].to_numpy(float)
    result = frame[outcome].to_numpy(float)
    mean_spend, mean_result = float(spend.mean()), float(result.mean())
    variation = float(spend.std() / mean_spend) if len(spend) > 1 else 0.0
    prior_weight = PRIOR_DAYS / (PRIOR_DAYS + len(spend))
    if mean_result <= 0:
        return ResponseCurve(
            key=key,
            vmax=0.0,
            half_saturation=account_rho * mean_spend,
            days=len(spend),
            mean_spend=mean_spend,
            mean_conversions=0.0,
            r_squared=None,
            spend_variation=variation,
            prior_weight=prior_weight,
            source="no_conversions",
        )
    x = np.concatenate([spend / mean_spend, PRIOR_GRID])
    y = np.concatenate([result / mean_result, _relative_hill(PRIOR_GRID, account_rho)])
    sigma = np.concatenate([np.ones(len(spend)), np.full(len(PRIOR_GRID), _prior_sigma(PRIOR_DAYS))])
    (v, rho), _ = curve_fit(
        _hill,
        x,
        y,
        p0=[1 + account_rho, account_rho],
        sigma=sigma,
        bounds=([1e-6, RHO_BOUNDS[0]], [np.inf, RHO_BOUNDS[1]]),
    )
    own_y = result / mean_result
    residual = float(np.sum((own_y - _hill(spend / mean_spend, v, rho)) ** 2))
    total = float(np.sum((own_y - own_y.mean()) ** 2))
    return ResponseCurve(
        key=key,
        vmax=float(v) * mean_result,
        half_saturation=float(rho) * mean_spend,
        days=len(spend),
        mean_spend=mean_spend,
        mean_conversions=mean_result,
        r_squared=round(1 - residual / total, 4) if total > 0 else None,
        spend_variation=round(variation, 4),
        prior_weight=round(prior_weight, 4),
        source="fit",
        own_covariance=_own_covariance(spend / mean_spend, own_y, float(v), float(rho)),
    )


def curve_points(curve: ResponseCurve, up_to: float, *, points: int = 21) -> list[CurvePoint]:
    """The curve from no spend to `up_to`, for a chart."""
    return [
        CurvePoint(spend=round(s), conversions=round(curve.conversions(s), 4))
        for s in np.linspace(0.0, max(up_to, 1.0), points)
    ]


class Bounds(BaseModel):
    """Where one budget may go in a reallocation: low <= new <= high, and current within them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    current: int = Field(gt=0)
    low: int = Field(ge=0)
    high: int

    def model_post_init(self, context: object) -> None:
        if not self.low <= self.current <= self.high:
            raise ValueError(f"current {self.current} outside [{self.low}, {self.high}]")


def reallocate(
    curves: Mapping[str, ResponseCurve], bounds: Mapping[str, Bounds], *, step: int, total: int | None = None
) -> dict[str, int]:
    """New daily amounts for the budgets in `bounds`, at `total` (default: their current total), that equalise
    marginal returns as far as the bounds allow. Amounts are multiples of `step` (the platform's smallest
    amount, e.g. a cent) where they move; the sum never rises above `total` and falls short of it by less than
    one step per budget (unless the bounds cannot hold it). Budgets whose curve returns nothing keep their low
    bound, unless the others cannot take the total."""
    total = sum(b.current for b in bounds.values()) if total is None else total
    returning = {k for k, b in bounds.items() if curves[k].marginal(b.current) > 0}

    def spend_at(marginal: float) -> dict[str, float]:
        return {
            key: min(max(curves[key].spend_at_marginal(marginal), b.low), b.high) if key in returning else b.low
            for key, b in bounds.items()
        }

    def excess(log_marginal: float) -> float:
        return sum(spend_at(math.exp(log_marginal)).values()) - total

    if not returning:
        return {key: b.current for key, b in bounds.items()}
    marginals = [curves[k].marginal(bounds[k].current) for k in returning]
    low_end, high_end = math.log(min(marginals)) - 30, math.log(max(marginals)) + 30
    if excess(low_end) <= 0:  # the returning budgets at their high bounds: the rest goes where there is room
        target = spend_at(math.exp(low_end))
        for key, bound in bounds.items():
            room = min(bound.high - target[key], total - sum(target.values()))
            target[key] += max(room, 0)
    elif excess(high_end) >= 0:
        target = spend_at(math.exp(high_end))
    else:
        target = spend_at(math.exp(brentq(excess, low_end, high_end, xtol=1e-12)))
    return _round_keeping_total(target, bounds, step, total)


def _round_keeping_total(
    target: dict[str, float], bounds: Mapping[str, Bounds], step: int, total: int
) -> dict[str, int]:
    """Moved budgets on whole steps within their bounds, the others as they are, summing to at most `total`
    and within one step per budget of it."""
    inner = {k: (math.ceil(b.low / step) * step, math.floor(b.high / step) * step) for k, b in bounds.items()}
    movable = {k for k, v in target.items() if inner[k][0] <= inner[k][1] and abs(v - bounds[k].current) >= step / 2}
    rounded = {
        k: min(max(math.floor(v / step) * step, inner[k][0]), inner[k][1]) if k in movable else bounds[k].current
        for k, v in target.items()
    }
    while sum(rounded.values()) > total and movable:
        down = [k for k in movable if rounded[k] - step >= inner[k][0]]
        if down:
            key = max(down, key=lambda k: rounded[k] - target[k])
            rounded[key] -= step
        else:  # no room below: the largest increase goes back to where it was
            key = max(movable, key=lambda k: rounded[k] - bounds[k].current)
            rounded[key] = bounds[key].current
            movable.discard(key)
    while True:
        up = [k for k in movable if rounded[k] + step <= inner[k][1]]
        if total - sum(rounded.values()) < step or not up:
            return rounded
        key = max(up, key=lambda k: target[k] - rounded[k])
        rounded[key] += step


__all__ = [
    "Bounds",
    "CurvePoint",
    "ResponseCurve",
    "ResponseCurves",
    "curve_points",
    "fit_response_curves",
    "reallocate",
]
