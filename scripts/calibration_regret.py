"""Regret of calibrated recommendations on seeded companies (README "Calibration", docs/calibration.md).

For each company (reps × products × markets, seed; 18 months, the first 12 closed) and noise level:
the true reps answer the plan in force for the 12 closed months (optimizer.calibration.synthetic),
the company's view drops their skill and comfort (all 1), `calibrate` estimates them from the noisy
history, and the review pipeline recommends a plan with the true, the calibrated and the
uncalibrated model; the true reps judge every plan (optimizer.calibration.regret).

    .venv/bin/python scripts/calibration_regret.py --out out/calibration-regret.json
    .venv/bin/python scripts/calibration_regret.py --cases 40x8x4:3 --noise 0.1
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.dataset import dataset_from_tables  # noqa: E402
from models.history import load_history  # noqa: E402
from models.synthetic import known_tables, synthetic_tables  # noqa: E402
from optimizer.calibration.estimate import calibrate  # noqa: E402
from optimizer.calibration.regret import recommendation_regret  # noqa: E402
from optimizer.calibration.synthetic import synthetic_history  # noqa: E402

CASES = ("40x8x4:3", "100x10x5:202", "150x12x6:303")
NOISES = (0.1, 0.2)
PERIODS, CLOSED = 18, 12


def company(case: str):
    size, seed = case.split(":")
    reps, products, markets = (int(x) for x in size.split("x"))
    tables = synthetic_tables(reps=reps, products=products, markets=markets, periods=PERIODS, seed=int(seed),
                              closed_periods=CLOSED)
    return tables, int(seed)


def run(case: str, noises: list[float], *, workers: int, polish_rounds: int) -> list[dict]:
    """One company: the true and the uncalibrated model's plans once, the calibrated one per noise level."""
    tables, seed = company(case)
    truth = dataset_from_tables(tables)
    known = dataset_from_tables(known_tables(tables))
    reference = recommendation_regret(truth, {"truth": truth, "uncalibrated": known}, workers=workers)
    out = []
    for noise in noises:
        history = synthetic_history(truth, noise=noise, seed=seed)
        observed = replace(known, actuals=history.actuals)
        started = time.perf_counter()
        calibration = calibrate(observed, load_history(observed), history.spans, polish_rounds=polish_rounds)
        seconds = time.perf_counter() - started
        result = recommendation_regret(truth, {"calibrated": calibration.dataset}, workers=workers,
                                       reference=reference["models"]["truth"]["net_margin"])
        result["models"] = {**reference["models"], **result["models"]}
        result.update(case=case, noise=noise, calibrate_seconds=round(seconds, 2),
                      in_sample_wape=calibration.summary["in_sample_wape"],
                      comfort_status=calibration.summary["comfort_status"])
        out.append(result)
        print(table([result]).splitlines()[-1], flush=True)
    return out


def sensitivity(case: str, spread: float, *, workers: int) -> dict:
    """The true reps with their felt cost per hour (κ), or their skill, times log-normal noise of log-sd
    `spread`: how sensitive the recommendation's pay-cut promise is to small parameter errors."""
    import numpy as np

    tables, seed = company(case)
    truth = dataset_from_tables(tables)
    rng = np.random.default_rng([seed, 5])
    rp = truth.rep_products
    aversion = truth.company.effort_aversion
    felt = aversion * (rp["comfort"] - 1.0) * np.exp(rng.normal(0.0, spread, len(rp)))
    models = {"felt cost perturbed": replace(truth, rep_products=rp.assign(comfort=1.0 + felt / aversion)),
              "skill perturbed": replace(truth, rep_products=rp.assign(
                  skill=rp["skill"] * np.exp(rng.normal(0.0, spread, len(rp)))))}
    return recommendation_regret(truth, {"truth": truth, **models}, workers=workers)


def table(results: list[dict]) -> str:
    lines = ["| company | noise | regret uncalibrated | regret calibrated | ratio | true cuts > 6 %: uncalibrated / calibrated "
             "| worst true cut: uncalibrated / calibrated | in-sample WAPE | calibrate s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        u, c = r["models"]["uncalibrated"], r["models"]["calibrated"]
        ratio = (c["regret_pct"] / u["regret_pct"]) if u.get("regret_pct") else float("nan")
        lines.append(f"| {r['case']} | {r['noise']:.0%} | {u['regret_pct']:.2f} % | {c['regret_pct']:.2f} % | {ratio:.2f} "
                     f"| {u['cuts_beyond']} / {c['cuts_beyond']} | {100 * u['worst_cut']:.0f} % / {100 * c['worst_cut']:.0f} % "
                     f"| {r['in_sample_wape']} | {r['calibrate_seconds']} |")
    return "\n".join(lines)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=",".join(CASES), help="REPSxPRODUCTSxMARKETS:SEED, comma-separated")
    parser.add_argument("--noise", default=",".join(str(n) for n in NOISES))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--polish-rounds", type=int, default=2)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--sensitivity", type=float, help="instead: the true reps perturbed by this log-sd")
    args = parser.parse_args()
    if args.sensitivity:
        for case in args.cases.split(","):
            result = sensitivity(case, args.sensitivity, workers=args.workers)
            for name, row in result["models"].items():
                print(f"{case} {name}: regret {row.get('regret_pct', 0):.2f} %, true cuts > 6 %: {row.get('cuts_beyond')}, "
                      f"worst {100 * row.get('worst_cut', 0):.0f} %", flush=True)
        return
    results = []
    for case in args.cases.split(","):
        results += run(case, [float(n) for n in args.noise.split(",")], workers=args.workers,
                       polish_rounds=args.polish_rounds)
    print(table(results))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
