"""Comfort from the mix the reps chose: inverse optimization of the rep's own problem (DESIGN.md §4.5, §4.11).

Each rep solved, every month, max pay(o) − Σ_p κ[p]·h[p]·o[p] within their hours and reach, where
κ[r,p] = effort_aversion·(comfort[r,p] − 1) is the felt cost of an hour on product p. Only κ is
identified by choices (effort_aversion and comfort enter as their product), so comfort is reported
at the dataset's effort_aversion. The steps, all on arrays:

1. **Undo the market scaling.** Where a market's reps together wanted more than its potential,
   the judge scaled them down pro rata; the history shows the scaled orders. Per saturated market ×
   product and month, the reps at their cap all sold factor × reach, so the mean of orders ÷ reach
   over the reps near the month's largest gives the factor's pattern over the months; its level is
   the one constant per market × product that
   best explains the reps' unused hours (an L1 fit over all reps and months: a rep whose hours did
   not bind is an outlier, not a bias).
2. **Read the structure.** A product a rep sold at ≥ CAP_SHARE of their reach in the median month
   is at its cap in the months it was sold; a rep using ≥ HOURS_SHARE of their hours in the median
   month used all of them (the interior products absorb the difference). Noise moves amounts, not
   which constraint binds, and the medians over months read the latter.
3. **Inverse LP per rep** (the duality gap of the rep's LP, after Ahuja & Orlin 2001): with the
   payout curve replaced by its concave envelope from the convex kink below the rep's attainment,
   the observed orders are optimal for κ iff some dual (λ hours, μ reach, y per curve segment)
   closes the gap H·λ + U·μ + β·y − pay(o) + Σ κ·h·o ≥ 0. A product not sold must be worse than the
   margin λ by EPSILON (in pay at target per hour), one at its cap better by EPSILON, so that the
   judge's tie-break cannot flip the estimate; a month's gap up to GAP_TOLERANCE of its hours is
   free (noise makes the observed mix only nearly optimal). Minimizing Σ_months excess gap +
   RHO·|κ − prior| gives the κ consistent with the history that is closest to the prior (the
   dataset's comfort): a parameter the history does not constrain keeps its prior, one it does
   moves exactly as far as the history demands. The same model re-solved with a prior of 0
   (comfort 1) and of BIG gives each parameter's range: the consistent set's extent both ways.
4. **Polish with the judge.** The envelope is an approximation where the curve is not concave, so
   the exact §4.5 simulation of the history months (before market scaling) checks each rep × product
   against the structured orders; one the model sells too much of gets more felt cost, one it sells
   too little of less (bisection within brackets), for POLISH_ROUNDS rounds, re-simulating only the
   reps that moved.

The inverse LPs of BATCH_REPS reps are solved as one block-diagonal HiGHS model, batches through
the executor; the polish's simulations go through it too.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from optimizer.alignment.payout import Curve
from optimizer.alignment.response import ResponseData, response_data, scale_to_markets, simulate_orders
from optimizer.calibration.observed import Observed, with_periods_open
from optimizer.executor import Executor, SerialExecutor
from optimizer.parameters import Parameters
from optimizer.solve import INF, OPTIMAL, highs_status, new_highs, pass_matrix

logger = logging.getLogger(__name__)

TOP_BAND = 0.85  # reps within this share of a month's largest orders ÷ reach read the market factor
SATURATED_SHARE = 0.9  # a market × product × month whose reps sold ≥ this share of its potential was (maybe) scaled
CAP_SHARE = 0.9  # median share of reach at or above which a product is at its cap
HOURS_SHARE = 0.95  # median share of hours at or above which a rep's hours bind
EPSILON = 0.02  # strict margin of the revealed preferences, in pay at target per selling hour
RHO = 1e-3  # weight of |κ − prior| (pay per hour) against the duality gap (hours × pay per hour)
GAP_TOLERANCE = 0.02  # a month's duality gap up to this share of the rep's hours (× pay per hour) is free: noise
BIG = 10.0  # the prior that finds each κ's upper end, in pay at target per hour; reaching it means unbounded
BATCH_REPS = 10  # reps per inverse-LP model (one executor task): 2.5 s per 100 reps against 3.5 s at 50 (1000 × 50 × 12)
POLISH_ROUNDS = 2
POLISH_TOLERANCE = 0.1  # a rep × product whose simulated orders differ from the history by more is polished
POLISH_STEP = 0.25  # first step up for an unbounded κ, in pay at target per hour

IDENTIFIED, INTERVAL, LOWER, UPPER, NOT_IDENTIFIED = (
    "identified", "interval", "lower bound", "upper bound", "not identified")
TIGHT = 0.05  # an interval narrower than this (pay at target per hour) counts as identified


@dataclass
class HistoryProblem:
    """The reps' problem data in every month of the history, components padded to the largest plan."""

    data: list[ResponseData]  # per span, over its months (for the judge)
    months: list[np.ndarray]  # per span: its months' positions in the history
    hours: np.ndarray  # H (R, T)
    hours_per_order: np.ndarray  # h (R, P, T)
    cap: np.ndarray  # reach (R, P, T)
    pay_weight: np.ndarray  # tvp·ω/W (R, K, T)
    attainment_per_order: np.ndarray  # (R, K, P, T)
    curves: list[Curve]  # per span
    span_of: np.ndarray  # (T,)


