"""The plan LP's entry point: dataset (+ assumptions) in, `PlanResult` out, by either engine.

`plan_targets` resolves the effective parameters and the plan in force, then solves the §4.1 LP
with the array engine (optimizer/plan/arrays.py: several times faster, the HiGHS model kept for warm
re-solves), the same LP by period blocks (optimizer/plan/decompose.py: exact, and for large plans
far faster than one simplex) or the readable Pyomo model (optimizer/plan/lp.py). The default, `auto`,
takes the blocks where `use_decomposition` says they are faster, else the arrays. All build the same
LP and return the same `PlanResult`; tests/plan/ checks that they agree.
"""

from __future__ import annotations

import time

from models.assumptions import AssumptionSet
from models.dataset import Dataset
from optimizer.parameters import Parameters, effective_parameters
from optimizer.plan.arrays import solve_plan_arrays
from optimizer.plan.decompose import solve_plan_decomposed, use_decomposition
from optimizer.plan.lp import solve_plan_pyomo
from optimizer.plan.results import PlanResult, in_force_for
from optimizer.solve import SolveOptions

ENGINES = ("auto", "arrays", "decomposed", "pyomo")


def plan_targets(
    dataset: Dataset,
    assumptions: AssumptionSet | None = None,
    *,
    options: SolveOptions | None = None,
    params: Parameters | None = None,
    engine: str = "auto",
) -> PlanResult:
    """Solve the §4.1 plan LP for the dataset's open periods under the assumptions.

    Uses the dataset's plan in force (if any) for the CHANGE term. Returns the planned orders per
    rep, product and open period, with soft slacks and binding constraints explained (§4.7).
    `engine="arrays"` builds the LP from the parameter arrays straight into HiGHS; `"decomposed"`
    solves it by period blocks; `"auto"` (default) picks one of those two (`use_decomposition`);
    `engine="pyomo"` solves the readable model. `build_seconds` includes the parameters.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {ENGINES}")
    options = options or SolveOptions()
    started = time.perf_counter()
    params = params or effective_parameters(dataset, assumptions)
    in_force = in_force_for(dataset.plan, params.open_periods)
    if engine == "auto":
        engine = "decomposed" if use_decomposition(params) else "arrays"
    if engine == "decomposed":
        result, _, _ = solve_plan_decomposed(params, in_force, options=options)
    else:
        solve = solve_plan_arrays if engine == "arrays" else solve_plan_pyomo
        result = solve(params, in_force, options=options)
    result.build_seconds = time.perf_counter() - started - result.solve_seconds
    return result
