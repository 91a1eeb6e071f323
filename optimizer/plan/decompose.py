"""The §4.1 plan LP solved exactly by period blocks (DESIGN.md §6): the same LP, another algorithm.

The plan LP is block-angular. Capacity, market, supply and change rows each belong to one open
period, and so do the orders and change deviations they use; only the horizon rows — mix_min and
mix_max per product and the budget row, K ≤ 2P + 1 of them — tie the periods together, each with
its own slack column priced at `soft_penalty`. So for prices y ∈ [0, soft_penalty]^K on the horizon
rows the LP splits into one LP per period,

    value_t(y) = max { (c_t − yᵀL_t)·x_t : x_t in period t's block },

and Σ_t value_t(y) + yᵀb is an upper bound on the plan LP's optimum for every such y (Lagrangian
duality; the slacks contribute nothing as long as y ≤ soft_penalty).

1. **Blocks first.** Solve every period's block with y = 0 (through `optimizer.executor`, so in
   parallel when asked). If the combined orders keep every horizon row without slack, the bound is
   attained: the combination is optimal for the whole LP, the horizon rows' duals are 0 and each
   block's row duals are the LP's.
2. **Otherwise, Dantzig–Wolfe.** A master LP over the horizon rows and one convexity row per period
   chooses a convex combination of the block solutions found so far (plus the horizon slacks); its
   duals are the next prices y, every block is re-priced warm from its last basis, and its answer is
   a new column. The master's objective is attained by a feasible plan (a convex combination of
   block-feasible orders is block-feasible); the stop rule is that the Lagrangian bound at the
   current prices meets it to `GAP_TOLERANCE` relative, so the answer is optimal to that tolerance
   and the prices with the blocks' duals are an optimal dual solution (explanations, §4.7).
3. If a block does not end optimal (infeasible, time limit) or the master has not closed the gap
   after `MAX_ROUNDS` rounds or its time budget (`dw_budget`: a multiple of the first block pass
   that grows with how much denser the monolithic matrix is than its blocks), the plan is solved by
   the monolithic `PlanSolver` instead, which reports its own honest status — the decomposition
   never guesses.

Blocks are plain data (`BlockLP`), solved by the module-level `solve_block`, so a Dask worker can
run them. Each process keeps the live HiGHS model of the blocks it solved last (`_LIVE`, a small
LRU): a re-pricing changes the costs in place and re-runs warm. A block that lands in a process
without its model is rebuilt and started from the basis sent with it, which is also how a review
starts warm from the bases stored in the database (`PlanWarmStart`).
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

from optimizer.executor import Executor, SerialExecutor
from optimizer.parameters import Parameters
from optimizer.plan.arrays import PlanSolver, family_duals
from optimizer.plan.explain import binding_constraints, soft_slacks
from optimizer.plan.layout import plan_layout, plan_numbers, plan_structure, positioned_matrix
from optimizer.plan.results import InForce, PlanResult
from optimizer.solve import ERROR, INF, OPTIMAL, SolveOptions, highs_status, new_highs, pass_matrix, run_highs

logger = logging.getLogger(__name__)

HORIZON_FAMILIES = ("mix_min", "mix_max", "budget")  # the rows that link the periods
HORIZON_SLACKS = ("mix_short", "mix_excess", "budget_excess")  # their slack columns, in the same order
GAP_TOLERANCE = 1e-9  # relative gap between the master's plan and the Lagrangian bound at which we stop
MAX_ROUNDS = 200  # Dantzig–Wolfe rounds before handing the LP to the monolithic solver
SMOOTHING = 0.5  # Wentges smoothing of the prices towards the best bound's
DW_TIME_FACTOR = 4.0  # Dantzig–Wolfe may take this many times the first block pass × the density, then monolithic
DW_MIN_SECONDS = 60.0  # ... but never less than this (small plans: the first pass is only milliseconds)
MASTER_COST_SCALE = 1e3  # the master's largest cost after scaling (see `_master`)
CLOSE_GAP = 1e-6  # from this relative gap on, the blocks send their bases back (for the stored warm start)
FEASIBILITY_TOLERANCE = 1e-7  # relative (to the row's scale) excess on a horizon row that counts as kept
LIVE_MODELS = 24  # live block models kept per process (two 12-period plans)
# Below this many order variables the monolithic LP solves in a second or two and the blocks'
# overhead (one model per period, master rounds when the horizon rows bind) buys nothing.
DECOMPOSE_MIN_ORDERS = 20_000


def use_decomposition(params: Parameters, min_orders: int = DECOMPOSE_MIN_ORDERS) -> bool:
    """Whether the period blocks are the faster exact path: two or more open periods, a large LP."""
    n_orders = int(params.sells.sum()) * len(params.open_index)
    return len(params.open_index) >= 2 and n_orders >= min_orders


# --------------------------------------------------------------------------------------------
# Blocks as data


@dataclass
class BlockLP:
    """One open period's block of the plan LP (maximize), and its coefficients in the horizon rows."""

    key: str  # identifies this block's matrix in a process's live-model cache
    period: int  # position among the open periods
    matrix: sp.csc_matrix  # block rows × block columns
    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    link: sp.csr_matrix  # horizon rows × block columns
    fingerprint: str  # digest of every number above: equal fingerprints, equal blocks


