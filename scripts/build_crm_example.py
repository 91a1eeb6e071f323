"""Write the example CRM exports of datasets/crm/ from the sample company's Q1 actuals (reps R01, R02).

An opportunity export (one line per opportunity product line, European dates, the owner's name, a
SKU code, Closed Won / proposal stages and some lost deals) and an activity export (one line per
call, meeting or e-mail, ISO dates, a product on most lines). `comptune import` with the two column
maps next to them gives back those reps' actuals. Deterministic: run it again and the files are the same.

    .venv/bin/python scripts/build_crm_example.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SAMPLE, OUT = ROOT / "datasets" / "sample", ROOT / "datasets" / "crm"
REPS = ("R01", "R02")
SKU = {"plc-classic": "PLC-S5"}  # one product exported under a SKU the map translates


def main() -> None:
    rng = np.random.default_rng(19)
    actuals = pd.read_csv(SAMPLE / "actuals.csv")
    reps = pd.read_csv(SAMPLE / "reps.csv").set_index("rep_id")["name"]
    actuals = actuals[actuals["rep_id"].isin(REPS) & (actuals["product_id"] != "*")]
    opportunities, activities = [], []
    for row in actuals.itertuples(index=False):
        year, month = (int(x) for x in row.period.split("-"))

        def day() -> str:
            return f"{int(rng.integers(1, 29)):02d}/{month:02d}/{year}"

        owner, code = reps[row.rep_id], SKU.get(row.product_id, row.product_id)
        for stage, count in (("Closed Won", int(row.orders)), ("Proposal/Price Quote", int(row.quotes - row.orders)),
                             ("Closed Lost", int(rng.integers(0, 2)))):
            for _ in range(count):
                opportunities.append({"Opportunity Owner": owner, "Product Code": code, "Close Date": day(),
                                      "Quantity": 1, "Stage": stage})
        for kind, count in (("Call", int(row.calls)), ("Meeting", int(row.meetings)), ("Email", int(rng.integers(0, 3)))):
            for _ in range(count):
                activities.append({"Assigned To": owner, "Product": code,
                                   "Date": f"{year}-{month:02d}-{int(rng.integers(1, 29)):02d}T{int(rng.integers(8, 18)):02d}:00",
                                   "Activity Type": kind})
    opportunities = pd.DataFrame(opportunities).sample(frac=1.0, random_state=1).reset_index(drop=True)
    opportunities.insert(0, "Line ID", [f"OL-{1000 + i}" for i in range(len(opportunities))])
    activities = pd.DataFrame(activities).sample(frac=1.0, random_state=2).reset_index(drop=True)
    activities.insert(0, "Activity ID", [f"A-{5000 + i}" for i in range(len(activities))])
    OUT.mkdir(parents=True, exist_ok=True)
    opportunities.to_csv(OUT / "opportunities.csv", index=False, lineterminator="\n")
    activities.to_csv(OUT / "activities.csv", index=False, lineterminator="\n")
    print(f"wrote {len(opportunities)} opportunity lines and {len(activities)} activities to {OUT}")


if __name__ == "__main__":
    main()
