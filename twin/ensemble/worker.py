"""What a Dask worker does for a sweep: run a batch of members and reduce each to a small record.

The city model is loaded once per worker process and kept by :class:`TwinWorkerPlugin`, with the
results derived from it (the channel network, the catchments and the spun-up hydraulic state, see
:attr:`twin.city.CityModel.derived`), so a member costs one simulation, not one load. Nothing is
written on the worker: records go back to the client, which keeps the sweep folder (a cluster's
workers need not share its disk). A member that fails becomes a record with its error; the batch
goes on.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from distributed import WorkerPlugin, get_worker

from ..city import CityModel, load_city
from .kpis import run_kpis, stage_series
from .members import Member, member_scenario

PLUGIN_NAME = "uijeongbu-twin-sweep"
ERROR_CHARS = 400  # a failed member's error message is cut to this many characters


class TwinWorkerPlugin(WorkerPlugin):
    """Keeps the cities a worker has loaded (dataset path -> :class:`~twin.city.CityModel`)."""

    name = PLUGIN_NAME

    def __init__(self, datasets: tuple[str, ...] = ()) -> None:
        self.datasets = tuple(datasets)
        self.cities: dict[str, CityModel] = {}

    def setup(self, worker: Any = None) -> None:
        """Load the sweep's datasets when the worker joins (before its first member)."""
        for path in self.datasets:
            try:
                self.city(path)
            except Exception:  # noqa: BLE001 - the member that needs it records why
                pass

    def city(self, path: str) -> CityModel:
        key = str(Path(path).resolve())
        if key not in self.cities:
            self.cities[key] = load_city(key)
        return self.cities[key]


def _plugin() -> TwinWorkerPlugin:
    """This worker's plugin, or a fresh one outside a Dask worker (the same code runs in-process)."""
    try:
        plugins = get_worker().plugins
    except ValueError:  # not in a worker
        return TwinWorkerPlugin()
    plugin = plugins.get(PLUGIN_NAME)
    return plugin if isinstance(plugin, TwinWorkerPlugin) else TwinWorkerPlugin()


def run_batch(members: list[Member], keep: bool = False, plugin: TwinWorkerPlugin | None = None) -> list[dict]:
    """Run ``members`` one after the other; one record each (see :func:`run_member`)."""
    plugin = plugin or _plugin()
    return [run_member(m, plugin, keep=keep) for m in members]


def run_member(member: Member, plugin: TwinWorkerPlugin, *, keep: bool = False) -> dict[str, Any]:
    """Run one member: ``{"member", "key", "seed", "values", "status": "ok"|"failed", "error",
    "kpis": {column: value}, "series": {...}}``, plus ``elapsed_s`` and ``max_rss_kb`` (of this
    worker, not part of the results) and, when ``keep``, ``files``: its run folder (name -> bytes)."""
    from ..runner import run_scenario

    t0 = time.perf_counter()
    record: dict[str, Any] = {
        "member": member.index,
        "key": member.key,
        "seed": member.seed,
        "values": member.values,
        "status": "ok",
        "error": None,
        "kpis": {},
        "series": {},
    }
    try:
        scenario = member_scenario(member)
        city = plugin.city(str(scenario.dataset_path()))
        with tempfile.TemporaryDirectory(prefix="twin-member-") as tmp:
            out = Path(tmp) / "run" if keep else None
            result = run_scenario(scenario, city=city, out=out)
            if keep and result.out is not None:
                record["files"] = {p.name: p.read_bytes() for p in sorted(result.out.iterdir()) if p.is_file()}
        record["kpis"] = run_kpis(result.summary, result.verdict)
        rg = city.river_gauges
        gauges = sorted({*rg.stream_gauges.values(), *([rg.key_gauge] if rg.key_gauge else [])})
        record["series"] = stage_series(result.engine.recorder.to_frame(), gauges)
    except Exception as exc:  # noqa: BLE001 - any failure is this member's, recorded, and the sweep goes on
        record["status"] = "failed"
        record["error"] = _error_text(exc)
    record["elapsed_s"] = time.perf_counter() - t0
    record["max_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return record


def _error_text(exc: BaseException) -> str:
    """``Type: first line of the message`` (cut), and where it was raised for an unexpected error."""
    from ..errors import TwinError

    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0] if lines else ''}".strip()
    if not isinstance(exc, TwinError):
        tb = traceback.extract_tb(sys.exc_info()[2])
        if tb:
            text += f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})"
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 3] + "..."
