"""The inverse LP of the rep's problem (optimizer/calibration/choice.py) on instances worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.alignment.payout import Curve
from optimizer.calibration.choice import BIG, EPSILON, InverseTask, local_envelopes, solve_inverse

import pandas as pd

LINEAR_TO_TEN = Curve.from_frame(pd.DataFrame({"attainment": [0.0, 10.0], "payout": [0.0, 10.0]}))


def task(*, hours: float, orders: list[float], at_cap: list[bool] | None = None, cap: float = 50.0) -> InverseTask:
    """One rep, one month, two products: pay = 1 × attainment (slope 1 up to 10), one order of either
    product is one unit of attainment, product A takes 1 hour an order and B 2 hours."""
    attainment = np.array([[[[1.0], [1.0]]]])  # (B, K, P, T)
    o = np.array([[[orders[0]], [orders[1]]]])
    alpha, beta = local_envelopes(LINEAR_TO_TEN, np.einsum("bkpt,bpt->bkt", attainment, o), 2)
    pay = np.min(alpha * np.einsum("bkpt,bpt->bkt", attainment, o)[..., None] + beta, axis=3).sum(axis=1)
    used = 1.0 * orders[0] + 2.0 * orders[1]
    return InverseTask(hours=np.array([[min(hours, used) if used >= hours - 1e-9 else hours]]),
                       h=np.array([[[1.0], [2.0]]]), cap=np.array([[[cap], [cap]]]) if at_cap is None else
                       np.where(np.array(at_cap)[None, :, None], o, cap), orders=o,
                       at_cap=np.zeros((1, 2, 1), bool) if at_cap is None else np.array(at_cap)[None, :, None],
                       weight=np.array([[[1.0]]]), attainment=attainment, alpha=alpha, beta=beta, pay=pay,
                       priors=[np.zeros((1, 2)), np.full((1, 2), BIG)], tolerance=0.0)


def test_a_product_sold_below_the_cap_with_hours_to_spare_is_identified():
    # A sold at 3 with 97 hours unused: the pay rate of A (1 per hour) equals its felt cost κ_A·1;
    # B unsold: κ_B·2 ≥ 1 + ε·2 (worse than the margin λ = 0 by ε per hour)
    low, high = solve_inverse(task(hours=100.0, orders=[3.0, 0.0]))
    assert low[0, 0] == pytest.approx(1.0, abs=1e-7) and high[0, 0] == pytest.approx(1.0, abs=1e-7)
    assert low[0, 1] == pytest.approx(0.5 + EPSILON, abs=1e-7)
    assert high[0, 1] == pytest.approx(BIG, abs=1e-6)  # no upper end: not sold


def test_when_the_hours_bind_only_a_range_is_identified():
    # all 3 hours used: λ ≥ 0 absorbs part of A's pay rate, so 0 ≤ κ_A ≤ 1; B (twice the hours
    # per unit) is worse whatever κ_B ≥ 0 is when λ is high: the lower end is 0
    low, high = solve_inverse(task(hours=3.0, orders=[3.0, 0.0]))
    assert low[0, 0] == pytest.approx(0.0, abs=1e-7) and high[0, 0] == pytest.approx(1.0, abs=1e-7)
    assert low[0, 1] == pytest.approx(0.0, abs=1e-7)


def test_a_product_at_its_cap_is_bounded_above_by_its_pay_rate_less_the_margin():
    low, high = solve_inverse(task(hours=100.0, orders=[3.0, 0.0], at_cap=[True, False]))
    assert low[0, 0] == pytest.approx(0.0, abs=1e-7)
    assert high[0, 0] == pytest.approx(1.0 - EPSILON, abs=1e-7)


def test_local_envelopes_start_at_the_convex_kink_below_the_attainment():
    curve = Curve.from_frame(pd.DataFrame({"attainment": [0.0, 0.5, 1.0, 2.0], "payout": [0.0, 0.25, 1.0, 1.5]}))
    alpha, beta = local_envelopes(curve, np.array([0.2, 0.7, 1.4]), 3)
    # from 0: the chord to (1, 1) (slope 1), then 0.5 to (2, 1.5), then flat
    assert alpha[0].tolist() == pytest.approx([1.0, 0.5, 0.0]) and beta[0].tolist() == pytest.approx([0.0, 0.5, 1.5])
    # from the convex kink at 0.5: (0.5, 0.25) → (1, 1) slope 1.5, then 0.5, then flat
    assert alpha[1].tolist() == pytest.approx([1.5, 0.5, 0.0])
    assert np.min(alpha[2] * 1.4 + beta[2]) == pytest.approx(1.2)  # on the concave part: f itself