def history_problem(params: Parameters, observed: Observed) -> HistoryProblem:
    """The §4.5 arrays of every history month under the plan then in force."""
    data, months = [], []
    for s, span in enumerate(observed.spans):
        where = np.flatnonzero(observed.span_of == s)
        data.append(response_data(with_periods_open(params, observed.index[where]), span.plan))
        months.append(where)
    R, P, T = observed.orders.shape
    K = max(d.pay_weight.shape[1] for d in data)
    out = {"hours": np.zeros((R, T)), "hours_per_order": np.zeros((R, P, T)), "cap": np.zeros((R, P, T)),
           "pay_weight": np.zeros((R, K, T)), "attainment_per_order": np.zeros((R, K, P, T))}
    for d, where in zip(data, months):
        k = d.pay_weight.shape[1]
        out["hours"][:, where] = d.hours
        out["hours_per_order"][:, :, where] = d.hours_per_order
        out["cap"][:, :, where] = d.cap
        out["pay_weight"][:, :k, where] = d.pay_weight
        out["attainment_per_order"][:, :k, :, where] = d.attainment_per_order
    return HistoryProblem(data=data, months=months, curves=[d.curve for d in data], span_of=observed.span_of, **out)


# --------------------------------------------------------------------------------------------
# 1. Undo the market scaling


def chosen_orders(params: Parameters, observed: Observed, problem: HistoryProblem) -> tuple[np.ndarray, np.ndarray]:
    """The orders the reps chose before the pro-rata market scaling, and the factors (M, P, T)."""
    orders = observed.orders
    potential = params.potential[:, :, observed.index]
    M, P, T = potential.shape
    sold = np.zeros((M, P, T))
    np.add.at(sold, params.rep_market, orders)
    saturated = (potential > 0) & (sold >= SATURATED_SHARE * potential)
    pattern = np.ones((M, P, T))
    for m, p in zip(*np.nonzero(saturated.any(axis=2))):
        reps = np.flatnonzero(params.rep_market == m)
        months = np.flatnonzero(saturated[m, p])
        ratio = orders[reps][:, p][:, months] / np.maximum(problem.cap[reps][:, p][:, months], 1e-12)
        pattern[m, p, months] = _time_pattern(ratio)
    factor = np.ones((M, P, T))
    hours_used = (problem.hours_per_order * orders).sum(axis=1)
    for m in np.flatnonzero(saturated.any(axis=(1, 2))):
        reps = np.flatnonzero(params.rep_market == m)
        products = np.flatnonzero(saturated[m].any(axis=1))
        level = _scaling_level(reps, products, saturated[m], pattern[m], orders, problem, hours_used)
        for i, p in enumerate(products):
            months = saturated[m, p]
            factor[m, p, months] = np.minimum(pattern[m, p, months] / level[i], 1.0)
    return orders / factor[params.rep_market], factor


