"""The replay loop: one (policy, seed) at a time, month by month; the aggregation of a whole replay.

One *run* replays the open months of the dataset under one policy and one noise seed (and, for
the gaming audit, one rep holding back). Runs are independent, so `run_replay` hands them to the
executor: first the oracle's review (the same for every seed), then every (policy, seed), then the
gaming runs, which reuse the reviews of the honest run of their policy (a review depends on the
plan in force, the proposed assumption set and the period, never on the actuals themselves, so a
holding-back rep who does not move the correction gets the very same review).
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from models.assumptions import AssumptionSet, period_scope
from models.dataset import Dataset, Plan, write_plan
from models.errors import InputError, Problem
from optimizer.alignment.payout import pay_grid
from optimizer.alignment.recommend import recommend
from optimizer.alignment.response import BatchMemo, simulate_grid
from optimizer.correction import correct
from optimizer.executor import Executor, SerialExecutor
from optimizer.parameters import Parameters, effective_parameters
from optimizer.plan.targets import plan_targets
from optimizer.review.alarms import alarms
from optimizer.solve import FEASIBLE_TIME_LIMIT, OPTIMAL

logger = logging.getLogger(__name__)

POLICIES = ("static", "quarterly", "monthly", "oracle")
RE_PLANNING = ("quarterly", "monthly")  # the policies that run the correction system and a review
HOLD_BACK = 0.2  # the gaming audit: share of the first open month's orders a rep holds back
PAY_MOVE = 0.10  # pay stability: a move of more than 10 % between consecutive months
ACTUALS_COLUMNS = ["rep_id", "product_id", "period", "orders", "calls", "meetings", "quotes"]
QUARTER_END_MONTHS = {3, 6, 9, 12}


class ReplayTimeout(TimeoutError):
    """The replay ran past `ReplayOptions.time_limit_s` (checked between groups of runs)."""


@dataclass(frozen=True)
class ReplayOptions:
    policies: tuple[str, ...] = POLICIES
    noise: float = 0.0  # sigma of the log-normal factor on realized orders; >= 0
    seeds: int = 1  # >= 1
    accept_threshold: float = 0.005  # share of plan margin
    gaming_reps: int = 20  # reps sampled for the gaming audit (0 = no audit)
    seed: int = 0
    time_limit_s: float | None = None

    def to_dict(self) -> dict:
        return {"policies": list(self.policies), "noise": self.noise, "seeds": self.seeds,
                "accept_threshold": self.accept_threshold, "gaming_reps": self.gaming_reps, "seed": self.seed}


# --------------------------------------------------------------------------------------------
# Checks


def check_world(dataset: Dataset, world: AssumptionSet) -> None:
    """Raise models.errors.InputError naming the key (unknown market/product/period, no open period)."""
    company = dataset.company
    if not company.open_periods:
        raise InputError.single("company.yaml", f"{company.current_period!r} is the last period: there is no open "
                                "period to replay", column="current_period")
    world.check_against(dataset, file="world")
    open_set = set(company.open_periods)
    problems = []
    for i, adj in enumerate(world.adjustments):
        if not open_set & set(period_scope(adj, list(company.periods))):
            problems.append(Problem("world", "names no open period (the world is the truth of the months to "
                                    f"replay, {company.open_periods[0]} to {company.open_periods[-1]})",
                                    column=f"adjustments[{i}].periods"))
    if problems:
        raise InputError(problems)


def check_options(options: ReplayOptions) -> None:
    """Raise InputError naming the option (negative noise, zero seeds, unknown policy...)."""
    problems = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem("options", message, column=key))

    if not options.policies:
        bad("policies", f"name at least one policy ({', '.join(POLICIES)})")
    for i, policy in enumerate(options.policies):
        if policy not in POLICIES:
            bad(f"policies[{i}]", f"unknown policy {policy!r} (valid: {', '.join(POLICIES)})")
    if len(set(options.policies)) != len(options.policies):
        bad("policies", "a policy is named twice")
    if not _number(options.noise) or options.noise < 0:
        bad("noise", f"must be a number ≥ 0 (got {options.noise!r})")
    elif options.noise > 2:
        bad("noise", f"must be at most 2 (a log-normal sigma of {options.noise:g} is not a market)")
    if isinstance(options.seeds, bool) or not isinstance(options.seeds, int) or options.seeds < 1:
        bad("seeds", f"must be a whole number ≥ 1 (got {options.seeds!r})")
    elif options.seeds > 1000:
        bad("seeds", f"at most 1000 (got {options.seeds})")
    if not _number(options.accept_threshold) or not 0 <= options.accept_threshold <= 1:
        bad("accept_threshold", f"must be a share of plan margin in [0, 1] (got {options.accept_threshold!r})")
    if isinstance(options.gaming_reps, bool) or not isinstance(options.gaming_reps, int) or not 0 <= options.gaming_reps <= 1000:
        bad("gaming_reps", f"must be a whole number from 0 to 1000 (got {options.gaming_reps!r})")
    if isinstance(options.seed, bool) or not isinstance(options.seed, int) or options.seed < 0:
        bad("seed", f"must be a whole number ≥ 0 (got {options.seed!r})")
    if options.time_limit_s is not None and (not _number(options.time_limit_s) or options.time_limit_s <= 0):
        bad("time_limit_s", f"must be > 0 seconds (got {options.time_limit_s!r})")
    if problems:
        raise InputError(problems)


def _number(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def review_periods(dataset: Dataset, policy: str) -> list[str]:
    """The closed months after which a policy reviews (never after the last period: nothing is open then).

    monthly: every open month but the last. quarterly: months labelled YYYY-MM whose month is 3, 6,
    9 or 12 (a calendar quarter's end); for other labels every third replayed month.
    """
    months = list(dataset.company.open_periods)[:-1]
    if policy == "monthly":
        return months
    if policy != "quarterly":
        return []
    labels = list(dataset.company.open_periods)
    if all(len(t) == 7 and t[4] == "-" and t[:4].isdigit() and t[5:].isdigit() for t in labels):
        return [t for t in months if int(t[5:]) in QUARTER_END_MONTHS]
    return [t for i, t in enumerate(months) if (i + 1) % 3 == 0]


def gaming_sample(dataset: Dataset, options: ReplayOptions) -> list[str]:
    """Up to `gaming_reps` rep ids, drawn with the replay's seed (in the dataset's order)."""
    reps = dataset.rep_ids
    n = min(options.gaming_reps, len(reps))
    if n == 0:
        return []
    chosen = np.random.default_rng([options.seed, 18]).choice(len(reps), size=n, replace=False)
    return [reps[i] for i in sorted(chosen)]


def estimate_size(dataset: Dataset, options: ReplayOptions) -> dict:
    """The work a replay drives: reviews (recommendations) and simulated (rep, month) blocks, at most."""
    n_open = len(dataset.company.open_periods)
    reps = len(dataset.rep_ids)
    reviews = 0
    runs = 0
    for policy in options.policies:
        per_run = len(review_periods(dataset, policy))
        runs += options.seeds
        reviews += per_run * options.seeds
    gaming = [p for p in options.policies if p in RE_PLANNING]
    gaming_runs = len(gaming) * len(gaming_sample(dataset, options))
    gaming_reviews = sum(len(review_periods(dataset, p)) for p in gaming) * len(gaming_sample(dataset, options))
    oracle = 1 if "oracle" in options.policies else 0
    return {
        "runs": runs + gaming_runs, "reviews": reviews + oracle, "gaming_reviews_at_most": gaming_reviews,
        "open_periods": n_open, "reps": reps, "products": len(dataset.product_ids),
        # every run simulates the open months once, plus the rest of the year after each accepted plan
        "simulated_blocks_at_most": (runs + gaming_runs) * reps * n_open * (1 + n_open) // 2 + reps * n_open,
    }


# --------------------------------------------------------------------------------------------
# One run


@dataclass(frozen=True)
class Review:
    """A review's outcome, as a run needs it (and the cache keeps it)."""

    accepted: bool
    expected_gain: float | None  # recommended − in force, expected net margin over the open periods
    components: int | None
    status: str
    plan: Plan | None
    assumptions: str  # the name of the set reviewed under
    adjustments: int