@dataclass
class BlockBasis:
    """A simplex basis of one block (HiGHS basis status codes), small enough to store."""

    col_status: np.ndarray  # int8
    row_status: np.ndarray  # int8


@dataclass
class BlockTask:
    block: BlockLP
    prices: np.ndarray  # y on the horizon rows
    basis: BlockBasis | None = None
    time_limit: float | None = None
    want_basis: bool = True  # return the final basis (converting it costs ~15 % of a warm re-pricing)


@dataclass
class BlockSolution:
    period: int
    status: str
    x: np.ndarray | None  # block column values
    row_dual: np.ndarray | None
    value: float  # priced objective (c − yᵀL)·x
    margin: float  # unpriced objective c·x
    link_activity: np.ndarray | None  # L·x
    basis: BlockBasis | None
    iterations: int
    seconds: float
    warm: bool  # started from a live model or a given basis


_LIVE: OrderedDict[str, highspy.Highs] = OrderedDict()  # per process: block key -> live model


# HiGHS basis statuses are pybind enums; building them one by one with HighsBasisStatus(code) cost
# seconds per plan at 648 k columns, indexing a list of the five a fraction of that.
_STATUS_ENUMS = [highspy.HighsBasisStatus(code) for code in range(5)]  # kLower .. kNonbasic


def _basis_of(highs: highspy.Highs) -> BlockBasis:
    basis = highs.getBasis()
    return BlockBasis(col_status=np.array(basis.col_status, dtype=np.int8),
                      row_status=np.array(basis.row_status, dtype=np.int8))


def _set_basis(highs: highspy.Highs, basis: BlockBasis) -> bool:
    hb = highspy.HighsBasis()
    hb.col_status = [_STATUS_ENUMS[code] for code in basis.col_status.tolist()]
    hb.row_status = [_STATUS_ENUMS[code] for code in basis.row_status.tolist()]
    hb.valid = True
    return highs.setBasis(hb) != highspy.HighsStatus.kError


