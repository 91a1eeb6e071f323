"""Measure the recommendation on the README's companies: net margin, alignment, components, the
frontier, the quotas against the plan, the price of each rule, the pay impact and the seconds.

    .venv/bin/python scripts/alignment_table.py [--companies sample,sample+south-freeze,...] [--json OUT]

Copy it into another checkout and run it there to measure an older engine on the same companies:
fields the older engine does not have are read as missing (net margin is then margin − pay cost of
its comparison). Seconds are CPU seconds of this process (`time.process_time`) and wall seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from models.assumptions import load_assumptions  # noqa: E402
from models.dataset import dataset_from_tables, load_dataset  # noqa: E402
from models.synthetic import synthetic_tables  # noqa: E402
from optimizer.alignment.recommend import recommend  # noqa: E402

SAMPLE = ROOT / "datasets" / "sample"
GENERATED = {  # name: (reps, products, markets, seed) — 12 periods, 3 closed
    "generated 50x8x6 seed 101": (50, 8, 6, 101),
    "generated 75x6x4 seed 404": (75, 6, 4, 404),
    "generated 100x10x5 seed 202": (100, 10, 5, 202),
    "generated 200x12x8 seed 303": (200, 12, 8, 303),
    "generated 200x20x6 seed 5": (200, 20, 6, 5),
}
COMPANIES = ["sample", "sample+south-freeze", "sample+us-upturn", *GENERATED]


def company(name: str):
    if name.startswith("sample"):
        dataset = load_dataset(SAMPLE)
        assumptions = None
        if "+" in name:
            assumptions = load_assumptions(SAMPLE / "assumptions" / f"{name.split('+', 1)[1]}.yaml", dataset)
        return dataset, assumptions
    reps, products, markets, seed = GENERATED[name]
    return dataset_from_tables(synthetic_tables(reps=reps, products=products, markets=markets, periods=12,
                                                seed=seed, closed_periods=3)), None


def measure(name: str) -> dict:
    dataset, assumptions = company(name)
    cpu, wall = time.process_time(), time.perf_counter()
    rec = recommend(dataset, assumptions)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    rows = {row.plan: row for row in rec.comparison.itertuples()}

    def net(plan: str) -> float | None:
        row = rows.get(plan)
        return None if row is None else float(row.margin - row.pay_cost)

    frontier = [{"n": f["components"], "alignment": f["alignment"],
                 "net_margin": f.get("net_margin", None if f["margin"] is None else f["margin"] - f["pay_cost"])}
                for f in rec.frontier]
    impact = rec.pay_impact or {}
    return {
        "company": name, "status": rec.status, "plan_margin": rec.plan_result.margin,
        "net_margin": net("recommended"), "net_margin_in_force": net("in_force"),
        "alignment": rec.alignment.get("recommended"), "alignment_in_force": rec.alignment.get("in_force"),
        "components": None if rec.plan is None else len(rec.plan.component_ids),
        "frontier": frontier,
        "coverage": [{"component": c["component_id"], "coverage": c["coverage"]} for c in getattr(rec, "coverage", [])],
        "prices": [{"rule": p["rule"], "price": p["price"], "share": p["price_share"]}
                   for p in getattr(rec, "rule_prices", [])],
        "unmet": [u["rule"] for u in rec.unmet],
        "losers": impact.get("losers"), "winners": impact.get("winners"), "max_cut": impact.get("max_cut"),
        "max_raise": impact.get("max_raise"),
        "simulations": getattr(rec, "search", {}).get("simulations"),
        "cpu_seconds": round(cpu, 1), "wall_seconds": round(wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", default=",".join(COMPANIES))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = []
    for name in args.companies.split(","):
        result = measure(name)
        results.append(result)
        print(json.dumps(result), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
