"""The payout calculator (DESIGN.md §4.3): what each rep is paid under a plan, exactly.

    pay[r,t] = target_variable_pay[r] · Σ_{k∈K_r} (ω[k]/W_r) · f(metric_k / T[r,k,t])

K_r are the components whose target for the rep and period is > 0, W_r = Σ_{k∈K_r} ω[k] (so the
weight of a component without a target is spread over the others), and f is the piecewise-linear
payout curve, flat after its last point (the cap). metric_k is linear in the rep's orders (see
`optimizer.plan.cascade.component_metrics`). Every intermediate figure is returned so that a rep or an
auditor can reproduce the pay by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from models.dataset import Plan
from optimizer.plan.cascade import component_metrics, orders_array, target_grid
from optimizer.parameters import Parameters


@dataclass(frozen=True)
class Curve:
    """The payout curve f: breakpoints x_0 = 0 < … < x_n with values y, linear between, flat after x_n.

    The one definition of f: the payout calculator evaluates it, the response model (§4.5) reads its
    segments, the incentive LP (§4.4) its slopes around attainment 1.
    """

    x: np.ndarray
    y: np.ndarray

    @classmethod
    def from_frame(cls, curve: pd.DataFrame) -> "Curve":
        return cls(curve["attainment"].to_numpy(float), curve["payout"].to_numpy(float))

    # cached: the simulator asks for these once per rep, period and component
    @cached_property
    def slopes(self) -> np.ndarray:
        return np.diff(self.y) / np.diff(self.x)

    @cached_property
    def lengths(self) -> np.ndarray:
        return np.diff(self.x)

    @cached_property
    def is_concave(self) -> bool:
        """Slopes non-increasing, the last one ≥ 0 (the flat tail keeps it concave), f(0) = 0."""
        slopes = np.append(self.slopes, 0.0)
        return bool(self.y[0] == 0.0 and np.all(np.diff(slopes) <= 1e-12))

    def __call__(self, attainment):
        return np.interp(attainment, self.x, self.y, left=self.y[0], right=self.y[-1])


# No plan in force: one linear curve, capped at 200 % attainment.
DEFAULT_CURVE = ((0.0, 0.0), (1.0, 1.0), (2.0, 2.0))


def default_curve() -> pd.DataFrame:
    """The payout curve table used when no plan is in force (DEFAULT_CURVE)."""
    return pd.DataFrame(DEFAULT_CURVE, columns=["attainment", "payout"])


def has_target(target: np.ndarray) -> np.ndarray:
    """Where a component counts for a rep and period: its target is > 0 (K_r of §4.3)."""
    return target > 0


def weight_shares(weights: np.ndarray, counted: np.ndarray) -> np.ndarray:
    """ω[k]/W_r with W_r = Σ_{k∈K_r} ω[k], 0 outside K_r and where W_r = 0.

    `weights` (K,) in component order; `counted` a boolean array with the components on axis 0
    (K, ...), e.g. `has_target` of each component's targets. Returns the shares, shaped like `counted`.
    """
    w = np.asarray(weights, dtype=float).reshape((-1,) + (1,) * (counted.ndim - 1))
    total = (w * counted).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(counted & (total > 0), w / np.where(total > 0, total, 1.0), 0.0)


def pay_by_component(params: Parameters, plan: Plan, grid: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """Every figure of §4.3 per component, each an (R, T) array, for orders on the (R, P, T) grid.

    Keys: metric, target, attainment (NaN without a target), curve_payout, effective_weight (ω/W_r)
    and pay (the money the component pays).
    """
    metrics = component_metrics(params, grid, plan)
    targets = target_grid(params, plan)
    f = Curve.from_frame(plan.curve)
    ids = plan.component_ids
    counted = {k: has_target(targets[k]) for k in ids}
    shares = weight_shares(np.array([plan.weights[k] for k in ids]), np.stack([counted[k] for k in ids])) \
        if ids else np.zeros((0,) + (len(params.reps), len(params.periods)))
    tvp = params.target_variable_pay[:, None]
    out = {}
    for ki, k in enumerate(ids):
        with np.errstate(divide="ignore", invalid="ignore"):
            attainment = np.where(counted[k], metrics[k] / np.where(counted[k], targets[k], 1.0), np.nan)
        share = shares[ki]
        payout = np.where(counted[k], f(np.nan_to_num(attainment)), 0.0)
        out[k] = {"metric": metrics[k], "target": targets[k], "attainment": attainment, "curve_payout": payout,
                  "effective_weight": share, "pay": tvp * share * payout}
    return out


def pay_grid(params: Parameters, plan: Plan, grid: np.ndarray) -> np.ndarray:
    """pay[r,t] (R, T) for orders on the (R, P, T) grid."""
    total = np.zeros((len(params.reps), len(params.periods)))
    for figures in pay_by_component(params, plan, grid).values():
        total += figures["pay"]
    return total


def pay(params: Parameters, plan: Plan, outcomes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pay per rep and period for outcome orders under a plan.

    `outcomes` has columns rep_id, product_id, period, orders. Returns (pay, detail): `pay` has
    rep_id, period, target_variable_pay, pay; `detail` has per rep, period and component the
    metric, target, attainment, curve payout f, effective weight ω/W_r and the money it pays.
    Rep-periods without outcome rows are included (they may still earn nothing or a floor).
    """
    grid = orders_array(params, outcomes)
    n_reps, n_periods = len(params.reps), len(params.periods)
    reps, periods = np.repeat(params.reps, n_periods), np.tile(params.periods, n_reps)
    components = pay_by_component(params, plan, grid)
    details = [
        pd.DataFrame({"rep_id": reps, "period": periods, "component_id": k,
                      **{name: figures[name].ravel() for name in
                         ("metric", "target", "attainment", "curve_payout", "effective_weight", "pay")}})
        for k, figures in components.items()
    ]
    total = sum(figures["pay"] for figures in components.values())
    summary = pd.DataFrame({
        "rep_id": reps,
        "period": periods,
        "target_variable_pay": np.repeat(params.target_variable_pay, n_periods),
        "pay": np.asarray(total).ravel() if components else np.zeros(n_reps * n_periods),
    })
    return summary, pd.concat(details, ignore_index=True)
