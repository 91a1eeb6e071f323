"""`comptune recommend` and `comptune simulate`: the alignment engine on the command line (§4.4–§4.6).

`recommend` finds the plan with the best net margin (simulated margin − variable pay; `--objective
margin` for margin alone) under the rules of DESIGN.md §4.9 (at most `max_components` components, no
rep's pay cut by more than `max_pay_cut`, quotas covering `min_quota_coverage` of the plan, weights
within `max_weight_change` of the baseline, the payout curve in its family, the budget), compares it with
the three baselines, prints the frontier, the quota coverage, the price of each rule, the pay impact,
every change and the attribution of each market's change, and can write the recommended plan in the
`plan/` format. The rules come from
`company.yaml`; the flags of the same names override them. Exit 1 when no plan keeps the component
count and the pay-cut rule (the reason names the rule and the amount). `simulate` scores any plan folder
against a dataset, so that a comp designer can test a hand-made plan. Exit codes as in `api.commands.common`.
"""

from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager
from typing import Annotated, Optional

import pandas as pd
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.commands.common import (
    EXIT_NO_ANSWER, AssumptionsOpt, DatasetArg, JsonOpt, OutOpt, PlanDirArg, console, err_console, input_errors,
    load_inputs, staged_output,
)
from models.dataset import load_plan, spreadsheet_safe, write_plan
from models.rules import Rules, check_rule_sizes
from optimizer.parameters import effective_parameters
from optimizer.alignment.pay_rules import pay_impact_frame
from optimizer.alignment.recommend import candidate_count, recommend as recommend_plan
from optimizer.executor import ExecutorError
from optimizer.alignment.response import simulate as simulate_plan
from optimizer.plan.targets import plan_targets
from optimizer.solve import FEASIBLE_TIME_LIMIT, OPTIMAL, SolveOptions

PLAN_LABELS = {"recommended": "recommended", "in_force": "plan in force", "flat_revenue": "flat revenue commission",
               "gross_margin_share": "equal share of gross margin"}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def _rule_overrides(dataset, *, in_force_only: bool = False, **given) -> Rules:
    """The company's rules with the flags given on the command line (exit 2 naming a bad one, or a
    `--max-components` past the components the recommendation weighs)."""
    with input_errors():
        check_rule_sizes(given, candidate_components=candidate_count(dataset, in_force_only), file="command line")
        return dataset.company.rules.overridden(given, file="command line")


PHASE_LABELS = {"plan_lp": "plan LP", "targets": "targets", "incentive_lp": "incentive LP",
                "simulations": "simulations", "selection": "selection"}


@contextmanager
def phase_progress():
    """A `progress(phase, done)` callback: a rich progress bar on a terminal (stderr), else one line
    per phase on stderr (so that `--json` stdout stays clean and logs stay readable)."""
    if err_console.is_terminal:
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f} %"),
                      TimeElapsedColumn(), console=err_console, transient=True) as bar:
            task = bar.add_task("recommend", total=1.0)

            def update(phase: str, done: float) -> None:
                bar.update(task, completed=done, description=f"recommend: {PHASE_LABELS.get(phase, phase)}")

            yield update
        return
    started, last = time.perf_counter(), [None]

    def line(phase: str, done: float) -> None:
        if phase != last[0]:
            last[0] = phase
            err_console.print(f"recommend: {PHASE_LABELS.get(phase, phase)} "
                              f"({100 * done:.0f} % done, {time.perf_counter() - started:.1f} s)", highlight=False)

    yield line


