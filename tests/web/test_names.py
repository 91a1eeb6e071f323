"""Names for ids: components in words, the people behind tokens, and GET /v1/names against the
dataset's own files (read here with pandas, not through the service)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from api.names import actor_words, component_words
from tests.api.conftest import SAMPLE

GROUPS = {"new": ["predict-ai", "twin-cloud", "vision-qc"], "core": ["hmi-pro", "mes-core", "edge-gw"]}
NAMES = {"hmi-pro": "HMI Pro", "mes-core": "MES Core", "edge-gw": "Edge IoT", "predict-ai": "Predict AI",
         "twin-cloud": "Twin Cloud", "vision-qc": "Vision QC"}


@pytest.mark.parametrize("metric, products, words", [
    ("revenue", "*", "revenue"),
    ("orders", "group:new", "orders of new products"),
    ("margin", "hmi-pro", "margin on HMI Pro"),
    ("margin", "hmi-pro;mes-core", "margin on HMI Pro and MES Core"),
    ("calls", "predict-ai;twin-cloud;vision-qc", "calls of new products"),  # exactly a group
    ("revenue", "hmi-pro;mes-core;predict-ai", "revenue on HMI Pro, MES Core and Predict AI"),
    ("margin", "hmi-pro;mes-core;predict-ai;edge-gw", "margin on HMI Pro, MES Core and 2 more products"),
    ("quotes", "unknown-id", "quotes of unknown-id"),
])
def test_components_in_words(metric, products, words):
    assert component_words(metric, products, groups=GROUPS, product_names=NAMES) == words


@pytest.mark.parametrize("name, words", [
    ("cli", "the command line"), ("service", "the service"), ("analyst-token", "an unnamed analyst token"),
    ("approver-token-3", "an unnamed approver token (#3)"), ("Ana Lopez", "Ana Lopez"),
])
def test_people_in_words(name, words):
    assert actor_words(name) == words


def test_names_are_the_datasets_and_carry_no_pay(client, env):
    answer = client.get("/v1/names", headers=env.headers("viewer"))
    assert answer.status_code == 200
    names = answer.json()
    markets = pd.read_csv(SAMPLE / "markets.csv")
    reps = pd.read_csv(SAMPLE / "reps.csv")
    products = pd.read_csv(SAMPLE / "products.csv")
    company = yaml.safe_load((SAMPLE / "company.yaml").read_text())
    assert {m["id"]: m["name"] for m in names["markets"]} == dict(zip(markets["market_id"], markets["name"]))
    assert {r["id"]: (r["name"], r["market_id"], r["team"]) for r in names["reps"]} == {
        r.rep_id: (r.name, r.market_id, r.team) for r in reps.itertuples()}
    assert {p["id"]: p["group"] for p in names["products"]} == dict(zip(products["product_id"], products["group"]))
    assert names["periods"] == [str(p) for p in company["periods"]] and names["currency"] == company["currency"]
    assert {c["component_id"]: c["label"] for c in names["components"]} == {
        "revenue": "revenue", "new_orders": "orders of new products"}
    people = {p["name"]: p for p in names["people"]}
    assert people["cli"]["label"] == "the command line" and people["approver-user"]["role"] == "approver"
    # nothing about pay: the reps' pay columns stay in the dataset
    text = json.dumps(names)
    assert "target_variable_pay" not in text and "base_pay" not in text
    assert client.get("/v1/names").status_code == 401
