"""Benchmarks of the plan LP (DESIGN.md §6): the product path against HiGHS alone on the same LP.

An instance is a seeded synthetic company (`models.synthetic`) or a dataset folder. For each one we
time, in separate fresh processes so that neither one's memory or HiGHS state leaks into the other:

- the **product** path, `optimizer.plan_arrays.PlanSolver`: build (parameters → live HiGHS model),
  solve (HiGHS run + the full `PlanResult`: orders, slacks, explanations) and re-solve after a
  tactical change (`update()`: diff the parameters, change what moved, warm run, full result);
- the **floor**: the identical LP written here a second time, plainly, from the same numpy arrays —
  orders in the natural (rep, product, period) order, rows family by family — passed to highspy with
  default options; solve = `run()` + reading the solution, re-solve = `changeRowsBounds` +
  `changeColsBounds` for exactly the rows and columns the change touches + `run()` warm + reading
  the solution.

Both objectives must agree to 1e-6 relative (the floor is an independent build of the LP, so this is
also a check of the product's matrix). `run_benchmark` returns one JSON-ready dict per instance; the
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
from optimizer.plan_lp import InForce, in_force_for
from optimizer.processes import die_with_parent

logger = logging.getLogger(__name__)

# Named instances: reps × products × periods (8 markets, seed 0), and the shipped sample company.
SIZES: dict[str, dict] = {
    "sample": {"dataset": "datasets/sample",  # its own south-freeze scenario as the tactical change
               "resolve_change": {"markets": ["south"], "periods": {"from": "2026-04"}}},
    "small": {"reps": 50, "products": 10, "periods": 12},
    "medium": {"reps": 1000, "products": 50, "periods": 12},
    "large": {"reps": 2000, "products": 50, "periods": 12},
}
AGREEMENT = 1e-6  # relative objective difference allowed between the product and the floor
PYOMO_MAX_ORDERS = 20_000  # the Pyomo path is timed too on instances up to this many order variables

Progress = Callable[[str], None]


# --------------------------------------------------------------------------------------------
# Instances


def load_instance(*, reps: int | None = None, products: int | None = None, periods: int | None = None,
                  markets: int = 8, seed: int = 0, dataset: str | None = None) -> Dataset:
    """A dataset folder, or a seeded synthetic company of the given size (all periods open)."""
    if dataset is not None:
        return load_dataset(_resolve(dataset))
    from models.synthetic import synthetic_tables

    return dataset_from_tables(synthetic_tables(reps=reps, products=products, markets=markets,
                                                periods=periods, seed=seed))


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


class FloorLP:
    """The §4.1 plan LP written out directly in highspy, natural (rep, product, period) order.

    Independent of optimizer/plan_arrays.py on purpose: the two builds must agree on the optimum.
    """

    def __init__(self, params: Parameters, in_force: InForce | None):
        import highspy

        from optimizer.plan_arrays import new_highs

        self.params = params
        sells = params.sells
        to = np.asarray(params.open_index)
        n_t = len(to)
        R, P = sells.shape
        company = params.company
        rep_of_pair, product_of_pair = np.nonzero(sells)  # (r, p) pairs, rep-major
        n_orders = len(rep_of_pair) * n_t
        o_rep = np.repeat(rep_of_pair, n_t)
        o_product = np.repeat(product_of_pair, n_t)
        o_t = np.tile(np.arange(n_t), len(rep_of_pair))
        o_market = params.rep_market[o_rep]
        period = to[o_t]
        h = params.hours_per_order()[o_rep, o_product, period]
        v = params.price[o_market, o_product, period]
        g = v - params.cost[o_market, o_product, period]
        cap = params.reach[o_rep, o_product] * params.potential[o_market, o_product, period]
        self.o_market, self.o_t, self.o_rep, self.o_product = o_market, o_t, o_rep, o_product

        blocks_rows, blocks_cols, blocks_vals, row_lo, row_up = [], [], [], [], []
        n_rows = 0

        def add_rows(row_of_order, values, lower, upper):
            nonlocal n_rows
            keep = row_of_order >= 0
            blocks_rows.append(n_rows + row_of_order[keep])
            blocks_cols.append(np.nonzero(keep)[0])
            blocks_vals.append(values[keep])
            row_lo.append(lower)
            row_up.append(upper)
            start = n_rows
            n_rows += len(upper)
            return start

        # capacity[r,t]
        rep_row = np.full(R, -1)
        reps = np.nonzero(sells.any(axis=1))[0]
        rep_row[reps] = np.arange(len(reps))
        add_rows(rep_row[o_rep] * n_t + o_t, h, np.full(len(reps) * n_t, -np.inf),
                 params.hours_available[reps][:, to].ravel())
        # market[m,p,t]
        sold_in = np.zeros((len(params.markets), P), dtype=bool)
        sold_in[o_market, o_product] = True
        pairs = np.argwhere(sold_in)
        pair_row = np.full(sold_in.shape, -1)
        pair_row[pairs[:, 0], pairs[:, 1]] = np.arange(len(pairs))
        self.market_start = add_rows(pair_row[o_market, o_product] * n_t + o_t, np.ones(n_orders),
                                     np.full(len(pairs) * n_t, -np.inf),
                                     params.potential[pairs[:, 0], pairs[:, 1]][:, to].ravel())
        self.market_pairs = pairs
        # supply[p,t]
        supplied = np.nonzero(np.isfinite(params.supply) & sells.any(axis=0))[0]
        supply_row = np.full(P, -1)
        supply_row[supplied] = np.arange(len(supplied))
        add_rows(np.where(supply_row[o_product] >= 0, supply_row[o_product] * n_t + o_t, -1), np.ones(n_orders),
                 np.full(len(supplied) * n_t, -np.inf), np.repeat(params.supply[supplied], n_t))
        # mix and budget rows: dense; their slack columns come after the orders
        n_cols = n_orders
        extra_cost: list[float] = []
        everyone = np.zeros(n_orders, dtype=np.int64)
        dense_rows = [("min", p, v * (params.min_share[p] - (o_product == p))) for p in np.nonzero(params.min_share > 0)[0]]
        dense_rows += [("max", p, v * ((o_product == p) - params.max_share[p])) for p in np.nonzero(params.max_share < 1)[0]]
        dense_rows.append(("budget", -1, -company.comp_budget_rate * v))
        for kind, _p, values in dense_rows:
            start = add_rows(everyone, values, np.array([-np.inf]),
                             np.array([-float(params.target_variable_pay.sum()) * n_t if kind == "budget" else 0.0]))
            blocks_rows.append(np.array([start]))
            blocks_cols.append(np.array([n_cols]))
            blocks_vals.append(np.array([-1.0]))
            extra_cost.append(-company.soft_penalty)
            n_cols += 1
        # change[r,k,t]: metric_k − up + down = T0
        keys = sorted(k for k in in_force.targets) if in_force else []
        change_cost: list[np.ndarray] = []
        if keys:
            ri = {r: i for i, r in enumerate(params.reps)}
            ti = {params.periods[j]: i for i, j in enumerate(to)}
            pi = {p: i for i, p in enumerate(params.products)}
            first_order = np.full((R, P), -1)
            first_order[rep_of_pair, product_of_pair] = np.arange(len(rep_of_pair)) * n_t
            targets = np.array([in_force.targets[k] for k in keys])
            key_rep = np.array([ri[k[0]] for k in keys])
            key_t = np.array([ti[k[2]] for k in keys])
            key_component = np.array([k[1] for k in keys])
            rows_r, rows_c, vals = [], [], []
            for component, members in in_force.component_products.items():
                mask = np.isin(np.arange(P), [pi[p] for p in members])
                coef = params.metric_coefficient(in_force.component_metric[component])
                j = np.nonzero(key_component == component)[0]
                row, p = np.nonzero(sells[key_rep[j]] & mask)  # products of the component the rep sells
                r, t = key_rep[j[row]], key_t[j[row]]
                rows_r.append(j[row])
                rows_c.append(first_order[r, p] + t)
                vals.append(coef[params.rep_market[r], p, to[t]])
            rows_r, rows_c, vals = np.concatenate(rows_r), np.concatenate(rows_c), np.concatenate(vals)
            n_change = len(keys)
            blocks_rows += [n_rows + rows_r, n_rows + np.arange(n_change),
                            n_rows + np.arange(n_change)]
            blocks_cols += [rows_c, n_cols + np.arange(n_change),
                            n_cols + n_change + np.arange(n_change)]
            blocks_vals += [vals, -np.ones(n_change), np.ones(n_change)]
            row_lo.append(targets)
            row_up.append(targets)
            n_rows += n_change
            pay = np.array([params.target_variable_pay[ri[k[0]]] * in_force.weights[k[1]] for k in keys]) / targets
            change_cost = [-company.change_penalty * pay, -company.change_penalty * pay]
            n_cols += 2 * n_change

        self.cost = np.concatenate([g, np.array(extra_cost)] + change_cost)
        self.col_lower = np.zeros(n_cols)
        self.col_upper = np.concatenate([cap, np.full(n_cols - n_orders, np.inf)])
        self.row_lower = np.concatenate(row_lo)
        self.row_upper = np.concatenate(row_up)
        rows = np.concatenate(blocks_rows)
        cols = np.concatenate(blocks_cols)
        vals = np.concatenate(blocks_vals)
        keep = vals != 0
        matrix = sp.csc_matrix((vals[keep], (rows[keep], cols[keep])), shape=(n_rows, n_cols))
        self.matrix = matrix
        self.highs = new_highs()  # default options; only the output is silenced
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n_cols, n_rows
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = self.cost, self.col_lower, self.col_upper
        lp.row_lower_, lp.row_upper_ = self.row_lower, self.row_upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = matrix.indptr, matrix.indices, matrix.data
        self.highs.passModel(lp)

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


def _say(text: str) -> None:
    print(f"progress: {text}", file=sys.stderr, flush=True)


def worker(path: str, spec: dict, repeats: int, change: dict | None) -> dict:
    """Time one path on one instance in this process (run it in a fresh one)."""
    _say("generating the instance")
    started = time.perf_counter()
    dataset = load_instance(**spec)
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
            from optimizer.plan_arrays import PlanSolver

            _say(f"{tag}: build")
            t0 = time.perf_counter()
            solver = PlanSolver(params, in_force)
            t1 = time.perf_counter()
            _say(f"{tag}: solve")
            first = solver.solve()
            t2 = time.perf_counter()
            _say(f"{tag}: re-solve")
            second = solver.update(new_params)
            t3 = time.perf_counter()
            runs.append(dict(build_s=t1 - t0, solve_s=t2 - t1, resolve_s=t3 - t2, objective=first.objective,
                             resolve_objective=second.objective, iterations=first.iterations,
                             resolve_iterations=second.iterations, status=first.status,
                             resolve_status=second.status, run_s=first.solve_seconds,
                             resolve_run_s=second.solve_seconds))
            out.update(variables=solver.n_variables, constraints=solver.n_constraints, nonzeros=solver.n_nonzeros,
                       ordering=solver.ordering, updates=solver.updates)
            del solver
        elif path == "floor":
            _say(f"{tag}: build")
            t0 = time.perf_counter()
            floor = FloorLP(params, in_force)
            t1 = time.perf_counter()
            _say(f"{tag}: solve")
            objective, _ = floor.solve()
            t2 = time.perf_counter()
            iterations = floor.iterations
            _say(f"{tag}: re-solve")
            floor.change_demand(new_params)
            resolve_objective, _ = floor.solve()
            t3 = time.perf_counter()
            runs.append(dict(build_s=t1 - t0, solve_s=t2 - t1, resolve_s=t3 - t2, objective=objective,
                             resolve_objective=resolve_objective, iterations=iterations,
                             resolve_iterations=floor.iterations))
            out.update(variables=floor.matrix.shape[1], constraints=floor.matrix.shape[0],
                       nonzeros=int(floor.highs.getNumNz()))
            del floor
        elif path == "pyomo":
            from optimizer.plan_lp import plan_targets

            _say(f"{tag}: build + solve")
            t0 = time.perf_counter()
            first = plan_targets(dataset, params=params, engine="pyomo")
            t1 = time.perf_counter()
            second = plan_targets(dataset, assumptions, params=new_params, engine="pyomo")
            t2 = time.perf_counter()
            runs.append(dict(build_s=first.build_seconds, solve_s=first.solve_seconds, total_s=t1 - t0,
                             resolve_s=t2 - t1, objective=first.objective, resolve_objective=second.objective))
        elif path == "end_to_end":
            from optimizer.cascade import kpi_targets
            from optimizer.plan_lp import plan_targets

            _say(f"{tag}: load, solve, cascade")
            t0 = time.perf_counter()
            data = load_instance(**spec)
            result = plan_targets(data, assumptions)
            kpi_targets(effective_parameters(data, assumptions), result.orders)
            runs.append(dict(total_s=time.perf_counter() - t0, objective=result.objective))
        else:
            raise ValueError(f"unknown benchmark path {path!r}")
    for key in runs[0]:
        values = [run[key] for run in runs]
        out[key] = statistics.median(values) if isinstance(values[0], float) and "objective" not in key else values[0]
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def _run_worker(path: str, spec: dict, repeats: int, change: dict | None, progress: Progress | None) -> dict:
    command = [sys.executable, "-m", "optimizer.bench", "--worker", path, "--spec", json.dumps(spec),
               "--repeats", str(repeats), "--change", json.dumps(change), "--parent", str(os.getpid())]
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
                  progress: Progress | None = None) -> dict:
    """Benchmark one instance: product path and floor, each in a fresh process; ratios in this run.

    Give `reps`, `products`, `periods` (a seeded synthetic company with `markets` markets) or a
    `dataset` folder. `resolve_change` overrides the tactical change of `tactical_change`. The
    Pyomo path is timed as well on small instances (or when `pyomo=True`).
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
    say = progress or (lambda text: None)
    product = _run_worker("product", spec, repeats, resolve_change, say)
    floor = _run_worker("floor", spec, repeats, resolve_change, say)
    n_orders = product["variables"]
    out = {
        "name": name or (Path(dataset).name if dataset else f"{reps}x{products}x{periods}"),
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
    if pyomo or (pyomo is None and n_orders <= PYOMO_MAX_ORDERS):
        result = _run_worker("pyomo", spec, repeats, resolve_change, say)
        out.update(pyomo_build_s=result["build_s"], pyomo_solve_s=result["solve_s"],
                   pyomo_resolve_s=result["resolve_s"], pyomo_objective=result["objective"],
                   pyomo_peak_rss_mb=result["peak_rss_mb"])
    return out


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
    args = parser.parse_args(argv)
    die_with_parent(args.parent)  # a killed `comptune bench` or service job takes its paths with it
    result = worker(args.worker, json.loads(args.spec), args.repeats, json.loads(args.change))
    sys.stdout.write(json.dumps(result, default=float) + "\n")


if __name__ == "__main__":
    _main(sys.argv[1:])