@dataclass(frozen=True)
class Task:
    dataset: Dataset
    world: AssumptionSet
    policy: str
    seed: int
    options: ReplayOptions
    plan_margin: float
    start_plan: Plan | None = None  # the oracle's plan (else the plan in force)
    oracle_decision: dict | None = None
    holdback: str | None = None  # the gaming audit's rep
    reviews: dict = field(default_factory=dict)  # key -> Review known from another run
    answers: dict = field(default_factory=dict)  # (plan digest, first month) -> the reps' answer, from another run
    memo: BatchMemo | None = None  # the correction's solved batches, from another run


@dataclass
class Run:
    policy: str
    seed: int
    holdback: str | None
    months: list[dict]
    rep_pay: np.ndarray  # (R, open months)
    decisions: list[dict]
    reviews: dict
    plans: dict[str, Plan]  # accepted plans by the period after which they were accepted
    cpu_s: float
    actuals: pd.DataFrame  # the actuals the run closed its months with (ACTUALS_COLUMNS)
    answers: dict = field(default_factory=dict)  # (plan digest, first month) -> (R, P, T) answer
    memo: BatchMemo | None = None
    plan_sets: dict[str, AssumptionSet] = field(default_factory=dict)  # the set each accepted plan was reviewed under


def noise_factors(options: ReplayOptions, seed: int, shape: tuple[int, ...]) -> np.ndarray:
    """Mean-one log-normal factors exp(σZ − σ²/2) per rep, product, open month; exactly 1 at σ = 0.

    The draws depend on (options.seed, seed) only: every policy meets the same market (common
    random numbers), so policies are compared on the same luck.
    """
    if options.noise == 0:
        return np.ones(shape)
    z = np.random.default_rng([options.seed, seed]).standard_normal(shape)
    return np.exp(options.noise * z - options.noise ** 2 / 2)


