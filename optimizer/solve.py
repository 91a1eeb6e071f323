"""Solve options and the status vocabulary shared by every model comptune solves.

One place decides how HiGHS is called (time limit, threads, quiet output) and how a solver's
termination is reported: `optimal`, `feasible_time_limit`, `infeasible`, `unbounded` or `error`.
A time-limited answer is never called optimal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

logger = logging.getLogger(__name__)

OPTIMAL = "optimal"
FEASIBLE_TIME_LIMIT = "feasible_time_limit"
INFEASIBLE = "infeasible"
UNBOUNDED = "unbounded"
ERROR = "error"
STATUSES = (OPTIMAL, FEASIBLE_TIME_LIMIT, INFEASIBLE, UNBOUNDED, ERROR)


@dataclass(frozen=True)
class SolveOptions:
    """Cross-cutting solver options. `threads` is fixed per process by HiGHS's global scheduler."""

    time_limit: float | None = None
    tee: bool = False
    threads: int | None = None


def highs_solver():
    """A fresh Pyomo HiGHS solver (the contrib interface; persistent, wraps highspy)."""
    return SolverFactory("highs")


def status_of(results) -> str:
    """Map a Pyomo contrib result onto comptune's status vocabulary."""
    term = results.termination_condition
    has_solution = results.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
    if term == TerminationCondition.convergenceCriteriaSatisfied and results.solution_status == SolutionStatus.optimal:
        return OPTIMAL
    if term in (TerminationCondition.maxTimeLimit, TerminationCondition.iterationLimit) and has_solution:
        return FEASIBLE_TIME_LIMIT
    if term == TerminationCondition.provenInfeasible:
        return INFEASIBLE
    if term in (TerminationCondition.unbounded, TerminationCondition.infeasibleOrUnbounded):
        return UNBOUNDED if term == TerminationCondition.unbounded else INFEASIBLE
    if term == TerminationCondition.maxTimeLimit:
        return ERROR  # out of time before any feasible point: nothing usable to report
    logger.warning("solver ended with %s / %s", term, results.solution_status)
    return ERROR


def describe_termination(results, options: SolveOptions) -> str:
    """A sentence for a solve that produced no usable plan."""
    term = results.termination_condition
    if term == TerminationCondition.maxTimeLimit:
        return f"the time limit of {options.time_limit:g} s ran out before HiGHS found a feasible plan"
    if term == TerminationCondition.provenInfeasible:
        return "no plan satisfies the hard constraints (capacity, market, reach, supply)"
    return f"HiGHS ended with {term.name} and solution status {results.solution_status.name}"


def solve_pyomo(model, options: SolveOptions):
    """Solve a Pyomo model with HiGHS; return (solver, results). Never raises on a non-optimal end."""
    solver = highs_solver()
    config = dict(tee=options.tee, load_solutions=False, raise_exception_on_nonoptimal_result=False)
    if options.time_limit is not None:
        config["time_limit"] = float(options.time_limit)
    if options.threads is not None:
        config["threads"] = int(options.threads)
    results = solver.solve(model, **config)
    return solver, results


def simplex_iterations(solver) -> int | None:
    """Simplex iterations of the last HiGHS run behind a Pyomo solver, when it is available."""
    highs = getattr(solver, "_solver_model", None)
    if highs is None:
        return None
    info = highs.getInfo()
    return int(info.simplex_iteration_count) + int(getattr(info, "ipm_iteration_count", 0) or 0)
