"""The one weight share ω/W_r and the one has-target rule (§4.3), and the default curve, by hand.

The payout calculator, the response model and the incentive LP all use these; tests/plan/
test_cascade_payout.py checks the full pay formula on a dataset.
"""

import numpy as np
import pytest

from optimizer.alignment.payout import DEFAULT_CURVE, Curve, default_curve, has_target, weight_shares


def test_a_component_counts_when_its_target_is_positive():
    assert has_target(np.array([0.0, 1e-12, 5.0])).tolist() == [False, True, True]


def test_weight_shares_spread_a_missing_components_weight_over_the_others():
    weights = np.array([0.5, 0.3, 0.2])
    # two (rep, period) cells: all three targets; only the first and last (W_r = 0.7)
    counted = np.array([[True, True], [True, False], [True, True]])
    shares = weight_shares(weights, counted)
    assert shares[:, 0] == pytest.approx([0.5, 0.3, 0.2])
    assert shares[:, 1] == pytest.approx([0.5 / 0.7, 0.0, 0.2 / 0.7])
    assert shares.sum(axis=0) == pytest.approx([1.0, 1.0])


def test_no_target_at_all_gives_no_share():
    shares = weight_shares(np.array([0.6, 0.4]), np.zeros((2, 3, 4), dtype=bool))
    assert shares.shape == (2, 3, 4) and not shares.any()


def test_the_default_curve_is_linear_and_capped_at_200_percent():
    curve = Curve.from_frame(default_curve())
    assert curve(np.array([0.5, 1.0, 3.0])) == pytest.approx([0.5, 1.0, 2.0])
    assert list(zip(curve.x, curve.y)) == [tuple(map(float, point)) for point in DEFAULT_CURVE]
    assert curve.is_concave
