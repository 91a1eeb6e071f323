"""`comptune replay` and `comptune correct`: the tactical loop replayed over a plan year (issue 18).

`replay` replays the open months of a dataset under a *world* (an assumption set: the truth the
company does not know) for each policy — static, quarterly, monthly, oracle — and prints per
policy the realized margin, revenue, variable pay and net margin, the reviews run and plans
accepted, pay stability, the share of the oracle's gain recovered, and the gaming audit.
`correct` prints the correction system's proposed assumption set for the dataset's closed periods,
each factor with its evidence. Semantics in docs/replay.md. Exit codes as in `api.commands.common`:
2 for bad input naming the key (nothing written), 1 when a replay runs past its time limit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
import yaml
from rich.table import Table

from api.commands.common import (
    EXIT_BAD_INPUT, EXIT_NO_ANSWER, DatasetArg, JsonOpt, console, err_console, input_errors, staged_output,
)
from models.assumptions import load_assumptions
from models.dataset import load_dataset
from models.errors import InputError
from optimizer.correction import correct as correct_dataset
from optimizer.executor import ExecutorError, open_executor
from optimizer.replay import POLICIES, ReplayOptions, check_options, check_world, run_replay
from optimizer.replay.engine import ReplayTimeout

OutDirOpt = Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for replay.json, months.csv and plans/.")]


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def replay(
    dataset_dir: DatasetArg,
    world: Annotated[Path, typer.Option("--world", "-w", help="The world: an assumption set (YAML or JSON) "
                                        "that is the truth of the open months.")],
    policies: Annotated[str, typer.Option("--policies", help="Comma-separated: " + ",".join(POLICIES))] = ",".join(POLICIES),
    noise: Annotated[float, typer.Option("--noise", help="Sigma of the mean-one log-normal factor on realized "
                                         "orders per rep, product and month (0: deterministic).")] = 0.0,
    seeds: Annotated[int, typer.Option("--seeds", help="Repeat over this many noise seeds (mean and spread).")] = 1,
    accept_threshold: Annotated[float, typer.Option(
        "--accept-threshold", help="Accept a reviewed plan when its expected net margin beats the plan in force "
        "by more than this share of plan margin.")] = 0.005,
    gaming_reps: Annotated[int, typer.Option("--gaming-reps", help="Reps sampled for the gaming audit (0: none).")] = 20,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the noise and of the gaming sample.")] = 0,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Processes (> 1: a Dask LocalCluster).")] = 1,
    scheduler: Annotated[Optional[str], typer.Option(
        help="Dask scheduler address (default: $COMPTUNE_DASK_SCHEDULER, else local).")] = None,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", help="Seconds for the whole replay.")] = None,
    out: OutDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replay the plan year month by month under a world, for each policy, and audit it for gaming."""
    with input_errors():
        dataset = load_dataset(dataset_dir)
        world_set = load_assumptions(world, dataset)
        options = ReplayOptions(policies=tuple(p.strip() for p in policies.split(",") if p.strip()), noise=noise,
                                seeds=seeds, accept_threshold=accept_threshold, gaming_reps=gaming_reps, seed=seed,
                                time_limit_s=time_limit)
        check_options(options)
        check_world(dataset, world_set)
    try:
        with open_executor(workers=workers, scheduler=scheduler) as executor:
            result = run_replay(dataset, world_set, options, executor=executor, progress=_progress_line)
    except ExecutorError as error:
        err_console.print(f"[bold red]executor[/] {error}", markup=True, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    except ReplayTimeout as error:
        err_console.print(str(error), markup=False, highlight=False)
        raise typer.Exit(EXIT_NO_ANSWER)
    with staged_output(out) as stage:
        if stage is not None:
            result.write(stage)
    data = result.to_dict()
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=float) + "\n")
        return
    print_replay(data)
    if out is not None:
        console.print(f"wrote {out}/replay.json, months.csv and plans/")


