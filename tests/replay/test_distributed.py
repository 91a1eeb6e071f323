"""Policies × seeds through a 2-worker Dask LocalCluster give the serial replay, figure for figure."""

from __future__ import annotations

import pytest

from models.assumptions import AssumptionSet
from models.dataset import dataset_from_tables
from models.synthetic import synthetic_tables
from optimizer.executor import open_executor
from optimizer.replay import ReplayOptions, run_replay


@pytest.mark.slow  # a LocalCluster and six reviews: minutes on the shared machine
def test_a_two_worker_local_cluster_replay_equals_the_serial_one():
    dataset = dataset_from_tables(synthetic_tables(reps=12, products=3, markets=2, periods=3, seed=11, closed_periods=1))
    world = AssumptionSet.model_validate({"name": "freeze", "adjustments": [
        {"markets": [dataset.market_ids[0]], "periods": {"from": dataset.company.open_periods[0]}, "demand": 0.6}]})
    options = ReplayOptions(policies=("static", "monthly"), noise=0.15, seeds=2, gaming_reps=2, seed=3)
    serial = run_replay(dataset, world, options).to_dict()
    with open_executor(workers=2) as executor:
        assert executor.workers == 2
        distributed = run_replay(dataset, world, options, executor=executor).to_dict()
    serial.pop("timing"), distributed.pop("timing")
    assert distributed == serial
    monthly = next(p for p in serial["policies"] if p["policy"] == "monthly")
    assert monthly["reviews_run"] == 2  # one review per seed after the first of two open months
    assert serial["policies"][0]["spread"]["net_margin_sd"] > 0  # the noise did differ between seeds
