"""Explanations (§4.7) from plain numbers: `{family: {index: dual}}` and slack values, as either engine
hands them over. Both engines' answers on hand-solved instances are checked in tests/plan/test_lp.py."""

import pytest

from models.dataset import dataset_from_tables
from optimizer.parameters import effective_parameters
from optimizer.plan.explain import TOP_PER_FAMILY, binding_constraints, soft_slacks
from tests.instances import tiny_tables


@pytest.fixture
def params():
    return effective_parameters(dataset_from_tables(tiny_tables()))


def test_duals_become_domain_sentences_largest_first(params):
    duals = {
        "capacity": {("r1", "2026-01"): 4.0, ("r2", "2026-01"): 1e-9},  # the second is not binding
        "market": {("m", "B", "2026-01"): 60.0},
        "mix_min": {"A": -0.25},
        "budget": {None: 0.5},
    }
    rows = binding_constraints(duals, params)
    assert [(row["family"], row["worth"]) for row in rows] == [
        ("capacity", 4.0), ("market", 60.0), ("mix_min", -0.25), ("budget", 0.5)]
    assert rows[0]["message"] == "one more selling hour of rep r1 in 2026-01 is worth 4 EUR"
    assert rows[1]["market_id"] == "m" and rows[1]["product_id"] == "B" and rows[1]["period"] == "2026-01"
    assert rows[3]["message"] == "one more EUR of comp budget is worth 0.5000 EUR"


def test_each_family_keeps_its_largest_shadow_prices(params):
    duals = {"capacity": {(f"r{i}", "2026-01"): float(i) for i in range(1, 2 * TOP_PER_FAMILY + 1)}}
    rows = binding_constraints(duals, params)
    assert [row["worth"] for row in rows] == [float(i) for i in range(2 * TOP_PER_FAMILY, TOP_PER_FAMILY, -1)]


def test_only_slacks_above_the_tolerance_are_reported():
    rows = soft_slacks({"A": 240.0, "B": 1e-9}, {"B": 0.0}, 60.0)
    assert [(row["constraint"], row["amount"]) for row in rows] == [("mix_min[A]", 240.0), ("budget", 60.0)]
    assert rows[0]["message"] == "revenue of A is 240 short of its minimum share"
