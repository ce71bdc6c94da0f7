"""The Dask side of a sweep: the cluster (local, or one given by address) and members run in batches.

A local cluster is one single-threaded worker process per core (SWMM is one process's engine) on
127.0.0.1, with no dashboard and no HTTP routes; each worker gets the plugin that keeps its city
(:mod:`twin.ensemble.worker`). Members go in batches (about ten per worker, after EMA Workbench's
``DistributedEvaluator``), so that scheduling costs little against runs of a fraction of a second.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import SweepError
from .members import Member

BATCHES_PER_WORKER = 10
CONNECT_TIMEOUT_S = 10  # s to reach a scheduler given by address
MAX_BATCH = 50


def check_cluster_options(workers: int | None, scheduler: str | None) -> None:
    if scheduler is not None and workers is not None:
        raise SweepError("--workers and --scheduler: got both: expected one (a cluster given by address has its own)")
    if workers is not None and workers < 1:
        raise SweepError(f"--workers: got {workers}: expected at least 1")
    if scheduler is not None and not scheduler.startswith(("tcp://", "tls://", "inproc://", "ucx://", "ws://")):
        raise SweepError(f"--scheduler: got {scheduler[:60]!r}: expected a Dask scheduler address, "
                         "e.g. tcp://127.0.0.1:8786")


@contextmanager
def cluster(workers: int | None, scheduler: str | None, datasets: tuple[str, ...]) -> Iterator[Any]:
    """A Dask client: on the cluster at ``scheduler``, else on a local cluster of ``workers`` processes
    (default: every core this process may use) bound to 127.0.0.1, without a dashboard. Each worker gets the plugin that
    keeps its city."""
    import dask
    from distributed import Client, LocalCluster

    from .worker import PLUGIN_NAME, TwinWorkerPlugin

    logging.getLogger("distributed").setLevel(logging.ERROR)
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError) as exc:
            raise SweepError(f"--scheduler: could not reach {scheduler} ({type(exc).__name__}): expected the "
                             "address of a running Dask scheduler, e.g. tcp://127.0.0.1:8786") from None
        cluster = None
        try:
            client.wait_for_workers(1, timeout=60)
        except TimeoutError:
            client.close()
            raise SweepError(f"--scheduler: {scheduler} has no worker after 60 s: start one with "
                             f"`dask worker {scheduler}`") from None
    else:
        n = workers or len(os.sched_getaffinity(0)) or 1
        # no dashboard and no HTTP routes at all (the HTTP server starts even without a dashboard:
        # dask/distributed#7207); the nannies pass this configuration on to their workers
        with dask.config.set({"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": []}):
            cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                silence_logs=logging.ERROR,
            )
        client = Client(cluster)
    try:
        client.register_plugin(TwinWorkerPlugin(datasets), name=PLUGIN_NAME)
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def batches(members: list[Member], n_workers: int) -> list[list[Member]]:
    """``members`` cut into consecutive batches of ceil(n / (workers x 10)) (at most 50)."""
    size = max(1, min(MAX_BATCH, math.ceil(len(members) / (n_workers * BATCHES_PER_WORKER))))
    return [members[i : i + size] for i in range(0, len(members), size)]


def run_on(
    client: Any,
    todo: list[Member],
    n_workers: int,
    progress: Callable[[int, int], None] | None,
    *,
    total: int,
    done: int,
) -> Iterator[dict[str, Any]]:
    """Records of ``todo`` as their batches finish. A batch whose worker died gives failed records
    marked ``lost`` (not kept: a restart runs them again)."""
    from distributed import as_completed

    from .worker import run_batch

    parts = batches(todo, n_workers)
    futures = client.map(run_batch, parts, pure=False, retries=1)
    batch_of = {f.key: b for f, b in zip(futures, parts, strict=True)}
    for fut in as_completed(futures):
        try:
            recs = fut.result()
        except Exception as exc:  # noqa: BLE001 - a worker lost twice: its members are recorded failed
            recs = [
                {"member": m.index, "key": m.key, "seed": m.seed, "values": m.values, "status": "failed",
                 "error": f"the worker running it was lost ({type(exc).__name__})", "kpis": {}, "series": {},
                 "lost": True}
                for m in batch_of[fut.key]
            ]
        worker = _worker_of(client, fut)
        for rec in recs:
            rec["worker"] = worker
            yield rec
        done += len(recs)
        if progress is not None:
            progress(done, total)
        fut.release()


def _worker_of(client: Any, fut: Any) -> str | None:
    try:
        who = client.who_has(fut).get(fut.key) or ()
        return str(who[0]) if who else None
    except Exception:  # noqa: BLE001 - only for the timings
        return None
