"""The plan LP's rows and columns as arrays: the one description the fast engines build from.

`optimizer/plan/lp.py` is the readable definition of the §4.1 LP. This module describes *the same
LP* — the same variables (orders, mix and budget slacks, change deviations), the same constraint
families (capacity, market, supply, mix_min, mix_max, budget, change), reach as column upper bounds,
the same objective — as index sets (`Structure`), a sparsity pattern with named column and row
blocks (`PlanLayout`) and the numbers for given parameters (`CanonicalLP`), all in one *canonical*
order: orders (r, p, t)-major, rows family by family, so that a what-if is a plain array diff.

The matrix handed to a solver is a permutation of it (`ORDERINGS`). The order does not change the
LP, but it changes HiGHS's time per simplex iteration by up to 2× (docs/performance.md), so the
default is the one that measured fastest. optimizer/plan/arrays.py builds its live HiGHS model from
this description.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from optimizer.parameters import Parameters
from optimizer.plan.results import InForce
from optimizer.solve import INF

# Constraint families in canonical row order; `change` rows are equalities.
FAMILIES = ("capacity", "market", "supply", "mix_min", "mix_max", "budget", "change")

# How the canonical LP is laid out for HiGHS. "natural": orders (r, p, t)-major, rows family by
# family — the order a reader would write. "period": columns and rows grouped period by period
# (orders (t, r, p), the period's change deviations after them; rows of period t together), the
# horizon-wide mix and budget rows and their slacks last: the matrix is then block-angular, one
# block per period, linked only by the horizon rows. Measured (docs/performance.md): on this LP the
# natural order was the fastest, so it is the default; the others stay for experiments.
ORDERINGS = ("natural", "period", "period_product")
DEFAULT_ORDERING = "natural"


# --------------------------------------------------------------------------------------------
# The LP in canonical order


@dataclass
class Structure:
    """What fixes the LP's shape: index sets that no assumption can change (only numbers can)."""

    n_reps: int
    n_products: int
    open_index: np.ndarray  # positions of the open periods in params.periods
    rp_rep: np.ndarray  # (n_rp,) rep of each (rep, product) pair the rep sells
    rp_product: np.ndarray  # (n_rp,)
    capacity_reps: np.ndarray  # reps with at least one product
    market_pairs: np.ndarray  # (n_mp, 2) (market, product) with at least one selling rep
    supply_products: np.ndarray  # products with a finite supply and at least one seller
    min_mix: np.ndarray  # products with min_share > 0
    max_mix: np.ndarray  # products with max_share < 1
    change_keys: list[tuple[str, str, str]]  # (rep, component, period) with T0 > 0, sorted

    @property
    def n_periods(self) -> int:
        return len(self.open_index)

    @property
    def n_orders(self) -> int:
        return len(self.rp_rep) * self.n_periods

    def same_as(self, other: "Structure") -> bool:
        arrays = ("open_index", "rp_rep", "rp_product", "capacity_reps", "market_pairs", "supply_products",
                  "min_mix", "max_mix")
        return (self.n_reps == other.n_reps and self.n_products == other.n_products
                and all(np.array_equal(getattr(self, a), getattr(other, a)) for a in arrays)
                and self.change_keys == other.change_keys)


def plan_structure(params: Parameters, in_force: InForce | None) -> Structure:
    """The index sets of §4.1: ORDERS = {(r,p,t): rep r sells p}, and which rows exist."""
    sells = params.sells
    rp_rep, rp_product = np.nonzero(sells)
    sold_in = np.zeros((len(params.markets), len(params.products)), dtype=bool)
    sold_in[params.rep_market[rp_rep], rp_product] = True
    open_set = set(params.open_periods)
    keys = sorted(k for k in in_force.targets if k[2] in open_set) if in_force else []
    return Structure(
        n_reps=len(params.reps), n_products=len(params.products), open_index=np.asarray(params.open_index),
        rp_rep=rp_rep, rp_product=rp_product,
        capacity_reps=np.nonzero(sells.any(axis=1))[0],
        market_pairs=np.argwhere(sold_in),
        supply_products=np.nonzero(np.isfinite(params.supply) & sells.any(axis=0))[0],
        min_mix=np.nonzero(params.min_share > 0)[0],
        max_mix=np.nonzero(params.max_share < 1)[0],
        change_keys=keys,
    )


