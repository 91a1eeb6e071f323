"""The plan LP solved by period blocks (optimizer/plan/decompose.py) against the monolithic solvers.

Generated companies where the horizon rows (mix, budget) do not bind and where they do (the
generator's `binding_mix` switch, and the shares/supply instances of tests/plan/test_arrays.py) must give the
monolithic optimum to 1e-7 relative on both the array and the Pyomo engine; duals on the horizon rows
and the slacks must agree; LocalCluster and serial runs give the same plan; a warm start from the
stored bases gives the same answer with fewer block iterations.
"""

from __future__ import annotations

import numpy as np
import pytest

from models.dataset import dataset_from_tables
from models.synthetic import synthetic_tables
from optimizer.executor import open_executor
from optimizer.parameters import effective_parameters
from optimizer.plan.arrays import PlanSolver
from optimizer.plan.decompose import PeriodDecomposition, solve_plan_decomposed
from optimizer.plan.results import in_force_for
from optimizer.plan.targets import plan_targets
from optimizer.solve import OPTIMAL
from tests.plan.test_arrays import generated, random_assumptions

EXACT = 1e-7


def rel_diff(a: float, b: float) -> float:
    return abs(a - b) / max(1.0, abs(a), abs(b))


def company(reps: int, products: int, *, binding: bool, seed: int = 0, periods: int = 6):
    return dataset_from_tables(synthetic_tables(reps=reps, products=products, markets=3, periods=periods,
                                                seed=seed, binding_mix=binding))


def horizon_duals(result) -> dict:
    return {(b["family"], b.get("product_id")): b["worth"] for b in result.binding
            if b["family"] in ("mix_min", "mix_max", "budget")}


@pytest.mark.parametrize("binding", [False, True])
def test_equals_monolithic_on_both_engines(binding):
    dataset = company(40, 12, binding=binding)
    params = effective_parameters(dataset)
    in_force = in_force_for(dataset.plan, params.open_periods)
    arrays = PlanSolver(params, in_force).solve()
    pyomo = plan_targets(dataset, engine="pyomo")
    decomposed, _, stats = solve_plan_decomposed(params, in_force)
    assert decomposed.status == OPTIMAL and not stats.fallback
    assert stats.horizon_rows_bind == binding
    assert rel_diff(decomposed.objective, arrays.objective) <= EXACT
    assert rel_diff(decomposed.objective, pyomo.objective) <= EXACT
    assert rel_diff(decomposed.margin, arrays.margin) <= 1e-6
    # the plan is feasible for the monolithic LP: hard rows hold (checked on the orders it reports)
    orders = decomposed.orders.set_index(["rep_id", "product_id", "period"])["orders"]
    assert (orders >= 0).all()
    # slacks and the horizon rows' shadow prices are the LP's
    assert {s["constraint"] for s in decomposed.slacks} == {s["constraint"] for s in arrays.slacks}
    for mine, theirs in zip(sorted(decomposed.slacks, key=lambda s: s["constraint"]),
                            sorted(arrays.slacks, key=lambda s: s["constraint"])):
        assert rel_diff(mine["amount"], theirs["amount"]) <= 1e-5
    mine, theirs = horizon_duals(decomposed), horizon_duals(arrays)
    assert mine.keys() == theirs.keys()
    if binding:
        assert mine, "a binding instance must bind a horizon row"
    for key in theirs:
        assert abs(mine[key] - theirs[key]) <= 1e-4 * max(1.0, abs(theirs[key])), key


@pytest.mark.parametrize("seed", range(6))
def test_equals_monolithic_on_generated_companies(seed):
    """Plans in force, closed periods, assumptions, infeasible mix shares, supply limits."""
    dataset = generated(seed, shares=seed % 2 == 0, closed=seed % 3 == 1)
    params = effective_parameters(dataset, random_assumptions(dataset, seed))
    in_force = in_force_for(dataset.plan, params.open_periods)
    arrays = PlanSolver(params, in_force).solve()
    decomposed, _, stats = solve_plan_decomposed(params, in_force)
    assert decomposed.status == arrays.status == OPTIMAL
    assert not stats.fallback
    assert rel_diff(decomposed.objective, arrays.objective) <= EXACT, (decomposed.objective, arrays.objective)
    assert rel_diff(decomposed.change_cost or 0.0, arrays.change_cost or 0.0) <= 1e-5


