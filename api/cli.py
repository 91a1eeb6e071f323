"""The `comptune` command line: solve a dataset folder, pay out a plan, generate synthetic data.

Exit codes: 0 success; 1 the model has no usable answer (infeasible, unbounded, solver error);
2 bad input (the message names the file, line and column or key). Outputs are written only after
everything succeeded, through a temporary folder, so a failed run leaves `--out` untouched.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Iterator, Optional

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from models.assumptions import load_assumptions
from models.dataset import Dataset, Plan, load_dataset, load_plan, read_csv, write_plan
from models.errors import InputError, ProblemCollector, RenamedFiles
from optimizer.plan.cascade import component_targets, kpi_targets
from optimizer.parameters import effective_parameters
from optimizer.alignment.payout import default_curve
from optimizer.alignment.payout import pay as compute_pay
from optimizer.plan.results import PlanResult
from optimizer.plan.targets import plan_targets
from optimizer.solve import OPTIMAL, FEASIBLE_TIME_LIMIT, SolveOptions

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.split("\n\n")[0])
console = Console()
err_console = Console(stderr=True, soft_wrap=True)

EXIT_NO_ANSWER = 1
EXIT_BAD_INPUT = 2

DatasetArg = Annotated[Path, typer.Argument(help="Dataset folder in the comptune format (see README).")]
AssumptionsOpt = Annotated[Optional[Path], typer.Option("--assumptions", "-a", help="Assumption set (YAML or JSON).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]
OutOpt = Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder to write results to.")]
PlanDirArg = Annotated[Path, typer.Argument(help="Plan folder: components.csv, curve.csv, targets.csv.")]


def fail_input(error: InputError) -> None:
    err_console.print("[bold red]bad input[/]")
    err_console.print(str(error), markup=False, highlight=False)
    raise typer.Exit(EXIT_BAD_INPUT)


@contextmanager
def input_errors() -> Iterator[None]:
    """Turn a user's bad input into exit code 2 with the located message."""
    try:
        yield
    except InputError as error:
        fail_input(error)


def load_inputs(dataset_dir: Path, assumptions_file: Path | None, *, need_open_periods: bool = True):
    with input_errors():
        dataset = load_dataset(dataset_dir)
        assumptions = load_assumptions(assumptions_file, dataset) if assumptions_file else None
        if need_open_periods and not dataset.company.open_periods:
            raise InputError.single(
                "company.yaml", f"{dataset.company.current_period!r} is the last period: there is no open period to plan",
                column="current_period")
    return dataset, assumptions


@contextmanager
def staged_output(out: Path | None) -> Iterator[Path | None]:
    """Write into a temporary folder and move it into `out` only if the block succeeds."""
    if out is None:
        yield None
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".comptune-", dir=out.parent))
    try:
        yield stage
        out.mkdir(parents=True, exist_ok=True)
        for item in sorted(stage.rglob("*")):
            target = out / item.relative_to(stage)
            if item.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(item), str(target))
    finally:
        shutil.rmtree(stage, ignore_errors=True)


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


@app.command()
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
    """Outcome orders per rep, product and period, validated like actuals (any period allowed)."""
    from models.dataset import validate_table  # the same schema as actuals.csv

    if not path.is_file():
        raise InputError.single(str(path), "outcomes file not found")
    problems = ProblemCollector()
    frame = validate_table(read_csv(path, str(path)), "actuals.csv", RenamedFiles(problems, lambda _: str(path)))
    problems.raise_if_any()
    assert frame is not None
    for column, known, what in (("rep_id", set(dataset.rep_ids), "rep"),
                                ("product_id", set(dataset.product_ids) | {"*"}, "product"),
                                ("period", set(dataset.company.periods), "period (not listed in company.yaml)")):
        for i in frame.index[~frame[column].isin(known)]:
            problems.add(str(path), f"unknown {what} {frame[column][i]!r}", line=int(i) + 2, column=column)
    problems.raise_if_any()
    return frame



@app.command()
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
        table = Table(title=f"Pay per rep and period ({dataset.company.currency})")
        for col in ("rep_id", "period", "target_variable_pay", "pay"):
            table.add_column(col, justify="right" if col in ("target_variable_pay", "pay") else "left")
        for row in summary.itertuples():
            table.add_row(row.rep_id, row.period, f"{row.target_variable_pay:,.2f}", f"{row.pay:,.2f}")
        console.print(table)
        console.print(f"total pay: {summary['pay'].sum():,.2f} {dataset.company.currency}")
    with staged_output(out) as stage:
        if stage is not None:
            summary.to_csv(stage / "pay.csv", index=False)
            detail.to_csv(stage / "pay_detail.csv", index=False)


@app.command()
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
) -> None:
    """Write a seeded synthetic dataset of any size in the comptune format."""
    from models.synthetic import synthetic_tables, write_tables

    if closed >= periods:
        err_console.print("--closed must be smaller than --periods")
        raise typer.Exit(EXIT_BAD_INPUT)
    tables = synthetic_tables(reps=reps, products=products, markets=markets, periods=periods, seed=seed,
                              closed_periods=closed, binding_mix=binding_mix)
    with staged_output(out) as stage:
        write_tables(tables, stage)
    console.print(f"wrote a {reps} reps × {products} products × {markets} markets × {periods} periods dataset to {out}")


from api.cli_service import register_service_commands  # noqa: E402 - service commands: load, token, serve

register_service_commands(app)

from api.cli_bench import bench  # noqa: E402
app.command()(bench)

from api.cli_sweep import sweep  # noqa: E402
app.command()(sweep)


from api.cli_align import recommend, simulate  # noqa: E402  (the alignment commands)

app.command()(recommend)
app.command()(simulate)


def main() -> None:  # pragma: no cover - console entry
    logging.basicConfig(level=logging.WARNING)
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
