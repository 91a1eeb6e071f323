"""Effective parameters (DESIGN.md §3): the dataset's numbers after the market assumptions.

Everything the optimizer needs is turned into dense numpy arrays indexed by position — markets m,
products p, reps r, periods t (all periods of the year; `open_index` selects the ones a plan may
still change). Dense arrays keep the large-company path vectorised: at 2,000 reps × 50 products ×
12 periods an (r, p, t) array is 1.2 M floats. The Pyomo model and the array-built solver model
both read from here, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.assumptions import AssumptionSet, period_scope, product_scope
from models.dataset import Company, Dataset



@dataclass
class Parameters:
    """Effective parameters of one dataset under one assumption set (arrays by position)."""

    company: Company
    reps: list[str]
    products: list[str]
    markets: list[str]
    periods: list[str]
    open_index: np.ndarray  # positions of the open periods in `periods`
    rep_market: np.ndarray  # (R,) market position of each rep
    price: np.ndarray  # v (M, P, T)
    cost: np.ndarray  # (M, P, T)
    potential: np.ndarray  # D (M, P, T)
    call_to_meeting: np.ndarray  # cm (M, P, T)
    meeting_to_quote: np.ndarray  # mq (M, P, T)
    quote_to_order: np.ndarray  # qo (M, P, T)
    hours_available: np.ndarray  # H (R, T)
    skill: np.ndarray  # (R, P)
    comfort: np.ndarray  # (R, P)
    reach: np.ndarray  # max_share[r, p] (R, P)
    sells: np.ndarray  # (R, P) bool: the rep has a rep_products row for the product
    target_variable_pay: np.ndarray  # (R,)
    base_pay: np.ndarray  # (R,)
    supply: np.ndarray  # (P,) inf where not given
    min_share: np.ndarray  # (P,)
    max_share: np.ndarray  # (P,)
    groups: list[str]  # (P,) group of each product

    @property
    def margin(self) -> np.ndarray:
        """g = v − cost, (M, P, T)."""
        return self.price - self.cost

    @property
    def open_periods(self) -> list[str]:
        return [self.periods[i] for i in self.open_index]

    def hours_per_order(self) -> np.ndarray:
        """h[r, p, t] = (hpc/(cm·mq·qo) + hpm/(mq·qo) + hpq/qo + hpo) / skill[r, p], (R, P, T)."""
        c = self.company
        qo, mq, cm = self.quote_to_order, self.meeting_to_quote, self.call_to_meeting
        per_market = (
            c.hours_per_call / (cm * mq * qo) + c.hours_per_meeting / (mq * qo) + c.hours_per_quote / qo
            + c.hours_per_order
        )
        return per_market[self.rep_market] / self.skill[:, :, None]

    def felt_effort(self) -> np.ndarray:
        """e[r,p,t] = effort_aversion·(comfort[r,p] − 1)·h[r,p,t]: what an order feels like it costs (§4.5)."""
        return self.company.effort_aversion * (self.comfort[:, :, None] - 1.0) * self.hours_per_order()

    def metric_coefficient(self, metric: str) -> np.ndarray:
        """How much one order adds to a metric (§4.3), per market, product, period (M, P, T)."""
        qo, mq, cm = self.quote_to_order, self.meeting_to_quote, self.call_to_meeting
        if metric == "revenue":
            return self.price
        if metric == "margin":
            return self.margin
        if metric == "orders":
            return np.ones_like(self.price)
        if metric == "quotes":
            return 1.0 / qo
        if metric == "meetings":
            return 1.0 / (mq * qo)
        if metric == "calls":
            return 1.0 / (cm * mq * qo)
        raise ValueError(f"unknown metric {metric!r}")

    def product_mask(self, products) -> np.ndarray:
        """(P,) True for the given product ids; ids this dataset does not have are ignored."""
        wanted = set(products)
        return np.array([p in wanted for p in self.products], dtype=bool)

    def rep_view(self, array_mpt: np.ndarray) -> np.ndarray:
        """An (M, P, T) array seen from each rep's market: (R, P, T)."""
        return array_mpt[self.rep_market]

    def pay_at_target(self) -> float:
        """Σ_{r,t} target_variable_pay[r] over the open periods: the variable pay if every rep hits every target."""
        return float(self.target_variable_pay.sum()) * len(self.open_index)

    def order_cap(self) -> np.ndarray:
        """Reach: max_share[r, p] · D[m(r), p, t], zero where the rep does not sell p. (R, P, T)."""
        return np.where(self.sells[:, :, None], self.reach[:, :, None] * self.potential[self.rep_market], 0.0)


def _index(labels: list[str]) -> dict[str, int]:
    return {label: i for i, label in enumerate(labels)}


