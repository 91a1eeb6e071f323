"""`comptune bench`: time the plan LP's product path against HiGHS alone on the same LP.

Each instance runs in fresh processes (product, then floor; Pyomo too on small ones), so the
ratios in one report were measured in one run. See docs/performance.md for what is timed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.commands.console import TableConsole
from optimizer.bench import SIZES, named_instance, run_benchmark, run_recommend_benchmark

console = TableConsole(stderr=True)  # progress and tables on stderr keep `--json` stdout clean


def _instances(sizes: str | None, reps: int | None, products: int | None, periods: int | None) -> list[dict]:
    custom = (reps, products, periods)
    if any(v is not None for v in custom):
        if sizes is not None:
            raise typer.BadParameter("give --sizes or --reps/--products/--periods, not both")
        if any(v is None for v in custom):
            raise typer.BadParameter("--reps, --products and --periods go together")
        return [{"reps": reps, "products": products, "periods": periods}]
    names = [s.strip() for s in (sizes or "sample,small").split(",") if s.strip()]
    unknown = [n for n in names if n not in SIZES]
    if unknown:
        raise typer.BadParameter(f"unknown size {', '.join(unknown)}; choose from {', '.join(SIZES)}",
                                 param_hint="--sizes")
    return [named_instance(n) for n in names]


def _table(results: list[dict]) -> Table:
    table = Table(title="plan LP: product path and period blocks vs HiGHS alone on the same LP (seconds)")
    for column in ("instance", "vars", "rows", "nnz", "build", "solve", "re-solve", "floor b+s",
                   "floor re-solve", "(b+s)/floor", "re-solve/floor", "blocks b+s", "blocks/floor",
                   "blocks re-solve/floor", "rounds", "iters", "RSS MB", "objective"):
        table.add_column(column, justify="left" if column == "instance" else "right")
    for r in results:
        blocks = "decomposed_ratio" in r
        table.add_row(
            r["name"], f"{r['variables']:,}", f"{r['constraints']:,}", f"{r['nonzeros']:,}",
            f"{r['build_s']:.3f}", f"{r['solve_s']:.3f}", f"{r['resolve_s']:.3f}",
            f"{r['floor_build_s'] + r['floor_solve_s']:.3f}", f"{r['floor_resolve_s']:.3f}",
            f"{r['build_solve_ratio']:.2f}", f"{r['resolve_ratio']:.2f}",
            f"{r['decomposed_build_s'] + r['decomposed_solve_s']:.3f}" if blocks else "-",
            f"{r['decomposed_ratio']:.2f}" if blocks else "-",
            f"{r['decomposed_resolve_ratio']:.2f}" if blocks else "-",
            (f"{r['decomposed_rounds']}" + (" → mono" if r.get("decomposed_fallback") else "")) if blocks else "-",
            f"{r['iterations']:,}", f"{r['peak_rss_mb']:.0f}",
            f"{r['objective']:,.2f}" + ("" if r["agree"] else " ≠ floor!"),
        )
    return table


def bench(
    sizes: Annotated[Optional[str], typer.Option(
        "--sizes", help=f"Comma-separated named instances: {', '.join(SIZES)} (default sample,small).")] = None,
    reps: Annotated[Optional[int], typer.Option("--reps", min=1, help="Custom instance: reps.")] = None,
    products: Annotated[Optional[int], typer.Option("--products", min=1, help="Custom instance: products.")] = None,
    periods: Annotated[Optional[int], typer.Option("--periods", min=1, help="Custom instance: periods.")] = None,
    markets: Annotated[int, typer.Option("--markets", min=1, help="Markets of a custom instance.")] = 8,
    seed: Annotated[int, typer.Option("--seed", help="Seed of a custom instance.")] = 0,
    repeats: Annotated[int, typer.Option("--repeats", min=1, help="Repetitions per path (median).")] = 1,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Processes solving the period blocks, or with "
                                         "--recommend the simulations (a Dask LocalCluster when > 1).")] = 1,
    recommend: Annotated[bool, typer.Option(
        "--recommend", help="Time `comptune recommend` on each instance against HiGHS alone on its plan LP.")] = False,
    closed: Annotated[int, typer.Option("--closed", min=0, help="Closed periods of a custom instance.")] = 0,
    dataset: Annotated[Optional[Path], typer.Option("--dataset", help="With --recommend: a dataset folder.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Also write the JSON object here.")] = None,
) -> None:
    """Benchmark build, solve and warm re-solve of the plan LP against HiGHS alone (the floor)."""
    if recommend:
        _bench_recommend(sizes, reps, products, periods, markets, seed, closed, dataset, workers, as_json, out)
        return
    instances = _instances(sizes, reps, products, periods)
    results = []
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        for i, spec in enumerate(instances, start=1):
            label = spec.get("name") or f"{spec['reps']}x{spec['products']}x{spec['periods']}"
            task = progress.add_task(f"[{i}/{len(instances)}] {label}", total=None)

            def report(text: str, task=task, label=label, i=i) -> None:
                progress.update(task, description=f"[{i}/{len(instances)}] {label}: {text}")

            kwargs = dict(spec)
            if "reps" in kwargs and "dataset" not in kwargs:
                kwargs.update(markets=markets, seed=seed)
            results.append(run_benchmark(**kwargs, repeats=repeats, progress=report, workers=workers))
            progress.remove_task(task)
            console.print(f"[{i}/{len(instances)}] {label}: done "
                          f"(product {results[-1]['build_s'] + results[-1]['solve_s']:.2f} s, "
                          f"floor {results[-1]['floor_build_s'] + results[-1]['floor_solve_s']:.2f} s)")
    payload = {"instances": results, "agree": all(r["agree"] for r in results)}
    if not _write(payload, out, as_json):
        TableConsole().print(_table(results))
        if out is not None:
            TableConsole().print(f"wrote {out}")
    if not payload["agree"]:
        console.print("[bold red]product and floor objectives differ by more than 1e-6 relative[/]")
        raise typer.Exit(1)


def _write(payload: dict, out, as_json: bool) -> bool:
    """Write the JSON payload to `out` (if given) and to stdout with --json; True when printed as JSON."""
    text = json.dumps(payload, indent=2, default=float)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
    if as_json:
        sys.stdout.write(text + "\n")
    return as_json


def _bench_recommend(sizes, reps, products, periods, markets, seed, closed, dataset, workers, as_json, out) -> None:
    """`bench --recommend`: recommend's wall time against HiGHS alone on the same company's plan LP."""
    if dataset is not None:
        instances = [{"dataset": str(dataset)}]
    else:
        instances = _instances(sizes, reps, products, periods)
        for spec in instances:
            spec.pop("resolve_change", None)
            if "reps" in spec and "dataset" not in spec:
                spec.update(markets=markets, seed=seed, closed=closed if spec.get("name") is None else 0)
    results = []
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        for i, spec in enumerate(instances, start=1):
            task = progress.add_task(f"[{i}/{len(instances)}]", total=None)

            def report(text: str, task=task, i=i) -> None:
                progress.update(task, description=f"[{i}/{len(instances)}] {text}")

            results.append(run_recommend_benchmark(**spec, workers=workers, progress=report))
            progress.remove_task(task)
    if _write({"recommend": results}, out, as_json):
        return
    table = Table(title="recommend vs HiGHS alone on the same plan LP (seconds)")
    for column in ("instance", "plan variables", "floor", "recommend", "ratio", "CPU ratio", "RSS MB", "alignment"):
        table.add_column(column, justify="left" if column == "instance" else "right")
    for r in results:
        table.add_row(r["name"], f"{r['plan_variables']:,}", f"{r['floor_s']:.2f}", f"{r['recommend_s']:.2f}",
                      f"{r['ratio']:.2f}", f"{r['cpu_ratio']:.2f}", f"{r['recommend_peak_rss_mb']:.0f}",
                      "—" if r["alignment_efficiency"] is None else f"{r['alignment_efficiency']:.3f}")
    TableConsole().print(table)
