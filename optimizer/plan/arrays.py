"""The §4.1 plan LP in a live HiGHS model, built from the shared array description.

`optimizer/plan/lp.py` is the readable definition of the plan LP; optimizer/plan/layout.py describes
the same LP as arrays in a canonical order, and this module hands that to `highspy.Highs` and keeps
the model alive. `PlanSolver.update(new_params)` then diffs the arrays and pushes only what changed
(column bounds, row bounds, costs, coefficients) before a warm re-solve from the retained basis,
which is what makes a tactical re-plan feel instant (DESIGN.md §6). tests/plan/test_arrays.py
proves on generated instances that both engines reach the same optimum.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from optimizer.parameters import Parameters
from optimizer.plan.explain import DUAL_TOLERANCE, TOP_PER_FAMILY, binding_constraints, soft_slacks
from optimizer.plan.layout import (
    DEFAULT_ORDERING, CanonicalLP, PlanLayout, plan_layout, plan_numbers, plan_structure, positioned, positioned_matrix,
)
from optimizer.plan.results import ORDER_COLUMNS, InForce, PlanResult
from optimizer.solve import (
    FEASIBLE_TIME_LIMIT, OPTIMAL, SolveOptions, highs_iterations, highs_status, highs_status_message, new_highs,
    pass_matrix, run_highs,
)

logger = logging.getLogger(__name__)

# When more coefficients change than this, rebuilding the matrix and passing the old basis back is
# cheaper than one changeCoeff call each.
MAX_COEFF_UPDATES = 20_000


# --------------------------------------------------------------------------------------------
# The solver a review keeps between re-solves


class PlanSolver:
    """The plan LP of one dataset in a live HiGHS model: `solve()` once, `update()` per what-if.

    >>> solver = PlanSolver(params, in_force)
    >>> first = solver.solve()
    >>> after_cut = solver.update(effective_parameters(dataset, south_freeze))
    """

    def __init__(self, params: Parameters, in_force: InForce | None = None, *,
                 options: SolveOptions | None = None, ordering: str = DEFAULT_ORDERING):
        started = time.perf_counter()
        self.options = options or SolveOptions()
        self.ordering = ordering
        self.in_force = in_force
        self.params = params
        self.layout = plan_layout(plan_structure(params, in_force), params, in_force, ordering)
        self.numbers = plan_numbers(self.layout, params, in_force)
        self.highs = new_highs(self.options)
        self._pass(self.numbers)
        self.build_seconds = time.perf_counter() - started
        self.updates: dict[str, int] = {}

    # -- building --------------------------------------------------------------------------

    def _pass(self, numbers: CanonicalLP) -> None:
        lay = self.layout
        pass_matrix(
            self.highs, positioned_matrix(lay, numbers.coef),
            positioned(numbers.cost, lay.col_position), positioned(numbers.col_lower, lay.col_position),
            positioned(numbers.col_upper, lay.col_position), positioned(numbers.row_lower, lay.row_position),
            positioned(numbers.row_upper, lay.row_position),
        )

    @property
    def n_variables(self) -> int:
        return self.layout.n_cols

    @property
    def n_constraints(self) -> int:
        return self.layout.n_rows

    @property
    def n_nonzeros(self) -> int:
        return int(self.highs.getNumNz())

    # -- solving ---------------------------------------------------------------------------

    def solve(self, time_limit: float | None = None) -> PlanResult:
        """Run HiGHS (warm if a basis is held) and read the answer back as a `PlanResult`."""
        limit = time_limit if time_limit is not None else self.options.time_limit
        started = time.perf_counter()
        run_highs(self.highs, limit)
        return self._result(time.perf_counter() - started, self.build_seconds)

    def update(self, new_params: Parameters, time_limit: float | None = None) -> PlanResult:
        """Apply only what changed between the held parameters and `new_params`, then re-solve warm.

        Bounds, row limits and costs are changed in place; coefficients too unless very many moved
        (then the matrix is passed again with the old basis). A change of shape — other reps,
        products, open periods, products sold — rebuilds the model and solves it cold.
        """
        started = time.perf_counter()
        structure = plan_structure(new_params, self.in_force)
        if not structure.same_as(self.layout.structure):
            logger.info("plan LP changed shape; rebuilding the HiGHS model")
            self.layout = plan_layout(structure, new_params, self.in_force, self.ordering)
            self.numbers = plan_numbers(self.layout, new_params, self.in_force)
            self._pass(self.numbers)
            self.params = new_params
            self.updates = {"rebuilt": 1}
        else:
            new = plan_numbers(self.layout, new_params, self.in_force)
            self.updates = self._apply(self.numbers, new)
            self.numbers, self.params = new, new_params
        prepared = time.perf_counter()
        limit = time_limit if time_limit is not None else self.options.time_limit
        run_highs(self.highs, limit)
        return self._result(time.perf_counter() - prepared, prepared - started)

    def _apply(self, old: CanonicalLP, new: CanonicalLP) -> dict[str, int]:
        lay, highs = self.layout, self.highs
        counts = {}
        cols = np.nonzero((old.col_lower != new.col_lower) | (old.col_upper != new.col_upper))[0]
        if len(cols):
            highs.changeColsBounds(len(cols), lay.col_position[cols].astype(np.int32),
                                   new.col_lower[cols], new.col_upper[cols])
        counts["column_bounds"] = len(cols)
        rows = np.nonzero((old.row_lower != new.row_lower) | (old.row_upper != new.row_upper))[0]
        if len(rows):
            highs.changeRowsBounds(len(rows), lay.row_position[rows].astype(np.int32),
                                   new.row_lower[rows], new.row_upper[rows])
        counts["row_bounds"] = len(rows)
        costs = np.nonzero(old.cost != new.cost)[0]
        if len(costs):
            highs.changeColsCost(len(costs), lay.col_position[costs].astype(np.int32), new.cost[costs])
        counts["costs"] = len(costs)
        entries = np.nonzero(old.coef != new.coef)[0]
        counts["coefficients"] = len(entries)
        if len(entries) > MAX_COEFF_UPDATES:
            basis = highs.getBasis()
            self._pass(new)
            highs.setBasis(basis)
            counts["repassed"] = 1
        else:
            rows_at = lay.row_position[lay.entry_row[entries]]
            cols_at = lay.col_position[lay.entry_col[entries]]
            for row, col, value in zip(rows_at.tolist(), cols_at.tolist(), new.coef[entries].tolist()):
                highs.changeCoeff(row, col, value)
        return counts

    # -- reading the answer ----------------------------------------------------------------

    def _result(self, solve_seconds: float, build_seconds: float) -> PlanResult:
        highs, lay, params, s = self.highs, self.layout, self.params, self.layout.structure
        status = highs_status(highs)
        info = highs.getInfo()
        base = dict(n_variables=lay.n_cols, n_constraints=lay.n_rows, build_seconds=build_seconds,
                    solve_seconds=solve_seconds, iterations=highs_iterations(highs))
        if status not in (OPTIMAL, FEASIBLE_TIME_LIMIT):
            return PlanResult(status=status, objective=None, margin=None, revenue=None, orders=pd.DataFrame(columns=ORDER_COLUMNS),
                              message=highs_status_message(highs), **base)
        solution = highs.getSolution()
        x = np.asarray(solution.col_value)[lay.col_position]  # back to canonical order
        cols, num = lay.col_slices, self.numbers
        o = np.maximum(x[cols["orders"]], 0.0)
        v = params.price[params.rep_market[s.rp_rep], s.rp_product][:, s.open_index].ravel()
        change_cols = np.r_[cols["change_up"], cols["change_down"]]
        duals = {}
        if status == OPTIMAL:
            y = np.asarray(solution.row_dual)[lay.row_position]
            duals = self._family_duals(y)
        names = [(params.products[p], float(x[cols[slack]][j])) for slack, members in
                 (("mix_short", s.min_mix), ("mix_excess", s.max_mix)) for j, p in enumerate(members)]
        n_short = len(s.min_mix)
        return PlanResult(
            status=status,
            objective=float(info.objective_function_value),
            margin=float(num.cost[cols["orders"]] @ o),
            revenue=float(v @ o),
            change_cost=float(-(num.cost[change_cols] @ x[change_cols])),
            orders=self._orders_frame(o),
            slacks=soft_slacks(dict(names[:n_short]), dict(names[n_short:]),
                                           float(x[cols["budget_excess"]][0])),
            binding=binding_constraints(duals, params) if duals else [],
            **base,
        )

    def _orders_frame(self, orders: np.ndarray) -> pd.DataFrame:
        s, params = self.layout.structure, self.params
        n_t = s.n_periods
        reps = np.asarray(params.reps, dtype=object)[np.repeat(s.rp_rep, n_t)]
        products = np.asarray(params.products, dtype=object)[np.repeat(s.rp_product, n_t)]
        periods = np.asarray(params.open_periods, dtype=object)[np.tile(np.arange(n_t), len(s.rp_rep))]
        return pd.DataFrame({"rep_id": reps, "product_id": products, "period": periods, "orders": orders})

    def _family_duals(self, y: np.ndarray, keep: int = TOP_PER_FAMILY) -> dict[str, dict]:
        return family_duals(self.layout, self.params, y, keep)


def family_duals(lay: PlanLayout, params: Parameters, y: np.ndarray, keep: int = TOP_PER_FAMILY) -> dict[str, dict]:
    """The largest row duals (y in canonical row order) of each family, keyed like the Pyomo constraints' indices."""
    s = lay.structure
    n_t = s.n_periods
    periods = params.open_periods
    out: dict[str, dict] = {}

    def top(family: str) -> np.ndarray:
        values = y[lay.row_slices[family]]
        candidates = np.nonzero(np.abs(values) > DUAL_TOLERANCE)[0]
        if len(candidates) > keep:
            candidates = candidates[np.argpartition(-np.abs(values[candidates]), keep - 1)[:keep]]
        return candidates

    out["capacity"] = {(params.reps[s.capacity_reps[i // n_t]], periods[i % n_t]): float(y[lay.row_slices["capacity"]][i])
                       for i in top("capacity")}
    out["market"] = {(params.markets[s.market_pairs[i // n_t, 0]], params.products[s.market_pairs[i // n_t, 1]],
                      periods[i % n_t]): float(y[lay.row_slices["market"]][i]) for i in top("market")}
    out["supply"] = {(params.products[s.supply_products[i // n_t]], periods[i % n_t]): float(y[lay.row_slices["supply"]][i])
                     for i in top("supply")}
    out["mix_min"] = {params.products[s.min_mix[i]]: float(y[lay.row_slices["mix_min"]][i]) for i in top("mix_min")}
    out["mix_max"] = {params.products[s.max_mix[i]]: float(y[lay.row_slices["mix_max"]][i]) for i in top("mix_max")}
    out["budget"] = {None: float(y[lay.row_slices["budget"]][0])}
    return out


def solve_plan_arrays(params: Parameters, in_force: InForce | None = None, *,
                      options: SolveOptions | None = None) -> PlanResult:
    """Build and solve the plan LP from arrays once (no solver kept)."""
    solver = PlanSolver(params, in_force, options=options)
    return solver.solve()