def test_block_capacity_duals_are_the_lps():
    dataset = company(30, 8, binding=False)
    params = effective_parameters(dataset)
    in_force = in_force_for(dataset.plan, params.open_periods)
    arrays = PlanSolver(params, in_force).solve()
    decomposed, _, _ = solve_plan_decomposed(params, in_force)
    theirs = {(b["family"], b.get("rep_id"), b.get("market_id"), b.get("product_id"), b.get("period")): b["worth"]
              for b in arrays.binding}
    mine = {(b["family"], b.get("rep_id"), b.get("market_id"), b.get("product_id"), b.get("period")): b["worth"]
            for b in decomposed.binding}
    assert theirs
    # The LP may have several optimal dual solutions (degenerate rows); the capacity values that
    # both report must agree, and most of the top entries must be the same rows.
    common = set(mine) & set(theirs)
    assert len(common) >= 0.7 * len(theirs)
    for key in common:
        assert abs(mine[key] - theirs[key]) <= 1e-4 * max(1.0, abs(theirs[key])), key


def test_local_cluster_equals_serial():
    """Blocks solved on a LocalCluster of two workers give the serial plan, binding or not."""
    instances = []
    for binding in (False, True):
        dataset = company(20, 8, binding=binding, periods=4)
        params = effective_parameters(dataset)
        instances.append((params, in_force_for(dataset.plan, params.open_periods)))
    serial = [solve_plan_decomposed(params, in_force)[0] for params, in_force in instances]
    with open_executor(workers=2) as executor:
        parallel = [solve_plan_decomposed(params, in_force, executor=executor) for params, in_force in instances]
    for (mine, _, stats), theirs in zip(parallel, serial):
        assert not stats.fallback
        assert rel_diff(mine.objective, theirs.objective) <= 1e-9
    # without binding horizon rows the blocks are solved once, cold, the same way: the same orders
    assert np.allclose(parallel[0][0].orders["orders"], serial[0].orders["orders"], atol=1e-6)


@pytest.mark.parametrize("binding", [False, True])
def test_warm_start_from_stored_bases(binding):
    """A re-plan after one market's potential halves: warm from the bases of the first solve."""
    dataset = company(30, 10, binding=binding)
    params = effective_parameters(dataset)
    in_force = in_force_for(dataset.plan, params.open_periods)
    first, warm, _ = solve_plan_decomposed(params, in_force)
    # a fresh process would see only the stored bases: drop this process's live models
    from optimizer.plan import decompose as plan_decompose

    plan_decompose._LIVE.clear()
    potential = params.potential.copy()
    late = len(params.open_periods) // 2
    potential[0, :, params.open_index[late:]] *= 0.5
    changed = _with_potential(params, potential)
    cold, _, cold_stats = solve_plan_decomposed(changed, in_force)
    plan_decompose._LIVE.clear()
    hot, _, hot_stats = solve_plan_decomposed(changed, in_force, warm=warm)
    assert rel_diff(hot.objective, cold.objective) <= EXACT
    assert hot_stats.warm and not cold_stats.warm
    n_periods = len(params.open_periods)
    assert cold_stats.blocks_resolved == n_periods
    if not binding:  # the unchanged early blocks are taken as stored, the others re-solved warm
        assert hot_stats.blocks_resolved == n_periods - late
        assert hot.iterations < cold.iterations
    else:  # stored answers are at the old prices: every block is priced again
        assert hot_stats.blocks_resolved <= n_periods
    # the same parameters again: nothing to re-solve when the rows do not bind
    again, _, again_stats = solve_plan_decomposed(params, in_force, warm=warm)
    assert rel_diff(again.objective, first.objective) <= EXACT
    if not binding:
        assert again_stats.blocks_resolved == 0 and again.iterations == 0


def _with_potential(params, potential):
    import dataclasses

    return dataclasses.replace(params, potential=potential)


