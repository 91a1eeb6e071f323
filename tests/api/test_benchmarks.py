"""Benchmarks as jobs (issue 12 case 9, issue 13): POST runs optimizer.bench.run_benchmark in a worker
process; sizes are limited per role; one runs at a time; they have their own ids, run on the loaded
company, report the worker's own peak memory, and are cancellable — their subprocesses die with the
job, with its time limit and with the server."""

from __future__ import annotations

import signal
import threading
import time

import httpx
import psutil
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.api.conftest import LiveServer, settings_for, stored_review
from tests.api.latency import served
from tests.api.test_jobs import gone, wait_for

# About 80 s of solving on the development machine: long enough to be caught running.
LONG = {"reps": 300, "products": 40, "periods": 12}
TINY = {"reps": 3, "products": 2, "periods": 2, "markets": 1}


def wait_done(client, headers, bench_id, timeout=180) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        bench = client.get(f"/v1/benchmarks/{bench_id}", headers=headers).json()
        if bench["status"] in ("succeeded", "failed", "canceled") or time.monotonic() > deadline:
            return bench
        time.sleep(0.2)


def bench_processes(root: psutil.Process) -> list[psutil.Process]:
    """The benchmark's path subprocesses (`python -m optimizer.bench --worker …`) under `root`."""
    found = []
    for process in root.children(recursive=True):
        try:
            if "optimizer.bench" in " ".join(process.cmdline()):
                found.append(process)
        except psutil.Error:
            pass
    return found


def running_paths(client, headers, bench_id, root: psutil.Process) -> list[int]:
    """Wait until the benchmark's worker has started a timed path; the pids of its processes."""
    wait_for(lambda: (client.get(f"/v1/benchmarks/{bench_id}", headers=headers).json()["phase"] or "")
             .startswith("product"), timeout=60)
    paths = bench_processes(root)
    assert paths, "no benchmark path subprocess found"
    workers = {p.ppid() for p in paths}
    return [p.pid for p in paths] + list(workers)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_benchmark_job_runs_and_is_listed(client, env):
    h = env.headers("analyst")
    assert client.post("/v1/benchmarks", json={"reps": 0, "products": 2}, headers=h).status_code == 422
    assert client.post("/v1/benchmarks", json={"reps": 3, "products": 2}, headers=env.headers("viewer")).status_code == 403
    response = client.post("/v1/benchmarks", json=TINY, headers=h)
    assert response.status_code == 202, response.text
    bench_id = response.json()["id"]
    bench = wait_done(client, env.headers("viewer"), bench_id)
    assert bench["status"] == "succeeded", bench
    assert bench["result"]["status"] == "optimal" and bench["result"]["variables"] > 0
    result = bench["result"]
    assert result["solve_s"] > 0 and result["floor_solve_s"] > 0
    assert result["agree"] and abs(result["objective"] - result["floor_objective"]) <= 1e-6 * abs(result["floor_objective"])
    listing = client.get("/v1/benchmarks", headers=env.headers("viewer")).json()
    assert listing["count"] == 1 and listing["data"][0]["id"] == bench_id
    h_view = env.headers("viewer")
    assert client.get("/v1/benchmarks/compare", params={"ids": [bench_id, 999]}, headers=h_view).status_code == 404
    compared = client.get("/v1/benchmarks/compare", params={"ids": [bench_id, bench_id]}, headers=h_view).json()
    assert compared["baseline_id"] == bench_id
    assert compared["data"][1]["ratio_to_baseline"]["variables"] == 1.0


def test_benchmark_sizes_are_limited_per_role(client, env):
    analyst = env.headers("analyst")
    huge = {"reps": 5000, "products": 200, "periods": 36, "markets": 100, "repeats": 10}  # the request
    response = client.post("/v1/benchmarks", json=huge, headers=analyst)
    assert response.status_code == 422, response.text
    errors = {}
    for error in response.json()["errors"]:
        errors.setdefault(error["field"], error["message"])  # the first problem per field
    assert errors["reps"].startswith("at most 500 for the analyst role (got 5,000)")
    assert errors["products"].startswith("at most 50 ") and errors["periods"].startswith("at most 12 ")
    assert errors["markets"].startswith("at most 20 ") and errors["repeats"].startswith("at most 3 ")
    wide = client.post("/v1/benchmarks", json={"reps": 400, "products": 50, "periods": 12}, headers=analyst)
    assert wide.status_code == 422 and "240,000 order variables; at most 150,000" in wide.json()["detail"]
    both = client.post("/v1/benchmarks", json={"dataset": "loaded", "reps": 3}, headers=analyst)
    assert both.status_code == 422 and both.json()["errors"][0]["field"] == "reps"
    assert client.post("/v1/benchmarks", json={"products": 3}, headers=analyst).status_code == 422
    assert client.get("/v1/benchmarks", headers=analyst).json()["count"] == 0  # nothing was written
    admin = client.post("/v1/benchmarks", json={"reps": 400, "products": 50, "periods": 12}, headers=env.headers("admin"))
    assert admin.status_code == 202, admin.text  # an admin may; cancel it at once
    assert client.post(f"/v1/benchmarks/{admin.json()['id']}/cancel", headers=analyst).json()["status"] == "canceled"


