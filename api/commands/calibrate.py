"""`comptune import` and `comptune calibrate`: a CRM export into actuals.csv, and the behaviour model from the history."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer
from rich.table import Table

from api.commands.common import (
    EXIT_BAD_INPUT, EXIT_NO_ANSWER, DatasetArg, JsonOpt, OutOpt, console, err_console, input_errors, load_inputs,
    staged_output,
)
from models.crm_import import combine, import_transactions, load_column_map
from models.dataset import DATASET_FILES, PLAN_FILES, read_tables
from models.errors import InputError
from models.history import default_spans, load_history, load_plan_map


def import_command(
    dataset_dir: DatasetArg,
    transactions: Annotated[list[Path], typer.Option(
        "--transactions", help="A CRM export (CSV): opportunity lines or activities. Repeat with --map for several.")],
    column_map: Annotated[list[Path], typer.Option(
        "--map", help="The column map of each export (YAML; datasets/crm/ has examples), in the same order.")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="File to write (default DATASET/actuals.csv).")] = None,
    skip_unknown: Annotated[bool, typer.Option(
        "--skip-unknown", help="Leave out lines with an unknown owner or product, an unparsable or out-of-range "
                               "date, a duplicate, ... and list them, instead of stopping.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Turn CRM exports into actuals.csv (per rep, product and closed period: orders, calls, meetings, quotes)."""
    dataset, _ = load_inputs(dataset_dir, None, need_open_periods=False)
    target = out or dataset_dir / "actuals.csv"
    with input_errors():
        if len(transactions) != len(column_map):
            raise InputError.single("--map", f"give one --map per --transactions ({len(transactions)} exports, "
                                             f"{len(column_map)} maps)", column="--map")
        if target.is_dir():
            raise InputError.single(str(target), "--out is a folder; give the file to write", column="--out")
        results = [import_transactions(file, load_column_map(mapping, dataset), dataset, skip_unknown=skip_unknown)
                   for file, mapping in zip(transactions, column_map)]
        actuals = combine(results, list(dataset.company.periods))
        if len(actuals) == 0:
            raise InputError.single(str(transactions[0]), "no line became an actual (every line was left out or skipped)")
    _write_atomically(actuals, target)
    report = {"wrote": str(target), "rows": len(actuals),
              "exports": [{"file": str(f), **r.to_dict()} for f, r in zip(transactions, results)]}
    if json_out:
        print(json.dumps(report, indent=2))
        return
    for entry in report["exports"]:
        console.print(f"{entry['file']}: {entry['lines']:,} lines, {entry['used']:,} used, "
                      f"{entry['left_out_by_stage_or_type']:,} left out by stage or type")
        for kind, skipped in entry["skipped"].items():
            console.print(f"  skipped {skipped['count']:,} {kind}: {', '.join(map(str, skipped['examples']))}"
                          + (" …" if skipped["count"] > len(skipped["examples"]) else ""))
    totals = actuals[["orders", "calls", "meetings", "quotes"]].sum()
    console.print(f"wrote {target}: {len(actuals):,} rows ({totals['orders']:,.0f} orders, {totals['quotes']:,.0f} "
                  f"quotes, {totals['meetings']:,.0f} meetings, {totals['calls']:,.0f} calls)")


