"""Simulations that reuse solved batches give, bit for bit, the answers of solving everything (§4.5).

`optimizer.alignment.response.BatchMemo` keeps each solved batch of (rep, period) blocks under a
digest of its arrays; a recommendation owns one and every simulation of it asks the memo first.
These tests solve the same plans with the memo and without it (every batch solved by HiGHS) and
require equal floats — not close ones — on the sample and on a generated company, with a concave
curve (LP) and an accelerating one (LP relaxation then MIPs), for plans that differ from each other
the way the pay-cut repair's rounds do (some reps' targets scaled). The whole recommendation is
compared with the memo switched off too.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from models.assumptions import load_assumptions
from models.dataset import dataset_from_tables, load_dataset
from models.synthetic import synthetic_tables
from optimizer.alignment import recommend as recommend_module
from optimizer.alignment import response
from optimizer.alignment.pay_rules import scale_targets
from optimizer.alignment.recommend import recommend
from optimizer.alignment.response import BatchMemo, simulate, simulate_plans
from optimizer.executor import SerialExecutor
from optimizer.parameters import effective_parameters
from optimizer.plan.targets import plan_targets

SAMPLE = "datasets/sample"
ACCELERATING = ((0.0, 0.0), (0.5, 0.2), (1.0, 1.0), (1.5, 2.2), (3.0, 3.0))  # convex kinks: MIPs
CONCAVE = ((0.0, 0.0), (0.7, 0.9), (1.0, 1.0), (1.5, 1.1))


def generated(seed=5, reps=30):
    return dataset_from_tables(synthetic_tables(reps=reps, products=6, markets=3, periods=8, seed=seed,
                                                closed_periods=2))


def with_curve(plan, points):
    return replace(plan, curve=pd.DataFrame(points, columns=["attainment", "payout"]))


def repair_like(dataset, params):
    """Plans as one recommendation simulates them: the plan in force, an accelerating and a concave
    curve, then rounds that lower some reps' targets, and a plan seen before."""
    rng = np.random.default_rng(0)
    accelerating = with_curve(dataset.plan, ACCELERATING)
    plans = [dataset.plan, accelerating, with_curve(dataset.plan, CONCAVE)]
    scale = np.ones(len(params.reps))
    for _ in range(3):
        short = rng.random(len(scale)) < 0.1
        scale = np.where(short, scale * 0.8, scale)
        plans.append(scale_targets(accelerating, params, scale))
    plans.append(accelerating)
    return plans


def assert_same(a, b):
    assert (a.margin, a.revenue, a.pay_cost, a.scaled_orders, a.alignment_efficiency) == \
        (b.margin, b.revenue, b.pay_cost, b.scaled_orders, b.alignment_efficiency)
    pd.testing.assert_frame_equal(a.orders, b.orders, check_exact=True)
    pd.testing.assert_frame_equal(a.pay, b.pay, check_exact=True)


class CountingExecutor(SerialExecutor):
    """The in-process executor, counting its `map` calls and the batches handed to it."""

    def __init__(self):
        self.calls, self.items = 0, 0

    def map(self, fn, items):
        self.calls += 1
        self.items += len(items)
        return super().map(fn, items)


@pytest.mark.parametrize("source", ["sample", "generated"])
def test_reused_batches_give_the_answers_of_solving_everything(source):
    dataset = load_dataset(SAMPLE) if source == "sample" else generated()
    params = effective_parameters(dataset)
    margin = plan_targets(dataset, params=params).margin
    plans = repair_like(dataset, params)
    plain = [simulate(dataset, plan, params=params, plan_margin=margin) for plan in plans]
    memo, executor = BatchMemo(), CountingExecutor()
    one_by_one = [simulate_plans([plan], params=params, plan_margin=margin, executor=executor, memo=memo)[0]
                  for plan in plans]
    for a, b in zip(plain, one_by_one):
        assert_same(a, b)
    assert plain[1].exact_model == "mip" and plain[1].models_solved > len(response.block_batches(
        response.response_data(params, plans[1]))[1])  # the accelerating curve needed MIPs
    # the last plan is the second again: nothing solved; the repair rounds solved only some batches
    assert one_by_one[-1].models_solved == 0
    assert memo.hits > 0 and memo.solved == executor.items < sum(
        len(response.block_batches(response.response_data(params, p))[1]) for p in plans)


def test_several_plans_go_to_the_executor_in_one_map_and_each_batch_once():
    dataset = generated(seed=7)
    params = effective_parameters(dataset)
    plans = repair_like(dataset, params)
    plain = [simulate(dataset, plan, params=params, plan_margin=1.0) for plan in plans]
    memo, executor = BatchMemo(), CountingExecutor()
    together = simulate_plans(plans, params=params, plan_margin=1.0, executor=executor, memo=memo)
    for a, b in zip(plain, together):
        assert_same(a, b)
    assert executor.calls == 1
    distinct = {response.batch_key(b) for p in plans for b in response.block_batches(response.response_data(params, p))[1]}
    assert executor.items == memo.solved == len(distinct)
    assert sum(s.models_solved for s in together) == sum(s.models_solved for s in plain[:-1])  # the repeat: 0


def test_a_small_memo_evicts_and_still_gives_the_same_answers(monkeypatch):
    dataset = generated(seed=8)
    params = effective_parameters(dataset)
    plans = repair_like(dataset, params)
    plain = [simulate(dataset, plan, params=params, plan_margin=1.0) for plan in plans]
    memo = BatchMemo(max_bytes=1)  # keeps one batch at a time
    monkeypatch.setattr(response, "PENDING_BYTES", 1)  # one plan per executor map
    bounded = simulate_plans(plans, params=params, plan_margin=1.0, memo=memo)
    for a, b in zip(plain, bounded):
        assert_same(a, b)
    assert len(memo) == 1 and memo.bytes <= max(orders.nbytes for orders, _ in memo._store.values())


def recommendation_json(rec) -> dict:
    out = rec.to_dict()
    out.pop("seconds")
    return out


@pytest.mark.parametrize("source", ["sample", "generated"])
def test_a_recommendation_with_reuse_equals_one_without(monkeypatch, source):
    """Every figure of the recommendation (candidates, frontier, pay impact, targets, attribution) is
    the same when every simulation solves every batch again (the memo switched off)."""
    assumptions = None
    if source == "sample":  # with an assumption set: the attribution simulates the plan in force under its parent
        dataset = load_dataset(SAMPLE)
        assumptions = load_assumptions(f"{SAMPLE}/assumptions/south-freeze.yaml", dataset)
    else:  # an accelerating curve in force: the simulations of the plan in force are MIPs
        dataset = generated(reps=24)
        dataset = replace(dataset, plan=with_curve(dataset.plan, ACCELERATING))
    evaluated = []
    real = recommend_module.evaluate_candidates

    def counting(plans, **kwargs):
        evaluated.extend(plans)
        return real(plans, **kwargs)

    monkeypatch.setattr(recommend_module, "evaluate_candidates", counting)
    with_reuse = recommend(dataset, assumptions)
    assert sum(plan is dataset.plan for plan in evaluated) == 1  # the plan in force is simulated once
    monkeypatch.setattr(recommend_module, "BatchMemo", lambda: None)
    without = recommend(dataset, assumptions)
    assert with_reuse.status == without.status
    assert recommendation_json(with_reuse) == recommendation_json(without)
