"""`comptune solve`, `pay` and `generate`: the plan LP, the payout calculator and synthetic data on the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer
from rich.table import Table

from api.commands.common import (
    EXIT_BAD_INPUT, EXIT_NO_ANSWER, AssumptionsOpt, DatasetArg, JsonOpt, OutOpt, PlanDirArg, console, err_console,
    input_errors, load_inputs, staged_output,
)
from models.dataset import (
    Dataset, Plan, check_actuals, load_plan, read_csv, spreadsheet_safe, validate_table, write_plan,
)
from models.errors import InputError, ProblemCollector, RenamedFiles
from optimizer.plan.cascade import component_targets, kpi_targets
from optimizer.parameters import effective_parameters
from optimizer.alignment.payout import default_curve
from optimizer.alignment.payout import pay as compute_pay
from optimizer.plan.results import PlanResult
from optimizer.plan.targets import plan_targets
from optimizer.solve import OPTIMAL, FEASIBLE_TIME_LIMIT, SolveOptions


def default_plan_shape(dataset: Dataset) -> Plan:
    """The components to cascade into when a dataset has no plan in force: total revenue only."""
    components = pd.DataFrame([{"component_id": "revenue", "metric": "revenue", "products": "*", "weight": 1.0}])
    targets = pd.DataFrame(columns=["rep_id", "component_id", "period", "target"])
    return Plan(components=components, curve=default_curve(), targets=targets,
                component_products={"revenue": tuple(dataset.product_ids)})


def result_json(result: PlanResult, dataset: Dataset) -> dict:
    return {
        "status": result.status,
        "objective": result.objective,
        "margin": result.margin,
        "revenue": result.revenue,
        "change_cost": result.change_cost,
        "currency": dataset.company.currency,
        "open_periods": list(dataset.company.open_periods),
        "variables": result.n_variables,
        "constraints": result.n_constraints,
        "iterations": result.iterations,
        "build_seconds": round(result.build_seconds, 4),
        "solve_seconds": round(result.solve_seconds, 4),
        "soft_slacks": result.slacks,
        "binding": result.binding,
        "missing_demand_rows": dataset.missing_demand_rows,
        "message": result.message,
    }


def print_plan_summary(result: PlanResult, dataset: Dataset) -> None:
    cur = dataset.company.currency
    console.print(f"[bold]{dataset.company.name}[/] — plan LP over {len(dataset.company.open_periods)} open periods "
                  f"({', '.join(dataset.company.open_periods[:1] + dataset.company.open_periods[-1:])})")
    if dataset.missing_demand_rows:
        console.print(f"demand.csv: {dataset.missing_demand_rows} market × product × period rows missing, taken as 0")
    table = Table(show_header=False, box=None)
    table.add_row("status", result.status)
    if result.has_solution:
        table.add_row("objective", f"{result.objective:,.2f} {cur}")
        table.add_row("planned margin", f"{result.margin:,.0f} {cur}")
        table.add_row("planned revenue", f"{result.revenue:,.0f} {cur}")
        table.add_row("change cost", f"{result.change_cost:,.2f} {cur}")
    table.add_row("size", f"{result.n_variables:,} variables, {result.n_constraints:,} constraints")
    table.add_row("time", f"build {result.build_seconds:.3f} s, solve {result.solve_seconds:.3f} s"
                  + (f", {result.iterations} simplex iterations" if result.iterations is not None else ""))
    console.print(table)
    if result.has_solution:
        if result.slacks:
            console.print("[bold yellow]soft constraints that needed slack[/]")
            for s in result.slacks:
                console.print(f"  {s['constraint']}: {s['amount']:,.2f} {cur} — {s['message']}")
        else:
            console.print("soft constraints: all met without slack")
        if result.binding:
            console.print("[bold]most binding constraints[/] (top 3 per family; all of them with --json)")
            shown: dict[str, int] = {}
            for b in result.binding:
                shown[b["family"]] = shown.get(b["family"], 0) + 1
                if shown[b["family"]] <= 3:
                    console.print(f"  {b['message']}", soft_wrap=True)
    elif result.message:
        console.print(result.message)


def solve(
    dataset_dir: DatasetArg,
    assumptions: AssumptionsOpt = None,
    out: OutOpt = None,
    as_json: JsonOpt = False,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", help="Seconds for the solver.")] = None,
) -> None:
    """Solve the plan LP (§4.1) for a dataset and cascade it into KPI targets (§4.2)."""
    dataset, assumption_set = load_inputs(dataset_dir, assumptions)
    params = effective_parameters(dataset, assumption_set)
    result = plan_targets(dataset, assumption_set, options=SolveOptions(time_limit=time_limit), params=params)
    if as_json:
        sys.stdout.write(json.dumps(result_json(result, dataset), indent=2, default=float) + "\n")
    else:
        print_plan_summary(result, dataset)
    if result.status not in (OPTIMAL, FEASIBLE_TIME_LIMIT):
        raise typer.Exit(EXIT_NO_ANSWER)
    with staged_output(out) as stage:
        if stage is not None:
            kpis = kpi_targets(params, result.orders)
            kpis.round(6).to_csv(stage / "kpi_targets.csv", index=False)
            shape = dataset.plan or default_plan_shape(dataset)
            targets = component_targets(params, result.orders, shape, keep_closed_from=dataset.plan)
            write_plan(Plan(components=shape.components, curve=shape.curve, targets=targets,
                            component_products=shape.component_products), stage / "plan")
    if out is not None and not as_json:
        console.print(f"wrote {out}/kpi_targets.csv and {out}/plan/ (components, curve, targets)")


def read_outcomes(path: Path, dataset: Dataset) -> pd.DataFrame:
    """Outcome orders per rep, product and period, checked like actuals (any listed period allowed)."""
    if not path.is_file():
        raise InputError.single(str(path), "outcomes file not found")
    problems = ProblemCollector()
    frame = validate_table(read_csv(path, str(path)), "actuals.csv", RenamedFiles(problems, lambda _: str(path)))
    problems.raise_if_any()
    assert frame is not None
    check_actuals(frame, periods=dataset.company.periods, closed=None, rep_ids=dataset.rep_ids,
                  product_ids=dataset.product_ids, file=str(path), problems=problems)
    problems.raise_if_any()
    return frame


def print_pay(summary: pd.DataFrame, detail: pd.DataFrame, currency: str) -> None:
    """Every figure of §4.3, so that an auditor can redo the sum: per rep, period and component the
    metric, target, attainment (metric ÷ target), curve payout f(attainment), effective weight
    (ω ÷ W) and pay (target variable pay × effective weight × payout); then each rep's total."""
    figures = Table(title=f"Pay per rep, period and component ({currency}): "
                          "pay = target variable pay × effective weight × curve payout")
    for col in ("rep_id", "period", "component", "metric", "target", "attainment", "curve payout",
                "effective weight", "pay"):
        figures.add_column(col, justify="left" if col in ("rep_id", "period", "component") else "right")
    for row in detail.itertuples():
        figures.add_row(row.rep_id, row.period, row.component_id, f"{row.metric:,.2f}", f"{row.target:,.2f}",
                        "—" if pd.isna(row.attainment) else f"{row.attainment:.4f}",
                        f"{row.curve_payout:.4f}", f"{row.effective_weight:.4f}", f"{row.pay:,.2f}")
    console.print(figures)
    table = Table(title=f"Pay per rep and period ({currency})")
    for col in ("rep_id", "period", "target_variable_pay", "pay"):
        table.add_column(col, justify="right" if col in ("target_variable_pay", "pay") else "left")
    for row in summary.itertuples():
        table.add_row(row.rep_id, row.period, f"{row.target_variable_pay:,.2f}", f"{row.pay:,.2f}")
    console.print(table)
    console.print(f"total pay: {summary['pay'].sum():,.2f} {currency}")