def effective_parameters(dataset: Dataset, assumptions: AssumptionSet | None = None) -> Parameters:
    """Build the §3 parameters of a dataset and apply an assumption set's adjustments in order."""
    company = dataset.company
    reps, products, markets = dataset.rep_ids, dataset.product_ids, dataset.market_ids
    periods = list(company.periods)
    ri, pi, mi, ti = _index(reps), _index(products), _index(markets), _index(periods)
    R, P, M, T = len(reps), len(products), len(markets), len(periods)

    prod = dataset.products
    price = np.broadcast_to(prod["unit_price"].to_numpy(float)[None, :, None], (M, P, T)).copy()
    cost = np.broadcast_to(prod["unit_cost"].to_numpy(float)[None, :, None], (M, P, T)).copy()

    potential = np.zeros((M, P, T))
    d = dataset.demand
    potential[
        d["market_id"].map(mi).to_numpy(), d["product_id"].map(pi).to_numpy(), d["period"].map(ti).to_numpy()
    ] = d["potential_orders"].to_numpy(float)

    rates = {}
    f = dataset.funnel
    fm, fp = f["market_id"].map(mi).to_numpy(), f["product_id"].map(pi).to_numpy()
    for col in ("call_to_meeting", "meeting_to_quote", "quote_to_order"):
        grid = np.ones((M, P))
        grid[fm, fp] = f[col].to_numpy(float)
        rates[col] = np.repeat(grid[:, :, None], T, axis=2)

    rp = dataset.rep_products
    rr, rpp = rp["rep_id"].map(ri).to_numpy(), rp["product_id"].map(pi).to_numpy()
    skill, comfort, reach = np.ones((R, P)), np.ones((R, P)), np.zeros((R, P))
    sells = np.zeros((R, P), dtype=bool)
    skill[rr, rpp] = rp["skill"].to_numpy(float)
    comfort[rr, rpp] = rp["comfort"].to_numpy(float)
    reach[rr, rpp] = rp["max_share"].to_numpy(float)
    sells[rr, rpp] = True

    rep_frame = dataset.reps
    rep_market = rep_frame["market_id"].map(mi).to_numpy()
    hours = np.repeat(rep_frame["hours_per_period"].to_numpy(float)[:, None], T, axis=1)

    params = Parameters(
        company=company, reps=reps, products=products, markets=markets, periods=periods,
        open_index=np.array([ti[p] for p in company.open_periods], dtype=int),
        rep_market=rep_market, price=price, cost=cost, potential=potential,
        call_to_meeting=rates["call_to_meeting"], meeting_to_quote=rates["meeting_to_quote"],
        quote_to_order=rates["quote_to_order"], hours_available=hours, skill=skill, comfort=comfort,
        reach=reach, sells=sells,
        target_variable_pay=rep_frame["target_variable_pay"].to_numpy(float),
        base_pay=rep_frame["base_pay"].to_numpy(float),
        supply=prod["supply_per_period"].to_numpy(float),
        min_share=prod["min_share"].to_numpy(float), max_share=prod["max_share"].to_numpy(float),
        groups=list(prod["group"]),
    )
    if assumptions is not None:
        apply_assumptions(params, dataset, assumptions)
    return params


def apply_assumptions(params: Parameters, dataset: Dataset, assumptions: AssumptionSet) -> None:
    """Multiply the parameters in each adjustment's scope by its factors, in order (in place)."""
    mi, pi, ti, ri = (_index(x) for x in (params.markets, params.products, params.periods, params.reps))
    for adj in assumptions.adjustments:
        m_mask = np.zeros(len(params.markets), bool)
        m_mask[[mi[m] for m in (adj.markets or params.markets)]] = True
        p_mask = np.zeros(len(params.products), bool)
        p_mask[[pi[p] for p in product_scope(adj, dataset)]] = True
        t_mask = np.zeros(len(params.periods), bool)
        t_mask[[ti[t] for t in period_scope(adj, params.periods)]] = True
        mpt = m_mask[:, None, None] & p_mask[None, :, None] & t_mask[None, None, :]
        params.potential[mpt] *= adj.demand
        params.price[mpt] *= adj.price
        params.cost[mpt] *= adj.cost
        if adj.conversion != 1.0:
            for rates in (params.call_to_meeting, params.meeting_to_quote, params.quote_to_order):
                rates[mpt] = np.minimum(rates[mpt] * adj.conversion, 1.0)
        if adj.hours != 1.0:
            r_mask = np.zeros(len(params.reps), bool)
            r_mask[[ri[r] for r in (adj.reps or params.reps)]] = True
            r_mask &= m_mask[params.rep_market]
            params.hours_available[r_mask[:, None] & t_mask[None, :]] *= adj.hours