def recommend(
    dataset_dir: DatasetArg,
    assumptions: AssumptionsOpt = None,
    out: OutOpt = None,
    as_json: JsonOpt = False,
    in_force_only: Annotated[bool, typer.Option("--in-force-only", help="Weigh only the components in force.")] = False,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", help="Seconds for the plan LP.")] = None,
    max_components: Annotated[Optional[int], typer.Option(
        "--max-components", help="At most this many components (company.yaml max_components, default 4).")] = None,
    max_pay_cut: Annotated[Optional[float], typer.Option(
        "--max-pay-cut", help="No rep's expected pay more than this share below the plan in force (default 0.05).")] = None,
    min_quota_coverage: Annotated[Optional[float], typer.Option(
        "--min-quota-coverage", help="Per component, the reps' targets add up to at least this share of the "
        "planned metric (default 0.9).")] = None,
    objective: Annotated[Optional[str], typer.Option(
        "--objective", help="net_margin (margin − variable pay, the default) or margin.")] = None,
    comp_budget_rate: Annotated[Optional[float], typer.Option(
        "--comp-budget-rate", help="Expected variable pay ÷ planned revenue at most (company.yaml).")] = None,
    max_weight_change: Annotated[Optional[float], typer.Option(
        "--max-weight-change", help="Largest move of a weight from the plan-year baseline (company.yaml).")] = None,
    curve_threshold: Annotated[Optional[str], typer.Option(
        "--curve-threshold", help="LOW,HIGH bounds of the payout curve's threshold (default 0,0.5).")] = None,
    curve_slope_above_target: Annotated[Optional[str], typer.Option(
        "--curve-slope-above-target", help="LOW,HIGH bounds of the slope above target (default 0,2).")] = None,
    curve_cap: Annotated[Optional[str], typer.Option(
        "--curve-cap", help="LOW,HIGH bounds of the cap, × pay at target (default 1,3).")] = None,
    workers: Annotated[int, typer.Option(
        "--workers", min=1, help="Processes for the simulations (> 1: a Dask LocalCluster; "
        "COMPTUNE_DASK_SCHEDULER names a cluster instead).")] = 1,
) -> None:
    """Recommend the plan with the best net margin under the rules (§4.9) and compare it with the baselines."""
    dataset, assumption_set = load_inputs(dataset_dir, assumptions)
    rules = _rule_overrides(dataset, in_force_only=in_force_only, max_components=max_components,
                            max_pay_cut=max_pay_cut, min_quota_coverage=min_quota_coverage, objective=objective,
                            comp_budget_rate=comp_budget_rate, max_weight_change=max_weight_change,
                            curve_threshold=curve_threshold, curve_slope_above_target=curve_slope_above_target,
                            curve_cap=curve_cap)
    try:
        with phase_progress() as progress:
            rec = recommend_plan(dataset, assumption_set, options=SolveOptions(time_limit=time_limit),
                                 in_force_only=in_force_only, rules=rules, progress=progress, workers=workers)
    except ExecutorError as exc:
        err_console.print(f"error: {exc}")
        raise typer.Exit(EXIT_NO_ANSWER) from None
    if as_json:
        sys.stdout.write(json.dumps(rec.to_dict(), indent=2, default=float) + "\n")
    if rec.status not in (OPTIMAL, FEASIBLE_TIME_LIMIT) or rec.plan is None:
        if not as_json:
            console.print(f"status: {rec.status} — {rec.message}")
        else:
            err_console.print(f"status: {rec.status} — {rec.message}", markup=False, highlight=False)
        raise typer.Exit(EXIT_NO_ANSWER)
    if not as_json:
        cur = dataset.company.currency
        table = Table(title=f"Alignment over the open periods ({cur})")
        for col in ("plan", "alignment efficiency", "simulated margin", "pay cost", "net margin", "simulated revenue",
                    "pay ÷ revenue"):
            table.add_column(col, justify="left" if col == "plan" else "right")
        for row in rec.comparison.itertuples():
            table.add_row(PLAN_LABELS.get(row.plan, row.plan), _pct(row.alignment_efficiency), f"{row.margin:,.0f}",
                          f"{row.pay_cost:,.0f}", f"{row.net_margin:,.0f}", f"{row.revenue:,.0f}",
                          _pct(row.pay_cost_share))
        console.print(table)
        goal = "net margin" if rec.objective.get("name") == "net_margin" else "margin"
        console.print(f"plan LP margin {rec.plan_result.margin:,.0f} {cur}; objective: {goal}; chosen: {rec.selected}")
        console.print(f"binding: {', '.join(rec.binding) or 'none'}"
                      + (f"; pay scaled × {rec.pay_scale:.3f} to the budget" if rec.pay_scale < 1 else ""))
        if rec.message:
            console.print(f"[yellow]{rec.message}[/]", markup=True, highlight=False)
        print_rule_outputs(rec, cur)
        weights = Table(title="Weight changes")
        for col in ("component", "metric", "products", "in force", "recommended", "delta"):
            weights.add_column(col, justify="right" if col in ("in force", "recommended", "delta") else "left")
        for row in rec.weight_changes.itertuples():
            weights.add_row(row.component_id, row.metric, row.products, f"{row.in_force:.3f}",
                            f"{row.recommended:.3f}", f"{row.delta:+.3f}")
        console.print(weights)
        adj = rec.adjustments
        summary = adj.groupby("component_id", sort=False).agg(
            rows=("rep_id", "size"), in_force=("in_force", "sum"), recommended=("recommended", "sum"),
            delta=("delta", "sum")).reset_index()
        targets = Table(title="Target changes over the open periods (sum over reps and periods)")
        for col in ("component", "rows", "in force", "recommended", "delta"):
            targets.add_column(col, justify="left" if col == "component" else "right")
        for row in summary.itertuples():
            targets.add_row(row.component_id, str(row.rows), f"{row.in_force:,.1f}", f"{row.recommended:,.1f}",
                            f"{row.delta:+,.1f}")
        console.print(targets)
    with staged_output(out) as stage:
        if stage is not None:
            write_plan(rec.plan, stage / "plan")
            # the reports: a name or a reason that starts like a formula is written as text
            reports = {"adjustments.csv": rec.adjustments, "weight_changes.csv": rec.weight_changes,
                       "comparison.csv": rec.comparison, "pay_impact.csv": pay_impact_frame(rec.pay_impact),
                       "frontier.csv": pd.DataFrame(rec.frontier), "changes.csv": pd.DataFrame(rec.changes),
                       "coverage.csv": pd.DataFrame(rec.coverage),
                       "rule_prices.csv": pd.DataFrame([{k: v for k, v in p.items() if k != "lifted_plan"}
                                                        for p in rec.rule_prices])}
            for file, frame in reports.items():
                spreadsheet_safe(frame).to_csv(stage / file, index=False)
    if out is not None and not as_json:
        console.print(f"wrote {out}/plan/ (components, curve, targets), adjustments.csv, weight_changes.csv, "
                      "comparison.csv, pay_impact.csv, frontier.csv, coverage.csv, rule_prices.csv, changes.csv")


