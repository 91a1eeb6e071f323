"""Regret, the figure that matters (optimizer/calibration/regret.py), on a small seeded company: the plan
recommended with the calibrated reps, judged by the true ones, loses at most half of what the plan
recommended with skill and comfort unknown loses. Net margins are recomputed here with the payout
calculator from the judged orders."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from models.dataset import dataset_from_tables
from models.history import load_history
from models.synthetic import known_tables, synthetic_tables
from optimizer.alignment.payout import pay
from optimizer.alignment.recommend import recommend
from optimizer.alignment.response import simulate
from optimizer.calibration.estimate import calibrate
from optimizer.calibration.regret import PROMISED_CUT, recommendation_regret
from optimizer.calibration.synthetic import synthetic_history
from optimizer.parameters import effective_parameters
from optimizer.plan.cascade import orders_array


@pytest.fixture(scope="module")
def case():
    tables = synthetic_tables(reps=24, products=5, markets=2, periods=14, seed=8, closed_periods=10)
    truth = dataset_from_tables(tables)
    made = synthetic_history(truth, noise=0.1, seed=8)
    known = replace(dataset_from_tables(known_tables(tables)), actuals=made.actuals)
    calibrated = calibrate(known, load_history(known), made.spans).dataset
    return truth, known, calibrated, recommendation_regret(
        truth, {"truth": truth, "calibrated": calibrated, "uncalibrated": known})


def test_calibrating_halves_the_regret_at_ten_percent_noise(case):
    _, _, _, result = case
    models = result["models"]
    assert models["truth"]["regret_pct"] == 0.0
    assert models["uncalibrated"]["regret_pct"] > 1.0  # not calibrating costs something here
    assert models["calibrated"]["regret_pct"] <= 0.5 * models["uncalibrated"]["regret_pct"]
    assert models["calibrated"]["cuts_beyond"] < models["uncalibrated"]["cuts_beyond"]


def test_the_net_margin_judged_by_the_true_reps_is_recomputed_by_the_payout_calculator(case):
    truth, _, calibrated, result = case
    params = effective_parameters(truth)
    plan = recommend(calibrated).plan
    judged = simulate(truth, plan, params=params, plan_margin=result["plan_margin"])
    grid = orders_array(params, judged.orders)
    margin = float((params.rep_view(params.margin) * grid)[:, :, params.open_index].sum())
    paid, _ = pay(params, plan, judged.orders)
    open_pay = float(paid[paid["period"].isin(set(params.open_periods))]["pay"].sum())
    assert margin - open_pay == pytest.approx(result["models"]["calibrated"]["net_margin"], rel=1e-9)


def test_true_pay_cuts_are_counted_against_the_plan_in_force(case):
    truth, known, _, result = case
    params = effective_parameters(truth)
    in_force = simulate(truth, truth.plan, params=params, plan_margin=1.0).pay.groupby("rep_id")["pay"].sum()
    judged = simulate(truth, recommend(known).plan, params=params, plan_margin=1.0).pay.groupby("rep_id")["pay"].sum()
    change = (judged.reindex(in_force.index) / in_force - 1.0).to_numpy()
    assert int((change < -PROMISED_CUT).sum()) == result["models"]["uncalibrated"]["cuts_beyond"]
    assert float(np.min(change)) == pytest.approx(result["models"]["uncalibrated"]["worst_cut"], abs=1e-12)
