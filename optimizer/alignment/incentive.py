"""The incentive LP of DESIGN.md §4.4: component weights that make the planned mix each rep's choice.

Inverse linear optimization (Ahuja & Orlin 2001). With targets cascaded from the plan LP, every
component sits at attainment 1 at the planned orders o*, so near o* a rep's pay is linear in the
orders with the curve's slope on each side of 1 (s⁻ when a metric falls, s⁺ when it rises). For
rep r, open period t, a planned product p (o*_p > 0) and an alternative q (o*_q below its cap),
moving one selling hour from p to q must not pay:

    gain(q)/h_q − loss(p)/h_p ≤ −ε·tvp/H + viol[r,t,p,q],  viol ≥ 0
    gain(q) = Σ_k ω̃_k·tvp·s⁺·c_kq/T_k − e_q,   loss(p) = Σ_k ω̃_k·tvp·s⁻·c_kp/T_k − e_p

and, where the plan leaves selling hours unused, one more order of q must not pay either
(gain(q)/h_q ≤ −ε·tvp/H + viol). ω̃_k = ω_k/W_r is the weight share among the rep's components with a
target; multiplying a row by W_r = Σ_{k∈K_r} ω_k keeps it linear (and ε·W_r is the strict margin).
The violations are weighted by the money at stake: the margin per hour the company loses by the
swap times the hours the rep could move. Subject to

    Σ_k ω_k = 1,   lower_k ≤ ω_k ≤ upper_k,   |ω_k − ω0_k| ≤ max_weight_change (a plan in force,
    ω0 = 0 for a candidate not in force),

every rep with planned orders keeps at least half the weight on components they have a target on
(W_r ≥ 0.5, soft), and the LP minimizes Σ money·viol + change_weight·Σ|ω − ω0| (the L1 distance keeps the answer close to
the plan in force among equally aligned weightings). The budget acts on the pay level, not on the
weights (at the cascaded targets every rep is paid tvp·f(1) whatever ω), so it is applied by
`optimizer.alignment.recommend` to the curve; see docs/alignment.md.

The LP is linearized at o*: it cannot see a rep who jumps far from the plan (an accelerating curve
rewards concentrating on one component). The exact simulation of §4.5 is the judge, and
`optimizer.alignment.recommend` keeps the weighting the simulation scores best.

How it is solved at any size (rows built with numpy, sparse, by cutting planes per rep):
`optimizer.alignment.incentive_lp`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from models.dataset import Plan
from optimizer.plan.cascade import component_coefficients, target_grid
from optimizer.parameters import Parameters
from optimizer.alignment.payout import Curve
from optimizer.alignment.payout import has_target as counts_as_target
from optimizer.alignment.incentive_lp import IncentiveRows, incentive_rows, solve_weights
from optimizer.solve import INFEASIBLE, OPTIMAL

logger = logging.getLogger(__name__)

COVER = 0.5  # least weight share a rep must have targets on (soft, heavily penalized)


@dataclass
class IncentiveResult:
    """Weights chosen by the incentive LP, with what binds and how much misalignment remains."""

    status: str
    weights: dict[str, float]
    binding: list[str] = field(default_factory=list)  # of sum_to_one, bounds, change_limit
    violation_money: float | None = None  # Σ money·viol at the optimum
    rows: int = 0
    aligned_share: float | None = None  # share of the (rep, period, p, q) conditions met without violation


def curve_slopes(curve: Curve, at: float = 1.0) -> tuple[float, float]:
    """(s⁻, s⁺): the curve's slope just left and just right of `at` (0 on the flat tail)."""
    x, slopes = curve.x, curve.slopes
    left = right = 0.0
    for j in range(len(slopes)):
        if x[j] < at <= x[j + 1] + 1e-12:
            left = float(slopes[j])
        if x[j] - 1e-12 <= at < x[j + 1]:
            right = float(slopes[j])
    return left, right


def incentive_weights(
    params: Parameters,
    plan: Plan,
    planned: np.ndarray,
    *,
    in_force: dict[str, float] | None,
    max_weight_change: float,
    epsilon: float = 0.05,
    lower: dict[str, float] | None = None,
    upper: dict[str, float] | None = None,
    change_weight: float = 1e-3,
    rows: IncentiveRows | None = None,
) -> IncentiveResult:
    """Solve the §4.4 incentive LP for the components of `plan` (targets cascaded from `planned`).

    `planned` is the plan LP's orders as an (R, P, T) array over all periods; `plan` carries the
    candidate components, the curve and the targets; `in_force` the weights in force (None when no
    plan is in force: then there is no change limit). `epsilon` is the strict margin as a share of
    the rep's pay at target per selling hour (ε·tvp[r]/H[r,t] money per hour), so that it means
    the same for a rep paid 100 a month and one paid 10,000. `rows`: this plan's rows at this
    `epsilon`, already built by `incentive_problem` (they do not depend on the bounds, so every
    component subset of one pool shares them).
    """
    ids = plan.component_ids
    w0 = np.array([(in_force or {}).get(k, 0.0) for k in ids])
    bounds = weight_bounds(ids, w0, bool(in_force), max_weight_change, lower, upper)
    rows = rows if rows is not None else incentive_problem(params, plan, planned, epsilon)
    if bounds is None:
        return IncentiveResult(status=INFEASIBLE, weights=dict(zip(ids, w0)), rows=rows.n)
    lo, hi = bounds
    solution = solve_weights(rows, cover_level=COVER, lower=lo, upper=hi, w0=w0, change_weight=change_weight)
    if solution.omega is None:
        logger.warning("incentive LP ended with %s", solution.status)
        return IncentiveResult(status=solution.status, weights=dict(zip(ids, w0)), rows=rows.n)
    omega = np.clip(solution.omega, 0.0, None)
    omega = omega / omega.sum()
    return IncentiveResult(
        status=OPTIMAL, weights={k: float(w) for k, w in zip(ids, omega)},
        binding=binding_constraints(omega, w0, lower_of(ids, lower), upper_of(ids, upper),
                                    bool(in_force), max_weight_change),
        violation_money=float(rows.money @ solution.violation), rows=rows.n,
        aligned_share=float(np.mean(solution.violation < 1e-7)) if rows.n else 1.0,
    )