@dataclass
class CanonicalLP:
    """The numbers of the LP in canonical order; the sparsity pattern lives in `PlanLayout`."""

    cost: np.ndarray  # objective coefficient per column (maximize)
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    coef: np.ndarray  # one value per (row, col) entry of the layout


@dataclass
class PlanLayout:
    """Sparsity pattern, column/row blocks and the permutation into the order HiGHS sees."""

    structure: Structure
    n_cols: int
    n_rows: int
    entry_row: np.ndarray  # canonical row of each entry
    entry_col: np.ndarray  # canonical column of each entry
    col_slices: dict[str, slice]  # "orders", "mix_short", "mix_excess", "budget_excess", "change_up", "change_down"
    row_slices: dict[str, slice]  # per family
    col_position: np.ndarray  # canonical column -> position in the HiGHS model
    row_position: np.ndarray  # canonical row -> position in the HiGHS model
    change_rep: np.ndarray  # rep of each change row
    change_period: np.ndarray  # open-period position of each change row
    change_component: list[str]  # component of each change row


def _count(slices: dict[str, slice], name: str, size: int, start: int) -> int:
    slices[name] = slice(start, start + size)
    return start + size


def plan_layout(structure: Structure, params: Parameters, in_force: InForce | None,
                ordering: str = DEFAULT_ORDERING) -> PlanLayout:
    """Sparsity pattern of the plan LP and the permutation that `ordering` asks for."""
    if ordering not in ORDERINGS:
        raise ValueError(f"unknown ordering {ordering!r}; choose one of {ORDERINGS}")
    s = structure
    n_rp, n_t = len(s.rp_rep), s.n_periods
    n_orders = s.n_orders
    # Canonical order index i = pair * n_t + t.
    o_pair = np.repeat(np.arange(n_rp), n_t)
    o_rep, o_product = s.rp_rep[o_pair], s.rp_product[o_pair]
    o_t = np.tile(np.arange(n_t), n_rp)
    orders = np.arange(n_orders)

    n_change = len(s.change_keys)
    cols: dict[str, slice] = {}
    end = _count(cols, "orders", n_orders, 0)
    end = _count(cols, "mix_short", len(s.min_mix), end)
    end = _count(cols, "mix_excess", len(s.max_mix), end)
    end = _count(cols, "budget_excess", 1, end)
    end = _count(cols, "change_up", n_change, end)
    n_cols = _count(cols, "change_down", n_change, end)

    rep_row = np.full(s.n_reps, -1)
    rep_row[s.capacity_reps] = np.arange(len(s.capacity_reps))
    n_markets = len(params.markets)
    pair_row = np.full((n_markets, s.n_products), -1)
    pair_row[s.market_pairs[:, 0], s.market_pairs[:, 1]] = np.arange(len(s.market_pairs))
    supply_row = np.full(s.n_products, -1)
    supply_row[s.supply_products] = np.arange(len(s.supply_products))

    rows: dict[str, slice] = {}
    end = _count(rows, "capacity", len(s.capacity_reps) * n_t, 0)
    end = _count(rows, "market", len(s.market_pairs) * n_t, end)
    end = _count(rows, "supply", len(s.supply_products) * n_t, end)
    end = _count(rows, "mix_min", len(s.min_mix), end)
    end = _count(rows, "mix_max", len(s.max_mix), end)
    end = _count(rows, "budget", 1, end)
    n_rows = _count(rows, "change", n_change, end)

    er, ec = [], []
    # capacity[r,t]: Σ_p h·o
    er.append(rows["capacity"].start + rep_row[o_rep] * n_t + o_t)
    ec.append(orders)
    # market[m,p,t]: Σ_{r in m} o
    er.append(rows["market"].start + pair_row[params.rep_market[o_rep], o_product] * n_t + o_t)
    ec.append(orders)
    # supply[p,t]: Σ_r o
    supplied = supply_row[o_product] >= 0
    er.append(rows["supply"].start + supply_row[o_product[supplied]] * n_t + o_t[supplied])
    ec.append(orders[supplied])
    # mix rows and budget: dense over all orders, plus their slack
    for family, slack in (("mix_min", "mix_short"), ("mix_max", "mix_excess"), ("budget", "budget_excess")):
        for j in range(rows[family].stop - rows[family].start):
            er.append(np.full(n_orders + 1, rows[family].start + j))
            ec.append(np.append(orders, cols[slack].start + j))
    # change[r,k,t]: metric_k(o[r,·,t]) − up + down = T0
    ri = {r: i for i, r in enumerate(params.reps)}
    ti = {params.periods[j]: i for i, j in enumerate(s.open_index)}
    change_rep = np.fromiter((ri[k[0]] for k in s.change_keys), dtype=np.int64, count=n_change)
    change_period = np.fromiter((ti[k[2]] for k in s.change_keys), dtype=np.int64, count=n_change)
    change_component = [k[1] for k in s.change_keys]
    if n_change:
        order_of = np.full((s.n_reps, s.n_products), -1)
        order_of[s.rp_rep, s.rp_product] = np.arange(n_rp) * n_t
        members = _component_members(params, in_force)
        component_of_row = np.array(change_component)
        for component, mask in members.items():
            row_ids = np.nonzero(component_of_row == component)[0]
            if not len(row_ids):
                continue
            sold = params.sells[change_rep[row_ids]] & mask[None, :]
            which, product = np.nonzero(sold)
            er.append(rows["change"].start + row_ids[which])
            ec.append(order_of[change_rep[row_ids[which]], product] + change_period[row_ids[which]])
        change = np.arange(rows["change"].start, rows["change"].stop)
        er += [change, change]
        ec += [np.arange(cols["change_up"].start, cols["change_up"].stop),
               np.arange(cols["change_down"].start, cols["change_down"].stop)]

    col_position, row_position = _permutation(ordering, s, cols, rows, o_rep, o_product, o_t, change_period)
    return PlanLayout(
        structure=s, n_cols=n_cols, n_rows=n_rows,
        entry_row=np.concatenate(er).astype(np.int64), entry_col=np.concatenate(ec).astype(np.int64),
        col_slices=cols, row_slices=rows, col_position=col_position, row_position=row_position,
        change_rep=change_rep, change_period=change_period, change_component=change_component,
    )