def review(dataset: Dataset, assumptions: AssumptionSet | None, plan_margin: float, threshold: float) -> Review:
    """A review under `assumptions`: the recommendation with all the company's rules, and the decision."""
    rec = recommend(dataset, assumptions, rules=dataset.company.rules, rule_prices=False, executor=SerialExecutor())
    name = assumptions.name if assumptions is not None else ""
    n_adj = len(assumptions.adjustments) if assumptions is not None else 0
    if rec.status not in (OPTIMAL, FEASIBLE_TIME_LIMIT) or rec.plan is None or dataset.plan is None:
        return Review(False, None, None, rec.status, None, name, n_adj)
    net = dict(zip(rec.comparison["plan"], rec.comparison["margin"] - rec.comparison["pay_cost"]))
    gain = float(net["recommended"] - net["in_force"])
    accepted = gain > threshold * plan_margin
    return Review(accepted, gain, len(rec.plan.components), rec.status, rec.plan if accepted else None, name, n_adj)


def plan_digest(plan: Plan | None) -> str:
    digest = hashlib.blake2b(digest_size=16)
    if plan is not None:
        for frame in (plan.components, plan.curve, plan.targets):
            digest.update(frame.to_csv(index=False).encode())
    return digest.hexdigest()


def review_key(plan: Plan | None, assumptions: AssumptionSet | None, period: str | None) -> str:
    """What a review depends on: the plan in force, the proposed set and the period (not the actuals)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(str(period).encode())
    if assumptions is not None:
        digest.update(assumptions.model_dump_json().encode())
    digest.update(plan_digest(plan).encode())
    return digest.hexdigest()


def run_task(task: Task, on_month: Callable[[int], None] | None = None) -> Run:
    """Replay the open months under one policy and seed (see the module docstring of optimizer.replay).

    `on_month(i)` is called after the i-th open month (0-based) is done (in-process runs only)."""
    cpu = time.process_time()
    dataset = task.dataset
    company = dataset.company
    open_periods = list(company.open_periods)
    world_params = effective_parameters(dataset, task.world)
    periods = world_params.periods
    R, P = len(world_params.reps), len(world_params.products)
    noise = noise_factors(task.options, task.seed, (R, P, len(open_periods)))
    hold = world_params.reps.index(task.holdback) if task.holdback is not None else None
    rates = [world_params.rep_view(x) for x in (world_params.call_to_meeting, world_params.meeting_to_quote,
                                                world_params.quote_to_order)]
    margin_rpt = world_params.rep_view(world_params.margin)
    price_rpt = world_params.rep_view(world_params.price)
    reviews = dict(task.reviews)
    answers = dict(task.answers)
    memo = task.memo if task.memo is not None else BatchMemo(max_bytes=64 * 2**20)
    plan = dataset.plan
    decisions: list[dict] = []
    plans: dict[str, Plan] = {}
    plan_sets: dict[str, AssumptionSet] = {}
    if task.start_plan is not None:
        plan = task.start_plan
        dataset = dataset.with_plan(plan)
        plans[str(company.current_period or "start")] = plan
        plan_sets[str(company.current_period or "start")] = task.world
    if task.oracle_decision is not None:
        decisions.append({**task.oracle_decision, "seed": task.seed})
    reviewing = set(review_periods(dataset, task.policy))
    months, rep_pay = [], np.zeros((R, len(open_periods)))
    answer: np.ndarray | None = None  # the reps' answer to the plan in force for the months left (R, P, T)
    carried = None
    for i, period in enumerate(open_periods):
        ti = periods.index(period)
        if answer is None:  # the reps' answer does not depend on the noise: one per plan and first month
            key = (plan_digest(plan), i)
            answer = answers.get(key)
            if answer is None:
                answer = simulate_remaining(world_params, plan, [periods.index(t) for t in open_periods[i:]])
                answers[key] = answer
        orders = answer[:, :, ti] * noise[:, :, i]
        if task.options.noise > 0:
            orders = cap_to_markets(world_params, orders, ti)
        activity = orders.copy()  # calls, meetings and quotes happened even for orders held back
        if hold is not None and i == 0:
            carried = HOLD_BACK * orders[hold]
            orders[hold] = orders[hold] - carried
            activity[hold] = orders[hold] + carried
        elif hold is not None and i == 1 and carried is not None:
            orders[hold] = orders[hold] + carried  # booked the month after (their calls were last month's)
        grid = np.zeros((R, P, len(periods)))
        grid[:, :, ti] = orders
        pay = pay_grid(world_params, plan, grid)[:, ti] if plan is not None else np.zeros(R)
        margin = float((margin_rpt[:, :, ti] * orders).sum())
        revenue = float((price_rpt[:, :, ti] * orders).sum())
        rep_pay[:, i] = pay
        months.append({"period": period, "margin": margin, "revenue": revenue, "pay": float(pay.sum()),
                       "net_margin": margin - float(pay.sum())})
        dataset = close_period(dataset, world_params, period, orders, activity, rates)
        if period in reviewing:
            open_alarms = None
            if task.holdback is None:  # informational: a gaming run only needs its pay
                found_alarms = alarms(dataset)
                open_alarms = int((found_alarms["severity"].isin(("critical", "warning"))).sum())
            correction = correct(dataset, name=f"{task.policy}-{period}", memo=memo)
            key = review_key(dataset.plan, correction.assumptions, period)
            outcome = reviews.get(key)
            if outcome is None:
                outcome = review(dataset, correction.assumptions, task.plan_margin, task.options.accept_threshold)
                reviews[key] = outcome
            decisions.append(decision_row(outcome, task.seed, period, task.plan_margin, open_alarms))
            if outcome.accepted:
                plan = outcome.plan
                dataset = dataset.with_plan(plan)
                plans[period] = plan
                plan_sets[period] = correction.assumptions
                answer = None
        if on_month is not None:
            on_month(i)
    added = dataset.actuals.iloc[len(task.dataset.actuals):].reset_index(drop=True)
    if task.holdback is not None or task.seed != 0:
        reviews, answers, memo = {}, {}, None  # only the honest seed-0 run's are reused (by the gaming runs)
    return Run(task.policy, task.seed, task.holdback, months, rep_pay, decisions, reviews, plans,
               time.process_time() - cpu, added, answers, memo, plan_sets)


def decision_row(outcome: Review, seed: int, period: str, plan_margin: float, open_alarms: int | None) -> dict:
    gain = outcome.expected_gain
    return {"seed": seed, "period": period, "accepted": outcome.accepted, "expected_gain": gain,
            "expected_gain_share": None if gain is None or plan_margin <= 0 else gain / plan_margin,
            "components": outcome.components, "status": outcome.status, "assumptions": outcome.assumptions,
            "adjustments": outcome.adjustments, "alarms": open_alarms}


def simulate_remaining(params: Parameters, plan: Plan | None, positions: Sequence[int]) -> np.ndarray:
    """The reps' §4.5 answer to `plan` in the given periods under `params` (scaled to the markets), (R, P, T)."""
    if plan is None:
        return np.zeros((len(params.reps), len(params.products), len(params.periods)))
    seen = replace(params, open_index=np.asarray(positions, dtype=int))
    scaled, _, _ = simulate_grid(seen, plan)
    return scaled


