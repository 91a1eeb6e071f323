"""What a first user of the API trips over (issue 13): adjustments filters and paging with a total,
unknown query parameters refused, CSV numbers rounded to what they mean, YAML and multipart
uploads, unknown ids answered with the valid ones, missing reps named when a period closes, alarm
totals, and the plan diff."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
import yaml

from api.db import store
from api.serialize import frame_to_json
from tests.api.conftest import SAMPLE, stored_review

NOISY = [  # (rep, component, period, in force, recommended): the float noise of a real solve
    ("R01", "revenue", "2026-04", 32432.141000000003, 30000.0),
    ("R01", "revenue", "2026-05", 1000.0, 1000.0),
    ("R25", "revenue", "2026-04", 151000.0, 98000.004999999),
    ("R25", "new_orders", "2026-04", 0.4000000000000001, 0.7),
]


def review_with_adjustments(env) -> int:
    """A stored succeeded review whose adjustments carry float noise and a weight of 0.30000000000000004."""
    review_id = stored_review(env)
    with env.sessions() as session:
        job = store.get_job(session=session, job_id=review_id)
        frame = pd.DataFrame(NOISY, columns=["rep_id", "component_id", "period", "in_force", "recommended"])
        frame["delta"] = frame["recommended"] - frame["in_force"]
        frame["reason"] = "test"
        weights = pd.DataFrame([("revenue", "revenue", "*", 0.7, 0.30000000000000004, 0.30000000000000004 - 0.7)],
                               columns=["component_id", "metric", "products", "in_force", "recommended", "delta"])
        job.result = {**job.result, "adjustments": frame_to_json(frame),
                      "weight_changes": frame_to_json(weights)}
        session.commit()
    return review_id


def test_adjustments_filter_page_and_count(client, env):
    review_id = review_with_adjustments(env)
    h = env.headers("viewer")
    url = f"/v1/reviews/{review_id}/adjustments"
    everything = client.get(url, headers=h).json()
    assert everything["total"] == everything["count"] == 4
    markets = dict(pd.read_csv(SAMPLE / "reps.csv")[["rep_id", "market_id"]].values)
    assert all(row["market_id"] == markets[row["rep_id"]] for row in everything["data"])
    by_rep = client.get(url, params={"rep_id": "R25"}, headers=h).json()
    assert {r["rep_id"] for r in by_rep["data"]} == {"R25"} and by_rep["total"] == 2
    by_market = client.get(url, params={"market_id": markets["R25"]}, headers=h).json()
    assert by_market["total"] == sum(1 for r in NOISY if markets[r[0]] == markets["R25"])
    assert client.get(url, params={"component_id": "new_orders"}, headers=h).json()["total"] == 1
    assert client.get(url, params={"period": "2026-05"}, headers=h).json()["total"] == 1
    changed = client.get(url, params={"changed_only": "true"}, headers=h).json()
    assert changed["total"] == 3 and all(r["delta"] != 0 for r in changed["data"])
    page = client.get(url, params={"limit": 2, "offset": 1}, headers=h).json()
    assert page["count"] == 2 and page["total"] == 4 and page["offset"] == 1
    assert page["data"] == everything["data"][1:3]
    csv_rows = list(csv.DictReader(io.StringIO(client.get(url, params={"format": "csv", "rep_id": "R25"}, headers=h).text)))
    assert [r["rep_id"] for r in csv_rows] == ["R25", "R25"]  # the CSV honours the filters too


def test_unknown_ids_and_query_parameters_are_named(client, env):
    review_id = review_with_adjustments(env)
    h = env.headers("viewer")
    url = f"/v1/reviews/{review_id}/adjustments"
    unknown_rep = client.get(url, params={"rep_id": "R999"}, headers=h)
    assert unknown_rep.status_code == 422
    error = unknown_rep.json()["errors"][0]
    assert error["field"] == "rep_id" and "R999" in error["message"] and "valid: R01" in error["message"]
    typo = client.get(url, params={"rep": "R01"}, headers=h)
    assert typo.status_code == 422
    assert typo.json()["errors"][0]["field"] == "rep" and "rep_id" in typo.json()["errors"][0]["message"]
    for path in ("/v1/alarms", "/v1/reviews", "/v1/plans", "/v1/assumption-sets"):
        response = client.get(path, params={"colour": "red"}, headers=h)
        assert response.status_code == 422, path
        assert response.json()["errors"][0]["field"] == "colour"
    typo_close = client.post("/v1/actuals/csv", params={"current": "2026-04"}, headers=env.headers("analyst"),
                             content=b"rep_id,product_id,period,orders\nR01,plc-classic,2026-03,2\n")
    assert typo_close.status_code == 422 and typo_close.json()["errors"][0]["field"] == "current"
    alarm = client.get("/v1/alarms", params={"market": "nowhere"}, headers=h)
    assert alarm.status_code == 422 and "valid: " in alarm.json()["errors"][0]["message"]
    market_ids = sorted(pd.read_csv(SAMPLE / "markets.csv")["market_id"])
    assert market_ids[0] in alarm.json()["errors"][0]["message"]


def test_unknown_ids_in_assumptions_and_actuals_list_valid_ones(client, env):
    bad = client.post("/v1/assumption-sets", headers=env.headers("analyst"),
                      json={"name": "x", "adjustments": [{"markets": ["nowhere"], "periods": {"from": "2026-13"}}]})
    assert bad.status_code == 422
    messages = {e["field"]: e["message"] for e in bad.json()["errors"]}
    assert "(valid: " in messages["adjustments[0].markets[0]"]
    assert "2026-01" in messages["adjustments[0].periods.from"]
    actuals = client.post("/v1/actuals", headers=env.headers("analyst"), json={"rows": [
        {"rep_id": "Rx", "product_id": "nothing", "period": "2026-03", "orders": 1}]})
    fields = {e["field"]: e["message"] for e in actuals.json()["errors"]}
    assert "R01" in fields["rows[0].rep_id"] and "(valid: " in fields["rows[0].product_id"]


def test_csv_numbers_are_rounded_to_what_they_mean(client, env):
    review_id = review_with_adjustments(env)
    h = env.headers("viewer")
    text = client.get(f"/v1/reviews/{review_id}/adjustments", params={"format": "csv"}, headers=h).text
    assert "0.4000000000000001" not in text and "32432.141000000003" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["in_force"] == "32432.14" and rows[3]["in_force"] == "0.4"
    assert rows[2]["recommended"] == "98000.0"  # to the cent
    weights = client.get(f"/v1/reviews/{review_id}/adjustments", params={"format": "csv", "table": "weight_changes"},
                         headers=h).text
    row = next(csv.DictReader(io.StringIO(weights)))
    assert row["recommended"] == "0.3" and row["delta"] == "-0.4"  # shares to 6 digits


SOUTH = (SAMPLE / "assumptions" / "south-freeze.yaml").read_text()


def test_assumption_sets_accept_yaml_and_files(client, env):
    h = env.headers("analyst")
    as_yaml = client.post("/v1/assumption-sets", content=SOUTH.encode(), headers={**h, "Content-Type": "application/yaml"})
    assert as_yaml.status_code == 201, as_yaml.text
    assert as_yaml.json()["body"]["adjustments"][0]["demand"] == 0.5
    assert as_yaml.json()["body"]["adjustments"][0]["periods"] == {"from": "2026-04"}
    as_file = client.post("/v1/assumption-sets", headers=h, files={"file": ("south.yaml", SOUTH.encode(), "application/yaml")})
    assert as_file.status_code == 201, as_file.text
    assert as_file.json()["version"] == 2 and as_file.json()["diff"] == []
    broken = client.post("/v1/assumption-sets", content=b"name: [x\n", headers={**h, "Content-Type": "application/yaml"})
    assert broken.status_code == 422 and "YAML" in broken.json()["detail"]
    wrong = client.post("/v1/assumption-sets", content=SOUTH.replace("demand: 0.5", "demand: -1").encode(),
                        headers={**h, "Content-Type": "application/yaml"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "adjustments[0].demand"
    other = client.post("/v1/assumption-sets", content=b"name,x", headers={**h, "Content-Type": "text/csv"})
    assert other.status_code == 422 and "application/yaml" in other.json()["detail"]
    with env.sessions() as session:  # nothing half-written by the refused ones
        dataset = store.current_dataset(session=session)
        assert store.list_assumption_sets(session=session, dataset_id=dataset.id)[1] == 2


def test_actuals_csv_as_multipart_form(client, env):
    h = env.headers("analyst")
    body = b"rep_id,product_id,period,orders\nR01,plc-classic,2026-03,2\n"
    as_form = client.post("/v1/actuals/csv", headers=h, files={"file": ("actuals.csv", body, "text/csv")})
    assert as_form.status_code == 200, as_form.text
    as_body = client.post("/v1/actuals/csv", headers={**h, "Content-Type": "text/csv"}, content=body)
    assert as_body.json()["unchanged"] == 1  # the same row, already stored by the form upload
    two_files = client.post("/v1/actuals/csv", headers=h, files=[("a", ("a.csv", body, "text/csv")),
                                                                 ("b", ("b.csv", body, "text/csv"))])
    assert two_files.status_code == 422 and "exactly one file" in two_files.json()["detail"]


def test_alarm_count_is_the_total_not_the_page(client, env):
    h = env.headers("viewer")
    everything = client.get("/v1/alarms", params={"limit": 100000}, headers=h).json()
    assert everything["count"] == len(everything["data"]) > 3
    page = client.get("/v1/alarms", params={"limit": 2, "offset": 1}, headers=h).json()
    assert page["count"] == everything["count"] and len(page["data"]) == 2
    assert [a["alarm_id"] for a in page["data"]] == [a["alarm_id"] for a in everything["data"][1:3]]


def test_plan_diff(client, env):
    review_id = stored_review(env, new_revenue_weight=0.6)
    approver = env.headers("approver")
    decided = client.post(f"/v1/reviews/{review_id}/decision", headers=approver,
                          json={"decision": "accept", "reason": "test", "plan_version": 1})
    assert decided.status_code == 201, decided.text
    diff = client.get("/v1/plans/1/diff/2", headers=env.headers("viewer")).json()
    components = pd.read_csv(SAMPLE / "plan" / "components.csv")
    weights = {c["component_id"]: c for c in diff["components"]}
    assert weights["revenue"]["op"] == "reweighted"
    assert weights["revenue"]["weight_a"] == pytest.approx(components["weight"].iloc[0])
    assert weights["revenue"]["weight_b"] == pytest.approx(0.6)
    assert weights["revenue"]["delta"] == pytest.approx(0.6 - components["weight"].iloc[0])
    assert diff["targets_changed"] == 0 and not diff["curve_changed"]  # the stored review kept targets and curve
    same = client.get("/v1/plans/2/diff/2", headers=env.headers("viewer")).json()
    assert all(c["op"] == "unchanged" for c in same["components"])
    assert client.get("/v1/plans/1/diff/9", headers=env.headers("viewer")).status_code == 404


def test_yaml_example_in_openapi(client):
    spec = client.get("/openapi.json").json()
    content = spec["paths"]["/v1/assumption-sets"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/yaml", "multipart/form-data"} <= set(content)
    assert yaml.safe_load(content["application/yaml"]["example"])["name"] == "south-freeze"
    assert "/v1/plans/{a}/diff/{b}" in spec["paths"]
