"""Explanations (DESIGN.md §4.7): LP duals and slacks mapped back to named domain rows.

A planner does not read "capacity[R12,2026-05] dual 84.2"; they read "one more selling hour of rep
R12 in 2026-05 is worth 84 EUR". Each binding row becomes a dict with its family, the domain keys,
the value of one more unit and a sentence. Soft constraints that needed slack are listed by name
and amount so that a plan that could not honour a mix or budget rule says so.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimizer.parameters import Parameters

DUAL_TOLERANCE = 1e-7
SLACK_TOLERANCE = 1e-6
TOP_PER_FAMILY = 10


def soft_slacks(model: pyo.ConcreteModel) -> list[dict]:
    """Soft constraints (mix, budget) whose slack is positive, with the amount in money."""
    out = []
    for p in model.MIN_MIX:
        amount = model.mix_short[p].value or 0.0
        if amount > SLACK_TOLERANCE:
            out.append(dict(constraint=f"mix_min[{p}]", family="mix_min", product_id=p, amount=amount,
                            message=f"revenue of {p} is {amount:,.0f} short of its minimum share"))
    for p in model.MAX_MIX:
        amount = model.mix_excess[p].value or 0.0
        if amount > SLACK_TOLERANCE:
            out.append(dict(constraint=f"mix_max[{p}]", family="mix_max", product_id=p, amount=amount,
                            message=f"revenue of {p} is {amount:,.0f} over its maximum share"))
    amount = model.budget_excess.value or 0.0
    if amount > SLACK_TOLERANCE:
        out.append(dict(constraint="budget", family="budget", amount=amount,
                        message=f"variable pay at target exceeds the comp budget by {amount:,.0f}"))
    return out


def _entries(constraint, duals, describe) -> list[dict]:
    rows = []
    for index in constraint:
        con = constraint[index]
        value = duals.get(con)
        if value is None or abs(value) <= DUAL_TOLERANCE:
            continue
        keys = index if isinstance(index, tuple) else (index,)
        rows.append(describe(keys, float(value)))
    rows.sort(key=lambda row: -abs(row["worth"]))
    return rows[:TOP_PER_FAMILY]


def binding_constraints(model: pyo.ConcreteModel, duals, params: Parameters) -> list[dict]:
    """The binding constraints with the largest shadow prices, per family, as domain sentences."""
    cur = params.company.currency
    out: list[dict] = []
    out += _entries(model.capacity, duals, lambda k, v: dict(
        family="capacity", rep_id=k[0], period=k[1], worth=v, unit="selling hour",
        message=f"one more selling hour of rep {k[0]} in {k[1]} is worth {v:,.0f} {cur}"))
    out += _entries(model.market, duals, lambda k, v: dict(
        family="market", market_id=k[0], product_id=k[1], period=k[2], worth=v, unit="order of potential",
        message=f"one more order of {k[1]} that market {k[0]} can absorb in {k[2]} is worth {v:,.0f} {cur}"))
    out += _entries(model.supply_limit, duals, lambda k, v: dict(
        family="supply", product_id=k[0], period=k[1], worth=v, unit="unit of supply",
        message=f"one more unit of {k[0]} supply in {k[1]} is worth {v:,.0f} {cur}"))
    out += _entries(model.mix_min, duals, lambda k, v: dict(
        family="mix_min", product_id=k[0], worth=v, unit=f"{cur} of required revenue",
        message=f"the minimum share of {k[0]} costs {v:,.4f} {cur} of objective per {cur} of revenue it requires"))
    out += _entries(model.mix_max, duals, lambda k, v: dict(
        family="mix_max", product_id=k[0], worth=v, unit=f"{cur} of allowed revenue",
        message=f"one more {cur} of revenue allowed for {k[0]} is worth {v:,.4f} {cur}"))
    budget = duals.get(model.budget)
    if budget is not None and abs(budget) > DUAL_TOLERANCE:
        out.append(dict(family="budget", worth=float(budget), unit=f"{cur} of budget",
                        message=f"one more {cur} of comp budget is worth {budget:,.4f} {cur}"))
    return out


# --------------------------------------------------------------------------------------------
# The same reports for a solver that is not Pyomo (optimizer/plan_arrays.py reads HiGHS directly).


class _Value:
    __slots__ = ("value",)

    def __init__(self, value: float):
        self.value = value


class _ModelView:
    """Just enough of the plan model's shape for `soft_slacks` and `binding_constraints`."""

    def __init__(self, **families):
        self.__dict__.update(families)


def soft_slacks_from_values(mix_short: dict[str, float], mix_excess: dict[str, float],
                            budget_excess: float) -> list[dict]:
    """`soft_slacks` from slack values by product (and the budget's), in the same words."""
    view = _ModelView(
        MIN_MIX=list(mix_short), MAX_MIX=list(mix_excess),
        mix_short={p: _Value(v) for p, v in mix_short.items()},
        mix_excess={p: _Value(v) for p, v in mix_excess.items()},
        budget_excess=_Value(budget_excess),
    )
    return soft_slacks(view)


def binding_from_duals(family_duals: dict, params: Parameters) -> list[dict]:
    """`binding_constraints` from row duals keyed by family and the Pyomo constraint's index.

    `family_duals` maps "capacity", "market", "supply", "mix_min", "mix_max" to {index: dual}
    (an index as the Pyomo model writes it: (rep, period), (market, product, period),
    (product, period), product) and "budget" to the budget row's dual.
    """
    duals: dict = {}
    families = {}
    for family in ("capacity", "market", "supply", "mix_min", "mix_max"):
        rows = family_duals.get(family, {})
        families[family] = {index: (family, index) for index in rows}
        duals.update({(family, index): value for index, value in rows.items()})
    duals[("budget",)] = family_duals.get("budget")
    view = _ModelView(capacity=families["capacity"], market=families["market"], supply_limit=families["supply"],
                      mix_min=families["mix_min"], mix_max=families["mix_max"], budget=("budget",))
    return binding_constraints(view, duals, params)
