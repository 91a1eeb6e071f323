"""The §4.5 rep-response models of many (rep, period) blocks, built at once with numpy and solved exactly.

`optimizer.alignment.response` states the model; this module builds the block-diagonal HiGHS model
of a batch of blocks without a Python loop per rep, component or segment: every column and row
family is one numpy expression over all the blocks' (component) instances, following one template
per curve (the curve is the same for every block of a plan).

- Concave f: an epigraph column y per component, y ≤ y_j + s_j·(a − x_j) for every segment j and
  y ≤ f(x_n), with a = Σ_p coef_p·o_p — an LP.
- Otherwise the incremental formulation: a = Σ_j δ_j, 0 ≤ δ_j ≤ L_j (plus the flat tail as a slope-0
  segment as far as the rep can reach), and a binary gate per convex kink only: inside a run of
  non-increasing slopes the maximization fills the segments in order by itself; a run after a
  convex kink opens only once every earlier segment is full (δ_i ≥ L_i·z, δ_j ≤ L_j·z) — a MIP.

`solve_blocks` solves a batch exactly: the LP relaxation of all its blocks first; a block whose gates
come out 0/1 is feasible for its MIP and, the relaxation being a bound on a sum of independent
blocks, optimal for it; the blocks left fractional are solved as MIPs, batched up to MIP_GATES
binaries a model, to a zero gap. It is a pure function of arrays, so the executor can ship batches to workers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from optimizer.solve import EXACT_MIP, INF, OPTIMAL, highs_status, new_highs

MIP_GATES = 64  # binaries per MIP model: fractional blocks are batched up to this many gates (at least one block)
# Measured (CPU, 100-rep company): a plan of 2 components (≈ 4 gates a block) takes 1.1 s in batches of
# 32 blocks against 2.7 s in 4 (HiGHS's fixed cost per MIP dominates); one of 6 components (≈ 12 gates)
# 12.4 s in batches of 4 against 32.9 s in 32 (the joint branch and bound grows). 64 gates gives 16 and 5.
KINK = 1e-12  # a slope rising by more than this is a convex kink


@dataclass
class Blocks:
    """The arrays of n (rep, period) blocks over P products and K components."""

    hours: np.ndarray  # H (n,)
    hours_per_order: np.ndarray  # h (n, P)
    cap: np.ndarray  # reach cap (n, P); a product with cap 0 is not in the block's model
    cost: np.ndarray  # objective per order (n, P): −e − TIE_BREAK·g
    value: np.ndarray  # tvp·ω_k/W_r (n, K); 0 where the component has no target
    coef: np.ndarray  # attainment per order c_kp/T (n, K, P)
    curve_x: np.ndarray
    curve_y: np.ndarray

    def subset(self, index: np.ndarray) -> "Blocks":
        return Blocks(self.hours[index], self.hours_per_order[index], self.cap[index], self.cost[index],
                      self.value[index], self.coef[index], self.curve_x, self.curve_y)

    @property
    def concave(self) -> bool:
        slopes = np.append(np.diff(self.curve_y) / np.diff(self.curve_x), 0.0)
        return bool(self.curve_y[0] == 0.0 and np.all(np.diff(slopes) <= KINK))


class _Model:
    """Columns and COO entries of one model, appended family by family."""

    def __init__(self) -> None:
        self.cost, self.lower, self.upper, self.integer = [], [], [], []
        self.row_lower, self.row_upper = [], []
        self.r, self.c, self.v = [], [], []
        self.n_col = self.n_row = 0

    def columns(self, cost, lower, upper, integer: bool = False) -> np.ndarray:
        n = len(cost)
        self.cost.append(np.asarray(cost, float))
        self.lower.append(np.broadcast_to(np.asarray(lower, float), (n,)))
        self.upper.append(np.broadcast_to(np.asarray(upper, float), (n,)))
        self.integer.append(np.full(n, integer))
        self.n_col += n
        return np.arange(self.n_col - n, self.n_col)

    def rows(self, n: int, lower, upper) -> np.ndarray:
        self.row_lower.append(np.broadcast_to(np.asarray(lower, float), (n,)))
        self.row_upper.append(np.broadcast_to(np.asarray(upper, float), (n,)))
        self.n_row += n
        return np.arange(self.n_row - n, self.n_row)

    def entries(self, rows, cols, values) -> None:
        rows, cols = np.broadcast_arrays(np.asarray(rows), np.asarray(cols))
        self.r.append(rows.ravel())
        self.c.append(cols.ravel())
        self.v.append(np.broadcast_to(np.asarray(values, float), rows.shape).ravel())

    def solve(self, *, integer: bool, presolve: bool) -> np.ndarray:
        highs = new_highs(settings=EXACT_MIP)
        if not presolve:
            highs.setOptionValue("presolve", "off")  # tiny models: presolve costs more than it saves
        matrix = sp.csc_matrix((np.concatenate(self.v), (np.concatenate(self.r), np.concatenate(self.c))),
                               shape=(self.n_row, self.n_col))
        import highspy

        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n_col, self.n_row
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.col_cost_ = np.concatenate(self.cost)
        lp.col_lower_ = np.concatenate(self.lower)
        lp.col_upper_ = np.concatenate(self.upper)
        lp.row_lower_ = np.concatenate(self.row_lower)
        lp.row_upper_ = np.concatenate(self.row_upper)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = matrix.indptr, matrix.indices, matrix.data
        flags = np.concatenate(self.integer)
        if integer and flags.any():
            lp.integrality_ = [highspy.HighsVarType.kInteger if f else highspy.HighsVarType.kContinuous for f in flags]
        highs.passModel(lp)
        highs.run()
        if highs_status(highs) != OPTIMAL:
            raise RuntimeError(f"rep response model ended with {highs.modelStatusToString(highs.getModelStatus())}")
        return np.asarray(highs.getSolution().col_value)


def _build(blocks: Blocks) -> tuple[_Model, np.ndarray, np.ndarray, np.ndarray]:
    """The block-diagonal model; returns (model, order column per (block, product) or −1,
    gate columns, the block of each gate column)."""
    m = _Model()
    n, P = blocks.cap.shape
    sell = blocks.cap > 0
    ob, op = np.nonzero(sell)
    order_col = np.full((n, P), -1)
    order_col[ob, op] = m.columns(blocks.cost[ob, op], 0.0, blocks.cap[ob, op])
    hb = np.flatnonzero(sell.any(axis=1))
    hours_row = np.full(n, -1)
    hours_row[hb] = m.rows(len(hb), -INF, blocks.hours[hb])
    m.entries(hours_row[ob], order_col[ob, op], blocks.hours_per_order[ob, op])  # Σ_p h·o ≤ H

    coef = np.where(sell[:, None, :], blocks.coef, 0.0)
    ib, ik = np.nonzero((blocks.value > 0) & (coef > 0).any(axis=2))  # components the rep can move
    N = len(ib)
    inst_coef = coef[ib, ik]  # (N, P)
    ei, ep = np.nonzero(inst_coef)  # the non-zeros of each instance's a = Σ_p coef_p·o_p
    e_col, e_val = order_col[ib[ei], ep], inst_coef[ei, ep]
    value = blocks.value[ib, ik]
    x, y = blocks.curve_x.astype(float), blocks.curve_y.astype(float)
    slopes = np.diff(y) / np.diff(x)
    gates, gate_block = np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    if N == 0:
        return m, order_col, gates, gate_block
    if blocks.concave:
        ycol = m.columns(value, -INF, y[-1])
        for j, s in enumerate(slopes):  # y − s_j·a ≤ y_j − s_j·x_j
            row = m.rows(N, -INF, y[j] - s * x[j])
            m.entries(row[ei], e_col, -s * e_val)
            m.entries(row, ycol, 1.0)
        return m, order_col, gates, gate_block
    # Incremental formulation; the flat tail is one more (slope-0) segment where the rep can reach it.
    reach = np.minimum(blocks.cap, blocks.hours[:, None] / np.where(sell, blocks.hours_per_order, 1.0))
    reachable = (inst_coef * np.where(sell, reach, 0.0)[ib]).sum(axis=1)
    tail = np.maximum(reachable - x[-1], 0.0)
    gate_parts, block_parts = [], []
    for with_tail in (False, True):
        group = np.flatnonzero((tail > 0) == with_tail)
        if len(group) == 0:
            continue
        g_slopes = np.append(slopes, 0.0) if with_tail else slopes
        lengths = [np.full(len(group), float(L)) for L in np.diff(x)] + ([tail[group]] if with_tail else [])
        delta = [m.columns(value[group] * s, 0.0, L) for s, L in zip(g_slopes, lengths)]
        row = m.rows(len(group), 0.0, 0.0)  # a − Σ_j δ_j = 0
        pick = np.isin(ei, group)
        local = np.full(N, -1)
        local[group] = np.arange(len(group))
        m.entries(row[local[ei[pick]]], e_col[pick], e_val[pick])
        for d in delta:
            m.entries(row, d, -1.0)
        gate = None
        for j in range(1, len(delta)):
            if g_slopes[j] > g_slopes[j - 1] + KINK:  # a convex kink: a new run starts at segment j
                gate = m.columns(np.zeros(len(group)), 0.0, 1.0, integer=True)
                gate_parts.append(gate)
                block_parts.append(ib[group])
                for i in range(j):  # δ_i − L_i·z ≥ 0: every earlier segment is full once the run is open
                    full = m.rows(len(group), 0.0, INF)
                    m.entries(full, delta[i], 1.0)
                    m.entries(full, gate, -lengths[i])
            if gate is not None:  # δ_j − L_j·z ≤ 0
                cap_row = m.rows(len(group), -INF, 0.0)
                m.entries(cap_row, delta[j], 1.0)
                m.entries(cap_row, gate, -lengths[j])
    if gate_parts:
        gates, gate_block = np.concatenate(gate_parts), np.concatenate(block_parts)
    return m, order_col, gates, gate_block


def _orders(values: np.ndarray, order_col: np.ndarray) -> np.ndarray:
    return np.where(order_col >= 0, values[np.maximum(order_col, 0)], 0.0)


def solve_blocks(blocks: Blocks) -> tuple[np.ndarray, int]:
    """Each block's exact best orders (n, P), and how many HiGHS models that took."""
    n, P = blocks.cap.shape
    if n == 0 or not (blocks.cap > 0).any():
        return np.zeros((n, P)), 0
    model, order_col, gates, gate_block = _build(blocks)
    # the relaxation (the LP itself if f is concave), without presolve: the blocks are small and already
    # reduced (products a rep cannot sell are not in the model); measured at 1,000 reps × 50 products,
    # 45 batches of a concave plan: 0.69 CPU s against 1.28 with presolve, the same orders to 1e-16
    values = model.solve(integer=False, presolve=False)
    orders = _orders(values, order_col)
    solved = 1
    z = values[gates]
    off = np.minimum(np.abs(z), np.abs(1.0 - z)) > 1e-9
    fractional = np.unique(gate_block[off])
    gates_of = np.bincount(gate_block, minlength=n)
    for batch in _mip_batches(fractional, gates_of[fractional]):
        model, order_col, _, _ = _build(blocks.subset(batch))
        orders[batch] = _orders(model.solve(integer=True, presolve=False), order_col)
        solved += 1
    return np.clip(orders, 0.0, None), solved


def _mip_batches(blocks: np.ndarray, gates: np.ndarray) -> list[np.ndarray]:
    """Consecutive runs of `blocks` holding at most MIP_GATES gates together (at least one block each)."""
    batches, start, total = [], 0, 0
    for i, g in enumerate(gates):
        if i > start and total + g > MIP_GATES:
            batches.append(blocks[start:i])
            start, total = i, 0
        total += g
    if start < len(blocks):
        batches.append(blocks[start:])
    return batches
