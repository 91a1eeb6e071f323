"""Benchmarks of the plan LP (DESIGN.md §6): the product path against HiGHS alone on the same LP.

An instance is a seeded synthetic company (`models.synthetic`) or a dataset folder. For each one we
time, in separate fresh processes so that neither one's memory or HiGHS state leaks into the other:

- the **product** path, `optimizer.plan.arrays.PlanSolver`: build (parameters → live HiGHS model),
  solve (HiGHS run + the full `PlanResult`: orders, slacks, explanations) and re-solve after a
  tactical change (`update()`: diff the parameters, change what moved, warm run, full result);
- the **floor**: the identical LP written here a second time, plainly, from the same numpy arrays —
  orders in the natural (rep, product, period) order, rows family by family — passed to highspy with
  default options; solve = `run()` + reading the solution, re-solve = `changeRowsBounds` +
  `changeColsBounds` for exactly the rows and columns the change touches + `run()` warm + reading
  the solution.

The floor is independent of the product path **on purpose**: it is built here from the parameter
arrays without `optimizer/plan/` (it shares only the parameters and the HiGHS set-up in
`optimizer/solve.py`), so it is not a second copy to keep in step but a check — both objectives must
agree to 1e-6 relative, which tests the product's matrix — and its time is HiGHS alone on the same LP. `run_benchmark` returns one JSON-ready dict per instance; the
`comptune bench` command and `POST /v1/benchmarks` call it.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import scipy.sparse as sp

from models.assumptions import AssumptionSet
from models.dataset import Dataset, dataset_from_tables, load_dataset
from optimizer.parameters import Parameters, effective_parameters
from optimizer.plan.results import InForce, in_force_for
from optimizer.processes import die_with_parent
from optimizer.solve import new_highs, pass_matrix

logger = logging.getLogger(__name__)

# Named instances: reps × products × periods (8 markets, seed 0), and the shipped sample company.
SIZES: dict[str, dict] = {
    "sample": {"dataset": "datasets/sample",  # its own south-freeze scenario as the tactical change
               "resolve_change": {"markets": ["south"], "periods": {"from": "2026-04"}}},
    "small": {"reps": 50, "products": 10, "periods": 12},
    "medium": {"reps": 1000, "products": 50, "periods": 12},
    "large": {"reps": 2000, "products": 50, "periods": 12},
    # the same companies with mix rules that bind: the decomposition must go past its first block pass
    "small-binding": {"reps": 50, "products": 10, "periods": 12, "binding_mix": True},
    "mid-binding": {"reps": 300, "products": 50, "periods": 12, "binding_mix": True},
    "medium-binding": {"reps": 1000, "products": 50, "periods": 12, "binding_mix": True},
    "large-binding": {"reps": 2000, "products": 50, "periods": 12, "binding_mix": True},
}
AGREEMENT = 1e-6  # relative objective difference allowed between the product and the floor
PYOMO_MAX_ORDERS = 20_000  # the Pyomo path is timed too on instances up to this many order variables

Progress = Callable[[str], None]


# --------------------------------------------------------------------------------------------
# Instances


def load_instance(*, reps: int | None = None, products: int | None = None, periods: int | None = None,
                  markets: int = 8, seed: int = 0, dataset: str | None = None, binding_mix: bool = False,
                  closed: int = 0) -> Dataset:
    """A dataset folder, or a seeded synthetic company of the given size (`closed` periods with
    actuals, the rest open — as `comptune generate` writes it); `binding_mix` gives it mix rules that
    bind (the plan LP's horizon rows are active)."""
    if dataset is not None:
        return load_dataset(_resolve(dataset))
    from models.synthetic import synthetic_tables

    return dataset_from_tables(synthetic_tables(reps=reps, products=products, markets=markets,
                                                periods=periods, seed=seed, binding_mix=binding_mix,
                                                closed_periods=closed))


def _resolve(path: str) -> Path:
    """A dataset path as given, or relative to the repository (for the named `sample`)."""
    candidate = Path(path)
    if candidate.exists():
        return candidate
    return Path(__file__).resolve().parent.parent / path


def tactical_change(dataset: Dataset, change: dict | None = None) -> AssumptionSet:
    """The re-solve scenario: one market's potential × 0.5 for the remaining periods.

    By default the first market, from the fourth open period on (a review after the first quarter);
    `change` may name `markets`, `periods` and `demand` like an assumption-set adjustment.
    """
    open_periods = list(dataset.company.open_periods)
    adjustment = {"markets": [dataset.market_ids[0]],
                  "periods": {"from": open_periods[min(3, len(open_periods) - 1)]},
                  "demand": 0.5, "reason": "benchmark: a market freezes for the rest of the year"}
    adjustment.update(change or {})
    return AssumptionSet(name="bench-change", adjustments=[adjustment])


# --------------------------------------------------------------------------------------------
# The floor: the same LP, built plainly, HiGHS with default options


class _Rows:
    """Rows of the floor's matrix as they are added: entries, bounds and the running row count."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.count = 0

    def add(self, row_of_order: np.ndarray, values: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> int:
        """Rows with one entry per order whose row index is ≥ 0 (relative to the block); returns the first row."""
        keep = row_of_order >= 0
        self.entries(self.count + row_of_order[keep], np.nonzero(keep)[0], values[keep])
        self.lower.append(lower)
        self.upper.append(upper)
        start = self.count
        self.count += len(upper)
        return start

    def entries(self, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> None:
        self.rows.append(rows)
        self.cols.append(cols)
        self.vals.append(values)


class FloorLP:
    """The §4.1 plan LP written out directly in highspy, natural (rep, product, period) order.

    Independent of optimizer/plan/ (lp.py, layout.py, arrays.py) on purpose: it shares only the
    parameters and the HiGHS set-up with the product, so the two builds agreeing on the optimum is
    a check of the product's matrix, and the floor's time is HiGHS alone on the same LP.
    Built in steps: the order columns, the hard rows (capacity, market, supply), the soft rows with
    their slack columns (mix, budget), the change rows with their deviation columns, then HiGHS.
    """

    def __init__(self, params: Parameters, in_force: InForce | None):
        self.params = params
        self.to = np.asarray(params.open_index)
        g, cap = self._order_columns()
        rows = _Rows()
        self._hard_rows(rows)
        n_cols, slack_cost = self._soft_rows(rows, self.n_orders)
        n_cols, change_cost = self._change_rows(rows, n_cols, in_force)
        self.cost = np.concatenate([g, np.array(slack_cost)] + change_cost)
        self.col_lower = np.zeros(n_cols)
        self.col_upper = np.concatenate([cap, np.full(n_cols - self.n_orders, np.inf)])
        self.row_lower = np.concatenate(rows.lower)
        self.row_upper = np.concatenate(rows.upper)
        entry_rows, entry_cols, values = np.concatenate(rows.rows), np.concatenate(rows.cols), np.concatenate(rows.vals)
        keep = values != 0
        self.matrix = sp.csc_matrix((values[keep], (entry_rows[keep], entry_cols[keep])), shape=(rows.count, n_cols))
        self.highs = new_highs()  # default options; only the output is silenced
        pass_matrix(self.highs, self.matrix, self.cost, self.col_lower, self.col_upper, self.row_lower, self.row_upper)

    def _order_columns(self) -> tuple[np.ndarray, np.ndarray]:
        """o[r,p,t] for the (r, p) pairs the rep sells, rep-major then period: margins and reach bounds."""
        params, to = self.params, self.to
        n_t = len(to)
        self.rep_of_pair, self.product_of_pair = np.nonzero(params.sells)
        self.n_orders = len(self.rep_of_pair) * n_t
        self.o_rep = np.repeat(self.rep_of_pair, n_t)
        self.o_product = np.repeat(self.product_of_pair, n_t)
        self.o_t = np.tile(np.arange(n_t), len(self.rep_of_pair))
        self.o_market = params.rep_market[self.o_rep]
        period = to[self.o_t]
        self.h = params.hours_per_order()[self.o_rep, self.o_product, period]
        self.v = params.price[self.o_market, self.o_product, period]
        g = self.v - params.cost[self.o_market, self.o_product, period]
        cap = params.reach[self.o_rep, self.o_product] * params.potential[self.o_market, self.o_product, period]
        return g, cap

    def _hard_rows(self, rows: _Rows) -> None:
        """capacity[r,t]: Σ_p h·o ≤ H;  market[m,p,t]: Σ_{r∈m} o ≤ D;  supply[p,t]: Σ_r o ≤ supply."""
        params, to, sells = self.params, self.to, self.params.sells
        n_t = len(to)
        R, P = sells.shape
        o_rep, o_product, o_t, o_market = self.o_rep, self.o_product, self.o_t, self.o_market
        rep_row = np.full(R, -1)
        reps = np.nonzero(sells.any(axis=1))[0]
        rep_row[reps] = np.arange(len(reps))
        rows.add(rep_row[o_rep] * n_t + o_t, self.h, np.full(len(reps) * n_t, -np.inf),
                 params.hours_available[reps][:, to].ravel())
        sold_in = np.zeros((len(params.markets), P), dtype=bool)
        sold_in[o_market, o_product] = True
        pairs = np.argwhere(sold_in)
        pair_row = np.full(sold_in.shape, -1)
        pair_row[pairs[:, 0], pairs[:, 1]] = np.arange(len(pairs))
        self.market_start = rows.add(pair_row[o_market, o_product] * n_t + o_t, np.ones(self.n_orders),
                                     np.full(len(pairs) * n_t, -np.inf),
                                     params.potential[pairs[:, 0], pairs[:, 1]][:, to].ravel())
        self.market_pairs = pairs
        supplied = np.nonzero(np.isfinite(params.supply) & sells.any(axis=0))[0]
        supply_row = np.full(P, -1)
        supply_row[supplied] = np.arange(len(supplied))
        rows.add(np.where(supply_row[o_product] >= 0, supply_row[o_product] * n_t + o_t, -1), np.ones(self.n_orders),
                 np.full(len(supplied) * n_t, -np.inf), np.repeat(params.supply[supplied], n_t))

    def _soft_rows(self, rows: _Rows, n_cols: int) -> tuple[int, list[float]]:
        """mix_min, mix_max and budget: dense over the orders, each with its own slack column after them.

        The budget's pay at target is written out here (Σ tvp · open periods), not taken from the
        product's `Parameters.pay_at_target`, to keep the floor independent.
        """
        params, v, o_product = self.params, self.v, self.o_product
        company = params.company
        dense = [("min", v * (params.min_share[p] - (o_product == p))) for p in np.nonzero(params.min_share > 0)[0]]
        dense += [("max", v * ((o_product == p) - params.max_share[p])) for p in np.nonzero(params.max_share < 1)[0]]
        dense.append(("budget", -company.comp_budget_rate * v))
        everyone = np.zeros(self.n_orders, dtype=np.int64)
        slack_cost: list[float] = []
        for kind, values in dense:
            upper = -float(params.target_variable_pay.sum()) * len(self.to) if kind == "budget" else 0.0
            start = rows.add(everyone, values, np.array([-np.inf]), np.array([upper]))
            rows.entries(np.array([start]), np.array([n_cols]), np.array([-1.0]))
            slack_cost.append(-company.soft_penalty)
            n_cols += 1
        return n_cols, slack_cost

    def _change_rows(self, rows: _Rows, n_cols: int, in_force: InForce | None) -> tuple[int, list[np.ndarray]]:
        """change[r,k,t]: metric_k(o[r,·,t]) − up + down = T0, with the up and down columns after the slacks."""
        keys = sorted(in_force.targets) if in_force else []
        if not keys:
            return n_cols, []
        params, to = self.params, self.to
        R, P = params.sells.shape
        ri = {r: i for i, r in enumerate(params.reps)}
        ti = {params.periods[j]: i for i, j in enumerate(to)}
        pi = {p: i for i, p in enumerate(params.products)}
        first_order = np.full((R, P), -1)
        first_order[self.rep_of_pair, self.product_of_pair] = np.arange(len(self.rep_of_pair)) * len(to)
        targets = np.array([in_force.targets[k] for k in keys])
        key_rep = np.array([ri[k[0]] for k in keys])
        key_t = np.array([ti[k[2]] for k in keys])
        key_component = np.array([k[1] for k in keys])
        rows_r, rows_c, vals = [], [], []
        for component, members in in_force.component_products.items():
            mask = np.isin(np.arange(P), [pi[p] for p in members])
            coef = params.metric_coefficient(in_force.component_metric[component])
            j = np.nonzero(key_component == component)[0]
            row, p = np.nonzero(params.sells[key_rep[j]] & mask)  # products of the component the rep sells
            r, t = key_rep[j[row]], key_t[j[row]]
            rows_r.append(j[row])
            rows_c.append(first_order[r, p] + t)
            vals.append(coef[params.rep_market[r], p, to[t]])
        n_change = len(keys)
        change = rows.count + np.arange(n_change)
        rows.entries(rows.count + np.concatenate(rows_r), np.concatenate(rows_c), np.concatenate(vals))
        rows.entries(change, n_cols + np.arange(n_change), -np.ones(n_change))
        rows.entries(change, n_cols + n_change + np.arange(n_change), np.ones(n_change))
        rows.lower.append(targets)
        rows.upper.append(targets)
        rows.count += n_change
        pay = np.array([params.target_variable_pay[ri[k[0]]] * in_force.weights[k[1]] for k in keys]) / targets
        company = params.company
        return n_cols + 2 * n_change, [-company.change_penalty * pay, -company.change_penalty * pay]

    def solve(self) -> tuple[float, np.ndarray]:
        """Run HiGHS (warm when it holds a basis) and read the objective and the primal solution."""
        self.highs.run()
        x = np.asarray(self.highs.getSolution().col_value)
        return float(self.highs.getInfo().objective_function_value), x

    def change_demand(self, new_params: Parameters) -> None:
        """Push the new potential of the changed markets: their market rows and reach bounds."""
        params, to = self.params, np.asarray(self.params.open_index)
        changed = np.nonzero((new_params.potential != params.potential)[:, :, to].any(axis=(1, 2)))[0]
        n_t = len(to)
        pairs = self.market_pairs
        rows = np.nonzero(np.isin(pairs[:, 0], changed))[0]
        row_ids = (self.market_start + rows[:, None] * n_t + np.arange(n_t)).ravel()
        upper = new_params.potential[pairs[rows, 0], pairs[rows, 1]][:, to].ravel()
        self.highs.changeRowsBounds(len(row_ids), row_ids.astype(np.int32), self.row_lower[row_ids], upper)
        cols = np.nonzero(np.isin(self.o_market, changed))[0]
        cap = (new_params.reach[self.o_rep[cols], self.o_product[cols]]
               * new_params.potential[self.o_market[cols], self.o_product[cols], to[self.o_t[cols]]])
        self.highs.changeColsBounds(len(cols), cols.astype(np.int32), self.col_lower[cols], cap)

    @property
    def iterations(self) -> int:
        return int(self.highs.getInfo().simplex_iteration_count)


# --------------------------------------------------------------------------------------------
# Workers: one fresh process per (instance, path)


def _peak_rss_mb() -> float:
    """This process's own peak resident memory. `VmHWM` belongs to the address space the worker's
    exec created; `ru_maxrss` does not: Linux carries it over from the process that forked the
    worker, so a 350 MB server made every path report at least 350 MB."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux; bytes on macOS


def _cpu_s() -> float:
    """CPU seconds of this process (all its threads): on a shared machine, where wall time depends on
    what else runs, this is what one quiet core would need (with workers > 1 the workers' own CPU is
    not in it)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _say(text: str) -> None:
    print(f"progress: {text}", file=sys.stderr, flush=True)


def worker(path: str, spec: dict, repeats: int, change: dict | None, workers: int = 1) -> dict:
    """Time one path on one instance in this process (run it in a fresh one)."""
    _say("generating the instance")
    started = time.perf_counter()
    dataset = load_instance(**{k: v for k, v in spec.items() if k != "workers"})
    assumptions = tactical_change(dataset, change)
    loaded = time.perf_counter() - started
    params = effective_parameters(dataset)
    new_params = effective_parameters(dataset, assumptions)
    in_force = in_force_for(dataset.plan, params.open_periods)
    runs = []
    out: dict = {"load_s": loaded}
    for i in range(repeats):
        tag = f"{path} {i + 1}/{repeats}"
        if path == "product":
            from optimizer.plan.arrays import PlanSolver

            _say(f"{tag}: build")
            t0, c0 = time.perf_counter(), _cpu_s()
            solver = PlanSolver(params, in_force)
            t1 = time.perf_counter()
            _say(f"{tag}: solve")
            first = solver.solve()
            t2, c2 = time.perf_counter(), _cpu_s()
            _say(f"{tag}: re-solve")
            second = solver.update(new_params)
            t3 = time.perf_counter()
            runs.append(dict(build_s=t1 - t0, solve_s=t2 - t1, resolve_s=t3 - t2, objective=first.objective,
                             resolve_objective=second.objective, iterations=first.iterations,
                             resolve_iterations=second.iterations, status=first.status,
                             resolve_status=second.status, run_s=first.solve_seconds,
                             resolve_run_s=second.solve_seconds, cpu_s=c2 - c0))
            out.update(variables=solver.n_variables, constraints=solver.n_constraints, nonzeros=solver.n_nonzeros,
                       ordering=solver.ordering, updates=solver.updates)
            del solver
        elif path == "floor":
            _say(f"{tag}: build")
            t0, c0 = time.perf_counter(), _cpu_s()
            floor = FloorLP(params, in_force)
            t1 = time.perf_counter()
            _say(f"{tag}: solve")
            objective, _ = floor.solve()
            t2, c2 = time.perf_counter(), _cpu_s()
            iterations = floor.iterations
            _say(f"{tag}: re-solve")
            floor.change_demand(new_params)
            resolve_objective, _ = floor.solve()
            t3 = time.perf_counter()
            runs.append(dict(build_s=t1 - t0, solve_s=t2 - t1, resolve_s=t3 - t2, objective=objective,
                             resolve_objective=resolve_objective, iterations=iterations,
                             resolve_iterations=floor.iterations, cpu_s=c2 - c0))
            out.update(variables=floor.matrix.shape[1], constraints=floor.matrix.shape[0],
                       nonzeros=int(floor.highs.getNumNz()))
            del floor
        elif path == "decomposed":
            from optimizer.executor import open_executor
            from optimizer.plan.decompose import PeriodDecomposition

            with open_executor(workers=workers) as executor:
                _say(f"{tag}: build")
                t0, c0 = time.perf_counter(), _cpu_s()
                decomposition = PeriodDecomposition(params, in_force)
                t1 = time.perf_counter()
                _say(f"{tag}: solve by period blocks")
                first, warm, stats = decomposition.solve(executor)
                t2, c2 = time.perf_counter(), _cpu_s()
                _say(f"{tag}: warm re-solve of the changed blocks")
                changed = PeriodDecomposition(new_params, in_force)
                second, _, second_stats = changed.solve(executor, warm)
                t3 = time.perf_counter()
            runs.append(dict(build_s=t1 - t0, solve_s=t2 - t1, resolve_s=t3 - t2, objective=first.objective,
                             resolve_objective=second.objective, iterations=first.iterations,
                             resolve_iterations=second.iterations, status=first.status,
                             resolve_status=second.status, rounds=stats.rounds,
                             horizon_rows_bind=stats.horizon_rows_bind, fallback=stats.fallback,
                             blocks=stats.blocks, resolve_blocks_resolved=second_stats.blocks_resolved,
                             resolve_fallback=second_stats.fallback, cpu_s=c2 - c0,
                             resolve_rounds=second_stats.rounds))
            out.update(workers=workers, horizon_rows=decomposition.n_horizon_rows)
            del decomposition, changed
        elif path == "pyomo":
            from optimizer.plan.targets import plan_targets

            _say(f"{tag}: build + solve")
            t0 = time.perf_counter()
            first = plan_targets(dataset, params=params, engine="pyomo")
            t1 = time.perf_counter()
            second = plan_targets(dataset, assumptions, params=new_params, engine="pyomo")
            t2 = time.perf_counter()
            runs.append(dict(build_s=first.build_seconds, solve_s=first.solve_seconds, total_s=t1 - t0,
                             resolve_s=t2 - t1, objective=first.objective, resolve_objective=second.objective))
        elif path == "end_to_end":
            from optimizer.plan.cascade import kpi_targets
            from optimizer.plan.targets import plan_targets

            _say(f"{tag}: load, solve, cascade")
            t0 = time.perf_counter()
            data = load_instance(**spec)
            result = plan_targets(data, assumptions)
            kpi_targets(effective_parameters(data, assumptions), result.orders)
            runs.append(dict(total_s=time.perf_counter() - t0, objective=result.objective))
        elif path == "plan_floor":  # HiGHS alone on the company's plan LP (its closed periods fixed)
            _say(f"{tag}: plan LP floor")
            t0, c0 = time.perf_counter(), _cpu_s()
            floor = FloorLP(params, in_force)
            t1 = time.perf_counter()
            objective, _ = floor.solve()
            runs.append(dict(build_s=t1 - t0, solve_s=time.perf_counter() - t1, cpu_s=_cpu_s() - c0,
                             objective=objective))
            out.update(variables=floor.matrix.shape[1], iterations=floor.iterations)
            del floor
        elif path == "recommend":
            from optimizer.alignment.recommend import recommend

            def report(phase: str, done: float, tag=tag) -> None:
                _say(f"{tag}: recommend, {phase} ({100 * done:.0f} %)")

            t0, c0 = time.perf_counter(), _cpu_s()
            rec = recommend(dataset, progress=report, workers=int(spec.get("workers", 1)))
            runs.append(dict(total_s=time.perf_counter() - t0, cpu_s=_cpu_s() - c0, status=rec.status,
                             alignment=rec.alignment.get("recommended"), plan_lp_s=rec.plan_result.solve_seconds))
        else:
            raise ValueError(f"unknown benchmark path {path!r}")
    for key in runs[0]:
        values = [run[key] for run in runs]
        numeric = isinstance(values[0], float) and not isinstance(values[0], bool)
        out[key] = statistics.median(values) if numeric and "objective" not in key else values[0]
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def _run_worker(path: str, spec: dict, repeats: int, change: dict | None, progress: Progress | None,
                workers: int = 1) -> dict:
    command = [sys.executable, "-m", "optimizer.bench", "--worker", path, "--spec", json.dumps(spec),
               "--repeats", str(repeats), "--change", json.dumps(change), "--parent", str(os.getpid()),
               "--workers", str(workers)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=Path(__file__).resolve().parent.parent)
    errors = []
    assert process.stderr is not None and process.stdout is not None
    for line in process.stderr:
        if line.startswith("progress: "):
            if progress:
                progress(line.removeprefix("progress: ").strip())
        else:
            errors.append(line)
    output = process.stdout.read()
    if process.wait() != 0:
        raise RuntimeError(f"benchmark worker {path} failed:\n{''.join(errors[-20:])}")
    return json.loads(output.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------
# Entry point


def run_benchmark(*, reps: int | None = None, products: int | None = None, periods: int | None = None,
                  markets: int = 8, seed: int = 0, repeats: int = 1, resolve_change: dict | None = None,
                  dataset: str | None = None, name: str | None = None, pyomo: bool | None = None,
                  progress: Progress | None = None, binding_mix: bool = False, workers: int = 1,
                  decomposed: bool = True) -> dict:
    """Benchmark one instance: product path and floor, each in a fresh process; ratios in this run.

    Give `reps`, `products`, `periods` (a seeded synthetic company with `markets` markets) or a
    `dataset` folder. `resolve_change` overrides the tactical change of `tactical_change`. The
    Pyomo path is timed as well on small instances (or when `pyomo=True`). The decomposed path
    (optimizer/plan/decompose.py, period blocks through an executor of `workers` processes) is timed
    beside them unless `decomposed=False`; `binding_mix` makes the mix rules bind.
    """
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    if dataset is not None:
        spec: dict = {"dataset": str(dataset)}
    else:
        for arg, value in (("reps", reps), ("products", products), ("periods", periods)):
            if value is None or value < 1:
                raise ValueError(f"{arg} must be a positive integer")
        spec = {"reps": reps, "products": products, "periods": periods, "markets": markets, "seed": seed}
        if binding_mix:
            spec["binding_mix"] = True
    say = progress or (lambda text: None)
    product = _run_worker("product", spec, repeats, resolve_change, say)
    floor = _run_worker("floor", spec, repeats, resolve_change, say)
    n_orders = product["variables"]
    out = {
        "name": name or (Path(dataset).name if dataset else f"{reps}x{products}x{periods}"
                         + ("-binding" if binding_mix else "")),
        "reps": reps, "products": products, "periods": periods, "markets": markets, "seed": seed,
        "dataset": dataset, "repeats": repeats, "ordering": product["ordering"],
        "variables": product["variables"], "constraints": product["constraints"], "nonzeros": product["nonzeros"],
        "floor_variables": floor["variables"], "floor_constraints": floor["constraints"],
        "floor_nonzeros": floor["nonzeros"],
        "build_s": product["build_s"], "solve_s": product["solve_s"], "resolve_s": product["resolve_s"],
        "run_s": product["run_s"], "resolve_run_s": product["resolve_run_s"],
        "floor_build_s": floor["build_s"], "floor_solve_s": floor["solve_s"], "floor_resolve_s": floor["resolve_s"],
        "iterations": product["iterations"], "resolve_iterations": product["resolve_iterations"],
        "floor_iterations": floor["iterations"], "floor_resolve_iterations": floor["resolve_iterations"],
        "status": product["status"], "resolve_status": product["resolve_status"],
        "objective": product["objective"], "floor_objective": floor["objective"],
        "resolve_objective": product["resolve_objective"], "floor_resolve_objective": floor["resolve_objective"],
        "updates": product["updates"],
        "peak_rss_mb": product["peak_rss_mb"], "floor_peak_rss_mb": floor["peak_rss_mb"],
    }
    if dataset is not None:
        out.update(variables_note="dataset", reps=None, products=None, periods=None)
        data = load_instance(**spec)
        out.update(reps=len(data.rep_ids), products=len(data.product_ids), periods=len(data.company.open_periods),
                   markets=len(data.market_ids))
        end_to_end = _run_worker("end_to_end", spec, repeats, resolve_change, say)
        out["end_to_end_s"] = end_to_end["total_s"]
    out["build_solve_ratio"] = (out["build_s"] + out["solve_s"]) / (out["floor_build_s"] + out["floor_solve_s"])
    out["resolve_ratio"] = out["resolve_s"] / out["floor_resolve_s"]
    out["objective_rel_diff"] = _rel_diff(out["objective"], out["floor_objective"])
    out["resolve_objective_rel_diff"] = _rel_diff(out["resolve_objective"], out["floor_resolve_objective"])
    out["agree"] = bool(out["objective_rel_diff"] <= AGREEMENT and out["resolve_objective_rel_diff"] <= AGREEMENT)
    if decomposed:
        result = _run_worker("decomposed", spec, repeats, resolve_change, say, workers)
        floor_total = out["floor_build_s"] + out["floor_solve_s"]
        out.update(
            decomposed_build_s=result["build_s"], decomposed_solve_s=result["solve_s"],
            decomposed_resolve_s=result["resolve_s"], decomposed_objective=result["objective"],
            decomposed_resolve_objective=result["resolve_objective"], decomposed_status=result["status"],
            decomposed_iterations=result["iterations"], decomposed_rounds=result["rounds"],
            decomposed_fallback=result["fallback"], horizon_rows_bind=result["horizon_rows_bind"],
            horizon_rows=result["horizon_rows"], decomposed_workers=result["workers"], blocks=result["blocks"],
            decomposed_resolve_blocks=result["resolve_blocks_resolved"],
            decomposed_peak_rss_mb=result["peak_rss_mb"],
            decomposed_ratio=(result["build_s"] + result["solve_s"]) / floor_total,
            # CPU seconds of build + solve (this process, HiGHS's threads included): on a shared
            # machine the ratio to read; with workers > 1 the workers' CPU is not in it
            decomposed_cpu_s=result["cpu_s"], floor_cpu_s=floor["cpu_s"], product_cpu_s=product["cpu_s"],
            decomposed_cpu_ratio=result["cpu_s"] / floor["cpu_s"] if floor["cpu_s"] > 0 else None,
            decomposed_resolve_rounds=result["resolve_rounds"], decomposed_resolve_fallback=result["resolve_fallback"],
            decomposed_resolve_ratio=result["resolve_s"] / out["floor_resolve_s"],
            decomposed_objective_rel_diff=_rel_diff(result["objective"], out["floor_objective"]),
            decomposed_resolve_objective_rel_diff=_rel_diff(result["resolve_objective"],
                                                            out["floor_resolve_objective"]),
        )
        out["agree"] = bool(out["agree"] and out["decomposed_objective_rel_diff"] <= AGREEMENT
                            and out["decomposed_resolve_objective_rel_diff"] <= AGREEMENT)
    if pyomo or (pyomo is None and n_orders <= PYOMO_MAX_ORDERS):
        result = _run_worker("pyomo", spec, repeats, resolve_change, say)
        out.update(pyomo_build_s=result["build_s"], pyomo_solve_s=result["solve_s"],
                   pyomo_resolve_s=result["resolve_s"], pyomo_objective=result["objective"],
                   pyomo_peak_rss_mb=result["peak_rss_mb"])
    return out


def run_recommend_benchmark(*, reps: int | None = None, products: int | None = None, periods: int | None = None,
                            markets: int = 8, seed: int = 0, closed: int = 0, dataset: str | None = None,
                            name: str | None = None, workers: int = 1, progress: Progress | None = None) -> dict:
    """Time `recommend` on one company against HiGHS alone on that company's plan LP (the floor),
    each in a fresh process, in this run: recommend seconds, floor seconds, their ratio, peak RSS."""
    spec: dict = ({"dataset": str(dataset)} if dataset is not None else
                  {"reps": reps, "products": products, "periods": periods, "markets": markets, "seed": seed,
                   "closed": closed})
    say = progress or (lambda text: None)
    floor = _run_worker("plan_floor", spec, 1, None, say)
    rec = _run_worker("recommend", {**spec, "workers": workers}, 1, None, say)
    floor_s = floor["build_s"] + floor["solve_s"]
    return {
        "name": name or (Path(dataset).name if dataset else f"{reps}x{products}x{periods}, {closed} closed"),
        **{k: v for k, v in spec.items() if k != "dataset"}, "dataset": dataset, "workers": workers,
        "plan_variables": floor["variables"], "floor_s": floor_s, "floor_iterations": floor["iterations"],
        "floor_peak_rss_mb": floor["peak_rss_mb"], "recommend_s": rec["total_s"],
        "recommend_plan_lp_s": rec["plan_lp_s"], "recommend_status": rec["status"],
        "alignment_efficiency": rec["alignment"], "recommend_peak_rss_mb": rec["peak_rss_mb"],
        "ratio": rec["total_s"] / floor_s if floor_s > 0 else None,
        "floor_cpu_s": floor["cpu_s"], "recommend_cpu_s": rec["cpu_s"],
        "cpu_ratio": rec["cpu_s"] / floor["cpu_s"] if floor["cpu_s"] > 0 else None,
    }


def _rel_diff(a: float | None, b: float | None) -> float:
    if a is None or b is None:
        return float("inf")
    return abs(a - b) / max(1.0, abs(a), abs(b))


def named_instance(size: str) -> dict:
    """Keyword arguments of `run_benchmark` for a named size."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; choose from {', '.join(SIZES)}")
    spec = dict(SIZES[size])
    return {**spec, "name": size}


def _main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="benchmark worker (internal; use `comptune bench`)")
    parser.add_argument("--worker", required=True)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--change", default="null")
    parser.add_argument("--parent", type=int, default=None, help="pid of the process that waits for this one")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    die_with_parent(args.parent)  # a killed `comptune bench` or service job takes its paths with it
    result = worker(args.worker, json.loads(args.spec), args.repeats, json.loads(args.change), args.workers)
    sys.stdout.write(json.dumps(result, default=float) + "\n")


if __name__ == "__main__":
    _main(sys.argv[1:])
