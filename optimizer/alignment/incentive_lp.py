"""The incentive LP of DESIGN.md §4.4 at any size: rows built with numpy, solved through its dual.

`optimizer.alignment.incentive.incentive_weights` states the LP (see its docstring); this module
builds its rows and solves it exactly. The LP has one weight ω_k per candidate component and one
violation per (rep, period, planned product p, alternative q) row — O(R·T·P²) rows for a few dozen
weights. Each row is

    a_i·ω = d_i·ω + c_i·W_b(ω) ≤ viol_i,   W_b(ω) = Σ_{k∈K_b} ω_k   (b: the row's rep and period)

with d_i the per-component change of pay per hour moved from p to q (non-zero only on components
holding p or q: a sparse row) and c_i = e_p − e_q + ε the effort and strict margin per weight share.
Stating W_b once per (rep, period) keeps the matrix sparse.

Why the dual. The primal has a column per row (its violation) and a dense block of weight columns;
the simplex method walks through the rows one by one (tens of seconds at 35,000 rows). Its dual has
one row per weight and per (rep, period) — K + R·T rows — and a bounded column per primal row
(0 ≤ y_i ≤ money_i): the simplex method needs a few dozen iterations, and the primal weights are the
duals of the weight rows. Both optima are equal (strong duality); `solve_weights` checks it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from optimizer.solve import INF, OPTIMAL, highs_iterations, highs_status, new_highs, pass_matrix

logger = logging.getLogger(__name__)

ROW_CHUNK = 100_000  # rows built per numpy pass (bounds the temporaries: ROW_CHUNK × K floats each)


@dataclass
class IncentiveRows:
    """The rows of the incentive LP: d_i·ω + c_i·W_{block_i}(ω) − viol_i ≤ 0, weighted by money_i."""

    d: sp.csr_matrix  # (n, K) pay-per-hour change per component (already at the curve's slope)
    c: np.ndarray  # (n,) coefficient of W_b: effort difference plus the strict margin
    block: np.ndarray  # (n,) the row's (rep, period) block, an index into `mask`
    money: np.ndarray  # (n,) money at stake per unit of violation (+1e-6: every violation counts)
    mask: np.ndarray  # (B, K) 0/1: the components a block's rep has a target on in that period
    cover: np.ndarray  # blocks with planned orders: W_b ≥ COVER (soft)

    @property
    def n(self) -> int:
        return len(self.money)

    def values(self, omega: np.ndarray) -> np.ndarray:
        """a_i·ω for every row."""
        return self.d @ omega + self.c * (self.mask @ omega)[self.block]


def row_count(planned: np.ndarray, cap: np.ndarray, any_target: np.ndarray) -> int:
    """How many rows the LP has (for size estimates), from (R, P, T) planned orders and caps and
    the (R, T) blocks with a target: planned p × open q ≠ p, plus open q where hours are spare."""
    planned_p = planned > 1e-9
    open_q = (cap - planned > 1e-9) & (cap > 0)
    n_p, n_q = planned_p.sum(axis=1), open_q.sum(axis=1)
    both = (planned_p & open_q).sum(axis=1)
    return int(((n_p * n_q - both + n_q) * any_target).sum())


def incentive_rows(
    *,
    per_hour: np.ndarray,
    has_target: np.ndarray,
    planned: np.ndarray,
    hours_per_order: np.ndarray,
    cap: np.ndarray,
    effort_per_hour: np.ndarray,
    margin_per_hour: np.ndarray,
    hours: np.ndarray,
    strict: np.ndarray,
    slopes: tuple[float, float],
) -> IncentiveRows:
    """Every row of §4.4 as arrays, over the open periods.

    per_hour (R, K, P, T): pay per selling hour of each product at full weight and slope 1;
    has_target (R, K, T); planned, hours_per_order, cap, effort_per_hour, margin_per_hour (R, P, T);
    hours (R, T); strict (R, T): the strict margin ε·tvp/H in money per hour; slopes (s⁻, s⁺).

    Swap rows, for each planned p and open q ≠ p: per component the net change of its metric per
    hour moved from p to q, paid at s⁺ if it rises and s⁻ if it falls; c = e_p − e_q + ε.
    Spare-hour rows where the plan leaves hours unused: s⁺·(pay per hour of q); c = −e_q + ε.
    """
    s_minus, s_plus = slopes
    R, K, P, T = per_hour.shape
    active = has_target.any(axis=1)  # (R, T)
    block_of = np.full((R, T), -1)
    br, bt = np.nonzero(active)
    block_of[br, bt] = np.arange(len(br))
    mask = has_target[br, :, bt].astype(float)  # (B, K)
    planned_p = planned > 1e-9
    open_q = (cap - planned > 1e-9) & (cap > 0)
    h = hours_per_order
    spare = hours - (h * planned).sum(axis=1)

    pick = planned_p[:, :, None, :] & open_q[:, None, :, :] & active[:, None, None, :]
    pick &= ~np.eye(P, dtype=bool)[None, :, :, None]
    r, t, p, q = np.nonzero(pick.transpose(0, 3, 1, 2))  # ordered by rep, period, p, q
    del pick
    sr, st, sq = np.nonzero((open_q & ((spare > 1e-6) & active)[:, None, :]).transpose(0, 2, 1))

    d_parts, c_parts, money_parts = [], [], []
    for start in range(0, len(r), ROW_CHUNK):
        rr, pp, qq, tt = (x[start:start + ROW_CHUNK] for x in (r, p, q, t))
        shift = per_hour[rr, :, qq, tt] - per_hour[rr, :, pp, tt]  # (n, K)
        d_parts.append(sp.csr_matrix(np.where(shift > 0, s_plus * shift, s_minus * shift)))
        c_parts.append(effort_per_hour[rr, pp, tt] - effort_per_hour[rr, qq, tt] + strict[rr, tt])
        movable = np.minimum(planned[rr, pp, tt] * h[rr, pp, tt], (cap[rr, qq, tt] - planned[rr, qq, tt]) * h[rr, qq, tt])
        money_parts.append(np.maximum(margin_per_hour[rr, pp, tt] - margin_per_hour[rr, qq, tt], 0.0) * movable + 1e-6)
    for start in range(0, len(sr), ROW_CHUNK):
        rr, qq, tt = (x[start:start + ROW_CHUNK] for x in (sr, sq, st))
        d_parts.append(sp.csr_matrix(s_plus * per_hour[rr, :, qq, tt]))
        c_parts.append(strict[rr, tt] - effort_per_hour[rr, qq, tt])
        extra = np.minimum(spare[rr, tt], (cap[rr, qq, tt] - planned[rr, qq, tt]) * h[rr, qq, tt])
        money_parts.append(np.maximum(margin_per_hour[rr, qq, tt], 0.0) * extra + 1e-6)  # margin other reps lose to scaling
    d = sp.vstack(d_parts, format="csr") if d_parts else sp.csr_matrix((0, K))
    empty = np.zeros(0)
    covered = active & (planned.sum(axis=1) > 1e-9)
    return IncentiveRows(
        d=d, c=np.concatenate(c_parts) if c_parts else empty,
        block=np.concatenate([block_of[r, t], block_of[sr, st]]).astype(np.int64),
        money=np.concatenate(money_parts) if money_parts else empty, mask=mask,
        cover=block_of[covered][block_of[covered] >= 0],
    )


@dataclass
class WeightSolution:
    status: str  # "optimal" or HiGHS's model status in words
    omega: np.ndarray | None
    violation: np.ndarray | None  # max(0, a_i·ω) per row
    objective: float | None = None  # in the LP's units (money scaled by the largest money)
    iterations: int = 0


def solve_weights(
    rows: IncentiveRows,
    *,
    cover_level: float,
    lower: np.ndarray,
    upper: np.ndarray,
    w0: np.ndarray,
    change_weight: float,
    cover_weight: float = 100.0,
) -> WeightSolution:
    """min Σ money·viol + change_weight·Σ|ω − ω0| + cover_weight·Σ shortfall, through the dual.

    Primal: columns ω (K, in [lower, upper]), W (B, free), viol (n), up/down (K), shortfall (J);
    rows viol_i − d_i·ω − c_i·W_b ≥ 0 (dual y_i), W_b − mask_b·ω = 0 (ν_b), W_b + shortfall ≥ COVER
    (z_j), Σω = 1 (λ), ω − up + down = ω0 (μ). Dual (maximize):

        COVER·Σz + λ + ω0·μ + lower·α − upper·β
        s.t. (per ω_k)  −Σ_i y_i·d_ik − Σ_b ν_b·mask_bk + λ + μ_k + α_k − β_k = 0
             (per W_b)  −Σ_{i∈b} y_i·c_i + ν_b + Σ_{j∈b} z_j = 0
             0 ≤ y ≤ money/scale, 0 ≤ z ≤ cover_weight, |μ| ≤ change_weight, α, β ≥ 0

    The weights are the duals of the K ω-rows.
    """
    n, K = rows.d.shape
    B, J = len(rows.mask), len(rows.cover)
    scale = rows.money.max() if n else 1.0
    cost = rows.money / scale
    # Columns: y (n), ν (B), z (J), λ (1), μ (K), α (K), β (K); rows: ω (K) then W (B).
    y_block = sp.vstack([-rows.d.T.tocsr(), sp.csr_matrix((-rows.c, (rows.block, np.arange(n))), shape=(B, n))])
    nu_block = sp.vstack([-sp.csr_matrix(rows.mask.T), sp.identity(B, format="csr")])
    z_block = sp.csr_matrix((np.ones(J), (K + rows.cover, np.arange(J))), shape=(K + B, J))
    lam = sp.csr_matrix((np.ones(K), (np.arange(K), np.zeros(K, dtype=int))), shape=(K + B, 1))
    eye = sp.vstack([sp.identity(K, format="csr"), sp.csr_matrix((B, K))])
    matrix = sp.hstack([y_block, nu_block, z_block, lam, eye, eye, -eye], format="csc")
    matrix.sort_indices()
    objective = np.concatenate([np.zeros(n + B), np.full(J, cover_level), [1.0], w0, lower, -upper])
    col_lower = np.concatenate([np.zeros(n), np.full(B, -INF), np.zeros(J), [-INF], np.full(K, -change_weight),
                                np.zeros(2 * K)])
    col_upper = np.concatenate([cost, np.full(B, INF), np.full(J, cover_weight), [INF], np.full(K, change_weight),
                                np.full(2 * K, INF)])
    highs = new_highs()
    pass_matrix(highs, matrix, objective, col_lower, col_upper, np.zeros(K + B), np.zeros(K + B))
    del matrix, y_block
    highs.run()
    status = highs_status(highs)
    if status != OPTIMAL:
        return WeightSolution(status=status, omega=None, violation=None)
    omega = np.asarray(highs.getSolution().row_dual[:K], dtype=float)
    value = rows.values(omega) if n else np.zeros(0)
    primal = float(cost @ np.maximum(value, 0.0) + change_weight * np.abs(omega - w0).sum()
                   + cover_weight * np.maximum(cover_level - (rows.mask @ omega)[rows.cover], 0.0).sum())
    dual = float(highs.getInfo().objective_function_value)
    if abs(primal - dual) > 1e-6 * max(1.0, abs(dual)):
        logger.warning("incentive LP: primal %.9g and dual %.9g objectives differ", primal, dual)
    return WeightSolution(status=OPTIMAL, omega=omega, violation=np.maximum(value, 0.0), objective=primal,
                          iterations=highs_iterations(highs))
