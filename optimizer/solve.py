"""Solve options, the HiGHS set-up and the status vocabulary shared by every model comptune solves.

One place decides how HiGHS is called (time limit, threads, quiet output) and how a solver's
termination is reported: `optimal`, `feasible_time_limit`, `infeasible`, `unbounded` or `error`.
A time-limited answer is never called optimal. Models reach HiGHS in three ways, all set up and
mapped here: through Pyomo's contrib interface (`solve_pyomo`, `status_of`: the readable plan
model), directly through `highspy` (`new_highs`, `pass_matrix`, `run_highs`, `highs_status`: the
plan LP's array engine, the benchmark and the rep response model, which adds `EXACT_MIP`) and
through scipy's `linprog(method="highs")` (`linprog_status`: the small incentive LP).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from dataclasses import dataclass

import highspy
import scipy.sparse as sp
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

logger = logging.getLogger(__name__)

OPTIMAL = "optimal"
FEASIBLE_TIME_LIMIT = "feasible_time_limit"
INFEASIBLE = "infeasible"
UNBOUNDED = "unbounded"
ERROR = "error"
STATUSES = (OPTIMAL, FEASIBLE_TIME_LIMIT, INFEASIBLE, UNBOUNDED, ERROR)

INF = highspy.kHighsInf


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
    return None if highs is None else highs_iterations(highs)


# --------------------------------------------------------------------------------------------
# HiGHS through highspy, once per process

_process_threads: int | None = None  # HiGHS's scheduler is global: its thread count is set once
_banner_shown = False


# Settings for models that must be solved exactly, MIPs included (the rep response model, §4.5):
# a zero gap, tight tolerances, and no sub-MIP heuristics (they dominate the time on tiny models).
EXACT_MIP = {
    "mip_rel_gap": 0.0,
    "mip_abs_gap": 1e-9,
    "primal_feasibility_tolerance": 1e-9,
    "dual_feasibility_tolerance": 1e-9,
    "mip_feasibility_tolerance": 1e-9,
    **{f"mip_heuristic_run_{heuristic}": False for heuristic in ("rins", "rens", "root_reduced_cost", "zi_round", "shifting")},
}


def new_highs(options: SolveOptions | None = None, settings: dict | None = None) -> highspy.Highs:
    """A quiet `highspy.Highs` with extra HiGHS `settings`; `threads` is honoured only for the first
    model of the process."""
    global _process_threads, _banner_shown
    if _banner_shown:
        highs = highspy.Highs()
    else:  # HiGHS prints its banner on stdout once per process, before any option can stop it
        with _stdout_silenced():
            highs = highspy.Highs()
        _banner_shown = True
    highs.setOptionValue("output_flag", bool(options and options.tee))
    requested = options.threads if options else None
    if requested is not None and _process_threads is None:
        _process_threads = int(requested)
    elif requested is not None and requested != _process_threads:
        logger.warning("HiGHS threads already fixed at %s for this process; ignoring threads=%s",
                       _process_threads, requested)
    if _process_threads is not None:
        highs.setOptionValue("threads", _process_threads)
    for name, value in (settings or {}).items():
        highs.setOptionValue(name, value)
    return highs


@contextlib.contextmanager
def _stdout_silenced():
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # captured stdout (pytest, notebooks): nothing to do
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def highs_status(highs: highspy.Highs) -> str:
    """HiGHS's model status in comptune's vocabulary; a time-limited answer is never optimal."""
    status = highs.getModelStatus()
    info = highs.getInfo()
    feasible = info.primal_solution_status == 2  # kSolutionStatusFeasible
    ms = highspy.HighsModelStatus
    if status == ms.kOptimal:
        return OPTIMAL
    if status in (ms.kTimeLimit, ms.kIterationLimit, ms.kInterrupt):
        return FEASIBLE_TIME_LIMIT if feasible else ERROR
    if status == ms.kInfeasible:
        return INFEASIBLE
    if status == ms.kUnbounded:
        return UNBOUNDED
    if status == ms.kUnboundedOrInfeasible:
        return INFEASIBLE
    logger.warning("HiGHS ended with %s", highs.modelStatusToString(status))
    return ERROR


def highs_status_message(highs: highspy.Highs) -> str:
    """Why HiGHS stopped, in words (e.g. "time limit reached before a feasible plan was found")."""
    text = highs.modelStatusToString(highs.getModelStatus()).lower()
    if highs.getModelStatus() == highspy.HighsModelStatus.kTimeLimit:
        return f"HiGHS: {text} before a feasible plan was found"
    return f"HiGHS: {text}"


def pass_matrix(highs: highspy.Highs, matrix: sp.csc_matrix, cost, col_lower, col_upper, row_lower, row_upper) -> None:
    """Hand a column-wise LP (maximize) to HiGHS in one call."""
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = int(matrix.shape[1]), int(matrix.shape[0])
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, col_lower, col_upper
    lp.row_lower_, lp.row_upper_ = row_lower, row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = matrix.indptr, matrix.indices, matrix.data
    status = highs.passModel(lp)
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS rejected the plan LP")


def run_highs(highs: highspy.Highs, time_limit: float | None) -> None:
    """Run HiGHS with a time limit for this run only.

    HiGHS compares `time_limit` with the model's *cumulative* run time (`getRunTime`), so a limit
    for one re-solve is the time already spent plus the limit.
    """
    highs.setOptionValue("time_limit", highs.getRunTime() + float(time_limit) if time_limit is not None else INF)
    highs.run()


def highs_iterations(highs: highspy.Highs) -> int:
    """Simplex (plus interior-point) iterations of the last run."""
    info = highs.getInfo()
    return int(info.simplex_iteration_count) + int(getattr(info, "ipm_iteration_count", 0) or 0)


def linprog_status(result) -> str:
    """A `scipy.optimize.linprog` result's status in comptune's vocabulary (0 optimal, 2 infeasible,
    3 unbounded; an iteration or time limit gives no usable answer there)."""
    return {0: OPTIMAL, 2: INFEASIBLE, 3: UNBOUNDED}.get(result.status, ERROR)
