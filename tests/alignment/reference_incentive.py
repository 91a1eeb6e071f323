"""Reference: the incentive LP as it was solved before (every row stated, scipy linprog). Tests compare
the product (optimizer.alignment.incentive) with it on random instances; not used by the product.

The LP is the one stated in optimizer.alignment.incentive's docstring; the pay per hour it is built
from (`pay_per_hour`) and the curve's slopes are the product's, since the rows and the LP are what is compared.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from models.dataset import Plan
from optimizer.parameters import Parameters
from optimizer.alignment.payout import Curve
from optimizer.alignment.incentive import IncentiveResult, curve_slopes, pay_per_hour  # shared: the LP is what is compared
from optimizer.solve import INFEASIBLE, OPTIMAL, linprog_status

logger = logging.getLogger(__name__)

COVER = 0.5  # least weight share a rep must have targets on (soft, heavily penalized)


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
) -> IncentiveResult:
    """Solve the §4.4 incentive LP for the components of `plan` (targets cascaded from `planned`).

    `planned` is the plan LP's orders as an (R, P, T) array over all periods; `plan` carries the
    candidate components, the curve and the targets; `in_force` the weights in force (None when no
    plan is in force: then there is no change limit). `epsilon` is the strict margin as a share of
    the rep's pay at target per selling hour (ε·tvp[r]/H[r,t] money per hour), so that it means
    the same for a rep paid 100 a month and one paid 10,000.
    """
    ids = plan.component_ids
    K = len(ids)
    open_t = params.open_index
    o_star = planned[:, :, open_t]
    h = params.hours_per_order()[:, :, open_t]
    cap = params.order_cap()[:, :, open_t]
    effort = params.felt_effort()[:, :, open_t]
    margin = params.rep_view(params.margin)[:, :, open_t]
    R, P, T = o_star.shape
    s_minus, s_plus = curve_slopes(Curve.from_frame(plan.curve))
    tvp = params.target_variable_pay

    per_hour, has_target = pay_per_hour(params, plan)  # tvp·c_kp/(T_k·h_p) (R, K, P, T), and (R, K, T)
    effort_per_hour = effort / h
    margin_per_hour = margin / h

    rows_val: list[np.ndarray] = []
    rhs: list[float] = []
    money: list[float] = []
    used = (h * o_star).sum(axis=1)  # (R, T)
    hours = params.hours_available[:, open_t]
    for r in range(R):
        for t in range(T):
            k_mask = has_target[r, :, t].astype(float)  # W_r = Σ_k k_mask·ω_k
            strict = epsilon * tvp[r] / max(hours[r, t], 1e-9)  # ε in money per hour
            if not k_mask.any():
                continue
            planned_p = np.flatnonzero(o_star[r, :, t] > 1e-9)
            open_q = np.flatnonzero((cap[r, :, t] - o_star[r, :, t] > 1e-9) & (cap[r, :, t] > 0))
            for p in planned_p:
                for q in open_q:
                    if q == p:
                        continue
                    # W·[gain(q)/h_q − loss(p)/h_p] + ε·W ≤ viol, with gain/loss per hour as above
                    # Per component, the net change of its metric per hour moved from p to q: above
                    # the target it pays at s⁺, below at s⁻ (a component holding both p and q only
                    # changes by the difference — the within-group substitution a rep can make).
                    shift = per_hour[r, :, q, t] - per_hour[r, :, p, t]
                    coef = np.where(shift > 0, s_plus * shift, s_minus * shift) \
                        + k_mask * (-effort_per_hour[r, q, t] + effort_per_hour[r, p, t] + strict)
                    movable = min(o_star[r, p, t] * h[r, p, t], (cap[r, q, t] - o_star[r, q, t]) * h[r, q, t])
                    stake = max(margin_per_hour[r, p, t] - margin_per_hour[r, q, t], 0.0) * movable
                    rows_val.append(coef)
                    rhs.append(0.0)
                    money.append(stake + 1e-6)
            if hours[r, t] - used[r, t] > 1e-6:
                spare = hours[r, t] - used[r, t]
                for q in open_q:
                    coef = s_plus * per_hour[r, :, q, t] + k_mask * (-effort_per_hour[r, q, t] + strict)
                    extra = min(spare, (cap[r, q, t] - o_star[r, q, t]) * h[r, q, t])
                    rows_val.append(coef)
                    rhs.append(0.0)
                    money.append(max(margin_per_hour[r, q, t], 0.0) * extra + 1e-6)  # margin other reps lose to scaling
    # Coverage: W_r ≥ COVER for every (rep, period) with planned orders, else weight could flee to
    # components the rep has no target on (W_r → 0 satisfies every row trivially: the trap again).
    cover_rows = [has_target[r, :, t].astype(float) for r in range(R) for t in range(T)
                  if has_target[r, :, t].any() and o_star[r, :, t].sum() > 1e-9]
    n_rows = len(rows_val)
    n_cover = len(cover_rows)
    in_force = in_force or {}
    w0 = np.array([in_force.get(k, 0.0) for k in ids])
    lo = np.array([(lower or {}).get(k, 0.0) for k in ids])
    hi = np.array([(upper or {}).get(k, 1.0) for k in ids])
    limited = bool(in_force)
    if limited:
        lo_eff = np.maximum(lo, w0 - max_weight_change)
        hi_eff = np.minimum(hi, w0 + max_weight_change)
    else:
        lo_eff, hi_eff = lo, hi
    if np.any(lo_eff > hi_eff + 1e-12) or lo_eff.sum() > 1 + 1e-9 or hi_eff.sum() < 1 - 1e-9:
        return IncentiveResult(status=INFEASIBLE, weights=dict(zip(ids, w0)), rows=n_rows)

    # Variables: ω (K), viol (n_rows), up/down change (K each), coverage shortfall (n_cover).
    money_arr = np.array(money)
    scale = money_arr.max() if n_rows else 1.0
    c = np.concatenate([np.zeros(K), money_arr / scale, np.full(2 * K, change_weight), np.full(n_cover, 100.0)])
    blocks, b_parts = [], []
    if n_rows:
        blocks.append(sp.hstack([sp.csr_matrix(np.vstack(rows_val)), -sp.identity(n_rows, format="csr"),
                                 sp.csr_matrix((n_rows, 2 * K + n_cover))], format="csr"))
        b_parts.append(np.array(rhs))
    if n_cover:  # −W_r − shortfall ≤ −COVER
        blocks.append(sp.hstack([sp.csr_matrix(-np.vstack(cover_rows)), sp.csr_matrix((n_cover, n_rows + 2 * K)),
                                 -sp.identity(n_cover, format="csr")], format="csr"))
        b_parts.append(np.full(n_cover, -COVER))
    A_ub = sp.vstack(blocks, format="csr") if blocks else None
    b_ub = np.concatenate(b_parts) if b_parts else None
    eq_sum = sp.hstack([sp.csr_matrix(np.ones((1, K))), sp.csr_matrix((1, n_rows + 2 * K + n_cover))])
    eq_change = sp.hstack([sp.identity(K), sp.csr_matrix((K, n_rows)), -sp.identity(K), sp.identity(K),
                           sp.csr_matrix((K, n_cover))])
    A_eq = sp.vstack([eq_sum, eq_change], format="csr")
    b_eq = np.concatenate([[1.0], w0])
    bounds = [(lo_eff[i], hi_eff[i]) for i in range(K)] + [(0, None)] * (n_rows + 2 * K + n_cover)
    result = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, bounds=bounds, method="highs")
    status = linprog_status(result)
    if status != OPTIMAL:
        logger.warning("incentive LP ended with %s: %s", status, result.message)
        return IncentiveResult(status=status, weights=dict(zip(ids, w0)), rows=n_rows)
    omega = np.clip(result.x[:K], 0.0, None)
    omega = omega / omega.sum()
    viol = result.x[K:K + n_rows]
    binding = ["sum_to_one"]
    if np.any((np.abs(omega - lo) < 1e-7) & (lo > 0)) or np.any(np.abs(omega - hi) < 1e-7):
        binding.append("bounds")
    if limited and np.any(np.abs(np.abs(omega - w0) - max_weight_change) < 1e-7):
        binding.append("change_limit")
    return IncentiveResult(
        status=OPTIMAL, weights={k: float(w) for k, w in zip(ids, omega)}, binding=binding,
        violation_money=float(money_arr @ viol) if n_rows else 0.0, rows=n_rows,
        aligned_share=float(np.mean(viol < 1e-7)) if n_rows else 1.0,
    )