def pay(
    dataset_dir: DatasetArg,
    plan_dir: PlanDirArg,
    outcomes: Annotated[Path, typer.Argument(help="CSV of rep_id, product_id, period, orders.")],
    assumptions: AssumptionsOpt = None,
    out: OutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Pay each rep per period under a plan (§4.3), with every intermediate figure."""
    dataset, assumption_set = load_inputs(dataset_dir, assumptions, need_open_periods=False)
    with input_errors():
        plan = load_plan(plan_dir, dataset)
        frame = read_outcomes(outcomes, dataset)
    params = effective_parameters(dataset, assumption_set)
    summary, detail = compute_pay(params, plan, frame)
    periods = sorted(set(frame["period"]), key=list(dataset.company.periods).index)
    summary = summary[summary["period"].isin(periods)].reset_index(drop=True)
    detail = detail[detail["period"].isin(periods)].reset_index(drop=True)
    if as_json:
        payload = {"currency": dataset.company.currency, "total_pay": float(summary["pay"].sum()),
                   "pay": summary.to_dict(orient="records"),
                   "detail": json.loads(detail.to_json(orient="records"))}
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        print_pay(summary, detail, dataset.company.currency)
    with staged_output(out) as stage:
        if stage is not None:
            spreadsheet_safe(summary).to_csv(stage / "pay.csv", index=False)
            spreadsheet_safe(detail).to_csv(stage / "pay_detail.csv", index=False)


def generate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the dataset to.")],
    reps: Annotated[int, typer.Option(min=1)] = 50,
    products: Annotated[int, typer.Option(min=1)] = 8,
    markets: Annotated[int, typer.Option(min=1)] = 6,
    periods: Annotated[int, typer.Option(min=1)] = 12,
    closed: Annotated[int, typer.Option(min=0, help="Closed periods (with actuals).")] = 0,
    seed: int = 0,
    binding_mix: Annotated[bool, typer.Option(
        "--binding-mix", help="Add min/max mix shares the most profitable plan breaks (the horizon rows bind).")] = False,
    history_noise: Annotated[Optional[float], typer.Option(
        "--history-noise", min=0.0, help="Write the closed periods' actuals as the true reps' answers to the plan "
        "(§4.5) with this log-normal noise, the company's view (skill and comfort unknown) in --out and the true "
        "dataset in --out/truth/ (docs/calibration.md).")] = None,
    plan_change: Annotated[Optional[str], typer.Option(
        "--plan-change", help="With --history-noise: the closed period from which the plan in force replaced an "
        "earlier one (written to history_plans/before/, mapped in plans.yaml).")] = None,
) -> None:
    """Write a seeded synthetic dataset of any size in the comptune format."""
    from models.synthetic import synthetic_tables, write_tables

    if closed >= periods:
        err_console.print("--closed must be smaller than --periods")
        raise typer.Exit(EXIT_BAD_INPUT)
    if (history_noise is not None or plan_change is not None) and closed < 1:
        err_console.print("--history-noise and --plan-change need closed periods (--closed)")
        raise typer.Exit(EXIT_BAD_INPUT)
    if plan_change is not None and history_noise is None:
        err_console.print("--plan-change needs --history-noise")
        raise typer.Exit(EXIT_BAD_INPUT)
    tables = synthetic_tables(reps=reps, products=products, markets=markets, periods=periods, seed=seed,
                              closed_periods=closed, binding_mix=binding_mix)
    with staged_output(out) as stage:
        if history_noise is None:
            write_tables(tables, stage)
        else:
            write_with_history(tables, stage, noise=history_noise, seed=seed, plan_change=plan_change)
    console.print(f"wrote a {reps} reps × {products} products × {markets} markets × {periods} periods dataset to {out}"
                  + ("" if history_noise is None else f" (history with {history_noise:g} noise; the truth in {out}/truth/)"))


def write_with_history(tables: dict, folder: Path, *, noise: float, seed: int, plan_change: str | None) -> None:
    """The company's view with the true reps' noisy history as actuals.csv, the truth in truth/, and the
    earlier plan and plans.yaml when the plan changed (optimizer.calibration.synthetic)."""
    import yaml

    from models.dataset import dataset_from_tables
    from models.synthetic import known_tables, write_tables
    from optimizer.calibration.synthetic import synthetic_history

    try:
        history = synthetic_history(dataset_from_tables(tables), noise=noise, seed=seed, plan_change=plan_change)
    except ValueError as error:
        err_console.print(str(error))
        raise typer.Exit(EXIT_BAD_INPUT)
    truth = {**tables, "actuals.csv": history.actuals}
    write_tables(known_tables(truth), folder)
    write_tables(truth, folder / "truth")
    if history.earlier_plan is not None:
        write_plan(history.earlier_plan, folder / "history_plans" / "before")
        entries = [{"periods": {"from": span.periods[0], "to": span.periods[-1]}, "plan": span.source}
                   for span in history.spans]
        (folder / "plans.yaml").write_text(yaml.safe_dump({"plans": entries}, sort_keys=False))
