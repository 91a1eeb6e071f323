"""`comptune recommend` and `comptune simulate`: the alignment engine on the command line (§4.4–§4.6).

`recommend` solves the plan LP, the incentive LP and the exact response simulation of the
recommendation and the three baselines, prints the comparison and the changes against the plan in
force, and can write the recommended plan in the `plan/` format. `simulate` scores any plan folder
against a dataset, so that a comp designer can test a hand-made plan. Exit codes as in `api.cli`.
"""

from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli import (
    EXIT_NO_ANSWER, AssumptionsOpt, DatasetArg, JsonOpt, OutOpt, PlanDirArg, console, err_console, input_errors,
    load_inputs, staged_output,
)
from models.dataset import load_plan, write_plan
from optimizer.parameters import effective_parameters
from optimizer.plan.targets import plan_targets
from optimizer.alignment.recommend import recommend as recommend_plan
from optimizer.executor import ExecutorError
from optimizer.alignment.response import simulate as simulate_plan
from optimizer.solve import FEASIBLE_TIME_LIMIT, OPTIMAL, SolveOptions

PLAN_LABELS = {"recommended": "recommended", "in_force": "plan in force", "flat_revenue": "flat revenue commission",
               "gross_margin_share": "equal share of gross margin"}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


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
    workers: Annotated[int, typer.Option(
        "--workers", min=1, help="Processes for the simulations (> 1: a Dask LocalCluster; "
        "COMPTUNE_DASK_SCHEDULER names a cluster instead).")] = 1,
) -> None:
    """Recommend targets and component weights (§4.4) and compare them with the baselines (§4.5)."""
    dataset, assumption_set = load_inputs(dataset_dir, assumptions)
    try:
        with phase_progress() as progress:
            rec = recommend_plan(dataset, assumption_set, options=SolveOptions(time_limit=time_limit),
                                 in_force_only=in_force_only, progress=progress, workers=workers)
    except ExecutorError as exc:
        err_console.print(f"error: {exc}")
        raise typer.Exit(EXIT_NO_ANSWER) from None
    if as_json:
        sys.stdout.write(json.dumps(rec.to_dict(), indent=2, default=float) + "\n")
    if rec.status not in (OPTIMAL, FEASIBLE_TIME_LIMIT) or rec.plan is None:
        if not as_json:
            console.print(f"status: {rec.status} — {rec.message}")
        raise typer.Exit(EXIT_NO_ANSWER)
    if not as_json:
        cur = dataset.company.currency
        table = Table(title=f"Alignment over the open periods ({cur})")
        for col in ("plan", "alignment efficiency", "simulated margin", "simulated revenue", "pay cost", "pay ÷ revenue"):
            table.add_column(col, justify="left" if col == "plan" else "right")
        for row in rec.comparison.itertuples():
            table.add_row(PLAN_LABELS.get(row.plan, row.plan), _pct(row.alignment_efficiency), f"{row.margin:,.0f}",
                          f"{row.revenue:,.0f}", f"{row.pay_cost:,.0f}", _pct(row.pay_cost_share))
        console.print(table)
        console.print(f"plan LP margin {rec.plan_result.margin:,.0f} {cur}; chosen: {rec.selected}")
        console.print(f"binding: {', '.join(rec.binding)}" + (f"; pay scaled × {rec.pay_scale:.3f} to the budget"
                                                              if rec.pay_scale < 1 else ""))
        if rec.message:
            console.print(f"[yellow]{rec.message}[/]")
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
            rec.adjustments.to_csv(stage / "adjustments.csv", index=False)
            rec.weight_changes.to_csv(stage / "weight_changes.csv", index=False)
            rec.comparison.to_csv(stage / "comparison.csv", index=False)
    if out is not None and not as_json:
        console.print(f"wrote {out}/plan/ (components, curve, targets), adjustments.csv, weight_changes.csv, comparison.csv")


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
            sim.orders.to_csv(stage / "simulated_orders.csv", index=False)
            sim.pay.to_csv(stage / "simulated_pay.csv", index=False)
