"""Calibration at scale against HiGHS alone on the same company's plan LP (issue 19, item 6).

Generates `comptune generate --reps 1000 --products 50 --markets 8 --periods 12 --seed 5` (the plan
LP the floor solves: HiGHS alone, optimizer/bench.py's independent build) and the same company with
a 13th month and the first 12 closed under a 10 %-noise history (`--periods 13 --closed 12
--history-noise 0.1`: what calibration reads), then times, one after the other in fresh processes,
the floor and `calibrate` through the executor (`--workers`). Reports wall and CPU seconds (the
process and its finished children: the Dask workers) and peak resident memory of each.

    .venv/bin/python scripts/calibration_speed.py --workers 2 [--polish-rounds 2] [--out out/calibration-speed.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def peak_mb() -> float:
    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def floor(folder: str) -> dict:
    from models.dataset import load_dataset
    from optimizer.bench import FloorLP
    from optimizer.parameters import effective_parameters
    from optimizer.plan.results import in_force_for

    dataset = load_dataset(folder)
    params = effective_parameters(dataset)
    started, cpu = time.perf_counter(), cpu_seconds()
    lp = FloorLP(params, in_force_for(dataset.plan, params.open_periods))
    objective, _ = lp.solve()
    return {"what": "HiGHS alone on the plan LP", "wall_s": round(time.perf_counter() - started, 2),
            "cpu_s": round(cpu_seconds() - cpu, 2), "objective": objective, "peak_mb": round(peak_mb(), 1)}


def calibration(folder: str, workers: int, polish_rounds: int) -> dict:
    from models.dataset import load_dataset
    from models.history import default_spans, load_history
    from optimizer.calibration.estimate import calibrate
    from optimizer.executor import open_executor

    dataset = load_dataset(folder)
    history = load_history(dataset)
    started, cpu = time.perf_counter(), cpu_seconds()
    with open_executor(workers) as executor:
        result = calibrate(dataset, history, default_spans(dataset, history), executor=executor,
                           polish_rounds=polish_rounds)
    return {"what": f"calibrate, {workers} worker(s), {polish_rounds} polish rounds",
            "wall_s": round(time.perf_counter() - started, 2), "cpu_s": round(cpu_seconds() - cpu, 2),
            "peak_mb": round(peak_mb(), 1), "in_sample_wape": result.summary["in_sample_wape"],
            "comfort_status": result.summary["comfort_status"]}


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--polish-rounds", type=int, default=2)
    parser.add_argument("--step", choices=["all", "floor", "calibrate"], default="all")
    parser.add_argument("--folder")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.step == "floor":
        print(json.dumps(floor(args.folder)))
        return
    if args.step == "calibrate":
        print(json.dumps(calibration(args.folder, args.workers, args.polish_rounds)))
        return
    comptune = str(Path(sys.executable).with_name("comptune"))
    results = []
    with tempfile.TemporaryDirectory(prefix="comptune-speed-") as tmp:
        plan, history = f"{tmp}/plan", f"{tmp}/history"
        subprocess.run([comptune, "generate", "--reps", "1000", "--products", "50", "--markets", "8", "--periods", "12",
                        "--seed", "5", "--out", plan], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([comptune, "generate", "--reps", "1000", "--products", "50", "--markets", "8", "--periods", "13",
                        "--closed", "12", "--seed", "5", "--history-noise", "0.1", "--out", history], check=True,
                       stdout=subprocess.DEVNULL)
        for step, folder in (("floor", plan), ("calibrate", history)):
            out = subprocess.run([sys.executable, __file__, "--step", step, "--folder", folder, "--workers",
                                  str(args.workers), "--polish-rounds", str(args.polish_rounds)],
                                 check=True, capture_output=True, text=True)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(results[-1]), flush=True)
    ratio = {"wall": round(results[1]["wall_s"] / results[0]["wall_s"], 2),
             "cpu": round(results[1]["cpu_s"] / results[0]["cpu_s"], 2)}
    print(json.dumps({"ratio_to_highs_alone": ratio}))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"runs": results, "ratio": ratio}, indent=2))


if __name__ == "__main__":
    main()
