"""What every `comptune` command shares: consoles, exit codes, option types, input errors, staged output.

Exit codes: 0 success; 1 the model has no usable answer (infeasible, unbounded, solver error);
2 bad input (the message names the file, line and column or key). Outputs are written only after
everything succeeded, through a temporary folder, so a failed run leaves `--out` untouched.
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer
from rich.console import Console

from api.commands.console import TableConsole
from models.assumptions import AssumptionSet, load_assumptions
from models.dataset import Dataset, load_dataset
from models.errors import InputError

console = TableConsole()
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


def load_inputs(dataset_dir: Path, assumptions_file: Path | None, *,
                need_open_periods: bool = True) -> tuple[Dataset, AssumptionSet | None]:
    with input_errors():
        dataset = load_dataset(dataset_dir)
        assumptions = load_assumptions(assumptions_file, dataset) if assumptions_file else None
        if need_open_periods and not dataset.company.open_periods:
            raise InputError.single(
                "company.yaml", f"{dataset.company.current_period!r} is the last period: there is no open period to plan",
                column="current_period")
    return dataset, assumptions


def check_output_folder(out: Path) -> None:
    """`--out` must be a folder or not exist yet, under a folder or nothing (InputError otherwise)."""
    for path in (out, *out.parents):
        if path.exists() and not path.is_dir():
            what = "--out" if path == out else f"--out's parent {path}"
            raise InputError.single(str(out), f"{what} is a file, not a folder", column="--out")


@contextmanager
def staged_output(out: Path | None) -> Iterator[Path | None]:
    """Write into a temporary folder and move it into `out` only if the block succeeds."""
    if out is None:
        yield None
        return
    with input_errors():
        check_output_folder(out)
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


