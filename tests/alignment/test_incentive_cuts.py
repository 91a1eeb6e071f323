"""The incentive LP's cutting planes against its dual LP (optimizer/alignment/incentive_lp.py).

Both solve the same LP exactly; the dual LP is the method the cutting planes replaced. Compared on
a seeded company, over the whole component pool and on subsets (components with upper bound 0
leave the cutting planes' problem), at the two linearizations and both strict margins.
"""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from models.dataset import dataset_from_tables
from models.synthetic import synthetic_tables
from optimizer.alignment.incentive import COVER, incentive_problem, weight_bounds
from optimizer.alignment.incentive_lp import solve_weights, solve_weights_dual
from optimizer.alignment.recommend import candidate_components, make_plan
from optimizer.alignment.signable import LP_CURVES
from optimizer.parameters import effective_parameters
from optimizer.plan.cascade import orders_array
from optimizer.plan.targets import plan_targets
from optimizer.solve import OPTIMAL


@pytest.fixture(scope="module")
def problem():
    dataset = dataset_from_tables(synthetic_tables(reps=30, products=8, markets=3, periods=6, seed=7, closed_periods=2))
    params = effective_parameters(dataset)
    result = plan_targets(dataset, params=params)
    orders = result.orders.copy()
    orders["orders"] = orders["orders"].where(orders["orders"] > 1e-7, 0.0)
    plan = make_plan(dataset, params, orders, candidate_components(dataset, False, per_product=True),
                     dataset.plan.curve, keep_closed_from=dataset.plan)
    return dataset, params, plan, orders_array(params, orders)


@pytest.mark.parametrize("lp_curve", list(LP_CURVES))
@pytest.mark.parametrize("eps", [0.02, 0.25])
def test_cutting_planes_reach_the_dual_lps_optimum(problem, lp_curve, eps):
    dataset, params, plan, planned = problem
    shape = replace(plan, curve=pd.DataFrame(list(LP_CURVES[lp_curve]), columns=["attainment", "payout"]))
    rows = incentive_problem(params, shape, planned, eps)
    ids = shape.component_ids
    w0 = np.array([dataset.plan.weights.get(k, 0.0) for k in ids])
    lo, hi = weight_bounds(ids, w0, True, dataset.company.max_weight_change, None, None)
    forced = [i for i, k in enumerate(ids) if w0[i] > dataset.company.max_weight_change]
    subsets = [None, forced + [i for i in range(len(ids)) if i not in forced][:2]]
    compared = 0
    for subset in subsets:
        upper = hi if subset is None else np.where(np.isin(np.arange(len(ids)), subset), hi, 0.0)
        if weight_bounds(ids, w0, True, dataset.company.max_weight_change, None,
                         dict(zip(ids, upper))) is None:
            continue
        kwargs = dict(cover_level=COVER, lower=lo, upper=np.minimum(hi, upper), w0=w0, change_weight=1e-3)
        cuts, dual = solve_weights(rows, **kwargs), solve_weights_dual(rows, **kwargs)
        assert cuts.status == dual.status == OPTIMAL
        assert cuts.objective == pytest.approx(dual.objective, rel=1e-9, abs=1e-9)
        assert np.abs(cuts.omega - dual.omega).max() < 1e-6
        assert cuts.omega.sum() == pytest.approx(1.0, abs=1e-9)
        assert np.all(cuts.omega <= np.minimum(hi, upper) + 1e-9) and np.all(cuts.omega >= lo - 1e-9)
        compared += 1
    assert compared == 2  # the whole pool and a subset
