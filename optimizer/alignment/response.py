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

Reuse. One recommendation simulates many plans that share most of their batches: the pay-cut repair
moves the targets of the short reps only, the screen simulates a pilot's plan again, the plan in
force is the same plan each time. A `BatchMemo` (owned by the caller — one per recommendation, never
module-global) keeps each solved batch's orders under a digest of every array `solve_blocks` reads;
a batch whose digest is known is not solved again. The unit is the batch, not the (rep, period)
block: HiGHS's answer for a block in a block-diagonal model depends on its batch-mates in the last
bits (measured: 7 of the sample's 450 blocks move by ≤ 5e-15 when batched differently), so only a
whole batch of the usual composition (blocks in (rep, period) order, BLOCK_BATCH a batch) gives
the bits solving it gives. `simulate_plans` simulates several plans in one go: the unknown batches
of all of them (each distinct one once) go to the executor in one `map`.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

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
MEMO_BYTES = 512 * 2**20  # a BatchMemo keeps at most this many bytes of solved orders (least recently used go)
PENDING_BYTES = 256 * 2**20  # simulate_plans sends the unknown batches of its plans in groups of about this size


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


def batch_key(blocks: Blocks) -> bytes:
    """A digest of everything `solve_blocks` reads from a batch: equal keys, equal answers."""
    digest = hashlib.blake2b(digest_size=20)
    for f in fields(Blocks):
        array = np.ascontiguousarray(getattr(blocks, f.name))
        digest.update(f"{f.name}{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.digest()


class BatchMemo:
    """Solved batches by `batch_key`: (orders, HiGHS models), least recently used dropped beyond `max_bytes`.

    Owned by one caller (a recommendation) and passed down; `hits`/`solved` count batches taken from
    the memo and batches handed to `solve_blocks`.
    """

    def __init__(self, max_bytes: int = MEMO_BYTES) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = self.solved = 0
        self._store: OrderedDict[bytes, tuple[np.ndarray, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._store)

    def get(self, key: bytes) -> tuple[np.ndarray, int] | None:
        found = self._store.get(key)
        if found is not None:
            self._store.move_to_end(key)
        return found

    def put(self, key: bytes, value: tuple[np.ndarray, int]) -> None:
        if key in self._store:
            return
        self._store[key] = value
        self.bytes += value[0].nbytes
        while self.bytes > self.max_bytes and len(self._store) > 1:
            _, (orders, _) = self._store.popitem(last=False)
            self.bytes -= orders.nbytes


def solve_batches(batches: Sequence[Blocks | None], executor: Executor | None = None,
                  memo: BatchMemo | None = None, keys: Sequence[bytes] | None = None) -> list[tuple[np.ndarray, int]]:
    """`solve_blocks` of every batch, in order, through `executor` (serial when None) in one `map`.

    With a memo, only the batches it does not know are solved, each distinct one once; a batch
    taken from the memo (or solved for an earlier batch of the list) counts 0 models. `keys` are the
    batches' `batch_key`s when already computed; a batch may then be None if the memo knows its key.
    """
    run = executor or SerialExecutor()
    if memo is None:
        return run.map(solve_blocks, list(batches))
    keys = list(keys) if keys is not None else [batch_key(b) for b in batches]
    known: dict[bytes, tuple[np.ndarray, int]] = {}
    todo: dict[bytes, Blocks] = {}
    for key, b in zip(keys, batches):  # every look-up before any put: nothing is evicted in between
        if key in known or key in todo:
            continue
        found = memo.get(key)
        if found is not None:
            known[key] = (found[0], 0)
        elif b is None:
            raise KeyError("a batch left out as known is not in the memo")
        else:
            todo[key] = b
    memo.hits += len(keys) - len(todo)
    memo.solved += len(todo)
    for key, result in zip(todo, run.map(solve_blocks, list(todo.values()))):
        memo.put(key, result)
        known[key] = result
    out = []
    for key in keys:
        out.append(known[key])
        known[key] = (known[key][0], 0)  # a batch's models count once
    return out


def simulate_orders(data: ResponseData, executor: Executor | None = None,
                    memo: BatchMemo | None = None) -> tuple[np.ndarray, int]:
    """Each rep's own best orders per (rep, product, open period), before the market scaling.

    Returns (orders (R, P, T), number of HiGHS models solved). The blocks go in batches of
    BLOCK_BATCH to `solve_blocks` (exact: LP if f is concave, else LP relaxation then MIP for the
    blocks it leaves fractional), one batch per task of the executor (serial when None); batches
    `memo` knows are taken from it.
    """
    where, batches = block_batches(data)
    return _assemble(data.cap.shape, where, solve_batches(batches, executor, memo))


def _assemble(shape, where, results) -> tuple[np.ndarray, int]:
    orders = np.zeros(shape)
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
    models_solved: int  # HiGHS models solved for it (batches taken from a memo count 0)
    seconds: float
    scaled_orders: float = 0.0  # orders removed by the pro-rata market scaling
    pay: pd.DataFrame = field(default_factory=pd.DataFrame)  # rep_id, period, pay (open periods)
    # per rep, in the order of params.reps, over the open periods: variable pay and the company's margin
    rep_pay: np.ndarray | None = None
    rep_margin: np.ndarray | None = None

    @property
    def net_margin(self) -> float:
        """Margin minus variable pay: the company's profit from the plan (the search's default objective)."""
        return self.margin - self.pay_cost

    def to_dict(self, *, with_orders: bool = True) -> dict:
        out = {
            "alignment_efficiency": self.alignment_efficiency, "margin": self.margin, "revenue": self.revenue,
            "pay_cost": self.pay_cost, "net_margin": self.net_margin, "pay_cost_share": self.pay_cost / self.revenue if self.revenue else None,
            "plan_margin": self.plan_margin, "exact_model": self.exact_model,
            "models_solved": self.models_solved, "seconds": round(self.seconds, 3),
            "orders_removed_by_market_scaling": self.scaled_orders,
        }
        if with_orders:
            out["orders"] = self.orders.to_dict(orient="records")
        return out


def simulate_grid(params: Parameters, plan: Plan, executor: Executor | None = None,
                  memo: BatchMemo | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """(scaled orders, chosen orders, models solved), both (R, P, T) over all periods (closed ones 0)."""
    data = response_data(params, plan)
    chosen, solved = simulate_orders(data, executor, memo)
    return _grids(params, chosen) + (solved,)


def _grids(params: Parameters, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scaled = scale_to_markets(params, chosen)
    R, P, T = len(params.reps), len(params.products), len(params.periods)
    full_scaled, full_chosen = np.zeros((R, P, T)), np.zeros((R, P, T))
    full_scaled[:, :, params.open_index] = scaled
    full_chosen[:, :, params.open_index] = chosen
    return full_scaled, full_chosen


def simulate(
    dataset: Dataset,
    plan: Plan,
    assumptions: AssumptionSet | None = None,
    *,
    params: Parameters | None = None,
    plan_margin: float | None = None,
    executor: Executor | None = None,
    memo: BatchMemo | None = None,
) -> Simulation:
    """Simulate the reps' response to `plan` (§4.5) over the open periods and score it.

    `plan_margin` is the denominator of the alignment efficiency (the plan LP's margin over the
    same open periods); when omitted, the plan LP is solved here. `executor` runs the batches of
    (rep, period) blocks (serial in this process when None); `memo` supplies the batches it knows.
    """
    params = params or effective_parameters(dataset, assumptions)
    if plan_margin is None:
        result = plan_targets(dataset, assumptions, params=params)
        plan_margin = result.margin
    return simulate_plans([plan], params=params, plan_margin=plan_margin, executor=executor, memo=memo)[0]


def simulate_plans(plans: Sequence[Plan], *, params: Parameters, plan_margin: float | None,
                   executor: Executor | None = None, memo: BatchMemo | None = None) -> list[Simulation]:
    """`simulate` of several plans under the same parameters, their solves sent together.

    Without a memo each plan's batches are solved in their own `map`, as `simulate` always did. With
    one, the batches the memo does not know — of all the plans, each distinct one once — go to the
    executor in one `map` per group of plans holding about PENDING_BYTES of such batches (so that
    `workers` > 1 works on several plans at once while memory stays bounded); only those batches are
    kept until the solve. A plan's `seconds` is its own preparation and scoring plus an equal share
    of its group's solve.
    """
    out: list[Simulation] = []
    group: list[tuple[Plan, tuple, list, list[bytes], list[Blocks | None], float]] = []
    pending: set[bytes] = set()
    pending_bytes = 0

    def flush() -> None:
        started = time.perf_counter()
        results = solve_batches([b for *_, batches, _ in group for b in batches], executor, memo,
                                keys=[k for *_, keys, _, _ in group for k in keys] if memo is not None else None)
        share = (time.perf_counter() - started) / max(len(group), 1)
        at = 0
        for plan, shape, where, keys, batches, prepared in group:
            mine = results[at:at + len(batches)]
            at += len(batches)
            begun = time.perf_counter()
            chosen, solved = _assemble(shape, where, mine)
            sim = _score(params, plan, chosen, solved, plan_margin)
            sim.seconds = prepared + share + time.perf_counter() - begun
            out.append(sim)
        group.clear()

    for plan in plans:
        begun = time.perf_counter()
        data = response_data(params, plan)
        where, batches = block_batches(data)
        keys: list[bytes] = []
        if memo is not None:
            keys = [batch_key(b) for b in batches]
            for i, key in enumerate(keys):
                if key in pending:
                    batches[i] = None  # an earlier plan of the group brings it
                elif memo.get(key) is not None:
                    batches[i] = None
                else:
                    pending.add(key)
                    pending_bytes += sum(getattr(batches[i], f.name).nbytes for f in fields(Blocks))
        group.append((plan, data.cap.shape, where, keys, batches, time.perf_counter() - begun))
        del data
        if memo is None or pending_bytes >= PENDING_BYTES:
            flush()
            pending.clear()
            pending_bytes = 0
    if group:
        flush()
    return out


def _score(params: Parameters, plan: Plan, chosen: np.ndarray, solved: int,
           plan_margin: float | None) -> Simulation:
    """The Simulation of a plan from the reps' chosen orders (open periods): market scaling, margin, pay."""
    grid, chosen = _grids(params, chosen)
    open_t = params.open_index
    price = params.rep_view(params.price)
    margin_rpt = params.rep_view(params.margin)
    rep_margin = (margin_rpt * grid)[:, :, open_t].sum(axis=(1, 2))
    margin = float(rep_margin.sum())
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
        models_solved=solved, seconds=0.0,
        scaled_orders=float((chosen - grid).sum()), pay=pay_frame, rep_pay=pay.sum(axis=1), rep_margin=rep_margin,
    )