def _component_members(params: Parameters, in_force: InForce) -> dict[str, np.ndarray]:
    return {k: params.product_mask(products) for k, products in in_force.component_products.items()}


def _permutation(ordering, s, cols, rows, o_rep, o_product, o_t, change_period):
    """Positions in the HiGHS model of every canonical column and row."""
    n_cols, n_rows = cols["change_down"].stop, rows["change"].stop
    if ordering == "natural":
        return np.arange(n_cols), np.arange(n_rows)
    n_t = s.n_periods
    horizon = n_t  # a period key after every real period
    # Columns: key (period, block, a, b); lexsort takes the primary key last.
    col_t = np.full(n_cols, horizon)
    col_block = np.zeros(n_cols, dtype=np.int64)
    col_a = np.arange(n_cols)
    col_b = np.zeros(n_cols, dtype=np.int64)
    o = cols["orders"]
    col_t[o] = o_t
    if ordering == "period":
        col_a[o], col_b[o] = o_rep, o_product
    else:  # period_product
        col_a[o], col_b[o] = o_product, o_rep
    for name in ("change_up", "change_down"):
        c = cols[name]
        col_t[c] = change_period
        col_block[c] = 1
    col_order = np.lexsort((col_b, col_a, col_block, col_t))
    # Rows: (period, family, canonical index).
    row_t = np.full(n_rows, horizon)
    row_family = np.zeros(n_rows, dtype=np.int64)
    for rank, family in enumerate(FAMILIES):
        r = rows[family]
        row_family[r] = rank
        size = r.stop - r.start
        if family in ("capacity", "market", "supply") and size:
            row_t[r] = np.arange(size) % n_t
        elif family == "change":
            row_t[r] = change_period
    row_order = np.lexsort((np.arange(n_rows), row_family, row_t))
    col_position = np.empty(n_cols, dtype=np.int64)
    col_position[col_order] = np.arange(n_cols)
    row_position = np.empty(n_rows, dtype=np.int64)
    row_position[row_order] = np.arange(n_rows)
    return col_position, row_position