def test_one_block_per_open_period_and_few_horizon_rows():
    dataset = company(20, 10, binding=True, periods=5)
    params = effective_parameters(dataset)
    decomposition = PeriodDecomposition(params, in_force_for(dataset.plan, params.open_periods))
    assert len(decomposition.blocks) == len(params.open_periods)
    assert decomposition.n_horizon_rows <= 2 * len(params.products) + 1
    n_cols = sum(b.matrix.shape[1] for b in decomposition.blocks) + len(decomposition.horizon_slacks)
    assert n_cols == decomposition.layout.n_cols


def test_bench_times_the_blocks_beside_the_floor():
    """`comptune bench`'s decomposed path agrees with the floor (HiGHS alone) on a binding instance."""
    from optimizer.bench import run_benchmark

    result = run_benchmark(reps=12, products=6, periods=4, markets=2, binding_mix=True, pyomo=False)
    assert result["name"].endswith("-binding") and result["horizon_rows_bind"] is True
    assert result["decomposed_objective_rel_diff"] <= EXACT
    assert result["decomposed_resolve_objective_rel_diff"] <= EXACT
    assert result["decomposed_ratio"] > 0 and result["agree"]
    assert result["decomposed_resolve_blocks"] <= result["blocks"] == 4


def test_binding_master_closes_the_gap_on_a_wider_company():
    """30 products, 12 periods, binding mix rules: many master rounds. A master whose costs were
    scaled to 1 stalled here short of the gap (its reduced costs were too coarse); unscaled, the
    master failed on larger companies (next test). Neither may fall back to the monolithic LP."""
    dataset = dataset_from_tables(synthetic_tables(reps=40, products=30, markets=3, periods=12, seed=0,
                                                   binding_mix=True))
    params = effective_parameters(dataset)
    in_force = in_force_for(dataset.plan, params.open_periods)
    arrays = PlanSolver(params, in_force).solve()
    decomposed, _, stats = solve_plan_decomposed(params, in_force)
    assert stats.horizon_rows_bind and not stats.fallback, stats.fallback
    assert rel_diff(decomposed.objective, arrays.objective) <= EXACT
    mine, theirs = horizon_duals(decomposed), horizon_duals(arrays)
    assert mine.keys() == theirs.keys() and theirs
    for key in theirs:
        assert abs(mine[key] - theirs[key]) <= 1e-4 * max(1.0, abs(theirs[key])), key


def test_guard_budget_grows_with_the_dense_horizon_rows():
    """The binding mix rows have an entry for every order: the monolithic matrix is several times
    the blocks', and the rounds may take that many more first passes before giving up."""
    from optimizer.plan import decompose as plan_decompose

    binding = PeriodDecomposition(*_params_and_in_force(company(20, 10, binding=True, periods=4)))
    loose = PeriodDecomposition(*_params_and_in_force(company(20, 10, binding=False, periods=4)))
    assert binding.density > loose.density >= 1.0
    first = 100.0  # seconds of a first block pass, large enough to be above DW_MIN_SECONDS
    assert binding.dw_budget(first) == pytest.approx(plan_decompose.DW_TIME_FACTOR * binding.density * first)
    assert binding.dw_budget(1e-3) == plan_decompose.DW_MIN_SECONDS


def _params_and_in_force(dataset):
    params = effective_parameters(dataset)
    return params, in_force_for(dataset.plan, params.open_periods)


@pytest.mark.slow
def test_binding_at_100_reps_50_products_12_periods():
    """Where the unscaled master failed (HiGHS: "excessive dual values") and the plan fell back:
    100 × 50 × 12 with 28 binding horizon rows, against the monolithic optimum."""
    from optimizer.bench import load_instance

    params, in_force = _params_and_in_force(load_instance(reps=100, products=50, periods=12, binding_mix=True))
    decomposed, _, stats = solve_plan_decomposed(params, in_force)
    assert stats.horizon_rows_bind and not stats.fallback, stats.fallback
    arrays = PlanSolver(params, in_force).solve()
    assert rel_diff(decomposed.objective, arrays.objective) <= EXACT
    mine, theirs = horizon_duals(decomposed), horizon_duals(arrays)
    assert mine.keys() == theirs.keys() and theirs
    for key in theirs:
        assert abs(mine[key] - theirs[key]) <= 1e-4 * max(1.0, abs(theirs[key])), key
