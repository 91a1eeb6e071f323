"""The plan LP of DESIGN.md §4.1 as a Pyomo model: planned orders per rep, product and open period.

Maximize  Σ g[m(r),p,t]·o[r,p,t] − change_penalty·CHANGE − soft_penalty·Σ soft slacks
subject to capacity, market, reach and supply (hard), and mix and budget (soft, slack in money).

This module is the readable definition of the model: one function per constraint family, named
after it, with the inequality in its docstring; sets and parameters named after the mathematics.
`solve_plan_pyomo` solves it and reads the answer back as a `PlanResult`; the service's entry
point, `optimizer.plan.targets.plan_targets`, chooses between this model and the array engine.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from models.dataset import METRICS
from optimizer.parameters import Parameters
from optimizer.plan.explain import binding_constraints, soft_slacks
from optimizer.plan.results import ORDER_COLUMNS, InForce, PlanResult
from optimizer.solve import (
    OPTIMAL, FEASIBLE_TIME_LIMIT, SolveOptions, describe_termination, simplex_iterations, solve_pyomo, status_of,
)

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# Model


def build_plan_model(params: Parameters, in_force: InForce | None = None) -> pyo.ConcreteModel:
    """Build the §4.1 plan LP over the open periods."""
    m = pyo.ConcreteModel(name="plan_lp")
    define_sets(m, params)
    define_parameters(m, params)
    m.o = pyo.Var(m.ORDERS, domain=pyo.NonNegativeReals, doc="planned orders o[r,p,t]")
    define_capacity_constraints(m)
    define_market_constraints(m)
    define_reach_constraints(m)
    define_supply_constraints(m)
    m.REV = pyo.Expression(expr=sum(m.v[r, p, t] * m.o[r, p, t] for r, p, t in m.ORDERS), doc="planned revenue")
    define_mix_constraints(m)
    define_budget_constraints(m)
    define_change_terms(m, params, in_force)
    define_objective(m)
    return m


def define_sets(m: pyo.ConcreteModel, params: Parameters) -> None:
    """REPS, PRODUCTS, MARKETS, PERIODS (open only) and ORDERS = {(r,p,t): rep r sells p}."""
    periods = params.open_periods
    m.REPS = pyo.Set(initialize=params.reps, ordered=True)
    m.PRODUCTS = pyo.Set(initialize=params.products, ordered=True)
    m.MARKETS = pyo.Set(initialize=params.markets, ordered=True)
    m.PERIODS = pyo.Set(initialize=periods, ordered=True)
    sells = params.sells
    m.ORDERS = pyo.Set(
        dimen=3, ordered=True,
        initialize=[(r, p, t) for ri, r in enumerate(params.reps) for pi, p in enumerate(params.products)
                    if sells[ri, pi] for t in periods],
    )
    market_of = {r: params.markets[params.rep_market[i]] for i, r in enumerate(params.reps)}
    m.market_of = market_of
    m.REPS_IN = {mk: [r for r in params.reps if market_of[r] == mk] for mk in params.markets}


def define_parameters(m: pyo.ConcreteModel, params: Parameters) -> None:
    """v, g, h, D, H, reach cap, supply, shares and pay as Pyomo Params (by label)."""
    ti = {label: params.periods.index(label) for label in params.open_periods}
    ri = {r: i for i, r in enumerate(params.reps)}
    pi = {p: i for i, p in enumerate(params.products)}
    mi = {mk: i for i, mk in enumerate(params.markets)}
    h = params.hours_per_order()
    cap = params.order_cap()
    price, margin = params.rep_view(params.price), params.rep_view(params.margin)
    orders = list(m.ORDERS)
    m.v = pyo.Param(m.ORDERS, initialize={k: price[ri[k[0]], pi[k[1]], ti[k[2]]] for k in orders}, doc="price")
    m.g = pyo.Param(m.ORDERS, initialize={k: margin[ri[k[0]], pi[k[1]], ti[k[2]]] for k in orders}, doc="margin")
    m.h = pyo.Param(m.ORDERS, initialize={k: h[ri[k[0]], pi[k[1]], ti[k[2]]] for k in orders}, doc="hours per order")
    m.reach_cap = pyo.Param(m.ORDERS, initialize={k: cap[ri[k[0]], pi[k[1]], ti[k[2]]] for k in orders})
    m.H = pyo.Param(m.REPS, m.PERIODS, initialize={(r, t): params.hours_available[ri[r], ti[t]]
                                                    for r in params.reps for t in ti}, doc="selling hours")
    m.D = pyo.Param(m.MARKETS, m.PRODUCTS, m.PERIODS, doc="potential orders",
                    initialize={(mk, p, t): params.potential[mi[mk], pi[p], ti[t]]
                                for mk in params.markets for p in params.products for t in ti})
    m.supply = pyo.Param(m.PRODUCTS, initialize={p: params.supply[pi[p]] for p in params.products}, within=pyo.Any)
    m.min_share = pyo.Param(m.PRODUCTS, initialize={p: params.min_share[pi[p]] for p in params.products})
    m.max_share = pyo.Param(m.PRODUCTS, initialize={p: params.max_share[pi[p]] for p in params.products})
    m.target_variable_pay = pyo.Param(m.REPS, initialize={r: params.target_variable_pay[ri[r]] for r in params.reps})
    m.pay_at_target = pyo.Param(initialize=params.pay_at_target(), doc="Σ_{r,t} target_variable_pay[r]")
    m.comp_budget_rate = pyo.Param(initialize=params.company.comp_budget_rate)
    m.change_penalty = pyo.Param(initialize=params.company.change_penalty)
    m.soft_penalty = pyo.Param(initialize=params.company.soft_penalty)
    m.metric_coef = {
        metric: params.rep_view(params.metric_coefficient(metric))
        for metric in METRICS
    }
    m.position = (ri, pi, ti)


def define_capacity_constraints(m: pyo.ConcreteModel) -> None:
    """capacity[r,t]:  Σ_p h[r,p,t]·o[r,p,t] ≤ H[r,t]   (hard)"""
    by_rep_period: dict[tuple, list] = {}
    for r, p, t in m.ORDERS:
        by_rep_period.setdefault((r, t), []).append(p)

    def rule(m, r, t):
        products = by_rep_period.get((r, t))
        if not products:
            return pyo.Constraint.Skip
        return sum(m.h[r, p, t] * m.o[r, p, t] for p in products) <= m.H[r, t]

    m.capacity = pyo.Constraint(m.REPS, m.PERIODS, rule=rule)


def define_market_constraints(m: pyo.ConcreteModel) -> None:
    """market[m,p,t]:  Σ_{r in m} o[r,p,t] ≤ D[m,p,t]   (hard)"""
    by_market: dict[tuple, list] = {}
    for r, p, t in m.ORDERS:
        by_market.setdefault((m.market_of[r], p, t), []).append(r)

    def rule(m, mk, p, t):
        reps = by_market.get((mk, p, t))
        if not reps:
            return pyo.Constraint.Skip
        return sum(m.o[r, p, t] for r in reps) <= m.D[mk, p, t]

    m.market = pyo.Constraint(m.MARKETS, m.PRODUCTS, m.PERIODS, rule=rule)


def define_reach_constraints(m: pyo.ConcreteModel) -> None:
    """reach[r,p,t]:  o[r,p,t] ≤ max_share[r,p]·D[m(r),p,t]   (hard; a bound on each variable)

    Held as variable bounds rather than rows: the same LP, a 1.2 M-row smaller matrix at scale;
    its shadow prices are the variables' reduced costs.
    """
    for key in m.ORDERS:
        m.o[key].setub(float(m.reach_cap[key]))


def define_supply_constraints(m: pyo.ConcreteModel) -> None:
    """supply[p,t]:  Σ_r o[r,p,t] ≤ supply_per_period[p]   where given   (hard)"""
    by_product: dict[tuple, list] = {}
    for r, p, t in m.ORDERS:
        by_product.setdefault((p, t), []).append(r)

    def rule(m, p, t):
        if not np.isfinite(m.supply[p]) or (p, t) not in by_product:
            return pyo.Constraint.Skip
        return sum(m.o[r, p, t] for r in by_product[(p, t)]) <= m.supply[p]

    m.supply_limit = pyo.Constraint(m.PRODUCTS, m.PERIODS, rule=rule)


def define_mix_constraints(m: pyo.ConcreteModel) -> None:
    """mix over the open horizon (soft, slack in money):
    min_share[p]·REV − Σ_{r,t} v·o[r,p,t] ≤ mix_short[p];   Σ_{r,t} v·o[r,p,t] − max_share[p]·REV ≤ mix_excess[p]
    """
    m.MIN_MIX = pyo.Set(initialize=[p for p in m.PRODUCTS if m.min_share[p] > 0], ordered=True)
    m.MAX_MIX = pyo.Set(initialize=[p for p in m.PRODUCTS if m.max_share[p] < 1], ordered=True)
    m.mix_short = pyo.Var(m.MIN_MIX, domain=pyo.NonNegativeReals)
    m.mix_excess = pyo.Var(m.MAX_MIX, domain=pyo.NonNegativeReals)
    revenue_of = {p: [k for k in m.ORDERS if k[1] == p] for p in m.PRODUCTS}

    def product_revenue(m, p):
        return sum(m.v[k] * m.o[k] for k in revenue_of[p])

    m.mix_min = pyo.Constraint(m.MIN_MIX, rule=lambda m, p: m.min_share[p] * m.REV - product_revenue(m, p) <= m.mix_short[p])
    m.mix_max = pyo.Constraint(m.MAX_MIX, rule=lambda m, p: product_revenue(m, p) - m.max_share[p] * m.REV <= m.mix_excess[p])


def define_budget_constraints(m: pyo.ConcreteModel) -> None:
    """budget (soft, slack in money):  Σ_{r,t} target_variable_pay[r] − comp_budget_rate·REV ≤ budget_excess"""
    m.budget_excess = pyo.Var(domain=pyo.NonNegativeReals)
    m.budget = pyo.Constraint(expr=m.pay_at_target - m.comp_budget_rate * m.REV <= m.budget_excess)


def define_change_terms(m: pyo.ConcreteModel, params: Parameters, in_force: InForce | None) -> None:
    """change[r,k,t] (only with a plan in force, T0 > 0):
    metric_k(o[r,·,t]) − T0[r,k,t] = change_up[r,k,t] − change_down[r,k,t],  both ≥ 0;
    CHANGE = Σ target_variable_pay[r]·ω0[k]·(change_up + change_down)/T0[r,k,t]
    """
    keys = sorted(in_force.targets) if in_force else []
    keys = [k for k in keys if k[2] in set(m.PERIODS)]
    m.CHANGE_ROWS = pyo.Set(dimen=3, initialize=keys, ordered=True)
    m.change_up = pyo.Var(m.CHANGE_ROWS, domain=pyo.NonNegativeReals)
    m.change_down = pyo.Var(m.CHANGE_ROWS, domain=pyo.NonNegativeReals)
    if not keys:
        m.CHANGE = pyo.Expression(expr=0.0)
        return
    ri, pi, ti = m.position
    products_of = {r: [k[1] for k in m.ORDERS if k[0] == r and k[2] == m.PERIODS.first()] for r in m.REPS}

    def rule(m, r, k, t):
        coef = m.metric_coef[in_force.component_metric[k]]
        members = set(in_force.component_products[k])
        metric = sum(coef[ri[r], pi[p], ti[t]] * m.o[r, p, t] for p in products_of[r] if p in members)
        return metric - in_force.targets[r, k, t] == m.change_up[r, k, t] - m.change_down[r, k, t]

    m.change = pyo.Constraint(m.CHANGE_ROWS, rule=rule)
    m.CHANGE = pyo.Expression(expr=sum(
        m.target_variable_pay[r] * in_force.weights[k] * (m.change_up[r, k, t] + m.change_down[r, k, t])
        / in_force.targets[r, k, t]
        for r, k, t in m.CHANGE_ROWS
    ))


def define_objective(m: pyo.ConcreteModel) -> None:
    """max Σ g·o − change_penalty·CHANGE − soft_penalty·(Σ mix slacks + budget_excess)"""
    m.MARGIN = pyo.Expression(expr=sum(m.g[k] * m.o[k] for k in m.ORDERS))
    m.SOFT = pyo.Expression(
        expr=sum(m.mix_short[p] for p in m.MIN_MIX) + sum(m.mix_excess[p] for p in m.MAX_MIX) + m.budget_excess
    )
    m.objective = pyo.Objective(
        expr=m.MARGIN - m.change_penalty * m.CHANGE - m.soft_penalty * m.SOFT, sense=pyo.maximize
    )


# --------------------------------------------------------------------------------------------
# Solve


def solve_plan_pyomo(params: Parameters, in_force: InForce | None = None, *,
                     options: SolveOptions | None = None) -> PlanResult:
    """Build this module's model, solve it with HiGHS and read the answer back (§4.7 explained)."""
    options = options or SolveOptions()
    started = time.perf_counter()
    model = build_plan_model(params, in_force)
    built = time.perf_counter()
    solver, results = solve_pyomo(model, options)
    solved = time.perf_counter()
    status = status_of(results)
    base = dict(n_variables=model.nvariables(), n_constraints=model.nconstraints(), build_seconds=built - started,
                solve_seconds=solved - built, iterations=simplex_iterations(solver))
    if status not in (OPTIMAL, FEASIBLE_TIME_LIMIT):
        return PlanResult(status=status, objective=None, margin=None, revenue=None,
                          orders=pd.DataFrame(columns=ORDER_COLUMNS), message=describe_termination(results, options),
                          **base)
    results.solution_loader.load_vars()
    duals = results.solution_loader.get_duals() if status == OPTIMAL else {}
    orders = pd.DataFrame(
        [(r, p, t, model.o[r, p, t].value or 0.0) for r, p, t in model.ORDERS],
        columns=ORDER_COLUMNS,
    )
    orders["orders"] = orders["orders"].clip(lower=0.0)
    return PlanResult(
        status=status,
        objective=float(pyo.value(model.objective)),
        margin=float(pyo.value(model.MARGIN)),
        revenue=float(pyo.value(model.REV)),
        change_cost=float(pyo.value(model.change_penalty * model.CHANGE)),
        orders=orders,
        slacks=soft_slacks(*model_slacks(model)),
        binding=binding_constraints(model_duals(model, duals), params),
        **base,
    )


def model_slacks(model: pyo.ConcreteModel) -> tuple[dict[str, float], dict[str, float], float]:
    """The soft slacks' values: mix_short and mix_excess by product, and budget_excess."""
    return ({p: model.mix_short[p].value or 0.0 for p in model.MIN_MIX},
            {p: model.mix_excess[p].value or 0.0 for p in model.MAX_MIX},
            model.budget_excess.value or 0.0)


def model_duals(model: pyo.ConcreteModel, duals) -> dict[str, dict]:
    """Row duals by explained family and constraint index, from Pyomo's {constraint data: dual}."""
    families = dict(capacity=model.capacity, market=model.market, supply=model.supply_limit,
                    mix_min=model.mix_min, mix_max=model.mix_max, budget=model.budget)
    return {family: {index: duals.get(constraint[index]) for index in constraint}
            for family, constraint in families.items()}
