"""Runs the app has made, kept by (scenario file, overrides) so that asking again is instant.

Each run is written as a normal run folder (the same as ``twin run --out``) under one temporary
root, then read back; the app draws from that folder and zips it for download.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from ..city import CityModel
from ..results import RunData, read_run_folder

Progress = Callable[[float, float], None]


class RunStore:
    """At most ``max_runs`` runs, least recently used dropped first (its folder deleted)."""

    def __init__(self, city: CityModel, *, root: str | Path | None = None, max_runs: int = 16) -> None:
        self.city = city
        self.root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="twin-app-runs-"))
        self.max_runs = max_runs
        self._runs: OrderedDict[tuple[str, tuple[str, ...]], RunData] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(path: str | Path, sets: tuple[str, ...] | list[str]) -> tuple[str, tuple[str, ...]]:
        return (str(Path(path).resolve()), tuple(sets))

    def has(self, path: str | Path, sets) -> bool:
        return self.key(path, sets) in self._runs

    def get(self, path: str | Path, sets=(), *, progress: Progress | None = None) -> RunData:
        """The run of scenario ``path`` with ``--set`` overrides ``sets``; runs it when new.

        Raises :class:`~twin.errors.ScenarioError` for a bad scenario or override.
        """
        from ..runner import run_scenario
        from ..scenario import load_scenario

        key = self.key(path, sets)
        with self._lock:
            if key in self._runs:
                self._runs.move_to_end(key)
                return self._runs[key]
        scenario = load_scenario(key[0], overrides=list(key[1]))
        name = hashlib.sha256(repr(key).encode("utf-8")).hexdigest()[:16]
        folder = self.root / f"{Path(key[0]).stem}-{name}"
        run_scenario(scenario, out=folder, city=self.city, progress=progress)
        data = read_run_folder(folder)
        with self._lock:
            self._runs[key] = data
            while len(self._runs) > self.max_runs:
                _, old = self._runs.popitem(last=False)
                shutil.rmtree(old.folder, ignore_errors=True)
        return data
