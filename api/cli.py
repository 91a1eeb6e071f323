"""The `comptune` command line: solve a dataset folder, pay out a plan, recommend, serve, benchmark.

This module only assembles the commands; each lives in `api/commands/` in the module of its
subject: `plan` (solve, pay, generate), `align` (recommend, simulate), `service` (load, token,
serve), `bench`, `sweep`, `calibrate` (import, calibrate) and `replay` (replay, correct), and `common` holds what they share (exit codes: 0 success, 1 no usable answer,
2 bad input). The console entry point is `api.cli:app`.
"""

from __future__ import annotations

import logging

import typer

from api.commands import align, bench, calibrate, plan, replay, service, sweep

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="The `comptune` command line: solve a dataset folder, pay out a plan, generate synthetic data.")
for command in (plan.solve, plan.pay, plan.generate, service.load):
    app.command()(command)
app.add_typer(service.token_app, name="token")
for command in (service.serve, bench.bench, align.recommend, align.simulate, sweep.sweep):
    app.command()(command)
app.command(name="import")(calibrate.import_command)
app.command(name="calibrate")(calibrate.calibrate_command)
app.command(name="replay")(replay.replay)
app.command(name="correct")(replay.correct)


def main() -> None:  # pragma: no cover - console entry
    logging.basicConfig(level=logging.WARNING)
    app()