def solve_block(task: BlockTask) -> BlockSolution:
    """Solve one block at the given horizon prices, warm from this process's live model or a basis."""
    started = time.perf_counter()
    block = task.block
    priced = block.cost - block.link.T @ task.prices if task.prices.any() else block.cost
    highs = _LIVE.pop(block.key, None)
    warm = highs is not None
    if highs is None:
        highs = new_highs()
        pass_matrix(highs, block.matrix, priced, block.col_lower, block.col_upper, block.row_lower, block.row_upper)
        if task.basis is not None and len(task.basis.col_status) == block.matrix.shape[1] \
                and len(task.basis.row_status) == block.matrix.shape[0]:
            warm = _set_basis(highs, task.basis)
    else:
        n = block.matrix.shape[1]
        highs.changeColsCost(n, np.arange(n, dtype=np.int32), priced)
    _LIVE[block.key] = highs
    while len(_LIVE) > LIVE_MODELS:
        _LIVE.popitem(last=False)
    before = int(highs.getInfo().simplex_iteration_count) if warm else 0
    run_highs(highs, task.time_limit)
    status = highs_status(highs)
    iterations = max(0, int(highs.getInfo().simplex_iteration_count) - before) if warm else \
        int(highs.getInfo().simplex_iteration_count)
    if status == ERROR and warm:
        # HiGHS occasionally gives up on a warm re-pricing (numerical trouble in the primal
        # simplex after a large change of costs); the block is then solved again from scratch.
        logger.info("block %d: warm re-pricing ended %s; solving it cold", block.period,
                    highs.modelStatusToString(highs.getModelStatus()))
        _LIVE.pop(block.key, None)
        highs = new_highs()
        pass_matrix(highs, block.matrix, priced, block.col_lower, block.col_upper, block.row_lower, block.row_upper)
        _LIVE[block.key] = highs
        left = None if task.time_limit is None else max(0.0, task.time_limit - (time.perf_counter() - started))
        run_highs(highs, left)
        status = highs_status(highs)
        iterations += int(highs.getInfo().simplex_iteration_count)
    if status != OPTIMAL:
        _LIVE.pop(block.key, None)
        return BlockSolution(period=block.period, status=status, x=None, row_dual=None, value=float("nan"),
                             margin=float("nan"), link_activity=None, basis=None, iterations=iterations,
                             seconds=time.perf_counter() - started, warm=warm)
    solution = highs.getSolution()
    x = np.asarray(solution.col_value)
    return BlockSolution(
        period=block.period, status=status, x=x, row_dual=np.asarray(solution.row_dual),
        value=float(priced @ x), margin=float(block.cost @ x), link_activity=block.link @ x,
        basis=_basis_of(highs) if task.want_basis else None, iterations=iterations,
        seconds=time.perf_counter() - started, warm=warm,
    )


# --------------------------------------------------------------------------------------------
# Cutting the LP into blocks


@dataclass
class PlanWarmStart:
    """What a later solve of the same plan can start from, per open period (by label): the block's
    fingerprint, its last basis and — when the block was solved at the final prices — its solution
    (column values and row duals), so that an unchanged block need not be solved again."""

    fingerprints: dict[str, str]
    bases: dict[str, BlockBasis]
    prices: np.ndarray | None = None  # horizon prices of the last solve
    solutions: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # label -> (x, row duals)


@dataclass
class DecomposeStats:
    """How the decomposed solve went; `plan_lp` in a review's result is built from it."""

    rounds: int = 0  # Dantzig–Wolfe master rounds (0: the blocks alone were optimal)
    blocks: int = 0
    blocks_resolved: int = 0  # blocks solved (not taken as stored: unchanged numbers at unchanged prices)
    warm: bool = False
    horizon_rows_bind: bool = False
    fallback: str = ""  # why the monolithic solver was used, if it was
    block_seconds: list[float] = field(default_factory=list)