def plan_numbers(layout: PlanLayout, params: Parameters, in_force: InForce | None) -> CanonicalLP:
    """Costs, bounds and coefficients of the plan LP for these parameters, in canonical order."""
    s = layout.structure
    n_t, cols, rows = s.n_periods, layout.col_slices, layout.row_slices
    to = s.open_index
    pairs = (s.rp_rep, s.rp_product)
    # (pair, t) views of the (R, P, T) parameters over the open periods, flattened = canonical orders.
    h = params.hours_per_order()[pairs][:, to].ravel()
    v = params.price[params.rep_market[s.rp_rep], s.rp_product][:, to].ravel()
    g = (params.price - params.cost)[params.rep_market[s.rp_rep], s.rp_product][:, to].ravel()
    reach_cap = (params.reach[pairs][:, None] * params.potential[params.rep_market[s.rp_rep], s.rp_product][:, to])
    reach_cap = np.where(params.sells[pairs][:, None], reach_cap, 0.0).ravel()
    company = params.company

    cost = np.zeros(layout.n_cols)
    col_lower = np.zeros(layout.n_cols)
    col_upper = np.full(layout.n_cols, INF)
    cost[cols["orders"]] = g
    col_upper[cols["orders"]] = reach_cap
    for slack in ("mix_short", "mix_excess", "budget_excess"):
        cost[cols[slack]] = -company.soft_penalty

    row_lower = np.full(layout.n_rows, -INF)
    row_upper = np.zeros(layout.n_rows)
    row_upper[rows["capacity"]] = params.hours_available[s.capacity_reps][:, to].ravel()
    row_upper[rows["market"]] = params.potential[s.market_pairs[:, 0], s.market_pairs[:, 1]][:, to].ravel()
    row_upper[rows["supply"]] = np.repeat(params.supply[s.supply_products], n_t)
    row_upper[rows["budget"]] = -params.pay_at_target()

    coef_parts = [h, np.ones(len(h))]
    supplied = np.isin(np.repeat(s.rp_product, n_t), s.supply_products)
    coef_parts.append(np.ones(int(supplied.sum())))
    o_product = np.repeat(s.rp_product, n_t)
    for p in s.min_mix:  # min_share·REV − revenue of p − mix_short ≤ 0
        coef_parts.append(np.append(v * (params.min_share[p] - (o_product == p)), -1.0))
    for p in s.max_mix:  # revenue of p − max_share·REV − mix_excess ≤ 0
        coef_parts.append(np.append(v * ((o_product == p) - params.max_share[p]), -1.0))
    coef_parts.append(np.append(-company.comp_budget_rate * v, -1.0))  # −rate·REV − excess ≤ −pay

    n_change = len(s.change_keys)
    if n_change:
        targets = np.fromiter((in_force.targets[k] for k in s.change_keys), dtype=float, count=n_change)
        row_lower[rows["change"]] = targets
        row_upper[rows["change"]] = targets
        weights = np.array([in_force.weights[k] for k in layout.change_component])
        per_unit = -company.change_penalty * params.target_variable_pay[layout.change_rep] * weights / targets
        cost[cols["change_up"]] = per_unit
        cost[cols["change_down"]] = per_unit
        component_of_row = np.array(layout.change_component)
        metric_coef = {}
        for component, mask in _component_members(params, in_force).items():
            row_ids = np.nonzero(component_of_row == component)[0]
            if not len(row_ids):
                continue
            metric = in_force.component_metric[component]
            if metric not in metric_coef:
                metric_coef[metric] = params.metric_coefficient(metric)[:, :, to]  # (M, P, T')
            sold = params.sells[layout.change_rep[row_ids]] & mask[None, :]
            which, product = np.nonzero(sold)
            rep = layout.change_rep[row_ids[which]]
            coef_parts.append(metric_coef[metric][params.rep_market[rep], product, layout.change_period[row_ids[which]]])
        coef_parts += [np.full(n_change, -1.0), np.full(n_change, 1.0)]
    return CanonicalLP(cost=cost, col_lower=col_lower, col_upper=col_upper, row_lower=row_lower,
                       row_upper=row_upper, coef=np.concatenate(coef_parts))


def positioned_matrix(layout: PlanLayout, coef: np.ndarray) -> sp.csc_matrix:
    """The constraint matrix in HiGHS's column/row order (explicit zeros dropped)."""
    keep = coef != 0
    matrix = sp.csc_matrix(
        (coef[keep], (layout.row_position[layout.entry_row[keep]], layout.col_position[layout.entry_col[keep]])),
        shape=(layout.n_rows, layout.n_cols),
    )
    matrix.sum_duplicates()
    return matrix


def positioned(values: np.ndarray, position: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    out[position] = values
    return out