def _write_atomically(frame: pd.DataFrame, target: Path) -> None:
    """Write a CSV next to `target` and move it into place, so that a failure leaves the old file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".comptune-", suffix=".csv", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            frame.to_csv(stream, index=False, lineterminator="\n")
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def calibrate_command(
    dataset_dir: DatasetArg,
    history: Annotated[Optional[Path], typer.Option(
        "--history", help="Actuals to fit (the actuals.csv format); default: the dataset's actuals.csv.")] = None,
    plans: Annotated[Optional[Path], typer.Option(
        "--plans", help="Which plan folder was in force in which closed periods (YAML, see docs/calibration.md); "
                        "default: the dataset's plan/ throughout.")] = None,
    holdout: Annotated[int, typer.Option(
        "--holdout", min=0, help="Fit on all but the last K closed months and predict those.")] = 0,
    out: OutOpt = None,
    json_out: JsonOpt = False,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Processes for the inverse LPs and simulations.")] = 1,
    polish_rounds: Annotated[int, typer.Option(
        "--polish-rounds", min=-1, help="Rounds of the judge's check of the fit (-1: none, no in-sample figure).")] = 2,
) -> None:
    """Estimate funnel rates, skill and comfort from the closed periods' history; write a calibrated dataset and a report."""
    from optimizer.calibration.estimate import calibrate
    from optimizer.executor import ExecutorError, open_executor

    dataset, _ = load_inputs(dataset_dir, None, need_open_periods=False)
    with input_errors():
        actuals = load_history(dataset, history)
        spans = load_plan_map(plans, dataset, actuals) if plans else default_spans(dataset, actuals)
        months = len({p for s in spans for p in s.periods})
        if holdout and holdout >= months:
            raise InputError.single("--holdout", f"must leave at least one month to fit (the history has {months})",
                                    column="--holdout")
    with staged_output(out) as stage:
        try:
            with input_errors(), open_executor(workers) as executor:
                result = calibrate(dataset, actuals, spans, holdout=holdout, executor=executor,
                                   polish_rounds=polish_rounds)
        except ExecutorError as error:
            err_console.print(str(error))
            raise typer.Exit(EXIT_BAD_INPUT)
        except RuntimeError as error:  # a solver ended without an answer
            err_console.print(f"calibration failed: {error}")
            raise typer.Exit(EXIT_NO_ANSWER)
        if stage is not None:
            write_calibration(dataset_dir, result, stage)
    if json_out:
        print(json.dumps(result.to_dict(tables=False), indent=2, default=str))
        return
    print_calibration(result, dataset.company.name, out)


def write_calibration(dataset_dir: Path, result, folder: Path) -> None:
    """The calibrated dataset (the input folder's files, funnel.csv and rep_products.csv replaced) and calibration/."""
    from models.synthetic import write_tables

    tables = {name: table for name, table in read_tables(dataset_dir).items()
              if name in ("company.yaml", *DATASET_FILES, *PLAN_FILES, "actuals.csv")}
    tables["funnel.csv"] = result.dataset.funnel
    tables["rep_products.csv"] = result.dataset.rep_products
    write_tables(tables, folder)
    report = folder / "calibration"
    report.mkdir(parents=True, exist_ok=True)
    (report / "report.json").write_text(json.dumps(result.to_dict(tables=False), indent=2, default=str))
    result.rep_products.to_csv(report / "rep_products_estimates.csv", index=False, lineterminator="\n")
    result.funnel.to_csv(report / "funnel_estimates.csv", index=False, lineterminator="\n")


def print_calibration(result, company: str, out: Path | None) -> None:
    s = result.summary
    history = s["history"]
    console.print(f"[bold]{company}[/] — calibrated from {history['months']} closed months "
                  f"({history['periods'][0]} … {history['periods'][-1]}), {history['orders']:,.1f} orders, "
                  f"{len(history['plans'])} plan(s) in force, {result.seconds:.1f} s")
    table = Table(show_header=True, box=None)
    table.add_column("estimate")
    table.add_column("by status")
    for label, key in (("skill (rep × product)", "skill_status"), ("comfort (rep × product)", "comfort_status"),
                       ("funnel (market × product)", "funnel_status")):
        table.add_row(label, ", ".join(f"{status} {count:,}" for status, count in s[key].items()))
    table.add_row("effort_aversion", f"{s['effort_aversion']['value']:g}: {s['effort_aversion']['status']}")
    console.print(table)
    if s.get("in_sample_wape") is not None:
        console.print(f"in sample: the calibrated reps reproduce the history's orders with WAPE {s['in_sample_wape']:.1%}")
    if s["hours_inconsistent_count"]:
        console.print(f"[yellow]{s['hours_inconsistent_count']} rep(s) whose history needs more than their hours at "
                      f"the estimated skills[/]: {', '.join(s['hours_inconsistent_reps'])}")
    if result.holdout:
        h = result.holdout
        console.print(f"holdout {', '.join(h['test_periods'])} predicted from {len(h['fit_periods'])} months: WAPE "
                      + ", ".join(f"{name.replace('_', ' ')} {value:.1%}" for name, value in h["wape"].items() if value is not None))
        if h["new_plan"]:
            console.print(f"  under a plan no fit month saw ({', '.join(h['new_plan']['periods'])}): WAPE "
                          + ", ".join(f"{name.replace('_', ' ')} {value:.1%}" for name, value in h["new_plan"]["wape"].items()
                                      if value is not None))
    if out is not None:
        console.print(f"wrote {out}/ (the calibrated dataset) and {out}/calibration/ (report.json, "
                      "rep_products_estimates.csv, funnel_estimates.csv)")