def cap_to_markets(params: Parameters, orders: np.ndarray, ti: int) -> np.ndarray:
    """Scale a month's realized orders down pro rata where a market's reps together exceed D[m,p,t]."""
    potential = params.potential[:, :, ti]
    total = np.zeros_like(potential)
    np.add.at(total, params.rep_market, orders)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(total > potential, potential / np.where(total > 0, total, 1.0), 1.0)
    return orders * factor[params.rep_market]


def close_period(dataset: Dataset, params: Parameters, period: str, orders: np.ndarray, activity: np.ndarray,
                 rates: list[np.ndarray]) -> Dataset:
    """The dataset after `period` closes: its actuals appended (orders; quotes, meetings and calls of
    the activity through the world's funnel) and `current_period` moved to it."""
    ti = params.periods.index(period)
    cm, mq, qo = (r[:, :, ti] for r in rates)
    r, p = np.nonzero(params.sells | (orders > 0))
    quotes = activity / qo
    meetings = quotes / mq
    calls = meetings / cm
    rows = pd.DataFrame({
        "rep_id": np.asarray(params.reps, dtype=object)[r], "product_id": np.asarray(params.products, dtype=object)[p],
        "period": period, "orders": orders[r, p], "calls": calls[r, p], "meetings": meetings[r, p],
        "quotes": quotes[r, p]})
    actuals = rows if len(dataset.actuals) == 0 else pd.concat([dataset.actuals[ACTUALS_COLUMNS], rows],
                                                                ignore_index=True)
    return replace(dataset, company=replace(dataset.company, current_period=period), actuals=actuals)