def print_rule_outputs(rec, cur: str) -> None:
    """The frontier, the pay impact, the changes (without per-rep rows) and the attribution sentences."""
    frontier = Table(title="Frontier: the best plan with at most n components")
    for col in ("at most", "components", "alignment", "simulated margin", "pay cost", "net margin", "within budget"):
        frontier.add_column(col, justify="right")
    for row in rec.frontier:
        if row["margin"] is None:
            frontier.add_row(str(row["components"]), "—", "—", "—", "—", "—", "—")
            continue
        frontier.add_row(str(row["components"]), str(row.get("plan_components") or "—"), _pct(row["alignment"]),
                         f"{row['margin']:,.0f}", f"{row['pay_cost']:,.0f}", f"{row['net_margin']:,.0f}",
                         "yes" if row["within_budget"] else "no")
    console.print(frontier)
    if rec.coverage:
        console.print("quotas against the plan (open periods): " + "; ".join(
            f"{c['component_id']} {c['targets']:,.0f} of {c['planned']:,.0f} ({_pct(c['coverage'])})"
            for c in rec.coverage) + f" — min_quota_coverage {rec.coverage[0]['min_quota_coverage']:.0%}",
            markup=False, highlight=False)
    for price in rec.rule_prices:
        console.print(f"price: {price['message']}", markup=False, highlight=False)
    impact = rec.pay_impact
    if impact:
        console.print(f"pay impact ({cur}, open periods): {impact['in_force_total']:,.0f} in force → "
                      f"{impact['recommended_total']:,.0f} recommended; losers {impact['losers']}, winners "
                      f"{impact['winners']}, largest cut {_pct(impact['max_cut'])}, largest raise "
                      f"{_pct(impact.get('max_raise'))}, median change {_pct(impact['median_change'])}")
    changes = Table(title="Changes to the plan in force (per-rep target changes: --json or --out changes.csv)")
    for col in ("change", "component / attainment", "before", "after", "reason"):
        changes.add_column(col)
    targets = 0
    for c in rec.changes:
        if c["kind"] == "targets changed":
            targets += 1
            continue
        where = c.get("component_id") if "component_id" in c else f"attainment {c['attainment']:g}"
        changes.add_row(c["kind"], str(where), f"{c['before']:.3g}" if c["before"] is not None else "—",
                        f"{c['after']:.3g}", c["reason"])
    console.print(changes)
    console.print(f"{targets} per-rep target changes")
    for market in rec.attribution.get("markets", []):
        console.print(market["sentence"], markup=False, highlight=False)


