"""`comptune sweep`: the plan LP under many scenarios from a grid file, and a robust choice of plan.

Scenarios run through `optimizer.executor`: in this process by default, on a Dask LocalCluster with
`--workers N`, on a cluster with `--scheduler ADDRESS` or `COMPTUNE_DASK_SCHEDULER`. Exit codes as
for every command: 2 for bad input (the message names the file and key) and for an unreachable
scheduler (named); outputs are written only when everything succeeded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from api.commands.common import EXIT_BAD_INPUT, console, err_console, staged_output
from models.dataset import load_dataset
from models.errors import InputError
from models.sweep import DEFAULT_MAX_SCENARIOS, parse_sweep, read_sweep_file
from optimizer.executor import ExecutorError, open_executor
from optimizer.review.sweep import run_sweep, write_sweep


def sweep(
    dataset_dir: Annotated[Path, typer.Argument(help="Dataset folder in the comptune format.")],
    grid: Annotated[Path, typer.Option("--grid", "-g", help="Sweep file (YAML or JSON): factors, grid or draws.")],
    workers: Annotated[int, typer.Option(min=1, help="Processes (a Dask LocalCluster when > 1).")] = 1,
    scheduler: Annotated[Optional[str], typer.Option(
        help="Dask scheduler address (default: $COMPTUNE_DASK_SCHEDULER, else local).")] = None,
    criterion: Annotated[Optional[str], typer.Option(
        help="Robust choice: expected (best expected margin) or worst (best worst case); overrides the file.")] = None,
    max_scenarios: Annotated[int, typer.Option(min=1, help="Refuse sweeps with more scenarios.")] = DEFAULT_MAX_SCENARIOS,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", help="Seconds per scenario solve.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for sweep.json and the CSV tables.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
) -> None:
    """Solve the plan LP under every scenario of a grid file and choose the most robust plan."""
    try:
        dataset = load_dataset(dataset_dir)
        body = read_sweep_file(grid)
        if criterion is not None:
            body = {**body, "criterion": criterion}
        spec = parse_sweep(body, dataset, file=str(grid), max_scenarios=max_scenarios)
    except InputError as error:
        err_console.print("[bold red]bad input[/]")
        err_console.print(str(error), markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        with open_executor(workers=workers, scheduler=scheduler) as executor:
            result = run_sweep(dataset, spec, executor=executor, time_limit=time_limit)
    except ExecutorError as error:
        err_console.print(f"[bold red]executor[/] {error}", markup=True, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    with staged_output(out) as stage:  # a failed write leaves --out untouched
        if stage is not None:
            write_sweep(result, stage)
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2, default=float) + "\n")
        return
    table = Table(title=f"Sweep {spec.name}: {len(result.scenarios)} scenarios ({spec.mode}), "
                        f"{dataset.company.currency}")
    for column in ("candidate", "expected_margin", "worst_margin", "mean_efficiency", "worst_efficiency"):
        table.add_column(column, justify="left" if column == "candidate" else "right")
    for row in result.candidates.itertuples():
        table.add_row(row.candidate, f"{row.expected_margin:,.0f}", f"{row.worst_margin:,.0f}",
                      f"{row.mean_efficiency:.4f}", f"{row.worst_efficiency:.4f}")
    console.print(table)
    choice = result.choice
    console.print(f"robust choice ({choice['criterion']}): [bold]{choice['candidate']}[/] — {choice.get('reason', '')}")
    if out is not None:
        console.print(f"wrote {out}/sweep.json, scenarios.csv, candidates.csv, scores.csv")