def test_one_benchmark_at_a_time_with_their_own_ids(env, tmp_path, monkeypatch):
    """Six concurrent POSTs: exactly one is accepted (the others 409 naming it), on both databases."""
    gate = tmp_path / "gate"
    gate.mkdir()
    monkeypatch.setenv("COMPTUNE_TEST_GATE_DIR", str(gate))
    stored_review(env)  # review 1 exists: benchmark ids do not continue the reviews' sequence
    app = create_app(settings_for(env.url), job_handlers={"benchmark": "tests.api.job_handlers:gated"})
    with LiveServer(app) as server:
        analyst, viewer = env.headers("analyst"), env.headers("viewer")
        barrier = threading.Barrier(6)
        codes = []

        def post():
            barrier.wait()
            codes.append(httpx.post(f"{server.url}/v1/benchmarks", json=TINY, headers=analyst, timeout=60))

        threads = [threading.Thread(target=post) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(r.status_code for r in codes) == [202] + [409] * 5, [r.text for r in codes]
        assert next(r.json() for r in codes if r.status_code == 202)["id"] == 1
        refused = next(r.json() for r in codes if r.status_code == 409)
        assert "benchmark 1 is" in refused["detail"] and "one at a time" in refused["detail"]
        with httpx.Client(base_url=server.url) as client:
            wait_for(lambda: (gate / "started-benchmark-1").exists())
            assert client.get("/v1/benchmarks/1", headers=viewer).json()["phase"] == "gate"
            assert client.post("/v1/benchmarks", json=TINY, headers=analyst).status_code == 409
            (gate / "release").touch()
            assert wait_done(client, viewer, 1)["status"] == "succeeded"
            second = client.post("/v1/benchmarks", json=TINY, headers=analyst)
            assert second.status_code == 202 and second.json()["id"] == 2
            assert wait_done(client, viewer, 2)["status"] == "succeeded"
            assert client.get("/v1/benchmarks", headers=viewer).json()["count"] == 2
            assert client.get("/v1/reviews", headers=viewer).json()["count"] == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_benchmark_on_the_loaded_company_reports_the_workers_memory(env):
    ballast = bytearray(700 * 2**20)  # the server's own memory, which a worker must not report as its own
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    with TestClient(create_app(settings_for(env.url))) as client:
        response = client.post("/v1/benchmarks", json={"dataset": "loaded"}, headers=env.headers("analyst"))
        assert response.status_code == 202 and response.json()["params"]["dataset"] == "loaded"
        bench = wait_done(client, env.headers("viewer"), response.json()["id"])
        assert bench["status"] == "succeeded", bench
        result = bench["result"]
        assert result["name"] == "loaded: Kestrel Automation" and result["dataset"] == "loaded"
        assert (result["reps"], result["products"]) == (50, 8) and result["agree"]
        assert result["periods"] == 9  # the loaded company's open periods (Q1 is closed)
        assert psutil.Process().memory_info().rss / 2**20 > 700
        # The worker's own peak (HiGHS on the sample: ~150 MB), not the ballast-laden server's.
        assert 20 < result["peak_rss_mb"] < 500 and 20 < result["floor_peak_rss_mb"] < 500, result
    del ballast


# Killing processes does not depend on the database: these run on SQLite only.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_cancel_stops_the_benchmark_and_its_subprocesses(client, env):
    analyst, viewer = env.headers("analyst"), env.headers("viewer")
    bench_id = client.post("/v1/benchmarks", json=LONG, headers=analyst).json()["id"]
    pids = running_paths(client, viewer, bench_id, psutil.Process())
    canceled = client.post(f"/v1/benchmarks/{bench_id}/cancel", headers=analyst)
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    wait_for(lambda: all(gone(pid) for pid in pids), timeout=5)
    assert client.post(f"/v1/benchmarks/{bench_id}/cancel", headers=analyst).status_code == 409
    assert client.post("/v1/benchmarks/99/cancel", headers=analyst).status_code == 404
    assert client.get(f"/v1/benchmarks/{bench_id}", headers=viewer).json()["error"] == "canceled on request"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_time_limit_stops_a_benchmark_and_its_subprocesses(env, tmp_path, monkeypatch):
    gate = tmp_path / "gate"
    gate.mkdir()
    monkeypatch.setenv("COMPTUNE_TEST_GATE_DIR", str(gate))
    settings = settings_for(env.url, benchmark_time_limit_s=8.0, job_grace_s=0.0)
    app = create_app(settings, job_handlers={"benchmark": "tests.api.job_handlers:gated_with_child"})
    with TestClient(app) as client:
        bench_id = client.post("/v1/benchmarks", json=TINY, headers=env.headers("analyst")).json()["id"]
        wait_for(lambda: (gate / f"started-benchmark-{bench_id}").exists())
        pids = [int((gate / f"{name}-benchmark-{bench_id}").read_text()) for name in ("started", "child")]
        bench = wait_done(client, env.headers("viewer"), bench_id, timeout=30)
        assert bench["status"] == "failed" and bench["error"].startswith(
            "time limit: the job ran past its wall-clock limit of 8 s"), bench
        wait_for(lambda: all(gone(pid) for pid in pids), timeout=5)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_benchmark_subprocesses_die_with_the_server(env, tmp_path):
    with served(env.url, log=tmp_path / "serve.log") as (base, process):
        bench_id = httpx.post(f"{base}/v1/benchmarks", json=LONG, headers=env.headers("analyst")).json()["id"]
        with httpx.Client(base_url=base) as client:
            pids = running_paths(client, env.headers("viewer"), bench_id, psutil.Process(process.pid))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        wait_for(lambda: all(gone(pid) for pid in pids), timeout=5)