def _time_pattern(ratio: np.ndarray) -> np.ndarray:
    """The factor's pattern over the months: per month, the mean of the reps' orders ÷ reach within
    TOP_BAND of the month's largest (the reps at their cap all show the factor itself), ÷ its maximum."""
    top = ratio.max(axis=0)
    near = (ratio >= TOP_BAND * top[None, :]) & (ratio > 0)
    pattern = np.where(near, ratio, 0.0).sum(axis=0) / np.maximum(near.sum(axis=0), 1)
    return pattern / pattern.max() if pattern.max() > 0 else np.ones(ratio.shape[1])


class _quiet:
    """numpy's "mean of empty slice" warnings are expected for months without a sale."""

    def __enter__(self):
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._catch.__exit__(*exc)


def _scaling_level(reps, products, saturated, pattern, orders, problem: HistoryProblem, hours_used) -> np.ndarray:
    """z[p] with 1/f[p,t] = z[p]/pattern[p,t]: min Σ_{r,t} |unused hours − Σ_p h·o·(z/pattern − 1)|, z ≥ max pattern."""
    h = problem.hours_per_order[reps][:, products]  # (n, S, T)
    o = orders[reps][:, products]
    on = saturated[products][None, :, :]
    X = np.where(on, h * o / pattern[products][None, :, :], 0.0)  # (n, S, T)
    unused = problem.hours[reps] - hours_used[reps] + np.where(on, h * o, 0.0).sum(axis=1)  # (n, T)
    X = np.moveaxis(X, 1, 2).reshape(-1, len(products))
    b = unused.reshape(-1)
    keep = X.sum(axis=1) > 0
    X, b = X[keep], b[keep]
    lower = np.maximum(pattern[products].max(axis=1), 1.0)
    if len(b) == 0:
        return lower
    n, s = X.shape
    cost = np.concatenate([np.zeros(s), np.ones(2 * n)])
    matrix = sp.hstack([sp.csr_matrix(X), sp.eye(n), -sp.eye(n)]).tocsr()
    bounds = [(lo, None) for lo in lower] + [(0, None)] * (2 * n)
    result = linprog(cost, A_eq=matrix, b_eq=b, bounds=bounds, method="highs")
    if result.status != 0:  # cannot happen for this always-feasible L1 fit; keep the history unscaled
        logger.warning("market scaling level: %s; taking the orders as chosen", result.message)
        return np.full(s, np.inf)
    return np.asarray(result.x[:s])


# --------------------------------------------------------------------------------------------
# 2. Read the structure