def _fingerprint(*arrays: np.ndarray) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for a in arrays:
        a = np.ascontiguousarray(a)
        digest.update(str(a.shape).encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


class PeriodDecomposition:
    """The plan LP of `PlanSolver`, cut into one block per open period plus the horizon rows."""

    def __init__(self, params: Parameters, in_force: InForce | None = None, *,
                 options: SolveOptions | None = None):
        started = time.perf_counter()
        self.params, self.in_force = params, in_force
        self.options = options or SolveOptions()
        self.layout = plan_layout(plan_structure(params, in_force), params, in_force, "natural")
        self.numbers = num = plan_numbers(self.layout, params, in_force)
        lay = self.layout
        matrix = positioned_matrix(lay, num.coef)  # natural ordering: canonical order
        n_t = lay.structure.n_periods
        cols, rows = lay.col_slices, lay.row_slices
        col_period = np.full(lay.n_cols, -1)
        col_period[cols["orders"]] = np.arange(cols["orders"].stop - cols["orders"].start) % n_t
        col_period[cols["change_up"]] = lay.change_period
        col_period[cols["change_down"]] = lay.change_period
        row_period = np.full(lay.n_rows, -1)
        for family in ("capacity", "market", "supply"):
            r = rows[family]
            row_period[r] = np.arange(r.stop - r.start) % n_t
        row_period[rows["change"]] = lay.change_period
        self.horizon_rows = np.concatenate([np.arange(rows[f].start, rows[f].stop) for f in HORIZON_FAMILIES])
        self.horizon_slacks = np.concatenate([np.arange(cols[c].start, cols[c].stop) for c in HORIZON_SLACKS])
        self.horizon_rhs = num.row_upper[self.horizon_rows]
        self.slack_cost = num.cost[self.horizon_slacks]  # −soft_penalty each
        by_row = matrix.tocsr()
        horizon = by_row[self.horizon_rows]
        self.horizon_matrix = horizon
        token = uuid.uuid4().hex
        self.block_cols, self.block_rows, self.blocks = [], [], []
        for t in range(n_t):
            bc, br = np.nonzero(col_period == t)[0], np.nonzero(row_period == t)[0]
            block_matrix = by_row[br][:, bc].tocsc()
            link = horizon[:, bc].tocsr()
            parts = (num.cost[bc], num.col_lower[bc], num.col_upper[bc], num.row_lower[br], num.row_upper[br],
                     block_matrix.indptr, block_matrix.indices, block_matrix.data,
                     link.indptr, link.indices, link.data)
            self.block_cols.append(bc)
            self.block_rows.append(br)
            self.blocks.append(BlockLP(
                key=f"{token}:{t}", period=t, matrix=block_matrix, cost=num.cost[bc], col_lower=num.col_lower[bc],
                col_upper=num.col_upper[bc], row_lower=num.row_lower[br], row_upper=num.row_upper[br], link=link,
                fingerprint=_fingerprint(*parts),
            ))
        self.build_seconds = time.perf_counter() - started

    @property
    def n_horizon_rows(self) -> int:
        return len(self.horizon_rows)

    @property
    def density(self) -> float:
        """Non-zeros of the whole LP over those of its blocks: how much the dense horizon rows (each
        has an entry for every order) add to the monolithic matrix. With binding mix rules on 50
        products they are 28 rows and make the monolithic matrix ≈ 9 × the blocks'."""
        block_nnz = sum(b.matrix.nnz for b in self.blocks)
        return (block_nnz + self.horizon_matrix.nnz) / max(1, block_nnz)

    def dw_budget(self, first_pass: float) -> float:
        """Seconds the Dantzig–Wolfe rounds may take before the monolithic solver is used instead.

        The monolithic LP costs some multiple of the first block pass that grows with the dense
        horizon rows: ≈ 6 × at 1,000 × 50 × 12 without mix rules (density 1.3), ≈ 130 × at
        200 × 50 × 12 with 28 binding mix rows (density 9.4). The budget is DW_TIME_FACTOR × the
        first pass × the density (at least DW_MIN_SECONDS), so that giving up costs a fraction of
        the monolithic solve that follows."""
        return max(DW_MIN_SECONDS, DW_TIME_FACTOR * self.density * first_pass)

    # -- solving ---------------------------------------------------------------------------

    def solve(self, executor: Executor | None = None, warm: PlanWarmStart | None = None,
              time_limit: float | None = None) -> tuple[PlanResult, PlanWarmStart, DecomposeStats]:
        """Solve exactly; return the plan, what a later solve can start warm from, and how it went."""
        try:
            return self._solve(executor, warm, time_limit)
        finally:  # this process's live models of these blocks are of no use to anyone else
            for block in self.blocks:
                _LIVE.pop(block.key, None)

    def _solve(self, executor: Executor | None, warm: PlanWarmStart | None,
               time_limit: float | None) -> tuple[PlanResult, PlanWarmStart, DecomposeStats]:
        executor = executor or SerialExecutor()
        limit = time_limit if time_limit is not None else self.options.time_limit
        started = time.perf_counter()
        stats = DecomposeStats(blocks=len(self.blocks))
        n_k = self.n_horizon_rows
        prices = np.zeros(n_k)
        label = self.params.open_periods
        bases: dict[int, BlockBasis] = {}
        reusable: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # unchanged blocks solved at the start prices
        if warm is not None:
            unchanged = [b.period for b in self.blocks if warm.fingerprints.get(label[b.period]) == b.fingerprint]
            bases = {b.period: warm.bases[label[b.period]] for b in self.blocks if label[b.period] in warm.bases}
            stats.warm = bool(bases)
            if warm.prices is not None and len(warm.prices) == n_k:
                prices = np.asarray(warm.prices, dtype=float)
                reusable = {t: warm.solutions[label[t]] for t in unchanged if label[t] in warm.solutions}
        resolved: set[int] = set()  # blocks that went to the solver at least once
        final: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # block solutions at the last prices

        def remaining() -> float | None:
            return None if limit is None else max(0.0, limit - (time.perf_counter() - started))

        def price_all(y: np.ndarray, want_basis: bool = True) -> list[BlockSolution] | None:
            kept = {t: self._reused(t, *reusable.pop(t), y) for t in list(reusable)}
            tasks = [BlockTask(block=b, prices=y, basis=bases.get(b.period), time_limit=remaining(),
                               want_basis=want_basis)
                     for b in self.blocks if b.period not in kept]
            solved = executor.map(solve_block, tasks)
            resolved.update(task.block.period for task in tasks)
            stats.blocks_resolved = len(resolved)
            solutions = sorted([*kept.values(), *solved], key=lambda s: s.period)
            final.clear()
            for s in solutions:
                stats.block_seconds.append(s.seconds)
                if s.basis is not None:
                    bases[s.period] = s.basis
                if s.x is not None:
                    final[s.period] = (s.x, s.row_dual)
            if any(s.status != OPTIMAL for s in solutions):
                bad = next(s for s in solutions if s.status != OPTIMAL)
                stats.fallback = f"block {self.params.open_periods[bad.period]} ended {bad.status}"
                return None
            return solutions

        iterations = 0
        solutions = price_all(prices)
        if solutions is None:
            return self._monolithic(stats, remaining(), started, bases, prices)
        iterations += sum(s.iterations for s in solutions)
        activity = sum(s.link_activity for s in solutions) if n_k else np.zeros(0)
        if not prices.any() and self._kept(activity):
            x_blocks = [s.x for s in solutions]
            result = self._result(x_blocks, [s.row_dual for s in solutions], prices, iterations, started)
            return result, self._warm_start(bases, prices, final), stats

        # Dantzig–Wolfe over the horizon rows, prices smoothed towards the best bound so far
        # (Wentges): the blocks are priced at α·centre + (1 − α)·master duals, which damps the
        # oscillation of plain column generation; a block answer joins the master when its reduced
        # cost at the master's own duals is positive. Budget: `dw_budget` (a guard, see there).
        stats.horizon_rows_bind = True
        first_pass = time.perf_counter() - started
        budget = self.dw_budget(first_pass)
        proposals: list[list[BlockSolution]] = [[s] for s in solutions]
        best_upper, centre, centre_duals, centre_answers = float("inf"), None, None, {}
        if prices.any():  # a warm start's prices: their Lagrangian bound is the first stability centre
            best_upper = sum(s.value for s in solutions) + float(prices @ self.horizon_rhs)
            centre, centre_duals, centre_answers = prices, [s.row_dual for s in solutions], dict(final)
        smooth, close = True, False
        for round_ in range(1, MAX_ROUNDS + 1):
            stats.rounds = round_
            master = self._master(proposals)
            if master is None:
                stats.fallback = "the master LP did not solve"
                break
            lower, master_prices, mu, weights = master
            prices = master_prices if centre is None or not smooth else \
                SMOOTHING * centre + (1.0 - SMOOTHING) * master_prices
            solutions = price_all(prices, want_basis=close)  # bases only near the end: they cost time
            if solutions is None:
                return self._monolithic(stats, remaining(), started, bases, prices)
            iterations += sum(s.iterations for s in solutions)
            upper = sum(s.value for s in solutions) + float(prices @ self.horizon_rhs)
            if upper < best_upper:
                best_upper, centre, centre_duals = upper, prices, [s.row_dual for s in solutions]
                centre_answers = dict(final)  # the block answers at the centre's prices
            gap = best_upper - lower
            close = gap <= CLOSE_GAP * max(1.0, abs(lower))
            logger.debug("decomposition round %d: master %.10g, bound %.10g, gap %.3g", round_, lower, best_upper, gap)
            if gap <= GAP_TOLERANCE * max(1.0, abs(lower)):
                x_blocks = [sum(w * p.x for w, p in zip(weights[t], proposals[t]) if w > 0)
                            for t in range(len(self.blocks))]
                result = self._result(x_blocks, centre_duals, centre, iterations, started)
                return result, self._warm_start(bases, centre, centre_answers), stats
            added = 0
            for t, s in enumerate(solutions):
                reduced = s.margin - float(master_prices @ s.link_activity) - mu[t]
                if reduced > GAP_TOLERANCE * max(1.0, abs(s.margin)):
                    proposals[t].append(s)
                    added += 1
            if not added and not (smooth and centre is not None):
                stats.fallback = "column generation stalled short of the gap tolerance"
                break
            smooth = bool(added)  # a mis-priced round: price at the master's own duals next
            if remaining() == 0.0:
                stats.fallback = "time limit reached in the decomposition"
                break
            if time.perf_counter() - started > first_pass + budget:
                stats.fallback = (f"the master did not close the gap within its budget of {budget:.3g} s "
                                  f"({round_} rounds)")
                break
        else:
            stats.fallback = f"the master did not close the gap in {MAX_ROUNDS} rounds"
        return self._monolithic(stats, remaining(), started, bases, prices)

    def _kept(self, activity: np.ndarray) -> bool:
        """Every horizon row holds without slack (to a tolerance relative to the row's scale)."""
        if not len(activity):
            return True
        scale = np.maximum(1.0, np.maximum(np.abs(self.horizon_rhs), np.abs(activity)))
        return bool(np.all(activity - self.horizon_rhs <= FEASIBILITY_TOLERANCE * scale))

    def _master(self, proposals: list[list[BlockSolution]]):
        """Solve the restricted master; return (objective, prices y, convexity duals μ, weights λ).

        Rows are scaled to their largest entry and the costs so that the largest is MASTER_COST_SCALE
        (margins are ~1e7, link activities ~1e6: unscaled, HiGHS's dual simplex failed on "excessive
        dual values" at 100 × 50 × 12; scaled to 1, the reduced costs were too coarse for the 1e-9 gap
        and the rounds stalled); the duals are scaled back."""
        n_k, n_t = self.n_horizon_rows, len(self.blocks)
        columns = [(t, p) for t in range(n_t) for p in proposals[t]]
        n_prop = len(columns)
        link = np.array([p.link_activity for _, p in columns]).reshape(n_prop, n_k).T  # K × columns
        margin = np.array([p.margin for _, p in columns])
        row_scale = 1.0 / np.maximum(1.0, np.maximum(np.abs(self.horizon_rhs),
                                                     np.abs(link).max(axis=1) if n_prop else 0.0))
        obj_scale = MASTER_COST_SCALE / max(1.0, float(np.abs(margin).max()) if n_prop else 1.0)
        scaled = link * row_scale[:, None]
        scaled[np.abs(scaled) < 1e-13] = 0.0
        period = np.array([t for t, _ in columns])
        top = sp.hstack([sp.csc_matrix(scaled), -sp.identity(n_k, format="csc")])
        convexity = sp.hstack([sp.csc_matrix((np.ones(n_prop), (period, np.arange(n_prop))), shape=(n_t, n_prop)),
                               sp.csc_matrix((n_t, n_k))])
        matrix = sp.vstack([top, convexity]).tocsc()
        matrix.eliminate_zeros()
        n_cols = n_prop + n_k
        cost = np.concatenate([margin * obj_scale, self.slack_cost * obj_scale / row_scale])
        highs = new_highs()
        row_lower = np.concatenate([np.full(n_k, -INF), np.ones(n_t)])
        row_upper = np.concatenate([self.horizon_rhs * row_scale, np.ones(n_t)])
        pass_matrix(highs, matrix, cost, np.zeros(n_cols), np.full(n_cols, INF), row_lower, row_upper)
        highs.run()
        if highs_status(highs) != OPTIMAL:  # once more with the primal simplex, from scratch
            logger.info("decomposition master ended %s; trying the primal simplex",
                        highs.modelStatusToString(highs.getModelStatus()))
            highs.clearSolver()
            highs.setOptionValue("simplex_strategy", 4)
            highs.run()
        if highs_status(highs) != OPTIMAL:
            logger.warning("decomposition master ended %s", highs.modelStatusToString(highs.getModelStatus()))
            return None
        solution = highs.getSolution()
        duals = np.asarray(solution.row_dual)
        # Prices are the horizon rows' duals, inside [0, soft_penalty] up to round-off.
        prices = np.clip(duals[:n_k] * row_scale / obj_scale, 0.0, -self.slack_cost)
        lam = np.asarray(solution.col_value)
        weights, j = [], 0
        for t in range(n_t):
            weights.append(lam[j:j + len(proposals[t])])
            j += len(proposals[t])
        return float(highs.getInfo().objective_function_value) / obj_scale, prices, duals[n_k:] / obj_scale, weights

    def _monolithic(self, stats: DecomposeStats, time_limit: float | None, started: float,
                    bases: dict[int, BlockBasis], prices: np.ndarray):
        logger.info("plan LP decomposition falls back to the monolithic solver: %s", stats.fallback)
        solver = PlanSolver(self.params, self.in_force, options=self.options)
        result = solver.solve(time_limit=time_limit)
        result.build_seconds = self.build_seconds
        result.solve_seconds = time.perf_counter() - started
        return result, self._warm_start(bases, prices), stats

    def _warm_start(self, bases: dict[int, BlockBasis], prices: np.ndarray,
                    solutions: dict[int, tuple[np.ndarray, np.ndarray]] | None = None) -> PlanWarmStart:
        label = self.params.open_periods
        return PlanWarmStart(fingerprints={label[b.period]: b.fingerprint for b in self.blocks},
                             bases={label[t]: basis for t, basis in bases.items()},
                             prices=np.asarray(prices, dtype=float).copy(),
                             solutions={label[t]: answer for t, answer in (solutions or {}).items()})

    def _reused(self, t: int, x: np.ndarray, row_dual: np.ndarray, prices: np.ndarray) -> BlockSolution:
        """An unchanged block's stored answer at unchanged prices, as if it had just been solved."""
        block = self.blocks[t]
        priced = block.cost - block.link.T @ prices
        return BlockSolution(period=t, status=OPTIMAL, x=x, row_dual=row_dual, value=float(priced @ x),
                             margin=float(block.cost @ x), link_activity=block.link @ x, basis=None,
                             iterations=0, seconds=0.0, warm=True)

    # -- the answer ------------------------------------------------------------------------

    def _result(self, x_blocks: list[np.ndarray], row_duals: list[np.ndarray], prices: np.ndarray,
                iterations: int, started: float) -> PlanResult:
        """The combined plan as the monolithic solver would report it (same fields, same explanations)."""
        lay, num, params, s = self.layout, self.numbers, self.params, self.layout.structure
        cols = lay.col_slices
        x = np.zeros(lay.n_cols)
        y = np.zeros(lay.n_rows)
        for bc, br, xb, yb in zip(self.block_cols, self.block_rows, x_blocks, row_duals):
            x[bc] = xb
            y[br] = yb
        y[self.horizon_rows] = prices
        # Horizon slacks: the least that keeps each row (what the monolithic LP's slack would be).
        if self.n_horizon_rows:
            activity = self.horizon_matrix @ x  # slack columns are still 0 here
            x[self.horizon_slacks] = np.maximum(0.0, activity - self.horizon_rhs)
        o = np.maximum(x[cols["orders"]], 0.0)
        v = params.price[params.rep_market[s.rp_rep], s.rp_product][:, s.open_index].ravel()
        change_cols = np.r_[cols["change_up"], cols["change_down"]]
        names = [(params.products[p], float(x[cols[slack]][j])) for slack, members in
                 (("mix_short", s.min_mix), ("mix_excess", s.max_mix)) for j, p in enumerate(members)]
        n_short = len(s.min_mix)
        duals = family_duals(lay, params, y)
        n_t = s.n_periods
        orders = pd.DataFrame({
            "rep_id": np.asarray(params.reps, dtype=object)[np.repeat(s.rp_rep, n_t)],
            "product_id": np.asarray(params.products, dtype=object)[np.repeat(s.rp_product, n_t)],
            "period": np.asarray(params.open_periods, dtype=object)[np.tile(np.arange(n_t), len(s.rp_rep))],
            "orders": o,
        })
        return PlanResult(
            status=OPTIMAL,
            objective=float(num.cost @ x),
            margin=float(num.cost[cols["orders"]] @ o),
            revenue=float(v @ o),
            change_cost=float(-(num.cost[change_cols] @ x[change_cols])),
            orders=orders,
            slacks=soft_slacks(dict(names[:n_short]), dict(names[n_short:]),
                                           float(x[cols["budget_excess"]][0])),
            binding=binding_constraints(duals, params),
            n_variables=lay.n_cols, n_constraints=lay.n_rows,
            build_seconds=self.build_seconds, solve_seconds=time.perf_counter() - started,
            iterations=iterations,
        )


def solve_plan_decomposed(params: Parameters, in_force: InForce | None = None, *,
                          options: SolveOptions | None = None, executor: Executor | None = None,
                          warm: PlanWarmStart | None = None) -> tuple[PlanResult, PlanWarmStart, DecomposeStats]:
    """Build the period blocks and solve the plan LP exactly through them (see the module docstring)."""
    started = time.perf_counter()
    decomposition = PeriodDecomposition(params, in_force, options=options)
    result, warm_start, stats = decomposition.solve(executor, warm)
    result.build_seconds = decomposition.build_seconds
    result.solve_seconds = time.perf_counter() - started - decomposition.build_seconds
    if result.status not in (OPTIMAL,) and not stats.fallback:
        stats.fallback = result.message or ERROR
    return result, warm_start, stats


def plan_for_review(params: Parameters, in_force: InForce | None = None, *, options: SolveOptions | None = None,
                    warm: PlanWarmStart | None = None, executor: Executor | None = None,
                    min_orders: int = DECOMPOSE_MIN_ORDERS) -> tuple[PlanResult, PlanWarmStart | None, dict]:
    """The plan LP of a review: by period blocks (warm from `warm`) where that is faster, else monolithic.

    Returns the plan, the warm start to keep for the next review (None on the monolithic path) and
    the `plan_lp` summary a review reports: seconds (build + solve), warm, blocks_resolved.
    """
    started = time.perf_counter()
    if not use_decomposition(params, min_orders):
        result = PlanSolver(params, in_force, options=options).solve()
        return result, None, {"seconds": round(time.perf_counter() - started, 3), "warm": False,
                              "blocks_resolved": None, "method": "monolithic", "objective": result.objective}
    result, warm_out, stats = solve_plan_decomposed(params, in_force, options=options, executor=executor, warm=warm)
    summary = {"seconds": round(time.perf_counter() - started, 3), "warm": stats.warm,
               "blocks_resolved": stats.blocks_resolved, "blocks": stats.blocks, "method": "decomposed",
               "horizon_rows_bind": stats.horizon_rows_bind, "master_rounds": stats.rounds,
               "objective": result.objective}
    if stats.fallback:
        summary["fallback"] = stats.fallback
    return result, (warm_out if result.status == OPTIMAL else None), summary
