"""The array-built plan LP (optimizer/plan/arrays.py) against the Pyomo definition (optimizer/plan/lp.py).

Many small generated companies — with and without a plan in force, under assumptions, with mix
shares and supply limits that make soft slacks and supply rows bind — must give the same optimum on
both paths; a warm `update()` must equal a cold solve of the changed model; the benchmark's floor (an
independent build of the same LP) must agree too.
"""

from __future__ import annotations

import numpy as np
import pytest

from models.assumptions import AssumptionSet
from models.dataset import dataset_from_tables
from models.synthetic import synthetic_tables
from optimizer.plan import arrays as plan_arrays
from optimizer.bench import FloorLP, tactical_change
from optimizer.parameters import effective_parameters
from optimizer.plan.arrays import PlanSolver
from optimizer.plan.layout import ORDERINGS
from optimizer.plan.results import in_force_for
from optimizer.plan.targets import plan_targets
from optimizer.solve import ERROR, FEASIBLE_TIME_LIMIT, OPTIMAL, SolveOptions
from tests.instances import tiny_tables

REL = 1e-6


def close(a: float, b: float, rel: float = REL) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def generated(seed: int, *, with_plan: bool = True, shares: bool = False, closed: int = 0):
    """A small seeded company; `shares` adds min/max mix shares and supply limits that bind."""
    rng = np.random.default_rng(1000 + seed)
    tables = synthetic_tables(reps=int(rng.integers(4, 12)), products=int(rng.integers(3, 7)),
                              markets=int(rng.integers(1, 4)), periods=int(rng.integers(3, 5)), seed=seed,
                              closed_periods=closed)
    if shares:
        products = tables["products.csv"].copy()
        n = len(products)
        products["min_share"] = 0.0
        products["max_share"] = 1.0
        products.loc[n - 2 :, "min_share"] = 0.6  # two products at 60 % each: cannot be met without slack
        products.loc[0, "max_share"] = 0.05
        demand = tables["demand.csv"]
        per_product = demand.groupby("product_id")["potential_orders"].mean()
        supply = np.full(n, np.nan)  # empty = not given
        supply[n // 2] = round(0.3 * float(per_product[products.loc[n // 2, "product_id"]]), 2)
        products["supply_per_period"] = supply
        tables["products.csv"] = products
        # cheap slack: the plan sells and pays for the shares it misses rather than selling nothing
        tables["company.yaml"] = {**tables["company.yaml"], "soft_penalty": 0.1}
    dataset = dataset_from_tables(tables)
    if not with_plan:
        dataset = dataset.with_plan(None)
    return dataset


def random_assumptions(dataset, seed: int) -> AssumptionSet:
    rng = np.random.default_rng(seed)
    periods = list(dataset.company.open_periods)
    adjustments = [
        {"markets": [dataset.market_ids[0]], "periods": {"from": periods[len(periods) // 2]},
         "demand": float(rng.uniform(0.3, 0.9))},
        {"products": [dataset.product_ids[-1]], "price": float(rng.uniform(0.8, 1.2)),
         "cost": float(rng.uniform(0.9, 1.1))},
        {"markets": [dataset.market_ids[-1]], "conversion": float(rng.uniform(0.8, 1.2))},
        {"reps": [dataset.rep_ids[0]], "hours": float(rng.uniform(0.5, 1.0))},
    ]
    return AssumptionSet(name=f"random-{seed}", adjustments=adjustments)


def both_paths(dataset, assumptions=None):
    pyomo = plan_targets(dataset, assumptions, engine="pyomo")
    arrays = plan_targets(dataset, assumptions, engine="arrays")
    return pyomo, arrays


def assert_same_optimum(pyomo, arrays):
    assert pyomo.status == arrays.status == OPTIMAL
    assert close(pyomo.objective, arrays.objective), (pyomo.objective, arrays.objective)
    assert pyomo.n_variables == arrays.n_variables
    assert pyomo.n_constraints == arrays.n_constraints
    soft = sum(s["amount"] for s in arrays.slacks)  # only slacks above the reporting tolerance
    # Alternative optima may split margin and penalties differently, never the objective:
    penalty = arrays.margin - arrays.change_cost - arrays.objective
    assert penalty >= -1e-6 * max(1.0, abs(arrays.objective))
    assert soft == 0 or penalty > 0


# --------------------------------------------------------------------------------------------
# Same optimum as the Pyomo model


@pytest.mark.parametrize("seed", range(20))
def test_same_optimum_as_pyomo_on_generated_instances(seed):
    dataset = generated(seed, with_plan=seed % 2 == 0, shares=seed % 3 != 0, closed=seed % 2)
    assumptions = random_assumptions(dataset, seed) if seed % 4 != 1 else None
    assert_same_optimum(*both_paths(dataset, assumptions))


@pytest.mark.parametrize("seed", range(4))
def test_soft_slacks_and_supply_rows_are_reported_like_pyomo(seed):
    dataset = generated(seed, shares=True)
    pyomo, arrays = both_paths(dataset)
    assert_same_optimum(pyomo, arrays)
    assert {s["family"] for s in arrays.slacks} <= {"mix_min", "mix_max", "budget"}
    # two minimum shares of 60 % cannot both be met: both paths say so
    assert any(s["family"] == "mix_min" for s in pyomo.slacks)
    assert any(s["family"] == "mix_min" for s in arrays.slacks)
    assert all(s["amount"] > 0 and s["message"] for s in arrays.slacks)


def test_tiny_instance_has_the_hand_computed_optimum():
    result = plan_targets(dataset_from_tables(tiny_tables()), engine="arrays")
    assert result.status == OPTIMAL
    assert result.objective == pytest.approx(640.0)
    orders = result.orders.set_index("product_id")["orders"]
    assert orders["B"] == pytest.approx(4.0) and orders["A"] == pytest.approx(6.0)


def test_result_reads_like_the_pyomo_result_on_the_sample():
    from models.assumptions import load_assumptions
    from models.dataset import load_dataset

    dataset = load_dataset("datasets/sample")
    assumptions = load_assumptions("datasets/sample/assumptions/south-freeze.yaml", dataset)
    pyomo, arrays = both_paths(dataset, assumptions)
    assert_same_optimum(pyomo, arrays)
    assert list(arrays.orders.columns) == list(pyomo.orders.columns)
    assert len(arrays.orders) == len(pyomo.orders)
    assert close(arrays.orders["orders"].sum(), pyomo.orders["orders"].sum(), 1e-3)
    by_key = {tuple(b[k] for k in b if k not in ("worth", "message")): b["worth"] for b in pyomo.binding}
    shared = [b for b in arrays.binding if tuple(b[k] for k in b if k not in ("worth", "message")) in by_key]
    assert len(shared) >= len(arrays.binding) // 2  # duals of degenerate rows may differ; most coincide
    for b in shared:
        assert close(b["worth"], by_key[tuple(b[k] for k in b if k not in ("worth", "message"))], 1e-5)


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_every_ordering_gives_the_same_optimum(ordering):
    dataset = generated(3, shares=True)
    params = effective_parameters(dataset)
    in_force = in_force_for(dataset.plan, params.open_periods)
    reference = PlanSolver(params, in_force, ordering="natural").solve()
    result = PlanSolver(params, in_force, ordering=ordering).solve()
    assert close(result.objective, reference.objective)
    assert result.orders["orders"].sum() == pytest.approx(reference.orders["orders"].sum(), rel=1e-4)


# --------------------------------------------------------------------------------------------
# Warm re-solve after an in-place update = cold solve of the changed model


@pytest.mark.parametrize("seed", range(8))
def test_update_equals_a_cold_solve_of_the_changed_model(seed):
    dataset = generated(seed, shares=seed % 2 == 0, with_plan=seed != 3)
    assumptions = random_assumptions(dataset, 100 + seed)
    before = effective_parameters(dataset)
    after = effective_parameters(dataset, assumptions)
    in_force = in_force_for(dataset.plan, before.open_periods)
    solver = PlanSolver(before, in_force)
    first = solver.solve()
    assert first.status == OPTIMAL
    warm = solver.update(after)
    cold = PlanSolver(after, in_force).solve()
    pyomo = plan_targets(dataset, assumptions, engine="pyomo")
    assert warm.status == OPTIMAL
    assert close(warm.objective, cold.objective) and close(warm.objective, pyomo.objective)
    assert solver.updates["column_bounds"] > 0 and solver.updates["coefficients"] > 0


def test_update_with_many_coefficients_passes_the_matrix_again(monkeypatch):
    monkeypatch.setattr(plan_arrays, "MAX_COEFF_UPDATES", 0)
    dataset = generated(5, shares=True)
    assumptions = random_assumptions(dataset, 5)
    in_force = in_force_for(dataset.plan, dataset.company.open_periods)
    solver = PlanSolver(effective_parameters(dataset), in_force)
    solver.solve()
    warm = solver.update(effective_parameters(dataset, assumptions))
    assert solver.updates.get("repassed") == 1
    assert close(warm.objective, plan_targets(dataset, assumptions, engine="pyomo").objective)


def test_update_only_touches_what_changed():
    dataset = generated(2)
    params = effective_parameters(dataset)
    in_force = in_force_for(dataset.plan, params.open_periods)
    solver = PlanSolver(params, in_force)
    solver.solve()
    again = solver.update(effective_parameters(dataset))
    assert solver.updates == {"column_bounds": 0, "row_bounds": 0, "costs": 0, "coefficients": 0}
    assert again.iterations == 0
    solver.update(effective_parameters(dataset, tactical_change(dataset)))
    assert solver.updates["row_bounds"] > 0 and solver.updates["coefficients"] == 0


def test_a_change_of_shape_rebuilds_and_still_solves():
    dataset = generated(4, closed=1)
    params = effective_parameters(dataset)
    in_force = in_force_for(dataset.plan, params.open_periods)
    solver = PlanSolver(params, in_force)
    solver.solve()
    shrunk = effective_parameters(dataset)
    shrunk.sells[0, :] = False  # rep 0 stops selling: fewer variables and rows
    result = solver.update(shrunk)
    assert solver.updates == {"rebuilt": 1}
    assert result.status == OPTIMAL
    assert close(result.objective, PlanSolver(shrunk, in_force).solve().objective)


# --------------------------------------------------------------------------------------------
# The floor of the benchmark is the same LP


@pytest.mark.parametrize("seed", range(6))
def test_floor_is_the_same_lp(seed):
    dataset = generated(seed, shares=seed % 2 == 1, with_plan=seed != 2)
    params = effective_parameters(dataset)
    changed = effective_parameters(dataset, tactical_change(dataset))
    in_force = in_force_for(dataset.plan, params.open_periods)
    solver = PlanSolver(params, in_force)
    floor = FloorLP(params, in_force)
    assert (floor.matrix.shape[1], floor.matrix.shape[0]) == (solver.n_variables, solver.n_constraints)
    assert floor.highs.getNumNz() == solver.n_nonzeros
    objective, _ = floor.solve()
    assert close(objective, solver.solve().objective)
    floor.change_demand(changed)
    again, _ = floor.solve()
    assert close(again, solver.update(changed).objective)


# --------------------------------------------------------------------------------------------
# Status vocabulary


def test_a_time_limited_answer_is_never_optimal():
    dataset = dataset_from_tables(synthetic_tables(reps=60, products=12, markets=3, periods=12, seed=1))
    params = effective_parameters(dataset)
    solver = PlanSolver(params, in_force_for(dataset.plan, params.open_periods))
    limited = solver.solve(time_limit=1e-4)
    assert limited.status in (FEASIBLE_TIME_LIMIT, ERROR)
    assert limited.status != OPTIMAL
    if limited.status == ERROR:
        assert limited.objective is None and limited.orders.empty
    full = solver.solve()  # the limit applies to one solve only
    assert full.status == OPTIMAL


def test_time_limit_from_options_and_threads_fixed_once():
    dataset = generated(1)
    result = plan_targets(dataset, options=SolveOptions(time_limit=60.0), engine="arrays")
    assert result.status == OPTIMAL
    with pytest.raises(ValueError):
        plan_targets(dataset, engine="cplex")


def test_time_limit_counts_from_the_start_of_each_solve():
    """HiGHS measures its limit against the model's cumulative run time; each solve gets its own."""
    dataset = generated(6)
    params = effective_parameters(dataset)
    solver = PlanSolver(params, in_force_for(dataset.plan, params.open_periods))
    for _ in range(3):
        solver.highs.clearSolver()  # cold again: the run time keeps adding up
        solver.solve()
    spent = solver.highs.getRunTime()
    solver.highs.clearSolver()
    result = solver.solve(time_limit=60.0)
    assert result.status == OPTIMAL
    assert solver.highs.getOptionValue("time_limit")[1] >= spent + 60.0