def incentive_problem(params: Parameters, plan: Plan, planned: np.ndarray, epsilon: float = 0.05) -> IncentiveRows:
    """The LP's rows for the components, curve and targets of `plan` (see `incentive_weights`)."""
    return incentive_rows(**row_inputs(params, plan, planned, epsilon))


def pay_per_hour(params: Parameters, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """(per_hour (R, K, P, T), has_target (R, K, T)) over the open periods: tvp·c_kp/(T_k·h_p), the
    pay per selling hour of product p through component k at slope 1 and full weight."""
    ids = plan.component_ids
    open_t = params.open_index
    h = params.hours_per_order()[:, :, open_t]
    targets = target_grid(params, plan)
    coefficients = component_coefficients(params, plan)
    tvp = params.target_variable_pay
    R, P, T = h.shape
    per_hour = np.zeros((R, len(ids), P, T))
    has_target = np.zeros((R, len(ids), T), bool)
    for ki, k in enumerate(ids):
        target = targets[k][:, open_t]
        has_target[:, ki] = counts_as_target(target)
        safe = np.where(has_target[:, ki], target, 1.0)
        per_hour[:, ki] = np.where(has_target[:, ki][:, None, :],
                                   tvp[:, None, None] * coefficients[k][:, :, open_t] / safe[:, None, :] / h, 0.0)
    return per_hour, has_target


def row_inputs(params: Parameters, plan: Plan, planned: np.ndarray, epsilon: float) -> dict:
    """The arrays `incentive_rows` builds the LP's rows from (open periods only)."""
    open_t = params.open_index
    h = params.hours_per_order()[:, :, open_t]
    hours = params.hours_available[:, open_t]
    per_hour, has_target = pay_per_hour(params, plan)
    return dict(
        per_hour=per_hour, has_target=has_target, planned=planned[:, :, open_t], hours_per_order=h,
        cap=params.order_cap()[:, :, open_t], effort_per_hour=params.felt_effort()[:, :, open_t] / h,
        margin_per_hour=params.rep_view(params.margin)[:, :, open_t] / h, hours=hours,
        strict=params.target_variable_pay[:, None] / np.maximum(hours, 1e-9), epsilon=epsilon,  # ε·tvp/H: money per hour
        slopes=curve_slopes(Curve.from_frame(plan.curve)),
    )


def lower_of(ids: list[str], lower: dict[str, float] | None) -> np.ndarray:
    return np.array([(lower or {}).get(k, 0.0) for k in ids])


def upper_of(ids: list[str], upper: dict[str, float] | None) -> np.ndarray:
    return np.array([(upper or {}).get(k, 1.0) for k in ids])


def weight_bounds(ids: list[str], w0: np.ndarray, limited: bool, max_weight_change: float,
                  lower: dict[str, float] | None, upper: dict[str, float] | None) -> tuple[np.ndarray, np.ndarray] | None:
    """(lo, hi) per weight: the bounds, narrowed to ω0 ± max_weight_change when a plan is in force;
    None when no weighting summing to 1 fits them."""
    lo, hi = lower_of(ids, lower), upper_of(ids, upper)
    if limited:
        lo, hi = np.maximum(lo, w0 - max_weight_change), np.minimum(hi, w0 + max_weight_change)
    if np.any(lo > hi + 1e-12) or lo.sum() > 1 + 1e-9 or hi.sum() < 1 - 1e-9:
        return None
    return lo, hi


def binding_constraints(omega: np.ndarray, w0: np.ndarray, lo: np.ndarray, hi: np.ndarray, limited: bool,
                        max_weight_change: float) -> list[str]:
    """Which of sum_to_one, bounds and change_limit hold with equality at the weights."""
    binding = ["sum_to_one"]
    if np.any((np.abs(omega - lo) < 1e-7) & (lo > 0)) or np.any(np.abs(omega - hi) < 1e-7):
        binding.append("bounds")
    if limited and np.any(np.abs(np.abs(omega - w0) - max_weight_change) < 1e-7):
        binding.append("change_limit")
    return binding
