"""The incentive LP of DESIGN.md §4.4 at any size: rows built with numpy, solved by cutting planes.

`optimizer.alignment.incentive.incentive_weights` states the LP (see its docstring); this module
builds its rows and solves it exactly. The LP has one weight ω_k per candidate component and one
violation per (rep, period, planned product p, alternative q) row — O(R·T·P²) rows for a few dozen
weights (4.9 million rows at 1,000 reps × 50 products × 9 open months). Each row is

    a_i·ω = d_i·ω + c_i·W_b(ω) ≤ viol_i,   W_b(ω) = Σ_{k∈K_b} ω_k   (b: the row's rep and period)

with d_i the per-component change of pay per hour moved from p to q (non-zero only on components
holding p or q: a sparse row) and c_i = e_p − e_q + ε the effort and strict margin per weight share.
Stating W_b once per (rep, period) keeps the matrix sparse.

How it is solved: cutting planes on the primal (`solve_weights`). The objective is a sum over the
reps of convex piecewise-linear functions of ω alone (W_b is a linear function of ω):
f_r(ω) = Σ_{i of rep r} money_i·max(0, a_i·ω). A master LP over ω, the change and cover terms and one
θ_r per rep keeps the cuts θ_r ≥ g·ω found so far (g = Σ money_i·a_i over the rep's rows violated at
an earlier ω: a subgradient of f_r, exact on its piece). Each round evaluates every row at the
master's ω with one sparse product, adds a cut for each rep whose θ_r is below f_r(ω), and re-solves
warm. The master is a relaxation, so its objective bounds the optimum from below while f at its ω
bounds it from above; the rounds end when the two meet (relative gap GAP = 1e-8): the optimum of
the full LP (which has finitely many pieces, so the rounds end). The rows never enter an LP: memory
is the rows' arrays plus a master of a few columns per rep. Measured (CPU, one LP over the whole
component pool): 200 reps × 20 products, 171,200 rows: 13 rounds, 0.7 s against 2.8 s through the
dual LP; 1,000 × 50, 4.9 million rows, 56 components: 19 rounds, 26 s against 283 s (wall, loaded
machine) with one cut per (rep, period).

The dual LP (`solve_weights_dual`, the method before: one row per weight and per block, a bounded
column per primal row, solved by the simplex method: 2,700 iterations at 200 reps, 93,000 at 1,000)
is kept as the tests' reference for the cutting planes.
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
    block_rep: np.ndarray | None = None  # (B,) the rep of each block: the cutting planes' groups
    # the parts d and c are made of, so that other slopes and margins need no rebuild (`at`)
    rise: sp.csr_matrix | None = None  # (n, K) the rising part of the change per hour (d = s⁺·rise + s⁻·fall)
    fall: sp.csr_matrix | None = None  # (n, K) the falling part
    effort: np.ndarray | None = None  # (n,) c without the strict margin
    strict: np.ndarray | None = None  # (n,) the strict margin per unit of ε (c = effort + ε·strict)

    @property
    def n(self) -> int:
        return len(self.money)

    def at(self, slopes: tuple[float, float], epsilon: float) -> "IncentiveRows":
        """The same rows for a curve with slopes (s⁻, s⁺) at 1 and the strict margin ε."""
        s_minus, s_plus = slopes
        d = (s_plus * self.rise + s_minus * self.fall).tocsr()
        return IncentiveRows(d=d, c=self.effort + epsilon * self.strict, block=self.block, money=self.money,
                             mask=self.mask, cover=self.cover, block_rep=self.block_rep, rise=self.rise,
                             fall=self.fall, effort=self.effort, strict=self.strict)

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
    epsilon: float,
) -> IncentiveRows:
    """Every row of §4.4 as arrays, over the open periods.

    per_hour (R, K, P, T): pay per selling hour of each product at full weight and slope 1;
    has_target (R, K, T); planned, hours_per_order, cap, effort_per_hour, margin_per_hour (R, P, T);
    hours (R, T); strict (R, T): the strict margin per unit of ε, tvp/H in money per hour; slopes (s⁻, s⁺);
    epsilon ε. The rows keep their parts, so `IncentiveRows.at` gives them for other slopes and ε.

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

    rise_parts, fall_parts, effort_parts, strict_parts, money_parts = [], [], [], [], []
    for start in range(0, len(r), ROW_CHUNK):
        rr, pp, qq, tt = (x[start:start + ROW_CHUNK] for x in (r, p, q, t))
        shift = per_hour[rr, :, qq, tt] - per_hour[rr, :, pp, tt]  # (n, K)
        rise_parts.append(sp.csr_matrix(np.maximum(shift, 0.0)))
        fall_parts.append(sp.csr_matrix(np.minimum(shift, 0.0)))
        effort_parts.append(effort_per_hour[rr, pp, tt] - effort_per_hour[rr, qq, tt])
        strict_parts.append(strict[rr, tt])
        movable = np.minimum(planned[rr, pp, tt] * h[rr, pp, tt], (cap[rr, qq, tt] - planned[rr, qq, tt]) * h[rr, qq, tt])
        money_parts.append(np.maximum(margin_per_hour[rr, pp, tt] - margin_per_hour[rr, qq, tt], 0.0) * movable + 1e-6)
    for start in range(0, len(sr), ROW_CHUNK):
        rr, qq, tt = (x[start:start + ROW_CHUNK] for x in (sr, sq, st))
        rise_parts.append(sp.csr_matrix(per_hour[rr, :, qq, tt]))
        fall_parts.append(sp.csr_matrix((len(rr), K)))
        effort_parts.append(-effort_per_hour[rr, qq, tt])
        strict_parts.append(strict[rr, tt])
        extra = np.minimum(spare[rr, tt], (cap[rr, qq, tt] - planned[rr, qq, tt]) * h[rr, qq, tt])
        money_parts.append(np.maximum(margin_per_hour[rr, qq, tt], 0.0) * extra + 1e-6)  # margin other reps lose to scaling
    empty = np.zeros(0)
    stack = (lambda parts: sp.vstack(parts, format="csr") if parts else sp.csr_matrix((0, K)))
    covered = active & (planned.sum(axis=1) > 1e-9)
    unit = IncentiveRows(
        d=sp.csr_matrix((0, K)), c=empty, block=np.concatenate([block_of[r, t], block_of[sr, st]]).astype(np.int64),
        money=np.concatenate(money_parts) if money_parts else empty, mask=mask,
        cover=block_of[covered][block_of[covered] >= 0], block_rep=br, rise=stack(rise_parts), fall=stack(fall_parts),
        effort=np.concatenate(effort_parts) if effort_parts else empty,
        strict=np.concatenate(strict_parts) if strict_parts else empty,
    )
    return unit.at(slopes, epsilon)