def structured_orders(problem: HistoryProblem, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Orders with their binding constraints read from the medians over months: (orders, at_cap)."""
    cap, h, hours = problem.cap, problem.hours_per_order, problem.hours
    sold = (chosen > 0) & (cap > 0)
    share = np.where(sold, chosen / np.where(cap > 0, cap, 1.0), np.nan)
    with _quiet():
        median_share = np.nan_to_num(np.nanmedian(share, axis=2))
    at_cap = (median_share >= CAP_SHARE)[:, :, None] & sold
    orders = np.where(at_cap, cap, np.minimum(np.where(sold, chosen, 0.0), cap))
    used = (h * orders).sum(axis=1)
    binding = (np.median(used / np.maximum(hours, 1e-12), axis=1) >= HOURS_SHARE)[:, None] | (used > hours)
    interior = sold & ~at_cap
    interior_hours = (h * orders * interior).sum(axis=1)
    room = hours - (h * orders * at_cap).sum(axis=1)
    scale = np.where(binding & (interior_hours > 0), np.maximum(room, 0.0) / np.maximum(interior_hours, 1e-12), 1.0)
    orders = np.minimum(np.where(interior, orders * scale[:, None, :], orders), cap)
    used = (h * orders).sum(axis=1)
    over = used > hours  # capped products alone exceed the hours: shrink everything to fit
    orders = np.where(over[:, None, :], orders * (hours / np.maximum(used, 1e-12))[:, None, :], orders)
    return orders, at_cap & (orders >= cap - 1e-12)


# --------------------------------------------------------------------------------------------
# 3. The inverse LP


def local_envelopes(curve: Curve, attainment: np.ndarray, segments: int) -> tuple[np.ndarray, np.ndarray]:
    """(α, β) of f's concave envelope from the convex kink at or below each attainment, flat tail last,
    padded to `segments` lines: min_j α_j·a + β_j is that envelope. Shapes attainment.shape + (segments,)."""
    x, y = curve.x, curve.y
    starts = [0.0] + convex_kinks(curve)
    lines = {s: _hull_lines(x[x >= s - 1e-12], y[x >= s - 1e-12]) for s in starts}
    alpha = np.zeros(attainment.shape + (segments,))
    beta = np.zeros(attainment.shape + (segments,))
    start = np.zeros(attainment.shape)
    for s in starts:
        start = np.where(attainment >= s - 1e-9, s, start)
    for s, (a, b) in lines.items():
        at = start == s
        a = a + [a[-1]] * (segments - len(a))
        b = b + [b[-1]] * (segments - len(b))
        alpha[at] = a
        beta[at] = b
    return alpha, beta


def convex_kinks(curve: Curve) -> list[float]:
    slopes = np.append(np.diff(curve.y) / np.diff(curve.x), 0.0)
    return [float(curve.x[i]) for i in range(1, len(curve.x)) if slopes[i] > slopes[i - 1] + 1e-12]


def envelope_segments(curve: Curve) -> int:
    x, y = curve.x, curve.y
    return max(len(_hull_lines(x[x >= s - 1e-12], y[x >= s - 1e-12])[0]) for s in [0.0] + convex_kinks(curve))


def _hull_lines(x: np.ndarray, y: np.ndarray) -> tuple[list[float], list[float]]:
    """Slopes and intercepts of the upper concave hull of the points up to the highest, then flat."""
    hull: list[tuple[float, float]] = []
    for point in zip(x.tolist(), y.tolist()):
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (y2 - y1) * (point[0] - x1) <= (point[1] - y1) * (x2 - x1):
                hull.pop()
            else:
                break
        hull.append(point)
    top = max(p[1] for p in hull)
    hull = hull[:next(i for i, p in enumerate(hull) if p[1] == top) + 1]
    slopes, intercepts = [], []
    for (x1, y1), (x2, y2) in zip(hull[:-1], hull[1:]):
        slope = (y2 - y1) / (x2 - x1)
        slopes.append(slope)
        intercepts.append(y1 - slope * x1)
    return slopes + [0.0], intercepts + [top]


@dataclass
class InverseTask:
    """The inverse LPs of a batch of reps (B), in pay-at-target-per-hour units, and the priors to project."""

    hours: np.ndarray  # effective H (B, T): the hours used where they bind
    h: np.ndarray  # (B, P, T)
    cap: np.ndarray  # effective reach (B, P, T): the orders where at cap
    orders: np.ndarray  # structured orders (B, P, T)
    at_cap: np.ndarray  # (B, P, T)
    weight: np.ndarray  # pay weight ÷ scale (B, K, T)
    attainment: np.ndarray  # (B, K, P, T)
    alpha: np.ndarray  # (B, K, T, J)
    beta: np.ndarray  # (B, K, T, J)
    pay: np.ndarray  # Σ_k weight·envelope(attainment) per (B, T): the observed orders' pay in the same units
    priors: list[np.ndarray]  # each (B, P)
    tolerance: float = GAP_TOLERANCE


def solve_inverse(task: InverseTask) -> np.ndarray:
    """κ (pay at target per hour) closest to each prior among those the history is consistent with,
    (len(priors), B, P): one block-diagonal model, re-solved warm for each prior."""
    B, P, T = task.orders.shape
    K, J = task.weight.shape[1], task.alpha.shape[3]
    n = 3 * P + 2 * T + P * T + K * J * T
    base = (np.arange(B) * n)[:, None]
    kappa = base + np.arange(P)[None, :]  # (B, P)
    d_plus, d_minus = kappa + P, kappa + 2 * P
    lam = base + 3 * P + np.arange(T)[None, :]  # (B, T)
    mu = (base[:, :, None] + 3 * P + T + np.arange(P)[None, :, None] * T + np.arange(T)[None, None, :])  # (B, P, T)
    y = (base.reshape(B, 1, 1, 1) + 3 * P + T + P * T
         + (np.arange(K)[None, :, None, None] * J + np.arange(J)[None, None, :, None]) * T
         + np.arange(T)[None, None, None, :])  # (B, K, J, T)
    excess = base + 3 * P + T + P * T + K * J * T + np.arange(T)[None, :]  # (B, T): the gap beyond the tolerance
    cost = np.zeros(B * n)
    lower = np.zeros(B * n)
    upper = np.full(B * n, INF)
    cost[d_plus] = cost[d_minus] = RHO
    cost[excess] = 1.0
    sellable = task.cap > 0
    unsold = sellable & (task.orders <= 0)
    upper[mu[~sellable | unsold]] = 0.0
    lower[mu[task.at_cap]] = (EPSILON * task.h)[task.at_cap]
    upper[y[np.broadcast_to((task.weight <= 0)[:, :, None, :], y.shape)]] = 0.0
    # (A) λ·h + μ + κ·h − Σ_kj α·a·y ≥ 0, or ≥ ε·h for a product not sold
    b, p, t = np.nonzero(sellable)
    rows_a = np.arange(len(b))
    r_list, c_list, v_list = [rows_a, rows_a, rows_a], [lam[b, t], mu[b, p, t], kappa[b, p]], [task.h[b, p, t], np.ones(len(b)), task.h[b, p, t]]
    for k in range(K):
        for j in range(J):
            value = -task.alpha[b, k, t, j] * task.attainment[b, k, p, t]
            nz = (value != 0) & (task.weight[b, k, t] > 0)
            r_list.append(rows_a[nz]); c_list.append(y[b[nz], k, j, t[nz]]); v_list.append(value[nz])
    row_lower = [np.where(unsold[b, p, t], EPSILON * task.h[b, p, t], 0.0)]
    row_upper = [np.full(len(b), INF)]
    at = len(b)
    # (B) Σ_j y = weight per (b, k, t)
    bk = np.arange(B * K * T)
    rb, rk, rt = np.unravel_index(bk, (B, K, T))
    for j in range(J):
        r_list.append(at + bk); c_list.append(y[rb, rk, j, rt]); v_list.append(np.ones(len(bk)))
    row_lower.append(task.weight[rb, rk, rt]); row_upper.append(task.weight[rb, rk, rt])
    at += len(bk)
    # (D) the gap per (b, t): H·λ + Σ_p U·μ + Σ_kj β·y + Σ_p h·o·κ − excess ≤ pay + tolerance·H
    gap_rows = at + np.arange(B * T).reshape(B, T)
    r_list += [gap_rows.reshape(-1), gap_rows.reshape(-1)]
    c_list += [lam.reshape(-1), excess.reshape(-1)]
    v_list += [task.hours.reshape(-1), np.full(B * T, -1.0)]
    bb, pp, tt = np.nonzero(sellable)
    r_list.append(gap_rows[bb, tt]); c_list.append(mu[bb, pp, tt]); v_list.append(task.cap[bb, pp, tt])
    bb, pp, tt = np.nonzero(task.orders > 0)
    r_list.append(gap_rows[bb, tt]); c_list.append(kappa[bb, pp]); v_list.append((task.h * task.orders)[bb, pp, tt])
    yb, yk, yj, yt = np.nonzero(np.broadcast_to((task.weight > 0)[:, :, None, :], y.shape))
    r_list.append(gap_rows[yb, yt]); c_list.append(y[yb, yk, yj, yt]); v_list.append(task.beta[yb, yk, yt, yj])
    row_lower.append(np.full(B * T, -INF))
    row_upper.append((task.pay + task.tolerance * task.hours).reshape(-1))
    at += B * T
    # (C) κ − d⁺ + d⁻ = prior per (b, p)
    prior_rows = at + np.arange(B * P)
    for cols, sign in ((kappa, 1.0), (d_plus, -1.0), (d_minus, 1.0)):
        r_list.append(prior_rows); c_list.append(cols.reshape(-1)); v_list.append(np.full(B * P, sign))
    row_lower.append(task.priors[0].reshape(-1)); row_upper.append(task.priors[0].reshape(-1))
    n_rows = at + B * P
    matrix = sp.csc_matrix((np.concatenate(v_list), (np.concatenate(r_list), np.concatenate(c_list))),
                           shape=(n_rows, B * n))
    highs = _inverse_model(matrix, cost, lower, upper, np.concatenate(row_lower), np.concatenate(row_upper))
    out = np.zeros((len(task.priors), B, P))
    for i, prior in enumerate(task.priors):
        if i > 0:
            values = prior.reshape(-1).astype(float)
            highs.changeRowsBounds(len(prior_rows), prior_rows.astype(np.int32), values, values)
        highs.run()
        if highs_status(highs) != OPTIMAL:
            raise RuntimeError(f"inverse LP ended with {highs.modelStatusToString(highs.getModelStatus())}")
        solution = np.asarray(highs.getSolution().col_value)
        out[i] = np.maximum(solution[kappa], 0.0)
    return out


def _inverse_model(matrix: sp.csc_matrix, cost, lower, upper, row_lower, row_upper):
    """The minimization handed to HiGHS as the maximization of −cost (the one set-up in optimizer.solve)."""
    highs = new_highs()
    pass_matrix(highs, matrix, -np.asarray(cost), lower, upper, row_lower, row_upper)
    return highs


# --------------------------------------------------------------------------------------------
# The estimate


@dataclass
class ComfortEstimate:
    """κ per rep × product in money per hour, its range, its status, the fit."""

    kappa: np.ndarray  # (R, P)
    low: np.ndarray  # (R, P)
    high: np.ndarray  # (R, P), inf where unbounded
    status: np.ndarray  # (R, P)
    sold_months: np.ndarray  # (R, P)
    in_sample_wape: float | None  # the judge's orders against the history's, after the polish (None: not simulated)
    polish_rounds: int
    market_factor: np.ndarray  # (M, P, T) the pro-rata factors read from the history (1 = not scaled)


def estimate_comfort(params: Parameters, observed: Observed, *, prior_kappa: np.ndarray,
                     executor: Executor | None = None, polish_rounds: int = POLISH_ROUNDS,
                     tolerance: float = GAP_TOLERANCE) -> ComfortEstimate:
    """The four steps of the module docstring. `params` carry the calibrated funnel and skill;
    `prior_kappa` (R, P) is the dataset's felt cost per hour."""
    run = executor or SerialExecutor()
    problem = history_problem(params, observed)
    R, P, T = observed.orders.shape
    scale = params.target_variable_pay / np.maximum(problem.hours.mean(axis=1), 1e-12)  # pay at target per hour
    scale = np.where(scale > 0, scale, 1.0)
    started = time.perf_counter()
    chosen, factor = chosen_orders(params, observed, problem)
    orders, at_cap = structured_orders(problem, chosen)
    logger.info("comfort: market scaling and structure in %.1f s", time.perf_counter() - started)
    tasks = inverse_tasks(problem, orders, at_cap, scale, tolerance)
    prior = prior_kappa / scale[:, None]
    batches = _batches(R)
    # the estimate is the projection of the prior; with comfort 1 everywhere that is the range's lower end
    priors = [np.zeros((R, P)), np.full((R, P), BIG)] + ([prior] if np.any(prior > 0) else [])
    passes = run.map(solve_inverse, [replace(task, priors=[p[rows] for p in priors])
                                     for task, rows in zip(tasks, batches)])
    solved = [np.concatenate([result[i] for result in passes]) if passes else np.zeros((R, P))
              for i in range(len(priors))]
    low, high = solved[0], solved[1]
    kappa = solved[2] if len(priors) == 3 else solved[0].copy()
    high = np.where(high >= BIG * (1 - 1e-6), np.inf, high)
    logger.info("comfort: %d inverse LP batches in %.1f s", len(batches), time.perf_counter() - started)
    sellable = (problem.cap > 0).any(axis=2) & params.sells
    kappa = np.where(params.sells, kappa, prior)
    fit = None
    raised = np.zeros((R, P), dtype=bool)
    if polish_rounds >= 0 and T > 0:
        kappa, fit, too_low, too_high = polish(params, observed, problem, kappa, orders, scale, run, polish_rounds)
        # what the judge showed too low or too high narrows the range (the exact check over the envelope's);
        # a κ it showed too low is a (strict) lower bound even where that value is 0
        raised = too_low > -1.0
        low, high = np.maximum(low, np.maximum(too_low, 0.0)), np.minimum(high, too_high)
    low, high = np.minimum(low, kappa), np.maximum(high, kappa)
    status = comfort_status(low, high, sellable, params.sells, raised)
    return ComfortEstimate(kappa=kappa * scale[:, None], low=low * scale[:, None], high=high * scale[:, None],
                           status=status, sold_months=(observed.orders > 0).sum(axis=2),
                           in_sample_wape=fit, polish_rounds=polish_rounds, market_factor=factor)


def _batches(R: int) -> list[np.ndarray]:
    return [np.arange(start, min(R, start + BATCH_REPS)) for start in range(0, R, BATCH_REPS)]


def inverse_tasks(problem: HistoryProblem, orders: np.ndarray, at_cap: np.ndarray, scale: np.ndarray,
                  tolerance: float = GAP_TOLERANCE) -> list[InverseTask]:
    """One InverseTask per batch of reps (priors to be set by the caller)."""
    R, P, T = orders.shape
    K = problem.pay_weight.shape[1]
    J = max(envelope_segments(c) for c in problem.curves)
    attainment = np.einsum("rkpt,rpt->rkt", problem.attainment_per_order, orders)
    alpha, beta = np.zeros((R, K, T, J)), np.zeros((R, K, T, J))
    for s, months in enumerate(problem.months):
        a, b = local_envelopes(problem.curves[s], attainment[:, :, months], J)
        alpha[:, :, months], beta[:, :, months] = a, b
    h = problem.hours_per_order
    used = (h * orders).sum(axis=1)
    binding = used >= problem.hours * (1 - 1e-9)
    hours = np.where(binding, used, problem.hours)
    cap = np.where(at_cap, orders, problem.cap)
    weight = problem.pay_weight / scale[:, None, None]
    envelope = np.min(alpha * attainment[..., None] + beta, axis=3)  # (R, K, T)
    pay = (weight * envelope).sum(axis=1)
    tasks = []
    for rows in _batches(R):
        tasks.append(InverseTask(hours=hours[rows], h=h[rows], cap=cap[rows], orders=orders[rows], at_cap=at_cap[rows],
                                 weight=weight[rows], attainment=problem.attainment_per_order[rows],
                                 alpha=alpha[rows], beta=beta[rows], pay=pay[rows], priors=[np.zeros((len(rows), P))],
                                 tolerance=tolerance))
    return tasks


def comfort_status(low: np.ndarray, high: np.ndarray, sellable: np.ndarray, sells: np.ndarray,
                   raised: np.ndarray | None = None) -> np.ndarray:
    """IDENTIFIED, INTERVAL, LOWER, UPPER or NOT_IDENTIFIED per rep × product; `raised`: the polish found κ
    too low there (a strict lower bound, even at 0)."""
    bounded_below = (low > 1e-6) | (raised if raised is not None else False)
    bounded_above = np.isfinite(high)
    status = np.full(low.shape, NOT_IDENTIFIED, dtype=object)
    status[bounded_below & ~bounded_above] = LOWER
    status[~bounded_below & bounded_above] = UPPER
    status[bounded_below & bounded_above] = INTERVAL
    status[bounded_above & (high - low <= TIGHT)] = IDENTIFIED
    status[~sellable] = NOT_IDENTIFIED
    status[~sells] = NOT_IDENTIFIED
    return status


# --------------------------------------------------------------------------------------------
# 4. Polish with the judge


def _simulate(problem: HistoryProblem, kappa_money: np.ndarray, reps: np.ndarray, run: Executor) -> np.ndarray:
    """The judge's chosen orders (before market scaling) of `reps` in every history month, (n, P, T)."""
    R, P, T = problem.cap.shape
    out = np.zeros((len(reps), P, T))
    for d, months in zip(problem.data, problem.months):
        sub = ResponseData(hours=d.hours[reps], hours_per_order=d.hours_per_order[reps], cap=d.cap[reps],
                           effort=kappa_money[reps][:, :, None] * d.hours_per_order[reps], margin=d.margin[reps],
                           pay_weight=d.pay_weight[reps], attainment_per_order=d.attainment_per_order[reps],
                           curve=d.curve)
        orders, _ = simulate_orders(sub, run)
        out[:, :, months] = orders
    return out


def polish(params: Parameters, observed: Observed, problem: HistoryProblem, kappa: np.ndarray, target: np.ndarray,
           scale: np.ndarray, run: Executor, rounds: int) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """Bisection of each rep × product's κ (pay at target per hour) on the judge's orders against the
    structured history; returns (κ, the in-sample WAPE of the judge's orders after it, the largest κ
    the judge found too low, the smallest it found too high). With 0 rounds the history is simulated
    once, for the in-sample figure only."""
    R, P, T = target.shape
    simulated = _simulate(problem, kappa * scale[:, None], np.arange(R), run)
    low, high = np.full((R, P), -np.inf), np.full((R, P), np.inf)  # κ shown too low / too high by the judge
    step = np.full((R, P), POLISH_STEP)
    for round_ in range(rounds):
        want, got = target.sum(axis=2), simulated.sum(axis=2)
        slack = POLISH_TOLERANCE * np.maximum(want, got) + 1e-3 * want.sum(axis=1, keepdims=True) / max(P, 1)
        up = params.sells & (got > want + slack)
        down = params.sells & (got < want - slack)
        if not (up | down).any():
            break
        low = np.where(up, np.maximum(low, kappa), low)
        high = np.where(down, np.minimum(high, kappa), high)
        lifted = np.where(np.isfinite(high), (kappa + high) / 2, kappa + step)
        step = np.where(up & ~np.isfinite(high), step * 2, step)
        kappa = np.where(up, lifted, np.where(down, (np.maximum(low, 0.0) + kappa) / 2, kappa))
        moved = np.flatnonzero((up | down).any(axis=1))
        simulated[moved] = _simulate(problem, kappa * scale[:, None], moved, run)
        logger.info("polish round %d: %d reps moved", round_ + 1, len(moved))
    return kappa, in_sample_wape(params, observed, problem, simulated), low, high


def in_sample_wape(params: Parameters, observed: Observed, problem: HistoryProblem, chosen: np.ndarray) -> float:
    """Σ|scaled simulated − observed| ÷ Σ observed over the history (the judge's market scaling applied)."""
    scaled = np.zeros_like(chosen)
    for months in problem.months:
        scaled[:, :, months] = scale_to_markets(with_periods_open(params, observed.index[months]), chosen[:, :, months])
    total = observed.orders.sum()
    return float(np.abs(scaled - observed.orders).sum() / total) if total > 0 else float("nan")
