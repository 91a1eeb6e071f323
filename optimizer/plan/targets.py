"""The plan LP's entry point: dataset (+ assumptions) in, `PlanResult` out, by either engine.

`plan_targets` resolves the effective parameters and the plan in force, then solves the §4.1 LP
with the array engine (optimizer/plan/arrays.py, the default: several times faster, the HiGHS model
kept for warm re-solves) or the readable Pyomo model (optimizer/plan/lp.py). Both build the same LP
and return the same `PlanResult`; tests/plan/ checks that they agree.
"""

from __future__ import annotations

import time

from models.assumptions import AssumptionSet
from models.dataset import Dataset
from optimizer.parameters import Parameters, effective_parameters
from optimizer.plan.arrays import solve_plan_arrays
from optimizer.plan.lp import solve_plan_pyomo
from optimizer.plan.results import PlanResult, in_force_for
from optimizer.solve import SolveOptions

ENGINES = ("arrays", "pyomo")


def plan_targets(
    dataset: Dataset,
    assumptions: AssumptionSet | None = None,
    *,
    options: SolveOptions | None = None,
    params: Parameters | None = None,
    engine: str = "arrays",
) -> PlanResult:
    """Solve the §4.1 plan LP for the dataset's open periods under the assumptions.

    Uses the dataset's plan in force (if any) for the CHANGE term. Returns the planned orders per
    rep, product and open period, with soft slacks and binding constraints explained (§4.7).
    `engine="arrays"` (default) builds the LP from the parameter arrays straight into HiGHS;
    `engine="pyomo"` solves the readable model. `build_seconds` includes the parameters.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {ENGINES}")
    options = options or SolveOptions()
    started = time.perf_counter()
    params = params or effective_parameters(dataset, assumptions)
    in_force = in_force_for(dataset.plan, params.open_periods)
    solve = solve_plan_arrays if engine == "arrays" else solve_plan_pyomo
    result = solve(params, in_force, options=options)
    result.build_seconds = time.perf_counter() - started - result.solve_seconds
    return result
