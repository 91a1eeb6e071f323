"""Readers while a review runs (issue 20, case 3): GET latency at 20 concurrent clients against a
real `comptune serve`, on SQLite or PostgreSQL.

    .venv/bin/python scripts/bench_concurrency.py --reps 300 --port 8102
    .venv/bin/python scripts/bench_concurrency.py --database-url postgresql+psycopg://... --port 8112

What it does, in one run: generates a company (`comptune generate`, --reps × 8 products × 6
markets × 12 periods, 3 closed), loads it into a fresh database, creates tokens, starts `comptune
serve` on --port, starts a review of the plan in force (its worker process busy for the whole
measurement), and while the review runs keeps --clients clients each sending GETs of /healthz,
/v1/me and /v1/plans/current back to back for --seconds. Then, once the review has succeeded, the
same clients read /healthz while others fetch the review's whole recommendation and adjustments
(the largest answers): a large answer must not stall the small ones. It prints, per phase, the
request count, p50/p99/max latency and the number of 5xx answers and transport errors, as one JSON
document (and --out writes it to a file).

The figures are the machine's: run before/after comparisons on the same machine, one after the other.
`COMPTUNE_ANSWER_CACHE_MB=0` in the environment runs the service without its cache of large answers
(api/answer_cache.py), for a comparison of the large-answer phase with and without it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SMALL_GETS = ("/healthz", "/v1/me", "/v1/plans/current")


def comptune(*args: str, env: dict) -> str:
    done = subprocess.run([str(BIN / "comptune"), *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"comptune {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Recorder:
    """Latencies (ms) and failures of one phase, from many threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.server_errors: dict[str, int] = {}
        self.transport_errors = 0
        self.statuses: dict[int, int] = {}

    def add(self, path: str, ms: float, status: int | None) -> None:
        with self.lock:
            self.latencies.append(ms)
            if status is None:
                self.transport_errors += 1
                return
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status >= 500:
                self.server_errors[path] = self.server_errors.get(path, 0) + 1

    def summary(self) -> dict:
        values = self.latencies
        return {"requests": len(values), "p50_ms": round(percentile(values, 0.50), 1),
                "p99_ms": round(percentile(values, 0.99), 1), "max_ms": round(max(values, default=float("nan")), 1),
                "mean_ms": round(statistics.fmean(values), 1) if values else None,
                "5xx": sum(self.server_errors.values()), "5xx_by_path": self.server_errors,
                "transport_errors": self.transport_errors, "statuses": self.statuses}


def hammer(base: str, headers: dict, paths: tuple[str, ...], recorder: Recorder, stop: threading.Event,
           offset: int) -> None:
    """One client: GETs of `paths` in turn, back to back, until `stop`."""
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        i = offset
        while not stop.is_set():
            path = paths[i % len(paths)]
            i += 1
            started = time.perf_counter()
            try:
                status = client.get(path).status_code
            except httpx.HTTPError:
                status = None
            recorder.add(path, (time.perf_counter() - started) * 1000, status)


