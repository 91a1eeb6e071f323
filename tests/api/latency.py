"""GET latency of a real `comptune serve` process, idle and while reviews run (issue 12, case 12).

`measure_p99` starts the service as its own process (uvicorn on 127.0.0.1, a free port) on a
database that holds the sample and `stored` succeeded reviews (copies of one real review's row, so
each carries a real result blob), sends one warm-up request per endpoint (the first alarms request
after a change of the data computes the table, ~0.3–0.9 s), then measures a bounded loop of GET
requests over the read endpoints idle, then again while `running` reviews are being solved, and
returns the percentiles. Used by
test_latency.py (slow) and runnable on its own:

    python -m tests.api.latency [--backend sqlite|postgresql] [--requests 300]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import insert, select

from api.db.tables import JobResultRow, JobRow
from tests.api.conftest import REPO, SAMPLE, free_port, prepare, reset_postgres

ENDPOINTS = ("/v1/reviews?limit=50", "/v1/reviews/{review}", "/v1/alarms?limit=50", "/v1/plans/current",
             "/v1/assumption-sets", "/v1/benchmarks", "/v1/metrics", "/healthz")


def wait_until_healthy(base: str, process: subprocess.Popen, *, seconds: float = 60.0, log: Path | None = None) -> None:
    """Wait for a started service's /healthz; RuntimeError (with the log's tail) if it exits or is late."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text()[-3000:] if log is not None and log.exists() else ""
            raise RuntimeError(f"the service did not start (exit {process.poll()}){': ' + tail if tail else ''}")
        time.sleep(0.1)


@contextmanager
def served(url: str, *, env: dict[str, str] | None = None, log: Path | None = None):
    """`comptune serve` as a child process on a free port; yields its base URL."""
    port = free_port()
    environment = {**os.environ, "COMPTUNE_DATABASE_URL": url, **(env or {})}
    out = open(log, "ab") if log else subprocess.DEVNULL
    process = subprocess.Popen([str(Path(sys.executable).with_name("comptune")), "serve", "--port", str(port),
                                "--log-level", "warning"], cwd=REPO, env=environment, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process)
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if log:
            out.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(share * len(ordered))) - 1))]


def loop(base: str, headers: dict, review_id: int, requests: int) -> list[tuple[str, float]]:
    """`requests` GETs round-robin over ENDPOINTS, one at a time; every one must be 200."""
    times = []
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for i in range(requests):
            path = ENDPOINTS[i % len(ENDPOINTS)].format(review=review_id)
            started = time.perf_counter()
            response = client.get(path)
            times.append((ENDPOINTS[i % len(ENDPOINTS)], time.perf_counter() - started))
            assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return times


def summary(samples: list[tuple[str, float]]) -> dict:
    times = [t for _, t in samples]
    slowest = {}
    for path in ENDPOINTS:
        mine = [t for p, t in samples if p == path]
        if mine:
            slowest[path] = round(1000 * max(mine), 1)
    return {"requests": len(times), "p50_ms": round(1000 * statistics.median(times), 1),
            "p99_ms": round(1000 * percentile(times, 0.99), 1), "max_ms": round(1000 * max(times), 1),
            "max_ms_by_endpoint": slowest}


def measure_p99(url: str, *, stored: int = 48, running: int = 2, requests: int = 300, log: Path | None = None) -> dict:
    """Idle and under-load GET latency of a real server process on `url` (emptied first)."""
    if url.startswith("postgresql"):
        reset_postgres(url)
    env = prepare(url, SAMPLE)
    analyst = env.headers("analyst")
    viewer = env.headers("viewer")
    with served(url, log=log) as (base, _process):
        with httpx.Client(base_url=base, headers=analyst, timeout=30) as client:
            set_id = client.post("/v1/assumption-sets", json={
                "name": "latency", "adjustments": [{"markets": ["south"], "periods": {"from": "2026-04"},
                                                    "demand": 0.5}]}).json()["id"]
            first = client.post("/v1/reviews", json={"assumption_set_id": set_id}).json()["id"]
            deadline = time.monotonic() + 600
            while client.get(f"/v1/reviews/{first}").json()["status"] in ("queued", "running"):
                assert time.monotonic() < deadline, "the first review did not finish"
                time.sleep(0.5)
            assert client.get(f"/v1/reviews/{first}").json()["status"] == "succeeded"
        copy_review(env, first, stored - 1)
        loop(base, viewer, first, len(ENDPOINTS))  # warm-up, not counted: one request per endpoint
        idle = loop(base, viewer, first, requests)
        with httpx.Client(base_url=base, headers=analyst, timeout=30) as client:
            ids = [client.post("/v1/reviews", json={"assumption_set_id": set_id}).json()["id"]
                   for _ in range(running)]
            deadline = time.monotonic() + 120
            while not all(client.get(f"/v1/reviews/{i}").json()["status"] == "running" for i in ids):
                assert time.monotonic() < deadline, "the reviews did not start"
                time.sleep(0.2)
            time.sleep(3.0)  # into the solves, past the workers' start-up
            busy = loop(base, viewer, first, requests)
            still_running = all(client.get(f"/v1/reviews/{i}").json()["status"] == "running" for i in ids)
            for i in ids:
                client.post(f"/v1/reviews/{i}/cancel")
    env.sessions.kw["bind"].dispose()
    return {"idle": summary(idle), "busy": summary(busy), "reviews_ran_throughout": still_running,
            "stored_reviews": stored, "load_average_1min": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}


def copy_review(env, review_id: int, copies: int) -> None:
    """Store `copies` more succeeded reviews holding the same (real) summary and result."""
    columns = [c for c in JobRow.__table__.columns if c.name != "id"]
    with env.sessions() as session:
        row = session.execute(select(*columns).where(JobRow.id == review_id)).mappings().one()
        result = session.scalar(select(JobResultRow.result).where(JobResultRow.job_id == review_id))
        for _ in range(copies):
            new_id = session.execute(insert(JobRow).values(**row).returning(JobRow.id)).scalar_one()
            session.execute(insert(JobResultRow).values(job_id=new_id, result=result))
        session.commit()


def main(argv: list[str]) -> None:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--stored", type=int, default=48)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = (f"sqlite:///{folder}/comptune.db" if args.backend == "sqlite"
               else os.environ["COMPTUNE_TEST_POSTGRES_URL"])
        print(json.dumps(measure_p99(url, requests=args.requests, stored=args.stored,
                                     log=Path(folder) / "serve.log"), indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
