"""pytest-benchmark suite of the plan LP over named instances × path (not in the default test run).

Run with `make bench` (results saved under .benchmarks/ for `pytest-benchmark compare`). Sizes come
from COMPTUNE_BENCH_SIZES (default `sample,small`; add `medium,large` for the large company — one
round each, minutes per case). Paths: the product's array path (build + solve, warm re-solve after
the tactical change), the floor (the same LP in plain highspy, default options) and, on small
instances, the Pyomo model. `comptune bench` measures the same things in fresh processes with
ratios; this suite is for tracking one path across commits.
"""

from __future__ import annotations

import os
from functools import lru_cache

import pytest

from optimizer.bench import SIZES, FloorLP, load_instance, named_instance, tactical_change
from optimizer.parameters import effective_parameters
from optimizer.plan.arrays import PlanSolver
from optimizer.plan.results import in_force_for
from optimizer.plan.targets import plan_targets
from optimizer.solve import OPTIMAL

pytestmark = pytest.mark.benchmark

SELECTED = [s.strip() for s in os.environ.get("COMPTUNE_BENCH_SIZES", "sample,small").split(",") if s.strip()]
ROUNDS = {"sample": 5, "small": 5, "medium": 1, "large": 1}
PYOMO_SIZES = {"sample", "small"}


@lru_cache(maxsize=2)
def instance(size: str):
    spec = named_instance(size)
    change = spec.pop("resolve_change", None)
    spec.pop("name")
    dataset = load_instance(**spec)
    params = effective_parameters(dataset)
    changed = effective_parameters(dataset, tactical_change(dataset, change))
    return dataset, params, changed, in_force_for(dataset.plan, params.open_periods)


def rounds(size: str) -> int:
    return ROUNDS.get(size, 1)


@pytest.fixture(params=[s for s in SELECTED if s in SIZES])
def size(request):
    return request.param


def test_arrays_build_solve(benchmark, size):
    _, params, _, in_force = instance(size)

    def build_and_solve():
        solver = PlanSolver(params, in_force)
        return solver, solver.solve()

    solver, result = benchmark.pedantic(build_and_solve, rounds=rounds(size), iterations=1)
    assert result.status == OPTIMAL
    benchmark.extra_info.update(variables=solver.n_variables, constraints=solver.n_constraints,
                                nonzeros=solver.n_nonzeros, iterations=result.iterations, objective=result.objective)


def test_arrays_resolve(benchmark, size):
    _, params, changed, in_force = instance(size)

    def solved():
        solver = PlanSolver(params, in_force)
        solver.solve()
        return (solver,), {}

    result = benchmark.pedantic(lambda solver: solver.update(changed), setup=solved, rounds=rounds(size))
    assert result.status == OPTIMAL
    benchmark.extra_info.update(iterations=result.iterations, objective=result.objective)


def test_floor_build_solve(benchmark, size):
    _, params, _, in_force = instance(size)

    def build_and_solve():
        floor = FloorLP(params, in_force)
        return floor, floor.solve()[0]

    floor, objective = benchmark.pedantic(build_and_solve, rounds=rounds(size), iterations=1)
    benchmark.extra_info.update(iterations=floor.iterations, objective=objective)
    reference = PlanSolver(params, in_force).solve().objective if size in PYOMO_SIZES else objective
    assert objective == pytest.approx(reference, rel=1e-6)


def test_floor_resolve(benchmark, size):
    _, params, changed, in_force = instance(size)

    def solved():
        floor = FloorLP(params, in_force)
        floor.solve()
        return (floor,), {}

    def resolve(floor):
        floor.change_demand(changed)
        return floor.solve()[0]

    objective = benchmark.pedantic(resolve, setup=solved, rounds=rounds(size))
    benchmark.extra_info.update(objective=objective)
    # The warm re-solve must land where a cold solve of the changed LP does: the product's build on
    # small instances (an independent path), a fresh floor otherwise (minutes at scale for both).
    if size in PYOMO_SIZES:
        reference = PlanSolver(changed, in_force).solve().objective
    else:
        reference = FloorLP(changed, in_force).solve()[0]
    assert objective == pytest.approx(reference, rel=1e-6)


def test_pyomo_build_solve(benchmark, size):
    if size not in PYOMO_SIZES:
        pytest.skip("the Pyomo path is benchmarked on small instances only (minutes at scale)")
    dataset, params, _, _ = instance(size)
    result = benchmark.pedantic(lambda: plan_targets(dataset, params=params, engine="pyomo"),
                                rounds=rounds(size), iterations=1)
    assert result.status == OPTIMAL
    benchmark.extra_info.update(iterations=result.iterations, objective=result.objective)
