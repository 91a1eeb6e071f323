"""The rep response model of DESIGN.md §4.5 — the judge of every compensation plan.

Each rep r in each open period t answers a plan with the orders that maximize their own pay net of
felt effort:

    max_o  pay[r,t](o) − Σ_p e[r,p,t]·o[p] − 1e-6·Σ_p g[m(r),p,t]·o[p]
    s.t.   Σ_p h[r,p,t]·o[p] ≤ H[r,t],   0 ≤ o[p] ≤ max_share[r,p]·D[m(r),p,t]

with pay[r,t] = tvp[r]·Σ_{k∈K_r} (ω_k/W_r)·f(metric_k/T[r,k,t]) (§4.3), e = effort_aversion·(comfort−1)·h,
and the last term breaking ties *against* the company (a rep left indifferent picks the worst mix
for the company, so a plan that leaves reps indifferent cannot score well). The reps of a market
who together exceed a product's potential are scaled down pro rata.

Exactness. f is piecewise linear and flat after its last point. When it is concave, the problem is
an LP (an epigraph variable per component, below every segment's line and the cap); otherwise it
is a MIP with the incremental (filling-order) formulation of f: one binary per segment, which is
exact for any piecewise-linear curve, increasing or not. HiGHS solves both, the MIP to a zero gap.

Speed. Reps × periods are independent problems. They are solved in batches of BLOCK_BATCH blocks,
each batch one block-diagonal HiGHS model built with numpy in one pass over all its blocks
(`optimizer.alignment.response_blocks`: LP relaxation, then MIPs for the blocks left fractional);
the batches are independent tasks for the executor (`optimizer.executor`: in-process, a Dask
LocalCluster, or a Dask cluster).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models.assumptions import AssumptionSet
from models.dataset import Dataset, Plan
from optimizer.plan.cascade import component_coefficients, target_grid
from optimizer.parameters import Parameters, effective_parameters
from optimizer.alignment.payout import Curve, has_target, pay_grid, weight_shares
from optimizer.plan.targets import plan_targets
from optimizer.alignment.response_blocks import Blocks, solve_blocks
from optimizer.executor import Executor, SerialExecutor

logger = logging.getLogger(__name__)

TIE_BREAK = 1e-6  # §4.5: ties go against the company
BLOCK_BATCH = 200  # (rep, period) blocks per model (and per executor task)


# --------------------------------------------------------------------------------------------
# The problem data of every (rep, period), as arrays


@dataclass
class ResponseData:
    """Everything the per-(rep, period) problems need, as dense arrays over reps R, products P,
    components K and the open periods T (positions into `params.open_index`)."""

    hours: np.ndarray  # H (R, T)
    hours_per_order: np.ndarray  # h (R, P, T)
    cap: np.ndarray  # reach cap (R, P, T)
    effort: np.ndarray  # e (R, P, T)
    margin: np.ndarray  # g (R, P, T)
    pay_weight: np.ndarray  # tvp·ω_k/W_r per (R, K, T); 0 where the component has no target
    attainment_per_order: np.ndarray  # c_kp / T_rkt (R, K, P, T); 0 where no target
    curve: Curve


def response_data(params: Parameters, plan: Plan) -> ResponseData:
    """Build the arrays of §4.5 for a plan over the open periods."""
    open_t = params.open_index
    h = params.hours_per_order()[:, :, open_t]
    cap = params.order_cap()[:, :, open_t]
    effort = params.felt_effort()[:, :, open_t]
    margin = params.rep_view(params.margin)[:, :, open_t]
    targets = target_grid(params, plan)
    weights = plan.weights
    ids = plan.component_ids
    R, P, T, K = len(params.reps), len(params.products), len(open_t), len(ids)
    counted = np.stack([has_target(targets[k][:, open_t]) for k in ids])  # (K, R, T)
    share = np.moveaxis(weight_shares(np.array([weights[k] for k in ids]), counted), 0, 1)  # (R, K, T)
    has_target_rkt = np.moveaxis(counted, 0, 1)
    pay_weight = params.target_variable_pay[:, None, None] * share
    per_order = np.zeros((R, K, P, T))
    coefficients = component_coefficients(params, plan)
    for ki, k in enumerate(ids):
        coef = coefficients[k][:, :, open_t]
        target = targets[k][:, open_t]
        safe = np.where(target > 0, target, 1.0)
        per_order[:, ki] = np.where(has_target_rkt[:, ki][:, None, :], coef / safe[:, None, :], 0.0)
    return ResponseData(hours=params.hours_available[:, open_t], hours_per_order=h, cap=cap, effort=effort,
                        margin=margin, pay_weight=pay_weight, attainment_per_order=per_order,
                        curve=Curve.from_frame(plan.curve))


# --------------------------------------------------------------------------------------------
# Solving: batches of (rep, period) blocks (optimizer.alignment.response_blocks), through the executor


def block_batches(data: ResponseData, size: int = BLOCK_BATCH) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[Blocks]]:
    """The (rep, period) blocks in which a rep can sell something, in batches of `size`:
    ([(reps, periods)] per batch, [Blocks] per batch)."""
    r, t = np.nonzero((data.cap > 0).any(axis=1))
    where, batches = [], []
    for start in range(0, len(r), size):
        rr, tt = r[start:start + size], t[start:start + size]
        where.append((rr, tt))
        batches.append(Blocks(
            hours=data.hours[rr, tt], hours_per_order=data.hours_per_order[rr, :, tt], cap=data.cap[rr, :, tt],
            cost=-data.effort[rr, :, tt] - TIE_BREAK * data.margin[rr, :, tt], value=data.pay_weight[rr, :, tt],
            coef=data.attainment_per_order[rr, :, :, tt], curve_x=data.curve.x, curve_y=data.curve.y))
    return where, batches


def simulate_orders(data: ResponseData, executor: Executor | None = None) -> tuple[np.ndarray, int]:
    """Each rep's own best orders per (rep, product, open period), before the market scaling.

    Returns (orders (R, P, T), number of HiGHS models solved). The blocks go in batches of
    BLOCK_BATCH to `solve_blocks` (exact: LP if f is concave, else LP relaxation then MIP for the
    blocks it leaves fractional), one batch per task of the executor (serial when None).
    """
    orders = np.zeros(data.cap.shape)
    where, batches = block_batches(data)
    results = (executor or SerialExecutor()).map(solve_blocks, batches)
    solved = 0
    for (rr, tt), (batch_orders, n_models) in zip(where, results):
        orders[rr, :, tt] = batch_orders
        solved += n_models
    return orders, solved


def scale_to_markets(params: Parameters, orders: np.ndarray) -> np.ndarray:
    """Scale the reps of a market down pro rata where together they exceed D[m,p,t] (open periods)."""
    potential = params.potential[:, :, params.open_index]
    total = np.zeros_like(potential)
    np.add.at(total, params.rep_market, orders)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(total > potential, potential / np.where(total > 0, total, 1.0), 1.0)
    return orders * factor[params.rep_market]


# --------------------------------------------------------------------------------------------
# Entry point


@dataclass
class Simulation:
    """The §4.5 response of the reps to one plan over the open periods."""

    orders: pd.DataFrame  # rep_id, product_id, period, orders (after market scaling; rows with orders > 0)
    alignment_efficiency: float | None  # margin ÷ plan LP margin (None unless the plan LP margin is > 0)
    margin: float
    revenue: float
    pay_cost: float
    plan_margin: float | None
    exact_model: str  # "lp" (concave curve) or "mip"
    models_solved: int
    seconds: float
    scaled_orders: float = 0.0  # orders removed by the pro-rata market scaling
    pay: pd.DataFrame = field(default_factory=pd.DataFrame)  # rep_id, period, pay (open periods)

    def to_dict(self, *, with_orders: bool = True) -> dict:
        out = {
            "alignment_efficiency": self.alignment_efficiency, "margin": self.margin, "revenue": self.revenue,
            "pay_cost": self.pay_cost, "pay_cost_share": self.pay_cost / self.revenue if self.revenue else None,
            "plan_margin": self.plan_margin, "exact_model": self.exact_model,
            "models_solved": self.models_solved, "seconds": round(self.seconds, 3),
            "orders_removed_by_market_scaling": self.scaled_orders,
        }
        if with_orders:
            out["orders"] = self.orders.to_dict(orient="records")
        return out


def simulate_grid(params: Parameters, plan: Plan, executor: Executor | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """(scaled orders, chosen orders, models solved), both (R, P, T) over all periods (closed ones 0)."""
    data = response_data(params, plan)
    chosen, solved = simulate_orders(data, executor)
    scaled = scale_to_markets(params, chosen)
    R, P, T = len(params.reps), len(params.products), len(params.periods)
    full_scaled, full_chosen = np.zeros((R, P, T)), np.zeros((R, P, T))
    full_scaled[:, :, params.open_index] = scaled
    full_chosen[:, :, params.open_index] = chosen
    return full_scaled, full_chosen, solved


def simulate(
    dataset: Dataset,
    plan: Plan,
    assumptions: AssumptionSet | None = None,
    *,
    params: Parameters | None = None,
    plan_margin: float | None = None,
    executor: Executor | None = None,
) -> Simulation:
    """Simulate the reps' response to `plan` (§4.5) over the open periods and score it.

    `plan_margin` is the denominator of the alignment efficiency (the plan LP's margin over the
    same open periods); when omitted, the plan LP is solved here. `executor` runs the batches of
    (rep, period) blocks (serial in this process when None).
    """
    started = time.perf_counter()
    params = params or effective_parameters(dataset, assumptions)
    if plan_margin is None:
        result = plan_targets(dataset, assumptions, params=params)
        plan_margin = result.margin
    grid, chosen, solved = simulate_grid(params, plan, executor)
    open_t = params.open_index
    price = params.rep_view(params.price)
    margin_rpt = params.rep_view(params.margin)
    margin = float((margin_rpt * grid)[:, :, open_t].sum())
    revenue = float((price * grid)[:, :, open_t].sum())
    pay = pay_grid(params, plan, grid)[:, open_t]
    r, p, t = np.nonzero(grid[:, :, open_t] > 1e-9)
    orders = pd.DataFrame({
        "rep_id": np.asarray(params.reps, dtype=object)[r],
        "product_id": np.asarray(params.products, dtype=object)[p],
        "period": np.asarray(params.open_periods, dtype=object)[t],
        "orders": grid[:, :, open_t][r, p, t],
    })
    pay_frame = pd.DataFrame({
        "rep_id": np.repeat(params.reps, len(open_t)),
        "period": np.tile(params.open_periods, len(params.reps)),
        "pay": pay.ravel(),
    })
    # a ratio to a plan that makes no margin (or loses money) would read as nonsense, e.g. 15.2
    efficiency = margin / plan_margin if plan_margin is not None and plan_margin > 0 else None
    return Simulation(
        orders=orders, alignment_efficiency=efficiency, margin=margin, revenue=revenue,
        pay_cost=float(pay.sum()), plan_margin=plan_margin,
        exact_model="lp" if Curve.from_frame(plan.curve).is_concave else "mip",
        models_solved=solved, seconds=time.perf_counter() - started,
        scaled_orders=float((chosen - grid).sum()), pay=pay_frame,
    )
