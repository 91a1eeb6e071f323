"""Reference: the rep response model as it was built before (one Python call per rep, period, component
and segment; all blocks in one HiGHS model). Tests compare the product (optimizer.alignment.response,
built by optimizer.alignment.response_blocks) with it on random instances; not used by the product.

The model it builds is the one stated in optimizer.alignment.response's docstring; the problem data
(`ResponseData`, `response_data`) and the market scaling are the product's, since the model building
and solving is what is compared.
"""

from __future__ import annotations

import logging

import highspy
import numpy as np

from models.dataset import Plan
from optimizer.parameters import Parameters
from optimizer.alignment.payout import Curve
from optimizer.alignment.response import ResponseData, response_data, scale_to_markets  # not what is compared
from optimizer.solve import EXACT_MIP, OPTIMAL, highs_status, new_highs

logger = logging.getLogger(__name__)

TIE_BREAK = 1e-6  # §4.5: ties go against the company
MIP_BATCH = 4  # (rep, period) blocks per MIP model
INF = highspy.kHighsInf


# --------------------------------------------------------------------------------------------
# Model building


class _Builder:
    """Accumulates columns and rows of one HiGHS model (maximization)."""

    def __init__(self) -> None:
        self.cost: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[bool] = []
        self.row_lower: list[float] = []
        self.row_upper: list[float] = []
        self.row_index: list[np.ndarray] = []
        self.row_value: list[np.ndarray] = []

    def column(self, cost: float, lower: float, upper: float, integer: bool = False) -> int:
        self.cost.append(cost)
        self.lower.append(lower)
        self.upper.append(upper)
        self.integer.append(integer)
        return len(self.cost) - 1

    def columns(self, cost: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        start = len(self.cost)
        self.cost.extend(cost.tolist())
        self.lower.extend(lower.tolist())
        self.upper.extend(upper.tolist())
        self.integer.extend([False] * len(cost))
        return np.arange(start, start + len(cost))

    def row(self, index, value, lower: float, upper: float) -> None:
        self.row_index.append(np.asarray(index, dtype=np.int32))
        self.row_value.append(np.asarray(value, dtype=float))
        self.row_lower.append(lower)
        self.row_upper.append(upper)

    def lp(self) -> highspy.HighsLp:
        lp = highspy.HighsLp()
        lp.num_col_ = len(self.cost)
        lp.num_row_ = len(self.row_lower)
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.col_cost_ = np.array(self.cost, dtype=float)
        lp.col_lower_ = np.array(self.lower, dtype=float)
        lp.col_upper_ = np.array(self.upper, dtype=float)
        lp.row_lower_ = np.array(self.row_lower, dtype=float)
        lp.row_upper_ = np.array(self.row_upper, dtype=float)
        lengths = [len(i) for i in self.row_index]
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
        lp.a_matrix_.index_ = (np.concatenate(self.row_index) if self.row_index else np.zeros(0)).astype(np.int32)
        lp.a_matrix_.value_ = np.concatenate(self.row_value) if self.row_value else np.zeros(0)
        if any(self.integer):
            lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                               for i in self.integer]
        return lp


def _add_rep_period(b: _Builder, data: ResponseData, r: int, t: int) -> tuple[np.ndarray, np.ndarray]:
    """Add the §4.5 problem of rep r in open period t to a builder; return (products, order columns)."""
    cap = data.cap[r, :, t]
    products = np.flatnonzero(cap > 0)
    h = data.hours_per_order[r, products, t]
    o = b.columns(-data.effort[r, products, t] - TIE_BREAK * data.margin[r, products, t],
                  np.zeros(len(products)), cap[products])
    if len(products) == 0:
        return products, o
    b.row(o, h, -INF, float(data.hours[r, t]))
    curve = data.curve
    components = np.flatnonzero(data.pay_weight[r, :, t] > 0)
    for k in components:
        coef = data.attainment_per_order[r, k, products, t]
        if not np.any(coef > 0):
            continue  # nothing the rep can sell moves this metric: f(0) = 0 whatever they do
        value = float(data.pay_weight[r, k, t])
        if curve.is_concave:
            _concave_component(b, o, coef, value, curve)
        else:
            reachable = float(np.sum(coef * np.minimum(cap[products], data.hours[r, t] / h)))
            _incremental_component(b, o, coef, value, curve, reachable)
    return products, o


def _concave_component(b: _Builder, o: np.ndarray, coef: np.ndarray, value: float, curve: Curve) -> None:
    """y ≤ y_j + s_j·(a − x_j) for every segment j, y ≤ f(x_n);  a = Σ_p coef_p·o_p;  pay += value·y."""
    y = b.column(value, -INF, float(curve.y[-1]))
    for j, slope in enumerate(curve.slopes):
        # y − s_j·a ≤ y_j − s_j·x_j
        b.row(np.append(o, y), np.append(-slope * coef, 1.0), -INF, float(curve.y[j] - slope * curve.x[j]))