@dataclass
class WeightSolution:
    status: str  # "optimal" or HiGHS's model status in words
    omega: np.ndarray | None
    violation: np.ndarray | None  # max(0, a_i·ω) per row
    objective: float | None = None  # in the LP's units (money scaled by the largest money)
    iterations: int = 0


def solve_weights_dual(
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


CUT_ROUNDS = 200  # cutting-plane rounds at most (measured: 13 at 200 reps × 20 products, 19 at 1,000 × 50)
GAP = 1e-8  # relative gap between the master's bound and the objective at its ω that ends the rounds (the master LP is solved to HiGHS's 1e-7 tolerances: a tighter gap stalls)


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
    """min Σ money·viol + change_weight·Σ|ω − ω0| + cover_weight·Σ shortfall, by cutting planes.

    The same LP as `solve_weights_dual` (see the module docstring). Components with upper bound 0
    are fixed at 0 and leave the problem. The cuts are per rep: θ_r ≥ the rep's violations plus the
    shortfalls of its blocks below the cover level (both convex and piecewise linear in ω) — fewer,
    denser cuts than per (rep, period), and fewer simplex iterations in all (measured at 200 reps:
    13 rounds and 3,400 iterations against 8 rounds and 9,400). The master's columns are ω, up, down
    (K' each) and θ per rep (G); its rows Σω = 1, ω − up + down = ω0 and the cuts.
    """
    n, K = rows.d.shape
    B = len(rows.mask)
    group = rows.block_rep if rows.block_rep is not None else np.arange(B)
    group = np.unique(group, return_inverse=True)[1].reshape(-1) if B else np.zeros(0, dtype=int)
    G = int(group.max()) + 1 if B else 0
    cost = rows.money / (rows.money.max() if n else 1.0)
    free = np.flatnonzero(upper > 0)
    k = len(free)
    cuts = _Cuts(rows, rows.d[:, free].tocsr() if k < K else rows.d, rows.mask[:, free], group, G, cost,
                 cover_level, cover_weight)
    fixed_change = change_weight * float(np.abs(w0[np.setdiff1d(np.arange(K), free)]).sum())
    highs = _master(k, G, lower=lower[free], upper=upper[free], w0=w0[free], change_weight=change_weight)
    best: tuple[float, np.ndarray] | None = None
    iterations, gap = 0, INF
    start = w0[free]  # first cuts at the weights in force, where feasible here: a third fewer simplex iterations at 1,000 reps
    if abs(start.sum() - 1.0) < 1e-9 and np.all(start >= lower[free] - 1e-12) and np.all(start <= upper[free] + 1e-12):
        cuts.add(highs, start, np.arange(G))
    for round_ in range(CUT_ROUNDS):
        highs.run()
        status = highs_status(highs)
        iterations += highs_iterations(highs)
        if status != OPTIMAL:
            return WeightSolution(status=status, omega=None, violation=None)
        solution = np.asarray(highs.getSolution().col_value)
        omega, theta = solution[:k], solution[3 * k:]
        per_group = cuts.values(omega)
        bound = float(highs.getInfo().objective_function_value)
        true = bound - float(theta.sum()) + float(per_group.sum())
        if best is None or true < best[0]:
            best = (true, omega)
        gap = best[0] - bound
        if gap <= GAP * max(1.0, abs(best[0])):
            logger.debug("incentive LP: %d cutting-plane rounds, %d rows, %d reps", round_ + 1, n, G)
            break
        # a cut wherever θ falls short by more than the gap's share per rep, so the skipped ones cannot add up to it
        short = np.flatnonzero(per_group - theta > GAP * max(1.0, abs(true)) / max(G, 1))
        if len(short) == 0:
            break  # the rest of the gap is rounding in the sums
        cuts.add(highs, omega, short)
    else:
        logger.warning("incentive LP: the cutting planes left a relative gap of %.2g after %d rounds; "
                       "the best weights found are used", gap / max(1.0, abs(best[0])), CUT_ROUNDS)
    full = np.zeros(K)
    full[free] = best[1]
    value = rows.values(full) if n else np.zeros(0)
    return WeightSolution(status=OPTIMAL, omega=full, violation=np.maximum(value, 0.0),
                          objective=best[0] + fixed_change, iterations=iterations)


def _master(k: int, G: int, *, lower: np.ndarray, upper: np.ndarray, w0: np.ndarray, change_weight: float):
    """The master LP before any cut: columns ω, up, down, θ; rows Σω = 1 and ω − up + down = ω0."""
    import highspy

    eye = sp.identity(k, format="csr")
    matrix = sp.vstack([
        sp.hstack([sp.csr_matrix(np.ones((1, k))), sp.csr_matrix((1, 2 * k + G))]),
        sp.hstack([eye, -eye, eye, sp.csr_matrix((k, G))]),
    ], format="csc")
    matrix.sort_indices()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = int(matrix.shape[1]), int(matrix.shape[0])
    lp.col_cost_ = np.concatenate([np.zeros(k), np.full(2 * k, change_weight), np.ones(G)])
    lp.col_lower_ = np.concatenate([lower, np.zeros(2 * k + G)])
    lp.col_upper_ = np.concatenate([upper, np.full(2 * k + G, INF)])
    lp.row_lower_ = np.concatenate([[1.0], w0])
    lp.row_upper_ = np.concatenate([[1.0], w0])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = matrix.indptr, matrix.indices, matrix.data
    highs = new_highs()
    highs.passModel(lp)
    return highs


class _Cuts:
    """Per rep g: f_g(ω) = Σ_{i of g} cost_i·max(0, a_i·ω) + cover_weight·Σ_{covered blocks j of g} max(0, COVER − mask_j·ω),
    its value at ω and its cuts θ_g ≥ s·ω + const (s a subgradient at ω)."""

    def __init__(self, rows: IncentiveRows, d: sp.csr_matrix, mask: np.ndarray, group: np.ndarray, G: int,
                 cost: np.ndarray, cover_level: float, cover_weight: float):
        self.rows, self.d, self.mask, self.G, self.cost = rows, d, mask, G, cost
        self.row_group = group[rows.block]
        self.cover_group = group[rows.cover]
        self.cover_level, self.cover_weight = cover_level, cover_weight
        self.k = mask.shape[1]
        self._last: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # (ω, row values, shortfalls) of `values`

    def _at(self, omega: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        value = self.d @ omega + self.rows.c * (self.mask @ omega)[self.rows.block]
        short = self.cover_level - self.mask[self.rows.cover] @ omega
        return value, short

    def values(self, omega: np.ndarray) -> np.ndarray:
        value, short = self._at(omega)
        self._last = (omega, value, short)
        return (np.bincount(self.row_group, weights=self.cost * np.maximum(value, 0.0), minlength=self.G)
                + self.cover_weight * np.bincount(self.cover_group, weights=np.maximum(short, 0.0), minlength=self.G))

    def add(self, highs, omega: np.ndarray, groups: np.ndarray) -> None:
        """θ_g − s_g·ω ≥ const_g for each g in `groups`, at ω."""
        m = len(groups)
        if m == 0:
            return
        value, short = self._last[1:] if self._last is not None and self._last[0] is omega else self._at(omega)
        rows, G = self.rows, self.G
        row_of = np.full(G, -1)
        row_of[groups] = np.arange(m)
        take = np.flatnonzero((value > 0) & (row_of[self.row_group] >= 0))
        cut_of = row_of[self.row_group[take]]
        weight = sp.csr_matrix((self.cost[take], (cut_of, take)), shape=(m, len(value)))
        per_block = sp.csr_matrix((self.cost[take] * rows.c[take], (cut_of, rows.block[take])), shape=(m, len(rows.mask)))
        slope = (weight @ self.d).toarray() + per_block @ self.mask
        lacking = np.flatnonzero((short > 0) & (row_of[self.cover_group] >= 0))
        if len(lacking):  # cover_weight·(COVER − mask_j·ω) on the blocks below the cover level
            cover_cut = row_of[self.cover_group[lacking]]
            slope -= self.cover_weight * (sp.csr_matrix((np.ones(len(lacking)), (cover_cut, rows.cover[lacking])),
                                                        shape=(m, len(rows.mask))) @ self.mask)
        constant = self.cover_weight * self.cover_level * np.bincount(row_of[self.cover_group[lacking]], minlength=m)
        slope[np.abs(slope) < 1e-15] = 0.0
        k = self.k
        matrix = sp.hstack([sp.csr_matrix(-slope), sp.csr_matrix((m, 2 * k)),
                            sp.csr_matrix((np.ones(m), (np.arange(m), groups)), shape=(m, G))], format="csr")
        matrix.sort_indices()
        highs.addRows(m, constant.astype(float), np.full(m, INF), matrix.nnz, matrix.indptr[:-1].astype(np.int32),
                      matrix.indices.astype(np.int32), matrix.data)
