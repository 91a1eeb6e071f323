"""Explanations (DESIGN.md §4.7): LP duals and slacks mapped back to named domain rows.

A planner does not read "capacity[R12,2026-05] dual 84.2"; they read "one more selling hour of rep
R12 in 2026-05 is worth 84 EUR". Each binding row becomes a dict with its family, the domain keys,
the value of one more unit and a sentence. Soft constraints that needed slack are listed by name
and amount so that a plan that could not honour a mix or budget rule says so.

Both engines of the plan LP hand over plain numbers — duals as `{family: {index: dual}}` and the
soft slacks by product — so this module knows no solver.
"""

from __future__ import annotations

from collections.abc import Callable

from optimizer.parameters import Parameters

DUAL_TOLERANCE = 1e-7
SLACK_TOLERANCE = 1e-6
TOP_PER_FAMILY = 10

# The families whose duals are explained, and the index each uses (as the Pyomo model writes it):
# capacity (rep, period), market (market, product, period), supply (product, period), mix_min and
# mix_max product, budget None (a single row).
DUAL_FAMILIES = ("capacity", "market", "supply", "mix_min", "mix_max", "budget")


def soft_slacks(mix_short: dict[str, float], mix_excess: dict[str, float], budget_excess: float) -> list[dict]:
    """Soft constraints (mix by product, budget) whose slack is positive, with the amount in money."""
    out = []
    for p, amount in mix_short.items():
        if amount > SLACK_TOLERANCE:
            out.append(dict(constraint=f"mix_min[{p}]", family="mix_min", product_id=p, amount=amount,
                            message=f"revenue of {p} is {amount:,.0f} short of its minimum share"))
    for p, amount in mix_excess.items():
        if amount > SLACK_TOLERANCE:
            out.append(dict(constraint=f"mix_max[{p}]", family="mix_max", product_id=p, amount=amount,
                            message=f"revenue of {p} is {amount:,.0f} over its maximum share"))
    if budget_excess > SLACK_TOLERANCE:
        out.append(dict(constraint="budget", family="budget", amount=budget_excess,
                        message=f"variable pay at target exceeds the comp budget by {budget_excess:,.0f}"))
    return out


def _entries(duals: dict, describe: Callable[[tuple, float], dict]) -> list[dict]:
    """The family's rows with a dual beyond the tolerance, largest first, at most TOP_PER_FAMILY."""
    rows = []
    for index, value in duals.items():
        if value is None or abs(value) <= DUAL_TOLERANCE:
            continue
        keys = index if isinstance(index, tuple) else (index,)
        rows.append(describe(keys, float(value)))
    rows.sort(key=lambda row: -abs(row["worth"]))
    return rows[:TOP_PER_FAMILY]


def binding_constraints(family_duals: dict[str, dict], params: Parameters) -> list[dict]:
    """The binding constraints with the largest shadow prices, per family, as domain sentences.

    `family_duals` maps each of DUAL_FAMILIES to {index: dual}; a missing family has no binding row.
    """
    cur = params.company.currency
    out: list[dict] = []
    out += _entries(family_duals.get("capacity", {}), lambda k, v: dict(
        family="capacity", rep_id=k[0], period=k[1], worth=v, unit="selling hour",
        message=f"one more selling hour of rep {k[0]} in {k[1]} is worth {v:,.0f} {cur}"))
    out += _entries(family_duals.get("market", {}), lambda k, v: dict(
        family="market", market_id=k[0], product_id=k[1], period=k[2], worth=v, unit="order of potential",
        message=f"one more order of {k[1]} that market {k[0]} can absorb in {k[2]} is worth {v:,.0f} {cur}"))
    out += _entries(family_duals.get("supply", {}), lambda k, v: dict(
        family="supply", product_id=k[0], period=k[1], worth=v, unit="unit of supply",
        message=f"one more unit of {k[0]} supply in {k[1]} is worth {v:,.0f} {cur}"))
    out += _entries(family_duals.get("mix_min", {}), lambda k, v: dict(
        family="mix_min", product_id=k[0], worth=v, unit=f"{cur} of required revenue",
        message=f"the minimum share of {k[0]} costs {v:,.4f} {cur} of objective per {cur} of revenue it requires"))
    out += _entries(family_duals.get("mix_max", {}), lambda k, v: dict(
        family="mix_max", product_id=k[0], worth=v, unit=f"{cur} of allowed revenue",
        message=f"one more {cur} of revenue allowed for {k[0]} is worth {v:,.4f} {cur}"))
    budget = family_duals.get("budget", {}).get(None)
    if budget is not None and abs(budget) > DUAL_TOLERANCE:
        out.append(dict(family="budget", worth=float(budget), unit=f"{cur} of budget",
                        message=f"one more {cur} of comp budget is worth {budget:,.4f} {cur}"))
    return out
