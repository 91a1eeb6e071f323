"""The payout calculator (DESIGN.md §4.3): what each rep is paid under a plan, exactly.

    pay[r,t] = target_variable_pay[r] · Σ_{k∈K_r} (ω[k]/W_r) · f(metric_k / T[r,k,t])

K_r are the components whose target for the rep and period is > 0, W_r = Σ_{k∈K_r} ω[k] (so the
weight of a component without a target is spread over the others), and f is the piecewise-linear
payout curve, flat after its last point (the cap). metric_k is linear in the rep's orders (see
`optimizer.cascade.component_metrics`). Every intermediate figure is returned so that a rep or an
auditor can reproduce the pay by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.dataset import Plan
from optimizer.cascade import component_metrics, orders_array
from optimizer.parameters import Parameters


def payout_curve(curve: pd.DataFrame):
    """f(attainment): linear between the curve's points, flat after the last point."""
    xs = curve["attainment"].to_numpy(float)
    ys = curve["payout"].to_numpy(float)

    def f(attainment):
        return np.interp(attainment, xs, ys, left=ys[0], right=ys[-1])

    return f


def target_grid(params: Parameters, plan: Plan) -> dict[str, np.ndarray]:
    """T[r,k,t] as one (R, T) array per component (0 where the plan sets no target)."""
    ri = {r: i for i, r in enumerate(params.reps)}
    ti = {t: i for i, t in enumerate(params.periods)}
    out = {k: np.zeros((len(params.reps), len(params.periods))) for k in plan.component_ids}
    for k, frame in plan.targets.groupby("component_id", sort=False):
        out[k][frame["rep_id"].map(ri).to_numpy(), frame["period"].map(ti).to_numpy()] = frame["target"].to_numpy(float)
    return out


def pay_by_component(params: Parameters, plan: Plan, grid: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """Every figure of §4.3 per component, each an (R, T) array, for orders on the (R, P, T) grid.

    Keys: metric, target, attainment (NaN without a target), curve_payout, effective_weight (ω/W_r)
    and pay (the money the component pays).
    """
    metrics = component_metrics(params, grid, plan)
    targets = target_grid(params, plan)
    f = payout_curve(plan.curve)
    weights = plan.weights
    has_target = {k: targets[k] > 0 for k in plan.component_ids}
    total_weight = sum(weights[k] * has_target[k] for k in plan.component_ids)  # W_r per (r, t)
    tvp = params.target_variable_pay[:, None]
    out = {}
    for k in plan.component_ids:
        with np.errstate(divide="ignore", invalid="ignore"):
            attainment = np.where(has_target[k], metrics[k] / np.where(has_target[k], targets[k], 1.0), np.nan)
            share = np.where(has_target[k] & (total_weight > 0),
                             weights[k] / np.where(total_weight > 0, total_weight, 1.0), 0.0)
        payout = np.where(has_target[k], f(np.nan_to_num(attainment)), 0.0)
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
