"""The replay figures of docs/replay.md (issue 18 item 9): three companies × two worlds × four policies.

Companies: the sample, and two seeded synthetic companies (50 reps × 8 products × 6 markets, 12
periods, 3 closed; seeds 101 and 202). Worlds: a freeze (one market's demand × 0.5 from the first
open month) and an upturn with a slow launch (another market's demand × 1.3 from the second open
month, the new products' funnel × 0.7 for the first five open months). Noise 0, the gaming audit
on 20 reps. Writes one replay.json per case under OUT and prints the markdown table.

    .venv/bin/python scripts/replay_figures.py OUT [--workers N] [--only sample,gen101,gen202]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from models.assumptions import AssumptionSet
from models.dataset import dataset_from_tables, load_dataset
from models.synthetic import synthetic_tables
from optimizer.executor import open_executor
from optimizer.replay import ReplayOptions, run_replay


def companies(only: str | None):
    wanted = None if only is None else set(only.split(","))
    if wanted is None or "sample" in wanted:
        yield "sample", load_dataset("datasets/sample")
    for seed in (101, 202):
        if wanted is None or f"gen{seed}" in wanted:
            yield f"gen{seed}", dataset_from_tables(synthetic_tables(reps=50, products=8, markets=6, periods=12,
                                                                     seed=seed, closed_periods=3))


def worlds(name: str, dataset) -> list[AssumptionSet]:
    open_periods = dataset.company.open_periods
    markets = dataset.market_ids
    frozen, rising = ("south", "us") if name == "sample" else (markets[0], markets[1])
    return [
        AssumptionSet.model_validate({"name": f"{frozen}-freeze", "adjustments": [
            {"markets": [frozen], "periods": {"from": open_periods[0]}, "demand": 0.5,
             "reason": f"{frozen} freezes: half the potential for the rest of the year"}]}),
        AssumptionSet.model_validate({"name": f"{rising}-upturn-slow-launch", "adjustments": [
            {"markets": [rising], "periods": {"from": open_periods[1]}, "demand": 1.3,
             "reason": f"an upturn in {rising}: 30 % more potential"},
            {"products": ["group:new"], "periods": {"from": open_periods[0], "to": open_periods[4]},
             "conversion": 0.7, "reason": "the new products launch slowly: funnel rates × 0.7 for five months"}]}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--only", default=None)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    with open_executor(workers=args.workers) as executor:
        for name, dataset in companies(args.only):
            for world in worlds(name, dataset):
                started = time.perf_counter()
                result = run_replay(dataset, world, ReplayOptions(gaming_reps=20), executor=executor)
                data = result.to_dict()
                (args.out / f"{name}-{world.name}.json").write_text(json.dumps(data, indent=2, default=float))
                by = {p["policy"]: p for p in data["policies"]}
                audit = {g["policy"]: g for g in data["gaming"]}
                row = (f"| {name} | {world.name} | "
                       + " | ".join(f"{by[p]['total']['net_margin'] / 1e6:,.3f}" for p in ("static", "quarterly", "monthly", "oracle"))
                       + " | " + " | ".join(_share(by[p]["share_of_oracle_gain"]) for p in ("quarterly", "monthly"))
                       + " | " + " | ".join(f"{by[p]['reviews_run']}/{by[p]['plans_accepted']}" for p in ("quarterly", "monthly", "oracle"))
                       + " | " + " | ".join(f"{len(audit[p]['rewarded'])} of {len(audit[p]['reps'])}" for p in ("quarterly", "monthly"))
                       + f" | {time.perf_counter() - started:.0f} s |")
                rows.append(row)
                print(row, flush=True)
    print("| company | world | static | quarterly | monthly | oracle | share q | share m | reviews/accepted q | m | o "
          "| rewarded q | rewarded m | wall |")
    print("\n".join(rows))
    sys.stdout.flush()


def _share(value) -> str:
    return "—" if value is None else f"{100 * value:.0f} %"


if __name__ == "__main__":
    main()
