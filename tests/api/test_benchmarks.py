"""Benchmarks as jobs: POST runs optimizer.bench.run_benchmark on a tiny synthetic instance, GET lists it.
Runs on SQLite only: the job table is the one the review tests exercise on every backend."""

from __future__ import annotations

import time

import pytest


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_benchmark_job_runs_and_is_listed(client, env):
    h = env.headers("analyst")
    assert client.post("/v1/benchmarks", json={"reps": 0, "products": 2}, headers=h).status_code == 422
    assert client.post("/v1/benchmarks", json={"reps": 3, "products": 2}, headers=env.headers("viewer")).status_code == 403
    response = client.post("/v1/benchmarks", json={"reps": 3, "products": 2, "periods": 2, "markets": 1}, headers=h)
    assert response.status_code == 202, response.text
    bench_id = response.json()["id"]
    deadline = time.monotonic() + 120
    while True:
        bench = client.get(f"/v1/benchmarks/{bench_id}", headers=env.headers("viewer")).json()
        if bench["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert bench["status"] == "succeeded", bench
    assert bench["result"]["status"] == "optimal" and bench["result"]["variables"] > 0
    result = bench["result"]
    assert result["solve_s"] > 0 and result["floor_solve_s"] > 0
    assert result["agree"] and abs(result["objective"] - result["floor_objective"]) <= 1e-6 * abs(result["floor_objective"])
    listing = client.get("/v1/benchmarks", headers=env.headers("viewer")).json()
    assert listing["count"] == 1 and listing["data"][0]["id"] == bench_id
    assert client.get("/v1/reviews/{}".format(bench_id), headers=env.headers("viewer")).status_code == 404
    h_view = env.headers("viewer")
    assert client.get("/v1/benchmarks/compare", params={"ids": [bench_id, 999]}, headers=h_view).status_code == 404
    compared = client.get("/v1/benchmarks/compare", params={"ids": [bench_id, bench_id]}, headers=h_view).json()
    assert compared["baseline_id"] == bench_id
    assert compared["data"][1]["ratio_to_baseline"]["variables"] == 1.0