def simulate(
    dataset_dir: DatasetArg,
    plan_dir: PlanDirArg,
    assumptions: AssumptionsOpt = None,
    out: OutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Simulate the reps' response to any plan (§4.5) and score its alignment efficiency."""
    dataset, assumption_set = load_inputs(dataset_dir, assumptions)
    with input_errors():
        plan = load_plan(plan_dir, dataset)
    params = effective_parameters(dataset, assumption_set)
    result = plan_targets(dataset, assumption_set, params=params)
    if result.status not in (OPTIMAL, FEASIBLE_TIME_LIMIT):
        if as_json:
            sys.stdout.write(json.dumps({"status": result.status, "alignment_efficiency": None}) + "\n")
        else:
            console.print(f"plan LP: {result.status}")
        raise typer.Exit(EXIT_NO_ANSWER)
    sim = simulate_plan(dataset, plan, params=params, plan_margin=result.margin)
    if as_json:
        sys.stdout.write(json.dumps({"status": result.status, **sim.to_dict()}, indent=2, default=float) + "\n")
    else:
        cur = dataset.company.currency
        table = Table(show_header=False, box=None)
        table.add_row("alignment efficiency", _pct(sim.alignment_efficiency))
        table.add_row("simulated margin", f"{sim.margin:,.0f} {cur} (plan LP {result.margin:,.0f})")
        table.add_row("simulated revenue", f"{sim.revenue:,.0f} {cur}")
        table.add_row("pay cost", f"{sim.pay_cost:,.0f} {cur} ({_pct(sim.pay_cost / sim.revenue if sim.revenue else None)} of revenue)")
        table.add_row("net margin", f"{sim.net_margin:,.0f} {cur} (margin − pay)")
        table.add_row("model", f"{sim.exact_model}, {sim.models_solved} HiGHS solves, {sim.seconds:.2f} s")
        console.print(table)
        by_product = sim.orders.groupby("product_id")["orders"].sum()
        mix = Table(title="Simulated orders per product (open periods)")
        mix.add_column("product")
        mix.add_column("orders", justify="right")
        for product, value in by_product.items():
            mix.add_row(product, f"{value:,.1f}")
        console.print(mix)
    with staged_output(out) as stage:
        if stage is not None:
            spreadsheet_safe(sim.orders).to_csv(stage / "simulated_orders.csv", index=False)
            spreadsheet_safe(sim.pay).to_csv(stage / "simulated_pay.csv", index=False)
