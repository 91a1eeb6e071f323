"""The estimator on seeded companies whose truth is known (optimizer/calibration): at low noise the
estimates recover the truth within their stated uncertainty, the not-identified flags are honest,
and the calibrated reps reproduce the history and predict held-out months better than naive forecasts."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from models.dataset import dataset_from_tables
from models.history import load_history
from models.synthetic import known_tables, synthetic_tables
from optimizer.calibration.estimate import calibrate
from optimizer.calibration.synthetic import synthetic_history
from optimizer.calibration.validate import predicted_orders, wape
from optimizer.parameters import effective_parameters

SIZE = dict(reps=24, products=5, markets=2, periods=14, seed=8, closed_periods=10)


def company(noise: float, **history):
    tables = synthetic_tables(**SIZE)
    truth = dataset_from_tables(tables)
    made = synthetic_history(truth, noise=noise, seed=SIZE["seed"], **history)
    known = replace(dataset_from_tables(known_tables(tables)), actuals=made.actuals)
    return replace(truth, actuals=made.actuals), known, made


@pytest.fixture(scope="module")
def low_noise():
    truth, known, made = company(0.05)
    return truth, known, made, calibrate(known, load_history(known), made.spans)


@pytest.fixture(scope="module")
def no_noise():
    truth, known, made = company(0.0)
    return truth, known, made, calibrate(known, load_history(known), made.spans)


def test_funnel_rates_recover_the_truth_within_their_standard_errors(low_noise):
    truth, _, _, result = low_noise
    merged = result.funnel.merge(truth.funnel, on=["market_id", "product_id"], suffixes=("", "_true"))
    estimated = merged[merged["status"] == "estimated"]
    assert len(estimated) >= 0.8 * len(merged)
    # skill acts on quote → order only (optimizer/calibration/synthetic.py): the first two stages are the market's
    for rate in ("call_to_meeting", "meeting_to_quote"):
        z = (estimated[rate] - estimated[f"{rate}_true"]).abs() / estimated[f"{rate}_se"]
        assert (z <= 3).mean() >= 0.9, (rate, z.describe())


def test_hours_per_order_recover_the_truth_within_their_standard_errors(low_noise):
    truth, known, _, result = low_noise
    h_true = effective_parameters(truth).hours_per_order()[:, :, 0]
    h_est = effective_parameters(result.dataset).hours_per_order()[:, :, 0]
    h_prior = effective_parameters(known).hours_per_order()[:, :, 0]
    params = effective_parameters(known)
    frame = result.rep_products
    r = pd.Index(params.reps).get_indexer(frame["rep_id"])
    p = pd.Index(params.products).get_indexer(frame["product_id"])
    identified = (frame["skill_status"] == "estimated").to_numpy()
    error = np.abs(np.log(h_est[r, p] / h_true[r, p]))[identified]
    # the standard error of log skill, plus the hours per order itself carries (hours_per_order is not divided in the log)
    allowed = 3 * (frame["skill_se"] / frame["skill"]).to_numpy()[identified] + 0.03
    assert identified.sum() >= 0.3 * len(frame)
    assert (error <= allowed).mean() >= 0.9
    # not identified: the dataset's hours per order are kept
    assert np.allclose(h_est[r, p][~identified], h_prior[r, p][~identified], rtol=1e-3)
    assert (np.abs(np.log(h_est[r, p] / h_true[r, p]))[identified].mean()
            < np.abs(np.log(h_prior[r, p] / h_true[r, p]))[identified].mean())


def test_comfort_ranges_hold_the_truth_without_noise(no_noise):
    truth, _, _, result = no_noise
    frame = result.rep_products.merge(truth.rep_products[["rep_id", "product_id", "comfort"]],
                                      on=["rep_id", "product_id"], suffixes=("", "_true"))
    high = frame["comfort_high"].fillna(np.inf)
    inside = (frame["comfort_true"] >= frame["comfort_low"] - 0.02) & (frame["comfort_true"] <= high + 0.02)
    assert inside.mean() >= 0.6, frame[~inside][["rep_id", "product_id", "comfort_low", "comfort_high", "comfort_true"]]
    bounded = frame[frame["comfort_status"].isin(["identified", "interval"])]
    assert len(bounded) > 0
    error = (bounded["comfort"] - bounded["comfort_true"]).abs()
    assert error.mean() < (1 - bounded["comfort_true"]).abs().mean()  # better than comfort 1 where bounded


def test_what_the_history_does_not_identify_is_flagged_and_keeps_the_prior(low_noise):
    _, known, _, result = low_noise
    frame = result.rep_products
    never = frame[frame["orders"] == 0]
    assert len(never) > 0
    assert never["skill_status"].str.startswith("not identified").all()
    free = frame[frame["comfort_status"] == "not identified"]
    assert (free["comfort"] == free["comfort_prior"]).all()
    assert result.summary["effort_aversion"]["status"].startswith("not identified")
    assert result.dataset.company.effort_aversion == known.company.effort_aversion


def test_the_calibrated_reps_reproduce_the_history_better_than_the_prior(low_noise):
    _, known, made, result = low_noise
    periods = sorted(set(made.actuals["period"]), key=list(known.company.periods).index)
    observed = load_history(known)
    params = effective_parameters(known)
    grid = np.zeros((len(params.reps), len(params.products), len(periods)))
    np.add.at(grid, (pd.Index(params.reps).get_indexer(observed["rep_id"]),
                     pd.Index(params.products).get_indexer(observed["product_id"]),
                     observed["period"].map({p: i for i, p in enumerate(periods)}).to_numpy()), observed["orders"])
    calibrated = wape(predicted_orders(result.dataset, made.spans, periods), grid)
    prior = wape(predicted_orders(known, made.spans, periods), grid)
    assert calibrated == pytest.approx(result.summary["in_sample_wape"], abs=1e-3)  # the report's figure, recomputed
    assert calibrated < prior


def test_a_plan_change_is_predicted_from_the_months_before_it():
    truth, known, made = company(0.05, plan_change="2026-07")
    result = calibrate(known, load_history(known), made.spans, holdout=4)
    holdout = result.holdout
    assert holdout["test_periods"] == ["2026-07", "2026-08", "2026-09", "2026-10"]
    assert holdout["new_plan"]["periods"] == holdout["test_periods"]
    scores = holdout["new_plan"]["wape"]
    assert scores["calibrated"] < min(scores["average_mix"], scores["last_month"], scores["uncalibrated"])
