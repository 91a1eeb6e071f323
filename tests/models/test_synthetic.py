"""Tests of the synthetic dataset generator (models/synthetic.py) and the shipped sample folder."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import yaml

from models.assumptions import load_assumptions
from models.dataset import dataset_from_tables, load_dataset
from models.synthetic import synthetic_tables, write_tables

ROOT = pathlib.Path(__file__).resolve().parents[2]

SAMPLE = ROOT / "datasets" / "sample"

# DESIGN.md §2, required then optional columns, in the order the generator writes them.
COLUMNS = {
    "products.csv": ["product_id", "name", "group", "unit_price", "unit_cost", "strategic"],
    "markets.csv": ["market_id", "name"],
    "reps.csv": ["rep_id", "name", "market_id", "team", "hours_per_period", "target_variable_pay", "base_pay"],
    "funnel.csv": ["market_id", "product_id", "call_to_meeting", "meeting_to_quote", "quote_to_order"],
    "rep_products.csv": ["rep_id", "product_id", "skill", "comfort", "max_share"],
    "demand.csv": ["market_id", "product_id", "period", "potential_orders"],
    "plan/components.csv": ["component_id", "metric", "products", "weight"],
    "plan/curve.csv": ["attainment", "payout"],
    "plan/targets.csv": ["rep_id", "component_id", "period", "target"],
    "actuals.csv": ["rep_id", "product_id", "period", "orders", "calls", "meetings", "quotes"],
}
COMPANY_KEYS = [
    "name", "currency", "periods", "current_period", "hours_per_call", "hours_per_meeting", "hours_per_quote",
    "hours_per_order", "comp_budget_rate", "effort_aversion", "change_penalty", "max_weight_change",
    "soft_penalty", "weeks_per_period", "revenue_goal", "margin_goal",
]
REQUIRED_FILES = ["company.yaml"] + [f for f in COLUMNS if f != "actuals.csv"]

SIZES = [  # reps, products, markets, periods, closed
    (50, 8, 6, 12, 3),
    (7, 3, 2, 12, 0),
    (3, 1, 5, 14, 12),  # fewer reps than markets, a single product, periods into 2027
    (120, 2, 4, 6, 1),
]


@pytest.fixture(scope="module")
def tables() -> dict:
    return synthetic_tables(reps=60, products=8, markets=5, periods=12, seed=7, closed_periods=3)


def _hours_per_order(company: dict, funnel: pd.DataFrame) -> pd.Series:
    cm, mq, qo = funnel.call_to_meeting, funnel.meeting_to_quote, funnel.quote_to_order
    return (
        company["hours_per_call"] / (cm * mq * qo)
        + company["hours_per_meeting"] / (mq * qo)
        + company["hours_per_quote"] / qo
        + company["hours_per_order"]
    )


# --- determinism -------------------------------------------------------------------------------


def test_same_seed_same_tables():
    a = synthetic_tables(reps=40, products=6, markets=4, periods=12, seed=11, closed_periods=2)
    b = synthetic_tables(reps=40, products=6, markets=4, periods=12, seed=11, closed_periods=2)
    assert a.keys() == b.keys()
    assert a["company.yaml"] == b["company.yaml"]
    for name in a:
        if name != "company.yaml":
            pd.testing.assert_frame_equal(a[name], b[name])


def test_other_seed_other_tables():
    a = synthetic_tables(reps=40, products=6, markets=4, periods=12, seed=11)
    b = synthetic_tables(reps=40, products=6, markets=4, periods=12, seed=12)
    assert not a["demand.csv"].equals(b["demand.csv"])
    assert not a["plan/targets.csv"].equals(b["plan/targets.csv"])


# --- shape -------------------------------------------------------------------------------------


@pytest.mark.parametrize("reps,products,markets,periods,closed", SIZES)
def test_columns_and_rows(reps, products, markets, periods, closed):
    t = synthetic_tables(reps=reps, products=products, markets=markets, periods=periods, seed=3,
                         closed_periods=closed)
    expected = set(REQUIRED_FILES) | ({"actuals.csv"} if closed else set())
    assert set(t) == expected
    assert list(t["company.yaml"]) == COMPANY_KEYS
    for name, cols in COLUMNS.items():
        if name in t:
            assert list(t[name].columns) == cols, name
            assert not t[name].isna().any().any(), name
    n_comp = len(t["plan/components.csv"])
    rows = {
        "products.csv": products,
        "markets.csv": markets,
        "reps.csv": reps,
        "funnel.csv": markets * products,
        "rep_products.csv": reps * products,
        "demand.csv": markets * products * periods,
        "plan/targets.csv": reps * n_comp * periods,
        "actuals.csv": reps * products * closed,
    }
    for name, n in rows.items():
        if name in t:
            assert len(t[name]) == n, name
    # Keys are unique: one row per market × product (× period), rep × product, rep × component × period.
    assert not t["funnel.csv"].duplicated(["market_id", "product_id"]).any()
    assert not t["demand.csv"].duplicated(["market_id", "product_id", "period"]).any()
    assert not t["rep_products.csv"].duplicated(["rep_id", "product_id"]).any()
    assert not t["plan/targets.csv"].duplicated(["rep_id", "component_id", "period"]).any()
    assert t["reps.csv"].rep_id.is_unique and t["products.csv"].product_id.is_unique


def test_periods_and_current_period():
    t = synthetic_tables(reps=5, products=3, markets=2, periods=15, seed=1, closed_periods=4, start="2026-11")
    c = t["company.yaml"]
    assert c["periods"][:3] == ["2026-11", "2026-12", "2027-01"]
    assert c["periods"][-1] == "2028-01"
    assert c["current_period"] == "2027-02"
    assert sorted(t["actuals.csv"].period.unique()) == c["periods"][:4]
    assert set(t["demand.csv"].period) == set(c["periods"])
    assert synthetic_tables(reps=5, products=3, markets=2, periods=12, seed=1)["company.yaml"]["current_period"] is None


def test_bad_sizes_rejected():
    with pytest.raises(ValueError):
        synthetic_tables(reps=0, products=3, markets=2, periods=12, seed=1)
    with pytest.raises(ValueError):
        synthetic_tables(reps=5, products=3, markets=2, periods=12, seed=1, closed_periods=13)


# --- values in the documented ranges -----------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_values_in_realistic_ranges(seed):
    t = synthetic_tables(reps=80, products=8, markets=6, periods=12, seed=seed, closed_periods=3)
    c = t["company.yaml"]
    assert 0.1 <= c["hours_per_call"] <= 0.3
    assert 1 <= c["hours_per_meeting"] <= 2
    assert 2 <= c["hours_per_quote"] <= 5
    assert 1 <= c["hours_per_order"] <= 3
    assert 30 <= c["effort_aversion"] <= 80
    assert c["currency"] == "EUR" and c["weeks_per_period"] == 4.345
    assert 0 < c["change_penalty"] < 1 and 0 < c["max_weight_change"] <= 1 and c["soft_penalty"] > 0

    f = t["funnel.csv"]
    assert f.call_to_meeting.between(0.05, 0.2).all()
    assert f.meeting_to_quote.between(0.3, 0.6).all()
    assert f.quote_to_order.between(0.15, 0.35).all()

    reps = t["reps.csv"]
    assert reps.hours_per_period.between(100, 140).all()
    variable = reps.target_variable_pay / (reps.target_variable_pay + reps.base_pay)
    assert variable.between(0.30, 0.40).all()  # pay mix 60/40 - 70/30

    p = t["products.csv"]
    assert (p.unit_price > p.unit_cost).all() and (p.unit_cost > 0).all()
    margin = (p.unit_price - p.unit_cost).groupby(p.group).min()
    assert margin["new"] > (p.unit_price - p.unit_cost)[p.group != "new"].max()  # new = best unit margin
    assert set(p.group) == {"legacy", "core", "new"}

    rp = t["rep_products.csv"].merge(p[["product_id", "group"]], on="product_id")
    assert (rp.skill > 0).all() and (rp.comfort >= 1).all() and rp.max_share.between(1e-9, 1).all()
    hard_new = rp[rp.group == "new"].groupby("rep_id").comfort.min() > 1
    assert hard_new.mean() > 0.5  # most reps feel the new products are harder

    assert (t["demand.csv"].potential_orders > 0).all()

    comps = t["plan/components.csv"]
    assert comps.weight.sum() == pytest.approx(1.0)
    assert comps.set_index("component_id").weight["revenue"] >= 0.5  # pays mostly on revenue
    curve = t["plan/curve.csv"]
    assert tuple(curve.iloc[0]) == (0.0, 0.0)
    assert curve.attainment.is_monotonic_increasing and curve.attainment.is_unique
    assert (t["plan/targets.csv"].target > 0).all()

    # Comp cost of sales 3-9 %, and a budget that does not bind at the plan.
    rev = t["plan/targets.csv"].query("component_id == 'revenue'").target.sum()
    pay = (reps.base_pay + reps.target_variable_pay).sum() * len(c["periods"])
    assert 0.03 <= pay / rev <= 0.09
    tvp_rate = reps.target_variable_pay.sum() * len(c["periods"]) / rev
    assert tvp_rate < c["comp_budget_rate"] <= 1.5 * tvp_rate
    assert c["revenue_goal"] == pytest.approx(rev, rel=0.01)

    # Potential asks for 0.8-1.5 × each market's selling hours (at the markets' average skill).
    d = t["demand.csv"].merge(f.assign(h=_hours_per_order(c, f)), on=["market_id", "product_id"])
    skill = t["rep_products.csv"].assign(market_id=lambda x: x.rep_id.map(reps.set_index("rep_id").market_id))
    skill = skill.groupby(["market_id", "product_id"]).skill.mean().rename("s").reset_index()
    d = d.merge(skill, on=["market_id", "product_id"])
    need = (d.potential_orders * d.h / d.s).groupby(d.market_id).sum()
    capacity = reps.groupby("market_id").hours_per_period.sum() * len(c["periods"])
    ratio = need / capacity
    assert ratio.between(0.75, 1.6).all(), ratio


def test_actuals_are_counts_consistent_with_the_funnel(tables):
    a = tables["actuals.csv"]
    for col in ("orders", "calls", "meetings", "quotes"):
        assert pd.api.types.is_integer_dtype(a[col]) and (a[col] >= 0).all()
    assert (a.quotes >= a.orders).all() and (a.meetings >= a.quotes).all() and (a.calls >= a.meetings).all()
    reps = tables["reps.csv"].set_index("rep_id")
    f = tables["funnel.csv"]
    a = a.assign(market_id=a.rep_id.map(reps.market_id)).merge(f, on=["market_id", "product_id"])
    # Aggregate conversion stays near the funnel's own rates.
    assert a.orders.sum() / a.quotes.sum() == pytest.approx((a.quote_to_order * a.quotes).sum() / a.quotes.sum(), rel=0.25)
    assert a.quotes.sum() / a.meetings.sum() == pytest.approx(
        (a.meeting_to_quote * a.meetings).sum() / a.meetings.sum(), rel=0.25)
    # Orders are near plan: revenue attainment of the closed periods within a plausible band.
    p = tables["products.csv"].set_index("product_id")
    revenue = (a.orders * a.product_id.map(p.unit_price)).sum()
    t = tables["plan/targets.csv"]
    target = t[(t.component_id == "revenue") & t.period.isin(a.period.unique())].target.sum()
    assert 0.6 < revenue / target < 1.3


def test_actuals_stay_within_market_potential(tables):
    a = tables["actuals.csv"]
    reps = tables["reps.csv"].set_index("rep_id")
    sold = a.assign(market_id=a.rep_id.map(reps.market_id)).groupby(["market_id", "product_id", "period"]).orders.sum()
    pot = tables["demand.csv"].set_index(["market_id", "product_id", "period"]).potential_orders
    # Integer rounding may add one order to a cell's 95 % cap.
    assert (sold <= pot.loc[sold.index] + reps.market_id.value_counts().max()).all()
    assert sold.sum() <= pot.loc[sold.index].sum()


def test_write_tables_round_trip(tables, tmp_path):
    write_tables(tables, tmp_path / "ds")
    assert (tmp_path / "ds" / "plan" / "targets.csv").is_file()
    with open(tmp_path / "ds" / "company.yaml", encoding="utf-8") as fh:
        assert yaml.safe_load(fh) == tables["company.yaml"]
    for name in COLUMNS:
        back = pd.read_csv(tmp_path / "ds" / name, dtype={"period": str})
        pd.testing.assert_frame_equal(back, tables[name], check_dtype=False, obj=name)


@pytest.mark.slow
def test_large_instance_is_fast():
    start = time.perf_counter()
    t = synthetic_tables(reps=2000, products=50, markets=8, periods=12, seed=5, closed_periods=3)
    elapsed = time.perf_counter() - start
    assert elapsed < 10, f"2,000 × 50 × 12 × 8 took {elapsed:.1f} s"
    assert len(t["rep_products.csv"]) == 100_000
    assert len(t["demand.csv"]) == 8 * 50 * 12
    assert len(t["actuals.csv"]) == 2000 * 50 * 3
    assert (t["plan/targets.csv"].target > 0).all()


# --- the shipped sample --------------------------------------------------------------------------


def test_sample_has_every_file():
    for name in REQUIRED_FILES + ["actuals.csv", "README.md", "assumptions/south-freeze.yaml",
                                  "assumptions/us-upturn.yaml"]:
        assert (SAMPLE / name).is_file(), name
    for name, cols in COLUMNS.items():
        assert list(pd.read_csv(SAMPLE / name, nrows=0).columns) == cols, name


def test_sample_company_story():
    with open(SAMPLE / "company.yaml", encoding="utf-8") as fh:
        c = yaml.safe_load(fh)
    assert c["periods"] == [f"2026-{m:02d}" for m in range(1, 13)] and c["current_period"] == "2026-03"
    markets = pd.read_csv(SAMPLE / "markets.csv")
    assert list(markets.market_id) == ["nordics", "dach", "ukie", "south", "us", "apac"]
    reps = pd.read_csv(SAMPLE / "reps.csv")
    products = pd.read_csv(SAMPLE / "products.csv")
    assert 45 <= len(reps) <= 55 and len(products) == 8
    assert set(products.group) == {"legacy", "core", "new"}
    rp = pd.read_csv(SAMPLE / "rep_products.csv").merge(products, on="product_id")
    assert (rp[rp.group == "new"].groupby("rep_id").comfort.min() >= 1.3).mean() > 0.75

    # Q1: Southern Europe clearly lags its revenue target, the others do not.
    a = pd.read_csv(SAMPLE / "actuals.csv")
    t = pd.read_csv(SAMPLE / "plan/targets.csv")
    market = reps.set_index("rep_id").market_id
    revenue = (a.orders * a.product_id.map(products.set_index("product_id").unit_price)).groupby(a.rep_id.map(market)).sum()
    q1 = t[(t.component_id == "revenue") & t.period.isin(["2026-01", "2026-02", "2026-03"])]
    attainment = revenue / q1.target.groupby(q1.rep_id.map(market)).sum()
    assert 0.55 <= attainment["south"] <= 0.72
    assert attainment.drop("south").min() > attainment["south"] + 0.15


def test_sample_assumption_sets():
    with open(SAMPLE / "assumptions" / "south-freeze.yaml", encoding="utf-8") as fh:
        south = yaml.safe_load(fh)
    adj = south["adjustments"][0]
    assert south["name"] == "south-freeze"
    assert adj["markets"] == ["south"] and adj["periods"] == {"from": "2026-04"} and adj["demand"] == 0.5
    assert adj["reason"]
    with open(SAMPLE / "assumptions" / "us-upturn.yaml", encoding="utf-8") as fh:
        us = yaml.safe_load(fh)
    assert any(a.get("demand") == 1.2 and a["periods"] == {"from": "2026-05"} for a in us["adjustments"])
    assert all(a["markets"] == ["us"] and a["reason"] for a in us["adjustments"])


def test_sample_is_what_the_script_builds(tmp_path):
    out = tmp_path / "sample"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_sample.py"), str(out)], check=True,
                   capture_output=True)
    built = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    shipped = sorted(p.relative_to(SAMPLE) for p in SAMPLE.rglob("*") if p.is_file())
    assert built == shipped
    for rel in built:
        assert (out / rel).read_bytes() == (SAMPLE / rel).read_bytes(), rel


# --- loading (models/dataset.py) -----------------------------------------------------------------


def test_sample_and_generated_datasets_load(tables, tmp_path):
    assert load_dataset(SAMPLE).company.name
    write_tables(tables, tmp_path / "gen")
    generated = load_dataset(tmp_path / "gen")
    assert len(generated.rep_ids) == len(tables["reps.csv"])
    for size in SIZES:
        reps, products, markets, periods, closed = size
        dataset = dataset_from_tables(synthetic_tables(reps=reps, products=products, markets=markets,
                                                       periods=periods, seed=9, closed_periods=closed))
        assert (len(dataset.rep_ids), len(dataset.product_ids), len(dataset.market_ids)) == (reps, products, markets)
        assert len(dataset.company.closed_periods) == closed


def test_sample_assumptions_load():
    dataset = load_dataset(SAMPLE)
    for name in ("south-freeze", "us-upturn"):
        assumption_set = load_assumptions(SAMPLE / "assumptions" / f"{name}.yaml", dataset)
        assert assumption_set.name and assumption_set.adjustments