# --------------------------------------------------------------------------------------------
# A whole replay


@dataclass
class ReplayResult:
    """A replay's figures (`to_dict`: the JSON of CONTRACT-18) and its runs (for months.csv and the plans)."""

    data: dict
    runs: list[Run] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return self.data

    def months_frame(self) -> pd.DataFrame:
        rows = [{"policy": run.policy, "seed": run.seed, **month} for run in self.runs for month in run.months]
        return pd.DataFrame(rows, columns=["policy", "seed", "period", "margin", "revenue", "pay", "net_margin"])

    def write(self, folder) -> None:
        """replay.json, months.csv and the accepted plans under plans/<policy>/<seed>/<period>/ (the
        plan/ format, with the assumption set it was reviewed under as assumptions.json)."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        (out / "replay.json").write_text(json.dumps(self.to_dict(), indent=2, default=float) + "\n", encoding="utf-8")
        self.months_frame().to_csv(out / "months.csv", index=False, quoting=csv.QUOTE_MINIMAL)
        for run in self.runs:
            for period, plan in run.plans.items():
                folder = out / "plans" / run.policy / str(run.seed) / period
                write_plan(plan, folder)
                if period in run.plan_sets:  # the assumption set the plan was reviewed under
                    body = run.plan_sets[period].model_dump(mode="json", by_alias=True, exclude_none=True)
                    (folder / "assumptions.json").write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")


def run_replay(dataset: Dataset, world: AssumptionSet, options: ReplayOptions, *,
               executor: Executor | None = None,
               progress: Callable[[str, float], None] | None = None) -> ReplayResult:
    """Replay the open months of `dataset` under `world` for each policy and seed; see docs/replay.md.

    `progress(phase, done)`: phase one of oracle, replays, gaming, done; `done` the share of the whole
    replay's runs done, in [0, 1] (month by month when the executor is in-process, else per group of
    runs). Raises InputError for a bad world or options (nothing is run), ReplayTimeout past
    `options.time_limit_s` (checked after every month in-process, else between groups of runs).
    """
    check_options(options)
    check_world(dataset, world)
    run = executor or SerialExecutor()
    started, cpu = time.perf_counter(), time.process_time()
    sample = gaming_sample(dataset, options)
    gaming_policies = [p for p in options.policies if p in RE_PLANNING] if sample else []
    has_oracle = "oracle" in options.policies
    tracker = _Tracker(progress, options, started,
                       units=int(has_oracle) + len(options.policies) * options.seeds + len(gaming_policies) * len(sample))
    plan_margin = float(plan_targets(dataset).margin)
    oracle_plan, oracle_decision, task_cpu = None, None, 0.0
    if has_oracle:
        tracker.report("oracle")
        outcome = run.map(_oracle_review, [(dataset, world, plan_margin, options.accept_threshold)])[0]
        oracle_plan = outcome.plan
        oracle_decision = decision_row(outcome, 0, str(dataset.company.current_period or "start"), plan_margin, None)
        tracker.advance("oracle", 1.0)
    tasks = [Task(dataset, world, policy, seed, options, plan_margin,
                  start_plan=oracle_plan if policy == "oracle" else None,
                  oracle_decision=oracle_decision if policy == "oracle" else None)
             for policy in options.policies for seed in range(options.seeds)]
    runs = _map_runs(run, tasks, tracker, "replays")
    task_cpu += sum(r.cpu_s for r in runs)
    gaming_runs: list[Run] = []
    if gaming_policies:
        honest = {r.policy: r for r in runs if r.seed == 0}
        gaming_tasks = [Task(dataset, world, policy, 0, options, plan_margin, holdback=rep,
                             reviews=honest[policy].reviews, answers=honest[policy].answers,
                             memo=honest[policy].memo)
                        for policy in gaming_policies for rep in sample]
        gaming_runs = _map_runs(run, gaming_tasks, tracker, "gaming")
        task_cpu += sum(r.cpu_s for r in gaming_runs)
    wall = time.perf_counter() - started
    cpu_s = time.process_time() - cpu + (0.0 if isinstance(run, SerialExecutor) else task_cpu)
    data = summarize(dataset, world, options, plan_margin, runs, gaming_runs, sample)
    data["timing"] = {"wall_s": round(wall, 3), "cpu_s": round(cpu_s, 3)}
    logger.info("replay %r: %d runs and %d gaming runs in %.1f s (%.1f s CPU)", world.name, len(runs),
                len(gaming_runs), wall, cpu_s)
    tracker.report("done", 1.0)
    return ReplayResult(data=data, runs=runs, periods=list(dataset.company.open_periods))


class _Tracker:
    """The share of a replay's runs done (the oracle's review counts as one run), and its time limit."""

    def __init__(self, progress, options: ReplayOptions, started: float, units: int) -> None:
        self.progress, self.options, self.units, self.done = progress, options, max(units, 1), 0.0
        self.deadline = None if options.time_limit_s is None else started + options.time_limit_s

    def report(self, phase: str, share: float | None = None) -> None:
        if self.progress is not None:
            self.progress(phase, min(1.0, self.done / self.units) if share is None else share)

    def advance(self, phase: str, units: float) -> None:
        self.done += units
        self.check(phase)
        self.report(phase)

    def check(self, phase: str) -> None:
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise ReplayTimeout(f"the replay ran past its time limit of {self.options.time_limit_s:g} s "
                                f"(during {phase}, {self.done / self.units:.0%} done)")


def _oracle_review(args) -> Review:
    dataset, world, plan_margin, threshold = args
    return review(dataset, world, plan_margin, threshold)


def _map_runs(run: Executor, tasks: list[Task], tracker: _Tracker, phase: str) -> list[Run]:
    """`run.map(run_task, tasks)`: in process one run after another (progress and the time limit
    month by month), else in groups of the executor's workers (progress between groups)."""
    tracker.report(phase)
    if isinstance(run, SerialExecutor):
        out = []
        for task in tasks:
            months = max(1, len(task.dataset.company.open_periods))
            out.append(run_task(task, on_month=lambda i, months=months: tracker.advance(phase, 1.0 / months)))
        return out
    size = max(1, int(getattr(run, "workers", 1)))
    out = []
    for start in range(0, len(tasks), size):
        tracker.check(phase)
        group = tasks[start:start + size]
        out.extend(run.map(run_task, group))
        tracker.advance(phase, len(group))
    return out