def _incremental_component(b: _Builder, o: np.ndarray, coef: np.ndarray, value: float, curve: Curve,
                           reachable: float) -> None:
    """Exact f for any piecewise-linear curve (incremental formulation, binaries only where needed):

    a = Σ_j δ_j,  0 ≤ δ_j ≤ L_j over the segments j (the flat tail beyond the last point is one more,
    slope 0, as long as the rep can reach);  pay += value·Σ_j s_j·δ_j.
    The segments fall into runs of non-increasing slope; inside a run the maximization fills them
    in order by itself (concavity). A run after a convex kink (the slope goes up) may only start
    once the run before is full:  δ_last(prev run) ≥ L·z,  δ_j ≤ L_j·z for j in the run,  z binary.
    """
    lengths = list(curve.lengths.astype(float))
    slopes = list(curve.slopes.astype(float))
    tail = max(reachable - float(curve.x[-1]), 0.0)
    if tail > 0:
        lengths.append(tail)
        slopes.append(0.0)
    delta = [b.column(value * slopes[j], 0.0, lengths[j]) for j in range(len(lengths))]
    b.row(np.concatenate([o, delta]), np.concatenate([coef, -np.ones(len(delta))]), 0.0, 0.0)
    gate = None
    for j in range(1, len(delta)):
        if slopes[j] > slopes[j - 1] + 1e-12:  # convex kink: a new run starts at segment j
            gate = b.column(0.0, 0.0, 1.0, integer=True)
            for i in range(j):  # every earlier segment is full once the run is open
                b.row([delta[i], gate], [1.0, -lengths[i]], 0.0, INF)  # δ_i ≥ L_i·z
        if gate is not None:
            b.row([delta[j], gate], [1.0, -lengths[j]], -INF, 0.0)  # δ_j ≤ L_j·z


def _solve(h: highspy.Highs, b: _Builder) -> np.ndarray:
    h.clearModel()
    h.passModel(b.lp())
    h.run()
    if highs_status(h) != OPTIMAL:
        raise RuntimeError(f"rep response model ended with {h.modelStatusToString(h.getModelStatus())}")
    return np.asarray(h.getSolution().col_value)


def simulate_orders(data: ResponseData) -> tuple[np.ndarray, int]:
    """Each rep's own best orders per (rep, product, open period), before the market scaling.

    Returns (orders (R, P, T), number of HiGHS models solved). A concave curve gives one LP over
    all (rep, period) blocks. Otherwise the same block-diagonal model is first solved as an LP
    relaxation: a block whose gate binaries come out 0/1 is feasible for its MIP and, the
    relaxation being a bound, optimal for it. Only the blocks left fractional are solved as MIPs,
    in batches (the objective is a sum over blocks, so a zero gap on a batch is a zero gap on each).
    """
    R, P, T = data.cap.shape
    orders = np.zeros((R, P, T))
    h = new_highs(settings=EXACT_MIP)
    pairs = [(r, t) for r in range(R) for t in range(T) if np.any(data.cap[r, :, t] > 0)]
    if not pairs:  # nobody can sell anything: no model to solve
        return orders, 0
    b = _Builder()
    placed = []
    for r, t in pairs:
        first = len(b.cost)
        products, cols = _add_rep_period(b, data, r, t)
        placed.append((r, t, products, cols, first, len(b.cost)))
    integer = np.array(b.integer, dtype=bool)
    b.integer = [False] * len(b.integer)  # the relaxation
    values = _solve(h, b)
    fractional = []
    for r, t, products, cols, first, last in placed:
        z = values[first:last][integer[first:last]]
        if np.all(np.minimum(np.abs(z), np.abs(1.0 - z)) <= 1e-9):
            orders[r, products, t] = values[cols]
        else:
            fractional.append((r, t))
    solved = 1
    h.setOptionValue("presolve", "off")  # tiny models: presolve costs more than it saves
    for start in range(0, len(fractional), MIP_BATCH):
        b = _Builder()
        batch = [(r, t, *_add_rep_period(b, data, r, t)) for r, t in fractional[start:start + MIP_BATCH]]
        values = _solve(h, b)
        for r, t, products, cols in batch:
            orders[r, products, t] = values[cols]
        solved += 1
    return np.clip(orders, 0.0, None), solved


def simulate_grid(params: Parameters, plan: Plan) -> tuple[np.ndarray, np.ndarray, int]:
    """(scaled orders, chosen orders, models solved), both (R, P, T) over all periods (closed ones 0)."""
    data = response_data(params, plan)
    chosen, solved = simulate_orders(data)
    scaled = scale_to_markets(params, chosen)
    R, P, T = len(params.reps), len(params.products), len(params.periods)
    full_scaled, full_chosen = np.zeros((R, P, T)), np.zeros((R, P, T))
    full_scaled[:, :, params.open_index] = scaled
    full_chosen[:, :, params.open_index] = chosen
    return full_scaled, full_chosen, solved