def run_clients(base: str, headers: dict, paths: tuple[str, ...], clients: int, seconds: float,
                while_alive=None) -> dict:
    recorder, stop = Recorder(), threading.Event()
    threads = [threading.Thread(target=hammer, args=(base, headers, paths, recorder, stop, k), daemon=True)
               for k in range(clients)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (while_alive is None or while_alive()):
        time.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    return recorder.summary()


def review_status(client: httpx.Client, review_id: int) -> str:
    return client.get(f"/v1/reviews/{review_id}").json()["status"]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (its public schema is DROPPED); "
                        "an SQLite file in a temporary folder when omitted.")
    parser.add_argument("--reps", type=int, default=300, help="Reps of the generated company.")
    parser.add_argument("--port", type=int, default=8102)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0, help="Length of each measured phase.")
    parser.add_argument("--time-limit", type=float, default=600.0, help="The review's per-solve time limit.")
    parser.add_argument("--skip-large", action="store_true", help="Skip the phase with large answers.")
    parser.add_argument("--out", type=Path, default=None, help="Also write the JSON figures here.")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="comptune-bench-concurrency-"))
    url = args.database_url or f"sqlite:///{work / 'comptune.db'}"
    if url.startswith("postgresql"):
        reset_postgres(url)
    env = {**os.environ, "COMPTUNE_DATABASE_URL": url, "COMPTUNE_WORKERS": "1",
           "COMPTUNE_PUBLIC_URL": f"http://127.0.0.1:{args.port}"}
    company = work / "company"
    comptune("generate", "--out", str(company), "--reps", str(args.reps), "--closed", "3", "--seed", "7", env=env)
    comptune("load", str(company), env=env)
    analyst = comptune("token", "create", "--role", "analyst", "--name", "bench-analyst", env=env).strip().splitlines()[-1]
    approver = comptune("token", "create", "--role", "approver", "--name", "bench-approver", env=env).strip().splitlines()[-1]
    base = f"http://127.0.0.1:{args.port}"
    log = open(work / "serve.log", "w")
    server = subprocess.Popen([str(BIN / "comptune"), "serve", "--port", str(args.port), "--log-level", "warning"],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    figures: dict = {"backend": url.split(":", 1)[0].split("+")[0], "reps": args.reps, "clients": args.clients,
                     "seconds": args.seconds, "answer_cache_mb": env.get("COMPTUNE_ANSWER_CACHE_MB", "default"),
                     "load_average_1min": round(os.getloadavg()[0], 2)}
    try:
        with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {analyst}"}) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(f"the service did not start; see {work / 'serve.log'}")
                time.sleep(0.2)
            market = client.get("/v1/plans/current").json()  # warm up the plan's tables
            del market
            aset = client.post("/v1/assumption-sets", json={"name": "bench", "adjustments": [
                {"markets": ["m01"], "demand": 0.7, "reason": "benchmark"}]})
            aset.raise_for_status()
            review = client.post("/v1/reviews", json={"assumption_set_id": aset.json()["id"],
                                                      "time_limit_s": args.time_limit})
            review.raise_for_status()
            review_id = review.json()["id"]
            while review_status(client, review_id) == "queued":
                time.sleep(0.2)
            started = time.monotonic()
            status = {"value": "running"}

            def alive() -> bool:
                status["value"] = review_status(client, review_id)
                return status["value"] == "running"

            figures["during_review"] = run_clients(base, {"Authorization": f"Bearer {analyst}"}, SMALL_GETS,
                                                   args.clients, args.seconds, while_alive=alive)
            figures["during_review"]["review_still_running"] = status["value"] == "running"
            figures["during_review"]["measured_s"] = round(time.monotonic() - started, 1)
            if not args.skip_large:
                while review_status(client, review_id) in ("queued", "running"):
                    time.sleep(1)
                figures["review_status"] = review_status(client, review_id)
                figures["review_s"] = round(time.monotonic() - started, 1)
                if figures["review_status"] == "succeeded":
                    approver_headers = {"Authorization": f"Bearer {approver}"}
                    big = (f"/v1/reviews/{review_id}/recommendation", f"/v1/reviews/{review_id}/adjustments")
                    sizes = {path: len(httpx.get(base + path, headers=approver_headers, timeout=120).content)
                             for path in big}
                    figures["large_answers_bytes"] = sizes
                    stop, large = threading.Event(), Recorder()
                    readers = [threading.Thread(target=hammer, args=(base, approver_headers, big, large, stop, k),
                                                daemon=True) for k in range(2)]
                    for thread in readers:
                        thread.start()
                    figures["healthz_while_large"] = run_clients(base, {}, ("/healthz",), args.clients - 2,
                                                                 args.seconds)
                    stop.set()
                    for thread in readers:
                        thread.join(timeout=300)
                    figures["large_answers"] = large.summary()
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    figures["serve_log_tail"] = (work / "serve.log").read_text()[-1500:]
    text = json.dumps(figures, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return figures


if __name__ == "__main__":
    main()
