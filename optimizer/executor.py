"""Where independent work runs: in this process, on a local Dask cluster, or on a named scheduler.

Every fan-out in the optimizer (period blocks of the plan LP, scenario sweeps, alignment candidates)
goes through `open_executor`, so the choice of where it runs is made in one place:

* ``workers <= 1`` and no scheduler: in-process, serial (no Dask import, no subprocesses);
* ``workers > 1``: a `dask.distributed.LocalCluster` of ``workers`` processes, one thread each;
* a scheduler address (the ``scheduler`` argument, else the ``COMPTUNE_DASK_SCHEDULER`` environment
  variable): a `dask.distributed.Client` connected to it. An unreachable address raises
  `ExecutorError` naming it after a short timeout, before any work is submitted.

`Executor.map` returns results in input order; an exception raised by ``fn`` propagates unchanged.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

SCHEDULER_ENV = "COMPTUNE_DASK_SCHEDULER"
CONNECT_TIMEOUT_SECONDS = 5.0


class ExecutorError(RuntimeError):
    """The requested executor cannot be opened (e.g. an unreachable Dask scheduler)."""


class Executor(Protocol):
    """Runs a function over independent items; results come back in input order."""

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]: ...


class SerialExecutor:
    """In-process, one item after another."""

    workers = 1

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        return [fn(item) for item in items]


class DaskExecutor:
    """Submits each item as a Dask task on a connected client."""

    def __init__(self, client: Any, *, workers: int) -> None:
        self.client = client
        self.workers = workers

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if not items:
            return []
        # pure=False: the same item twice is two tasks (fn may be a solve with side effects on
        # timing only, but identical keys would otherwise be collapsed silently).
        futures = self.client.map(fn, list(items), pure=False)
        return list(self.client.gather(futures))


def scheduler_address(scheduler: str | None = None) -> str | None:
    """The scheduler to connect to: the argument, else the environment variable, else none."""
    address = scheduler or os.environ.get(SCHEDULER_ENV, "").strip()
    return address or None


@contextmanager
def open_executor(workers: int = 1, scheduler: str | None = None) -> Iterator[Executor]:
    """Open the executor for ``workers`` processes or the named scheduler; close it on exit."""
    address = scheduler_address(scheduler)
    if address is None and workers <= 1:
        yield SerialExecutor()
        return

    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - dask is a declared dependency
        raise ExecutorError(f"dask.distributed is not installed: {exc}") from exc

    if address is not None:
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(
                f"cannot reach the Dask scheduler at {address!r} "
                f"(from {'the scheduler option' if scheduler else SCHEDULER_ENV}): {exc}"
            ) from exc
        logger.info("executor: Dask scheduler at %s", address)
        try:
            n_workers = max(1, len(client.scheduler_info().get("workers", {})))
            yield DaskExecutor(client, workers=n_workers)
        finally:
            client.close()
        return

    logger.info("executor: LocalCluster of %d worker processes", workers)
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield DaskExecutor(client, workers=workers)
        finally:
            client.close()
    finally:
        cluster.close()
