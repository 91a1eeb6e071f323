"""optimizer/solve.py: the one HiGHS set-up and the status vocabulary, on real HiGHS runs.

(The Pyomo side's `status_of` is checked in tests/plan/test_lp.py.)
"""

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from optimizer.solve import (
    EXACT_MIP, INF, INFEASIBLE, OPTIMAL, UNBOUNDED, highs_status, linprog_status, new_highs, pass_matrix, run_highs,
)


def one_row_lp(row_lower: float, row_upper: float, col_upper: float = 10.0):
    """max x  s.t.  row_lower ≤ x ≤ row_upper, 0 ≤ x ≤ col_upper."""
    highs = new_highs()
    pass_matrix(highs, sp.csc_matrix(np.array([[1.0]])), np.array([1.0]), np.array([0.0]), np.array([col_upper]),
                np.array([row_lower]), np.array([row_upper]))
    run_highs(highs, time_limit=None)
    return highs


def test_highspy_statuses():
    optimal = one_row_lp(-INF, 4.0)
    assert highs_status(optimal) == OPTIMAL
    assert optimal.getInfo().objective_function_value == 4.0
    assert highs_status(one_row_lp(20.0, INF)) == INFEASIBLE  # x ≥ 20 but x ≤ 10
    assert highs_status(one_row_lp(-INF, INF, col_upper=INF)) == UNBOUNDED


def test_linprog_statuses():
    assert linprog_status(linprog([-1.0], bounds=[(0, 4)], method="highs")) == OPTIMAL
    assert linprog_status(linprog([-1.0], A_ub=[[-1.0]], b_ub=[-20.0], bounds=[(0, 10)], method="highs")) == INFEASIBLE
    assert linprog_status(linprog([-1.0], bounds=[(0, None)], method="highs")) == UNBOUNDED


def test_exact_mip_settings_are_applied():
    highs = new_highs(settings=EXACT_MIP)
    assert highs.getOptionValue("mip_rel_gap")[1] == 0.0
    assert highs.getOptionValue("mip_heuristic_run_rins")[1] is False
    assert highs.getOptionValue("output_flag")[1] is False
