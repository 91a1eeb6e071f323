"""The executor: serial and a two-process LocalCluster give the same results in input order;
an unreachable scheduler is a clear error naming its address."""

from __future__ import annotations

import os
import time

import highspy
import numpy as np
import pytest

from optimizer import executor as executor_module
from optimizer.executor import SCHEDULER_ENV, ExecutorError, SerialExecutor, open_executor


def _solve_small_lp(seed: int) -> tuple[int, float]:
    """A real HiGHS solve per item: max c·x s.t. A x <= b, 0 <= x <= 1, data drawn from the seed."""
    rng = np.random.default_rng(seed)
    n_rows, n_cols = 5, 8
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = n_rows
    lp.col_cost_ = -rng.uniform(1, 10, n_cols)
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.ones(n_cols)
    lp.row_lower_ = np.full(n_rows, -highspy.kHighsInf)
    lp.row_upper_ = rng.uniform(1, 3, n_rows)
    dense = rng.uniform(0, 2, (n_rows, n_cols))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(0, n_rows * n_cols + 1, n_rows, dtype=np.int32)
    lp.a_matrix_.index_ = np.tile(np.arange(n_rows, dtype=np.int32), n_cols)
    lp.a_matrix_.value_ = dense.T.ravel()
    h.passModel(lp)
    h.run()
    return seed, -h.getInfo().objective_function_value


def _fail_on_three(item: int) -> int:
    if item == 3:
        raise ValueError("item 3 is bad")
    return item


def test_serial_when_one_worker_and_no_scheduler(monkeypatch):
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    with open_executor(workers=1) as executor:
        assert isinstance(executor, SerialExecutor)
        assert executor.map(_solve_small_lp, []) == []
        with pytest.raises(ValueError, match="item 3"):
            executor.map(_fail_on_three, [1, 2, 3])


def test_local_cluster_of_two_equals_serial(monkeypatch):
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    items = [7, 1, 4, 4, 9, 2, 0, 5]
    with open_executor(workers=1) as executor:
        serial = executor.map(_solve_small_lp, items)
    with open_executor(workers=2) as executor:
        assert executor.workers == 2
        parallel = executor.map(_solve_small_lp, items)
        with pytest.raises(ValueError, match="item 3"):
            executor.map(_fail_on_three, [1, 2, 3])
    assert [seed for seed, _ in parallel] == items  # input order
    assert parallel == serial


def test_unreachable_scheduler_names_the_address(monkeypatch):
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    monkeypatch.setattr(executor_module, "CONNECT_TIMEOUT_SECONDS", 1.0)
    address = "tcp://127.0.0.1:9"  # discard port: nothing listens there
    started = time.perf_counter()
    with pytest.raises(ExecutorError, match="127.0.0.1:9"):
        with open_executor(scheduler=address):
            pytest.fail("the body must not run without a scheduler")
    assert time.perf_counter() - started < 30


def test_unreachable_scheduler_from_environment(monkeypatch):
    monkeypatch.setenv(SCHEDULER_ENV, "tcp://127.0.0.1:9")
    monkeypatch.setattr(executor_module, "CONNECT_TIMEOUT_SECONDS", 1.0)
    with pytest.raises(ExecutorError, match=SCHEDULER_ENV):
        with open_executor(workers=1):
            pytest.fail("the body must not run without a scheduler")
    assert os.environ[SCHEDULER_ENV] == "tcp://127.0.0.1:9"
