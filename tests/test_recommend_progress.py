"""`recommend(..., progress=callback)` reports its phases in order with a non-decreasing share in [0, 1]."""

from models.dataset import dataset_from_tables
from models.synthetic import synthetic_tables
from optimizer.alignment.recommend import recommend

PHASES = ["plan_lp", "targets", "incentive_lp", "simulations", "selection"]


def test_recommend_reports_its_phases_and_share_done():
    calls = []
    dataset = dataset_from_tables(synthetic_tables(reps=6, products=3, markets=2, periods=4, seed=1, closed_periods=1))
    quiet = recommend(dataset)
    rec = recommend(dataset, progress=lambda phase, share: calls.append((phase, share)))
    phases = [phase for phase, _ in calls]
    assert [p for i, p in enumerate(phases) if i == 0 or phases[i - 1] != p] == PHASES
    shares = [share for _, share in calls]
    assert shares == sorted(shares) and 0.0 <= shares[0] and shares[-1] <= 1.0
    assert phases.count("simulations") >= 2  # one report per candidate simulated
    assert rec.alignment == quiet.alignment  # reporting does not change the answer