def pay_stability(rep_pay: np.ndarray) -> float | None:
    """Over consecutive month pairs, the share of reps whose pay moves by more than PAY_MOVE (from
    nothing to something counts as a move; nothing to nothing does not)."""
    if rep_pay.shape[1] < 2:
        return None
    before, after = rep_pay[:, :-1], rep_pay[:, 1:]
    moved = np.where(before > 0, np.abs(after - before) > PAY_MOVE * before, after > 0)
    return float(moved.mean())


def summarize(dataset: Dataset, world: AssumptionSet, options: ReplayOptions, plan_margin: float,
              runs: list[Run], gaming_runs: list[Run], sample: list[str]) -> dict:
    company = dataset.company
    periods = list(company.open_periods)
    keys = ("margin", "revenue", "pay", "net_margin")
    policies = []
    for policy in options.policies:
        mine = [r for r in runs if r.policy == policy]
        per_seed = np.array([[sum(m[k] for m in r.months) for k in keys] for r in mine])  # (seeds, 4)
        total = dict(zip(keys, per_seed.mean(axis=0).tolist()))
        net = per_seed[:, 3]
        months = []
        cumulative = 0.0
        for i, period in enumerate(periods):
            row = {"period": period, **{k: float(np.mean([r.months[i][k] for r in mine])) for k in keys}}
            cumulative += row["net_margin"]
            row["cumulative_net_margin"] = cumulative
            months.append(row)
        decisions = [d for r in mine for d in r.decisions]
        policies.append({
            "policy": policy, "total": total,
            "spread": {"net_margin_sd": float(net.std()), "net_margin_min": float(net.min()),
                       "net_margin_max": float(net.max())},
            "months": months,
            "reviews_run": sum(1 for d in decisions),
            "plans_accepted": sum(1 for d in decisions if d["accepted"]),
            "decisions": decisions,
            "pay_stability": _mean_or_none([pay_stability(r.rep_pay) for r in mine]),
            "share_of_oracle_gain": None,
        })
    by_name = {p["policy"]: p for p in policies}
    if "oracle" in by_name and "static" in by_name:
        gap = by_name["oracle"]["total"]["net_margin"] - by_name["static"]["total"]["net_margin"]
        if abs(gap) > 1e-9 * max(abs(plan_margin), 1.0):
            for p in policies:
                p["share_of_oracle_gain"] = (p["total"]["net_margin"] - by_name["static"]["total"]["net_margin"]) / gap
    gaming = []
    reps = dataset.rep_ids
    for policy in [p for p in options.policies if p in RE_PLANNING]:
        honest = next(r for r in runs if r.policy == policy and r.seed == 0)
        rows = []
        for g in (g for g in gaming_runs if g.policy == policy):
            ri = reps.index(g.holdback)
            pay_honest, pay_holding = float(honest.rep_pay[ri].sum()), float(g.rep_pay[ri].sum())
            rows.append({"rep_id": g.holdback, "pay_honest": pay_honest, "pay_holding_back": pay_holding,
                         "gain": pay_holding - pay_honest,
                         "reviews_changed": sum(1 for a, b in zip(honest.decisions, g.decisions)
                                                if a["accepted"] != b["accepted"] or a["expected_gain"] != b["expected_gain"])})
        rewarded = [row["rep_id"] for row in rows if row["gain"] > max(0.01, 1e-9 * abs(row["pay_honest"]))]
        gaming.append({"policy": policy, "reps": rows, "rewarded": rewarded,
                       "verdict": f"holding back {HOLD_BACK * 100:.0f} % of the first month's orders raises the year pay of "
                                  f"{len(rewarded)} of {len(rows)} reps"})
    return {
        "company": company.name, "currency": company.currency, "world": world.name,
        "options": options.to_dict(), "plan_margin": plan_margin, "periods": periods,
        "policies": policies, "gaming": gaming,
    }


def _mean_or_none(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None
