"""pytest-benchmark case of the alignment engine: a whole recommendation (not in the default run).

`make bench` runs it on the sample; COMPTUNE_BENCH_RECOMMEND=200x20x6 (reps × products × markets,
12 months, 3 closed, seed 5 — the issue's mid-size company) adds a generated one, one round.
`comptune bench --recommend` measures the same against HiGHS alone on the plan LP, with ratios.
"""

from __future__ import annotations

import os

import pytest

from models.dataset import dataset_from_tables, load_dataset
from models.synthetic import synthetic_tables
from optimizer.alignment.recommend import recommend
from optimizer.solve import OPTIMAL

pytestmark = pytest.mark.benchmark

GENERATED = [s.strip() for s in os.environ.get("COMPTUNE_BENCH_RECOMMEND", "").split(",") if s.strip()]


def instance(name: str):
    if name == "sample":
        return load_dataset("datasets/sample")
    reps, products, markets = (int(v) for v in name.split("x"))
    return dataset_from_tables(synthetic_tables(reps=reps, products=products, markets=markets, periods=12, seed=5,
                                                closed_periods=3))


@pytest.mark.parametrize("name", ["sample", *GENERATED])
def test_recommend(benchmark, name):
    dataset = instance(name)
    rec = benchmark.pedantic(lambda: recommend(dataset), rounds=1 if name != "sample" else 3, iterations=1)
    assert rec.status == OPTIMAL
    benchmark.extra_info.update(alignment=rec.alignment.get("recommended"), selected=rec.selected)
