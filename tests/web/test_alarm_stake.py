"""The margin at stake of an alarm (optimizer/review/alarms.py), recomputed from the sample's
files with pandas: the market's revenue shortfall for the year × the margin its revenue has
brought so far."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from models.dataset import load_dataset
from optimizer.review.alarms import alarms
from tests.api.conftest import SAMPLE


def test_margin_at_stake_of_a_market_revenue_alarm():
    company = yaml.safe_load((SAMPLE / "company.yaml").read_text())
    periods = [str(p) for p in company["periods"]]
    closed = periods[: periods.index(str(company["current_period"])) + 1]
    reps = pd.read_csv(SAMPLE / "reps.csv")
    south = set(reps.loc[reps["market_id"] == "south", "rep_id"])
    products = pd.read_csv(SAMPLE / "products.csv").set_index("product_id")
    actuals = pd.read_csv(SAMPLE / "actuals.csv")
    actuals = actuals[actuals["rep_id"].isin(south) & actuals["period"].isin(closed) & (actuals["product_id"] != "*")]
    revenue = (actuals["orders"] * actuals["product_id"].map(products["unit_price"])).sum()
    margin = (actuals["orders"] * actuals["product_id"].map(products["unit_price"] - products["unit_cost"])).sum()
    targets = pd.read_csv(SAMPLE / "plan" / "targets.csv")
    target_year = targets[targets["rep_id"].isin(south) & (targets["component_id"] == "revenue")]["target"].sum()
    forecast = revenue / len(closed) * len(periods)
    expected = max(target_year - forecast, 0) * margin / revenue

    frame = alarms(load_dataset(SAMPLE))
    row = frame[frame["alarm_id"] == "pace:market:south:revenue"].iloc[0]
    assert row["at_stake"] == pytest.approx(expected, rel=1e-9)
    assert expected > 1e6  # the freeze puts millions at stake
    # on or ahead of plan, nothing is at stake
    assert (frame.loc[frame["direction"] == "ahead", "at_stake"] == 0).all()
