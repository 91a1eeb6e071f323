"""Why a market's planned revenue and margin move: the assumption set versus re-planning (DESIGN.md §4.9).

Three figures per market and product, open periods, each from its own effective parameters:

- in force: what the plan in force delivers — its reps' own best response (§4.5) to it under the
  set's parent assumptions (or none): the reference a stale plan is measured against;
- reference plan: the plan LP (§4.1) under the parent assumptions (or none): re-planning alone;
- planned: the plan LP under the review's assumption set.

total = planned − in force = (planned − reference plan)  [the assumption set's part]
                           + (reference plan − in force)  [re-planning's part]

so the two parts sum to the total by construction. One sentence per market reads, e.g.
"Southern Europe −23 % revenue: demand × 0.5 from 2026-04 (south-freeze) −21 %, re-planning −2 %".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.assumptions import AssumptionSet
from models.dataset import Dataset
from optimizer.plan.cascade import orders_array
from optimizer.parameters import Parameters

FIGURES = ("revenue", "margin")


def money_by_market_product(params: Parameters, orders: pd.DataFrame) -> dict[str, np.ndarray]:
    """Revenue and margin of orders per (market, product), open periods, at these parameters' prices."""
    grid = orders_array(params, orders)[:, :, params.open_index]
    out = {}
    for name, per_order in (("revenue", params.rep_view(params.price)), ("margin", params.rep_view(params.margin))):
        by_rep = (per_order[:, :, params.open_index] * grid).sum(axis=2)  # (R, P)
        total = np.zeros((len(params.markets), len(params.products)))
        np.add.at(total, params.rep_market, by_rep)
        out[name] = total
    return out


def _factor_text(adj) -> str:
    parts = [f"{name} × {getattr(adj, name):g}" for name in ("demand", "price", "cost", "conversion", "hours")
             if getattr(adj, name) != 1.0]
    periods = adj.periods
    if periods is None:
        when = ""
    elif isinstance(periods, list):
        when = f" in {', '.join(periods)}"
    else:
        when = (f" from {periods.start}" if periods.start else "") + (f" to {periods.end}" if periods.end else "")
    products = f" on {', '.join(adj.products)}" if adj.products else ""
    return " and ".join(parts) + products + when


def assumption_text(assumptions: AssumptionSet | None, market: str) -> str:
    """The adjustments of the set that touch the market, as "demand × 0.5 from 2026-04 (name)"."""
    if assumptions is None:
        return "no assumptions"
    touching = [adj for adj in assumptions.adjustments if adj.markets is None or market in adj.markets]
    if not touching:
        return f"{assumptions.name} (elsewhere)"
    return "; ".join(_factor_text(adj) for adj in touching) + f" ({assumptions.name})"


def _share(part: float, base: float) -> float | None:
    return part / base if abs(base) > 1e-9 else None


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:+.0f} %".replace("-", "−")


def attribution(dataset: Dataset, assumptions: AssumptionSet | None, *, parent: AssumptionSet | None,
                in_force: tuple[Parameters, pd.DataFrame],
                reference: tuple[Parameters, pd.DataFrame], planned: tuple[Parameters, pd.DataFrame]) -> dict:
    """Per market (and product inside it): in force, planned, total change and its two parts.

    Each argument is (parameters, orders): the plan in force's simulated orders under the parent,
    the plan LP's orders under the parent and under the set.
    """
    params = planned[0]
    figures = {name: money_by_market_product(p, o) for name, (p, o) in
               (("in_force", in_force), ("reference", reference), ("planned", planned))}
    names = dict(zip(dataset.markets["market_id"], dataset.markets["name"]))
    markets = []
    for mi, market in enumerate(params.markets):
        entry: dict = {"market_id": market, "name": names.get(market, market)}
        for figure in FIGURES:
            base = float(figures["in_force"][figure][mi].sum())
            ref = float(figures["reference"][figure][mi].sum())
            new = float(figures["planned"][figure][mi].sum())
            entry[figure] = {"in_force": base, "planned": new, "change": new - base,
                             "assumptions": new - ref, "replanning": ref - base,
                             "change_share": _share(new - base, base), "assumptions_share": _share(new - ref, base),
                             "replanning_share": _share(ref - base, base)}
        products = []
        for pi, product in enumerate(params.products):
            row = {"product_id": product}
            for figure in FIGURES:
                base = float(figures["in_force"][figure][mi, pi])
                ref = float(figures["reference"][figure][mi, pi])
                new = float(figures["planned"][figure][mi, pi])
                row[figure] = {"in_force": base, "planned": new, "change": new - base,
                               "assumptions": new - ref, "replanning": ref - base}
            products.append(row)
        entry["products"] = products
        rev = entry["revenue"]
        cause = (f"{assumption_text(assumptions, market)} {_pct(rev['assumptions_share'])}, "
                 if assumptions is not None else "")
        entry["sentence"] = (f"{entry['name']} {_pct(rev['change_share'])} revenue: {cause}"
                             f"re-planning {_pct(rev['replanning_share'])}")
        markets.append(entry)
    base = f"parent assumptions {parent.name!r}" if parent is not None else "no assumptions"
    return {"reference": f"in force = the plan in force's simulated response under {base}; "
                         f"assumptions = plan LP under the set − plan LP under {base}; "
                         f"re-planning = plan LP under {base} − in force",
            "markets": markets}