def _progress_line(phase: str, done: float) -> None:
    err_console.print(f"replay: {phase} {100 * done:.0f} %", highlight=False)


def print_replay(data: dict) -> None:
    cur = data["currency"]
    table = Table(title=f"{data['company']}: replay of {data['periods'][0]}–{data['periods'][-1]} under "
                        f"world {data['world']!r} ({cur})")
    for col in ("policy", "margin", "revenue", "pay", "net margin", "sd", "reviews", "accepted",
                "pay stability", "share of oracle gain"):
        table.add_column(col, justify="left" if col == "policy" else "right")
    for p in data["policies"]:
        t = p["total"]
        table.add_row(p["policy"], _money(t["margin"]), _money(t["revenue"]), _money(t["pay"]),
                      _money(t["net_margin"]), _money(p["spread"]["net_margin_sd"]), str(p["reviews_run"]),
                      str(p["plans_accepted"]), _pct(p["pay_stability"]), _pct(p["share_of_oracle_gain"]))
    console.print(table)
    console.print(f"plan LP margin {data['plan_margin']:,.0f} {cur}; accept threshold "
                  f"{data['options']['accept_threshold']:.2%} of it", highlight=False)
    for audit in data["gaming"]:
        console.print(f"gaming audit, {audit['policy']}: {audit['verdict']}"
                      + (f" ({', '.join(audit['rewarded'])})" if audit["rewarded"] else ""), highlight=False)
        for row in audit["reps"]:
            if row["rep_id"] in audit["rewarded"]:
                console.print(f"  {row['rep_id']}: {row['pay_honest']:,.0f} → {row['pay_holding_back']:,.0f} "
                              f"{cur} ({row['gain']:+,.0f})", highlight=False)
    console.print(f"{data['timing']['wall_s']:.1f} s wall, {data['timing']['cpu_s']:.1f} s CPU", highlight=False)


def correct(
    dataset_dir: DatasetArg,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="File for the proposed assumption set (YAML, "
                                                "or JSON when it ends in .json).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Propose market assumptions from the closed periods' pace (per market and product), with the evidence."""
    with input_errors():
        dataset = load_dataset(dataset_dir)
        if out is not None and out.exists() and out.is_dir():
            raise InputError.single(str(out), "--out is a folder; give a file name", column="--out")
        correction = correct_dataset(dataset)
    body = correction.to_dict()
    if out is not None:
        text = (json.dumps(body["assumptions"], indent=2) + "\n" if out.suffix.lower() == ".json"
                else yaml.safe_dump(body["assumptions"], sort_keys=False, allow_unicode=True))
        out.parent.mkdir(parents=True, exist_ok=True)
        staged = out.with_name(f".{out.name}.partial")
        staged.write_text(text, encoding="utf-8")
        staged.replace(out)
    if as_json:
        sys.stdout.write(json.dumps(body, indent=2, default=float) + "\n")
        return
    proposed = [e for e in correction.evidence if e["value"] != 1.0]
    table = Table(title=f"Correction from the pace of the closed periods (up to {dataset.company.current_period})")
    for col in ("market", "product", "factor", "value", "months", "actual", "expected", "shrinkage", "reason"):
        table.add_column(col, justify="right" if col in ("value", "months", "actual", "expected", "shrinkage") else "left")
    for e in proposed:
        table.add_row(e["market"], e["product"], e["factor"], f"{e['value']:g}", str(e["months"]),
                      f"{e['orders_actual']:,.1f}", f"{e['orders_expected']:,.1f}", f"{e['shrinkage']:.2f}", e["reason"])
    console.print(table)
    console.print(f"{len(proposed)} factors proposed of {len(correction.evidence)} considered; "
                  f"{len(correction.assumptions.adjustments)} adjustments in {correction.assumptions.name!r}",
                  highlight=False)
    if out is not None:
        console.print(f"wrote {out}")
